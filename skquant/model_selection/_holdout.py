"""Time-ordered holdout: the last dates of the training data, after a purge gap.

Shared by every estimator that stops early on held-out data (the gradient
boosting wrappers, the nets): :func:`resolve_dates` finds one date per row and
:func:`time_holdout` splits the rows into a training part and a validation part
made of the last dates, with ``gap`` dates purged between them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from skquant._panel import get_dates, is_panel

__all__ = ["TimeHoldout", "resolve_dates", "time_holdout"]


def resolve_dates(X, dates=None, groups=None) -> np.ndarray | None:
    """One date per row: ``dates``, else ``groups``, else the panel index, else None."""
    if dates is not None and groups is not None:
        raise ValueError("Pass the row dates as dates= or as groups=, not both.")
    given = dates if dates is not None else groups
    if given is None and not is_panel(X):
        return None
    n_samples = len(X) if hasattr(X, "__len__") else np.asarray(X).shape[0]
    return get_dates(X, given, n_samples=n_samples)


@dataclass(frozen=True)
class TimeHoldout:
    """Row indices of a time-ordered train/validation split.

    ``train_end`` and ``validation_start`` are dates (or row positions when the
    data have no dates); ``validation_dates`` holds one date per validation
    row.
    """

    train: np.ndarray
    validation: np.ndarray
    train_end: object
    validation_start: object
    validation_dates: np.ndarray


def _scalar(value):
    """A numpy scalar as a plain Python value (datetime64 -> Timestamp)."""
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value)
    return value.item() if isinstance(value, np.generic) else value


def _as_comparable(start, uniq: np.ndarray):
    if np.issubdtype(uniq.dtype, np.datetime64):
        try:
            return np.datetime64(pd.Timestamp(start), "ns").astype(uniq.dtype)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"validation_start={start!r} is not a date comparable with the "
                f"row dates (dtype {uniq.dtype})."
            ) from exc
    return start


def time_holdout(
    n_samples: int,
    dates: np.ndarray | None,
    *,
    validation_fraction: float | None = None,
    validation_start=None,
    gap: int = 2,
) -> TimeHoldout:
    """Hold out the last dates for validation, purging ``gap`` dates before them.

    Parameters
    ----------
    n_samples : int
        Number of rows.
    dates : ndarray of shape (n_samples,) or None
        One date per row, in any order. ``None`` means the rows are in time
        order and each row is its own date (plain arrays).
    validation_fraction : float in (0, 1), default=None
        Share of the distinct dates to hold out, rounded up (at least one).
    validation_start : date-like, default=None
        First validation date: every date ``>= validation_start`` is held out.
    gap : int, default=2
        Number of distinct dates dropped between the last training date and the
        first validation date, so that no training label overlaps the
        validation period (Qlib's label ``close[t+2]/close[t+1]-1`` looks two
        dates ahead).

    Returns
    -------
    TimeHoldout
        Training rows are strictly before the validation dates, minus the gap.

    Examples
    --------
    >>> import numpy as np
    >>> from skquant.model_selection._holdout import time_holdout
    >>> dates = np.repeat(np.arange(10), 2)  # 10 dates, 2 instruments
    >>> h = time_holdout(20, dates, validation_fraction=0.2, gap=2)
    >>> np.unique(dates[h.train]).tolist(), np.unique(dates[h.validation]).tolist()
    ([0, 1, 2, 3, 4, 5], [8, 9])
    """
    if dates is None:
        uniq = np.arange(n_samples)
        codes = uniq
    else:
        if pd.isna(dates).any():
            raise ValueError(
                "The row dates contain missing values (NaN/NaT); drop those rows "
                "before fitting with a time holdout."
            )
        uniq, codes = np.unique(np.asarray(dates), return_inverse=True)
        codes = codes.ravel()
    n_dates = len(uniq)
    if validation_start is not None:
        if dates is None:
            raise ValueError(
                "validation_start needs dates: fit on a panel indexed by "
                "(datetime, instrument), or pass dates=... (or groups=...) to fit. "
                "With plain arrays use validation_fraction (the last rows)."
            )
        first_valid = int(
            np.searchsorted(uniq, _as_comparable(validation_start, uniq), side="left")
        )
    else:
        n_valid = max(1, math.ceil(float(validation_fraction) * n_dates))
        first_valid = n_dates - n_valid
    last_train = first_valid - gap  # exclusive end of the training dates
    if first_valid >= n_dates:
        raise ValueError(
            f"validation_start={validation_start!r} is after the last date of the "
            f"training data ({uniq[-1]!r}): the validation set would be empty."
        )
    if last_train < 1:
        unit = "rows" if dates is None else "dates"
        raise ValueError(
            f"The time holdout leaves no training data: {n_dates} {unit}, "
            f"{n_dates - first_valid} held out for validation and a gap of {gap}. "
            "Pass more dates, or use a smaller validation_fraction or "
            "validation_gap (or a later validation_start)."
        )
    train = np.flatnonzero(codes < last_train)
    valid = np.flatnonzero(codes >= first_valid)
    return TimeHoldout(
        train=train,
        validation=valid,
        train_end=_scalar(uniq[last_train - 1]),
        validation_start=_scalar(uniq[first_valid]),
        validation_dates=uniq[codes[valid]],
    )
