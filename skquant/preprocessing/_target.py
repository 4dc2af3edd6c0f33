"""The label side of Qlib's processors: per-date label normalisation, dropping
missing labels, and a meta-regressor that fits on per-date normalised targets."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.base import (
    BaseEstimator,
    MetaEstimatorMixin,
    RegressorMixin,
    _fit_context,
    clone,
)
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression
from sklearn.utils import _safe_indexing, get_tags
from sklearn.utils._param_validation import HasMethods, StrOptions
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    _routing_enabled,
    process_routing,
)
from sklearn.utils.validation import (
    _num_samples,
    check_array,
    check_consistent_length,
    check_is_fitted,
)

from skquant._panel import date_codes, get_dates, is_panel
from skquant.preprocessing._cross_sectional import (
    _cs_rank,
    _cs_robust_zscore,
    _cs_zscore,
)

__all__ = [
    "cs_rank_norm",
    "cs_zscore_norm",
    "drop_missing_label",
    "CrossSectionalTargetRegressor",
]

_KERNELS = {"rank": _cs_rank, "zscore": _cs_zscore, "robust": _cs_robust_zscore}


def _normalise_label(y, dates, kernel):
    """Apply a per-date kernel to a label Series/DataFrame/array."""
    dates = get_dates(y, dates)
    codes, n_dates = date_codes(dates)
    values = np.asarray(y, dtype=np.float64)
    if values.ndim not in (1, 2):
        raise ValueError(f"y must be 1-D or 2-D; got shape {values.shape}.")
    out = kernel(values.reshape(len(values), -1), codes, n_dates).reshape(values.shape)
    if isinstance(y, pd.Series):
        return pd.Series(out, index=y.index, name=y.name)
    if isinstance(y, pd.DataFrame):
        return pd.DataFrame(out, index=y.index, columns=y.columns)
    return out


def cs_rank_norm(y: npt.ArrayLike, *, dates: npt.ArrayLike | None = None):
    """Normalise a label to its centred percentile rank within each date.

    Qlib's ``CSRankNorm(fields_group="label")``, the label processor of its
    neural-network and linear benchmarks: ``(rank(pct=True) - 0.5) * 3.46`` per
    date, average rank for ties, NaN kept.

    Parameters
    ----------
    y : pandas.Series, pandas.DataFrame or array-like of shape (n_samples,) or \
            (n_samples, n_outputs)
        The label, indexed by ``(datetime, instrument)`` unless ``dates`` is given.
    dates : array-like of shape (n_samples,), default=None
        The date of each row, for array input.

    Returns
    -------
    pandas.Series, pandas.DataFrame or ndarray
        Same type, shape and index as ``y``, float64.

    See Also
    --------
    cs_zscore_norm : Per-date z-score of the label.
    CrossSectionalTargetRegressor : Fit any regressor on the normalised label.

    Examples
    --------
    >>> from skquant.preprocessing import cs_rank_norm
    >>> cs_rank_norm([0.01, -0.02, 0.03, 0.5, 0.0], dates=[1, 1, 1, 2, 2]).round(4)
    array([ 0.5767, -0.5767,  1.73  ,  1.73  ,  0.    ])
    """
    return _normalise_label(y, dates, _cs_rank)


def cs_zscore_norm(
    y: npt.ArrayLike, *, method: str = "zscore", dates: npt.ArrayLike | None = None
):
    """Z-score a label within each date.

    Qlib's ``CSZScoreNorm(fields_group="label")``, the label processor of its
    Alpha158 handler: ``(y - mean) / std`` per date (pandas ``std``, ddof=1), or
    with ``method="robust"`` ``clip((y - median) / MAD / 1.4826, -3, 3)``.

    Parameters
    ----------
    y : pandas.Series, pandas.DataFrame or array-like of shape (n_samples,) or \
            (n_samples, n_outputs)
        The label, indexed by ``(datetime, instrument)`` unless ``dates`` is given.
    method : {"zscore", "robust"}, default="zscore"
        Mean and standard deviation, or median and MAD.
    dates : array-like of shape (n_samples,), default=None
        The date of each row, for array input.

    Returns
    -------
    pandas.Series, pandas.DataFrame or ndarray
        Same type, shape and index as ``y``, float64. A date with one valid
        value, or a constant one, gives NaN.

    See Also
    --------
    cs_rank_norm : Per-date rank normalisation of the label.

    Examples
    --------
    >>> from skquant.preprocessing import cs_zscore_norm
    >>> cs_zscore_norm([1.0, 2.0, 3.0, 10.0, 30.0], dates=[1, 1, 1, 2, 2])
    array([-1.        ,  0.        ,  1.        , -0.70710678,  0.70710678])
    """
    if method not in ("zscore", "robust"):
        raise ValueError(f"method must be 'zscore' or 'robust'; got {method!r}.")
    return _normalise_label(y, dates, _KERNELS[method])


def drop_missing_label(X: npt.ArrayLike, y: npt.ArrayLike) -> tuple:
    """Drop the rows whose label is missing, as Qlib's ``DropnaLabel``.

    Parameters
    ----------
    X : array-like or pandas.DataFrame of shape (n_samples, n_features)
        Features, row-aligned with ``y``.
    y : array-like, pandas.Series or pandas.DataFrame of shape (n_samples,) or \
            (n_samples, n_outputs)
        Label; a row is dropped when any of its labels is NaN.

    Returns
    -------
    X_kept : same type as X
        A copy of the rows of ``X`` with a label.
    y_kept : same type as y
        A copy of the non-missing labels.

    Raises
    ------
    ValueError
        If ``X`` and ``y`` differ in length, or are both pandas objects whose
        indexes differ (they would be silently misaligned).

    Examples
    --------
    >>> import numpy as np
    >>> from skquant.preprocessing import drop_missing_label
    >>> X, y = drop_missing_label(np.arange(6.0).reshape(3, 2), [0.1, np.nan, 0.3])
    >>> X
    array([[0., 1.],
           [4., 5.]])
    >>> y
    array([0.1, 0.3])
    """
    check_consistent_length(X, y)
    if (
        isinstance(X, pd.DataFrame | pd.Series)
        and isinstance(y, pd.DataFrame | pd.Series)
        and not X.index.equals(y.index)
    ):
        raise ValueError(
            "X and y have different indexes; align them first (e.g. "
            "y = y.reindex(X.index)) so that each label stays with its row."
        )
    values = np.asarray(y, dtype=np.float64)
    missing = np.isnan(values.reshape(len(values), -1)).any(axis=1)
    keep = np.flatnonzero(~missing)
    if not isinstance(y, pd.DataFrame | pd.Series):
        y = np.asarray(y)
    return _safe_indexing(X, keep).copy(), _safe_indexing(y, keep).copy()


class CrossSectionalTargetRegressor(MetaEstimatorMixin, RegressorMixin, BaseEstimator):
    """Fit a regressor on a label normalised within each date.

    Qlib trains its models on a per-date normalised label (``CSRankNorm`` or
    ``CSZScoreNorm`` as a *learn* processor) and uses their raw output as a
    score. This meta-estimator does the same for any scikit-learn regressor:
    :meth:`fit` normalises ``y`` date by date and fits a clone of ``regressor``
    on it as ``regressor_``; :meth:`predict` delegates to ``regressor_``.

    Unlike :class:`sklearn.compose.TransformedTargetRegressor` there is **no
    inverse transform**: a per-date rank or z-score cannot be mapped back to
    returns, so predictions are *scores* on the normalised scale, meant to rank
    instruments within a date (evaluate them with
    :func:`skquant.metrics.information_coefficient`), not return forecasts.

    Parameters
    ----------
    regressor : estimator object, default=None
        Regressor with ``fit`` and ``predict``; cloned before fitting. ``None``
        means :class:`~sklearn.linear_model.LinearRegression`.
    method : {"rank", "zscore", "robust"}, default="rank"
        Per-date normalisation of ``y``: ``"rank"`` is Qlib's ``CSRankNorm``
        (its NN and linear benchmarks), ``"zscore"`` and ``"robust"`` are
        ``CSZScoreNorm`` with ``method="zscore"`` (its Alpha158 default) or
        ``"robust"``. (Not called ``transform``: an attribute of that name
        would make scikit-learn take the estimator for a transformer.)

    Attributes
    ----------
    regressor_ : estimator object
        The fitted clone of ``regressor``.
    n_features_in_ : int
        Number of features seen during :meth:`fit` (from ``regressor_``).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :meth:`fit`, when the regressor records
        them.

    See Also
    --------
    cs_rank_norm, cs_zscore_norm : The normalisations, as functions.
    drop_missing_label : Drop rows without a label before fitting.

    Notes
    -----
    The dates come from ``X``'s ``(datetime, instrument)`` index, else from
    ``y``'s, else from the ``dates`` argument of :meth:`fit` (for arrays; inside
    a search with metadata routing enabled, request it with
    ``set_fit_request(dates=True)``). ``y`` must have no NaN (use
    :func:`drop_missing_label`), and every normalised label must be finite: with
    ``"zscore"`` a date holding a single instrument, or a constant label, gives
    NaN and raises.

    Other ``fit`` keyword arguments such as ``sample_weight`` go to the
    regressor's ``fit``; with metadata routing enabled they are routed to it.

    Examples
    --------
    >>> from sklearn.linear_model import Ridge
    >>> from skquant.datasets import load_sp500
    >>> from skquant.preprocessing import CrossSectionalTargetRegressor
    >>> panel = load_sp500(instruments=["AAPL", "MSFT", "XOM", "JPM", "GE"],
    ...                    start="2017-01-03", end="2017-03-31")
    >>> close = panel["close"].groupby(level="instrument")
    >>> X = close.pct_change(5).to_frame("ret5").dropna()
    >>> y = (close.shift(-2) / close.shift(-1) - 1).reindex(X.index).fillna(0.0)
    >>> model = CrossSectionalTargetRegressor(Ridge(), method="rank").fit(X, y)
    >>> model.predict(X.iloc[:3]).shape
    (3,)
    """

    _parameter_constraints: dict = {
        "regressor": [HasMethods(["fit", "predict"]), None],
        "method": [StrOptions({"rank", "zscore", "robust"})],
    }

    def __init__(self, regressor=None, *, method: str = "rank"):
        self.regressor = regressor
        self.method = method

    def _get_regressor(self):
        return LinearRegression() if self.regressor is None else self.regressor

    def _normalised_target(self, X, y, dates):
        if y is None:
            raise ValueError(
                f"This {type(self).__name__} estimator requires y to be passed, but "
                "the target y is None."
            )
        if is_panel(X) and is_panel(y) and not X.index.equals(y.index):
            raise ValueError(
                "X and y are panels with different indexes; align them first "
                "(y = y.reindex(X.index)) so that each label stays with its row."
            )
        y_values = check_array(
            y, ensure_2d=False, dtype="numeric", input_name="y", estimator=self
        )
        if y_values.ndim == 2 and y_values.shape[1] == 1:
            y_values = y_values.ravel()
        if y_values.ndim != 1:
            raise ValueError(f"y must be 1-D; got shape {y_values.shape}.")
        check_consistent_length(X, y_values)
        source = y if (dates is None and not is_panel(X) and is_panel(y)) else X
        row_dates = get_dates(source, dates, n_samples=_num_samples(X))
        codes, n_dates = date_codes(row_dates)
        kernel = _KERNELS[self.method]
        y_norm = kernel(y_values.astype(np.float64)[:, None], codes, n_dates).ravel()
        if not np.isfinite(y_norm).all():
            n_bad = int((~np.isfinite(y_norm)).sum())
            raise ValueError(
                f"{n_bad} normalised labels are not finite: with method="
                f"{self.method!r} a date with a single instrument or a constant "
                "label has no spread. Drop those dates or use method='rank'."
            )
        return y_norm

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, dates=None, **fit_params):
        """Normalise ``y`` per date and fit a clone of the regressor on it.

        Parameters
        ----------
        X : array-like or pandas.DataFrame of shape (n_samples, n_features)
            Features, passed unchanged to the regressor. A panel index gives the
            dates.
        y : array-like or pandas.Series of shape (n_samples,)
            Raw label, without NaN.
        dates : array-like of shape (n_samples,), default=None
            Date of each row, needed when neither ``X`` nor ``y`` is a panel.
        **fit_params : dict
            Passed to the regressor's ``fit`` (e.g. ``sample_weight``); routed
            to it when metadata routing is enabled.

        Returns
        -------
        self : CrossSectionalTargetRegressor
            The fitted meta-estimator.
        """
        y_norm = self._normalised_target(X, y, dates)
        if _routing_enabled():
            routed = process_routing(self, "fit", **fit_params).regressor.fit
        else:
            routed = fit_params
        self.regressor_ = clone(self._get_regressor())
        self.regressor_.fit(X, y_norm, **routed)
        return self

    def predict(self, X, **predict_params):
        """Score ``X`` with the fitted regressor.

        Parameters
        ----------
        X : array-like or pandas.DataFrame of shape (n_samples, n_features)
            Features.
        **predict_params : dict
            Passed (or routed) to the regressor's ``predict``.

        Returns
        -------
        y_score : ndarray of shape (n_samples,)
            Scores on the normalised label scale (no inverse transform).
        """
        check_is_fitted(self)
        if _routing_enabled():
            predict_params = process_routing(
                self, "predict", **predict_params
            ).regressor.predict
        return self.regressor_.predict(X, **predict_params)

    @property
    def n_features_in_(self):
        """Number of features seen during :meth:`fit`."""
        try:
            check_is_fitted(self)
        except NotFittedError as exc:
            raise AttributeError(
                f"{type(self).__name__} object has no n_features_in_ attribute."
            ) from exc
        return self.regressor_.n_features_in_

    @property
    def feature_names_in_(self):
        """Names of features seen during :meth:`fit`."""
        try:
            check_is_fitted(self)
        except NotFittedError as exc:
            raise AttributeError(
                f"{type(self).__name__} object has no feature_names_in_ attribute."
            ) from exc
        return self.regressor_.feature_names_in_

    def get_metadata_routing(self):
        """Get the metadata routing of this object.

        Returns
        -------
        routing : MetadataRouter
            ``fit`` and ``predict`` metadata go to the regressor; ``dates`` is
            consumed by this estimator.
        """
        return (
            MetadataRouter(owner=self)
            .add_self_request(self)
            .add(
                regressor=self._get_regressor(),
                method_mapping=MethodMapping()
                .add(caller="fit", callee="fit")
                .add(caller="predict", callee="predict"),
            )
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self._get_regressor())
        tags.regressor_tags.poor_score = True
        tags.input_tags.sparse = inner.input_tags.sparse
        tags.input_tags.allow_nan = inner.input_tags.allow_nan
        return tags
