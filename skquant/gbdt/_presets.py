"""Qlib's tuned GBDT hyperparameters, translated to scikit-learn names.

Source: Qlib's benchmark configs at commit ``d5379c5``
(``examples/benchmarks/LightGBM/workflow_config_lightgbm_Alpha158.yaml`` and
``..._Alpha360.yaml``, ``examples/benchmarks/XGBoost/...``,
``examples/benchmarks/DoubleEnsemble/...``), and the model code that reads them
(``qlib/contrib/model/gbdt.py``, ``xgboost.py``, ``double_ensemble.py``).

Translation rules (Qlib name -> skquant/scikit-learn name):

- ``loss: mse`` -> ``objective="regression"`` (LightGBM's L2 loss, of which
  ``mse`` is an alias);
- ``lambda_l1`` -> ``reg_alpha``, ``lambda_l2`` -> ``reg_lambda``, ``eta`` ->
  ``learning_rate``;
- ``num_threads: 20`` / ``nthread: 20`` -> not set: ``n_jobs=None`` uses the
  machine's cores (LightGBM: physical cores; XGBoost: all cores). Twenty
  threads on a small machine only oversubscribe it;
- Qlib's ``num_boost_round=1000`` with ``early_stopping_rounds=50`` on its
  "valid" segment -> ``n_estimators=1000``, ``early_stopping_rounds=50`` and,
  because a scikit-learn ``fit`` gets one training set, a time-ordered
  holdout of the last 20% of the dates (``validation_fraction=0.2``; Qlib's
  CSI300 split validates on 2 of 9 years). Pass ``validation_fraction=None``
  and an explicit ``eval_set`` to reproduce a fixed validation segment;
- XGBoost's ``n_estimators: 647`` in the YAML is *ignored by Qlib* (it goes
  into the ``xgb.train`` params dict, which does not read it); the rounds
  really come from ``num_boost_round=1000`` plus early stopping, which is what
  the preset does;
- LightGBM's ``subsample: 0.8789`` is kept although LightGBM only bags rows
  when ``subsample_freq > 0``: Qlib never sets ``bagging_freq``, so its
  LightGBM models train on all rows, and so does the preset. Set
  ``subsample_freq=1`` to really subsample.
"""

from __future__ import annotations

import copy

__all__ = ["PRESETS", "get_preset"]

_LGB_ALPHA158 = {
    "objective": "regression",  # Qlib loss "mse"
    "colsample_bytree": 0.8879,
    "learning_rate": 0.2,
    "subsample": 0.8789,
    "reg_alpha": 205.6999,  # lambda_l1
    "reg_lambda": 580.9768,  # lambda_l2
    "max_depth": 8,
    "num_leaves": 210,
}

_XGB_ALPHA = {
    "eval_metric": "rmse",
    "colsample_bytree": 0.8879,
    "learning_rate": 0.0421,  # eta
    "max_depth": 8,
    "subsample": 0.8789,
}

# Qlib's num_boost_round=1000 + early stopping after 50 rounds on a later
# segment, expressed as a time-ordered holdout of the training data.
_EARLY_STOPPING = {
    "n_estimators": 1000,
    "early_stopping_rounds": 50,
    "validation_fraction": 0.2,
}

#: ``PRESETS[family][name]`` -> keyword arguments. ``"double_ensemble"``
#: entries hold the ensemble's own parameters plus ``"estimator_params"`` for
#: its LightGBM base learner (``epochs`` -> ``n_estimators``).
PRESETS: dict[str, dict[str, dict]] = {
    "lightgbm": {
        "alpha158": {**_LGB_ALPHA158, **_EARLY_STOPPING},
        "alpha360": {**_LGB_ALPHA158, "learning_rate": 0.0421, **_EARLY_STOPPING},
    },
    "xgboost": {
        "alpha158": {**_XGB_ALPHA, **_EARLY_STOPPING},
        "alpha360": {**_XGB_ALPHA, **_EARLY_STOPPING},
    },
    "double_ensemble": {
        "alpha158": {
            "num_models": 3,
            "enable_sr": True,
            "enable_fs": True,
            "alpha1": 1.0,
            "alpha2": 1.0,
            "bins_sr": 10,
            "bins_fs": 5,
            "decay": 0.5,
            "sample_ratios": [0.8, 0.7, 0.6, 0.5, 0.4],
            "sub_weights": [1.0, 1.0, 1.0],
            "estimator_params": {**_LGB_ALPHA158, "n_estimators": 28},
        },
        "alpha360": {
            "num_models": 3,
            "enable_sr": True,
            "enable_fs": True,
            "alpha1": 1.0,
            "alpha2": 1.0,
            "bins_sr": 10,
            "bins_fs": 5,
            "decay": 0.5,
            "sample_ratios": [0.8, 0.7, 0.6, 0.5, 0.4],
            "sub_weights": [1.0, 1.0, 1.0],
            "estimator_params": {
                **_LGB_ALPHA158,
                "learning_rate": 0.0421,
                "n_estimators": 136,
            },
        },
    },
}


def get_preset(family: str, name: str) -> dict:
    """Return a fresh copy of a preset's keyword arguments.

    Parameters
    ----------
    family : {"lightgbm", "xgboost", "double_ensemble"}
        Estimator family.
    name : {"alpha158", "alpha360"}
        Feature set the hyperparameters were tuned for.

    Returns
    -------
    dict

    Examples
    --------
    >>> from skquant.gbdt._presets import get_preset
    >>> get_preset("lightgbm", "alpha158")["reg_lambda"]
    580.9768
    """
    presets = PRESETS[family]
    key = str(name).lower()
    if key not in presets:
        raise ValueError(f"Unknown preset {name!r}; choose one of {sorted(presets)}.")
    return copy.deepcopy(presets[key])
