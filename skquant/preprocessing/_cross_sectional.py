"""Per-date (cross-sectional) processors: Qlib's CSZScoreNorm, CSRankNorm,
CSZFillna and ProcessInf as stateless scikit-learn transformers.

Every statistic is computed over the instruments of one date at a time, with
grouped, vectorised operations (pandas' cythonised grouped transforms, or a
dense ``(date, row-in-date)`` block per column, sorted along its rows, for the
ranks); nothing loops over dates in Python.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import (
    BaseEstimator,
    OneToOneFeatureMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import validate_data

from skquant._panel import DATE_LEVEL, check_panel, date_codes

__all__ = ["CSZScoreNorm", "CSRankNorm", "CSFillna", "ProcessInf"]

_MAD_TO_STD = 1.4826
_RANK_SCALE = 3.46  # Qlib's factor: sqrt(12) ~ 3.46 gives a uniform unit variance
_ROBUST_CLIP = 3.0


# --------------------------------------------------------------------------------
# Kernels on (n_samples, n_columns) float arrays and integer date codes. They are
# shared with the label-side functions in ``_target.py`` and never modify their
# input.
# --------------------------------------------------------------------------------


def _panel_date_codes(index: pd.MultiIndex) -> tuple[np.ndarray, int]:
    """Date codes straight from a panel index, compacted to the dates present."""
    return date_codes(index.codes[index.names.index(DATE_LEVEL)])


def _group_transform(values: np.ndarray, codes: np.ndarray, *hows: str):
    """Per-group statistics ("mean", "std", "median") broadcast back to every row.

    One array per statistic in ``hows`` (a single array for a single one); the
    grouping is computed once and shared.
    """
    grouped = pd.DataFrame(values, copy=False).groupby(codes, sort=False)
    out = [grouped.transform(how).to_numpy(dtype=np.float64) for how in hows]
    return out[0] if len(out) == 1 else out


def _position_in_group(codes: np.ndarray, n_groups: int) -> tuple[np.ndarray, int]:
    """Row number of each row inside its group (0, 1, ...) and the largest group."""
    order = np.argsort(codes, kind="stable")
    sizes = np.bincount(codes, minlength=n_groups)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    pos = np.empty(len(codes), dtype=np.intp)
    pos[order] = np.arange(len(codes)) - np.repeat(starts, sizes)
    return pos, int(sizes.max()) if len(sizes) else 0


def _sorted_rank_keys(block: np.ndarray) -> tuple[np.ndarray, int]:
    """Sort each row of ``block`` by value, carrying the column index along.

    A float64's bits, read as an int64 with the magnitude bits of negative
    numbers flipped, order like the float itself. The lowest bits of that key
    are replaced by the element's column index, so a plain (SIMD) integer sort
    of the keys also gives the permutation, several times faster than
    ``argsort``. NaN sorts last. Values that differ only in the replaced bits
    (relative difference below ~1e-12) may come out of order; the caller checks
    for that and re-sorts those rows exactly.
    """
    width = block.shape[-1]
    nbits = max(1, (width - 1).bit_length())
    ints = block.view(np.int64)
    keys = ints >> 63
    keys &= np.iinfo(np.int64).max
    keys ^= ints
    keys[np.isnan(block)] = np.iinfo(np.int64).max
    keys &= ~((1 << nbits) - 1)
    keys |= np.arange(width)
    keys.sort(axis=-1)
    return keys, nbits


def _rank_layout(n_rows: int, width: int) -> dict:
    """Index arrays shared by every column ranked in blocks of this shape."""
    size = n_rows * width
    within = np.arange(size, dtype=np.float64)
    row_start = np.repeat(np.arange(0, size, width, dtype=np.float64), width)
    within -= row_start  # position inside the row
    return {
        "offsets": np.arange(0, size, width)[:, None],
        "row_start_minus_one": row_start - 1.0,
        "rank_if_no_ties": within + 1.0,
    }


def _pct_rank_rows(block: np.ndarray, layout: dict | None = None) -> np.ndarray:
    """``rank(pct=True)`` of every row of a 2-D block (average ties, NaN kept).

    The last column of ``block`` must be all NaN: it separates the rows of the
    flattened sorted block, so that comparing neighbours never pairs two rows.
    Returns the ranks flattened, in ``block``'s layout.
    """
    n_rows, width = block.shape
    size = block.size
    if layout is None:
        layout = _rank_layout(n_rows, width)
    keys, nbits = _sorted_rank_keys(block)
    order = keys & ((1 << nbits) - 1)
    order += layout["offsets"]  # flat positions in block
    order = order.ravel()
    keys = keys.ravel()
    flat = block.ravel()
    ordered = flat[order]
    valid = ~np.isnan(ordered)
    equal = ordered[1:] == ordered[:-1]  # NaN never equal
    keys >>= nbits
    unsure = keys[1:] == keys[:-1]
    unsure &= ~equal
    unsure &= valid[1:]
    unsure &= valid[:-1]
    if unsure.any():  # near-equal values sharing a truncated key: sort exactly
        rows = np.unique(np.flatnonzero(unsure) // width)
        exact = np.argsort(block[rows], axis=1) + layout["offsets"][rows]
        order.reshape(n_rows, width)[rows] = exact
        ordered = flat[order]
        equal = ordered[1:] == ordered[:-1]
    if equal.any():  # a run of ties shares the mean of its positions
        starts = np.flatnonzero(np.concatenate(([True], ~equal)))
        lengths = np.diff(np.append(starts, size))
        rank = np.repeat(starts + (lengths - 1) * 0.5, lengths)
        rank -= layout["row_start_minus_one"]
    else:
        rank = layout["rank_if_no_ties"].copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        rank.reshape(n_rows, width)[:] /= valid.reshape(n_rows, width).sum(
            axis=1, keepdims=True
        )
    rank[~valid] = np.nan
    out = np.empty(size)
    out[order] = rank
    return out


def _group_pct_rank(values: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """Per-group ``rank(pct=True)`` of every column (average ties, NaN kept).

    Each column is scattered into a dense ``(group, row-in-group)`` block padded
    with NaN, every row of the block is ranked at once (:func:`_pct_rank_rows`),
    and the ranks are gathered back: whole-array numpy operations, one column at
    a time (small blocks stay in cache), no loop over dates.
    """
    n, k = values.shape
    out = np.empty((n, k), dtype=np.float64, order="F")
    if n == 0:
        return out
    pos, width = _position_in_group(codes, n_groups)
    width += 1  # an all-NaN last column separates the rows
    if n_groups * width > 8 * n + 1024:  # very uneven groups: dense blocks too big
        frame = pd.DataFrame(values, copy=False)
        ranks = frame.groupby(codes, sort=False).rank(pct=True)
        return ranks.to_numpy(dtype=np.float64)
    cell = codes * width + pos
    block = np.empty(n_groups * width)
    layout = _rank_layout(n_groups, width)
    for j in range(k):
        block.fill(np.nan)
        block[cell] = values[:, j]
        out[:, j] = _pct_rank_rows(block.reshape(n_groups, width), layout)[cell]
    return out


def _cs_rank(values, codes, n_groups):
    """Qlib CSRankNorm: ``(rank(pct=True) - 0.5) * 3.46`` per date."""
    return (_group_pct_rank(values, codes, n_groups) - 0.5) * _RANK_SCALE


def _cs_zscore(values, codes, n_groups):
    """Qlib CSZScoreNorm(method="zscore"): ``(x - mean) / std`` per date, ddof=1."""
    mean, std = _group_transform(values, codes, "mean", "std")
    with np.errstate(invalid="ignore", divide="ignore"):  # inf, 0/0 -> NaN
        out = values - mean  # then in place: these arrays can be large
        out /= std
    return out


def _cs_robust_zscore(values, codes, n_groups):
    """Qlib CSZScoreNorm(method="robust"): ``clip((x - med) / MAD / 1.4826, +-3)``."""
    with np.errstate(invalid="ignore", divide="ignore"):
        out = values - _group_transform(values, codes, "median")
        out /= _group_transform(np.abs(out), codes, "median")
        out /= _MAD_TO_STD
    return np.clip(out, -_ROBUST_CLIP, _ROBUST_CLIP, out=out)


def _cs_fillna(values, codes, n_groups):
    """Qlib CSZFillna: NaN -> that date's mean of the column."""
    out = values.astype(np.float64, copy=True)
    cols = np.flatnonzero(np.isnan(values).any(axis=0))  # only columns with NaN
    if len(cols):
        sub = values[:, cols]
        out[:, cols] = np.where(
            np.isnan(sub), _group_transform(sub, codes, "mean"), sub
        )
    return out


