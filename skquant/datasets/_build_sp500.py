"""Build the bundled S&P 500 panel from the raw CSV kept in ``shared/data``.

Run it from the repository root::

    python -m skquant.datasets._build_sp500 ../shared/data/sp500_daily_2012_2017.csv.gz

It writes ``skquant/datasets/data/sp500_daily.npz``: dense ``(dates x
instruments)`` float32 arrays of the *raw* Yahoo fields plus the cleaned
adjustment factor, zlib-compressed. :func:`skquant.datasets.load_sp500` turns
them into adjusted prices.

Cleaning (each step is documented in ``docs/datasets.md``):

1. Rows without open, high, low or close are dropped (538 rows, 531 of them BHF).
2. ``BHF`` before 2017-07-01 is a different penny stock that used the same
   ticker: those rows are dropped; Brighthouse Financial's own 2017 history stays.
3. Three unadjusted corporate actions (``DLPH`` 2017-11-21 Aptiv spin-off,
   ``UA`` 2016-03-23 share-class split, ``DHR`` 2016-07-05 Fortive spin-off) make
   a fake -50%/+52% adjusted return. The adjustment factor of every earlier day
   of that instrument is multiplied by ``adj_close[t] / adj_close[t-1]``, so the
   adjusted series is continuous and the action day's adjusted return is zero.
   Real large moves (AMD 2016-04-22, NFLX 2013-01-24, ...) are left alone.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

OUTPUT = Path(__file__).parent / "data" / "sp500_daily.npz"
BOGUS_BEFORE = {"BHF": "2017-07-01"}
CORPORATE_ACTIONS = {
    "DLPH": "2017-11-21",  # Aptiv spin-off, Delphi Technologies
    "UA": "2016-03-23",  # Under Armour class C share issue
    "DHR": "2016-07-05",  # Fortive spin-off
}
RAW_FIELDS = ("open", "high", "low", "close", "volume")


def clean(raw: pd.DataFrame) -> pd.DataFrame:
    """Apply the documented cleaning steps to the long raw table."""
    df = raw.dropna(subset=["open", "high", "low", "close", "adj_close"]).copy()
    for ticker, first_day in BOGUS_BEFORE.items():
        bogus = (df["instrument"] == ticker) & (df["date"] < pd.Timestamp(first_day))
        df = df[~bogus]
    df = df.sort_values(["instrument", "date"]).reset_index(drop=True)
    df["factor"] = df["adj_close"] / df["close"]
    for ticker, day in CORPORATE_ACTIONS.items():
        rows = df.index[df["instrument"] == ticker]
        stock = df.loc[rows]
        pos = int(np.flatnonzero(stock["date"].to_numpy() == np.datetime64(day))[0])
        ratio = stock["adj_close"].iloc[pos] / stock["adj_close"].iloc[pos - 1]
        df.loc[rows[:pos], "factor"] *= ratio
    return df


def build(csv_path: str | Path, output: Path = OUTPUT) -> Path:
    """Read, clean and store the panel; return the output path."""
    raw = pd.read_csv(csv_path, parse_dates=["date"])
    df = clean(raw)
    dates = np.sort(df["date"].unique())
    instruments = np.sort(df["instrument"].unique())
    di = np.searchsorted(dates, df["date"].to_numpy())
    ii = np.searchsorted(instruments, df["instrument"].to_numpy())
    arrays = {}
    for field in (*RAW_FIELDS, "factor"):
        dense = np.full((len(dates), len(instruments)), np.nan, dtype=np.float32)
        dense[di, ii] = df[field].to_numpy(dtype=np.float32)
        arrays[field] = dense
    output.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        output,
        dates=dates.astype("datetime64[D]").astype(np.int32),
        instruments=instruments.astype(str),
        **arrays,
    )
    return output


if __name__ == "__main__":
    path = build(
        sys.argv[1]
        if len(sys.argv) > 1
        else "../shared/data/sp500_daily_2012_2017.csv.gz"
    )
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
