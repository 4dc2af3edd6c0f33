"""Qlib's Alpha158 factor set as a scikit-learn transformer."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import validate_data

from skquant._panel import check_panel
from skquant.features._ops import (
    EPS,
    PanelGrid,
    greater_than,
    less_than,
    ref,
    rolling_corr,
    rolling_idxmax,
    rolling_idxmin,
    rolling_max,
    rolling_mean,
    rolling_min,
    rolling_ols,
    rolling_quantile,
    rolling_rank,
    rolling_std,
    rolling_sum,
)

__all__ = ["Alpha158", "ALPHA158_SELECTED_20"]

KBAR_NAMES = (
    "KMID", "KLEN", "KMID2", "KUP", "KUP2", "KLOW", "KLOW2", "KSFT", "KSFT2",
)  # fmt: skip
PRICE_NAMES = ("OPEN0", "HIGH0", "LOW0", "VWAP0")
ROLLING_PREFIXES = (
    "ROC", "MA", "STD", "BETA", "RSQR", "RESI", "MAX", "MIN", "QTLU", "QTLD",
    "RANK", "RSV", "IMAX", "IMIN", "IMXD", "CORR", "CORD", "CNTP", "CNTN", "CNTD",
    "SUMP", "SUMN", "SUMD", "VMA", "VSTD", "WVMA", "VSUMP", "VSUMN", "VSUMD",
)  # fmt: skip
DEFAULT_WINDOWS = (5, 10, 20, 30, 60)

#: The 20 Alpha158 columns of Qlib's GRU/LSTM/ALSTM/GATs/TCN/Transformer/
#: Localformer/TRA benchmarks, in the order ``FilterCol`` leaves them.
ALPHA158_SELECTED_20 = (
    "KLEN", "KLOW", "ROC60", "STD5", "RSQR5", "RSQR10", "RSQR20", "RSQR60",
    "RESI5", "RESI10", "CORR5", "CORR10", "CORR20", "CORR60", "CORD5", "CORD10",
    "CORD60", "VSTD5", "WVMA5", "WVMA60",
)  # fmt: skip

# Inputs besides the close that each rolling operator reads.
_FIELDS_OF_PREFIX = {
    **dict.fromkeys(("MAX", "IMAX"), {"high"}),
    **dict.fromkeys(("MIN", "IMIN"), {"low"}),
    **dict.fromkeys(("RSV", "IMXD"), {"high", "low"}),
    **dict.fromkeys(
        ("CORR", "CORD", "VMA", "VSTD", "WVMA", "VSUMP", "VSUMN", "VSUMD"),
        {"volume"},
    ),
}


def alpha158_names(windows: Iterable[int] = DEFAULT_WINDOWS) -> list[str]:
    """Alpha158 column names in Qlib's order, for the given rolling windows."""
    windows = list(windows)
    rolling = [f"{prefix}{d}" for prefix in ROLLING_PREFIXES for d in windows]
    return [*KBAR_NAMES, *PRICE_NAMES, *rolling]


def check_fields(X, fields: Iterable[str], name: str = "X") -> pd.DataFrame:
    """Validate a panel (sorted copy if needed) that has the ``fields`` columns."""
    if isinstance(X, pd.Series):
        raise TypeError(
            f"{name} must be a DataFrame with columns {sorted(fields)}; got a Series."
        )
    panel = check_panel(X, name=name)
    missing = [f for f in fields if f not in panel.columns]
    if missing:
        raise ValueError(
            f"{name} lacks the column(s) {missing} needed here; it has "
            f"{list(panel.columns)}."
        )
    return panel


