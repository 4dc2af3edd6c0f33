"""DoubleEnsemble (Zhang et al., 2020) with a streaming loss curve.

The algorithm is Qlib's ``DEnsembleModel``; the implementation differs where
Qlib runs out of memory or time:

- sample reweighting needs, per training row, the mean rank of its loss over
  the first and the last 10% of the boosting rounds. Qlib materialises the
  ``n_samples x n_trees`` float64 loss matrix (119 GiB in Qlib issue #1436);
  here the sub-model's staged predictions are streamed tree by tree, keeping
  one running prediction and two running rank sums (``O(n_samples)``), and the
  middle trees are added in a single call;
- feature selection permutes one column at a time inside a small row chunk
  instead of copying the whole frame, re-predicts only the sub-models that use
  the column, and stays in numpy;
- LightGBM sub-models train on their feature subset without a copy of it (see
  :mod:`skquant.gbdt._lightgbm_dataset`), and predict in row chunks.
"""

from __future__ import annotations

import functools
import inspect
import math
import numbers
import warnings

import numpy as np
import pandas as pd
from lightgbm import LGBMModel
from scipy.stats import rankdata
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.utils import check_random_state, get_tags
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from skquant.gbdt._lightgbm import LightGBMRegressor
from skquant.gbdt._presets import get_preset
from skquant.model_selection._holdout import resolve_dates

__all__ = ["DoubleEnsembleRegressor"]

_DEFAULT_SAMPLE_RATIOS = (0.8, 0.7, 0.6, 0.5, 0.4)


# --------------------------------------------------------------------------
# staged predictions: prediction after each boosting round, streamed


class _Staged:
    """Sums of the per-round contributions of a fitted boosted model.

    ``n_stages`` is the number of rounds ``predict`` uses; ``contribution(a, b)``
    is the part of the prediction added by rounds ``a`` to ``b - 1`` (round 0
    includes the initial score), so summing over consecutive ranges gives the
    prediction after any round without storing one column per round.
    """

    n_stages: int

    def contribution(self, start: int, stop: int) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError


class _LightGBMStaged(_Staged):
    def __init__(self, est, view):
        self.booster = est.booster_
        best = self.booster.best_iteration
        self.n_stages = int(best) if best > 0 else self.booster.current_iteration()
        self.view = view

    def contribution(self, start, stop):
        # LightGBM folds the initial score (boost_from_average) into tree 0.
        return self.view.map_rows(
            functools.partial(
                self.booster.predict, start_iteration=start, num_iteration=stop - start
            )
        )


class _XGBoostStaged(_Staged):
    def __init__(self, est, view):
        self.est = est
        try:
            self.n_stages = int(est.best_iteration) + 1
        except AttributeError:
            self.n_stages = int(est.get_booster().num_boosted_rounds())
        self.view = view

    def contribution(self, start, stop):
        if start == 0:  # with XGBoost's base_score

            def rounds(block):
                return self.est.predict(
                    block, output_margin=True, iteration_range=(0, stop)
                )

        else:  # a zero base_margin replaces base_score: the trees' part only

            def rounds(block):
                return self.est.predict(
                    block,
                    output_margin=True,
                    base_margin=np.zeros(len(block)),
                    iteration_range=(start, stop),
                )

        return self.view.map_rows(rounds)


def _staged(est, view) -> _Staged | None:
    """Staged-prediction access for LightGBM and XGBoost models, else None."""
    if hasattr(est, "booster_") and hasattr(est.booster_, "current_iteration"):
        return _LightGBMStaged(est, view)
    if hasattr(est, "get_booster") and callable(est.get_booster):
        return _XGBoostStaged(est, view)
    return None


