"""ModelSelector on the bundled panel: the tree's choice, the cross-validated
choice, and every candidate, by out-of-sample IC and fit time.

    python benchmarks/bench_selector.py                  # ~5 min on 2 cores
    python benchmarks/bench_selector.py --instruments 100 --epochs 20

Data: ``--instruments`` stocks spread evenly over the tickers, Alpha360 of
their adjusted prices (6 features x 60 days: a sequence layout, so the tree
says "numeric and temporal": ALSTM). The selector and every candidate are
fitted on ``--start`` to 2016-12-31 with Qlib's per-date ranked label and
scored on 2017 (the raw label): mean daily IC, its standard error
(std / sqrt(dates)), ICIR and Rank IC.

Candidates of ``strategy="cv"`` for these data: the rule's leaf ``alstm``, its
sibling ``dnn``, and ``ensemble`` (where the tree lands when rule 2 is
skipped). They are ModelSelector's default leaves with fewer epochs
(``--epochs``, early stopping on the last 20% of the training dates with
patience 3) and one thread each, so the run fits in minutes on 2 shared CPUs;
the ensemble stacks the low-latency LightGBM, the linear model and the DNN
(purged K-fold over dates). ``strategy="cv"`` scores them with
``DateSplit(3)`` and the daily IC inside the training period, then refits the
best. Nothing is written to disk.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sklearn.base import clone
from sklearn.ensemble import StackingRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.pipeline import make_pipeline

from skquant.datasets import load_sp500
from skquant.features import Alpha360, forward_return
from skquant.gbdt import LightGBMRegressor
from skquant.metrics import information_coefficient, rank_information_coefficient
from skquant.model_selection import DateSplit, ModelSelector
from skquant.nn import ALSTMRegressor, DNNRegressor
from skquant.preprocessing import RobustZScoreNorm, cs_rank_norm, drop_missing_label

TRAIN_END = "2016-12-31"


def scaled():
    return [
        RobustZScoreNorm(),
        SimpleImputer(strategy="constant", fill_value=0.0, keep_empty_features=True),
    ]


def pipe(*steps):
    # pandas output keeps the panel index up to the net, so its early-stopping
    # holdout is the last dates whether it is fitted alone or by the selector
    return make_pipeline(*steps).set_output(transform="pandas")


def leaves(epochs: int, threads: int) -> dict:
    """ModelSelector's default leaves for Alpha360, with fewer epochs."""
    net = {
        "max_epochs": epochs,
        "patience": 3,
        "n_threads": threads,
        "random_state": 0,
    }
    dnn = pipe(*scaled(), DNNRegressor(**net))
    return {
        "alstm": pipe(
            *scaled(),
            ALSTMRegressor(
                d_feat=6,
                hidden_size=64,
                num_layers=2,
                dropout=0.2,
                batch_size=800,
                **net,
            ),
        ),
        "dnn": dnn,
        "ensemble": StackingRegressor(
            [
                (
                    "lightgbm",
                    LightGBMRegressor(
                        n_estimators=100,
                        num_leaves=31,
                        learning_rate=0.1,
                        colsample_bytree=0.9,
                        n_jobs=threads,
                        random_state=0,
                    ),
                ),
                ("linear", pipe(*scaled(), Ridge(alpha=1.0))),
                ("dnn", clone(dnn)),
            ],
            final_estimator=LinearRegression(positive=True),
            cv=DateSplit(n_splits=3, mode="kfold"),
        ),
    }


def load(n_instruments: int, start: str):
    panel = load_sp500(start=pd.Timestamp(start) - pd.Timedelta(days=120))
    tickers = sorted(panel.index.get_level_values("instrument").unique())
    keep = [
        tickers[i] for i in np.linspace(0, len(tickers) - 1, n_instruments).astype(int)
    ]
    panel = panel[panel.index.get_level_values("instrument").isin(keep)]
    X = Alpha360().fit_transform(panel)
    X, y = drop_missing_label(X, forward_return(panel))
    X, y = X.loc[start:], y.loc[start:]
    dates = X.index.get_level_values("datetime")
    train = dates <= pd.Timestamp(TRAIN_END)
    return X[train], y[train], X[~train], y[~train]


