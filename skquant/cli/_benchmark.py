"""``skquant benchmark``: Qlib's benchmark protocol on the bundled S&P 500 panel."""

from __future__ import annotations

import datetime
import json
import platform
import re
import sys
import time
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from skquant.backtest import topk_dropout_backtest
from skquant.cli._models import FEATURE_SETS, MODELS, ModelSpec
from skquant.datasets import load_sp500
from skquant.features import (
    ALPHA158_SELECTED_20,
    Alpha158,
    Alpha360,
    SequenceWindower,
    forward_return,
)
from skquant.metrics import ic_summary, information_coefficient
from skquant.model_selection import segment_split
from skquant.preprocessing import cs_rank_norm, cs_zscore_norm, drop_missing_label

SEGMENTS = {
    "train": ("2013-01-01", "2015-12-31"),
    "valid": ("2016-01-01", "2016-12-31"),
    "test": ("2017-01-01", "2017-12-31"),
}
#: Fewest trading dates of the bundled data a ``--segments`` segment may hold.
MIN_SEGMENT_DATES = 20
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
COLUMNS = [
    "IC",
    "ICIR",
    "Rank IC",
    "Rank ICIR",
    "Annualized Return",
    "Information Ratio",
    "Max Drawdown",
    "Fit seconds",
]


@dataclass
class BenchmarkConfig:
    """Everything that determines a benchmark run (written to ``config.json``)."""

    models: list[str]
    seeds: list[int] = field(default_factory=lambda: [0])
    features: str = "alpha158"  # Qlib's column group: "alpha158" or "alpha360"
    quick: bool = False
    n_instruments: int | None = None
    segments: dict[str, tuple[str, str]] = field(default_factory=lambda: dict(SEGMENTS))
    topk: int = 50
    n_drop: int = 5
    label_gap: int = 2


FEATURE_NAMES = {"alpha158": "Alpha158", "alpha360": "Alpha360"}


def describe(config: BenchmarkConfig) -> str:
    """One line naming the feature set, segments, universe and seeds of a run.

    Parameters
    ----------
    config : BenchmarkConfig
        The run's configuration.

    Returns
    -------
    str
        E.g. ``"Alpha158; train 2013-01-01:2015-12-31, valid ...; 60
        instruments; seeds 0"``; the heading of the printed and Markdown table.
    """
    segments = ", ".join(
        f"{name} {start}:{end}" for name, (start, end) in config.segments.items()
    )
    universe = (
        f"{config.n_instruments} instruments" if config.n_instruments else "all stocks"
    )
    seeds = ",".join(map(str, config.seeds))
    return (
        f"{FEATURE_NAMES[config.features]}; {segments}; {universe}; "
        f"top-{config.topk}/drop-{config.n_drop}; seeds {seeds}"
    )


def parse_segments(text: str) -> dict[str, tuple[str, str]]:
    """Parse ``--segments``: ``TRAIN_START:TRAIN_END,VALID_START:VALID_END,...``.

    Parameters
    ----------
    text : str
        Three comma-separated ``START:END`` pairs of ``YYYY-MM-DD`` dates, both
        inclusive, for train, valid and test, in that order.

    Returns
    -------
    dict
        ``{"train": (start, end), "valid": ..., "test": ...}`` with the dates
        as ``YYYY-MM-DD`` strings.

    Raises
    ------
    ValueError
        Naming the problem: not three segments, a segment that is not
        ``START:END``, a date that is not a valid ``YYYY-MM-DD`` date, a segment
        that starts after it ends, or segments that overlap or are out of order.
        See :func:`check_segments` for the checks against the data.

    Examples
    --------
    >>> parse_segments("2013-01-01:2015-12-31,2016-01-01:2016-12-31,"
    ...                "2017-01-01:2017-12-31")["valid"]
    ('2016-01-01', '2016-12-31')
    """
    form = "TRAIN_START:TRAIN_END,VALID_START:VALID_END,TEST_START:TEST_END"
    parts = [part.strip() for part in text.split(",")]
    if len(parts) != len(SEGMENTS):
        raise ValueError(
            f"expected {len(SEGMENTS)} comma-separated segments ({form}); "
            f"got {len(parts)} in {text!r}"
        )
    parsed: list[tuple[str, tuple[datetime.date, datetime.date]]] = []
    for name, part in zip(SEGMENTS, parts, strict=True):
        bounds = part.split(":")
        if len(bounds) != 2:
            raise ValueError(
                f"the {name} segment {part!r} is not START:END (e.g. "
                f"{':'.join(SEGMENTS[name])})"
            )
        dates = []
        for side, value in zip(("start", "end"), bounds, strict=True):
            value = value.strip()
            try:
                if not _DATE.fullmatch(value):
                    raise ValueError
                dates.append(datetime.date.fromisoformat(value))
            except ValueError:
                raise ValueError(
                    f"the {name} {side} {value!r} is not a date YYYY-MM-DD"
                ) from None
        start, end = dates
        if start > end:
            raise ValueError(
                f"the {name} segment starts ({start}) after it ends ({end})"
            )
        if parsed:
            before, (before_start, before_end) = parsed[-1]
            if end < before_start:
                raise ValueError(
                    f"the segments are out of order: {name} ({start}:{end}) comes "
                    f"before {before} ({before_start}:{before_end}); give them "
                    "as train,valid,test"
                )
            if start <= before_end:
                raise ValueError(
                    f"the {name} segment ({start}:{end}) overlaps the {before} "
                    f"segment ({before_start}:{before_end}); it must start after "
                    f"{before_end}"
                )
        parsed.append((name, (start, end)))
    return {name: (start.isoformat(), end.isoformat()) for name, (start, end) in parsed}