def _loss_curve_ranks(
    est, X, y, *, columns=None, chunk_size=None
) -> tuple[np.ndarray, np.ndarray] | None:
    """Mean percentile rank of each row's loss over the first/last 10% of rounds.

    Streams the rounds: one running prediction and two running sums, never the
    ``n_samples x n_rounds`` matrix. The model sees ``X[:, columns]`` (all
    columns by default), gathered ``chunk_size`` rows at a time. Learners with
    ``staged_predict`` (e.g. scikit-learn's gradient boosting) are streamed
    through it, on a copy of the columns. Returns None for learners without
    staged predictions.
    """
    n = len(y)
    view = _ColumnView(X, columns, chunk_size)
    staged = _staged(est, view)
    if staged is not None:
        n_stages = staged.n_stages
    elif hasattr(est, "staged_predict"):
        X = view.copy()
        n_stages = getattr(est, "n_estimators_", None)
        if n_stages is None:
            n_stages = sum(1 for _ in est.staged_predict(X[:1]))
    else:
        return None
    part = max(int(n_stages * 0.1), 1)
    wanted = sorted(set(range(part)) | set(range(n_stages - part, n_stages)))
    l_start = np.zeros(n)
    l_end = np.zeros(n)

    if staged is not None:

        def predictions():
            cumulative = np.zeros(n)
            done = 0  # rounds already summed into `cumulative`
            for t in wanted:
                cumulative += staged.contribution(done, t + 1)
                done = t + 1
                yield t, cumulative

    else:
        wanted_set = set(wanted)

        def predictions():
            for t, prediction in enumerate(est.staged_predict(X)):
                if t in wanted_set:
                    yield t, np.asarray(prediction, dtype=np.float64)

    for t, prediction in predictions():
        ranks = rankdata((y - prediction) ** 2) / n  # pandas rank(pct=True)
        if t < part:
            l_start += ranks
        if t >= n_stages - part:
            l_end += ranks
    return l_start / part, l_end / part


def _used_columns(est, n_columns: int) -> np.ndarray:
    """Which input columns a fitted model splits on (all, if unknown)."""
    if hasattr(est, "booster_") and hasattr(est.booster_, "feature_importance"):
        return est.booster_.feature_importance(importance_type="split") > 0
    if hasattr(est, "get_booster") and callable(est.get_booster):
        booster = est.get_booster()
        names = booster.feature_names or [f"f{i}" for i in range(n_columns)]
        used = booster.get_score(importance_type="weight")
        return np.array([name in used for name in names])
    return np.ones(n_columns, dtype=bool)


def _order(X) -> str:
    """Memory order to keep: a DataFrame's values are column-major ("F")."""
    if X.flags.c_contiguous:
        return "C"
    return "F" if X.flags.f_contiguous or X.strides[0] < X.strides[1] else "C"


def _gather(X, start: int, stop: int, columns, flat: np.ndarray) -> np.ndarray:
    """``X[start:stop, columns]`` in ``X``'s memory order, inside ``flat``.

    Column-major input is copied column by column (contiguous ``memcpy``s),
    which is ~20x faster than ``np.take`` across the layout; LightGBM and
    XGBoost read either layout without another copy.
    """
    order = _order(X)
    out = flat[: (stop - start) * len(columns)].reshape(
        (stop - start, len(columns)), order=order
    )
    if order == "F":
        for j, c in enumerate(columns):
            out[:, j] = X[start:stop, c]
    else:
        np.take(X[start:stop], columns, axis=1, out=out)
    return out


def _columns(X, columns) -> np.ndarray:
    """``X[:, columns]`` as a contiguous array (``X`` itself when it is all)."""
    if len(columns) == X.shape[1] and np.array_equal(columns, np.arange(X.shape[1])):
        if X.flags.forc:
            return X
    return _gather(X, 0, len(X), columns, np.empty(len(X) * len(columns)))


