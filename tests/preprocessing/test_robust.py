"""RobustZScoreNorm: Qlib's formula, leak-free fitting, sklearn compatibility."""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import check_estimator

from skquant.preprocessing import RobustZScoreNorm


def _qlib_robust(X_fit, X_apply, clip=3.0):
    values = np.asarray(X_fit, dtype=float)
    center = np.nanmedian(values, axis=0)
    scale = (np.nanmedian(np.abs(values - center), axis=0) + 1e-12) * 1.4826
    out = (np.asarray(X_apply, dtype=float) - center) / scale
    return out if clip is None else np.clip(out, -clip, clip)


def test_matches_qlib_formula_on_real_features(features):
    est = RobustZScoreNorm().fit(features)
    assert_allclose(est.transform(features), _qlib_robust(features, features))
    assert_allclose(est.center_, features.median().to_numpy())
    # NaN passes through, the rest is clipped to +-3
    out = est.transform(features)
    assert np.array_equal(np.isnan(out), features.isna().to_numpy())
    assert np.nanmax(np.abs(out)) == 3.0


def test_no_clip_and_custom_clip(features):
    raw = RobustZScoreNorm(clip_outlier=False).fit_transform(features)
    assert_allclose(raw, _qlib_robust(features, features, clip=None))
    assert np.nanmax(np.abs(raw)) > 3.0
    assert np.nanmax(np.abs(RobustZScoreNorm(clip=1.5).fit_transform(features))) == 1.5


def test_fit_on_train_rows_only_is_leak_free(features):
    dates = features.index.get_level_values("datetime")
    train, test = features[dates < "2016-07-01"], features[dates >= "2016-07-01"]
    est = RobustZScoreNorm().fit(train)
    out = est.transform(test)
    assert_allclose(out, _qlib_robust(train, test))
    # the test rows' own statistics play no part
    assert not np.allclose(np.nan_to_num(out), np.nan_to_num(_qlib_robust(test, test)))
    # and changing the test rows does not move the learned statistics
    center = est.center_.copy()
    est.transform(test * 10)
    assert_allclose(est.center_, center)


def test_input_not_mutated_and_pandas_output(features):
    before = features.copy()
    out = RobustZScoreNorm().set_output(transform="pandas").fit_transform(features)
    pd.testing.assert_frame_equal(features, before)
    assert isinstance(out, pd.DataFrame)
    assert out.index.equals(features.index)
    assert list(out.columns) == list(features.columns)


def test_constant_and_all_nan_columns():
    X = np.array([[1.0, np.nan, 5.0], [1.0, np.nan, 6.0], [1.0, np.nan, 7.0]])
    out = RobustZScoreNorm().fit_transform(X)
    assert_allclose(out[:, 0], 0.0)  # constant column maps to 0, as in Qlib
    assert np.isnan(out[:, 1]).all()
    assert_allclose(out[:, 2], [-1 / 1.4826, 0.0, 1 / 1.4826], rtol=1e-9)


def test_float32_preserved_and_inf_rejected():
    X = np.arange(12, dtype=np.float32).reshape(4, 3)
    assert RobustZScoreNorm().fit_transform(X).dtype == np.float32
    with pytest.raises(ValueError, match="infinity"):
        RobustZScoreNorm().fit(np.array([[1.0], [np.inf]]))


def test_qlib_nn_feature_pipeline(features):
    # Qlib's NN infer processors: RobustZScoreNorm(clip_outlier) + Fillna(0)
    pipe = make_pipeline(
        RobustZScoreNorm(), SimpleImputer(strategy="constant", fill_value=0.0)
    ).set_output(transform="pandas")
    out = pipe.fit_transform(features)
    expected = np.nan_to_num(_qlib_robust(features, features), nan=0.0)
    assert_allclose(out.to_numpy(), expected)
    assert out.index.equals(features.index)


@pytest.mark.filterwarnings("ignore:Skipping check check_array_api_input")
@pytest.mark.parametrize(
    "est", [RobustZScoreNorm(), RobustZScoreNorm(clip_outlier=False)], ids=repr
)
def test_check_estimator(est):
    check_estimator(est)
