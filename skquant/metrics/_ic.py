"""Daily information coefficients (IC, Rank IC) and Qlib's IC summary."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from skquant._panel import DATE_LEVEL, get_dates, is_panel

__all__ = ["information_coefficient", "rank_information_coefficient", "ic_summary"]


def _as_1d(values, name: str):
    """A label/prediction as a 1-D object (Series kept), one column allowed."""
    if isinstance(values, pd.DataFrame):
        if values.shape[1] != 1:
            raise ValueError(
                f"{name} must have one column; got {values.shape[1]} columns."
            )
        return values.iloc[:, 0]
    if isinstance(values, pd.Series):
        return values
    arr = np.asarray(values)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D; got shape {arr.shape}.")
    return arr


def _prepare(y_true, y_pred, dates):
    """Aligned float arrays, date codes and the sorted unique dates."""
    y_true = _as_1d(y_true, "y_true")
    y_pred = _as_1d(y_pred, "y_pred")
    if is_panel(y_true) and is_panel(y_pred) and not y_true.index.equals(y_pred.index):
        # As Qlib's pd.DataFrame({"pred": pred, "label": label}): align on the
        # label's rows; predictions missing there count as NaN.
        y_pred = y_pred.reindex(y_true.index)
    if len(y_true) != len(y_pred):
        raise ValueError(
            f"y_true and y_pred have different lengths ({len(y_true)} and "
            f"{len(y_pred)})."
        )
    source = y_true if (dates is not None or is_panel(y_true)) else y_pred
    row_dates = get_dates(source, dates, n_samples=len(y_true))
    if pd.isna(row_dates).any():
        raise ValueError("dates contain missing values (NaN/NaT).")
    codes, uniques = pd.factorize(row_dates, sort=True)
    true = np.asarray(y_true, dtype=np.float64)
    pred = np.asarray(y_pred, dtype=np.float64)
    return true, pred, codes, uniques


def daily_pearson(x, y, codes, n_days):
    """Pearson correlation of x and y within each day, NaN pairs ignored."""
    keep = ~(np.isnan(x) | np.isnan(y))
    x, y, codes = x[keep], y[keep], codes[keep]
    n = np.bincount(codes, minlength=n_days).astype(np.float64)
    # Shift every day by one of its own values: constant days become exact
    # zeros (zero variance -> NaN, as pandas), and the sums lose less precision.
    ref_x = np.zeros(n_days)
    ref_y = np.zeros(n_days)
    ref_x[codes] = x
    ref_y[codes] = y
    x = x - ref_x[codes]
    y = y - ref_y[codes]
    with np.errstate(invalid="ignore", divide="ignore"):
        dx = x - (np.bincount(codes, x, n_days) / n)[codes]
        dy = y - (np.bincount(codes, y, n_days) / n)[codes]
        sxy = np.bincount(codes, dx * dy, n_days)
        sxx = np.bincount(codes, dx * dx, n_days)
        syy = np.bincount(codes, dy * dy, n_days)
        corr = sxy / np.sqrt(sxx * syy)
    corr[(n < 2) | (sxx == 0) | (syy == 0)] = np.nan
    return np.clip(corr, -1.0, 1.0)


def group_average_rank(values: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """1-based ranks of ``values`` within each group, ties averaged.

    Vectorised (one ``lexsort``, no loop over groups); the same ranks as
    ``pandas`` ``groupby(codes).rank()`` for finite values.

    Parameters
    ----------
    values : ndarray of shape (n_samples,)
        Finite values to rank.
    codes : ndarray of shape (n_samples,) of int
        The group (date) of each value.

    Returns
    -------
    ndarray of shape (n_samples,) of float64
    """
    n = len(values)
    if n == 0:
        return np.empty(0)
    order = np.lexsort((values, codes))
    sorted_codes = codes[order]
    sorted_values = values[order]
    positions = np.arange(n)
    new_group = np.empty(n, dtype=bool)
    new_group[0] = True
    np.not_equal(sorted_codes[1:], sorted_codes[:-1], out=new_group[1:])
    group_start = np.maximum.accumulate(np.where(new_group, positions, 0))
    ordinal = (positions - group_start).astype(np.float64)
    new_tie = new_group.copy()
    new_tie[1:] |= sorted_values[1:] != sorted_values[:-1]
    tie_id = np.cumsum(new_tie) - 1
    tie_mean = np.bincount(tie_id, ordinal) / np.bincount(tie_id)
    ranks = np.empty(n)
    ranks[order] = tie_mean[tie_id] + 1.0
    return ranks


def _daily_ic(y_true, y_pred, dates, method):
    true, pred, codes, uniques = _prepare(y_true, y_pred, dates)
    if method == "spearman":
        keep = ~(np.isnan(true) | np.isnan(pred))
        kept_codes = codes[keep]
        true_ranks = group_average_rank(true[keep], kept_codes)
        pred_ranks = group_average_rank(pred[keep], kept_codes)
        true = np.full(len(true), np.nan)
        pred = np.full(len(pred), np.nan)
        true[keep] = true_ranks
        pred[keep] = pred_ranks
    ic = daily_pearson(pred, true, codes, len(uniques))
    name = "Rank IC" if method == "spearman" else "IC"
    return pd.Series(ic, index=pd.Index(uniques, name=DATE_LEVEL), name=name)


def information_coefficient(
    y_true: npt.ArrayLike, y_pred: npt.ArrayLike, *, dates: npt.ArrayLike | None = None
) -> pd.Series:
    """Daily information coefficient: Pearson correlation per date.

    Qlib's ``calc_ic``: for each date, the Pearson correlation between the
    predictions and the labels of the instruments on that date.

    Parameters
    ----------
    y_true : pandas.Series or array-like of shape (n_samples,)
        The realised label (Qlib evaluates on the raw label). A panel index
        ``(datetime, instrument)`` gives the dates.
    y_pred : pandas.Series or array-like of shape (n_samples,)
        Predictions (scores). When both ``y_true`` and ``y_pred`` are panels,
        ``y_pred`` is aligned on ``y_true``'s index; otherwise rows are matched by
        position.
    dates : array-like of shape (n_samples,), default=None
        The date of each row, for array input. Otherwise read from the panel
        index of ``y_true``, or else of ``y_pred``.

    Returns
    -------
    pandas.Series
        One IC per date, indexed by the sorted dates, named ``"IC"``. Rows where
        the label or the prediction is NaN are ignored; a date with fewer than
        two valid rows, or a constant label or prediction, gets NaN.

    See Also
    --------
    rank_information_coefficient : The same with Spearman correlation.
    ic_summary : Mean IC and ICIR as reported by Qlib.

    Notes
    -----
    Computed for all dates at once with grouped sums (no loop over dates).

    Examples
    --------
    >>> from skquant.metrics import information_coefficient
    >>> y_true = [0.01, 0.02, 0.03, 0.01, -0.01, 0.00]
    >>> y_pred = [0.1, 0.3, 0.2, 0.5, 0.4, 0.6]
    >>> information_coefficient(y_true, y_pred, dates=[1, 1, 1, 2, 2, 2])
    datetime
    1    0.5
    2    0.5
    Name: IC, dtype: float64
    """
    return _daily_ic(y_true, y_pred, dates, "pearson")


def rank_information_coefficient(
    y_true: npt.ArrayLike, y_pred: npt.ArrayLike, *, dates: npt.ArrayLike | None = None
) -> pd.Series:
    """Daily rank information coefficient: Spearman correlation per date.

    Qlib's Rank IC: for each date, the Pearson correlation between the ranks
    (average ranks for ties) of the predictions and of the labels.

    Parameters
    ----------
    y_true : pandas.Series or array-like of shape (n_samples,)
        The realised label. A panel index ``(datetime, instrument)`` gives the
        dates.
    y_pred : pandas.Series or array-like of shape (n_samples,)
        Predictions (scores), aligned on ``y_true`` when both are panels.
    dates : array-like of shape (n_samples,), default=None
        The date of each row, for array input.

    Returns
    -------
    pandas.Series
        One Rank IC per date, indexed by the sorted dates, named ``"Rank IC"``;
        NaN rows ignored, NaN for dates with fewer than two valid rows or no
        spread.

    See Also
    --------
    information_coefficient : The same with Pearson correlation.
    ic_summary : Mean Rank IC and Rank ICIR as reported by Qlib.

    Examples
    --------
    >>> from skquant.metrics import rank_information_coefficient
    >>> y_true = [0.01, 0.02, 0.03, 0.01, -0.01, 0.00]
    >>> y_pred = [0.1, 0.3, 0.2, 0.5, 0.4, 0.6]
    >>> rank_information_coefficient(y_true, y_pred, dates=[1, 1, 1, 2, 2, 2])
    datetime
    1    0.5
    2    0.5
    Name: Rank IC, dtype: float64
    """
    return _daily_ic(y_true, y_pred, dates, "spearman")


def ic_summary(
    y_true: npt.ArrayLike, y_pred: npt.ArrayLike, *, dates: npt.ArrayLike | None = None
) -> pd.Series:
    """IC, ICIR, Rank IC and Rank ICIR, exactly as Qlib's ``SigAnaRecord``.

    ``IC`` and ``Rank IC`` are the means of the daily (Rank) ICs over the dates
    where they are defined; ``ICIR`` and ``Rank ICIR`` divide those means by the
    standard deviation of the daily values (pandas ``std``, ddof=1). The IRs are
    not annualised, as in Qlib.

    Parameters
    ----------
    y_true : pandas.Series or array-like of shape (n_samples,)
        The realised label. A panel index ``(datetime, instrument)`` gives the
        dates.
    y_pred : pandas.Series or array-like of shape (n_samples,)
        Predictions (scores), aligned on ``y_true`` when both are panels.
    dates : array-like of shape (n_samples,), default=None
        The date of each row, for array input.

    Returns
    -------
    pandas.Series
        Index ``["IC", "ICIR", "Rank IC", "Rank ICIR"]``, float values.

    See Also
    --------
    information_coefficient, rank_information_coefficient : The daily series.

    Examples
    --------
    >>> from skquant.metrics import ic_summary
    >>> y_true = [0.01, 0.02, 0.03, 0.01, -0.01, 0.00, 0.02, 0.01, 0.03]
    >>> y_pred = [0.1, 0.3, 0.2, 0.5, 0.4, 0.6, 0.2, 0.1, 0.3]
    >>> ic_summary(y_true, y_pred, dates=[1, 1, 1, 2, 2, 2, 3, 3, 3]).round(4)
    IC           0.6667
    ICIR         2.3094
    Rank IC      0.6667
    Rank ICIR    2.3094
    dtype: float64
    """
    ic = information_coefficient(y_true, y_pred, dates=dates)
    rank_ic = rank_information_coefficient(y_true, y_pred, dates=dates)
    return pd.Series(
        {
            "IC": ic.mean(),
            "ICIR": ic.mean() / ic.std(),
            "Rank IC": rank_ic.mean(),
            "Rank ICIR": rank_ic.mean() / rank_ic.std(),
        }
    )