def scores(y_test, pred) -> dict:
    pred = pd.Series(pred, index=y_test.index)
    daily = information_coefficient(y_test, pred)
    rank = rank_information_coefficient(y_test, pred)
    return {
        "IC": daily.mean(),
        "IC s.e.": daily.std() / np.sqrt(daily.notna().sum()),
        "ICIR": daily.mean() / daily.std(),
        "Rank IC": rank.mean(),
    }


def main(argv=None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instruments", type=int, default=50)
    parser.add_argument("--start", default="2015-01-01")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    X_train, y_train, X_test, y_test = load(args.instruments, args.start)
    y_rank = cs_rank_norm(y_train)  # Qlib's CSRankNorm training label
    n_train = X_train.index.get_level_values("datetime").nunique()
    n_test = X_test.index.get_level_values("datetime").nunique()
    print(
        f"Alpha360, {args.instruments} instruments: train {len(X_train):,} rows "
        f"({n_train} dates from {args.start}), test {len(X_test):,} rows "
        f"({n_test} dates of 2017); {time.perf_counter() - t0:.0f}s to load"
    )
    if len(X_train) < 10_000:
        raise SystemExit(
            f"{len(X_train):,} training rows: below the tree's 10,000-sample "
            "threshold (rule 1 would pick a small-data model); use more "
            "instruments or an earlier --start."
        )
    candidates = leaves(args.epochs, args.threads)
    rows = []

    start = time.perf_counter()
    rules = ModelSelector(**candidates).fit(X_train, y_rank)
    rules_time = time.perf_counter() - start
    print("\nstrategy='rules':\n" + str(rules.decision_path_))
    rows.append(
        {
            "row": "rules choice",
            "leaf": rules.selected_,
            "fit s": rules_time,
            **scores(y_test, rules.predict(X_test)),
        }
    )

    start = time.perf_counter()
    cv = ModelSelector(strategy="cv", **candidates).fit(X_train, y_rank)
    cv_time = time.perf_counter() - start
    print("\nstrategy='cv':\n" + str(cv.decision_path_))
    rows.append(
        {
            "row": "cv choice",
            "leaf": cv.selected_,
            "fit s": cv_time,
            **scores(y_test, cv.predict(X_test)),
        }
    )
    cv_means = dict(
        zip(cv.cv_results_["candidate"], cv.cv_results_["mean_test_score"], strict=True)
    )

    for name in cv.cv_results_["candidate"]:
        if name == rules.selected_:  # the same estimator, already fitted
            model, fit_time = rules.estimator_, rules_time
        else:
            start = time.perf_counter()
            model = clone(candidates[name]).fit(X_train, y_rank)
            fit_time = time.perf_counter() - start
        rows.append(
            {
                "row": "candidate",
                "leaf": name,
                "fit s": fit_time,
                "CV IC": cv_means[name],
                **scores(y_test, model.predict(X_test)),
            }
        )

    table = pd.DataFrame(rows)[
        ["row", "leaf", "CV IC", "IC", "IC s.e.", "ICIR", "Rank IC", "fit s"]
    ]
    print("\n" + table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    single = table[table["row"] == "candidate"]
    cv_ic = table.loc[table["row"] == "cv choice", "IC"].item()
    best = single["IC"].max()
    se = single.loc[single["IC"].idxmax(), "IC s.e."]
    print(
        f"\ncv choice IC {cv_ic:.4f} vs candidates' median {single['IC'].median():.4f} "
        f"and best {best:.4f} (best - cv = {best - cv_ic:.4f}, "
        f"{(best - cv_ic) / se:.1f} s.e. of the best)"
    )
    print(f"total {time.perf_counter() - t0:.0f}s")
    return table


if __name__ == "__main__":
    main()
