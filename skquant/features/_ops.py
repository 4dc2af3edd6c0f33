"""Vectorised Qlib operators on a calendar-aligned (instrument x date) grid.

Qlib computes every expression per instrument, on the instrument's daily series
aligned to the trading calendar: the series starts on the instrument's first
date and a day it did not trade is a NaN row. Here all instruments are computed
at once. A panel is laid out as a dense C-ordered ``(n_instruments, n_dates)``
array (NaN where an instrument has no row), so that one instrument's history is
contiguous and the whole grid flattens to a single series without copying.

Rolling statistics that Qlib takes from pandas (Mean, Sum, Std, Max, Min,
Quantile, Rank, Corr) run through pandas' own rolling kernels *once* over that
flattened series, with window bounds that never cross from one instrument into
the next. The numbers are therefore those of a per-instrument pandas rolling,
accumulator for accumulator, at the cost of one kernel call for all
instruments. The operators pandas lacks are numpy over the whole grid: IdxMax
and IdxMin from a sliding-window view, Slope, Rsquare and Resi from exact
integer moments of the time positions and centred lagged sums.

Windows behave as Qlib's ``rolling(N, min_periods=1)``: a window is truncated
at the start of the instrument's history and NaN values in it are skipped; a
window with no valid value gives NaN. Only past and current values are used.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from pandas.api.indexers import BaseIndexer

from skquant._panel import DATE_LEVEL, INSTRUMENT_LEVEL

#: Qlib's guard against a zero denominator (``qlib.constant.EPS``).
EPS = 1e-12
#: ``Corr``/``Rsquare`` are NaN where a rolling std is ``isclose`` to 0 with this.
STD_ATOL = 2e-05
# Rows processed at once by the sliding-window argmax (bounds its temporary).
_ARG_BLOCK_CELLS = 4_000_000

__all__ = [
    "EPS",
    "PanelGrid",
    "ref",
    "greater_than",
    "less_than",
    "rolling_mean",
    "rolling_sum",
    "rolling_std",
    "rolling_max",
    "rolling_min",
    "rolling_quantile",
    "rolling_rank",
    "rolling_idxmax",
    "rolling_idxmin",
    "rolling_corr",
    "rolling_ols",
]


class PanelGrid:
    """Map a sorted panel index onto a dense ``(n_instruments, n_dates)`` grid.

    Parameters
    ----------
    index : pandas.MultiIndex
        A ``(datetime, instrument)`` index. The calendar is the set of its
        dates; an instrument's history starts at its first date.
    """

    def __init__(self, index: pd.MultiIndex) -> None:
        date_codes, self.dates = pd.factorize(
            index.get_level_values(DATE_LEVEL), sort=True
        )
        inst_codes, self.instruments = pd.factorize(
            index.get_level_values(INSTRUMENT_LEVEL), sort=True
        )
        self.n_dates = len(self.dates)
        self.shape = (len(self.instruments), self.n_dates)
        self.date_codes = date_codes.astype(np.intp)
        self.inst_codes = inst_codes.astype(np.intp)
        # position of each panel row in the flattened grid
        self.cells = self.inst_codes * self.n_dates + self.date_codes
        self.first = np.full(self.shape[0], self.n_dates, dtype=np.intp)
        np.minimum.at(self.first, self.inst_codes, self.date_codes)
        #: True from an instrument's first date on (its history in Qlib).
        self.alive = np.arange(self.n_dates) >= self.first[:, None]
        self._indexers: dict[int, _GridWindows] = {}

    def pivot(self, values) -> np.ndarray:
        """Spread one value per panel row onto the grid (NaN elsewhere)."""
        grid = np.full(self.shape, np.nan)
        grid.ravel()[self.cells] = np.asarray(values, dtype=np.float64)
        return grid

    def gather(self, grid: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Read a grid back at the panel rows, in panel order."""
        # mode="clip" lets np.take write straight into `out` (cells are in range)
        return np.take(grid.ravel(), self.cells, out=out, mode="clip")

    def rolling(self, x: np.ndarray, window: int):
        """A pandas ``Rolling`` over every instrument of ``x`` at once."""
        if window not in self._indexers:
            self._indexers[window] = _GridWindows(window, self.n_dates)
        flat = pd.Series(np.ascontiguousarray(x).ravel(), copy=False)
        return flat.rolling(self._indexers[window], min_periods=1)


