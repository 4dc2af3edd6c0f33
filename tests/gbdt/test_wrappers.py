"""LightGBMRegressor and XGBoostRegressor: the library contract, presets, inputs."""

from __future__ import annotations

import copy
import pickle

import lightgbm
import numpy as np
import pandas as pd
import pytest
import xgboost
from sklearn.base import clone

from skquant.gbdt import DoubleEnsembleRegressor, LightGBMRegressor, XGBoostRegressor
from skquant.gbdt._presets import PRESETS

ESTIMATORS = {"lightgbm": LightGBMRegressor, "xgboost": XGBoostRegressor}
RAW = {"lightgbm": lightgbm.LGBMRegressor, "xgboost": xgboost.XGBRegressor}
SMALL = {
    "lightgbm": {"n_estimators": 30, "num_leaves": 7, "n_jobs": 1, "random_state": 0},
    "xgboost": {"n_estimators": 30, "max_depth": 3, "n_jobs": 1, "random_state": 0},
}
OWN = (
    "validation_fraction",
    "validation_start",
    "validation_gap",
    "early_stopping_rounds",
    "early_stopping_metric",
)


def _make(name, **params):
    return ESTIMATORS[name](**{**SMALL[name], **params})


@pytest.fixture
def frame():
    rng = np.random.default_rng(0)
    dates = pd.bdate_range("2017-01-02", periods=60)
    index = pd.MultiIndex.from_product(
        [dates, [f"S{i}" for i in range(10)]], names=["datetime", "instrument"]
    )
    X = pd.DataFrame(rng.normal(size=(600, 4)), index=index, columns=list("abcd"))
    X.iloc[::7, 1] = np.nan
    y = pd.Series(X["a"].to_numpy() + 0.5 * rng.normal(size=600), index=index)
    return X, y


@pytest.mark.parametrize("name", ESTIMATORS)
def test_every_native_parameter_is_reachable(name):
    model = ESTIMATORS[name]()
    params = model.get_params()
    assert set(OWN) <= set(params)
    assert set(RAW[name]().get_params()) <= set(params)
    model.set_params(learning_rate=0.01, validation_fraction=0.3)
    clone_ = clone(model)
    assert clone_.get_params()["learning_rate"] == 0.01
    assert clone_.validation_fraction == 0.3
    # a native parameter outside the signature goes through **kwargs
    if name == "lightgbm":
        extra = ESTIMATORS[name](min_data_in_bin=7)
        assert extra.get_params()["min_data_in_bin"] == 7
        assert "validation_fraction" not in extra._process_params("fit")
    else:
        extra = ESTIMATORS[name](max_bin=64)
        assert extra.get_xgb_params()["max_bin"] == 64
        assert "validation_fraction" not in extra.get_xgb_params()


@pytest.mark.parametrize("name", ESTIMATORS)
def test_quiet_by_default(name, frame, capfd):
    X, y = frame
    _make(name, validation_fraction=0.2).fit(X, y)
    _make(name).fit(X, y, eval_set=[(X.iloc[-60:], y.iloc[-60:])])
    out, err = capfd.readouterr()
    assert out == "" and err == ""


@pytest.mark.parametrize("name", ESTIMATORS)
def test_dataframe_nan_weights_importances(name, frame):
    X, y = frame
    weight = np.linspace(0.5, 2.0, len(y))
    model = _make(name, validation_fraction=0.2).fit(X, y, sample_weight=weight)
    assert list(model.feature_names_in_) == list("abcd")
    assert model.n_features_in_ == 4
    importances = model.feature_importances_
    assert importances.shape == (4,) and importances.argmax() == 0
    assert np.isfinite(model.predict(X)).all()
    # weights matter, and follow their rows into the holdout
    other = _make(name, validation_fraction=0.2).fit(X, y)
    assert not np.allclose(model.predict(X), other.predict(X))


@pytest.mark.parametrize("name", ESTIMATORS)
def test_inputs_are_not_mutated(name, frame):
    X, y = frame
    weight = np.linspace(0.5, 2.0, len(y))
    callbacks = []
    X0, y0, w0 = X.copy(), y.copy(), weight.copy()
    model = _make(name, validation_fraction=0.2, early_stopping_metric="ic")
    params = copy.deepcopy(model.get_params())
    fit_params = {"callbacks": callbacks} if name == "lightgbm" else {}
    model.fit(X, y, sample_weight=weight, **fit_params)
    pd.testing.assert_frame_equal(X, X0)
    pd.testing.assert_series_equal(y, y0)
    np.testing.assert_array_equal(weight, w0)
    assert callbacks == []
    assert model.get_params() == params


@pytest.mark.parametrize("name", ESTIMATORS)
def test_bad_input_errors(name, frame):
    X, y = frame
    model = _make(name).fit(X, y)
    with pytest.raises(ValueError, match="X has 3 features, but .* expecting 4"):
        model.predict(X.iloc[:, :3])
    y_nan = y.copy()
    y_nan.iloc[5] = np.nan
    with pytest.raises(ValueError, match="Input y contains NaN.*drop_missing_label"):
        _make(name).fit(X, y_nan)


