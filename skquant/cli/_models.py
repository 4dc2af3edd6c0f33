"""The model zoo of ``skquant benchmark``: Qlib's protocol per model family.

Each entry says how Qlib prepares the data for that family (which processors
on the features, which per-date normalisation of the label) and builds the
estimator with Qlib's benchmark hyperparameters. Entries whose optional
dependencies are missing are skipped with a message.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass

from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline

from skquant.preprocessing import RobustZScoreNorm


@dataclass(frozen=True)
class ModelSpec:
    """How the benchmark builds and feeds one model."""

    name: str
    build: Callable[[int, bool], object]  # (seed, quick) -> unfitted estimator
    label: str  # per-date label normalisation: "rank" or "zscore"
    requires: tuple[str, ...] = ()
    uses_valid: bool = True  # early stopping on the valid segment
    default: bool = True  # part of the default (fast) run

    def available(self) -> bool:
        """Whether the optional dependencies are installed."""
        return all(importlib.util.find_spec(m) is not None for m in self.requires)


def _linear(seed: int, quick: bool):
    # Qlib's Linear: OLS on RobustZScoreNorm + Fillna features, CSRankNorm label.
    return make_pipeline(
        RobustZScoreNorm(),
        SimpleImputer(strategy="constant", fill_value=0.0, keep_empty_features=True),
        LinearRegression(),
    )


def _lightgbm(seed: int, quick: bool):
    from skquant.gbdt import LightGBMRegressor

    return LightGBMRegressor.from_preset(
        "alpha158",
        random_state=seed,
        n_estimators=200 if quick else 1000,
        validation_fraction=None,  # the valid segment is passed as eval_set
    )


def _xgboost(seed: int, quick: bool):
    from skquant.gbdt import XGBoostRegressor

    return XGBoostRegressor.from_preset(
        "alpha158",
        random_state=seed,
        n_estimators=200 if quick else 1000,
        validation_fraction=None,  # the valid segment is passed as eval_set
    )


def _double_ensemble(seed: int, quick: bool):
    from skquant.gbdt import DoubleEnsembleRegressor

    if quick:
        return DoubleEnsembleRegressor(num_models=3, random_state=seed)
    return DoubleEnsembleRegressor(random_state=seed)


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec("Linear", _linear, label="rank", uses_valid=False),
        ModelSpec("LightGBM", _lightgbm, label="zscore", requires=("lightgbm",)),
        ModelSpec("XGBoost", _xgboost, label="zscore", requires=("xgboost",)),
        ModelSpec(
            "DoubleEnsemble",
            _double_ensemble,
            label="zscore",
            requires=("lightgbm",),
            uses_valid=False,
            default=False,
        ),
    )
}