class _GridWindows(BaseIndexer):
    """Trailing windows of ``window_size`` rows that stop at instrument borders."""

    def __init__(self, window_size: int, n_dates: int) -> None:
        super().__init__(window_size=window_size, n_dates=n_dates)
        self._bounds: tuple[int, np.ndarray, np.ndarray] | None = None

    def get_window_bounds(
        self, num_values=0, min_periods=None, center=None, closed=None, step=None
    ):
        if self._bounds is None or self._bounds[0] != num_values:
            end = np.arange(1, num_values + 1, dtype=np.int64)
            border = (end - 1) // self.n_dates * self.n_dates
            start = np.maximum(end - self.window_size, border)
            self._bounds = (num_values, start, end)
        return self._bounds[1], self._bounds[2]


def _values(rolled: pd.Series, shape: tuple[int, int]) -> np.ndarray:
    return rolled.to_numpy(dtype=np.float64).reshape(shape)


def ref(x: np.ndarray, lag: int) -> np.ndarray:
    """``Ref(x, lag)``: the value ``lag`` calendar days earlier (later if < 0)."""
    out = np.full(x.shape, np.nan)
    if lag >= 0:
        if lag < x.shape[1]:
            out[:, lag:] = x[:, : x.shape[1] - lag]
    elif -lag < x.shape[1]:
        out[:, :lag] = x[:, -lag:]
    return out


