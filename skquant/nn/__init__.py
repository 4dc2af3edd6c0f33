"""Qlib's deep models as scikit-learn regressors, trained with skorch.

Importing this package does not import torch: the estimators import torch and
skorch when they are fitted.
"""

from skquant.nn._mlp import DNNRegressor
from skquant.nn._rnn import ALSTMRegressor, GRURegressor, LSTMRegressor
from skquant.nn._tcn import TCNRegressor
from skquant.nn._transformer import LocalformerRegressor, TransformerRegressor

__all__ = [
    "ALSTMRegressor",
    "DNNRegressor",
    "GRURegressor",
    "LSTMRegressor",
    "LocalformerRegressor",
    "TCNRegressor",
    "TransformerRegressor",
]
