"""Time-ordered holdout and early stopping of LightGBMRegressor/XGBoostRegressor."""

from __future__ import annotations

import warnings

import lightgbm
import numpy as np
import pandas as pd
import pytest
import xgboost

from skquant.gbdt import LightGBMRegressor, XGBoostRegressor
from skquant.gbdt._early_stopping import DailyIC
from skquant.metrics import information_coefficient, rank_information_coefficient
from skquant.model_selection._holdout import time_holdout

ESTIMATORS = {
    "lightgbm": (LightGBMRegressor, lightgbm.LGBMRegressor),
    "xgboost": (XGBoostRegressor, xgboost.XGBRegressor),
}
SMALL = {
    "lightgbm": {"n_estimators": 40, "num_leaves": 7, "n_jobs": 1, "random_state": 0},
    "xgboost": {"n_estimators": 40, "max_depth": 3, "n_jobs": 1, "random_state": 0},
}


def _make(name, **params):
    return ESTIMATORS[name][0](**{**SMALL[name], **params})


# --------------------------------------------------------------- time_holdout
def test_time_holdout_last_dates_and_gap():
    dates = np.repeat(np.arange(20), 3)[::-1]  # rows in any order
    split = time_holdout(len(dates), dates, validation_fraction=0.2, gap=2)
    assert sorted(set(dates[split.validation])) == [16, 17, 18, 19]
    assert sorted(set(dates[split.train])) == list(range(14))
    assert (split.train_end, split.validation_start) == (13, 16)
    assert np.array_equal(split.validation_dates, dates[split.validation])


def test_time_holdout_validation_start_with_timestamps():
    days = pd.bdate_range("2017-01-02", periods=10)
    dates = np.repeat(days.to_numpy(), 2)
    split = time_holdout(len(dates), dates, validation_start="2017-01-11", gap=1)
    assert split.validation_start == pd.Timestamp("2017-01-11")
    assert split.train_end == pd.Timestamp("2017-01-09")  # 2017-01-10 purged
    assert dates[split.train].max() < dates[split.validation].min()


def test_time_holdout_without_dates_uses_last_rows():
    split = time_holdout(10, None, validation_fraction=0.3, gap=2)
    assert split.validation.tolist() == [7, 8, 9]
    assert split.train.tolist() == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"validation_fraction": 0.9, "gap": 2}, "leaves no training data"),
        ({"validation_start": 100, "gap": 0}, "after the last date"),
    ],
)
def test_time_holdout_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        time_holdout(20, np.repeat(np.arange(10), 2), **kwargs)


def test_missing_dates_are_rejected():
    dates = np.array(["2017-01-02", None, "2017-01-04"], dtype="datetime64[ns]")
    with pytest.raises(ValueError, match="missing values"):
        time_holdout(3, dates, validation_fraction=0.3, gap=0)


def test_validation_start_needs_dates():
    with pytest.raises(ValueError, match="validation_start needs dates"):
        time_holdout(10, None, validation_start=5)


# -------------------------------------------------------------------- DailyIC
@pytest.mark.parametrize("method", ["ic", "rank_ic"])
def test_daily_ic_matches_skquant_metrics(method):
    rng = np.random.default_rng(0)
    dates = np.repeat(np.arange(30), 20)
    y = rng.normal(size=dates.size)
    pred = np.round(y + rng.normal(size=dates.size), 1)  # with ties
    pred[dates == 3] = 1.0  # a constant day is skipped, as in the metrics
    reference = (
        information_coefficient if method == "ic" else rank_information_coefficient
    )(y, pred, dates=dates)
    assert DailyIC(method).add(y, dates)(y, pred) == pytest.approx(
        reference.mean(), abs=1e-12
    )


def test_daily_ic_constant_prediction_is_zero():
    metric = DailyIC("ic").add([1.0, 2.0, 3.0], [0, 0, 0])
    assert metric([1.0, 2.0, 3.0], [5.0, 5.0, 5.0]) == 0.0


# ------------------------------------------------------------ no time leakage
def _capture_fit(monkeypatch, parent):
    seen = {}
    original = parent.fit

    def spy(self, X, y, *args, **kwargs):
        seen["X"] = X
        seen["eval"] = kwargs.get("eval_X") or [p[0] for p in kwargs["eval_set"]]
        return original(self, X, y, *args, **kwargs)

    monkeypatch.setattr(parent, "fit", spy)
    return seen


@pytest.mark.parametrize("name", ESTIMATORS)
def test_booster_trains_only_before_the_validation_dates(
    name, monkeypatch, small_alpha158_data
):
    X, _, y = small_alpha158_data
    seen = _capture_fit(monkeypatch, ESTIMATORS[name][1])
    model = _make(name, validation_fraction=0.25, validation_gap=2).fit(X, y)

    all_dates = np.unique(X.index.get_level_values("datetime"))
    train_dates = np.unique(seen["X"].index.get_level_values("datetime"))
    (valid_X,) = seen["eval"]
    valid_dates = np.unique(valid_X.index.get_level_values("datetime"))
    n_valid = int(np.ceil(0.25 * len(all_dates)))
    # validation = exactly the last 25% of the dates, training = everything
    # strictly before them minus a purge of 2 dates
    assert np.array_equal(valid_dates, all_dates[-n_valid:])
    assert np.array_equal(train_dates, all_dates[: -n_valid - 2])
    assert train_dates.max() < valid_dates.min()
    assert model.train_end_ == pd.Timestamp(train_dates[-1])
    assert model.validation_start_ == pd.Timestamp(valid_dates[0])