def check_segments(
    segments: dict[str, tuple[str, str]], calendar: pd.DatetimeIndex
) -> dict[str, int]:
    """Check parsed segments against the trading dates of the data.

    Parameters
    ----------
    segments : dict
        Segment name -> ``(start, end)``, as :func:`parse_segments` returns.
    calendar : pandas.DatetimeIndex
        The data's sorted trading dates (``load_sp500``: 2012-12-06 to
        2017-12-06).

    Returns
    -------
    dict
        Segment name -> number of trading dates in it.

    Raises
    ------
    ValueError
        If a segment reaches outside the months the data covers (dates from
        the first day of the data's first month to the last day of its last
        month are accepted, so ``2017-12-31`` ends a 2017 test segment), or
        holds fewer than ``MIN_SEGMENT_DATES`` trading dates.
    """
    first, last = calendar[0], calendar[-1]
    lowest = first.to_period("M").start_time
    highest = last.to_period("M").end_time.normalize()
    counts = {}
    for name, (start, end) in segments.items():
        start, end = pd.Timestamp(start), pd.Timestamp(end)
        if start < lowest or end > highest:
            raise ValueError(
                f"the {name} segment {start.date()}:{end.date()} is outside the "
                f"bundled data's range: its trading dates run from {first.date()} "
                f"to {last.date()} (segments may span {lowest.date()} to "
                f"{highest.date()})"
            )
        counts[name] = int(((calendar >= start) & (calendar <= end)).sum())
        if counts[name] < MIN_SEGMENT_DATES:
            raise ValueError(
                f"the {name} segment {start.date()}:{end.date()} holds too few "
                f"dates: {counts[name]} trading date(s) of the data, at least "
                f"{MIN_SEGMENT_DATES} needed"
            )
    return counts


def data_calendar() -> pd.DatetimeIndex:
    """The trading dates of the bundled S&P 500 panel (2012-12-06 to 2017-12-06).

    Returns
    -------
    pandas.DatetimeIndex
        Sorted, unique dates.
    """
    return load_sp500().index.unique("datetime").sort_values()


def segment_dates(y: pd.Series, config: BenchmarkConfig) -> dict[str, dict]:
    """The dates each segment really uses, after the label gap purge.

    Parameters
    ----------
    y : pandas.Series
        Qlib's label on the whole panel.
    config : BenchmarkConfig
        The run's configuration.

    Returns
    -------
    dict
        Segment name -> ``{"first": date, "last": date, "dates": count}``.
        Train and valid count the labelled rows models are fitted on (their
        last ``label_gap`` dates are purged when the next segment follows at
        once); test counts the rows that are predicted.
    """
    parts = segment_split(y.dropna(), segments=config.segments, gap=config.label_gap)
    parts["test"] = segment_split(y, test=config.segments["test"])["test"]
    out = {}
    for name, part in parts.items():
        dates = part.index.unique("datetime")
        out[name] = {
            "first": str(dates.min().date()),
            "last": str(dates.max().date()),
            "dates": len(dates),
        }
    return out


def _log(message: str, verbose: bool) -> None:
    if verbose:
        print(message, file=sys.stderr, flush=True)


def _progress_bar(total: int, verbose: bool):
    """A tqdm bar over the runs on stderr; None when quiet, without tqdm, or
    when stderr is not a terminal (a log file gets plain lines, not ``\r``)."""
    isatty = getattr(sys.stderr, "isatty", None)
    if not verbose or isatty is None or not isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:  # plain step lines instead
        return None
    return tqdm(
        total=total,
        desc="benchmark",
        file=sys.stderr,
        unit="run",
        bar_format="{desc} {n_fmt}/{total_fmt} runs |{bar}| {elapsed}<{remaining}",
        dynamic_ncols=True,
    )