class _PanelFeatures(TransformerMixin, BaseEstimator):
    """Stateless panel-in, panel-out feature transformer (shared plumbing).

    Subclasses define ``_names()`` (output columns, checking the parameters),
    ``_fields(names)`` (input columns needed) and ``_compute(panel, names, out)``,
    which fills the ``(n_features, n_rows)`` array ``out``.
    """

    def fit(self, X, y=None):
        """Check the parameters and the panel; nothing is learned.

        Parameters
        ----------
        X : pandas.DataFrame
            Panel indexed by ``(datetime, instrument)``.
        y : ignored

        Returns
        -------
        self
        """
        names = self._names()
        check_fields(X, self._fields(names))
        validate_data(self, X, skip_check_array=True)
        return self

    def transform(self, X) -> pd.DataFrame:
        """Compute the features of every row of the panel.

        Parameters
        ----------
        X : pandas.DataFrame
            Panel indexed by ``(datetime, instrument)`` with the price columns.

        Returns
        -------
        pandas.DataFrame
            float64, indexed like ``X`` sorted by ``(datetime, instrument)``.
        """
        names = self._names()
        panel = check_fields(X, self._fields(names))
        values = np.empty((len(names), len(panel)))
        if len(panel):
            with np.errstate(divide="ignore", invalid="ignore"):
                self._compute(panel, names, values)
        return pd.DataFrame(values.T, index=panel.index, columns=names, copy=False)

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Output column names (``input_features`` is ignored).

        Returns
        -------
        ndarray of str
        """
        return np.asarray(self._names(), dtype=object)

    def __sklearn_tags__(self):
        # Input is a (datetime, instrument) panel with named price columns, not an
        # arbitrary 2-D array, so the data checks of sklearn's check_estimator do
        # not apply; the transformer is stateless and keeps NaN rows.
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.allow_nan = True
        return tags


class _Alpha158Context:
    """Grids and memoised rolling statistics shared by the Alpha158 columns."""

    def __init__(self, panel: pd.DataFrame, fields: Iterable[str]) -> None:
        self.grid = PanelGrid(panel.index)
        self._raw = {f: panel[f].to_numpy(np.float64) for f in fields}
        self._series: dict[str, np.ndarray] = {}
        self._stats: dict[tuple, np.ndarray] = {}

    def row(self, field: str) -> np.ndarray:
        return self._raw[field]

    def __getattr__(self, name: str) -> np.ndarray:
        # grids of the inputs and of the derived series, built on first use
        if name.startswith("_") or name not in _SERIES:
            raise AttributeError(name)
        if name not in self._series:
            self._series[name] = _SERIES[name](self)
        return self._series[name]

    def stat(self, op: str, series: str, d: int) -> np.ndarray:
        key = (op, series, d)
        if key not in self._stats:
            self._stats[key] = _STATS[op](self.grid, getattr(self, series), d)
        return self._stats[key]

    def ols(self, d: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        key = ("ols", "close", d)
        if key not in self._stats:
            mean, std = self.stat("mean", "close", d), self.stat("std", "close", d)
            self._stats[key] = rolling_ols(self.grid, self.close, d, mean, std)
        return self._stats[key]

    def corr(self, a: str, b: str, d: int) -> np.ndarray:
        std_a, std_b = self.stat("std", a, d), self.stat("std", b, d)
        a_grid, b_grid = getattr(self, a), getattr(self, b)
        return rolling_corr(self.grid, a_grid, b_grid, d, std_a, std_b)

    def forget_window(self) -> None:
        self._stats.clear()


def _diff(x: np.ndarray) -> np.ndarray:
    return x - ref(x, 1)


# Derived daily series, as grids.
def _input(field: str) -> Callable[[_Alpha158Context], np.ndarray]:
    return lambda c: c.grid.pivot(c.row(field))


_SERIES: dict[str, Callable[[_Alpha158Context], np.ndarray]] = {
    **{f: _input(f) for f in ("open", "high", "low", "close", "volume")},
    "close_diff": lambda c: _diff(c.close),
    "close_up": lambda c: np.maximum(c.close_diff, 0),
    "close_down": lambda c: np.maximum(-c.close_diff, 0),
    "close_absdiff": lambda c: np.abs(c.close_diff),
    "close_rise": lambda c: greater_than(c.grid, c.close, ref(c.close, 1)),
    "close_fall": lambda c: less_than(c.grid, c.close, ref(c.close, 1)),
    "close_ratio": lambda c: c.close / ref(c.close, 1),
    "log_volume": lambda c: np.log(c.volume + 1),
    "log_volume_ratio": lambda c: np.log(c.volume / ref(c.volume, 1) + 1),
    "volume_diff": lambda c: _diff(c.volume),
    "volume_up": lambda c: np.maximum(c.volume_diff, 0),
    "volume_down": lambda c: np.maximum(-c.volume_diff, 0),
    "volume_absdiff": lambda c: np.abs(c.volume_diff),
    "weighted_volume": lambda c: np.abs(c.close_ratio - 1) * c.volume,
}

_STATS = {
    "mean": rolling_mean,
    "sum": rolling_sum,
    "std": rolling_std,
    "max": rolling_max,
    "min": rolling_min,
    "rank": rolling_rank,
    "idxmax": rolling_idxmax,
    "idxmin": rolling_idxmin,
    "q80": lambda grid, x, d: rolling_quantile(grid, x, d, 0.8),
    "q20": lambda grid, x, d: rolling_quantile(grid, x, d, 0.2),
}


def _kbar(c: _Alpha158Context, name: str) -> np.ndarray:
    o, h, lo, cl = (c.row(f) for f in ("open", "high", "low", "close"))
    span = h - lo + EPS
    top, bottom = np.maximum(o, cl), np.minimum(o, cl)
    return {
        "KMID": lambda: (cl - o) / o,
        "KLEN": lambda: (h - lo) / o,
        "KMID2": lambda: (cl - o) / span,
        "KUP": lambda: (h - top) / o,
        "KUP2": lambda: (h - top) / span,
        "KLOW": lambda: (bottom - lo) / o,
        "KLOW2": lambda: (bottom - lo) / span,
        "KSFT": lambda: (2 * cl - h - lo) / o,
        "KSFT2": lambda: (2 * cl - h - lo) / span,
    }[name]()


def _signed_share(c: _Alpha158Context, base: str, d: int, part: str) -> np.ndarray:
    """SUMP/SUMN/SUMD (base="close") and VSUMP/VSUMN/VSUMD (base="volume")."""
    up, down = c.stat("sum", f"{base}_up", d), c.stat("sum", f"{base}_down", d)
    total = c.stat("sum", f"{base}_absdiff", d) + EPS
    return {"P": up, "N": down, "D": up - down}[part] / total


# One rolling column as a grid, from the shared context and its window.
_ROLLING: dict[str, Callable[[_Alpha158Context, int], np.ndarray]] = {
    "ROC": lambda c, d: ref(c.close, d) / c.close,
    "MA": lambda c, d: c.stat("mean", "close", d) / c.close,
    "STD": lambda c, d: c.stat("std", "close", d) / c.close,
    "BETA": lambda c, d: c.ols(d)[0] / c.close,
    "RSQR": lambda c, d: c.ols(d)[1],
    "RESI": lambda c, d: c.ols(d)[2] / c.close,
    "MAX": lambda c, d: c.stat("max", "high", d) / c.close,
    "MIN": lambda c, d: c.stat("min", "low", d) / c.close,
    "QTLU": lambda c, d: c.stat("q80", "close", d) / c.close,
    "QTLD": lambda c, d: c.stat("q20", "close", d) / c.close,
    "RANK": lambda c, d: c.stat("rank", "close", d),
    "RSV": lambda c, d: (
        (c.close - c.stat("min", "low", d))
        / (c.stat("max", "high", d) - c.stat("min", "low", d) + EPS)
    ),
    "IMAX": lambda c, d: c.stat("idxmax", "high", d) / d,
    "IMIN": lambda c, d: c.stat("idxmin", "low", d) / d,
    "IMXD": lambda c, d: (c.stat("idxmax", "high", d) - c.stat("idxmin", "low", d)) / d,
    "CORR": lambda c, d: c.corr("close", "log_volume", d),
    "CORD": lambda c, d: c.corr("close_ratio", "log_volume_ratio", d),
    "CNTP": lambda c, d: c.stat("mean", "close_rise", d),
    "CNTN": lambda c, d: c.stat("mean", "close_fall", d),
    "CNTD": lambda c, d: (
        c.stat("mean", "close_rise", d) - c.stat("mean", "close_fall", d)
    ),
    "SUMP": lambda c, d: _signed_share(c, "close", d, "P"),
    "SUMN": lambda c, d: _signed_share(c, "close", d, "N"),
    "SUMD": lambda c, d: _signed_share(c, "close", d, "D"),
    "VMA": lambda c, d: c.stat("mean", "volume", d) / (c.volume + EPS),
    "VSTD": lambda c, d: c.stat("std", "volume", d) / (c.volume + EPS),
    "WVMA": lambda c, d: (
        c.stat("std", "weighted_volume", d)
        / (c.stat("mean", "weighted_volume", d) + EPS)
    ),
    "VSUMP": lambda c, d: _signed_share(c, "volume", d, "P"),
    "VSUMN": lambda c, d: _signed_share(c, "volume", d, "N"),
    "VSUMD": lambda c, d: _signed_share(c, "volume", d, "D"),
}


class Alpha158(_PanelFeatures):
    """Qlib's Alpha158 price-volume factors, computed from a daily panel.

    158 columns with Qlib's names, formulas and order: 9 K-bar shapes
    (``KMID`` ... ``KSFT2``), 4 same-day prices relative to the close
    (``OPEN0``, ``HIGH0``, ``LOW0``, ``VWAP0``) and 29 rolling operators x 5
    windows (``ROC5``, ``ROC10``, ..., ``VSUMD60``). Each instrument is computed
    on the panel's calendar: a day on which it has no row is a missing day
    inside its windows, and its history starts at its first row. Only the
    current and past rows are used. Prices should be adjusted.

    The transformer is stateless: ``fit`` only checks its input.

    Parameters
    ----------
    windows : sequence of int, default=(5, 10, 20, 30, 60)
        Rolling windows, in days. Qlib's default gives the 158 columns; other
        windows give ``13 + 29 * len(windows)`` columns named the same way.
    features : sequence of str, default=None
        Keep only these columns (e.g. :data:`ALPHA158_SELECTED_20`); only they are
        computed. As with Qlib's ``FilterCol``, they come out in Alpha158's order.
        ``None`` keeps all of them.

    Attributes
    ----------
    n_features_in_ : int
        Number of columns of the panel seen in ``fit``.
    feature_names_in_ : ndarray of str
        Column names of the panel seen in ``fit``.

    See Also
    --------
    Alpha360 : 360 normalised raw prices and volumes of the last 60 days.
    forward_return : Qlib's label, the return from close t+1 to close t+2.

    Notes
    -----
    The needed columns are ``open, high, low, close, volume, vwap`` (only those
    used by ``features`` when it is given). Operators follow Qlib
    (``qlib/data/ops.py``): rolling windows with ``min_periods=1``, sample std
    (ddof=1), ``Rank`` as the percentile of today's value in the window,
    ``Quantile`` with linear interpolation, ``IdxMax``/``IdxMin`` as the 1-based
    position from the oldest day of the window (ties to the oldest), ``Slope``,
    ``Rsquare`` and ``Resi`` as a rolling OLS on time that skips missing
    days, and ``Corr``/``Rsquare`` set to NaN where a rolling std is close to 0
    (``atol=2e-05``). One deliberate difference: Qlib's ``IdxMax``/``IdxMin``
    use ``numpy.argmax``, which reports the first *missing* day of a window
    when there is one; here missing days are skipped.

    The output is always a DataFrame indexed like the sorted panel, whatever
    ``set_output`` says (``"pandas"`` and ``"default"`` both give it), because
    the ``(datetime, instrument)`` index is what later panel-aware steps need.

    Examples
    --------
    >>> from skquant.datasets import load_sp500
    >>> from skquant.features import Alpha158
    >>> panel = load_sp500(instruments=["AAPL", "MSFT"], start="2017-01-03",
    ...                    end="2017-06-30")
    >>> X = Alpha158().fit_transform(panel)
    >>> X.shape
    (250, 158)
    >>> list(X.columns[:5]), list(X.columns[-2:])
    (['KMID', 'KLEN', 'KMID2', 'KUP', 'KUP2'], ['VSUMD30', 'VSUMD60'])
    >>> round(float(X.loc[("2017-06-30", "AAPL"), "MA5"]), 4)
    1.0041
    >>> Alpha158(features=["ROC5", "STD5"]).fit_transform(panel).columns.tolist()
    ['ROC5', 'STD5']
    """

    def __init__(self, windows=DEFAULT_WINDOWS, features=None) -> None:
        self.windows = windows
        self.features = features

    def _names(self) -> list[str]:
        windows = list(self.windows) if isinstance(self.windows, Iterable) else []
        if not windows or any(
            isinstance(d, bool) or not isinstance(d, int | np.integer) or d < 1
            for d in windows
        ):
            raise ValueError(
                f"windows must be a non-empty sequence of positive ints; got "
                f"{self.windows!r}."
            )
        if len(set(windows)) != len(windows):
            raise ValueError(f"windows must not repeat; got {self.windows!r}.")
        names = alpha158_names(int(d) for d in windows)
        if self.features is None:
            return names
        if isinstance(self.features, str):
            raise ValueError("features must be a sequence of column names, not a str.")
        unknown = sorted(set(self.features) - set(names))
        if unknown:
            raise ValueError(
                f"unknown Alpha158 feature(s) {unknown} for windows "
                f"{tuple(windows)}; names are like {names[:3] + names[-2:]}."
            )
        wanted = set(self.features)
        return [name for name in names if name in wanted]

    @staticmethod
    def _fields(names: list[str]) -> list[str]:
        fields = {"close"}
        for name in names:
            if name in KBAR_NAMES:
                fields |= {"open", "high", "low"}
            elif name in PRICE_NAMES:
                fields.add(name[:-1].lower())
            else:
                fields |= _FIELDS_OF_PREFIX.get(name.rstrip("0123456789"), set())
        order = ("open", "high", "low", "close", "volume", "vwap")
        return [f for f in order if f in fields]

    def _compute(self, panel: pd.DataFrame, names: list[str], out: np.ndarray):
        ctx = _Alpha158Context(panel, self._fields(names))
        position = {name: i for i, name in enumerate(names)}
        for name in KBAR_NAMES:
            if name in position:
                out[position[name]] = _kbar(ctx, name)
        for name in PRICE_NAMES:
            if name in position:
                out[position[name]] = ctx.row(name[:-1].lower()) / ctx.row("close")
        for d in dict.fromkeys(int(w) for w in self.windows):
            for prefix in ROLLING_PREFIXES:
                name = f"{prefix}{d}"
                if name in position:
                    ctx.grid.gather(_ROLLING[prefix](ctx, d), out=out[position[name]])
            ctx.forget_window()
