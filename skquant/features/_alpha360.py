"""Qlib's Alpha360 factor set as a scikit-learn transformer."""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from skquant.features._alpha158 import _PanelFeatures
from skquant.features._ops import EPS, PanelGrid

__all__ = ["Alpha360"]

ALPHA360_FIELDS = ("close", "open", "high", "low", "vwap", "volume")


def alpha360_names(window: int = 60) -> list[str]:
    """Alpha360 column names in Qlib's order (``CLOSE59`` ... ``VOLUME0``)."""
    return [
        f"{field.upper()}{lag}"
        for field in ALPHA360_FIELDS
        for lag in range(window - 1, -1, -1)
    ]


class Alpha360(_PanelFeatures):
    """Qlib's Alpha360: the last 60 days of prices and volume, normalised.

    For each of close, open, high, low, vwap and volume, the value ``i``
    calendar days ago (``i = 59 ... 0``) divided by today's close (prices) or
    by today's volume + 1e-12 (volume): ``CLOSE59 = Ref($close, 59)/$close``,
    ..., ``CLOSE0 = 1``, then ``OPEN59`` ... ``VOLUME0``, 360 columns in Qlib's
    order. Blocks are oldest to newest, so reshaping a row to ``(6, 60)`` gives
    the ``[feature, time]`` layout Qlib's sequence models expect.

    Each instrument is computed on the panel's calendar: a day on which it has
    no row (or a day before its first row) is NaN. Only the current and past
    rows are used. The transformer is stateless: ``fit`` only checks its input.

    Parameters
    ----------
    window : int, default=60
        Days of history; gives ``6 * window`` columns.

    Attributes
    ----------
    n_features_in_ : int
        Number of columns of the panel seen in ``fit``.
    feature_names_in_ : ndarray of str
        Column names of the panel seen in ``fit``.

    See Also
    --------
    Alpha158 : Qlib's 158 engineered price-volume factors.

    Notes
    -----
    The output is always a DataFrame indexed like the sorted panel, whatever
    ``set_output`` says. On the full bundled panel it holds 607k x 360 float64
    values, 1.75 GB; transform a date range at a time if that is too much.

    Examples
    --------
    >>> from skquant.datasets import load_sp500
    >>> from skquant.features import Alpha360
    >>> panel = load_sp500(instruments=["AAPL", "MSFT"], start="2017-01-03",
    ...                    end="2017-06-30")
    >>> X = Alpha360().fit_transform(panel)
    >>> X.shape
    (250, 360)
    >>> list(X.columns[:2]), list(X.columns[-2:])
    (['CLOSE59', 'CLOSE58'], ['VOLUME1', 'VOLUME0'])
    >>> X.loc[("2017-06-30", "AAPL"), ["CLOSE0", "CLOSE1"]].round(4).tolist()
    [1.0, 0.9976]
    >>> float(X.loc[("2017-01-03", "AAPL"), "CLOSE1"])  # no earlier row here
    nan
    """

    def __init__(self, window: int = 60) -> None:
        self.window = window

    def _names(self) -> list[str]:
        if (
            isinstance(self.window, bool)
            or not isinstance(self.window, numbers.Integral)
            or self.window < 1
        ):
            raise ValueError(f"window must be a positive int; got {self.window!r}.")
        return alpha360_names(int(self.window))

    @staticmethod
    def _fields(names: list[str]) -> list[str]:
        return ["open", "high", "low", "close", "volume", "vwap"]

    def _compute(self, panel: pd.DataFrame, names: list[str], out: np.ndarray):
        window = int(self.window)
        grid = PanelGrid(panel.index)
        n_inst, n_dates = grid.shape
        # each instrument's row of the grid, with window-1 NaN days in front, so
        # that "lag days earlier" is a plain offset into the flat array
        width = n_dates + window - 1
        base = grid.inst_codes * width + grid.date_codes
        close = panel["close"].to_numpy(np.float64)
        volume_scale = panel["volume"].to_numpy(np.float64) + EPS
        padded = np.full((n_inst, width), np.nan)
        for k, field in enumerate(ALPHA360_FIELDS):
            values = panel[field].to_numpy(np.float64)
            padded[:, window - 1 :] = grid.pivot(values)
            flat = padded.ravel()
            scale = volume_scale if field == "volume" else close
            for j, lag in enumerate(range(window - 1, -1, -1)):
                row = out[k * window + j]
                np.take(flat[window - 1 - lag :], base, out=row, mode="clip")
                row /= scale
