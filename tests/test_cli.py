"""The ``skquant`` command line, run as a user would."""

import json
import subprocess
import sys

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
