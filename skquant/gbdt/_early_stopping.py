"""Time-ordered validation and daily-IC early stopping, shared by the GBDTs.

Everything the LightGBM and XGBoost wrappers need to hold out *the last dates*
of a training panel and to stop boosting on them lives here, written once:

- :func:`~skquant.model_selection._holdout.time_holdout` (shared with the
  nets) holds out the last dates after a purge gap;
- :class:`DailyIC` adapts :mod:`skquant.metrics`' vectorised daily Pearson or
  Spearman IC to a custom evaluation metric (called once per boosting round).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from contextlib import contextmanager

import numpy as np
import pandas as pd

from skquant._panel import date_codes, get_dates, is_panel
from skquant.metrics._ic import daily_pearson, group_average_rank

__all__ = [
    "DailyIC",
    "check_feature_count",
    "check_target",
    "check_validation_params",
    "temporary_attributes",
]

EARLY_STOPPING_METRICS = ("loss", "ic", "rank_ic")


def check_validation_params(est) -> None:
    """Validate the time-holdout parameters shared by the GBDT wrappers."""
    frac = est.validation_fraction
    if frac is not None and (
        isinstance(frac, bool)
        or not isinstance(frac, numbers.Real)
        or not 0.0 < float(frac) < 1.0
    ):
        raise ValueError(
            f"validation_fraction must be a float in (0, 1) or None; got {frac!r}."
        )
    if frac is not None and est.validation_start is not None:
        raise ValueError(
            "Pass validation_fraction or validation_start, not both; got "
            f"validation_fraction={frac!r} and "
            f"validation_start={est.validation_start!r}."
        )
    gap = est.validation_gap
    if isinstance(gap, bool) or not isinstance(gap, numbers.Integral) or gap < 0:
        raise ValueError(
            f"validation_gap must be a non-negative int (dates); got {gap!r}."
        )
    rounds = est.early_stopping_rounds
    if rounds is not None and (
        isinstance(rounds, bool)
        or not isinstance(rounds, numbers.Integral)
        or rounds < 1
    ):
        raise ValueError(
            f"early_stopping_rounds must be a positive int or None; got {rounds!r}."
        )
    if est.early_stopping_metric not in EARLY_STOPPING_METRICS:
        raise ValueError(
            f"early_stopping_metric must be one of {EARLY_STOPPING_METRICS}; got "
            f"{est.early_stopping_metric!r}."
        )


def check_target(y) -> None:
    """Raise a clear error for missing labels (Qlib drops them with DropnaLabel)."""
    values = y.to_numpy() if isinstance(y, pd.Series | pd.DataFrame) else y
    values = np.asarray(values)
    if values.dtype.kind in "fc":
        n_bad = int(np.count_nonzero(~np.isfinite(values)))
        if n_bad:
            kind = "NaN" if np.isnan(values).any() else "infinity"
            raise ValueError(
                f"Input y contains {kind} ({n_bad} of {values.size} labels). Drop "
                "the rows without a label first, e.g. with "
                "skquant.preprocessing.drop_missing_label(X, y) (Qlib's "
                "DropnaLabel): the last dates of a forward-return label are NaN."
            )


def check_feature_count(est, X) -> None:
    """scikit-learn's message when ``X`` has another number of columns than in fit."""
    shape = getattr(X, "shape", None)
    expected = getattr(est, "n_features_in_", None)
    if shape is not None and len(shape) == 2 and expected is not None:
        if shape[1] != expected:
            raise ValueError(
                f"X has {shape[1]} features, but {type(est).__name__} is "
                f"expecting {expected} features as input."
            )


class _ICSet:
    """One labelled row set: its date codes and labels (ranked once for Rank IC)."""

    def __init__(self, y, codes: np.ndarray, n_groups: int, rank: bool):
        self.label = np.asarray(y, dtype=np.float32)
        self.codes = codes
        self.n_groups = n_groups
        self.rank = rank
        values = np.asarray(y, dtype=np.float64)
        self.target = group_average_rank(values, codes) if rank else values

    def ic(self, pred) -> float:
        pred = np.asarray(pred, dtype=np.float64).ravel()
        if self.rank:
            pred = group_average_rank(pred, self.codes)
        daily = daily_pearson(pred, self.target, self.codes, self.n_groups)
        daily = daily[~np.isnan(daily)]
        # No date with two distinct predictions (e.g. a constant first tree):
        # report "no information" rather than NaN so early stopping can compare.
        return float(daily.mean()) if daily.size else 0.0


