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
    # How the valid segment is used for early stopping: "eval_set" (passed to
    # fit), "holdout" (fit on train + valid, the estimator holds out the last
    # dates = the valid segment) or "none".
    validation: str = "eval_set"
    features: str = "alpha158"  # or "alpha158_seq20": 20 features x 20 days
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


def _net_pipeline(net):
    # Qlib's NN processors: RobustZScoreNorm(clip_outlier) + Fillna(0).
    return make_pipeline(
        RobustZScoreNorm(),
        SimpleImputer(strategy="constant", fill_value=0.0, keep_empty_features=True),
        net,
    )


def _mlp(seed: int, quick: bool):
    from skquant.nn import DNNRegressor

    # Qlib's MLP Alpha158 config: Adam, lr 0.002, batch 8192, weight decay 2e-4.
    return _net_pipeline(
        DNNRegressor(
            lr=0.002,
            batch_size=8192,
            weight_decay=2e-4,
            max_epochs=3 if quick else 20,  # keeps the default run to minutes
            patience=5,
            random_state=seed,
        )
    )


def _rnn(cls_name: str, **params):
    def build(seed: int, quick: bool):
        import skquant.nn

        net = getattr(skquant.nn, cls_name)(
            d_feat=20,
            batch_size=800,
            max_epochs=2 if quick else 50,
            patience=10,
            random_state=seed,
            **params,
        )
        return _net_pipeline(net)

    return build


def _double_ensemble(seed: int, quick: bool):
    from skquant.gbdt import DoubleEnsembleRegressor

    if quick:
        return DoubleEnsembleRegressor(num_models=3, random_state=seed)
    return DoubleEnsembleRegressor(random_state=seed)


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec("Linear", _linear, label="rank", validation="none"),
        ModelSpec("LightGBM", _lightgbm, label="zscore", requires=("lightgbm",)),
        ModelSpec("XGBoost", _xgboost, label="zscore", requires=("xgboost",)),
        ModelSpec(
            "DoubleEnsemble",
            _double_ensemble,
            label="zscore",
            requires=("lightgbm",),
            validation="none",
            default=False,
        ),
        ModelSpec(
            "MLP",
            _mlp,
            label="rank",
            requires=("torch", "skorch"),
            validation="holdout",
        ),
        ModelSpec(
            "LSTM",
            _rnn("LSTMRegressor", lr=1e-3),
            label="rank",
            requires=("torch", "skorch"),
            validation="holdout",
            features="alpha158_seq20",
            default=False,
        ),
        ModelSpec(
            "GRU",
            _rnn("GRURegressor", lr=2e-4),
            label="rank",
            requires=("torch", "skorch"),
            validation="holdout",
            features="alpha158_seq20",
            default=False,
        ),
        ModelSpec(
            "ALSTM",
            _rnn("ALSTMRegressor", lr=1e-3, rnn_type="GRU"),
            label="rank",
            requires=("torch", "skorch"),
            validation="holdout",
            features="alpha158_seq20",
            default=False,
        ),
    )
}
