"""Qlib's data processors as scikit-learn transformers.

Feature side:

- :class:`RobustZScoreNorm` learns a per-column median and MAD on the training
  rows (Qlib's NN feature scaler);
- :class:`CSZScoreNorm`, :class:`CSRankNorm`, :class:`CSFillna` and
  :class:`ProcessInf` work date by date on a ``(datetime, instrument)`` panel;
- Qlib's constant ``Fillna`` is scikit-learn's
  ``SimpleImputer(strategy="constant", fill_value=0)``.

Label side: :func:`cs_rank_norm`, :func:`cs_zscore_norm`,
:func:`drop_missing_label` and :class:`CrossSectionalTargetRegressor`.
"""

from skquant.preprocessing._cross_sectional import (
    CSFillna,
    CSRankNorm,
    CSZScoreNorm,
    ProcessInf,
)
from skquant.preprocessing._robust import RobustZScoreNorm
from skquant.preprocessing._target import (
    CrossSectionalTargetRegressor,
    cs_rank_norm,
    cs_zscore_norm,
    drop_missing_label,
)

__all__ = [
    "CSFillna",
    "CSRankNorm",
    "CSZScoreNorm",
    "CrossSectionalTargetRegressor",
    "ProcessInf",
    "RobustZScoreNorm",
    "cs_rank_norm",
    "cs_zscore_norm",
    "drop_missing_label",
]