@pytest.mark.parametrize("name", ESTIMATORS)
def test_holdout_with_array_and_dates_fit_param(name, monkeypatch):
    rng = np.random.default_rng(0)
    dates = np.repeat(np.arange(50), 8)[::-1].copy()  # newest rows first
    X = rng.normal(size=(dates.size, 4))
    y = X[:, 0] + rng.normal(size=dates.size)
    seen = _capture_fit(monkeypatch, ESTIMATORS[name][1])
    model = _make(name, validation_fraction=0.2).fit(X, y, groups=dates)
    (valid_X,) = seen["eval"]
    # the rows handed to the library are those of the right dates
    assert np.array_equal(seen["X"], X[dates < 38])
    assert np.array_equal(valid_X, X[dates >= 40])
    assert (model.train_end_, model.validation_start_) == (37, 40)


@pytest.mark.parametrize("name", ESTIMATORS)
@pytest.mark.parametrize("metric", ["ic", "rank_ic"])
def test_ic_early_stopping_keeps_best_round(name, metric, small_alpha158_data):
    X, _, y = small_alpha158_data
    model = _make(
        name,
        n_estimators=60,
        learning_rate=0.1,
        validation_fraction=0.3,
        early_stopping_rounds=15,
        early_stopping_metric=metric,
    ).fit(X, y)
    curve = np.asarray(next(iter(model.evals_result_.values()))[metric])
    assert model.best_iteration_ == np.argmax(curve) + 1
    assert len(curve) <= model.best_iteration_ + 15
    # the metric is the daily IC of the validation predictions at that round
    valid = X.index.get_level_values("datetime") >= model.validation_start_
    kwargs = (
        {"num_iteration": model.best_iteration_}
        if name == "lightgbm"
        else {"iteration_range": (0, model.best_iteration_)}
    )
    pred = model.predict(X[valid], **kwargs)
    scorer = information_coefficient if metric == "ic" else rank_information_coefficient
    assert scorer(y[valid], pred).mean() == pytest.approx(curve.max(), abs=1e-6)


@pytest.mark.parametrize("name", ESTIMATORS)
def test_loss_early_stopping_and_best_iteration(name):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(600, 5))
    y = X[:, 0] + 0.3 * rng.normal(size=600)
    model = _make(
        name,
        n_estimators=400,
        learning_rate=0.3,
        validation_fraction=0.3,
        early_stopping_rounds=10,
    ).fit(X, y)
    assert model.best_iteration_ < 400
    (curve,) = next(iter(model.evals_result_.values())).values()
    # stopped 10 rounds after the best one (LightGBM records the last round
    # before raising its stop, XGBoost after)
    assert model.best_iteration_ + 9 <= len(curve) <= model.best_iteration_ + 10
    if name == "lightgbm":
        # LightGBM's scikit-learn API keeps only the trees up to the best one
        assert model.booster_.current_iteration() == model.best_iteration_
        full = model.predict(X, num_iteration=-1)
    else:
        assert model.get_booster().num_boosted_rounds() == model.best_iteration_ + 10
        full = model.predict(X, iteration_range=(0, model.best_iteration_))
    # predict uses the best iteration, not all the trees
    np.testing.assert_allclose(model.predict(X), full)
    # without a validation set: every round, no early stopping
    plain = _make(name, n_estimators=25).fit(X, y)
    assert plain.best_iteration_ == 25
    assert not hasattr(plain, "validation_start_")


@pytest.mark.parametrize("name", ESTIMATORS)
def test_explicit_eval_set_is_accepted_quietly(name, small_alpha158_data):
    X, _, y = small_alpha158_data
    dates = X.index.get_level_values("datetime")
    train, valid = dates < "2017-06-01", dates >= "2017-06-05"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = _make(
            name, n_estimators=200, early_stopping_rounds=5, early_stopping_metric="ic"
        ).fit(X[train], y[train], eval_set=[(X[valid], y[valid])])
    assert model.best_iteration_ < 200
    with pytest.raises(ValueError, match="not both"):
        _make(name, validation_fraction=0.2).fit(
            X[train], y[train], eval_set=[(X[valid], y[valid])]
        )
    with pytest.raises(ValueError, match="no .datetime, instrument. index"):
        _make(name, early_stopping_metric="ic").fit(
            X[train], y[train], eval_set=[(X[valid].to_numpy(), y[valid])]
        )


@pytest.mark.parametrize("name", ESTIMATORS)
@pytest.mark.parametrize(
    "params, match",
    [
        ({"validation_fraction": 1.5}, "validation_fraction must be"),
        ({"validation_fraction": 0.2, "validation_start": "2017-01-01"}, "not both"),
        ({"validation_gap": -1}, "validation_gap must be"),
        ({"early_stopping_rounds": 0}, "early_stopping_rounds must be"),
        ({"early_stopping_metric": "auc"}, "early_stopping_metric must be"),
    ],
)
def test_bad_validation_params(name, params, match):
    with pytest.raises(ValueError, match=match):
        _make(name, **params).fit(np.zeros((20, 2)), np.arange(20.0))