class _ColumnView:
    """``X[:, columns]`` without the copy: row blocks gathered on demand.

    ``columns=None`` means all of them; ``chunk_size=None`` one block of every
    row. All the columns of a contiguous ``X`` are read as one block: the
    model reads ``X`` itself, nothing is gathered.
    """

    def __init__(self, X, columns=None, chunk_size=None):
        self.X = X
        if columns is not None and X.flags.forc:
            if np.array_equal(columns, np.arange(X.shape[1])):
                columns = None
        self.columns = columns
        if columns is None and X.flags.forc:
            chunk_size = None
        self.chunk_size = len(X) if chunk_size is None else max(1, int(chunk_size))

    def copy(self) -> np.ndarray:
        if self.columns is None:
            return self.X
        return _columns(self.X, self.columns)

    def map_rows(self, fn) -> np.ndarray:
        """``fn(X[rows, columns])`` for each block of rows, concatenated (float64)."""
        n = len(self.X)
        out = np.empty(n)
        chunk = min(self.chunk_size, n)
        flat = None if self.columns is None else np.empty(chunk * len(self.columns))
        for start in range(0, n, chunk):
            stop = min(start + chunk, n)
            if flat is None:
                block = self.X[start:stop]
            else:
                block = _gather(self.X, start, stop, self.columns, flat)
            out[start:stop] = fn(block)
        return out


def _predictor(est):
    """``est.predict``, or the LightGBM booster's own (same output, no checks).

    Feature selection predicts thousands of row chunks; LightGBM's
    scikit-learn layer re-validates each one, about 15% of the call.
    """
    if isinstance(est, LGBMModel) and hasattr(est, "booster_"):
        threads = est._process_n_jobs(est.n_jobs)  # as LGBMModel.predict does
        return functools.partial(est.booster_.predict, num_threads=threads)
    return est.predict


def _fits_columns_in_place(est) -> bool:
    """Whether ``est`` can train on ``X[:, columns]`` without the copy.

    A :class:`LightGBMRegressor` (its own ``fit``, no holdout) builds its
    LightGBM Dataset from the columns directly, with the same bins.
    """
    return (
        type(est).fit is LightGBMRegressor.fit
        and est.validation_fraction is None
        and est.validation_start is None
    )


def _seed(est, seed: int):
    params = est.get_params(deep=True)
    keys = [k for k in params if k == "random_state" or k.endswith("__random_state")]
    if keys:
        est.set_params(**dict.fromkeys(keys, seed))
    return est


