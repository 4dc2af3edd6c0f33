"""The bundled S&P 500 panel: contents, cleaning, options."""

import numpy as np
import pandas as pd
import pytest

from skquant import check_panel
from skquant.datasets import load_sp500
from skquant.datasets._build_sp500 import CORPORATE_ACTIONS


@pytest.fixture(scope="module")
def panel():
    return load_sp500()


def test_shape_and_contract(panel):
    assert list(panel.columns) == [
        "open",
        "high",
        "low",
        "close",
        "volume",
        "vwap",
        "factor",
    ]
    assert check_panel(panel, sort=False) is panel
    dates = panel.index.get_level_values("datetime")
    assert dates.min() == pd.Timestamp("2012-12-06")
    assert dates.max() == pd.Timestamp("2017-12-06")
    assert dates.nunique() == 1260
    assert panel.index.get_level_values("instrument").nunique() == 489
    assert not panel.isna().any().any()
    assert (panel[["open", "high", "low", "close", "vwap"]] > 0).all().all()


def test_prices_are_adjusted_like_qlib(panel):
    aapl = panel.xs("AAPL", level="instrument")
    # Apple's 7:1 split (2014-06-09) is invisible in adjusted prices.
    jump = aapl["close"].loc["2014-06-09"] / aapl["close"].loc["2014-06-06"]
    assert 0.95 < jump < 1.05
    # adjusted high >= close >= low, vwap is the typical price
    assert (panel["high"] >= panel["low"] - 1e-9).all()
    np.testing.assert_allclose(
        panel["vwap"], (panel["high"] + panel["low"] + panel["close"]) / 3
    )


def test_cleaning_steps(panel):
    bhf = panel.xs("BHF", level="instrument")
    assert bhf.index.min() >= pd.Timestamp("2017-07-01")
    assert bhf["close"].min() > 1.0  # the penny-stock history is gone
    returns = panel["close"].groupby(level="instrument").pct_change()
    for ticker, day in CORPORATE_ACTIONS.items():
        assert abs(returns.loc[(pd.Timestamp(day), ticker)]) < 1e-6
    # genuine large moves are kept
    assert returns.loc[(pd.Timestamp("2016-04-22"), "AMD")] > 0.4


def test_subsets():
    sub = load_sp500(instruments=["MSFT", "AAPL"], start="2016-01-01", end="2016-01-31")
    assert sorted(sub.index.get_level_values("instrument").unique()) == ["AAPL", "MSFT"]
    assert sub.index.get_level_values("datetime").min() >= pd.Timestamp("2016-01-01")
    assert len(sub) == 2 * 19
    full = load_sp500()
    pd.testing.assert_frame_equal(sub, full.loc[sub.index])


def test_unknown_instrument():
    with pytest.raises(ValueError, match="unknown instrument"):
        load_sp500(instruments=["AAPL", "NOPE"])


def test_late_listing_has_no_rows_before_listing(panel):
    hpe = panel.xs("HPE", level="instrument")
    assert hpe.index.min() >= pd.Timestamp("2015-10-01")
