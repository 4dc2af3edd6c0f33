"""Out-of-sample signal quality of the three GBDTs with Qlib's Alpha158 presets.

Qlib's protocol on the bundled S&P 500 panel: Alpha158 features, label
``close[t+2]/close[t+1]-1`` z-scored per date for training (Qlib's
``CSZScoreNorm``; ``--label rank`` uses ``CSRankNorm`` instead), a
train/valid/test split by dates (train 2013-2015, valid 2016, test 2017; the
last 2 dates of train and valid are purged so no label reaches into the next
segment), early stopping on the valid segment as Qlib's ``LGBModel`` and
``XGBModel`` do, and IC, ICIR, Rank IC, Rank ICIR of the test predictions
against the raw label (Qlib's ``SigAnaRecord``). DoubleEnsemble trains on the
train segment with its fixed 28 rounds, as Qlib's benchmark config.

Run: ``python benchmarks/bench_gbdt_quality.py [--instruments N] [--n-jobs J]``
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from skquant.datasets import load_sp500
from skquant.features import Alpha158, forward_return
from skquant.gbdt import DoubleEnsembleRegressor, LightGBMRegressor, XGBoostRegressor
from skquant.metrics import ic_summary
from skquant.model_selection import segment_split
from skquant.preprocessing import cs_rank_norm, cs_zscore_norm, drop_missing_label

SEGMENTS = {
    "train": ("2013-01-01", "2015-12-31"),
    "valid": ("2016-01-01", "2016-12-31"),
    "test": ("2017-01-01", None),
}

# Qlib's published CSI300 Alpha158 rows (examples/benchmarks/README.md), for scale
QLIB_CSI300 = {
    "LightGBM": (0.0448, 0.3660, 0.0469, 0.3877),
    "XGBoost": (0.0498, 0.3779, 0.0505, 0.4131),
    "DoubleEnsemble": (0.0521, 0.4223, 0.0502, 0.4117),
}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instruments", type=int, default=None, help="default: all")
    parser.add_argument("--n-jobs", type=int, default=None, help="default: all cores")
    parser.add_argument("--label", choices=["zscore", "rank"], default="zscore")
    args = parser.parse_args(argv)

    panel = load_sp500()
    if args.instruments:
        tickers = sorted(panel.index.get_level_values("instrument").unique())
        step = max(1, len(tickers) // args.instruments)
        keep = tickers[::step][: args.instruments]
        panel = panel[panel.index.get_level_values("instrument").isin(keep)]
    X, y = drop_missing_label(Alpha158().fit_transform(panel), forward_return(panel))
    parts = segment_split(X, y, SEGMENTS, gap=2)
    (X_tr, y_tr), (X_va, y_va), (X_te, y_te) = (parts[k] for k in SEGMENTS)
    normalise = cs_zscore_norm if args.label == "zscore" else cs_rank_norm
    t_tr, t_va = normalise(y_tr), normalise(y_va)

    def dates(frame):
        d = frame.index.get_level_values("datetime")
        return f"{d.min():%Y-%m-%d}..{d.max():%Y-%m-%d} ({len(frame)} rows)"

    print(
        f"bundled S&P 500 panel, {X.index.get_level_values('instrument').nunique()} "
        f"stocks x 158 Alpha158 features; label {args.label}-normalised per date for "
        f"training, raw for evaluation\ntrain {dates(X_tr)}, valid {dates(X_va)}, "
        f"test {dates(X_te)}; n_jobs={args.n_jobs}"
    )
    jobs = {"n_jobs": args.n_jobs}
    models = {
        "LightGBM": LightGBMRegressor.from_preset(
            "alpha158", validation_fraction=None, random_state=0, **jobs
        ),
        "XGBoost": XGBoostRegressor.from_preset(
            "alpha158", validation_fraction=None, random_state=0, **jobs
        ),
        "DoubleEnsemble": DoubleEnsembleRegressor.from_preset(
            "alpha158", random_state=0
        ).set_params(estimator__n_jobs=args.n_jobs),
    }
    rows = []
    for name, model in models.items():
        start = time.perf_counter()
        if name == "DoubleEnsemble":
            model.fit(X_tr, t_tr)
            rounds = "3 x 28"
        else:  # Qlib: early stopping on the valid segment
            model.fit(X_tr, t_tr, eval_set=[(X_va, t_va)])
            rounds = str(model.best_iteration_)
        seconds = time.perf_counter() - start
        summary = ic_summary(y_te, model.predict(X_te))
        rows.append(
            {"model": name, **summary.round(4).to_dict(), "rounds": rounds,
             "fit_s": round(seconds, 1)}
        )  # fmt: skip
    table = pd.DataFrame(rows).set_index("model")
    print("\nOut-of-sample (test segment), skquant presets on the S&P 500 panel:")
    print(table.to_string())
    ref = pd.DataFrame(QLIB_CSI300, index=["IC", "ICIR", "Rank IC", "Rank ICIR"]).T
    print("\nQlib's published CSI300 Alpha158 numbers (different market, for scale):")
    print(ref.to_string())


if __name__ == "__main__":
    main()
