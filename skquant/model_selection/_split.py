"""Date-aware splitters: purged time-ordered K-fold over dates, and Qlib-style
named date segments."""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping
from numbers import Integral

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.model_selection import BaseCrossValidator
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import (
    Interval,
    StrOptions,
    validate_parameter_constraints,
)
from sklearn.utils.validation import _num_samples, check_consistent_length, indexable

from skquant._panel import get_dates, is_panel

__all__ = ["DateSplit", "segment_split"]


def _unique_dates(dates) -> tuple[np.ndarray, np.ndarray]:
    """Sorted unique dates and, per row, the position of its date among them."""
    if pd.isna(dates).any():
        raise ValueError("dates contain missing values (NaN/NaT); drop those rows.")
    codes, uniques = pd.factorize(dates, sort=True)
    return np.asarray(uniques), codes


class DateSplit(BaseCrossValidator):
    """Time-ordered K-fold over *dates*, with a purge gap for the label horizon.

    Every test fold is a contiguous block of dates holding all the rows (all
    instruments) of those dates, so no date is ever split between folds. It is
    :class:`~sklearn.model_selection.TimeSeriesSplit` counted in dates instead
    of rows, plus a purge that accounts for labels looking into the future.

    ``mode="expanding"`` (default) trains on the past only::

        dates  ---------------------------------------------------------->
        fold 1 [ train ..........]gg[ test ]
        fold 2 [ train ...................]gg[ test ]
        fold 3 [ train ............................]gg[ test ]

    ``mode="kfold"`` is a purged K-fold: the test block moves through the whole
    period and training uses the dates on both sides, minus ``gap`` dates before
    the block and ``gap + embargo`` dates after it::

        fold 1 [ test ]gg ee[ train ...................................]
        fold 2 [ train .....]gg[ test ]gg ee[ train .....................]
        fold 3 [ train ......................]gg[ test ]gg ee[ train ....]

    (``g``: purged, ``e``: embargoed.)

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds (test blocks). At least 2.
    test_size : int, default=None
        Dates per test block (``mode="expanding"`` only). Defaults to
        ``n_dates // (n_splits + 1)``, as ``TimeSeriesSplit``; the blocks are the
        last ``n_splits * test_size`` dates.
    gap : int, default=2
        Dates dropped from training just before each test block (and, in
        ``"kfold"`` mode, just after it). A label for date ``t`` that is known
        ``h`` dates later overlaps the next ``h`` dates; Qlib's label
        ``close(t+2) / close(t+1) - 1`` has ``h = 2``, the default, so no
        training label is realised inside the test block.
    embargo : int, default=0
        Extra dates dropped from training after the purged dates that follow a
        test block (``mode="kfold"`` only): for features whose look-back windows
        would otherwise contain the test period.
    max_train_size : int, default=None
        Keep only the last ``max_train_size`` training dates (a rolling window;
        ``mode="expanding"`` only).
    mode : {"expanding", "kfold"}, default="expanding"
        Train on the past only, or on both sides of the test block.

    See Also
    --------
    sklearn.model_selection.TimeSeriesSplit : The same idea counted in rows.
    segment_split : Fixed named train/valid/test date ranges, as in Qlib.

    Notes
    -----
    The dates are read from ``groups`` when given, else from ``X``'s
    ``(datetime, instrument)`` index: ``cv.split(panel)``, or
    ``GridSearchCV(..., cv=DateSplit()).fit(panel, y)`` for panels and
    ``.fit(X, y, groups=dates)`` for arrays (``groups`` is requested by default
    when metadata routing is enabled). Rows may come in any order; the indices
    refer to the rows as given.

    Why two modes: the expanding scheme is the honest one for a forecasting
    model (it never trains on the future), but its early folds have little
    training data. The purged K-fold uses every date for training, which suits
    short histories and hyper-parameter searches where the model's sensitivity
    to regime matters less than variance; its purge is symmetric because a test
    label overlaps the ``gap`` dates after the block just as a training label
    overlaps the ``gap`` dates before it.

    Examples
    --------
    >>> import numpy as np
    >>> from skquant.model_selection import DateSplit
    >>> dates = np.repeat(np.arange(10), 2)  # 10 dates, 2 instruments each
    >>> cv = DateSplit(n_splits=3, gap=1)
    >>> for train, test in cv.split(np.zeros((20, 1)), groups=dates):
    ...     print(np.unique(dates[train]), np.unique(dates[test]))
    [0 1 2] [4 5]
    [0 1 2 3 4] [6 7]
    [0 1 2 3 4 5 6] [8 9]
    >>> cv = DateSplit(n_splits=3, gap=1, embargo=1, mode="kfold")
    >>> for train, test in cv.split(np.zeros((20, 1)), groups=dates):
    ...     print(np.unique(dates[train]), np.unique(dates[test]))
    [6 7 8 9] [0 1 2 3]
    [0 1 2 9] [4 5 6]
    [0 1 2 3 4 5] [7 8 9]
    """

    __metadata_request__split = {"groups": True}

    _parameter_constraints: dict = {
        "n_splits": [Interval(Integral, 2, None, closed="left")],
        "test_size": [Interval(Integral, 1, None, closed="left"), None],
        "gap": [Interval(Integral, 0, None, closed="left")],
        "embargo": [Interval(Integral, 0, None, closed="left")],
        "max_train_size": [Interval(Integral, 1, None, closed="left"), None],
        "mode": [StrOptions({"expanding", "kfold"})],
    }

    def __init__(
        self,
        n_splits: int = 5,
        *,
        test_size: int | None = None,
        gap: int = 2,
        embargo: int = 0,
        max_train_size: int | None = None,
        mode: str = "expanding",
    ):
        self.n_splits = n_splits
        self.test_size = test_size
        self.gap = gap
        self.embargo = embargo
        self.max_train_size = max_train_size
        self.mode = mode
        self._check_params()

    def _check_params(self):
        validate_parameter_constraints(
            self._parameter_constraints,
            {name: getattr(self, name) for name in self._parameter_constraints},
            caller_name=type(self).__name__,
        )
        if self.mode == "kfold":
            unused = [
                name
                for name in ("test_size", "max_train_size")
                if getattr(self, name) is not None
            ]
            if unused:
                raise ValueError(
                    f"{unused} only apply to mode='expanding'; with mode='kfold' "
                    "the dates are cut into n_splits equal test blocks."
                )
        elif self.embargo:
            raise ValueError(
                "embargo only applies to mode='kfold': in the expanding mode "
                "training never comes after the test block. Use gap to purge "
                "the dates before it."
            )

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        """Return the number of splits, ``n_splits``.

        Parameters
        ----------
        X, y, groups : object
            Ignored, present for API compatibility.

        Returns
        -------
        n_splits : int
            Number of folds.
        """
        return self.n_splits

    def split(
        self, X, y=None, groups: npt.ArrayLike | None = None
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Generate train/test row indices, fold by fold.

        Parameters
        ----------
        X : array-like or pandas.DataFrame of shape (n_samples, n_features)
            Samples. A ``(datetime, instrument)`` index gives the dates when
            ``groups`` is None.
        y : array-like of shape (n_samples,), default=None
            Ignored.
        groups : array-like of shape (n_samples,), default=None
            The date of each row (any sortable values), for array input.

        Yields
        ------
        train : ndarray
            Row positions of the training dates of that fold.
        test : ndarray
            Row positions of the test dates of that fold.

        Raises
        ------
        ValueError
            If no dates are available, or there are too few of them for
            ``n_splits``, ``test_size`` and ``gap``.
        """
        self._check_params()
        n_samples = _num_samples(X)
        if groups is None and is_panel(X):
            dates = get_dates(X)
        else:
            X, y, groups = indexable(X, y, groups)
            dates = get_dates(X, groups, n_samples=n_samples)
        _, date_pos = _unique_dates(dates)
        n_dates = int(date_pos.max()) + 1 if n_samples else 0
        blocks = list(self._date_blocks(n_dates))  # raises before any fold
        for before, test_block, after in blocks:
            train = (date_pos >= before[0]) & (date_pos < before[1])
            train |= (date_pos >= after[0]) & (date_pos < after[1])
            test = (date_pos >= test_block[0]) & (date_pos < test_block[1])
            yield np.flatnonzero(train), np.flatnonzero(test)

    def _date_blocks(self, n_dates):
        """[(train before), (test), (train after)] date-position ranges per fold."""
        n_splits, gap = self.n_splits, self.gap
        if self.mode == "expanding":
            test_size = self.test_size or n_dates // (n_splits + 1)
            first_test = n_dates - n_splits * test_size
            if test_size < 1 or first_test - gap < 1:
                need = n_splits * max(test_size, 1) + gap + 1
                raise ValueError(
                    f"Too few dates: {n_dates} dates cannot hold n_splits="
                    f"{n_splits} test blocks of test_size={max(test_size, 1)} dates "
                    f"after at least one training date and gap={gap} purged dates "
                    f"(at least {need} dates are needed). Lower n_splits, "
                    "test_size or gap, or pass a longer period."
                )
            for start in range(first_test, n_dates, test_size):
                train_hi = start - gap
                train_lo = 0
                if self.max_train_size is not None:
                    train_lo = max(0, train_hi - self.max_train_size)
                yield (train_lo, train_hi), (start, start + test_size), (0, 0)
            return
        if n_dates < n_splits:
            raise ValueError(
                f"Too few dates: {n_dates} dates cannot be cut into n_splits="
                f"{n_splits} test blocks."
            )
        sizes = np.full(n_splits, n_dates // n_splits)
        sizes[: n_dates % n_splits] += 1  # as KFold: the first folds are larger
        bounds = np.concatenate(([0], np.cumsum(sizes))).tolist()
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
            after = hi + gap + self.embargo
            if lo - gap < 1 and after >= n_dates:
                raise ValueError(
                    f"Too few dates: with {n_dates} dates, the test block of dates "
                    f"{lo}..{hi - 1} leaves no training date once gap={gap} and "
                    f"embargo={self.embargo} dates are purged. Lower n_splits, gap "
                    "or embargo."
                )
            yield (0, max(0, lo - gap)), (lo, hi), (after, n_dates)


def segment_split(
    X,
    y=None,
    segments: Mapping | None = None,
    *,
    gap: int = 0,
    dates: npt.ArrayLike | None = None,
    return_indices: bool = False,
    **named_segments,
) -> dict:
    """Split a panel into named, ordered date segments, as Qlib's ``segments``.

    Qlib's datasets are cut into fixed date ranges such as
    ``train=("2008-01-01", "2014-12-31")``, ``valid=(...)``, ``test=(...)``;
    this does the same for a panel (or arrays with ``dates``).

    Parameters
    ----------
    X : pandas.DataFrame, pandas.Series or array-like of shape (n_samples, ...)
        The samples; a ``(datetime, instrument)`` index gives the dates.
    y : array-like or pandas.Series of shape (n_samples,), default=None
        Row-aligned labels, split alongside ``X``.
    segments : mapping of str to (start, end), default=None
        The segments, in chronological order. ``start`` and ``end`` are
        inclusive dates (strings or timestamps); ``None`` leaves a side open.
        Give either this or keyword segments.
    gap : int, default=0
        Drop the last ``gap`` dates of a segment whose labels reach into the
        next segment. A label known ``h`` dates later (Qlib's default label:
        ``h = 2``) makes the last ``h`` dates of a segment use prices of the
        next one; ``gap=2`` removes them. The default 0 keeps Qlib's segments
        as they are.
    dates : array-like of shape (n_samples,), default=None
        The date of each row, for array input.
    return_indices : bool, default=False
        Return row positions instead of data.
    **named_segments : tuple of (start, end)
        The segments as keywords, e.g. ``train=(...), valid=(...), test=(...)``,
        in chronological order.

    Returns
    -------
    dict
        Segment name -> ``X_part`` (when ``y`` is None), ``(X_part, y_part)``,
        or an array of row positions with ``return_indices=True``. Parts are
        copies that keep the panel index; rows keep their order.

    Raises
    ------
    ValueError
        If no segment is given, segments overlap or are out of order, a
        segment holds no date, or no dates are available.

    See Also
    --------
    DateSplit : Cross-validation folds over dates.

    Examples
    --------
    >>> from skquant.datasets import load_sp500
    >>> from skquant.model_selection import segment_split
    >>> panel = load_sp500(instruments=["AAPL", "MSFT"], start="2017-01-01",
    ...                    end="2017-03-31")
    >>> parts = segment_split(panel, train=("2017-01-01", "2017-01-31"),
    ...                       valid=("2017-02-01", "2017-02-28"),
    ...                       test=("2017-03-01", "2017-03-31"), gap=2)
    >>> {name: part.shape for name, part in parts.items()}
    {'train': (36, 7), 'valid': (34, 7), 'test': (46, 7)}
    >>> parts["train"].index.get_level_values("datetime").max()
    Timestamp('2017-01-27 00:00:00')
    """
    if segments is not None and named_segments:
        raise ValueError("Give the segments either as a mapping or as keywords.")
    segments = dict(segments if segments is not None else named_segments)
    if not segments:
        raise ValueError(
            "No segment given: pass e.g. train=(start, end), test=(start, end)."
        )
    validate_parameter_constraints(
        {"gap": [Interval(Integral, 0, None, closed="left")]},
        {"gap": gap},
        caller_name="segment_split",
    )
    if y is not None:
        check_consistent_length(X, y)
        if (
            isinstance(X, pd.DataFrame | pd.Series)
            and isinstance(y, pd.DataFrame | pd.Series)
            and not X.index.equals(y.index)
        ):
            raise ValueError(
                "X and y have different indexes; align them first (e.g. "
                "y = y.reindex(X.index))."
            )
    row_dates = get_dates(X, dates, n_samples=_num_samples(X))
    uniques, date_pos = _unique_dates(row_dates)
    is_datetime = np.issubdtype(uniques.dtype, np.datetime64)

    def bound(value, default):
        if value is None:
            return default
        return np.datetime64(pd.Timestamp(value), "ns") if is_datetime else value

    ranges = []  # (name, first date position, last date position + 1)
    previous_end = None
    for name, spec in segments.items():
        try:
            start, end = spec
        except (TypeError, ValueError):
            raise ValueError(
                f"segment {name!r} must be a (start, end) pair; got {spec!r}."
            ) from None
        lo = np.searchsorted(uniques, bound(start, uniques[0]), side="left")
        hi = np.searchsorted(uniques, bound(end, uniques[-1]), side="right")
        if start is not None and end is not None and bound(start, 0) > bound(end, 0):
            raise ValueError(f"segment {name!r} starts after it ends: {spec!r}.")
        if hi <= lo:
            raise ValueError(f"segment {name!r} {spec!r} holds no date of the data.")
        if previous_end is not None and lo < previous_end:
            raise ValueError(
                f"segment {name!r} {spec!r} overlaps or precedes the segment before "
                "it; segments must be disjoint and in chronological order."
            )
        ranges.append((name, lo, hi))
        previous_end = hi
    out = {}
    for i, (name, lo, hi) in enumerate(ranges):
        if gap and i + 1 < len(ranges):
            # Dates whose next `gap` dates reach the next segment's first date.
            hi_kept = min(hi, ranges[i + 1][1] - gap)
            if hi_kept <= lo:
                warnings.warn(
                    f"segment {name!r} is shorter than gap={gap} dates and is empty "
                    "once purged.",
                    UserWarning,
                    stacklevel=2,
                )
            hi = max(lo, hi_kept)
        rows = np.flatnonzero((date_pos >= lo) & (date_pos < hi))
        if return_indices:
            out[name] = rows
        elif y is None:
            out[name] = _safe_indexing(X, rows)
        else:
            out[name] = (_safe_indexing(X, rows), _safe_indexing(y, rows))
    return out
