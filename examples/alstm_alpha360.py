"""Qlib's ALSTM on Alpha360, as a scikit-learn regressor, against LightGBM.

Qlib's Alpha360 benchmark in scikit-learn terms: 60 days of normalised prices
and volume (6 features x 60 days, feature-major), Qlib's NN processors
(robust z-score with clipping, zero fill; per-date ranked label), an ALSTM
that holds out the last dates of the training period and stops early on
their daily IC, then out-of-sample daily IC and Rank IC on the test period,
with LightGBM on the same features for reference.

Run it with ``python examples/alstm_alpha360.py``: all 489 stocks from 2015,
Qlib's network size, about an hour on 2 CPU cores (``device="auto"`` trains
on a GPU when there is one). ``SKQUANT_EXAMPLE_QUICK=1`` uses 40 stocks, a
small net and 3 epochs, a few seconds (CI does this). Nothing is written to
disk.
"""

import os

import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline

from skquant.datasets import load_sp500
from skquant.features import Alpha360, forward_return
from skquant.gbdt import LightGBMRegressor
from skquant.metrics import ic_summary
from skquant.nn import ALSTMRegressor
from skquant.preprocessing import RobustZScoreNorm, cs_rank_norm, drop_missing_label

quick = os.environ.get("SKQUANT_EXAMPLE_QUICK") == "1"
panel = load_sp500(start="2016-01-01" if quick else "2015-01-01")
if quick:
    keep = panel.index.get_level_values("instrument").unique()[:40]
    panel = panel[panel.index.get_level_values("instrument").isin(keep)]
test_start = pd.Timestamp("2017-07-01" if quick else "2017-01-01")

X = Alpha360().fit_transform(panel)  # looks back only
y = forward_return(panel)  # close(t+2) / close(t+1) - 1: the target, never a feature
first_full = X.index.get_level_values("datetime").unique()[59]  # 60 days of history
X, y = drop_missing_label(X.loc[first_full:], y.loc[first_full:])
dates = X.index.get_level_values("datetime")
X_train, y_train = X[dates < test_start], y[dates < test_start]
X_test, y_test = X[dates >= test_start], y[dates >= test_start]
print(
    f"Alpha360: {X.shape[1]} features; train {len(X_train):,} rows, "
    f"test {len(X_test):,} rows from {test_start:%Y-%m-%d}"
)

alstm = make_pipeline(
    RobustZScoreNorm(),  # Qlib's NN feature processor (clips at +-3)
    SimpleImputer(strategy="constant", fill_value=0.0),  # Qlib's Fillna
    ALSTMRegressor(
        d_feat=6,  # Alpha360: 6 features x 60 days
        hidden_size=16 if quick else 64,
        batch_size=800,  # Qlib's Alpha360 benchmark setting
        max_epochs=3 if quick else 50,
        patience=2 if quick else 10,
        early_stopping="ic",  # stop on the daily IC of the last 20% of dates
        n_threads=1 if quick else None,  # CI runs examples next to other jobs
        random_state=0,
    ),
)
# the net reads the dates for its validation split from the panel index; keep
# pandas output through the processors so that it reaches the net
alstm.set_output(transform="pandas")
alstm.fit(X_train, cs_rank_norm(y_train))  # Qlib's CSRankNorm label
net = alstm[-1]
print(
    f"ALSTM: {net.n_epochs_} epochs, best epoch {net.best_epoch_} "
    f"(validation IC {net.best_score_:.4f}, validation from "
    f"{net.validation_start_:%Y-%m-%d})"
)

lgbm = LightGBMRegressor(
    n_estimators=100 if quick else 1000,
    learning_rate=0.05,
    num_leaves=31,
    validation_fraction=0.2,  # early stopping on the last dates, like the net
    n_jobs=2,
    verbose=-1,
).fit(X_train, cs_rank_norm(y_train))

rows = {}
for name, model in (("ALSTM", alstm), ("LightGBM", lgbm)):
    summary = ic_summary(y_test, model.predict(X_test))
    rows[name] = summary
print(pd.DataFrame(rows).T.round(4).to_string())
