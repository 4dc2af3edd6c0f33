"""Gradient boosting the Qlib way: LightGBM, XGBoost and DoubleEnsemble.

- :class:`LightGBMRegressor` and :class:`XGBoostRegressor` are the libraries'
  scikit-learn regressors with Qlib's tuned presets (``from_preset``) and early
  stopping on a time-ordered holdout of the last dates (loss or daily IC).
- :class:`DoubleEnsembleRegressor` is Qlib's DoubleEnsemble with a streaming
  loss curve and a vectorised feature selection.
"""

from skquant.gbdt._double_ensemble import DoubleEnsembleRegressor
from skquant.gbdt._lightgbm import LightGBMRegressor
from skquant.gbdt._xgboost import XGBoostRegressor

__all__ = ["DoubleEnsembleRegressor", "LightGBMRegressor", "XGBoostRegressor"]