def greater_than(grid: PanelGrid, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a > b`` as 0/1 floats; NaN compares False, as in Qlib's ``Gt``.

    Cells before an instrument's history are NaN, so they are not counted.
    """
    return np.where(grid.alive, np.greater(a, b), np.nan)


def less_than(grid: PanelGrid, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a < b`` as 0/1 floats; NaN compares False, as in Qlib's ``Lt``."""
    return np.where(grid.alive, np.less(a, b), np.nan)


def rolling_mean(grid: PanelGrid, x: np.ndarray, window: int) -> np.ndarray:
    """``Mean(x, N)``: mean of the valid values in the window."""
    return _values(grid.rolling(x, window).mean(), grid.shape)


def rolling_sum(grid: PanelGrid, x: np.ndarray, window: int) -> np.ndarray:
    """``Sum(x, N)``: sum of the valid values (NaN if there are none)."""
    return _values(grid.rolling(x, window).sum(), grid.shape)


def rolling_std(grid: PanelGrid, x: np.ndarray, window: int) -> np.ndarray:
    """``Std(x, N)``: sample std (ddof=1); NaN with fewer than 2 values."""
    # pandas' std is sqrt(max(var, 0)); taking the root here skips its Series
    # round trip and gives the same numbers
    var = _values(grid.rolling(x, window).var(), grid.shape)
    return np.sqrt(np.maximum(var, 0.0))


def rolling_max(grid: PanelGrid, x: np.ndarray, window: int) -> np.ndarray:
    """``Max(x, N)``."""
    return _values(grid.rolling(x, window).max(), grid.shape)


def rolling_min(grid: PanelGrid, x: np.ndarray, window: int) -> np.ndarray:
    """``Min(x, N)``."""
    return _values(grid.rolling(x, window).min(), grid.shape)


def rolling_quantile(
    grid: PanelGrid, x: np.ndarray, window: int, q: float
) -> np.ndarray:
    """``Quantile(x, N, q)`` with linear interpolation."""
    return _values(grid.rolling(x, window).quantile(q), grid.shape)


def rolling_rank(grid: PanelGrid, x: np.ndarray, window: int) -> np.ndarray:
    """``Rank(x, N)``: percentile (average ties) of the latest value in the window."""
    return _values(grid.rolling(x, window).rank(pct=True), grid.shape)


def rolling_corr(
    grid: PanelGrid,
    a: np.ndarray,
    b: np.ndarray,
    window: int,
    std_a: np.ndarray | None = None,
    std_b: np.ndarray | None = None,
) -> np.ndarray:
    """``Corr(a, b, N)``: pairwise-complete Pearson correlation.

    NaN where the rolling std of ``a`` or of ``b`` (each on its own) is close to
    0 (``atol=2e-05``). Pass ``std_a``/``std_b`` when they are already known.
    """
    other = pd.Series(np.ascontiguousarray(b).ravel(), copy=False)
    corr = _values(grid.rolling(a, window).corr(other), grid.shape)
    if std_a is None:
        std_a = rolling_std(grid, a, window)
    if std_b is None:
        std_b = rolling_std(grid, b, window)
    flat = np.isclose(std_a, 0, atol=STD_ATOL) | np.isclose(std_b, 0, atol=STD_ATOL)
    return np.where(flat, np.nan, corr)


def _rolling_arg(
    grid: PanelGrid, x: np.ndarray, window: int, largest: bool
) -> np.ndarray:
    """1-based position of the window's max (min), oldest element = 1.

    Missing values are skipped; ties go to the oldest. The window is truncated
    at the start of the instrument's history, as in Qlib.
    """
    fill = -np.inf if largest else np.inf
    n_inst, n_dates = grid.shape
    padded = np.full((n_inst, n_dates + window - 1), fill)
    padded[:, window - 1 :] = np.where(np.isfinite(x), x, fill)
    windows = sliding_window_view(padded, window, axis=1)  # (inst, date, window)
    out = np.empty(grid.shape)
    step = max(1, _ARG_BLOCK_CELLS // max(1, n_dates * window))
    for lo in range(0, n_inst, step):
        block = windows[lo : lo + step]
        arg = block.argmax(axis=2) if largest else block.argmin(axis=2)
        best = np.take_along_axis(block, arg[..., None], axis=2)[..., 0]
        out[lo : lo + step] = np.where(best == fill, np.nan, arg)
    # window of row t covers dates t-window+1..t; its truncated start is the
    # later of that and the instrument's first date.
    oldest = np.arange(n_dates) - window + 1
    start = np.maximum(oldest, grid.first[:, None])
    return out + oldest - start + 1


def rolling_idxmax(grid: PanelGrid, x: np.ndarray, window: int) -> np.ndarray:
    """``IdxMax(x, N)``: 1-based position of the max in the window."""
    return _rolling_arg(grid, x, window, largest=True)


def rolling_idxmin(grid: PanelGrid, x: np.ndarray, window: int) -> np.ndarray:
    """``IdxMin(x, N)``: 1-based position of the min in the window."""
    return _rolling_arg(grid, x, window, largest=False)


def _window_total(x: np.ndarray, window: int) -> np.ndarray:
    """Sum over the trailing ``window`` days of an integer grid (exact)."""
    total = np.cumsum(x, axis=1)
    total[:, window:] -= total[:, :-window].copy()
    return total


def rolling_ols(
    grid: PanelGrid,
    y: np.ndarray,
    window: int,
    mean: np.ndarray | None = None,
    std: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``Slope``, ``Rsquare`` and ``Resi`` of ``y`` regressed on time.

    Ordinary least squares of the valid values of each window against their
    position in it (NaNs skipped, so ``N_eff = N - #NaN``). The slope is per
    day, ``Resi`` is the residual of the latest value (NaN if it is missing)
    and ``Rsquare`` is NaN where the rolling std of ``y`` is close to 0. Sums
    are centred (on the window mean, the mean position and a per-instrument
    anchor), so cancellation stays at rounding level.

    Parameters
    ----------
    mean, std : ndarray, default=None
        ``rolling_mean``/``rolling_std`` of ``y`` when already computed.

    Returns
    -------
    slope, rsquare, resi : ndarray
    """
    if mean is None:
        mean = rolling_mean(grid, y, window)
    if std is None:
        std = rolling_std(grid, y, window)
    valid = np.isfinite(y)
    # Moments of the positions p = k - t (k: day of a valid value, t: today),
    # from cumulative sums of integers, hence exact.
    k = np.arange(grid.n_dates, dtype=np.int64)
    m = valid.astype(np.int64)
    n = _window_total(m, window)
    s_k = _window_total(m * k, window)
    s_kk = _window_total(m * k * k, window)
    s_p = s_k - k * n
    s_pp = (s_kk - 2 * k * s_k + k * k * n).astype(np.float64)
    n = n.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_mean = s_p / n
        s_pp -= s_p * p_mean
        # sum((y - a) * p) with a per-instrument anchor a keeping terms small;
        # p = -lag, so the lag-0 term is 0
        # the anchor is each instrument's first valid value: it uses no future
        first = valid.argmax(axis=1)[:, None]
        anchor = np.take_along_axis(np.where(valid, y, 0.0), first, axis=1)
        y0 = np.where(valid, y - anchor, 0.0)
        s_yp = np.zeros(grid.shape)
        tmp = np.empty(grid.shape)
        for lag in range(1, min(window, grid.n_dates)):
            np.multiply(y0[:, :-lag], lag, out=tmp[:, lag:])
            s_yp[:, lag:] -= tmp[:, lag:]
        # centred cross-moment sum((y - mean) * (p - p_mean))
        s_py = s_yp - (mean - anchor) * s_p
        slope = s_py / s_pp
        s_yy = std * std * (n - 1)
        rsquare = s_py * s_py / (s_pp * s_yy)
        resi = (y - mean) + slope * p_mean
    slope[n < 2] = np.nan
    rsquare[(n < 2) | np.isclose(std, 0, atol=STD_ATOL)] = np.nan
    resi[n < 2] = np.nan
    return slope, rsquare, resi
