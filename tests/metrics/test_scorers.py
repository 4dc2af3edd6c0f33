"""IC scorers inside cross_val_score / GridSearchCV on a real panel."""

import numpy as np
import pytest
import sklearn
from numpy.testing import assert_allclose
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, cross_val_score, cross_validate

from skquant.metrics import (
    ic_scorer,
    information_coefficient,
    make_ic_scorer,
    rank_ic_scorer,
    rank_information_coefficient,
)
from skquant.model_selection import DateSplit
from skquant.preprocessing import drop_missing_label


@pytest.fixture(scope="module")
def data(features, label):
    X, y = drop_missing_label(features, label)
    keep = X.notna().all(axis=1).to_numpy()
    return X[keep], y[keep]


def test_cross_val_score_equals_manual_mean_daily_ic(data):
    X, y = data
    cv = DateSplit(n_splits=4)
    scores = cross_val_score(Ridge(), X, y, cv=cv, scoring=ic_scorer)
    manual = []
    for train, test in cv.split(X):
        model = Ridge().fit(X.iloc[train], y.iloc[train])
        pred = model.predict(X.iloc[test])
        manual.append(information_coefficient(y.iloc[test], pred).mean())
    assert_allclose(scores, manual)
    # greater is better: the sign is kept
    assert ic_scorer._sign == 1


def test_grid_search_with_date_split(data):
    X, y = data
    search = GridSearchCV(
        Ridge(), {"alpha": [0.01, 1.0, 100.0]}, cv=DateSplit(), scoring=ic_scorer
    ).fit(X, y)
    best = search.best_params_["alpha"]
    manual = []
    for train, test in DateSplit().split(X):
        pred = Ridge(alpha=best).fit(X.iloc[train], y.iloc[train]).predict(X.iloc[test])
        manual.append(information_coefficient(y.iloc[test], pred).mean())
    assert_allclose(search.best_score_, np.mean(manual))
    assert search.best_score_ == search.cv_results_["mean_test_score"].max()


def test_rank_ic_scorer_in_cross_val_score(data):
    X, y = data
    scores = cross_val_score(
        Ridge(), X, y, cv=DateSplit(n_splits=3), scoring=rank_ic_scorer
    )
    manual = []
    for train, test in DateSplit(n_splits=3).split(X):
        pred = Ridge().fit(X.iloc[train], y.iloc[train]).predict(X.iloc[test])
        manual.append(rank_information_coefficient(y.iloc[test], pred).mean())
    assert_allclose(scores, manual)


def test_dates_from_x_or_y_index(data):
    X, y = data
    model = Ridge().fit(X, y)
    expected = information_coefficient(y, model.predict(X)).mean()
    assert_allclose(ic_scorer(model, X, y.to_numpy()), expected)  # from X
    on_arrays = Ridge().fit(X.to_numpy(), y.to_numpy())
    assert_allclose(ic_scorer(on_arrays, X.to_numpy(), y), expected)  # from y
    dates = X.index.get_level_values("datetime")
    assert_allclose(
        ic_scorer(on_arrays, X.to_numpy(), y.to_numpy(), dates=dates), expected
    )
    with pytest.raises(ValueError, match="dates are needed"):
        ic_scorer(on_arrays, X.to_numpy(), y.to_numpy())


def test_multimetric_cross_validate(data):
    X, y = data
    result = cross_validate(
        Ridge(),
        X,
        y,
        cv=DateSplit(n_splits=3),
        scoring={"ic": ic_scorer, "rank_ic": rank_ic_scorer},
    )
    single = cross_val_score(Ridge(), X, y, cv=DateSplit(n_splits=3), scoring=ic_scorer)
    assert_allclose(result["test_ic"], single)
    assert np.isfinite(result["test_rank_ic"]).all()


def test_arrays_with_metadata_routing(data):
    X, y = data
    dates = X.index.get_level_values("datetime").to_numpy()
    expected = GridSearchCV(
        Ridge(), {"alpha": [0.1, 10.0]}, cv=DateSplit(n_splits=3), scoring=ic_scorer
    ).fit(X, y)
    with sklearn.config_context(enable_metadata_routing=True):
        scorer = make_ic_scorer().set_score_request(dates=True)
        search = GridSearchCV(
            Ridge(), {"alpha": [0.1, 10.0]}, cv=DateSplit(n_splits=3), scoring=scorer
        ).fit(X.to_numpy(), y.to_numpy(), groups=dates, dates=dates)
    assert_allclose(
        search.cv_results_["mean_test_score"], expected.cv_results_["mean_test_score"]
    )


def test_repr_and_bad_method():
    assert repr(ic_scorer) == "make_ic_scorer(method='pearson')"
    assert repr(rank_ic_scorer) == "make_ic_scorer(method='spearman')"
    with pytest.raises(ValueError, match="method"):
        make_ic_scorer("kendall")
