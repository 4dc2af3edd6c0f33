"""DateSplit on a real panel: folds by date, purge gap, arrays + groups."""

import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.utils._param_validation import InvalidParameterError

from skquant.model_selection import DateSplit


@pytest.fixture(scope="module")
def X(features):
    return features.fillna(0.0)


def _date_positions(X):
    dates = X.index.get_level_values("datetime")
    uniques = np.sort(dates.unique())
    return dates, np.searchsorted(uniques, dates)


SPLITTERS = [
    DateSplit(),
    DateSplit(n_splits=3, gap=5),
    DateSplit(n_splits=4, test_size=20, max_train_size=60),
    DateSplit(n_splits=5, mode="kfold"),
    DateSplit(n_splits=4, gap=3, embargo=10, mode="kfold"),
]


@pytest.mark.parametrize("cv", SPLITTERS, ids=lambda cv: " ".join(repr(cv).split()))
def test_no_date_in_two_folds_and_purge(cv, X):
    dates, pos = _date_positions(X)
    seen_test = set()
    folds = list(cv.split(X))
    assert len(folds) == cv.get_n_splits() == cv.n_splits
    for train, test in folds:
        train_dates, test_dates = set(dates[train]), set(dates[test])
        assert train_dates and test_dates
        assert not train_dates & test_dates
        assert not seen_test & test_dates  # test blocks never overlap
        seen_test |= test_dates
        # every row of a date goes to the same side
        assert np.array_equal(train, np.flatnonzero(np.isin(pos, pos[train])))
        assert np.array_equal(test, np.flatnonzero(np.isin(pos, pos[test])))
        lo, hi = pos[test].min(), pos[test].max()
        assert hi - lo + 1 == len(test_dates)  # contiguous block of dates
        before, after = pos[train][pos[train] < lo], pos[train][pos[train] > hi]
        if len(before):
            assert lo - before.max() > cv.gap  # purge >= label horizon
        if cv.mode == "expanding":
            assert len(after) == 0  # trains on the past only
        elif len(after):
            assert after.min() - hi > cv.gap + cv.embargo


def test_expanding_matches_time_series_split_in_dates(X):
    dates, pos = _date_positions(X)
    n_dates = pos.max() + 1
    test_size = n_dates // 6
    for k, (train, test) in enumerate(DateSplit(n_splits=5, gap=2).split(X)):
        start = n_dates - 5 * test_size + k * test_size
        assert np.array_equal(np.unique(pos[test]), np.arange(start, start + test_size))
        assert np.array_equal(np.unique(pos[train]), np.arange(0, start - 2))


def test_max_train_size_is_a_rolling_window(X):
    _, pos = _date_positions(X)
    for train, test in DateSplit(n_splits=3, test_size=10, max_train_size=30).split(X):
        assert len(np.unique(pos[train])) == 30
        assert pos[test].min() - pos[train].max() == 3


def test_kfold_uses_all_dates_for_testing(X):
    _, pos = _date_positions(X)
    tested = np.concatenate([test for _, test in DateSplit(mode="kfold").split(X)])
    assert np.array_equal(np.sort(tested), np.arange(len(X)))


def test_arrays_with_groups_match_panel(X):
    dates = X.index.get_level_values("datetime")
    for cv in SPLITTERS:
        from_panel = list(cv.split(X))
        from_groups = list(cv.split(X.to_numpy(), groups=dates.to_numpy()))
        for (a, b), (c, d) in zip(from_panel, from_groups, strict=True):
            assert np.array_equal(a, c) and np.array_equal(b, d)
    with pytest.raises(ValueError, match="dates are needed"):
        next(DateSplit().split(X.to_numpy()))


def test_unsorted_panel_gives_same_dates(X):
    shuffled = X.sample(frac=1.0, random_state=0)
    for (tr, te), (tr2, te2) in zip(
        DateSplit().split(X), DateSplit().split(shuffled), strict=True
    ):
        assert X.index[tr].sort_values().equals(shuffled.index[tr2].sort_values())
        assert X.index[te].sort_values().equals(shuffled.index[te2].sort_values())


def test_too_few_dates_raise(X):
    few = X.loc[:"2016-01-12"]  # 7 dates
    with pytest.raises(ValueError, match="Too few dates"):
        next(DateSplit(n_splits=5).split(few))
    with pytest.raises(ValueError, match="Too few dates"):
        next(DateSplit(n_splits=10, mode="kfold").split(few))
    with pytest.raises(ValueError, match="Too few dates"):
        next(DateSplit(n_splits=2, gap=3, embargo=3, mode="kfold").split(few))
    # just enough: 3 test blocks of 1 date after 1 train date and a 2-date gap
    six_dates = X.loc[:"2016-01-11"]
    assert len(list(DateSplit(n_splits=3, test_size=1).split(six_dates))) == 3


def test_invalid_parameters():
    with pytest.raises(InvalidParameterError, match="n_splits"):
        DateSplit(n_splits=1)
    with pytest.raises(InvalidParameterError, match="gap"):
        DateSplit(gap=-1)
    with pytest.raises(InvalidParameterError, match="mode"):
        DateSplit(mode="walk")
    with pytest.raises(ValueError, match="embargo only applies"):
        DateSplit(embargo=3)
    with pytest.raises(ValueError, match="only apply to mode='expanding'"):
        DateSplit(mode="kfold", test_size=10)


def test_repr():
    assert " ".join(repr(DateSplit()).split()) == (
        "DateSplit(embargo=0, gap=2, max_train_size=None, mode='expanding', "
        "n_splits=5, test_size=None)"
    )


def test_grid_search_on_panel_and_on_arrays_with_groups(X, label):
    y = label.fillna(0.0)
    dates = X.index.get_level_values("datetime").to_numpy()
    grid = {"alpha": [0.1, 10.0]}
    on_panel = GridSearchCV(Ridge(), grid, cv=DateSplit(n_splits=3)).fit(X, y)
    on_arrays = GridSearchCV(Ridge(), grid, cv=DateSplit(n_splits=3)).fit(
        X.to_numpy(), y.to_numpy(), groups=dates
    )
    assert np.allclose(
        on_panel.cv_results_["mean_test_score"],
        on_arrays.cv_results_["mean_test_score"],
    )
    with sklearn.config_context(enable_metadata_routing=True):  # groups requested
        routed = cross_val_score(
            Ridge(),
            X.to_numpy(),
            y.to_numpy(),
            cv=DateSplit(n_splits=3),
            params={"groups": dates},
        )
    plain = cross_val_score(Ridge(), X, y, cv=DateSplit(n_splits=3))
    assert np.allclose(routed, plain)


def test_works_with_any_sortable_dates():
    dates = pd.Series([f"2020-01-0{d}" for d in range(1, 10)]).repeat(3).to_numpy()
    folds = list(DateSplit(n_splits=2, gap=1).split(np.zeros((27, 1)), groups=dates))
    assert [sorted(set(dates[te])) for _, te in folds] == [
        ["2020-01-04", "2020-01-05", "2020-01-06"],
        ["2020-01-07", "2020-01-08", "2020-01-09"],
    ]
