"""The bundled S&P 500 daily panel."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from skquant._panel import PANEL_LEVELS

_DATA_FILE = Path(__file__).parent / "data" / "sp500_daily.npz"
SP500_COLUMNS = ("open", "high", "low", "close", "volume", "vwap", "factor")

__all__ = ["load_sp500"]


@lru_cache(maxsize=1)
def _read_arrays() -> dict[str, np.ndarray]:
    with np.load(_DATA_FILE) as npz:
        return {key: npz[key] for key in npz.files}


def load_sp500(
    *,
    instruments: Iterable[str] | None = None,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Load 489 S&P 500 stocks, daily, 2012-12-06 to 2017-12-06, as a panel.

    Prices are adjusted the way Qlib adjusts them: ``factor = adj_close / close``,
    adjusted open/high/low/close = raw x factor, adjusted volume = raw volume /
    factor. There is no traded VWAP in the source; ``vwap`` is the adjusted
    typical price ``(high + low + close) / 3``. The data are real (Kaggle "S&P
    500 stock data", CC0), cleaned as described in the user guide (the bogus
    early ``BHF`` rows, empty rows and three unadjusted corporate actions), and
    shipped inside the package, so no download is needed.

    Parameters
    ----------
    instruments : iterable of str, default=None
        Keep only these tickers. Unknown tickers raise a ``ValueError``.
    start, end : str or pandas.Timestamp, default=None
        Keep dates in ``[start, end]`` (both inclusive).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``(datetime, instrument)``, sorted, with float64 columns
        ``open, high, low, close, volume, vwap, factor``. Days on which an
        instrument did not trade (before listing, suspensions) have no row.

    Notes
    -----
    Survivorship bias: the universe is the index membership of late 2017, so
    absolute returns are inflated; comparing models on it is sound.

    Examples
    --------
    >>> from skquant.datasets import load_sp500
    >>> panel = load_sp500(instruments=["AAPL", "MSFT"], start="2017-01-03",
    ...                    end="2017-01-31")
    >>> panel.shape
    (40, 7)
    >>> list(panel.columns)
    ['open', 'high', 'low', 'close', 'volume', 'vwap', 'factor']
    """
    arrays = _read_arrays()
    dates = arrays["dates"].astype("datetime64[D]").astype("datetime64[ns]")
    tickers = arrays["instruments"]
    rows = np.ones(len(dates), dtype=bool)
    if start is not None:
        rows &= dates >= np.datetime64(pd.Timestamp(start), "ns")
    if end is not None:
        rows &= dates <= np.datetime64(pd.Timestamp(end), "ns")
    cols = np.arange(len(tickers))
    if instruments is not None:
        wanted = np.asarray(sorted(set(instruments)), dtype=str)
        unknown = np.setdiff1d(wanted, tickers)
        if unknown.size:
            raise ValueError(
                f"unknown instrument(s) {unknown.tolist()[:10]}; load_sp500() has "
                f"{len(tickers)} tickers such as {tickers[:5].tolist()}."
            )
        cols = np.searchsorted(tickers, wanted)
    row_idx = np.flatnonzero(rows)
    block = {
        k: arrays[k][np.ix_(row_idx, cols)]
        for k in ("open", "high", "low", "close", "volume", "factor")
    }
    present = ~np.isnan(block["close"])
    r, c = np.nonzero(present)
    factor = block["factor"][r, c].astype(np.float64)
    data = {
        f: block[f][r, c].astype(np.float64) * factor
        for f in ("open", "high", "low", "close")
    }
    data["volume"] = block["volume"][r, c].astype(np.float64) / factor
    data["vwap"] = (data["high"] + data["low"] + data["close"]) / 3.0
    data["factor"] = factor
    kept_dates = dates[row_idx]
    kept_tickers = tickers[cols]
    index = pd.MultiIndex(
        levels=[pd.DatetimeIndex(kept_dates), pd.Index(kept_tickers, dtype=object)],
        codes=[r, c],
        names=list(PANEL_LEVELS),
        verify_integrity=False,
    )
    return pd.DataFrame({k: data[k] for k in SP500_COLUMNS}, index=index)