def feature_keys(config: BenchmarkConfig) -> set[str]:
    """The feature matrices the configured models read.

    Parameters
    ----------
    config : BenchmarkConfig
        The run's configuration.

    Returns
    -------
    set of str
        Among ``"alpha158"``, ``"alpha158_seq20"`` and ``"alpha360"``.
    """
    if config.features not in FEATURE_SETS:
        raise ValueError(
            f"unknown feature set {config.features!r}; choose one of {FEATURE_SETS}"
        )
    return {MODELS[name].inputs(config.features) for name in config.models}


def load_data(config: BenchmarkConfig, verbose: bool = True):
    """Panel, feature sets and Qlib's label for the configured universe.

    Only the feature sets the configured models read are computed, once on
    the whole panel (they only look back), then cut into segments; sequence
    features need the history before a segment.
    """
    start = time.perf_counter()
    panel = load_sp500()
    if config.n_instruments:
        names = panel.index.get_level_values("instrument").unique()
        chosen = np.random.default_rng(0).choice(
            names, size=min(config.n_instruments, len(names)), replace=False
        )
        panel = panel[panel.index.get_level_values("instrument").isin(chosen)]
    keys = feature_keys(config)
    features = {}
    if keys & {"alpha158", "alpha158_seq20"}:
        alpha158 = Alpha158().fit_transform(panel)
        if "alpha158_seq20" in keys:
            # Qlib's TSDatasetH setting: the 20 selected features over 20 days
            selected = alpha158[list(ALPHA158_SELECTED_20)]
            window = SequenceWindower(step_len=20)
            features["alpha158_seq20"] = window.fit_transform(selected)
        if "alpha158" in keys:
            features["alpha158"] = alpha158
        del alpha158
    if "alpha360" in keys:
        # 6 fields x 60 days, feature-major: the RNNs read it with d_feat=6
        features["alpha360"] = Alpha360().fit_transform(panel)
    y = forward_return(panel)
    _log(
        f"data: {len(panel):,} rows, "
        f"{panel.index.get_level_values('instrument').nunique()} instruments, "
        f"{' + '.join(sorted(features))} features in "
        f"{time.perf_counter() - start:.1f}s",
        verbose,
    )
    return panel, features, y


def _fit_one(spec: ModelSpec, seed: int, config: BenchmarkConfig, data):
    panel, features, y = data
    X = features[spec.inputs(config.features)]
    X_all, y_all = drop_missing_label(X, y)
    norm = cs_rank_norm if spec.label_for(config.features) == "rank" else cs_zscore_norm
    # the last label_gap dates of train and valid have labels that reach into
    # the next segment: segment_split purges them
    parts = segment_split(X_all, y_all, config.segments, gap=config.label_gap)
    (X_train, y_train), (X_valid, y_valid) = parts["train"], parts["valid"]
    X_test = segment_split(X, test=config.segments["test"])["test"]
    model = spec.build(seed, config.quick, config.features)
    fit_params = {}
    if spec.validation == "eval_set":
        fit_params["eval_set"] = [(X_valid, norm(y_valid))]
    elif spec.validation == "holdout":
        # train + valid; the net holds out exactly the valid segment's dates.
        # The pipeline's imputer hands it arrays, so the dates are routed to
        # it; no further purge (segment_split already purged the end of train).
        net = model.steps[-1][0]
        model.set_params(
            **{
                f"{net}__validation_start": X_valid.index.unique("datetime").min(),
                f"{net}__validation_gap": 0,
            }
        )
        X_train = pd.concat([X_train, X_valid])
        y_train = pd.concat([y_train, y_valid])
        fit_params[f"{net}__dates"] = X_train.index.get_level_values("datetime")
    start = time.perf_counter()
    model.fit(X_train, norm(y_train), **fit_params)
    seconds = time.perf_counter() - start
    pred = pd.Series(model.predict(X_test), index=X_test.index, name="score")
    return pred, seconds


def _evaluate(pred: pd.Series, y: pd.Series, panel, config: BenchmarkConfig):
    label = y.reindex(pred.index)
    signal = ic_summary(label, pred)
    result = topk_dropout_backtest(pred, panel, topk=config.topk, n_drop=config.n_drop)
    risk = result.summary().loc["excess_return_with_cost"]
    row = {
        "IC": signal["IC"],
        "ICIR": signal["ICIR"],
        "Rank IC": signal["Rank IC"],
        "Rank ICIR": signal["Rank ICIR"],
        "Annualized Return": risk["annualized_return"],
        "Information Ratio": risk["information_ratio"],
        "Max Drawdown": risk["max_drawdown"],
    }
    return (
        row,
        result.excess_return(with_cost=True),
        information_coefficient(label, pred),
    )


