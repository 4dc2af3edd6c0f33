"""DoubleEnsembleRegressor: the algorithm, its streaming loss curve, its API."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.linear_model import Ridge

from skquant.gbdt import DoubleEnsembleRegressor, LightGBMRegressor, XGBoostRegressor
from skquant.gbdt._double_ensemble import _loss_curve_ranks


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(800, 6))
    X[::11, 2] = np.nan
    y = X[:, 0] - 0.5 * X[:, 1] + 0.5 * rng.normal(size=800)
    return X, y


def _small_lgb(**params):
    return LightGBMRegressor(
        **{"n_estimators": 25, "num_leaves": 7, "n_jobs": 1, **params}
    )


# ---------------------------------------------------------------- loss curve
def _naive_loss_curve(cumulative, y):
    """Qlib's way: the n_samples x n_trees loss matrix, ranked column-wise."""
    loss = pd.DataFrame((y[:, None] - cumulative) ** 2)
    ranks = loss.rank(axis=0, pct=True)
    part = max(int(cumulative.shape[1] * 0.1), 1)
    return ranks.iloc[:, :part].mean(axis=1), ranks.iloc[:, -part:].mean(axis=1)


@pytest.mark.parametrize("learner", ["lightgbm", "xgboost", "sklearn"])
def test_streamed_loss_curve_equals_the_full_matrix(learner, data):
    X, y = data
    if learner == "lightgbm":
        est = _small_lgb(n_estimators=37).fit(X, y)
        per_tree = [
            est.booster_.predict(X, start_iteration=t, num_iteration=1)
            for t in range(37)
        ]
        cumulative = np.cumsum(np.column_stack(per_tree), axis=1)
    elif learner == "xgboost":
        est = XGBoostRegressor(n_estimators=37, max_depth=3, n_jobs=1).fit(X, y)
        cumulative = np.column_stack(
            [est.predict(X, iteration_range=(0, t + 1)) for t in range(37)]
        )
    else:
        X = np.nan_to_num(X)
        est = GradientBoostingRegressor(n_estimators=37, max_depth=2).fit(X, y)
        cumulative = np.column_stack(list(est.staged_predict(X)))
    l_start, l_end = _loss_curve_ranks(est, np.ascontiguousarray(X), y)
    ref_start, ref_end = _naive_loss_curve(cumulative, y)
    # XGBoost predicts in float32: summing its rounds in another order can swap
    # two nearly equal losses (one rank step, 1/n) at a round; the others are
    # exact up to float64 rounding
    atol = 1.0 / len(y) if learner == "xgboost" else 1e-12
    np.testing.assert_allclose(l_start, ref_start, atol=atol)
    np.testing.assert_allclose(l_end, ref_end, atol=atol)
    # the same, predicted on a column view of a wider array, in row chunks
    wide = np.column_stack([np.ones(len(X)), X, np.ones(len(X))])
    columns = np.arange(1, X.shape[1] + 1)
    chunked = _loss_curve_ranks(est, wide, y, columns=columns, chunk_size=97)
    np.testing.assert_allclose(chunked[0], l_start, atol=atol)
    np.testing.assert_allclose(chunked[1], l_end, atol=atol)


def test_loss_curve_uses_the_best_iteration(data):
    X, y = data
    est = _small_lgb(n_estimators=300, learning_rate=0.5, validation_fraction=0.3)
    est.fit(X, y)
    per_tree = [
        est.booster_.predict(X, start_iteration=t, num_iteration=1)
        for t in range(est.best_iteration_)
    ]
    ref = _naive_loss_curve(np.cumsum(np.column_stack(per_tree), axis=1), y)
    got = _loss_curve_ranks(est, X, y)
    np.testing.assert_allclose(got[1], ref[1], atol=1e-12)


