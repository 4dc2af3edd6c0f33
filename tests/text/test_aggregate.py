"""DailyTextAggregator: alignment with the trading calendar, no look-ahead."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from sklearn.utils._param_validation import InvalidParameterError

from skquant import check_panel, is_panel
from skquant.text import DailyTextAggregator


def _texts(stamps, instruments="AAPL", **features):
    frame = pd.DataFrame(
        {
            "datetime": pd.to_datetime(stamps, format="ISO8601"),
            "instrument": instruments,
        }
    )
    for name, values in features.items():
        frame[name] = values
    return frame


# 2024-03-01 is a Friday; 2024-03-29 is Good Friday (NYSE closed).
CALENDAR = pd.bdate_range("2024-02-26", "2024-04-05").drop(pd.Timestamp("2024-03-29"))


def test_output_is_a_panel_with_counts():
    texts = _texts(
        ["2024-03-04 09:00", "2024-03-04 11:00", "2024-03-04 12:00"],
        ["AAPL", "AAPL", "MSFT"],
        score=[1.0, 3.0, 5.0],
    )
    out = DailyTextAggregator(calendar=CALENDAR).fit_transform(texts)
    assert is_panel(out) and check_panel(out) is out
    assert out.to_dict("index") == {
        (pd.Timestamp("2024-03-04"), "AAPL"): {"score": 2.0, "n_texts": 1 + 1},
        (pd.Timestamp("2024-03-04"), "MSFT"): {"score": 5.0, "n_texts": 1},
    }
    assert out["score"].dtype == np.float64 and out["n_texts"].dtype == np.int64


def test_no_look_ahead_cutoff_and_roll_forward():
    stamps = [
        "2024-03-04 15:59:59",  # Monday before the close -> Monday
        "2024-03-04 16:00:00",  # at the close -> Tuesday
        "2024-03-08 20:00",  # Friday evening -> next Monday
        "2024-03-09 12:00",  # Saturday -> Monday
        "2024-03-28 17:00",  # Thursday after close, Good Friday -> Monday
        "2024-03-29 10:00",
    ]  # Good Friday -> Monday 04-01
    texts = _texts(stamps, score=np.arange(6.0))
    out = DailyTextAggregator(calendar=CALENDAR).fit_transform(texts)
    days = out.index.get_level_values("datetime").strftime("%Y-%m-%d").tolist()
    assert days == ["2024-03-04", "2024-03-05", "2024-03-11", "2024-04-01"]
    assert out["n_texts"].tolist() == [1, 1, 2, 2]
    # every text's trading day is on or after its timestamp's date
    effective = dict(zip(out["score"], out.index.get_level_values(0), strict=True))
    assert effective[0.0] == pd.Timestamp("2024-03-04")
    assert effective[2.5] == pd.Timestamp("2024-03-11")


def test_timezones():
    utc = pd.to_datetime(["2024-03-04 20:30", "2024-03-04 21:30"]).tz_localize("UTC")
    texts = _texts(utc, score=[1.0, 2.0])  # 15:30 and 16:30 in New York (EST)
    out = DailyTextAggregator(calendar=CALENDAR).fit_transform(texts)
    assert out.index.get_level_values(0).day.tolist() == [4, 5]
    # the cut-off applies in the given timezone
    london = DailyTextAggregator(
        calendar=CALENDAR, timezone="Europe/London", cutoff="16:30"
    ).fit_transform(texts)
    assert london.index.get_level_values(0).day.tolist() == [5]
    assert london["n_texts"].tolist() == [2]
    # timezone=None keeps the timestamps' own wall clock (UTC here)
    raw = DailyTextAggregator(calendar=CALENDAR, timezone=None, cutoff="21:00")
    assert raw.fit_transform(texts).index.get_level_values(0).day.tolist() == [4, 5]


def test_cutoff_none_lag_and_time_objects():
    texts = _texts(["2024-03-04", "2024-03-04 23:00"], score=[1.0, 2.0])
    out = DailyTextAggregator(calendar=CALENDAR, cutoff=None).fit_transform(texts)
    assert out["n_texts"].tolist() == [2]
    lagged = DailyTextAggregator(calendar=CALENDAR, cutoff=None, lag=1)
    assert lagged.fit_transform(texts).index[0][0] == pd.Timestamp("2024-03-05")
    at_nine = DailyTextAggregator(calendar=CALENDAR, cutoff=dt.time(9, 30))
    days = at_nine.fit_transform(
        _texts(["2024-03-04 09:29", "2024-03-04 09:30"], score=[0.0, 1.0])
    )
    assert days.index.get_level_values(0).day.tolist() == [4, 5]


def test_calendar_from_a_panel_and_default_business_days():
    idx = pd.MultiIndex.from_product(
        [pd.to_datetime(["2024-03-01", "2024-03-05"]), ["AAPL"]],
        names=["datetime", "instrument"],
    )
    panel = pd.DataFrame({"close": [1.0, 2.0]}, index=idx)
    texts = _texts(["2024-03-02 10:00", "2024-03-04 10:00"], score=[1.0, 2.0])
    agg = DailyTextAggregator(calendar=panel).fit(texts)
    assert agg.calendar_.tolist() == list(idx.get_level_values(0))
    out = agg.transform(texts)  # 03-04 is not in this panel: rolls to 03-05
    assert out.index.tolist() == [(pd.Timestamp("2024-03-05"), "AAPL")]
    assert out["n_texts"].tolist() == [2]
    joined = panel.join(out)
    assert joined["n_texts"].fillna(0).tolist() == [0, 2]
    default = DailyTextAggregator().fit_transform(texts)  # Mon-Fri, no holidays
    assert default.index.get_level_values(0).day.tolist() == [4]


def test_texts_after_the_calendar_are_dropped():
    texts = _texts(
        ["2024-04-05 10:00", "2024-04-05 17:00", "2024-04-20"], score=[1.0, 2.0, 3.0]
    )
    out = DailyTextAggregator(calendar=CALENDAR).fit_transform(texts)
    assert out["n_texts"].tolist() == [1]


def test_aggregations_nan_and_index_input():
    texts = _texts(["2024-03-04 09:00"] * 3, a=[1.0, np.nan, 3.0], b=[1, 2, 3])
    indexed = texts.set_index(["datetime", "instrument"])
    for agg, expected in [("mean", 2.0), ("sum", 4.0), ("max", 3.0), ("min", 1.0)]:
        out = DailyTextAggregator(agg=agg, calendar=CALENDAR).fit_transform(indexed)
        assert out["a"].iloc[0] == expected
        assert out["n_texts"].iloc[0] == 3  # texts, including the NaN one
    no_count = DailyTextAggregator(count_column=None).fit(texts)
    assert no_count.get_feature_names_out().tolist() == ["a", "b"]
    assert list(no_count.transform(texts).columns) == ["a", "b"]
    counts_only = DailyTextAggregator().fit_transform(texts[["datetime", "instrument"]])
    assert counts_only.columns.tolist() == ["n_texts"]
    pandas_out = DailyTextAggregator().set_output(transform="pandas")
    assert pandas_out.fit_transform(texts).shape == (1, 3)


def test_custom_column_names():
    frame = pd.DataFrame(
        {
            "published": pd.to_datetime(["2024-03-04 10:00"]),
            "ticker": ["MSFT"],
            "s": [0.5],
        }
    )
    agg = DailyTextAggregator(datetime_column="published", instrument_column="ticker")
    out = agg.fit_transform(frame)
    assert out.index.names == ["datetime", "instrument"]
    assert out.index[0] == (pd.Timestamp("2024-03-04"), "MSFT")


def test_errors():
    texts = _texts(["2024-03-04 10:00"], score=[1.0])
    with pytest.raises(TypeError, match="DataFrame"):
        DailyTextAggregator().fit(texts.to_numpy())
    with pytest.raises(ValueError, match="needs columns"):
        DailyTextAggregator().fit(texts.drop(columns="instrument"))
    with pytest.raises(ValueError, match="numeric"):
        DailyTextAggregator().fit(texts.assign(text="raw text"))
    with pytest.raises(ValueError, match="cutoff"):
        DailyTextAggregator(cutoff="4pm").fit(texts)
    with pytest.raises(ValueError, match="within one day"):
        DailyTextAggregator(cutoff="25:00").fit(texts)
    with pytest.raises(Exception, match="Nowhere"):
        DailyTextAggregator(timezone="Nowhere/City").fit(texts)
    with pytest.raises(ValueError, match="clashes"):
        DailyTextAggregator(count_column="score").fit(texts)
    with pytest.raises(ValueError, match="empty"):
        DailyTextAggregator(calendar=[]).fit(texts)
    with pytest.raises(InvalidParameterError):
        DailyTextAggregator(agg="median").fit(texts)
    with pytest.raises(InvalidParameterError):
        DailyTextAggregator(lag=-1).fit(texts)
    fitted = DailyTextAggregator().fit(texts)
    with pytest.raises(ValueError, match="fitted with"):
        fitted.transform(texts.rename(columns={"score": "other"}))


def test_trading_days_per_row_for_raw_texts():
    texts = _texts(
        ["2024-03-04 10:00", "2024-03-04 17:00", "2024-04-20", None],
        text=["a", "b", "c", "d"],
    )
    texts.index = [10, 11, 12, 13]
    agg = DailyTextAggregator(calendar=CALENDAR).fit(texts[["datetime", "instrument"]])
    days = agg.trading_days(texts)  # the text column is ignored here
    assert days.index.tolist() == [10, 11, 12, 13]
    assert days.iloc[:2].dt.day.tolist() == [4, 5]
    assert days.iloc[2:].isna().all()  # after the calendar; no timestamp
