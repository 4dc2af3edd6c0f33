"""The ``skquant`` command line, run as a user would."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from skquant.cli import main


@pytest.mark.slow
def test_benchmark_quick_writes_table_plots_and_config(tmp_path, capsys):
    out = tmp_path / "results"
    assert (
        main(
            [
                "benchmark",
                "--quick",
                "--models",
                "linear,mlp",
                "--output",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    printed = capsys.readouterr()
    assert "Rank ICIR" in printed.out and "Linear" in printed.out
    assert printed.err == ""  # --quiet
    table = pd.read_csv(out / "results.csv", index_col=0)
    assert list(table.index) == ["Linear", "MLP"]
    assert list(table.columns) == [
        "IC",
        "ICIR",
        "Rank IC",
        "Rank ICIR",
        "Annualized Return",
        "Information Ratio",
        "Max Drawdown",
        "Fit seconds",
    ]
    runs = pd.read_csv(out / "runs.csv")
    assert runs["IC"].between(-1, 1).all() and (runs["Max Drawdown"] <= 0).all()
    record = json.loads((out / "config.json").read_text())
    assert record["config"]["quick"] is True
    assert "scikit-learn" in record["versions"]
    for name in ("results.md", "cumulative_excess_return.png", "rolling_ic.png"):
        assert (out / name).stat().st_size > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]


@pytest.mark.slow
def test_benchmark_is_reproducible(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for folder in (a, b):
        main(
            [
                "benchmark",
                "--quick",
                "--models",
                "LightGBM",
                "--output",
                str(folder),
                "-q",
            ]
        )
    cols = ["IC", "Rank IC", "Annualized Return"]
    pd.testing.assert_frame_equal(
        pd.read_csv(a / "runs.csv")[cols], pd.read_csv(b / "runs.csv")[cols]
    )


@pytest.mark.parametrize(
    "argv,message",
    [
        (["benchmark", "--models", "GPT9"], "unknown model"),
        (["benchmark", "--seeds", "0"], "--seeds"),
        (["benchmark", "--topk", "3", "--n-drop", "4"], "n-drop"),
        (["benchmark", "--features", "alpha999"], "2"),  # argparse's exit code
    ],
)
def test_bad_options_are_explained(argv, message):
    with pytest.raises(SystemExit, match=message):
        main(argv)


def test_python_dash_m_help():
    out = subprocess.run(
        [sys.executable, "-m", "skquant", "benchmark", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--quick" in out.stdout and "--output" in out.stdout
    assert "alpha360" in out.stdout and "--segments" in out.stdout


@pytest.mark.slow
def test_benchmark_alpha360_runs_the_alpha360_protocol(tmp_path, capsys, monkeypatch):
    import skquant.cli._benchmark as bench

    class NoAlpha158:  # only the feature sets the models read are computed
        def fit_transform(self, panel):
            raise AssertionError("Alpha158 computed for an Alpha360 run")

    monkeypatch.setattr(bench, "Alpha158", NoAlpha158)
    out = tmp_path / "a360"
    argv = ["benchmark", "--quick", "--instruments", "40", "--features", "alpha360"]
    argv += ["--models", "Linear,LightGBM", "--output", str(out), "-q"]
    assert main(argv) == 0
    printed = capsys.readouterr()
    assert printed.err == ""  # -q: no progress
    assert printed.out.startswith("Alpha360; train 2013-01-01:2015-12-31")
    table = pd.read_csv(out / "results.csv", index_col=0)
    assert list(table.index) == ["Linear", "LightGBM"]
    runs = pd.read_csv(out / "runs.csv")
    assert runs["IC"].between(-1, 1).all() and runs["IC"].abs().gt(0).all()
    record = json.loads((out / "config.json").read_text())
    assert record["config"]["features"] == "alpha360"
    assert record["config"]["segments"] == {
        "train": ["2013-01-01", "2015-12-31"],
        "valid": ["2016-01-01", "2016-12-31"],
        "test": ["2017-01-01", "2017-12-31"],
    }
    assert (out / "results.md").read_text().startswith("Alpha360;")


def test_models_follow_qlibs_config_for_each_feature_set():
    from skquant.cli._models import MODELS

    def final(name, feature_set):
        model = MODELS[name].build(0, False, feature_set)
        return model.steps[-1][1] if hasattr(model, "steps") else model

    lgb158, lgb360 = final("LightGBM", "alpha158"), final("LightGBM", "alpha360")
    assert (lgb158.learning_rate, lgb360.learning_rate) == (0.2, 0.0421)
    assert final("XGBoost", "alpha360").learning_rate == 0.0421
    de158 = final("DoubleEnsemble", "alpha158")
    assert (de158.num_models, de158.estimator.n_estimators) == (3, 28)
    de360 = final("DoubleEnsemble", "alpha360").estimator
    assert (de360.learning_rate, de360.n_estimators) == (0.0421, 136)
    quick = MODELS["DoubleEnsemble"].build(0, True, "alpha360")
    assert quick.estimator.n_estimators == 20
    mlp158, mlp360 = final("MLP", "alpha158"), final("MLP", "alpha360")
    assert (mlp158.batch_size, mlp158.weight_decay) == (8192, 2e-4)
    assert (mlp360.batch_size, mlp360.weight_decay) == (4096, 0.0)
    gru158, gru360 = final("GRU", "alpha158"), final("GRU", "alpha360")
    assert (gru158.d_feat, gru158.lr, gru158.patience) == (20, 2e-4, 10)
    assert (gru360.d_feat, gru360.lr, gru360.patience) == (6, 1e-3, 20)
    assert final("ALSTM", "alpha360").d_feat == 6
    assert MODELS["LSTM"].inputs("alpha158") == "alpha158_seq20"
    assert MODELS["LSTM"].inputs("alpha360") == "alpha360"
    assert MODELS["Linear"].inputs("alpha360") == "alpha360"
    assert MODELS["LightGBM"].label_for("alpha158") == "zscore"
    assert MODELS["LightGBM"].label_for("alpha360") == "rank"
    assert MODELS["MLP"].label_for("alpha360") == "rank"


@pytest.mark.slow
def test_benchmark_custom_segments_are_used_and_recorded(tmp_path, capsys):
    out = tmp_path / "seg"
    segments = "2014-01-01:2015-12-31,2016-01-01:2016-06-30,2016-07-01:2017-12-31"
    argv = ["benchmark", "--quick", "--instruments", "30", "--models", "Linear"]
    assert main([*argv, "--segments", segments, "--output", str(out), "-q"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith(
        "Alpha158; train 2014-01-01:2015-12-31, valid 2016-01-01:2016-06-30, "
        "test 2016-07-01:2017-12-31;"
    )
    record = json.loads((out / "config.json").read_text())
    assert record["config"]["segments"] == {
        "train": ["2014-01-01", "2015-12-31"],
        "valid": ["2016-01-01", "2016-06-30"],
        "test": ["2016-07-01", "2017-12-31"],
    }
    used = record["segment_dates"]
    # the train segment's last 2 dates are purged: their labels reach into valid
    assert (used["train"]["first"], used["train"]["last"]) == (
        "2014-01-02",
        "2015-12-29",
    )
    assert (used["test"]["first"], used["test"]["last"]) == ("2016-07-01", "2017-12-06")
    runs = pd.read_csv(out / "runs.csv")
    assert list(runs["Model"]) == ["Linear"] and runs["IC"].between(-1, 1).all()


_TRAIN, _VALID, _TEST = (
    "2013-01-01:2015-12-31",
    "2016-01-01:2016-12-31",
    "2017-01-01:2017-12-31",
)


@pytest.mark.parametrize(
    "segments,message",
    [
        (f"{_TRAIN},{_VALID}", "expected 3 comma-separated segments.*got 2"),
        (f"{_TRAIN},{_VALID},{_TEST},{_TEST}", "expected 3 .*got 4"),
        (f"{_TRAIN},2016-01-01,{_TEST}", "valid segment '2016-01-01' is not START:END"),
        (
            f"{_TRAIN},{_VALID},2017-01-01:2017-02-30",
            "test end '2017-02-30' is not a date",
        ),
        (
            f"2013/01/01:2015-12-31,{_VALID},{_TEST}",
            "train start '2013/01/01' is not a",
        ),
        (
            f"{_TRAIN},2016-12-31:2016-01-01,{_TEST}",
            "valid segment starts .* after it ends",
        ),
        (
            f"2013-01-01:2016-03-31,{_VALID},{_TEST}",
            "valid segment .* overlaps the train",
        ),
        (
            f"{_VALID},{_TRAIN},{_TEST}",
            "segments are out of order: valid .* comes before train",
        ),
        (
            f"{_TRAIN},{_VALID},2017-01-01:2018-06-30",
            "test segment .* outside the bundled",
        ),
        (
            f"2010-01-01:2015-12-31,{_VALID},{_TEST}",
            "train segment .* outside the bundled",
        ),
        (
            f"{_TRAIN},{_VALID},2017-01-01:2017-01-10",
            "test segment .* too few dates: 6",
        ),
    ],
)
def test_bad_segments_are_explained(segments, message):
    with pytest.raises(SystemExit, match=f"--segments: (the )?{message}"):
        main(["benchmark", "--segments", segments])


@pytest.mark.parametrize(
    "tqdm_installed, terminal", [(True, True), (False, True), (True, False)]
)
def test_progress_goes_to_stderr_unless_quiet(
    tmp_path, capsys, monkeypatch, tqdm_installed, terminal
):
    if not tqdm_installed:  # the import fails: plain step lines instead
        monkeypatch.setitem(sys.modules, "tqdm", None)
    # a bar on a terminal; plain lines in a log file (no carriage returns)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: terminal)
    tqdm_installed = tqdm_installed and terminal
    argv = ["benchmark", "--quick", "--instruments", "20", "--models", "Linear"]
    assert main([*argv, "--seeds", "2"]) == 0
    printed = capsys.readouterr()
    assert printed.out.startswith("Alpha158;") and "Linear" in printed.out
    assert "data: " in printed.err and "segments: train" in printed.err
    assert printed.err.count("Rank IC") == 2  # one result line per run
    if tqdm_installed:
        assert "Linear (seed 1) 2/2 runs" in printed.err
        assert "[1/2]" not in printed.err
    else:
        assert "[1/2] Linear (seed 0) ..." in printed.err
        assert "[2/2] Linear (seed 1) ..." in printed.err
        assert "runs |" not in printed.err and "\r" not in printed.err
    assert main([*argv, "-q"]) == 0
    printed = capsys.readouterr()
    assert printed.err == "" and "Linear" in printed.out
    assert list(tmp_path.iterdir()) == []  # nothing written without --output


class _Stop(Exception):
    pass


def test_nets_hold_out_exactly_the_valid_segment():
    from dataclasses import replace

    from skquant.cli._benchmark import BenchmarkConfig, _fit_one, load_data
    from skquant.cli._models import MODELS
    from skquant.model_selection._holdout import time_holdout

    config = BenchmarkConfig(models=["MLP"], n_instruments=20, quick=True)
    seen = {}

    def build(seed, quick, feature_set):
        model = MODELS["MLP"].build(seed, quick, feature_set)

        def fit(X, y, **params):  # record what the net would get, then stop
            seen["X"], seen["net"], seen["params"] = X, model.steps[-1][1], params
            raise _Stop

        model.fit = fit
        return model

    with pytest.raises(_Stop):
        _fit_one(replace(MODELS["MLP"], build=build), 0, config, load_data(config))
    X, net = seen["X"], seen["net"]
    # the pipeline hands the net arrays, so its dates are routed to it
    (routed,) = seen["params"].values()
    np.testing.assert_array_equal(routed, X.index.get_level_values("datetime"))
    split = time_holdout(
        len(X),
        np.asarray(routed),
        validation_start=net.validation_start,
        gap=net.validation_gap,
    )
    dates = X.index.get_level_values("datetime")
    assert len(split.train) + len(split.validation) == len(X)
    assert dates[split.validation].min() == pd.Timestamp("2016-01-04")
    assert dates[split.validation].max() == pd.Timestamp("2016-12-28")
    assert dates[split.train].max() == pd.Timestamp("2015-12-29")