class DoubleEnsembleRegressor(RegressorMixin, BaseEstimator):
    """Qlib's DoubleEnsemble: sub-models on reweighted samples and selected features.

    Trains ``num_models`` sub-models one after the other. After each, *sample
    reweighting* (SR) gives less weight to rows the ensemble already fits well
    and to rows whose loss did not fall during boosting (noise), and *feature
    selection* (FS) keeps fewer of the features whose shuffling hurts the
    ensemble least. The prediction is the ``sub_weights``-weighted mean of the
    sub-models, each on its own feature subset (Zhang et al., 2020; Qlib's
    ``DEnsembleModel``).

    Parameters
    ----------
    estimator : regressor, default=None
        Base learner, cloned for every sub-model. It must accept
        ``sample_weight``. ``None`` means ``LightGBMRegressor()`` with
        LightGBM's defaults and 100 rounds, as Qlib's default (``epochs=100``).
        Qlib's ``epochs`` is the base learner's ``n_estimators``.
    num_models : int, default=6
        Number of sub-models.
    enable_sr : bool, default=True
        Reweight the samples after each sub-model.
    enable_fs : bool, default=True
        Select features after each sub-model.
    alpha1, alpha2 : float, default=1.0
        Weights of the ensemble-loss term and of the loss-curve term of SR.
    bins_sr : int, default=10
        Number of equal-width bins of the SR score ``h``.
    bins_fs : int, default=5
        Number of equal-width bins of the FS score ``g``.
    decay : float, default=0.5
        SR weight of a bin is ``1 / (decay**k * mean(h in bin) + 0.1)`` after
        the k-th sub-model. Qlib's benchmark configs use 0.5 (its constructor
        default is None).
    sample_ratios : sequence of float, default=None
        Share of the features kept from each non-empty FS bin, best bin first.
        ``None`` means ``[0.8, 0.7, 0.6, 0.5, 0.4]``. Needs ``bins_fs`` entries.
    sub_weights : sequence of float, default=None
        Weights of the sub-models in the ensemble; ``None`` means all 1.
    chunk_size : int, default=32768
        Rows per block when the sub-models predict (sample reweighting, feature
        selection, ``predict``) and, with ``chunk_size x n_features`` values
        per block, when a :class:`LightGBMRegressor` sub-model's Dataset is
        built. Bounds the extra memory of these steps to about
        ``chunk_size x n_features`` floats. Does not change the results.
    random_state : int, RandomState instance or None, default=None
        Seeds the sub-models (every ``random_state`` parameter of a clone) and
        the permutations and draws of feature selection.

    Attributes
    ----------
    estimators_ : list of fitted regressors
        The sub-models, in training order.
    feature_subsets_ : list of ndarray of int
        Column indices each sub-model was trained on (sorted).
    sample_weights_ : list of ndarray of shape (n_samples,)
        SR weights each sub-model was trained with (times ``sample_weight``
        when given). The first is all ones.
    feature_scores_ : list of ndarray of shape (n_features,)
        FS score ``g`` of every feature in each selection round.
    sub_weights_ : ndarray of shape (num_models,)
        Weights of the sub-models in the prediction.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of str
        Column names, when ``X`` was a DataFrame.

    See Also
    --------
    LightGBMRegressor : The default base learner.

    Notes
    -----
    SR after sub-model ``k`` (1-based), on the training rows: ``h1`` is the
    percentile rank of minus the ensemble's squared error; the loss curve of
    sub-model ``k`` gives, for each round, the percentile rank of each row's
    squared error; ``l_start``/``l_end`` are their means over the first/last
    10% of rounds and ``h2`` is the percentile rank of ``l_end / l_start``.
    ``h = alpha1 * h1 + alpha2 * h2`` is cut into ``bins_sr`` bins.

    The loss curve is read from the booster's staged predictions (LightGBM,
    XGBoost; ``staged_predict`` for scikit-learn's boosting), streamed round by
    round with ``O(n_samples)`` memory: only the first and last 10% of rounds
    are ranked and the middle rounds are summed in one call. **A learner
    without staged predictions** (a random forest, a linear model) **has no
    loss curve**: SR then uses ``h = alpha1 * h1`` alone and warns.

    FS: for each feature in turn, its column is permuted (one random
    permutation per feature, as in Qlib) and the ensemble re-predicted;
    ``g = mean(d) / (std(d) + 1e-7)`` with ``d`` the rise of each row's squared
    error. ``g`` is cut into ``bins_fs`` bins and ``ceil(ratio * size)``
    features are drawn without replacement from each non-empty bin, the bin
    of highest ``g`` with ``sample_ratios[0]``. Only the sub-models that split
    on the feature are re-predicted (the others cannot change), in row chunks.

    Memory: no sub-model's columns are ever copied whole. A
    :class:`LightGBMRegressor` sub-model (its own ``fit``, no holdout) gets
    its LightGBM Dataset built from ``X``'s columns directly, in blocks, with
    the bins and trees that ``fit(X[:, subset])`` gives; predictions gather
    ``chunk_size`` rows at a time. Other base learners train on a copy of
    their columns (and learners with only ``staged_predict`` see it again in
    SR).

    Differences from Qlib: the permuted ensemble in FS is weighted by
    ``sub_weights`` like the ensemble itself (Qlib averages it uniformly; the
    same with the default weights); feature subsets keep the original column
    order (Qlib builds them from a Python ``set``); rows with zero
    ``sample_weight`` are dropped before fitting.

    References
    ----------
    Chuheng Zhang, Yuanqi Li, Xi Chen, Yifei Jin, Pingzhong Tang, Jian Li.
    "DoubleEnsemble: A New Ensemble Method Based on Sample Reweighting and
    Feature Selection for Financial Data Analysis." ICDM 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from skquant.gbdt import DoubleEnsembleRegressor, LightGBMRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 6))
    >>> y = X[:, 0] - X[:, 1] + 0.1 * rng.normal(size=300)
    >>> model = DoubleEnsembleRegressor(
    ...     LightGBMRegressor(n_estimators=20, n_jobs=1), num_models=3, random_state=0
    ... ).fit(X, y)
    >>> len(model.estimators_), [len(s) for s in model.feature_subsets_]
    (3, [6, 5, 5])
    >>> model.predict(X[:2]).shape
    (2,)
    """

    def __init__(
        self,
        estimator=None,
        *,
        num_models: int = 6,
        enable_sr: bool = True,
        enable_fs: bool = True,
        alpha1: float = 1.0,
        alpha2: float = 1.0,
        bins_sr: int = 10,
        bins_fs: int = 5,
        decay: float = 0.5,
        sample_ratios=None,
        sub_weights=None,
        chunk_size: int = 32768,
        random_state=None,
    ) -> None:
        self.estimator = estimator
        self.num_models = num_models
        self.enable_sr = enable_sr
        self.enable_fs = enable_fs
        self.alpha1 = alpha1
        self.alpha2 = alpha2
        self.bins_sr = bins_sr
        self.bins_fs = bins_fs
        self.decay = decay
        self.sample_ratios = sample_ratios
        self.sub_weights = sub_weights
        self.chunk_size = chunk_size
        self.random_state = random_state

    @classmethod
    def from_preset(cls, name: str, **overrides) -> DoubleEnsembleRegressor:
        """Build the ensemble with Qlib's benchmark configuration.

        Parameters
        ----------
        name : {"alpha158", "alpha360"}
            Qlib's DoubleEnsemble benchmark config: 3 sub-models, SR and FS on,
            ``alpha1=alpha2=1``, ``bins_sr=10``, ``bins_fs=5``, ``decay=0.5``,
            ``sample_ratios=[0.8, 0.7, 0.6, 0.5, 0.4]``, ``sub_weights=[1, 1, 1]``,
            LightGBM sub-models with the LightGBM preset's tree parameters and
            ``epochs`` rounds (28 with ``learning_rate=0.2`` for Alpha158, 136
            with ``0.0421`` for Alpha360), without early stopping.
        **overrides
            Parameters that replace the preset's; ``estimator`` replaces the
            base learner.

        Returns
        -------
        DoubleEnsembleRegressor
        """
        params = get_preset("double_ensemble", name)
        estimator = LightGBMRegressor(**params.pop("estimator_params"))
        return cls(**{"estimator": estimator, **params, **overrides})

    # ------------------------------------------------------------------ helpers
    def _base(self):
        return LightGBMRegressor() if self.estimator is None else self.estimator

    def _check_params(self):
        def positive_int(name, value, minimum=1):
            if (
                isinstance(value, bool)
                or not isinstance(value, numbers.Integral)
                or value < minimum
            ):
                raise ValueError(f"{name} must be an int >= {minimum}; got {value!r}.")

        positive_int("num_models", self.num_models)
        positive_int("bins_sr", self.bins_sr)
        positive_int("bins_fs", self.bins_fs)
        positive_int("chunk_size", self.chunk_size)
        for name in ("alpha1", "alpha2", "decay"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise ValueError(f"{name} must be a real number; got {value!r}.")
        ratios = (
            _DEFAULT_SAMPLE_RATIOS if self.sample_ratios is None else self.sample_ratios
        )
        ratios = np.asarray(ratios, dtype=np.float64)
        if ratios.ndim != 1 or len(ratios) < self.bins_fs:
            raise ValueError(
                f"sample_ratios needs one ratio per FS bin (bins_fs={self.bins_fs}); "
                f"got {self.sample_ratios!r}."
            )
        if np.any((ratios <= 0) | (ratios > 1)):
            raise ValueError(f"sample_ratios must be in (0, 1]; got {ratios.tolist()}.")
        weights = (
            np.ones(self.num_models)
            if self.sub_weights is None
            else np.asarray(self.sub_weights, dtype=np.float64)
        )
        if weights.ndim != 1 or len(weights) < self.num_models:
            raise ValueError(
                f"sub_weights needs one weight per sub-model (num_models="
                f"{self.num_models}); got {self.sub_weights!r}."
            )
        weights = weights[: self.num_models]
        if np.any(weights < 0) or weights.sum() <= 0:
            raise ValueError("sub_weights must be non-negative with a positive sum.")
        return ratios, weights

    def _allow_nan(self) -> bool:
        return get_tags(self._base()).input_tags.allow_nan

    # --------------------------------------------------------------------- fit
    def fit(self, X, y, sample_weight=None, *, dates=None, groups=None):
        """Train the sub-models with sample reweighting and feature selection.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Training features (NaN allowed if the base learner allows it).
        y : array-like of shape (n_samples,)
            Target, without NaN.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights, multiplied into the SR weights; rows of weight 0 are
            dropped.
        dates, groups : array-like of shape (n_samples,), default=None
            Dates of the rows, passed on as ``dates=`` to a base learner whose
            ``fit`` takes them (e.g. a :class:`LightGBMRegressor` with a
            time holdout). A panel index gives them too.

        Returns
        -------
        self : DoubleEnsembleRegressor
        """
        ratios, sub_weights = self._check_params()
        row_dates = resolve_dates(X, dates, groups)
        X, y = validate_data(
            self,
            X,
            y,
            dtype=np.float64,
            ensure_all_finite="allow-nan" if self._allow_nan() else True,
            y_numeric=True,
        )
        y = np.asarray(y, dtype=np.float64)
        user_weight = None
        if sample_weight is not None:
            user_weight = _check_sample_weight(
                sample_weight, X, ensure_non_negative=True
            )
            keep = user_weight > 0
            if not keep.all():
                X, y, user_weight = X[keep], y[keep], user_weight[keep]
                row_dates = None if row_dates is None else row_dates[keep]
        base = self._base()
        fit_takes_dates = "dates" in inspect.signature(base.fit).parameters
        rng = check_random_state(self.random_state)
        n_samples, n_features = X.shape

        features = np.arange(n_features)
        weights = np.ones(n_samples)
        self.estimators_, self.feature_subsets_ = [], []
        self.sample_weights_, self.feature_scores_ = [], []
        self.sub_weights_ = sub_weights
        sub_predictions = []
        for k in range(self.num_models):
            est = _seed(clone(base), rng.randint(np.iinfo(np.int32).max))
            fit_weight = weights if user_weight is None else weights * user_weight
            if _fits_columns_in_place(est):
                est._fit_columns(
                    X,
                    features,
                    y,
                    fit_weight,
                    block_floats=self.chunk_size * n_features,
                )
            else:
                fit_params = {}
                if fit_takes_dates and row_dates is not None:
                    fit_params["dates"] = row_dates
                est.fit(
                    _columns(X, features), y, sample_weight=fit_weight, **fit_params
                )
            self.estimators_.append(est)
            self.feature_subsets_.append(features)
            self.sample_weights_.append(fit_weight)
            if k + 1 == self.num_models:
                break
            view = _ColumnView(X, features, self.chunk_size)
            sub_predictions.append(view.map_rows(_predictor(est)))
            w = sub_weights[: k + 1]
            ensemble = np.tensordot(w, np.asarray(sub_predictions), axes=1) / w.sum()
            loss = (y - ensemble) ** 2
            if self.enable_sr:
                weights = self._sample_reweight(est, X, features, y, loss, k + 1)
            if self.enable_fs:
                features = self._feature_selection(
                    X, y, loss, ensemble, sub_predictions, sub_weights, ratios, rng
                )
        return self

    def _sample_reweight(self, est, X, features, y, loss, k_th) -> np.ndarray:
        n = len(y)
        h = self.alpha1 * (rankdata(-loss) / n)
        curve = _loss_curve_ranks(
            est, X, y, columns=features, chunk_size=self.chunk_size
        )
        if curve is None:
            warnings.warn(
                f"{type(est).__name__} has no staged predictions, so "
                "DoubleEnsemble's loss-curve term (alpha2) is left out of sample "
                "reweighting; only the ensemble loss (alpha1) is used.",
                UserWarning,
                stacklevel=3,
            )
        else:
            l_start, l_end = curve
            h = h + self.alpha2 * (rankdata(l_end / l_start) / n)
        bins = np.asarray(pd.cut(h, self.bins_sr, labels=False), dtype=np.intp)
        counts = np.bincount(bins, minlength=self.bins_sr)
        with np.errstate(invalid="ignore", divide="ignore"):
            h_mean = np.bincount(bins, h, minlength=self.bins_sr) / counts
        return 1.0 / (self.decay**k_th * h_mean[bins] + 0.1)

    def _feature_selection(
        self, X, y, loss, ensemble, sub_predictions, sub_weights, ratios, rng
    ) -> np.ndarray:
        n_samples, n_features = X.shape
        n_models = len(sub_predictions)
        w = sub_weights[:n_models]
        total = w.sum()
        # column position of each feature in each sub-model, -1 if unused there
        position = np.full((n_models, n_features), -1)
        for m, (est, cols) in enumerate(
            zip(self.estimators_, self.feature_subsets_, strict=False)
        ):
            used = _used_columns(est, len(cols))
            position[m, cols[used]] = np.flatnonzero(used)
        chunk = min(self.chunk_size, n_samples)
        flat = np.empty(chunk * max(len(c) for c in self.feature_subsets_))
        predictors = [_predictor(est) for est in self.estimators_]
        g = np.zeros(n_features)
        delta = np.empty(n_samples)
        for f in range(n_features):
            perm = rng.permutation(n_samples)
            models = np.flatnonzero(position[:, f] >= 0)
            if not len(models):
                continue  # no sub-model splits on f: permuting it changes nothing
            delta[:] = 0.0
            for start in range(0, n_samples, chunk):
                stop = min(start + chunk, n_samples)
                shuffled = X[perm[start:stop], f]
                for m in models:
                    cols = self.feature_subsets_[m]
                    block = _gather(X, start, stop, cols, flat)
                    block[:, position[m, f]] = shuffled
                    change = predictors[m](block)
                    change -= sub_predictions[m][start:stop]
                    delta[start:stop] += w[m] * change
            d = (y - (ensemble + delta / total)) ** 2 - loss
            g[f] = np.mean(d) / (np.std(d) + 1e-7)
        g = np.nan_to_num(g, nan=0.0)
        self.feature_scores_.append(g)
        bins = np.asarray(pd.cut(g, self.bins_fs, labels=False), dtype=np.intp)
        selected = []
        for i, b in enumerate(np.unique(bins)[::-1]):
            members = np.flatnonzero(bins == b)
            size = math.ceil(ratios[i] * len(members))
            selected.append(rng.choice(members, size=size, replace=False))
        return np.unique(np.concatenate(selected))

    # ----------------------------------------------------------------- predict
    def predict(self, X) -> np.ndarray:
        """Weighted mean of the sub-models, each on its own features.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        X = validate_data(
            self,
            X,
            reset=False,
            dtype=np.float64,
            ensure_all_finite="allow-nan" if self._allow_nan() else True,
        )
        out = np.zeros(len(X))
        for est, cols, w in zip(
            self.estimators_, self.feature_subsets_, self.sub_weights_, strict=False
        ):
            view = _ColumnView(X, cols, self.chunk_size)
            out += w * view.map_rows(_predictor(est))
        return out / self.sub_weights_[: len(self.estimators_)].sum()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = self._allow_nan()
        return tags
