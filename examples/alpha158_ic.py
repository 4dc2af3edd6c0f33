"""Alpha158 features, Qlib's label and a date-wise cross-validated IC with Ridge.

The whole research loop in scikit-learn terms: Qlib's Alpha158 features on the
bundled S&P 500 panel, Qlib's label (the return from close t+1 to close t+2),
Qlib's robust normalisation and zero fill, a ``Ridge`` in a ``Pipeline``, and a
time-ordered, purged cross-validation over dates scored by daily IC.

Run it with ``python examples/alpha158_ic.py``; ``SKQUANT_EXAMPLE_QUICK=1`` uses a
smaller slice (CI does this).
"""

import os

import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.linear_model import Ridge
from sklearn.model_selection import cross_validate
from sklearn.pipeline import make_pipeline

from skquant.datasets import load_sp500
from skquant.features import Alpha158, forward_return
from skquant.metrics import ic_scorer, rank_ic_scorer
from skquant.model_selection import DateSplit
from skquant.preprocessing import (
    CrossSectionalTargetRegressor,
    RobustZScoreNorm,
    drop_missing_label,
)

quick = os.environ.get("SKQUANT_EXAMPLE_QUICK") == "1"
panel = load_sp500(start="2015-06-01" if quick else "2014-01-01")
if quick:
    first_100 = panel.index.get_level_values("instrument").unique()[:100]
    panel = panel[panel.index.get_level_values("instrument").isin(first_100)]
print(
    f"panel: {len(panel):,} rows, "
    f"{panel.index.get_level_values('instrument').nunique()} instruments"
)

# Features only look back; the label looks forward and is never a feature.
X = Alpha158().fit_transform(panel)
y = forward_return(panel)
X, y = drop_missing_label(X, y)

ridge = make_pipeline(
    RobustZScoreNorm(),  # fitted on each training fold only
    SimpleImputer(strategy="constant", fill_value=0.0),  # Qlib's Fillna
    Ridge(alpha=100.0),
)
# Qlib trains on the label ranked within each date (CSRankNorm); the scorers
# compare the predictions with the raw label.
model = CrossSectionalTargetRegressor(ridge, method="rank")
cv = DateSplit(n_splits=4, gap=2)  # purge: the label spans 2 days
scores = cross_validate(
    model, X, y, cv=cv, scoring={"IC": ic_scorer, "Rank IC": rank_ic_scorer}
)
table = pd.DataFrame({"IC": scores["test_IC"], "Rank IC": scores["test_Rank IC"]})
table.index.name = "fold"
print(table.round(4).to_string())
print(f"mean IC {table['IC'].mean():.4f}, mean Rank IC {table['Rank IC'].mean():.4f}")
