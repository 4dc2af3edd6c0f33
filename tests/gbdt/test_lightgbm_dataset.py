"""LightGBM Datasets of column subsets, built without copying the columns.

DoubleEnsemble's memory bound rests on these being the same model as
``lightgbm.Dataset(X[:, columns])``: same sampled rows, same bins, same trees.
"""

from __future__ import annotations

import tracemalloc

import lightgbm
import numpy as np
import pytest
from sklearn.base import clone

from skquant.gbdt import DoubleEnsembleRegressor, LightGBMRegressor
from skquant.gbdt._double_ensemble import _fits_columns_in_place
from skquant.gbdt._lightgbm_dataset import column_dataset


@pytest.fixture(scope="module")
def panel(small_alpha158_data):
    """~12k real rows x 158 Alpha158 features (with NaN), column-major."""
    X, _, y = small_alpha158_data
    values = X.to_numpy(np.float64)
    assert np.isnan(values).any()
    weight = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
    return np.asfortranarray(values), y.to_numpy(np.float64), weight


# A sample smaller than the rows (LightGBM's draw matters) and blocks of a few
# columns (the blocks are joined) exercise every step on a small slice.
PARAMS = {
    "objective": "regression",
    "num_leaves": 15,
    "learning_rate": 0.2,
    "feature_fraction": 0.8,
    "bin_construct_sample_cnt": 3000,
    "seed": 11,
    "num_threads": 1,
    "verbosity": -1,
}


def _train(dataset, rounds=15):
    return lightgbm.train(PARAMS, dataset, num_boost_round=rounds)


@pytest.mark.parametrize("order", ["F", "C"])
@pytest.mark.parametrize("block_floats", [3000 * 4, 10**9])
def test_same_model_as_a_dataset_of_the_copied_columns(panel, order, block_floats):
    X, y, weight = panel
    X = np.asarray(X, order=order)
    columns = np.array([150, 3, 77, 12, 40, 41, 99, 5, 131, 64, 0])  # any order
    copied = lightgbm.Dataset(X[:, columns], y, weight=weight, params=PARAMS)
    direct = column_dataset(X, columns, y, weight, PARAMS, block_floats=block_floats)
    assert direct.num_data() == len(y) and direct.num_feature() == len(columns)
    expected, got = _train(copied), _train(direct)
    # the model text holds every feature's range and every split threshold
    assert got.model_to_string() == expected.model_to_string()
    np.testing.assert_array_equal(
        got.predict(X[:, columns]), expected.predict(X[:, columns])
    )


def test_the_seed_decides_the_sampled_rows(panel):
    """The draw follows ``seed`` as in lightgbm.Dataset, not a fixed default."""
    X, y, _ = panel
    columns = np.arange(20)
    models = {}
    for seed in (1, 2):
        params = {**PARAMS, "seed": seed, "bin_construct_sample_cnt": 200}
        ref = lightgbm.train(
            params, lightgbm.Dataset(X[:, columns], y, params=params), 5
        )
        got = lightgbm.train(params, column_dataset(X, columns, y, None, params), 5)
        assert got.model_to_string() == ref.model_to_string()
        models[seed] = got.model_to_string()
    assert models[1] != models[2]


def test_bad_input(panel):
    X, y, _ = panel
    with pytest.raises(ValueError, match="float64"):
        column_dataset(X.astype(np.float32), [0, 1], y, None, PARAMS)
    with pytest.raises(ValueError, match="at least one column"):
        column_dataset(X, [], y, None, PARAMS)


def _lgb(**params):
    return LightGBMRegressor(
        n_estimators=15,
        num_leaves=15,
        colsample_bytree=0.8,
        subsample_for_bin=3000,
        n_jobs=1,
        random_state=5,
        **params,
    )


def test_fit_columns_is_fit_on_the_copied_columns(panel):
    X, y, weight = panel
    columns = np.arange(0, 158, 3)
    expected = _lgb().fit(X[:, columns], y, sample_weight=weight)
    got = _lgb()._fit_columns(X, columns, y, weight, block_floats=3000 * 7)
    assert set(vars(got)) == set(vars(expected))  # the same fitted state
    assert got.booster_.model_to_string() == expected.booster_.model_to_string()
    assert got.n_features_in_ == expected.n_features_in_ == len(columns)
    assert got.best_iteration_ == expected.best_iteration_ == 15
    np.testing.assert_array_equal(
        got.feature_importances_, expected.feature_importances_
    )
    np.testing.assert_array_equal(
        got.predict(X[:, columns]), expected.predict(X[:, columns])
    )
    with pytest.raises(ValueError, match="X has 158 features"):
        got.predict(X)


def test_fit_columns_refuses_a_holdout(panel):
    X, y, weight = panel
    with pytest.raises(ValueError, match="hold out"):
        _lgb(validation_fraction=0.2)._fit_columns(
            X, [0, 1], y, weight, block_floats=10
        )


class _OwnFit(LightGBMRegressor):
    """A LightGBMRegressor whose fit is its own: trained on the copied columns."""

    def fit(self, X, y, sample_weight=None, **params):
        return super().fit(X, y, sample_weight=sample_weight, **params)


def test_double_ensemble_trains_in_place_only_where_it_is_the_same(panel):
    assert _fits_columns_in_place(_lgb())
    assert not _fits_columns_in_place(_lgb(validation_fraction=0.2))
    assert not _fits_columns_in_place(_OwnFit())
    assert not _fits_columns_in_place(lightgbm.LGBMRegressor())
    X, y, _ = panel
    params = {"num_models": 3, "chunk_size": 2000, "random_state": 0}
    in_place = DoubleEnsembleRegressor(_lgb(), **params).fit(X, y)
    copied = DoubleEnsembleRegressor(_OwnFit(**_lgb().get_params()), **params)
    copied.fit(X, y)
    for a, b in zip(in_place.feature_subsets_, copied.feature_subsets_, strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(in_place.sample_weights_, copied.sample_weights_, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(in_place.predict(X), copied.predict(X))


def test_double_ensemble_never_copies_the_columns(panel):
    """Python-side peak of a fit stays far below one copy of the features."""
    X, y, _ = panel
    X = np.ascontiguousarray(X[:, :100])
    model = DoubleEnsembleRegressor(_lgb(), num_models=2, chunk_size=500)
    clone(model).fit(X[:200], y[:200])  # imports and caches outside the trace
    tracemalloc.start()
    try:
        model.fit(X, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < X.nbytes / 3
