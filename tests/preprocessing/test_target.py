"""Label-side processing: per-date label normalisation, DropnaLabel, and the
cross-sectional target meta-regressor."""

import numpy as np
import pandas as pd
import pytest
import sklearn
from numpy.testing import assert_allclose
from sklearn.base import clone
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.model_selection import GridSearchCV

from skquant.model_selection import DateSplit
from skquant.preprocessing import (
    CrossSectionalTargetRegressor,
    cs_rank_norm,
    cs_zscore_norm,
    drop_missing_label,
)


@pytest.fixture(scope="module")
def data(features, label):
    """Real features and label without missing values."""
    X, y = drop_missing_label(features, label)
    keep = X.notna().all(axis=1).to_numpy()
    return X[keep], y[keep]


def test_cs_rank_norm_matches_pandas(label):
    expected = (label.groupby(level="datetime").rank(pct=True) - 0.5) * 3.46
    pd.testing.assert_series_equal(cs_rank_norm(label), expected, rtol=1e-12)


@pytest.mark.parametrize("method", ["zscore", "robust"])
def test_cs_zscore_norm_matches_pandas(label, method):
    g = label.groupby(level="datetime")
    if method == "zscore":
        expected = (label - g.transform("mean")) / g.transform("std")
    else:
        dev = label - g.transform("median")
        mad = dev.abs().groupby(level="datetime").transform("median")
        expected = np.clip(dev / mad / 1.4826, -3, 3)
    pd.testing.assert_series_equal(
        cs_zscore_norm(label, method=method), expected, rtol=1e-10
    )


def test_label_functions_on_arrays_and_frames(label):
    dates = label.index.get_level_values("datetime")
    assert_allclose(cs_rank_norm(label.to_numpy(), dates=dates), cs_rank_norm(label))
    frame = label.to_frame()
    out = cs_zscore_norm(frame)
    assert isinstance(out, pd.DataFrame) and out.index.equals(frame.index)
    assert_allclose(out["LABEL0"], cs_zscore_norm(label))
    with pytest.raises(ValueError, match="dates are needed"):
        cs_rank_norm(label.to_numpy())
    with pytest.raises(ValueError, match="method"):
        cs_zscore_norm(label, method="minmax")


def test_drop_missing_label(features, label):
    X, y = drop_missing_label(features, label)
    assert len(X) == len(y) == label.notna().sum()
    assert X.index.equals(y.index) and not y.isna().any()
    assert label.isna().sum() == 2 * 30  # the last two dates of each instrument
    # arrays, copies
    X_arr, y_arr = drop_missing_label(features.to_numpy(), label.to_numpy())
    assert_allclose(X_arr, X.to_numpy())
    X_arr[:] = 0
    assert features.abs().sum().sum() > 0
    with pytest.raises(ValueError, match="different indexes"):
        drop_missing_label(features, label.sample(frac=1.0, random_state=0))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        drop_missing_label(features, label.iloc[:-1].to_numpy())


@pytest.mark.parametrize("method", ["rank", "zscore", "robust"])
def test_target_regressor_fits_on_normalised_label(data, method):
    X, y = data
    model = CrossSectionalTargetRegressor(Ridge(alpha=1.0), method=method)
    model.fit(X, y)
    y_norm = cs_rank_norm(y) if method == "rank" else cs_zscore_norm(y, method=method)
    reference = Ridge(alpha=1.0).fit(X, y_norm)
    assert_allclose(model.regressor_.coef_, reference.coef_)
    assert_allclose(model.predict(X), reference.predict(X))
    assert model.n_features_in_ == X.shape[1]
    assert list(model.feature_names_in_) == list(X.columns)


def test_target_regressor_arrays_need_dates(data):
    X, y = data
    dates = X.index.get_level_values("datetime")
    on_panel = CrossSectionalTargetRegressor().fit(X, y)
    on_arrays = CrossSectionalTargetRegressor().fit(X.to_numpy(), y.to_numpy(), dates)
    assert_allclose(on_arrays.regressor_.coef_, on_panel.regressor_.coef_)
    # the dates can also come from y's panel index
    from_y = CrossSectionalTargetRegressor().fit(X.to_numpy(), y)
    assert_allclose(from_y.regressor_.coef_, on_panel.regressor_.coef_)
    with pytest.raises(ValueError, match="dates are needed"):
        CrossSectionalTargetRegressor().fit(X.to_numpy(), y.to_numpy())


def test_target_regressor_errors(data, label, features):
    X, y = data
    with pytest.raises(ValueError, match="requires y to be passed"):
        CrossSectionalTargetRegressor().fit(X, None)
    with pytest.raises(ValueError, match="NaN"):
        CrossSectionalTargetRegressor().fit(features.fillna(0), label)
    with pytest.raises(ValueError, match="different indexes"):
        CrossSectionalTargetRegressor().fit(X, y.sample(frac=1.0, random_state=0))
    one_per_date = X.groupby(level="datetime").head(1)
    with pytest.raises(ValueError, match="not finite"):
        CrossSectionalTargetRegressor(method="zscore").fit(
            one_per_date, y.reindex(one_per_date.index)
        )


def test_target_regressor_sample_weight_passthrough(data):
    X, y = data
    weight = np.linspace(0.5, 2.0, len(y))
    model = CrossSectionalTargetRegressor(Ridge()).fit(X, y, sample_weight=weight)
    reference = Ridge().fit(X, cs_rank_norm(y), sample_weight=weight)
    assert_allclose(model.regressor_.coef_, reference.coef_)


def test_target_regressor_metadata_routing(data):
    X, y = data
    dates = X.index.get_level_values("datetime").to_numpy()
    weight = np.linspace(0.5, 2.0, len(y))
    with sklearn.config_context(enable_metadata_routing=True):
        model = CrossSectionalTargetRegressor(
            Ridge().set_fit_request(sample_weight=True)
        ).set_fit_request(dates=True)
        model.fit(X.to_numpy(), y.to_numpy(), dates=dates, sample_weight=weight)
        reference = Ridge().fit(X, cs_rank_norm(y), sample_weight=weight)
        assert_allclose(model.regressor_.coef_, reference.coef_)
        # inside a search on arrays: groups -> DateSplit, dates -> the estimator
        model.set_score_request(sample_weight=False)
        search = GridSearchCV(
            model, {"regressor__alpha": [0.1, 10.0]}, cv=DateSplit(n_splits=3)
        )
        search.fit(
            X.to_numpy(), y.to_numpy(), groups=dates, dates=dates, sample_weight=weight
        )
        assert search.best_estimator_.regressor_.alpha in (0.1, 10.0)


def test_target_regressor_default_is_linear_regression(data):
    X, y = data
    model = CrossSectionalTargetRegressor().fit(X, y)
    assert isinstance(model.regressor_, LinearRegression)
    assert model.regressor is None  # parameter untouched
    assert clone(model).get_params()["method"] == "rank"