def _cs_process_inf(values, codes, n_groups):
    """Qlib ProcessInf: +-inf -> that date's mean of the column's finite values."""
    out = values.astype(np.float64, copy=True)
    cols = np.flatnonzero(np.isinf(values).any(axis=0))  # only columns with inf
    if len(cols):
        sub = values[:, cols]
        infinite = np.isinf(sub)
        finite_mean = _group_transform(np.where(infinite, np.nan, sub), codes, "mean")
        out[:, cols] = np.where(infinite, finite_mean, sub)
    return out


# --------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------


def _check_panel_frame(X, estimator) -> pd.DataFrame:
    """Check that ``X`` is a numeric panel DataFrame; never copies or sorts it."""
    name = type(estimator).__name__
    if isinstance(X, pd.Series):
        raise ValueError(
            f"{name} needs a pandas DataFrame indexed by (datetime, instrument); got "
            "a Series. Use X.to_frame(), or skquant.preprocessing.cs_rank_norm / "
            "cs_zscore_norm for a label Series."
        )
    if not isinstance(X, pd.DataFrame):
        raise ValueError(
            f"{name} normalises each date's cross-section, so it needs a pandas "
            "DataFrame indexed by (datetime, instrument) to know the date of each "
            f"row; got {type(X).__name__}. Build a panel with skquant.to_panel, and "
            "inside a Pipeline call set_output(transform='pandas') so that the "
            "steps before this one keep the panel index."
        )
    # Validates levels, date dtype and duplicates. The (sorted) result is
    # discarded: rows are processed, and returned, in the caller's order.
    check_panel(pd.DataFrame(index=X.index), name="X")
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(
            f"Found array with shape {X.shape} while {name} needs at least one row "
            "and one column."
        )
    bad = {
        str(col): str(dtype)
        for col, dtype in X.dtypes.items()
        if not pd.api.types.is_numeric_dtype(dtype)
        or pd.api.types.is_complex_dtype(dtype)
    }
    if bad:
        shown = dict(list(bad.items())[:5])
        raise ValueError(
            f"{name} needs real numeric columns; {len(bad)} are not: {shown}. "
            "Drop or encode them first (e.g. with a ColumnTransformer)."
        )
    return X