def test_loss_curve_memory_is_linear_in_samples():
    """Never the n_samples x n_trees matrix (Qlib issue #1436)."""
    rng = np.random.default_rng(0)
    n, n_trees = 40_000, 200
    X = rng.normal(size=(n, 3))
    y = X[:, 0] + rng.normal(size=n)
    est = _small_lgb(n_estimators=n_trees, learning_rate=0.01).fit(X, y)
    matrix_bytes = n * n_trees * 8  # 64 MB
    tracemalloc.start()
    try:
        _loss_curve_ranks(est, X, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < matrix_bytes / 8


def test_learner_without_staged_predictions_falls_back_with_warning(data):
    X, y = data
    X = np.nan_to_num(X)
    model = DoubleEnsembleRegressor(Ridge(), num_models=2, random_state=0)
    with pytest.warns(UserWarning, match="no staged predictions"):
        model.fit(X, y)
    assert len(model.estimators_) == 2
    assert not np.allclose(model.sample_weights_[1], 1.0)


# --------------------------------------------------------- feature selection
def test_feature_selection_scores_equal_a_plain_permutation_loop(data):
    X, y = data
    model = DoubleEnsembleRegressor(
        _small_lgb(), num_models=3, enable_sr=False, random_state=0
    ).fit(X, y)
    estimators, subsets = model.estimators_[:2], model.feature_subsets_[:2]
    preds = [
        est.predict(X[:, cols]) for est, cols in zip(estimators, subsets, strict=False)
    ]
    weights = np.array([1.0, 3.0])
    ensemble = (weights[0] * preds[0] + weights[1] * preds[1]) / 4.0
    loss = (y - ensemble) ** 2

    probe = DoubleEnsembleRegressor(_small_lgb(), chunk_size=97)
    probe.estimators_, probe.feature_subsets_ = estimators, subsets
    probe.feature_scores_ = []
    probe._feature_selection(
        X, y, loss, ensemble, preds, weights, np.array([0.8, 0.7, 0.6, 0.5, 0.4]),
        np.random.RandomState(42),
    )  # fmt: skip
    rng = np.random.RandomState(42)
    expected = []
    for f in range(X.shape[1]):
        Xp = X.copy()
        Xp[:, f] = X[rng.permutation(len(X)), f]
        perm = sum(
            w * est.predict(Xp[:, cols])
            for w, est, cols in zip(weights, estimators, subsets, strict=False)
        )
        d = (y - perm / 4.0) ** 2 - loss
        expected.append(np.mean(d) / (np.std(d) + 1e-7))
    np.testing.assert_allclose(probe.feature_scores_[0], expected, atol=1e-9)


def test_sub_models_differ_in_features_and_weights(small_alpha158_data):
    X, _, y = small_alpha158_data
    model = DoubleEnsembleRegressor(
        _small_lgb(n_estimators=15, num_leaves=15), num_models=3, random_state=0
    ).fit(X, y)
    sizes = [len(s) for s in model.feature_subsets_]
    assert sizes[0] == X.shape[1] == 158
    assert sizes[1] < 158 and sizes[2] < 158
    assert not np.array_equal(model.feature_subsets_[1], model.feature_subsets_[2])
    for est, cols in zip(model.estimators_, model.feature_subsets_, strict=False):
        assert est.n_features_in_ == len(cols)
        assert np.all(np.diff(cols) > 0)
    w0, w1, w2 = model.sample_weights_
    assert np.all(w0 == 1.0)
    assert w1.std() > 0.1 and w2.std() > 0.1
    assert not np.allclose(w1, w2)
    # informative features (high g) are kept more often than the others
    g = model.feature_scores_[0]
    kept = np.isin(np.arange(158), model.feature_subsets_[1])
    assert g[kept].mean() > g[~kept].mean()
    names = model.feature_names_in_[model.feature_subsets_[1]]
    assert set(names) <= set(X.columns)


# -------------------------------------------------------------------- the API
def test_prediction_is_the_weighted_mean_of_sub_models(data):
    X, y = data
    model = DoubleEnsembleRegressor(
        _small_lgb(), num_models=3, sub_weights=[1.0, 2.0, 5.0], random_state=0
    ).fit(X, y)
    parts = [
        est.predict(X[:, cols])
        for est, cols in zip(model.estimators_, model.feature_subsets_, strict=False)
    ]
    expected = (parts[0] + 2 * parts[1] + 5 * parts[2]) / 8
    np.testing.assert_allclose(model.predict(X), expected, rtol=1e-12)


def test_reproducible_with_random_state(data):
    X, y = data
    base = _small_lgb(colsample_bytree=0.7)
    a = DoubleEnsembleRegressor(base, num_models=3, random_state=3).fit(X, y)
    b = DoubleEnsembleRegressor(base, num_models=3, random_state=3).fit(X, y)
    c = DoubleEnsembleRegressor(base, num_models=3, random_state=4).fit(X, y)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    assert all(
        np.array_equal(s, t)
        for s, t in zip(a.feature_subsets_, b.feature_subsets_, strict=False)
    )
    assert not np.array_equal(a.predict(X), c.predict(X))
    assert base.random_state is None  # the template is never fitted or changed


def test_zero_weight_rows_are_dropped(data):
    X, y = data
    weight = np.ones(len(y))
    weight[::5] = 0.0
    kept = weight > 0
    params = {"num_models": 2, "random_state": 0}
    a = DoubleEnsembleRegressor(_small_lgb(), **params).fit(X, y, sample_weight=weight)
    b = DoubleEnsembleRegressor(_small_lgb(), **params).fit(X[kept], y[kept])
    np.testing.assert_allclose(a.predict(X), b.predict(X))
    with pytest.raises(ValueError, match="zero"):
        DoubleEnsembleRegressor(_small_lgb()).fit(X, y, sample_weight=np.zeros(len(y)))


def test_panel_dates_reach_a_base_learner_with_a_holdout(small_alpha158_data):
    X, _, y = small_alpha158_data
    base = _small_lgb(
        n_estimators=200, validation_fraction=0.2, early_stopping_rounds=5
    )
    model = DoubleEnsembleRegressor(base, num_models=2, random_state=0).fit(X, y)
    dates = np.unique(X.index.get_level_values("datetime"))
    for est in model.estimators_:
        assert est.validation_start_ == pd.Timestamp(
            dates[-int(np.ceil(0.2 * len(dates)))]
        )
        assert est.best_iteration_ < 200


@pytest.mark.parametrize(
    "params, match",
    [
        ({"num_models": 0}, "num_models"),
        ({"sample_ratios": [0.5, 0.5]}, "sample_ratios"),
        ({"sub_weights": [1.0]}, "sub_weights"),
        ({"bins_fs": 2, "sample_ratios": [0.0, 1.0]}, "sample_ratios"),
    ],
)
def test_bad_params(params, match, data):
    X, y = data
    with pytest.raises(ValueError, match=match):
        DoubleEnsembleRegressor(_small_lgb(), **params).fit(X, y)


def test_bad_input(data):
    X, y = data
    model = DoubleEnsembleRegressor(_small_lgb(), num_models=2, random_state=0).fit(
        X, y
    )
    with pytest.raises(ValueError, match="X has 5 features"):
        model.predict(X[:, :5])
    y_nan = y.copy()
    y_nan[3] = np.nan
    with pytest.raises(ValueError, match="Input y contains NaN"):
        DoubleEnsembleRegressor(_small_lgb()).fit(X, y_nan)
