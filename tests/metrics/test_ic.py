"""Daily IC / Rank IC and Qlib's summary against a slow per-day scipy loop."""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy import stats

from skquant.metrics import (
    ic_summary,
    information_coefficient,
    rank_information_coefficient,
)
from skquant.metrics._ic import group_average_rank


@pytest.fixture(scope="module")
def signal(features, label):
    """A real prediction (5-day reversal) and the real label, NaN included."""
    return label, (-features["ret5"]).rename("score")


def _slow_daily(y_true, y_pred, corr):
    frame = pd.DataFrame({"t": y_true, "p": y_pred}).dropna()
    out = {}
    for date, day in frame.groupby(level="datetime"):
        if len(day) < 2 or day["t"].nunique() < 2 or day["p"].nunique() < 2:
            out[date] = np.nan
        else:
            out[date] = corr(day["p"], day["t"])[0]
    return pd.Series(out)


def test_ic_matches_scipy_pearson_loop(signal):
    y_true, y_pred = signal
    ic = information_coefficient(y_true, y_pred)
    slow = _slow_daily(y_true, y_pred, stats.pearsonr)
    assert ic.name == "IC" and ic.index.name == "datetime"
    assert ic.index.is_monotonic_increasing
    assert_allclose(ic.reindex(slow.index), slow, rtol=1e-10, atol=1e-12)
    # dates where no row is valid (prediction warm-up) are NaN, and only those
    assert ic.drop(slow.index).isna().all()
    assert ic.notna().sum() > 200


def test_rank_ic_matches_scipy_spearman_loop(signal):
    y_true, y_pred = signal
    ric = rank_information_coefficient(y_true, y_pred.round(3))  # with ties
    slow = _slow_daily(y_true, y_pred.round(3), stats.spearmanr)
    assert ric.name == "Rank IC"
    assert_allclose(ric.reindex(slow.index), slow, rtol=1e-10, atol=1e-12)


def test_summary_is_qlib_formula(signal):
    y_true, y_pred = signal
    summary = ic_summary(y_true, y_pred)
    ic = _slow_daily(y_true, y_pred, stats.pearsonr)
    ric = _slow_daily(y_true, y_pred, stats.spearmanr)
    assert list(summary.index) == ["IC", "ICIR", "Rank IC", "Rank ICIR"]
    assert_allclose(summary["IC"], ic.mean())
    assert_allclose(summary["ICIR"], ic.mean() / ic.std(ddof=1))
    assert_allclose(summary["Rank IC"], ric.mean())
    assert_allclose(summary["Rank ICIR"], ric.mean() / ric.std(ddof=1))


def test_arrays_with_dates_and_alignment(signal):
    y_true, y_pred = signal
    expected = information_coefficient(y_true, y_pred)
    dates = y_true.index.get_level_values("datetime")
    pd.testing.assert_series_equal(
        information_coefficient(y_true.to_numpy(), y_pred.to_numpy(), dates=dates),
        expected,
    )
    # dates from y_pred's panel index when y_true is an array
    pd.testing.assert_series_equal(
        information_coefficient(y_true.to_numpy(), y_pred), expected
    )
    # two panels in different row orders are aligned on the index
    shuffled = y_pred.sample(frac=1.0, random_state=0)
    pd.testing.assert_series_equal(information_coefficient(y_true, shuffled), expected)
    # one-column frames and (n, 1) arrays are accepted
    pd.testing.assert_series_equal(
        information_coefficient(y_true.to_frame(), y_pred.to_numpy()[:, None]),
        expected,
    )


def test_degenerate_days_are_nan_and_skipped():
    dates = [1, 1, 1, 2, 2, 2, 3, 3, 4, 4, 4]
    y_true = [0.1, 0.2, 0.3, 0.1, 0.2, 0.3, 0.1, np.nan, 0.5, 0.5, 0.5]
    y_pred = [1.0, 3.0, 2.0, 0.7, 0.7, 0.7, 1.0, 2.0, 1.0, 2.0, 3.0]
    ic = information_coefficient(y_true, y_pred, dates=dates)
    # day 2: constant prediction; day 3: one valid row; day 4: constant label
    assert_allclose(ic.to_numpy(), [0.5, np.nan, np.nan, np.nan])
    summary = ic_summary(y_true, y_pred, dates=dates)
    assert summary["IC"] == pytest.approx(0.5)
    assert np.isnan(summary["ICIR"])  # one valid day: no std


def test_input_errors(signal):
    y_true, y_pred = signal
    with pytest.raises(ValueError, match="dates are needed"):
        information_coefficient(y_true.to_numpy(), y_pred.to_numpy())
    with pytest.raises(ValueError, match="different lengths"):
        information_coefficient(
            y_true.to_numpy(),
            y_pred.to_numpy()[:-1],
            dates=y_true.index.get_level_values(0),
        )
    with pytest.raises(ValueError, match="one column"):
        information_coefficient(pd.concat([y_true, y_true], axis=1), y_pred)
    with pytest.raises(ValueError, match="missing values"):
        information_coefficient([0.1, 0.2], [0.3, 0.4], dates=[1.0, np.nan])


def test_group_average_rank_matches_pandas_with_ties():
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 7, size=500)
    values = np.round(rng.normal(size=500), 1)  # many ties within each group
    expected = pd.Series(values).groupby(codes).rank().to_numpy()
    np.testing.assert_array_equal(group_average_rank(values, codes), expected)
    assert group_average_rank(np.empty(0), np.empty(0, dtype=int)).shape == (0,)
