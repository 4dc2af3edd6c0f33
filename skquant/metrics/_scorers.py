"""Mean daily IC as scikit-learn scorers, for cross_val_score and searches."""

from __future__ import annotations

from functools import partial

import numpy as np
from sklearn.metrics._scorer import _cached_call, _Scorer
from sklearn.utils._metadata_requests import _raise_for_params

from skquant._panel import DATE_LEVEL, is_panel
from skquant.metrics._ic import _daily_ic

__all__ = ["make_ic_scorer", "ic_scorer", "rank_ic_scorer"]

_METHODS = ("pearson", "spearman")


def _mean_ic(y_true, y_pred, *, dates=None, method="pearson"):
    """Mean of the daily ICs that are defined (NaN if none is)."""
    daily = _daily_ic(y_true, y_pred, dates, method)
    return float(np.nanmean(daily)) if daily.notna().any() else float("nan")


class _ICScorer(_Scorer):
    """A predict-based scorer whose metric needs each row's date.

    The dates come, in this order, from a ``dates`` argument (routed metadata
    with ``enable_metadata_routing=True`` and ``set_score_request(dates=True)``,
    or passed directly), from ``X``'s ``(datetime, instrument)`` index, or from
    ``y_true``'s.
    """

    def __call__(self, estimator, X, y_true, *, dates=None, **kwargs):
        """Mean daily IC of ``estimator.predict(X)`` against ``y_true``.

        Parameters
        ----------
        estimator : object
            Fitted estimator with ``predict``.
        X : array-like or pandas.DataFrame of shape (n_samples, n_features)
            Test features; a panel index gives the dates.
        y_true : array-like or pandas.Series of shape (n_samples,)
            Realised labels.
        dates : array-like of shape (n_samples,), default=None
            Dates of the rows, for array input.
        **kwargs : dict
            Other metadata; only with metadata routing enabled.

        Returns
        -------
        score : float
            Mean of the daily ICs (NaN when no date has one).
        """
        _raise_for_params(kwargs, self, None)
        if dates is not None:
            kwargs["dates"] = dates
        return self._score(partial(_cached_call, None), estimator, X, y_true, **kwargs)

    def _score(self, method_caller, estimator, X, y_true, **kwargs):
        if kwargs.get("dates") is None and is_panel(X) and not is_panel(y_true):
            kwargs["dates"] = X.index.get_level_values(DATE_LEVEL)
        return super()._score(method_caller, estimator, X, y_true, **kwargs)

    def __repr__(self):
        return f"make_ic_scorer(method={self._kwargs['method']!r})"


def make_ic_scorer(method: str = "pearson") -> _ICScorer:
    """Make a scorer that returns the mean daily IC of an estimator's predictions.

    The scorer is called as ``scorer(estimator, X, y)``: it predicts ``X`` and
    averages the daily :func:`information_coefficient` (``"pearson"``) or
    :func:`rank_information_coefficient` (``"spearman"``) over the dates of the
    test rows. Greater is better. Use it as ``scoring=`` in
    :func:`~sklearn.model_selection.cross_val_score`,
    :class:`~sklearn.model_selection.GridSearchCV` and friends.

    Parameters
    ----------
    method : {"pearson", "spearman"}, default="pearson"
        IC or Rank IC.

    Returns
    -------
    scorer : callable
        A scikit-learn scorer object ``scorer(estimator, X, y) -> float``.

    Notes
    -----
    Each row's date is read from ``X``'s ``(datetime, instrument)`` index (the
    test slice of a panel keeps it), else from ``y``'s. For plain arrays enable
    metadata routing and request the dates, e.g.
    ``make_ic_scorer().set_score_request(dates=True)``, then pass ``dates=`` to
    the search's ``fit``; or call :func:`information_coefficient` yourself.

    Examples
    --------
    >>> from sklearn.linear_model import Ridge
    >>> from sklearn.model_selection import cross_val_score
    >>> from skquant.datasets import load_sp500
    >>> from skquant.metrics import make_ic_scorer
    >>> from skquant.model_selection import DateSplit
    >>> panel = load_sp500(instruments=["AAPL", "MSFT", "XOM", "JPM", "GE", "KO"],
    ...                    start="2016-01-01", end="2016-12-31")
    >>> close = panel["close"].groupby(level="instrument")
    >>> X = close.pct_change(5).to_frame("ret5").fillna(0.0)
    >>> y = (close.shift(-2) / close.shift(-1) - 1).fillna(0.0)
    >>> scores = cross_val_score(Ridge(), X, y, cv=DateSplit(n_splits=3),
    ...                          scoring=make_ic_scorer("spearman"))
    >>> scores.shape
    (3,)
    """
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}; got {method!r}.")
    return _ICScorer(_mean_ic, sign=1, kwargs={"method": method})


ic_scorer = make_ic_scorer("pearson")
"""Scorer: mean daily Pearson IC of ``estimator.predict(X)`` (greater is better)."""

rank_ic_scorer = make_ic_scorer("spearman")
"""Scorer: mean daily Rank IC of ``estimator.predict(X)`` (greater is better)."""
