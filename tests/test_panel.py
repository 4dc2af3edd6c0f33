"""The panel contract: to_panel, check_panel, get_dates."""

import numpy as np
import pandas as pd
import pytest

from skquant import check_panel, get_dates, is_panel, to_panel
from skquant.datasets import load_sp500


@pytest.fixture(scope="module")
def long_table():
    panel = load_sp500(
        instruments=["AAPL", "MSFT", "XOM"], start="2017-03-01", end="2017-03-31"
    )
    return panel.reset_index().rename(
        columns={"datetime": "date", "instrument": "ticker"}
    )


def test_to_panel_round_trip(long_table):
    shuffled = long_table.sample(frac=1.0, random_state=0)
    before = shuffled.copy()
    panel = to_panel(shuffled, instrument="ticker")
    pd.testing.assert_frame_equal(shuffled, before)  # input untouched
    assert is_panel(panel)
    assert panel.index.is_monotonic_increasing
    assert list(panel.columns) == [
        c for c in long_table.columns if c not in ("date", "ticker")
    ]
    first = panel.loc[(pd.Timestamp("2017-03-01"), "AAPL"), "close"]
    row = (long_table["ticker"] == "AAPL") & (
        long_table["date"] == pd.Timestamp("2017-03-01")
    )
    expected = long_table.loc[row, "close"]
    assert first == expected.item()


def test_to_panel_parses_string_dates(long_table):
    table = long_table.assign(date=long_table["date"].dt.strftime("%Y-%m-%d"))
    panel = to_panel(table, instrument="ticker")
    assert pd.api.types.is_datetime64_any_dtype(panel.index.levels[0])


def test_to_panel_missing_column(long_table):
    with pytest.raises(ValueError, match="instrument column 'symbol' not found"):
        to_panel(long_table, instrument="symbol")


def test_duplicated_pair_is_rejected(long_table):
    doubled = pd.concat([long_table, long_table.iloc[[3]]])
    with pytest.raises(ValueError, match="duplicated .datetime, instrument. pairs"):
        to_panel(doubled, instrument="ticker")


def test_unsorted_panel_sorted_on_a_copy_or_rejected(long_table):
    panel = to_panel(long_table, instrument="ticker")
    shuffled = panel.sample(frac=1.0, random_state=1)
    order = shuffled.index.copy()
    fixed = check_panel(shuffled)
    assert fixed.index.is_monotonic_increasing
    assert shuffled.index.equals(order)
    with pytest.raises(ValueError, match="not sorted"):
        check_panel(shuffled, sort=False)


def test_wrong_index_is_explained(long_table):
    with pytest.raises(ValueError, match="2-level MultiIndex"):
        check_panel(long_table)
    wrong_names = long_table.set_index(["date", "ticker"])
    with pytest.raises(ValueError, match="missing level"):
        check_panel(wrong_names)
    not_dates = (
        long_table.assign(date=long_table["date"].astype(str))
        .set_index(["date", "ticker"])
        .rename_axis(["datetime", "instrument"])
    )
    with pytest.raises(ValueError, match="datetime64"):
        check_panel(not_dates)
    with pytest.raises(TypeError, match="pandas DataFrame"):
        check_panel(np.zeros((3, 2)))


def test_get_dates(long_table):
    panel = to_panel(long_table, instrument="ticker")
    dates = get_dates(panel)
    assert len(dates) == len(panel)
    assert (np.diff(dates.astype("int64")) >= 0).all()
    with pytest.raises(ValueError, match="dates are needed"):
        get_dates(panel.to_numpy())
    with pytest.raises(ValueError, match="one date per row"):
        get_dates(panel.to_numpy(), dates=dates[:-1])