def _frame_values(X: pd.DataFrame) -> np.ndarray:
    """The frame as a float64 array (a view when it already is one)."""
    if all(isinstance(dtype, np.dtype) for dtype in X.dtypes):
        return X.to_numpy(dtype=np.float64)
    return X.to_numpy(dtype=np.float64, na_value=np.nan)


# --------------------------------------------------------------------------------
# Transformers
# --------------------------------------------------------------------------------


class _CrossSectionalTransformer(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Base of the stateless per-date transformers.

    Subclasses set ``_kernel`` (or override ``_get_kernel``): a function
    ``(values, date_codes, n_dates) -> new values``.
    """

    _parameter_constraints: dict = {}

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the panel and record its columns; nothing is learned.

        Parameters
        ----------
        X : pandas.DataFrame of shape (n_samples, n_features)
            Numeric panel indexed by ``(datetime, instrument)``.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The transformer, with ``n_features_in_`` and ``feature_names_in_``.
        """
        X = _check_panel_frame(X, self)
        validate_data(self, X, skip_check_array=True)
        return self

    def transform(self, X):
        """Apply the per-date transformation to every column.

        Parameters
        ----------
        X : pandas.DataFrame of shape (n_samples, n_features)
            Numeric panel indexed by ``(datetime, instrument)``, in any row order.

        Returns
        -------
        X_out : pandas.DataFrame of shape (n_samples, n_features)
            A new float64 panel with the same index, row order and columns.
        """
        self._validate_params()
        X = _check_panel_frame(X, self)
        if hasattr(self, "n_features_in_"):  # fitted: check the columns match
            validate_data(self, X, reset=False, skip_check_array=True)
        codes, n_dates = _panel_date_codes(X.index)
        out = self._get_kernel()(_frame_values(X), codes, n_dates)
        return pd.DataFrame(out, index=X.index, columns=X.columns, copy=False)

    def _get_kernel(self):
        return type(self)._kernel

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.allow_nan = True
        return tags


class CSZScoreNorm(_CrossSectionalTransformer):
    """Z-score every column within each date (cross-sectionally).

    Qlib's ``CSZScoreNorm`` processor. For each date and column, over the
    instruments of that date:

    - ``method="zscore"``: ``(x - mean) / std``, with pandas' ``std`` (ddof=1);
    - ``method="robust"``: ``clip((x - median) / MAD / 1.4826, -3, 3)``.

    NaN values are ignored by the statistics and stay NaN. A date with a single
    instrument, or a column constant on a date, gives NaN there (0/0), as in
    Qlib. The transformer is stateless: it needs no fitting and learns nothing,
    so it cannot leak information between dates.

    Parameters
    ----------
    method : {"zscore", "robust"}, default="zscore"
        Mean and standard deviation, or median and MAD.

    Attributes
    ----------
    n_features_in_ : int
        Number of features seen during :meth:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :meth:`fit`.

    See Also
    --------
    CSRankNorm : Per-date percentile rank, centred and scaled.
    RobustZScoreNorm : Median/MAD scaling fitted once on training rows.
    cs_zscore_norm : The same normalisation for a label Series.

    Notes
    -----
    Input must be a DataFrame indexed by ``(datetime, instrument)``: the dates
    come from that index. The output is always such a DataFrame (same index, row
    order and columns, float64), whatever ``set_output`` says, so
    cross-sectional steps can be chained in a Pipeline.

    Examples
    --------
    >>> from skquant.datasets import load_sp500
    >>> from skquant.preprocessing import CSZScoreNorm
    >>> panel = load_sp500(instruments=["AAPL", "MSFT", "XOM"],
    ...                    start="2017-01-03", end="2017-01-04")
    >>> CSZScoreNorm().fit_transform(panel[["close"]]).round(3)
                           close
    datetime   instrument
    2017-01-03 AAPL        1.003
               MSFT       -0.997
               XOM        -0.005
    2017-01-04 AAPL        1.012
               MSFT       -0.988
               XOM        -0.024
    """

    _parameter_constraints: dict = {"method": [StrOptions({"zscore", "robust"})]}

    def __init__(self, method: str = "zscore"):
        self.method = method

    def _get_kernel(self):
        return _cs_robust_zscore if self.method == "robust" else _cs_zscore


class CSRankNorm(_CrossSectionalTransformer):
    """Replace every value by its centred percentile rank within its date.

    Qlib's ``CSRankNorm`` processor: for each date and column,
    ``(rank(pct=True) - 0.5) * 3.46``, with pandas' average rank for ties. The
    result lies in about ``[-1.73, 1.73]`` with unit variance for a large
    cross-section (``3.46 ~ sqrt(12)``). NaN values are not ranked and stay NaN.

    Attributes
    ----------
    n_features_in_ : int
        Number of features seen during :meth:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :meth:`fit`.

    See Also
    --------
    CSZScoreNorm : Per-date z-score.
    cs_rank_norm : The same normalisation for a label Series.

    Notes
    -----
    Input must be a DataFrame indexed by ``(datetime, instrument)``; the output
    is always such a DataFrame (float64). The transformer is stateless.

    Examples
    --------
    >>> from skquant.datasets import load_sp500
    >>> from skquant.preprocessing import CSRankNorm
    >>> panel = load_sp500(instruments=["AAPL", "MSFT", "XOM", "JPM"],
    ...                    start="2017-01-03", end="2017-01-03")
    >>> CSRankNorm().fit_transform(panel[["close", "volume"]])
                            close  volume
    datetime   instrument
    2017-01-03 AAPL        1.730   1.730
               JPM         0.000   0.000
               MSFT       -0.865   0.865
               XOM         0.865  -0.865
    """

    _kernel = staticmethod(_cs_rank)


class CSFillna(_CrossSectionalTransformer):
    """Fill missing values with the column's mean on the same date.

    Qlib's ``CSZFillna`` processor: within each date, NaN in a column becomes
    the mean of that column's non-missing values on that date (still NaN when
    the whole cross-section is missing). For Qlib's constant ``Fillna`` use
    :class:`sklearn.impute.SimpleImputer` with ``strategy="constant",
    fill_value=0``.

    Attributes
    ----------
    n_features_in_ : int
        Number of features seen during :meth:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :meth:`fit`.

    See Also
    --------
    sklearn.impute.SimpleImputer : Constant or whole-column fills (Qlib's Fillna).

    Notes
    -----
    Input must be a DataFrame indexed by ``(datetime, instrument)``; the output
    is always such a DataFrame (float64). The transformer is stateless. Qlib
    implements it with one ``groupby(...).apply`` call per date, which gets slow
    as dates grow; this uses one grouped transform for the whole panel.

    Examples
    --------
    >>> import numpy as np
    >>> from skquant.datasets import load_sp500
    >>> from skquant.preprocessing import CSFillna
    >>> panel = load_sp500(instruments=["AAPL", "MSFT", "XOM"],
    ...                    start="2017-01-03", end="2017-01-03")[["close"]]
    >>> panel.loc[(slice(None), "MSFT"), "close"] = np.nan
    >>> CSFillna().fit_transform(panel).round(2)
                           close
    datetime   instrument
    2017-01-03 AAPL       114.31
               MSFT       100.93
               XOM         87.56
    """

    _kernel = staticmethod(_cs_fillna)


class ProcessInf(_CrossSectionalTransformer):
    """Replace infinite values with the column's finite mean on the same date.

    Qlib's ``ProcessInf`` processor: within each date, ``+inf`` and ``-inf`` in a
    column become the mean of that column's finite values on that date (NaN when
    there are none). NaN values are left as they are.

    Attributes
    ----------
    n_features_in_ : int
        Number of features seen during :meth:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :meth:`fit`.

    See Also
    --------
    CSFillna : Fill NaN with the per-date mean.

    Notes
    -----
    Input must be a DataFrame indexed by ``(datetime, instrument)``; the output
    is always such a DataFrame (float64). The transformer is stateless.

    Examples
    --------
    >>> import numpy as np
    >>> from skquant.datasets import load_sp500
    >>> from skquant.preprocessing import ProcessInf
    >>> panel = load_sp500(instruments=["AAPL", "MSFT", "XOM"],
    ...                    start="2017-01-03", end="2017-01-03")[["close"]]
    >>> panel.loc[(slice(None), "XOM"), "close"] = np.inf
    >>> ProcessInf().fit_transform(panel).round(2)
                           close
    datetime   instrument
    2017-01-03 AAPL       114.31
               MSFT        61.21
               XOM         87.76
    """

    _kernel = staticmethod(_cs_process_inf)