def run_benchmark(
    config: BenchmarkConfig, output: Path | None = None, verbose: bool = True
) -> pd.DataFrame:
    """Train and evaluate every configured model; return the results table."""
    data = load_data(config, verbose)
    panel, _, y = data
    used = segment_dates(y, config)
    _log(
        "segments: "
        + ", ".join(
            f"{name} {d['first']}:{d['last']} ({d['dates']} dates)"
            for name, d in used.items()
        ),
        verbose,
    )
    runs, curves, daily_ic = [], {}, {}
    specs = [MODELS[name] for name in config.models]
    total = len(specs) * len(config.seeds)
    bar = _progress_bar(total, verbose)
    step = 0
    try:
        for spec in specs:
            for seed in config.seeds:
                step += 1
                name = f"{spec.name} (seed {seed})"
                if bar is None:
                    _log(f"[{step}/{total}] {name} ...", verbose)
                else:
                    bar.set_description_str(name)
                pred, seconds = _fit_one(spec, seed, config, data)
                row, excess, ic = _evaluate(pred, y, panel, config)
                row["Fit seconds"] = seconds
                runs.append({"Model": spec.name, "seed": seed, **row})
                curves.setdefault(spec.name, excess)
                daily_ic.setdefault(spec.name, ic)
                result = (
                    f"IC {row['IC']:.4f}  Rank IC {row['Rank IC']:.4f}  "
                    f"fit {seconds:.1f}s"
                )
                if bar is None:
                    _log(f"      {result}", verbose)
                else:
                    bar.write(f"{name}: {result}", file=sys.stderr)
                    bar.update()
    finally:
        if bar is not None:
            bar.close()
    runs = pd.DataFrame(runs)
    table = summarise(runs)
    if output is not None:
        write_outputs(output, config, runs, table, curves, daily_ic, used)
        _log(f"results written to {output}", verbose)
    return table


def summarise(runs: pd.DataFrame) -> pd.DataFrame:
    """Mean ± std over seeds per model, formatted like Qlib's table."""
    grouped = runs.groupby("Model", sort=False)[COLUMNS]
    mean, std = grouped.mean(), grouped.std(ddof=1).fillna(0.0)
    table = pd.DataFrame(index=mean.index)
    for col in COLUMNS:
        digits = 1 if col == "Fit seconds" else 4
        table[col] = [
            f"{m:.{digits}f}±{s:.{min(digits, 2)}f}"
            for m, s in zip(mean[col], std[col], strict=True)
        ]
    return table


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in (
        "skquant",
        "numpy",
        "pandas",
        "scikit-learn",
        "lightgbm",
        "xgboost",
        "torch",
        "skorch",
        "sentence-transformers",
    ):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            continue
    return out


def write_outputs(
    output: Path, config, runs, table, curves, daily_ic, used_dates=None
) -> None:
    """Write the table (CSV, Markdown), per-run results, config and plots."""
    output.mkdir(parents=True, exist_ok=True)
    table.to_csv(output / "results.csv")
    (output / "results.md").write_text(f"{describe(config)}\n\n{_markdown(table)}")
    runs.to_csv(output / "runs.csv", index=False)
    record = {
        "config": asdict(config),
        "segment_dates": used_dates,
        "versions": _versions(),
        "machine": platform.platform(),
    }
    (output / "config.json").write_text(json.dumps(record, indent=2) + "\n")
    _plots(output, curves, daily_ic)


def _markdown(table: pd.DataFrame) -> str:
    header = "| Model | " + " | ".join(table.columns) + " |"
    rule = "|---|" + "---|" * len(table.columns)
    lines = [
        f"| {name} | " + " | ".join(map(str, row)) + " |"
        for name, row in zip(table.index, table.to_numpy(), strict=True)
    ]
    return "\n".join([header, rule, *lines]) + "\n"


def _plots(output: Path, curves, daily_ic) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # plots are optional: pip install skquant[plot]
        return
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for name, excess in curves.items():
        ax.plot(excess.index, excess.cumsum(), label=name)
    ax.set_title("Cumulative excess return with cost (top-k dropout)")
    ax.axhline(0.0, color="grey", lw=0.5)
    ax.legend()
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(output / "cumulative_excess_return.png", dpi=100)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for name, ic in daily_ic.items():
        ax.plot(ic.index, ic.rolling(20, min_periods=5).mean(), label=name)
    ax.set_title("Daily IC, 20-day rolling mean")
    ax.axhline(0.0, color="grey", lw=0.5)
    ax.legend()
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(output / "rolling_ic.png", dpi=100)
    plt.close(fig)
