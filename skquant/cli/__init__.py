"""The ``skquant`` command line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    from skquant.cli._benchmark import MIN_SEGMENT_DATES, SEGMENTS
    from skquant.cli._models import FEATURE_SETS, MODELS

    parser = argparse.ArgumentParser(
        prog="skquant",
        description="Qlib's model zoo and research loop as scikit-learn estimators.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    bench = sub.add_parser(
        "benchmark",
        help="train the model zoo on the bundled S&P 500 panel, print Qlib's table",
        description=(
            "Qlib's benchmark protocol on the bundled S&P 500 panel: Alpha158 "
            "or Alpha360 features, Qlib's label, processors and hyperparameters "
            "per model family and feature set, train 2013-2015 / valid 2016 / "
            "test 2017 (or --segments), daily IC metrics and a top-k dropout "
            "backtest with costs. Nothing is written without --output."
        ),
    )
    defaults = [name for name, spec in MODELS.items() if spec.default]
    bench.add_argument(
        "--models",
        default=",".join(defaults),
        help=f"comma-separated models, or 'all' (known: {', '.join(MODELS)}; "
        f"default: {','.join(defaults)})",
    )
    bench.add_argument(
        "--features",
        choices=FEATURE_SETS,
        default="alpha158",
        help="Qlib's feature set, i.e. the column group of its benchmark table: "
        "alpha158 (158 factors; the RNNs read 20 selected ones x 20 days) or "
        "alpha360 (6 price/volume fields x 60 days; the RNNs read them as a "
        "sequence with d_feat=6); each model uses Qlib's config for that set "
        "(default: alpha158)",
    )
    default_segments = ",".join(f"{a}:{b}" for a, b in SEGMENTS.values())
    bench.add_argument(
        "--segments",
        default=default_segments,
        metavar="TRAIN,VALID,TEST",
        help="the train, valid and test date ranges as "
        "TRAIN_START:TRAIN_END,VALID_START:VALID_END,TEST_START:TEST_END, "
        "inclusive YYYY-MM-DD dates, in order and without overlap, within the "
        "bundled data's months (trading dates 2012-12-06 to 2017-12-06), each "
        f"with at least {MIN_SEGMENT_DATES} trading dates; the last 2 dates of "
        "train and valid are purged when the next segment follows at once "
        f"(default: {default_segments})",
    )
    bench.add_argument(
        "--seeds",
        type=int,
        default=1,
        help="number of seeds (mean ± std like Qlib; default 1)",
    )
    bench.add_argument(
        "--quick",
        action="store_true",
        help="a 60-instrument subset and fewer rounds (CI)",
    )
    bench.add_argument(
        "--instruments",
        type=int,
        default=None,
        help="random subset of this many instruments",
    )
    bench.add_argument("--topk", type=int, default=50)
    bench.add_argument("--n-drop", type=int, default=5)
    bench.add_argument(
        "--output",
        type=Path,
        default=None,
        help="folder for results.csv/.md, runs.csv, config.json, "
        "plots (nothing is written without it)",
    )
    bench.add_argument(
        "-q", "--quiet", action="store_true", help="no progress bar or messages"
    )
    return parser


def _resolve_models(text: str) -> list[str]:
    from skquant.cli._models import MODELS

    names = list(MODELS) if text == "all" else [n.strip() for n in text.split(",")]
    lookup = {n.lower(): n for n in MODELS}
    unknown = [n for n in names if n.lower() not in lookup]
    if unknown:
        raise SystemExit(
            f"skquant benchmark: unknown model(s) {unknown}; known: {', '.join(MODELS)}"
        )
    chosen = [lookup[n.lower()] for n in names]
    missing = [n for n in chosen if not MODELS[n].available()]
    for name in missing:
        print(
            f"skipping {name}: requires {', '.join(MODELS[name].requires)} "
            "(pip install 'skquant[all]')",
            file=sys.stderr,
        )
    return [n for n in chosen if n not in missing]


def main(argv: list[str] | None = None) -> int:
    """Run the ``skquant`` command line; return the exit code."""
    args = _parser().parse_args(argv)
    if args.command == "benchmark":
        from skquant.cli._benchmark import (
            BenchmarkConfig,
            check_segments,
            data_calendar,
            describe,
            parse_segments,
            run_benchmark,
        )

        if args.seeds < 1:
            raise SystemExit("skquant benchmark: --seeds must be at least 1")
        if not 0 <= args.n_drop <= args.topk:
            raise SystemExit("skquant benchmark: need 0 <= --n-drop <= --topk")
        try:
            segments = parse_segments(args.segments)
            check_segments(segments, data_calendar())
        except ValueError as exc:
            raise SystemExit(f"skquant benchmark: --segments: {exc}") from None
        quick = args.quick
        config = BenchmarkConfig(
            models=_resolve_models(args.models),
            seeds=list(range(args.seeds)),
            features=args.features,
            segments=segments,
            quick=quick,
            n_instruments=args.instruments or (60 if quick else None),
            topk=min(args.topk, 10) if quick else args.topk,
            n_drop=min(args.n_drop, 2) if quick else args.n_drop,
        )
        if not config.models:
            raise SystemExit("skquant benchmark: no model left to run")
        table = run_benchmark(config, output=args.output, verbose=not args.quiet)
        print(describe(config))
        print(table.to_string())
    return 0
