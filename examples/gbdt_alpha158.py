"""Qlib's GBDT benchmarks on Alpha158: LightGBM, XGBoost and DoubleEnsemble.

Qlib's tuned presets on the bundled S&P 500 panel, with Qlib's protocol: the
label z-scored per date for training, a train/valid/test split by dates, early
stopping on the valid segment, and IC/ICIR/Rank IC/Rank ICIR of the test
predictions against the raw label. Then the same LightGBM preset stopping on
the daily Rank IC of a time-ordered holdout (the last 20% of the training
dates) instead of a separate valid segment.

Run it with ``python examples/gbdt_alpha158.py``; ``SKQUANT_EXAMPLE_QUICK=1``
uses a small slice (CI does this). Nothing is written to disk.
"""

import os

import pandas as pd

from skquant.datasets import load_sp500
from skquant.features import Alpha158, forward_return
from skquant.gbdt import DoubleEnsembleRegressor, LightGBMRegressor, XGBoostRegressor
from skquant.metrics import ic_summary
from skquant.model_selection import segment_split
from skquant.preprocessing import cs_zscore_norm, drop_missing_label

quick = os.environ.get("SKQUANT_EXAMPLE_QUICK") == "1"
panel = load_sp500(start="2016-01-01" if quick else "2013-01-01")
if quick:
    tickers = panel.index.get_level_values("instrument").unique()[::8]
    panel = panel[panel.index.get_level_values("instrument").isin(tickers)]
print(
    f"panel: {len(panel):,} rows, "
    f"{panel.index.get_level_values('instrument').nunique()} instruments"
)

X, y = drop_missing_label(Alpha158().fit_transform(panel), forward_return(panel))
segments = (
    {"train": (None, "2016-12-31"), "valid": ("2017-01-01", "2017-04-30"),
     "test": ("2017-05-01", None)}
    if quick
    else {"train": (None, "2015-12-31"), "valid": ("2016-01-01", "2016-12-31"),
          "test": ("2017-01-01", None)}
)  # fmt: skip
# gap=2 drops the last 2 dates of train and valid: their labels (close t+2)
# would reach into the next segment.
parts = segment_split(X, y, segments, gap=2)
(X_train, y_train), (X_valid, y_valid), (X_test, y_test) = parts.values()
# Qlib's GBDT configs train on the label z-scored per date (CSZScoreNorm) and
# evaluate on the raw label.
z_train, z_valid = cs_zscore_norm(y_train), cs_zscore_norm(y_valid)

models = {
    # Qlib's valid segment for early stopping: pass it as eval_set and turn the
    # preset's own holdout off.
    "LightGBM": LightGBMRegressor.from_preset(
        "alpha158", validation_fraction=None, random_state=0
    ),
    "XGBoost": XGBoostRegressor.from_preset(
        "alpha158", validation_fraction=None, random_state=0
    ),
    # Qlib's DoubleEnsemble config trains 3 x 28 rounds, no early stopping.
    "DoubleEnsemble": DoubleEnsembleRegressor.from_preset("alpha158", random_state=0),
}
results = {}
for name, model in models.items():
    if isinstance(model, DoubleEnsembleRegressor):
        model.fit(X_train, z_train)
        rounds = f"{len(model.estimators_)} x 28"
    else:
        model.fit(X_train, z_train, eval_set=[(X_valid, z_valid)])
        rounds = str(model.best_iteration_)  # predict uses this many rounds
    results[name] = {
        **ic_summary(y_test, model.predict(X_test)).to_dict(),
        "rounds": rounds,
    }

# The same preset, stopping on the daily Rank IC of the last 20% of the
# training dates (2 dates purged before them), no separate valid segment.
X_fit, y_fit = pd.concat([X_train, X_valid]), pd.concat([z_train, z_valid])
ic_stopped = LightGBMRegressor.from_preset(
    "alpha158", early_stopping_metric="rank_ic", random_state=0
).fit(X_fit, y_fit)
results["LightGBM, Rank-IC stop"] = {
    **ic_summary(y_test, ic_stopped.predict(X_test)).to_dict(),
    "rounds": str(ic_stopped.best_iteration_),
}
print(
    f"holdout for the Rank-IC stop: trained up to {ic_stopped.train_end_:%Y-%m-%d}, "
    f"validated from {ic_stopped.validation_start_:%Y-%m-%d}"
)

table = pd.DataFrame(results).T
for column in ("IC", "ICIR", "Rank IC", "Rank ICIR"):
    table[column] = table[column].astype(float).round(4)
print(f"\nTest segment {segments['test'][0]} onwards ({len(X_test):,} rows):")
print(table.to_string())
