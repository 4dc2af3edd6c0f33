"""Let the seed decision tree choose a model, then explain its predictions.

Two cases on the bundled S&P 500 panel:

1. A small, interpretability-first study (Alpha158 on a few stocks and
   months, under 10,000 rows): the tree picks LightGBM with the essay's
   small-data settings, and Tree SHAP says which factors drive it.
2. Alpha360 on more stocks (over 10,000 rows of 6 features x 60 days): the
   tree says ALSTM; ``strategy="cv"`` scores ALSTM against its neighbours
   (the DNN and the stacked ensemble) on time-ordered folds, keeps the best,
   and we measure it out of sample.

Run it with ``python examples/model_selector.py`` (roughly 15 minutes on 2 CPU
cores). ``SKQUANT_EXAMPLE_QUICK=1`` uses smaller slices and nets (CI does
this). Nothing is written to disk.
"""

import os

import numpy as np
import pandas as pd
from sklearn.ensemble import StackingRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.pipeline import make_pipeline

from skquant.datasets import load_sp500
from skquant.explain import explain, shap_by_date
from skquant.features import Alpha158, Alpha360, forward_return
from skquant.gbdt import LightGBMRegressor
from skquant.metrics import ic_summary
from skquant.model_selection import DateSplit, ModelSelector
from skquant.nn import ALSTMRegressor, DNNRegressor
from skquant.preprocessing import RobustZScoreNorm, cs_rank_norm, drop_missing_label

quick = os.environ.get("SKQUANT_EXAMPLE_QUICK") == "1"
pd.set_option("display.width", 120)


def stocks(panel, n):
    tickers = sorted(panel.index.get_level_values("instrument").unique())
    keep = [tickers[i] for i in np.linspace(0, len(tickers) - 1, n).astype(int)]
    return panel[panel.index.get_level_values("instrument").isin(keep)]


# 1. small data, interpretability first ----------------------------------------
panel = stocks(load_sp500(start="2016-01-01", end="2016-12-31"), 12 if quick else 30)
X, y = drop_missing_label(Alpha158().fit_transform(panel), forward_return(panel))
X, y = X.loc["2016-04-01":], y.loc["2016-04-01":]  # after the 60-day warm-up
dates = X.index.get_level_values("datetime")
train = dates < pd.Timestamp("2016-11-01")
print(f"1. Alpha158 ({X.shape[1]} factors), train {train.sum():,} rows")
small = ModelSelector(interpretability="high", random_state=0)
small.fit(X[train], cs_rank_norm(y[train]))
print(small.decision_path_)
sv = explain(small, X[~train])  # exact Tree SHAP of the chosen LightGBM
top = pd.Series(np.abs(sv.values).mean(0), index=sv.feature_names).nlargest(5)
print("factors with the largest mean |SHAP| out of sample:")
print(top.round(5).to_string())
by_date = shap_by_date(sv)[top.index[:3]]
print(f"... per date (first {min(3, len(by_date))} test dates):")
print(by_date.head(3).round(5).to_string())

# 2. a numeric panel of sequences: rules vs cross-validation -------------------
panel = stocks(
    load_sp500(start="2015-10-01", end="2017-06-30" if quick else "2017-12-31"),
    50 if quick else 100,
)
X = Alpha360().fit_transform(panel)
X, y = drop_missing_label(X, forward_return(panel))
X, y = X.loc["2016-01-01":], y.loc["2016-01-01":]
dates = X.index.get_level_values("datetime")
train = dates < pd.Timestamp("2017-01-01")
print(f"\n2. Alpha360, train {train.sum():,} rows, test {(~train).sum():,} rows")


def scaled(model):
    steps = [RobustZScoreNorm(), SimpleImputer(strategy="constant", fill_value=0.0)]
    return make_pipeline(*steps, model).set_output(transform="pandas")


threads = 1 if quick else 2  # CI shares 2 cores: one thread each
net = {
    "max_epochs": 1 if quick else 20,
    "patience": 3,
    "n_threads": threads,
    "random_state": 0,
}
dnn = scaled(DNNRegressor(layers=(64,) if quick else (256,), **net))
leaves = {
    "alstm": scaled(ALSTMRegressor(d_feat=6, hidden_size=8 if quick else 64, **net)),
    "dnn": dnn,
    "ensemble": StackingRegressor(
        [
            (
                "lightgbm",
                LightGBMRegressor(
                    n_estimators=50 if quick else 100, n_jobs=threads, random_state=0
                ),
            ),
            ("linear", scaled(Ridge())),
            ("dnn", dnn),
        ],
        final_estimator=LinearRegression(positive=True),
        cv=DateSplit(n_splits=3, mode="kfold"),
    ),
}
label = cs_rank_norm(y[train])  # Qlib's CSRankNorm training label

rules = ModelSelector(**leaves).fit(X[train], label)
print("strategy='rules':")
print(rules.decision_path_)

cv = ModelSelector(strategy="cv", **leaves).fit(X[train], label)
print("strategy='cv':")
print(cv.decision_path_)
results = pd.DataFrame(cv.cv_results_).drop(columns=["n_splits", "error"])
print(
    results[
        [
            "candidate",
            "mean_test_score",
            "std_test_score",
            "rank_test_score",
            "mean_fit_time",
        ]
    ]
    .round(4)
    .to_string(index=False)
)

print("out of sample (2017, raw label):")
for name, selector in (("rules", rules), ("cv", cv)):
    pred = pd.Series(selector.predict(X[~train]), index=X[~train].index)
    summary = ic_summary(y[~train], pred)
    print(
        f"  {name:5s} -> {selector.selected_:8s} IC {summary['IC']:.4f}  "
        f"Rank IC {summary['Rank IC']:.4f}"
    )
