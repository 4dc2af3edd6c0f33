"""Per-date processors against direct pandas formulas on real data."""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from sklearn.base import clone
from sklearn.pipeline import make_pipeline
from sklearn.utils import get_tags
from sklearn.utils._param_validation import InvalidParameterError

from skquant.preprocessing import CSFillna, CSRankNorm, CSZScoreNorm, ProcessInf
from skquant.preprocessing._cross_sectional import _pct_rank_rows

CS_TRANSFORMERS = [
    CSZScoreNorm(),
    CSZScoreNorm(method="robust"),
    CSRankNorm(),
    CSFillna(),
    ProcessInf(),
]


@pytest.fixture(scope="module")
def X(features):
    """Real features with NaN (from the look-back), injected infs and ties."""
    X = features.copy()
    rng = np.random.default_rng(0)
    rows = rng.choice(np.arange(30 * 25, len(X)), 40, replace=False)  # past warm-up
    X.iloc[rows[:20], 0] = np.inf
    X.iloc[rows[20:], 1] = -np.inf
    X["ret1_coarse"] = X["ret1"].round(2)  # many ties within a date
    return X


def _by_date(frame):
    return frame.groupby(level="datetime")


def _finite(frame):
    return frame.replace([np.inf, -np.inf], np.nan)


def test_cs_zscore_matches_pandas(X):
    X = _finite(X)
    g = _by_date(X)
    expected = (X - g.transform("mean")) / g.transform("std")
    out = CSZScoreNorm().fit_transform(X)
    pd.testing.assert_frame_equal(out, expected, check_exact=False, rtol=1e-10)


def test_cs_robust_zscore_matches_qlib_formula(X):
    X = _finite(X).iloc[: 30 * 40]  # 40 dates, a per-date reference loop

    def robust(day):
        dev = day - day.median()
        return np.clip(dev / dev.abs().median() / 1.4826, -3, 3)

    expected = pd.concat([robust(day) for _, day in _by_date(X)])
    out = CSZScoreNorm(method="robust").fit_transform(X)
    pd.testing.assert_frame_equal(out, expected, check_exact=False, rtol=1e-10)


def test_cs_rank_matches_pandas(X):
    expected = (_by_date(X).rank(pct=True) - 0.5) * 3.46
    out = CSRankNorm().fit_transform(X)
    pd.testing.assert_frame_equal(out, expected, check_exact=False, rtol=1e-12)
    coarse = X["ret1_coarse"].dropna()
    assert coarse.groupby(level="datetime").agg(lambda s: s.duplicated().any()).all()


@pytest.mark.parametrize("seed", range(6))
def test_rank_kernel_exact_on_hard_values(seed):
    # ties, +-0.0, +-inf, NaN, and distinct values closer than the key truncation
    rng = np.random.default_rng(seed)
    block = rng.choice(
        [1.0, 1.0 + 2e-16, 1.0 + 4e-16, -0.0, 0.0, np.inf, -np.inf, np.nan, 2.5, -3.0],
        size=(25, 30),
    )
    block = np.column_stack([block, np.full(25, np.nan)])  # the row separator
    expected = pd.DataFrame(block.T).rank(pct=True).to_numpy().T
    assert_allclose(
        _pct_rank_rows(block).reshape(block.shape), expected, rtol=0, atol=1e-15
    )


def test_cs_fillna_matches_pandas(X):
    X = _finite(X)
    expected = _by_date(X).transform(lambda col: col.fillna(col.mean()))
    out = CSFillna().fit_transform(X)
    pd.testing.assert_frame_equal(out, expected, check_exact=False, rtol=1e-10)
    all_missing = _by_date(X.isna()).transform("all")  # whole date missing
    pd.testing.assert_frame_equal(out.isna(), all_missing)


def test_process_inf_matches_qlib_formula(X):
    def per_date(day):
        day = day.copy()
        for col in day.columns:
            finite_mean = day[col][~np.isinf(day[col])].mean()
            day[col] = day[col].replace([np.inf, -np.inf], finite_mean)
        return day

    expected = pd.concat([per_date(day) for _, day in _by_date(X)])
    out = ProcessInf().fit_transform(X)
    pd.testing.assert_frame_equal(out, expected, check_exact=False, rtol=1e-12)
    assert not np.isinf(out.to_numpy()).any()
    assert out.isna().sum().sum() == X.isna().sum().sum()  # NaN left alone


@pytest.mark.parametrize("est", CS_TRANSFORMERS, ids=repr)
def test_input_not_mutated_and_index_kept(est, X):
    before = X.copy()
    out = clone(est).fit_transform(X)
    pd.testing.assert_frame_equal(X, before)
    assert out.index.equals(X.index) and list(out.columns) == list(X.columns)
    assert not np.shares_memory(out.to_numpy(), X.to_numpy())


@pytest.mark.parametrize("est", CS_TRANSFORMERS, ids=repr)
def test_unsorted_rows_keep_their_order(est, X):
    shuffled = X.sample(frac=1.0, random_state=0)
    out = clone(est).fit_transform(shuffled)
    assert out.index.equals(shuffled.index)
    expected = clone(est).fit_transform(X).reindex(shuffled.index)
    pd.testing.assert_frame_equal(out, expected)


@pytest.mark.parametrize("est", CS_TRANSFORMERS, ids=repr)
def test_array_and_series_input_give_clear_errors(est, X):
    with pytest.raises(ValueError, match=r"DataFrame indexed by \(datetime, instr"):
        clone(est).fit_transform(X.to_numpy())
    with pytest.raises(ValueError, match="got a Series"):
        clone(est).fit_transform(X["ret1"])
    with pytest.raises(ValueError, match="MultiIndex"):
        clone(est).fit_transform(X.reset_index(drop=True))
    with pytest.raises(ValueError, match="numeric"):
        clone(est).fit_transform(X.assign(sector="tech"))
    with pytest.raises(ValueError, match="duplicated"):
        clone(est).fit_transform(pd.concat([X.iloc[:5], X.iloc[:5]]))


def test_stateless_transform_without_fit_and_column_checks(X):
    est = CSRankNorm()
    assert get_tags(est).requires_fit is False
    assert get_tags(est).input_tags.allow_nan is True
    pd.testing.assert_frame_equal(est.transform(X), CSRankNorm().fit_transform(X))
    assert not hasattr(est, "n_features_in_")  # transform learned nothing
    est.fit(X)
    assert list(est.get_feature_names_out()) == list(X.columns)
    with pytest.raises(ValueError, match="feature names should match"):
        est.transform(X.iloc[:, :3])


def test_invalid_method_raises_even_without_fit(X):
    with pytest.raises(InvalidParameterError, match="method"):
        CSZScoreNorm(method="minmax").transform(X)


def test_pipeline_and_set_output(X):
    X = X.loc["2016-03-01":]  # past the look-back warm-up: no all-NaN date
    pipe = make_pipeline(ProcessInf(), CSFillna(), CSZScoreNorm())
    out = pipe.fit_transform(X)
    assert out.index.equals(X.index) and not out.isna().to_numpy().any()
    pandas_out = make_pipeline(ProcessInf(), CSRankNorm()).set_output(
        transform="pandas"
    )
    out = pandas_out.fit_transform(X)
    assert out.index.equals(X.index)
    assert list(out.columns) == list(X.columns)
