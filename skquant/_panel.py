"""The panel data contract.

A *panel* is a :class:`pandas.DataFrame` (or :class:`pandas.Series`) indexed by a
two-level :class:`pandas.MultiIndex` ``(datetime, instrument)``, sorted by date
then instrument, with unique pairs and ``datetime64`` dates. Every skquant
function that needs dates reads them from this index.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DATE_LEVEL = "datetime"
INSTRUMENT_LEVEL = "instrument"
PANEL_LEVELS = (DATE_LEVEL, INSTRUMENT_LEVEL)

__all__ = ["check_panel", "to_panel", "is_panel", "get_dates", "date_codes"]


def is_panel(obj) -> bool:
    """Tell whether ``obj`` carries a ``(datetime, instrument)`` index.

    Parameters
    ----------
    obj : object
        Anything; only pandas objects with a two-level index named
        ``("datetime", "instrument")`` count.

    Returns
    -------
    bool

    Examples
    --------
    >>> import pandas as pd
    >>> from skquant import is_panel
    >>> idx = pd.MultiIndex.from_tuples(
    ...     [(pd.Timestamp("2017-01-03"), "AAPL")], names=["datetime", "instrument"])
    >>> is_panel(pd.DataFrame({"close": [1.0]}, index=idx))
    True
    >>> is_panel(pd.DataFrame({"close": [1.0]}))
    False
    """
    index = getattr(obj, "index", None)
    return (
        isinstance(index, pd.MultiIndex)
        and index.nlevels == 2
        and tuple(index.names) == PANEL_LEVELS
    )


def check_panel(panel, *, sort: bool = True, name: str = "panel"):
    """Validate a panel and return it sorted, never modifying the input.

    Parameters
    ----------
    panel : pandas.DataFrame or pandas.Series
        Data indexed by ``(datetime, instrument)``.
    sort : bool, default=True
        If the index is not sorted, return a sorted copy. With ``sort=False`` an
        unsorted index raises a ``ValueError`` instead.
    name : str, default="panel"
        How the object is called in error messages.

    Returns
    -------
    pandas.DataFrame or pandas.Series
        ``panel`` itself when it is already valid and sorted, else a sorted copy.

    Raises
    ------
    TypeError
        If ``panel`` is not a pandas DataFrame or Series.
    ValueError
        If a level is missing or misnamed, the dates are not datetimes, a
        ``(datetime, instrument)`` pair is duplicated, or the index is unsorted and
        ``sort=False``.

    Examples
    --------
    >>> import pandas as pd
    >>> from skquant import check_panel
    >>> idx = pd.MultiIndex.from_tuples(
    ...     [(pd.Timestamp("2017-01-04"), "A"), (pd.Timestamp("2017-01-03"), "A")],
    ...     names=["datetime", "instrument"])
    >>> check_panel(pd.DataFrame({"close": [2.0, 1.0]}, index=idx))["close"].tolist()
    [1.0, 2.0]
    """
    if not isinstance(panel, pd.DataFrame | pd.Series):
        raise TypeError(
            f"{name} must be a pandas DataFrame or Series indexed by "
            f"(datetime, instrument); got {type(panel).__name__}. Use "
            "skquant.to_panel to build one from a long table."
        )
    index = panel.index
    if not isinstance(index, pd.MultiIndex) or index.nlevels != 2:
        raise ValueError(
            f"{name} must have a 2-level MultiIndex (datetime, instrument); got "
            f"an index with levels {list(index.names)}. Use skquant.to_panel "
            "to build one from date and instrument columns."
        )
    if tuple(index.names) != PANEL_LEVELS:
        missing = [lvl for lvl in PANEL_LEVELS if lvl not in index.names]
        raise ValueError(
            f"{name} index levels must be named {list(PANEL_LEVELS)} in that order; "
            f"got {list(index.names)}"
            + (f" (missing level(s) {missing})" if missing else "")
            + ". Rename them with panel.rename_axis(['datetime', 'instrument'])."
        )
    if not pd.api.types.is_datetime64_any_dtype(index.levels[0].dtype):
        raise ValueError(
            f"{name} 'datetime' level must hold datetime64 values; got dtype "
            f"{index.levels[0].dtype}. Convert it with pd.to_datetime."
        )
    if index.has_duplicates:
        dup = index[index.duplicated()][0]
        raise ValueError(
            f"{name} has duplicated (datetime, instrument) pairs, e.g. "
            f"({dup[0]:%Y-%m-%d}, {dup[1]!r}); each instrument may appear once "
            "per date."
        )
    if not index.is_monotonic_increasing:
        if not sort:
            raise ValueError(
                f"{name} index is not sorted by (datetime, instrument); sort it "
                "with panel.sort_index()."
            )
        panel = panel.sort_index()
    return panel


def to_panel(
    frame: pd.DataFrame,
    *,
    date: str = "date",
    instrument: str = "instrument",
) -> pd.DataFrame:
    """Turn a long table with date and instrument columns into a panel.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per (date, instrument), dates and instruments as columns.
    date : str, default="date"
        Name of the date column; its values are parsed with ``pd.to_datetime``.
    instrument : str, default="instrument"
        Name of the instrument (ticker) column.

    Returns
    -------
    pandas.DataFrame
        A new frame indexed by ``(datetime, instrument)``, sorted, validated.

    Examples
    --------
    >>> import pandas as pd
    >>> from skquant import to_panel
    >>> long = pd.DataFrame({"date": ["2017-01-04", "2017-01-03"],
    ...                      "ticker": ["A", "A"], "close": [2.0, 1.0]})
    >>> to_panel(long, instrument="ticker")
                           close
    datetime   instrument
    2017-01-03 A             1.0
    2017-01-04 A             2.0
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"frame must be a pandas DataFrame; got {type(frame).__name__}")
    for column, role in ((date, "date"), (instrument, "instrument")):
        if column not in frame.columns:
            raise ValueError(
                f"{role} column {column!r} not found; columns are "
                f"{list(frame.columns)}. Pass {role}=<column name>."
            )
    out = frame.drop(columns=[date, instrument])
    out.index = pd.MultiIndex.from_arrays(
        [pd.to_datetime(frame[date]).to_numpy(), frame[instrument].to_numpy()],
        names=list(PANEL_LEVELS),
    )
    return check_panel(out, name="frame")


