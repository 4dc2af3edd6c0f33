"""Qlib's RobustZScoreNorm: median/MAD scaling learned on the training rows."""

from __future__ import annotations

import warnings
from numbers import Real

import numpy as np
from sklearn.base import (
    BaseEstimator,
    OneToOneFeatureMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import FLOAT_DTYPES, check_is_fitted, validate_data

__all__ = ["RobustZScoreNorm"]

# Qlib's constants: EPS keeps a constant column finite, 1.4826 turns the MAD of
# a normal sample into its standard deviation.
_EPS = 1e-12
_MAD_TO_STD = 1.4826


class RobustZScoreNorm(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Centre each column on its median and scale it by 1.4826 x MAD, then clip.

    The statistics are learned in :meth:`fit`, over all the rows it is given (all
    instruments and all dates of the training window), and reused as they are by
    :meth:`transform`: test rows are scaled with training statistics, so nothing
    leaks from the future. This is Qlib's ``RobustZScoreNorm`` processor, the
    feature scaler of its neural-network benchmarks, with exactly its formula::

        center_ = nanmedian(X, axis=0)
        scale_  = (nanmedian(|X - center_|, axis=0) + 1e-12) * 1.4826
        X_out   = clip((X - center_) / scale_, -clip, clip)

    Parameters
    ----------
    clip_outlier : bool, default=True
        Clip the scaled values to ``[-clip, clip]``, as Qlib's
        ``clip_outlier=True``.
    clip : float, default=3.0
        Clipping bound, in robust standard deviations. Ignored when
        ``clip_outlier=False``.

    Attributes
    ----------
    center_ : ndarray of shape (n_features,)
        Per-column median of the training rows (NaN ignored).
    scale_ : ndarray of shape (n_features,)
        Per-column ``(MAD + 1e-12) * 1.4826`` of the training rows.
    n_features_in_ : int
        Number of features seen during :meth:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :meth:`fit`, when ``X`` has string column
        names.

    See Also
    --------
    sklearn.preprocessing.RobustScaler : Median and inter-quartile range scaling.
    CSZScoreNorm : Per-date (cross-sectional) z-score, robust or not.

    Notes
    -----
    NaN values are ignored when fitting and stay NaN after :meth:`transform`;
    infinite values are rejected (put :class:`ProcessInf` first, or replace them).
    A column whose MAD is zero gets ``scale_ = 1.4826e-12``: its median maps to 0
    and anything else to the clipping bound, as in Qlib.

    Like every scikit-learn transformer it returns a NumPy array by default; call
    ``set_output(transform="pandas")`` to get a DataFrame that keeps the panel's
    ``(datetime, instrument)`` index, which the cross-sectional processors need.

    Examples
    --------
    >>> from skquant.preprocessing import RobustZScoreNorm
    >>> X_train = [[1.0, 10.0], [2.0, 20.0], [3.0, 30.0], [100.0, 40.0]]
    >>> norm = RobustZScoreNorm().fit(X_train)
    >>> norm.center_
    array([ 2.5, 25. ])
    >>> norm.transform([[2.5, 25.0], [50.0, 0.0]]).round(3)
    array([[ 0.   ,  0.   ],
           [ 3.   , -1.686]])
    """

    _parameter_constraints: dict = {
        "clip_outlier": ["boolean"],
        "clip": [Interval(Real, 0, None, closed="neither")],
    }

    def __init__(self, clip_outlier: bool = True, clip: float = 3.0):
        self.clip_outlier = clip_outlier
        self.clip = clip

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the per-column median and MAD on the training rows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training features; NaN values are ignored.
        y : None
            Ignored.

        Returns
        -------
        self : RobustZScoreNorm
            The fitted transformer.
        """
        X = validate_data(self, X, dtype=FLOAT_DTYPES, ensure_all_finite="allow-nan")
        with warnings.catch_warnings():
            # An all-NaN column keeps a NaN centre and scale, and stays NaN.
            warnings.filterwarnings("ignore", "All-NaN slice", RuntimeWarning)
            center = np.nanmedian(X, axis=0)
            mad = np.nanmedian(np.abs(X - center), axis=0)
        self.center_ = center
        self.scale_ = (mad + _EPS) * _MAD_TO_STD
        return self

    def transform(self, X):
        """Scale ``X`` with the statistics learned in :meth:`fit`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features to scale; NaN values stay NaN.

        Returns
        -------
        X_out : ndarray of shape (n_samples, n_features)
            The scaled (and, if ``clip_outlier``, clipped) features.
        """
        check_is_fitted(self)
        X = validate_data(
            self,
            X,
            reset=False,
            dtype=FLOAT_DTYPES,
            ensure_all_finite="allow-nan",
            copy=False,
        )
        out = (X - self.center_) / self.scale_
        if self.clip_outlier:
            np.clip(out, -self.clip, self.clip, out=out)
        return out.astype(X.dtype, copy=False)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