class DailyIC:
    """Mean daily IC of predictions, usable as a per-round evaluation metric.

    Parameters
    ----------
    method : {"ic", "rank_ic"}
        ``"ic"`` is the daily Pearson correlation, ``"rank_ic"`` the daily
        Spearman correlation (Pearson on average ranks), both averaged over the
        dates, as in Qlib's ``calc_ic``. Dates with fewer than two rows or a
        constant prediction are skipped; if none is left the score is 0.

    Notes
    -----
    Register each labelled row set with :meth:`add` (labels and one date per
    row). A call ``metric(y_true, y_pred)`` finds the set by its length (and,
    when several sets have that length, by its labels), so one object serves
    every evaluation set of a boosting library. The per-date label statistics
    are prepared once; each call is :mod:`skquant.metrics`' grouped Pearson
    kernel (a few ``bincount`` passes, plus one ``lexsort`` for ``rank_ic``),
    so the score is exactly the mean of
    :func:`~skquant.metrics.information_coefficient` (or its rank variant).

    Examples
    --------
    >>> import numpy as np
    >>> from skquant.gbdt._early_stopping import DailyIC
    >>> metric = DailyIC("ic").add([1.0, 2.0, 3.0, 1.0, 2.0, 3.0], [0, 0, 0, 1, 1, 1])
    >>> metric([1.0, 2.0, 3.0, 1.0, 2.0, 3.0], [1.0, 2.0, 3.0, 3.0, 2.0, 1.0])
    0.0
    """

    def __init__(self, method: str = "ic"):
        if method not in ("ic", "rank_ic"):
            raise ValueError(f"method must be 'ic' or 'rank_ic'; got {method!r}.")
        self.method = method
        self._sets: list[_ICSet] = []

    @property
    def __name__(self) -> str:  # XGBoost names a custom metric by __name__
        return self.method

    def add(self, y, dates) -> DailyIC:
        """Register a labelled row set and its dates; return ``self``."""
        codes, n_groups = date_codes(dates)
        if len(codes) != len(y):
            raise ValueError(
                f"Got {len(codes)} dates for {len(y)} labels in the IC metric."
            )
        self._sets.append(_ICSet(y, codes, n_groups, rank=self.method == "rank_ic"))
        return self

    def _find(self, y_true) -> _ICSet:
        y_true = np.asarray(y_true)
        candidates = [s for s in self._sets if len(s.label) == len(y_true)]
        if len(candidates) > 1:
            y32 = y_true.astype(np.float32, copy=False)
            candidates = [s for s in candidates if np.array_equal(s.label, y32)]
        if not candidates:
            raise ValueError(
                f"The {self.method} metric got an evaluation set of "
                f"{len(y_true)} rows whose dates are unknown. With "
                "early_stopping_metric='ic' or 'rank_ic', pass eval_set data "
                "indexed by (datetime, instrument), or use validation_fraction."
            )
        return candidates[0]

    def __call__(self, y_true, y_pred, sample_weight=None) -> float:
        """Mean daily IC of ``y_pred`` against the registered labels ``y_true``.

        ``sample_weight`` is accepted (XGBoost passes it) and ignored.
        """
        return self._find(y_true).ic(y_pred)


def eval_set_dates(eval_set: Sequence) -> list[np.ndarray]:
    """Dates of each ``(X, y)`` evaluation set, read from panel indexes."""
    out = []
    for i, pair in enumerate(eval_set):
        X_eval = pair[0]
        if not is_panel(X_eval):
            raise ValueError(
                f"eval_set[{i}] has no (datetime, instrument) index, so its daily "
                "IC cannot be computed. Pass panel-indexed eval data, or let the "
                "estimator hold out the last dates with validation_fraction."
            )
        out.append(get_dates(X_eval))
    return out


@contextmanager
def temporary_attributes(obj, **values):
    """Set attributes for the duration of a ``with`` block, then restore them."""
    saved = {name: getattr(obj, name) for name in values}
    try:
        for name, value in values.items():
            setattr(obj, name, value)
        yield obj
    finally:
        for name, value in saved.items():
            setattr(obj, name, value)