def get_dates(X, dates=None, *, n_samples: int | None = None) -> np.ndarray:
    """Return one date per row, from ``dates`` or from a panel index.

    Parameters
    ----------
    X : array-like or panel
        The samples. Its ``(datetime, instrument)`` index is used when
        ``dates`` is None.
    dates : array-like of shape (n_samples,), default=None
        Explicit dates (any sortable values) for array input.
    n_samples : int, default=None
        Expected number of rows; defaults to ``len(X)``.

    Returns
    -------
    numpy.ndarray of shape (n_samples,)

    Raises
    ------
    ValueError
        If neither a panel index nor ``dates`` gives the dates, or their length
        does not match.

    Examples
    --------
    >>> import numpy as np
    >>> from skquant import get_dates
    >>> get_dates(np.zeros((3, 1)), dates=[1, 1, 2]).tolist()
    [1, 1, 2]
    """
    n = len(X) if n_samples is None else n_samples
    if dates is None:
        if is_panel(X):
            return np.asarray(X.index.get_level_values(DATE_LEVEL))
        raise ValueError(
            "dates are needed: pass a panel indexed by (datetime, instrument), or "
            "the dates of each row explicitly (dates=... or groups=...)."
        )
    dates = np.asarray(dates)
    if dates.ndim != 1 or len(dates) != n:
        raise ValueError(
            f"dates must be 1-D with one date per row ({n}); got shape {dates.shape}."
        )
    return dates


def date_codes(dates) -> tuple[np.ndarray, int]:
    """Integer code per row for its date (codes follow first appearance).

    Parameters
    ----------
    dates : array-like of shape (n_samples,)
        One date (or any hashable group key) per row, in any order.

    Returns
    -------
    codes : ndarray of shape (n_samples,) of intp
        The group of each row, in ``0 .. n_dates - 1``.
    n_dates : int
        Number of distinct dates.

    Examples
    --------
    >>> from skquant._panel import date_codes
    >>> codes, n = date_codes(["b", "a", "b"])
    >>> codes.tolist(), n
    ([0, 1, 0], 2)
    """
    codes, uniques = pd.factorize(np.asarray(dates))
    if len(codes) and codes.min() < 0:
        raise ValueError("dates contain missing values (NaN/NaT); drop those rows.")
    return codes.astype(np.intp, copy=False), len(uniques)
