"""The model zoo of ``skquant benchmark``: Qlib's protocol per model family.

Each entry says how Qlib prepares the data for that family (which processors
on the features, which per-date normalisation of the label) and builds the
estimator with Qlib's benchmark hyperparameters for the chosen feature set
(Qlib's ``workflow_config_<model>_Alpha158.yaml`` or ``..._Alpha360.yaml``).
Entries whose optional dependencies are missing are skipped with a message.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass

from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline

from skquant.preprocessing import RobustZScoreNorm

#: The feature sets of Qlib's benchmark table, i.e. its two column groups.
FEATURE_SETS = ("alpha158", "alpha360")


@dataclass(frozen=True)
class ModelSpec:
    """How the benchmark builds and feeds one model."""

    name: str
    # (seed, quick, feature_set) -> unfitted estimator
    build: Callable[[int, bool, str], object]
    label: str  # per-date label normalisation with Alpha158: "rank" or "zscore"
    requires: tuple[str, ...] = ()
    # How the valid segment is used for early stopping: "eval_set" (passed to
    # fit), "holdout" (fit on train + valid, the estimator holds out the last
    # dates = the valid segment) or "none".
    validation: str = "eval_set"
    # Sequence model: with Alpha158 it reads the 20 selected features x 20
    # days (Qlib's TSDatasetH); with Alpha360 the 6 fields x 60 days as they are.
    sequence: bool = False
    default: bool = True  # part of the default (fast) run
    label_alpha360: str | None = None  # when Qlib's Alpha360 config differs

    def available(self) -> bool:
        """Whether the optional dependencies are installed."""
        return all(importlib.util.find_spec(m) is not None for m in self.requires)

    def inputs(self, feature_set: str) -> str:
        """Key of the feature matrix this model reads for ``feature_set``.

        Parameters
        ----------
        feature_set : {"alpha158", "alpha360"}
            The benchmark's feature set.

        Returns
        -------
        str
            ``"alpha158"``, ``"alpha360"`` or ``"alpha158_seq20"`` (the 20
            selected Alpha158 features over 20 days, for sequence models).
        """
        if self.sequence and feature_set == "alpha158":
            return "alpha158_seq20"
        return feature_set

    def label_for(self, feature_set: str) -> str:
        """Per-date label normalisation for ``feature_set``.

        Parameters
        ----------
        feature_set : {"alpha158", "alpha360"}
            The benchmark's feature set.

        Returns
        -------
        str
            ``"rank"`` (Qlib's ``CSRankNorm``) or ``"zscore"`` (``CSZScoreNorm``).
        """
        if feature_set == "alpha360" and self.label_alpha360 is not None:
            return self.label_alpha360
        return self.label


def _linear(seed: int, quick: bool, feature_set: str):
    # Qlib's Linear: OLS on RobustZScoreNorm + Fillna features, CSRankNorm label.
    # Qlib has no Alpha360 config for it; the same processors are used.
    return make_pipeline(
        RobustZScoreNorm(),
        SimpleImputer(strategy="constant", fill_value=0.0, keep_empty_features=True),
        LinearRegression(),
    )


def _lightgbm(seed: int, quick: bool, feature_set: str):
    from skquant.gbdt import LightGBMRegressor

    # the Alpha360 preset differs in learning_rate only (0.0421 instead of 0.2)
    return LightGBMRegressor.from_preset(
        feature_set,
        random_state=seed,
        n_estimators=200 if quick else 1000,
        validation_fraction=None,  # the valid segment is passed as eval_set
    )


def _xgboost(seed: int, quick: bool, feature_set: str):
    from skquant.gbdt import XGBoostRegressor

    # Qlib's Alpha158 and Alpha360 XGBoost configs are identical
    return XGBoostRegressor.from_preset(
        feature_set,
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


def _mlp(seed: int, quick: bool, feature_set: str):
    from skquant.nn import DNNRegressor

    # Qlib's MLP configs: Adam, lr 0.002; Alpha158 batch 8192 and weight decay
    # 2e-4, Alpha360 batch 4096 and no weight decay.
    alpha360 = feature_set == "alpha360"
    return _net_pipeline(
        DNNRegressor(
            lr=0.002,
            batch_size=4096 if alpha360 else 8192,
            weight_decay=0.0 if alpha360 else 2e-4,
            max_epochs=3 if quick else 20,  # keeps the default run to minutes
            patience=5,
            random_state=seed,
        )
    )


def _rnn(cls_name: str, lr158: float, **params):
    def build(seed: int, quick: bool, feature_set: str):
        import skquant.nn

        if feature_set == "alpha360":
            # Qlib's Alpha360 configs (pytorch_<model>.py on DatasetH): the 360
            # columns as 6 fields x 60 days, lr 1e-3, early_stop 20
            shape = {"d_feat": 6, "lr": 1e-3, "patience": 20}
        else:
            # Qlib's Alpha158 configs (TSDatasetH): 20 features x 20 days
            shape = {"d_feat": 20, "lr": lr158, "patience": 10}
        net = getattr(skquant.nn, cls_name)(
            batch_size=800,
            max_epochs=2 if quick else 50,
            random_state=seed,
            **shape,
            **params,
        )
        return _net_pipeline(net)

    return build


def _double_ensemble(seed: int, quick: bool, feature_set: str):
    from skquant.gbdt import DoubleEnsembleRegressor

    # Qlib's configs: 3 LightGBM sub-models of 28 rounds at learning rate 0.2
    # (Alpha158) or 136 rounds at 0.0421 (Alpha360), no early stopping
    model = DoubleEnsembleRegressor.from_preset(feature_set, random_state=seed)
    if quick:  # feature selection re-predicts every tree once per feature
        model.set_params(estimator__n_estimators=20)
    return model


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec("Linear", _linear, label="rank", validation="none"),
        # Qlib's GBDT configs: raw features; the label is CSZScoreNorm with
        # Alpha158 (the handler's default), CSRankNorm with Alpha360
        ModelSpec(
            "LightGBM",
            _lightgbm,
            label="zscore",
            label_alpha360="rank",
            requires=("lightgbm",),
        ),
        ModelSpec(
            "XGBoost",
            _xgboost,
            label="zscore",
            label_alpha360="rank",
            requires=("xgboost",),
        ),
        ModelSpec(
            "DoubleEnsemble",
            _double_ensemble,
            label="zscore",
            label_alpha360="rank",
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
            _rnn("LSTMRegressor", 1e-3),
            label="rank",
            requires=("torch", "skorch"),
            validation="holdout",
            sequence=True,
            default=False,
        ),
        ModelSpec(
            "GRU",
            _rnn("GRURegressor", 2e-4),
            label="rank",
            requires=("torch", "skorch"),
            validation="holdout",
            sequence=True,
            default=False,
        ),
        ModelSpec(
            "ALSTM",
            _rnn("ALSTMRegressor", 1e-3, rnn_type="GRU"),
            label="rank",
            requires=("torch", "skorch"),
            validation="holdout",
            sequence=True,
            default=False,
        ),
    )
}
