"""Wrapper overhead: skquant's GBDT regressors vs the raw libraries.

Fits and predicts ``LightGBMRegressor`` / ``XGBoostRegressor`` and the raw
``lightgbm.LGBMRegressor`` / ``xgboost.XGBRegressor`` on identical data with
identical parameters, alternating the two so that machine load hits both
alike, and prints the ratio of the best (and median) times. Two settings:

- ``plain``: no validation set, the same trees (checked: identical
  predictions);
- ``holdout``: skquant holds out the last 20% of the dates itself
  (``validation_fraction=0.2``, purge gap 2, early stopping after 20 rounds);
  for the raw library the same train/validation rows are split by hand with
  pandas inside the timed call (what its user has to write), and it uses its
  own early stopping.

Data: Alpha158 of the bundled S&P 500 panel (``--instruments`` tickers, every
date), Qlib's label z-scored per date, missing labels dropped.

Run: ``python benchmarks/bench_gbdt_overhead.py [--instruments 120] [--repeats 5]``
"""

from __future__ import annotations

import argparse
import statistics
import time

import lightgbm
import numpy as np
import xgboost

from skquant.datasets import load_sp500
from skquant.features import Alpha158, forward_return
from skquant.gbdt import LightGBMRegressor, XGBoostRegressor
from skquant.model_selection._holdout import time_holdout
from skquant.preprocessing import cs_zscore_norm, drop_missing_label

LGB_PARAMS = {"n_estimators": 100, "num_leaves": 31, "learning_rate": 0.05}
XGB_PARAMS = {"n_estimators": 100, "max_depth": 6, "learning_rate": 0.05}
ROUNDS = 20


def load(n_instruments: int):
    panel = load_sp500()
    tickers = sorted(panel.index.get_level_values("instrument").unique())
    keep = tickers[:: max(1, len(tickers) // n_instruments)][:n_instruments]
    panel = panel[panel.index.get_level_values("instrument").isin(keep)]
    X, y = drop_missing_label(Alpha158().fit_transform(panel), forward_return(panel))
    return X, cs_zscore_norm(y)


def runners(X, y, n_jobs: int):
    """(name, ours, raw) pairs of callables that fit and predict once."""
    common = {"n_jobs": n_jobs, "random_state": 0}

    def split_by_hand():
        """What a user of the raw library writes: the same holdout by dates."""
        dates = X.index.get_level_values("datetime")
        uniq = dates.unique().sort_values()
        n_valid = int(np.ceil(0.2 * len(uniq)))
        valid = dates >= uniq[-n_valid]
        train = dates < uniq[-n_valid - 2]  # purge 2 dates
        return X[train], y[train], X[valid], y[valid]

    # the hand-made split is the one skquant makes
    split = time_holdout(
        len(X),
        X.index.get_level_values("datetime").to_numpy(),
        validation_fraction=0.2,
        gap=2,
    )
    X_tr, _, X_va, _ = split_by_hand()
    assert X_tr.index.equals(X.index[split.train])
    assert X_va.index.equals(X.index[split.validation])

    def ours_lgb_plain():
        return LightGBMRegressor(**LGB_PARAMS, **common).fit(X, y).predict(X)

    def raw_lgb_plain():
        model = lightgbm.LGBMRegressor(**LGB_PARAMS, **common, verbosity=-1)
        return model.fit(X, y).predict(X)

    def ours_xgb_plain():
        return XGBoostRegressor(**XGB_PARAMS, **common).fit(X, y).predict(X)

    def raw_xgb_plain():
        return xgboost.XGBRegressor(**XGB_PARAMS, **common).fit(X, y).predict(X)

    def ours_lgb_holdout():
        model = LightGBMRegressor(
            **LGB_PARAMS, **common, validation_fraction=0.2,
            early_stopping_rounds=ROUNDS,
        )  # fmt: skip
        return model.fit(X, y).predict(X)

    def raw_lgb_holdout():
        X_tr, y_tr, X_va, y_va = split_by_hand()
        model = lightgbm.LGBMRegressor(**LGB_PARAMS, **common, verbosity=-1)
        model.fit(
            X_tr, y_tr, eval_X=(X_va,), eval_y=(y_va,),
            callbacks=[lightgbm.early_stopping(ROUNDS, verbose=False)],
        )  # fmt: skip
        return model.predict(X)

    def ours_xgb_holdout():
        model = XGBoostRegressor(
            **XGB_PARAMS, **common, validation_fraction=0.2,
            early_stopping_rounds=ROUNDS,
        )  # fmt: skip
        return model.fit(X, y).predict(X)

    def raw_xgb_holdout():
        X_tr, y_tr, X_va, y_va = split_by_hand()
        model = xgboost.XGBRegressor(
            **XGB_PARAMS, **common, early_stopping_rounds=ROUNDS
        )
        model.fit(X_tr, y_tr, eval_set=[(X_va, y_va)], verbose=False)
        return model.predict(X)

    return [
        ("LightGBM plain", ours_lgb_plain, raw_lgb_plain),
        ("XGBoost plain", ours_xgb_plain, raw_xgb_plain),
        ("LightGBM holdout+ES", ours_lgb_holdout, raw_lgb_holdout),
        ("XGBoost holdout+ES", ours_xgb_holdout, raw_xgb_holdout),
    ]


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instruments", type=int, default=120)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--n-jobs", type=int, default=1)
    args = parser.parse_args(argv)

    X, y = load(args.instruments)
    print(
        f"data: {X.shape[0]} rows x {X.shape[1]} Alpha158 features "
        f"({args.instruments} S&P 500 stocks, "
        f"{X.index.get_level_values('datetime').nunique()} dates); "
        f"{args.repeats} alternating repeats, n_jobs={args.n_jobs}"
    )
    print(
        f"{'setting':<22}{'ours best':>11}{'raw best':>10}{'ratio':>8}"
        f"{'ours med':>10}{'raw med':>9}{'ratio':>8}  same predictions"
    )
    for name, ours, raw in runners(X, y, args.n_jobs):
        timed(ours), timed(raw)  # warm-up (imports, OpenMP pools)
        t_ours, t_raw = [], []
        for _ in range(args.repeats):
            t, p_ours = timed(ours)
            t_ours.append(t)
            t, p_raw = timed(raw)
            t_raw.append(t)
        same = np.array_equal(p_ours, p_raw)
        best = min(t_ours) / min(t_raw)
        med = statistics.median(t_ours) / statistics.median(t_raw)
        print(
            f"{name:<22}{min(t_ours):>10.2f}s{min(t_raw):>9.2f}s{best:>8.3f}"
            f"{statistics.median(t_ours):>9.2f}s{statistics.median(t_raw):>8.2f}s"
            f"{med:>8.3f}  {same}"
        )


if __name__ == "__main__":
    main()