@pytest.mark.parametrize("name", ESTIMATORS)
def test_reproducible_with_random_state(name, frame):
    X, y = frame
    params = {"colsample_bytree": 0.5, "subsample": 0.7, "validation_fraction": 0.2}
    if name == "lightgbm":
        params["subsample_freq"] = 1
    a = _make(name, **params).fit(X, y).predict(X)
    b = _make(name, **params).fit(X, y).predict(X)
    c = _make(name, **{**params, "random_state": 1}).fit(X, y).predict(X)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("name", ESTIMATORS)
def test_pickle_round_trip(name, frame):
    X, y = frame
    model = _make(name, validation_fraction=0.2, early_stopping_metric="rank_ic")
    model.fit(X, y)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))
    assert restored.best_iteration_ == model.best_iteration_


@pytest.mark.parametrize("name", ESTIMATORS)
def test_overhead_free_when_no_holdout(name, frame):
    """Without a holdout the wrapper trains exactly the library's model."""
    X, y = frame
    ours = _make(name).fit(X, y).predict(X)
    raw_params = dict(SMALL[name].items())
    if name == "lightgbm":
        raw_params["verbosity"] = -1
    raw = RAW[name](**raw_params).fit(X, y).predict(X)
    np.testing.assert_array_equal(ours, raw)


# -------------------------------------------------------------------- presets
QLIB_LGB_158 = {
    "colsample_bytree": 0.8879,
    "learning_rate": 0.2,
    "subsample": 0.8789,
    "reg_alpha": 205.6999,  # lambda_l1
    "reg_lambda": 580.9768,  # lambda_l2
    "max_depth": 8,
    "num_leaves": 210,
}


@pytest.mark.parametrize("feature_set", ["alpha158", "alpha360"])
def test_lightgbm_presets_reproduce_qlib(feature_set):
    model = LightGBMRegressor.from_preset(feature_set)
    expected = dict(QLIB_LGB_158)
    if feature_set == "alpha360":
        expected["learning_rate"] = 0.0421
    params = model.get_params()
    assert {k: params[k] for k in expected} == expected
    assert params["objective"] == "regression"  # Qlib's loss "mse"
    # Qlib: num_boost_round=1000, early stopping after 50 rounds
    assert (params["n_estimators"], params["early_stopping_rounds"]) == (1000, 50)
    assert params["validation_fraction"] == 0.2
    assert params["n_jobs"] is None  # not Qlib's num_threads=20
    assert params["subsample_freq"] == 0  # Qlib never turns bagging on


@pytest.mark.parametrize("feature_set", ["alpha158", "alpha360"])
def test_xgboost_presets_reproduce_qlib(feature_set):
    params = XGBoostRegressor.from_preset(feature_set).get_params()
    expected = {
        "eval_metric": "rmse",
        "colsample_bytree": 0.8879,
        "learning_rate": 0.0421,  # eta
        "max_depth": 8,
        "subsample": 0.8789,
        "n_estimators": 1000,  # Qlib's num_boost_round; the YAML's 647 is unused
        "early_stopping_rounds": 50,
    }
    assert {k: params[k] for k in expected} == expected
    assert params["n_jobs"] is None  # not Qlib's nthread=20


def test_double_ensemble_presets_reproduce_qlib():
    model = DoubleEnsembleRegressor.from_preset("alpha158")
    assert model.num_models == 3 and model.decay == 0.5
    assert (model.bins_sr, model.bins_fs, model.alpha1, model.alpha2) == (10, 5, 1, 1)
    assert model.sample_ratios == [0.8, 0.7, 0.6, 0.5, 0.4]
    assert model.sub_weights == [1.0, 1.0, 1.0]
    base = model.estimator.get_params()
    assert base["n_estimators"] == 28  # epochs
    assert {k: base[k] for k in QLIB_LGB_158} == QLIB_LGB_158
    assert base["validation_fraction"] is None
    base360 = DoubleEnsembleRegressor.from_preset("alpha360").estimator.get_params()
    assert (base360["n_estimators"], base360["learning_rate"]) == (136, 0.0421)


def test_presets_accept_overrides_and_are_copies():
    model = LightGBMRegressor.from_preset("alpha158", n_jobs=2, learning_rate=0.1)
    assert (model.n_jobs, model.learning_rate) == (2, 0.1)
    assert PRESETS["lightgbm"]["alpha158"]["learning_rate"] == 0.2
    DoubleEnsembleRegressor.from_preset("alpha158").sample_ratios.append(1.0)
    assert len(PRESETS["double_ensemble"]["alpha158"]["sample_ratios"]) == 5
    with pytest.raises(ValueError, match="Unknown preset"):
        XGBoostRegressor.from_preset("alpha42")
