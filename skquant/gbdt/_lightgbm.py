"""LightGBM regressor with Qlib's presets and time-aware early stopping."""

from __future__ import annotations

import lightgbm
import numpy as np
from lightgbm import LGBMRegressor
from lightgbm.callback import EarlyStopException, record_evaluation
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import _num_samples

from skquant.gbdt._early_stopping import (
    DailyIC,
    check_feature_count,
    check_target,
    check_validation_params,
    eval_set_dates,
)
from skquant.gbdt._lightgbm_dataset import column_dataset
from skquant.gbdt._presets import get_preset
from skquant.model_selection._holdout import resolve_dates, time_holdout

__all__ = ["LightGBMRegressor"]

# Parameters of ours that LightGBM's C++ core must never see
# ("early_stopping_rounds" is also a LightGBM alias of "early_stopping_round").
_OWN_PARAMS = (
    "validation_fraction",
    "validation_start",
    "validation_gap",
    "early_stopping_rounds",
    "early_stopping_metric",
)
_TIME_ATTRIBUTES = ("train_end_", "validation_start_")


class _LastSetEarlyStopping:
    """Stop when the last evaluation set's metric has not improved for ``rounds``.

    Like Qlib (and XGBoost), only the last evaluation set decides; LightGBM's
    own ``early_stopping`` callback watches every set and every metric.
    """

    order = 30
    before_iteration = False

    def __init__(self, rounds: int, metric_name: str | None = None):
        self.rounds = rounds
        self.metric_name = metric_name
        self._best = None

    def __call__(self, env) -> None:
        results = env.evaluation_result_list
        if not results:
            raise ValueError("Early stopping needs an evaluation set and a metric.")
        last_set = results[-1][0]
        entries = [r for r in results if r[0] == last_set]
        if self.metric_name is not None:
            entries = [r for r in entries if r[1] == self.metric_name]
        _, _, score, higher_better = entries[0][:4]
        if self._best is None:
            self._best = (-np.inf if higher_better else np.inf, env.iteration, results)
        best_score, best_iter, best_results = self._best
        improved = score > best_score if higher_better else score < best_score
        if improved or env.iteration == env.begin_iteration:
            self._best = (score, env.iteration, results)
        elif env.iteration - best_iter >= self.rounds:
            raise EarlyStopException(best_iter, best_results)
        if env.iteration == env.end_iteration - 1:
            raise EarlyStopException(self._best[1], self._best[2])


def _pop_eval_pairs(fit_params: dict) -> list | None:
    """Evaluation sets from ``eval_set`` or LightGBM's newer ``eval_X``/``eval_y``."""
    eval_set = fit_params.pop("eval_set", None)
    eval_X = fit_params.pop("eval_X", None)
    eval_y = fit_params.pop("eval_y", None)
    if eval_set is not None:
        if eval_X is not None or eval_y is not None:
            raise ValueError("Specify either eval_set or eval_X and eval_y, not both.")
        return [eval_set] if isinstance(eval_set, tuple) else list(eval_set)
    if (eval_X is None) != (eval_y is None):
        raise ValueError("You must specify eval_X and eval_y, not just one of them.")
    if eval_X is None:
        return None
    if isinstance(eval_X, tuple) and isinstance(eval_y, tuple):
        return list(zip(eval_X, eval_y, strict=True))
    return [(eval_X, eval_y)]


def _lgb_ic_metric(ic: DailyIC):
    def metric(y_true, y_pred):
        return ic.method, ic(y_true, y_pred), True

    return metric


class LightGBMRegressor(LGBMRegressor):
    """LightGBM regressor with Qlib presets and a time-ordered early-stopping holdout.

    A :class:`lightgbm.LGBMRegressor` (every native parameter is accepted and
    visible to ``get_params``/``set_params``/``GridSearchCV``) that can hold out
    the *last dates* of its training data to stop boosting early, as Qlib's
    ``LGBModel`` stops on its "valid" segment. Training is quiet unless
    ``verbose``/``verbosity`` is passed.

    Parameters
    ----------
    validation_fraction : float in (0, 1), default=None
        Share of the distinct dates held out, from the end, for early stopping.
        Dates come from the ``dates`` (or ``groups``) fit parameter, else from a
        ``(datetime, instrument)`` panel index; plain arrays without dates are
        taken to be in time order and their last rows are held out. Never a
        random split. ``None`` (and no ``validation_start``) trains on all rows.
    validation_start : date-like, default=None
        Hold out every date ``>= validation_start`` instead.
    validation_gap : int, default=2
        Dates dropped between the last training date and the first validation
        date. Qlib's label ``close[t+2]/close[t+1]-1`` is known two dates after
        ``t``; without this purge the last training labels would use prices of
        the validation period.
    early_stopping_rounds : int or None, default=50
        Stop when the validation score has not improved for this many rounds
        (Qlib's value). Used only when there is a validation set (holdout or
        ``eval_set``); ``None`` disables early stopping.
    early_stopping_metric : {"loss", "ic", "rank_ic"}, default="loss"
        ``"loss"``: the objective's metric (``l2``) on the validation set.
        ``"ic"``/``"rank_ic"``: the mean daily Pearson/Spearman IC of the
        predictions on the validation dates, maximised.
    **kwargs
        Any :class:`lightgbm.LGBMRegressor` parameter (``n_estimators``,
        ``learning_rate``, ``num_leaves``, ``n_jobs``, ``random_state``, native
        aliases, ...). ``n_jobs=None`` uses the physical cores.

    Attributes
    ----------
    best_iteration_ : int
        Number of boosting rounds that ``predict`` uses: the best round on the
        validation set when early stopping ran, else all rounds.
    train_end_, validation_start_ : date or int
        Last training date and first validation date of the holdout (row
        positions for arrays without dates). Only set when a holdout is used.
    booster_ : lightgbm.Booster
        The fitted booster.
    feature_importances_ : ndarray of shape (n_features,)
        Split counts (``importance_type="split"``) or total gains.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of str
        Column names, when ``X`` was a DataFrame.

    See Also
    --------
    XGBoostRegressor : The same for XGBoost.
    DoubleEnsembleRegressor : Qlib's DoubleEnsemble over LightGBM sub-models.

    Notes
    -----
    ``predict`` uses the best iteration found by early stopping (LightGBM's
    behaviour, and Qlib's ``LGBModel``). Pass ``num_iteration=-1`` to
    ``predict`` to use every tree.

    The holdout rows are split before LightGBM sees the data: training rows
    are strictly before the validation dates, minus ``validation_gap`` dates.
    ``sample_weight`` is split the same way and also weights the validation
    loss. An explicit ``eval_set`` (with ``eval_sample_weight``, ...) can be
    passed to ``fit`` instead of a holdout; like Qlib, early stopping then
    watches the *last* evaluation set.

    Examples
    --------
    >>> import numpy as np
    >>> from skquant.gbdt import LightGBMRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 3))
    >>> y = X[:, 0] + 0.1 * rng.normal(size=400)
    >>> model = LightGBMRegressor(n_estimators=200, validation_fraction=0.25,
    ...                           early_stopping_rounds=10, random_state=0,
    ...                           n_jobs=1)
    >>> model.fit(X, y).best_iteration_ < 200
    True
    >>> model.validation_start_  # arrays: the last 25% of the rows
    300
    >>> LightGBMRegressor.from_preset("alpha158").get_params()["num_leaves"]
    210
    """

    def __init__(
        self,
        *,
        validation_fraction: float | None = None,
        validation_start=None,
        validation_gap: int = 2,
        early_stopping_rounds: int | None = 50,
        early_stopping_metric: str = "loss",
        **kwargs,
    ) -> None:
        self.validation_fraction = validation_fraction
        self.validation_start = validation_start
        self.validation_gap = validation_gap
        self.early_stopping_rounds = early_stopping_rounds
        self.early_stopping_metric = early_stopping_metric
        super().__init__(**kwargs)

    @classmethod
    def from_preset(cls, name: str, **overrides) -> LightGBMRegressor:
        """Build the model with Qlib's tuned hyperparameters.

        Parameters
        ----------
        name : {"alpha158", "alpha360"}
            Qlib's LightGBM benchmark config: ``colsample_bytree=0.8879``,
            ``subsample=0.8789``, ``reg_alpha=205.6999`` (``lambda_l1``),
            ``reg_lambda=580.9768`` (``lambda_l2``), ``max_depth=8``,
            ``num_leaves=210``, ``learning_rate=0.2`` (Alpha158) or ``0.0421``
            (Alpha360), up to 1000 rounds with early stopping after 50 on the
            last 20% of the dates. Qlib's ``num_threads: 20`` is replaced by
            ``n_jobs=None`` (the machine's cores). See
            :mod:`skquant.gbdt._presets` for the source and every translation.
        **overrides
            Parameters that replace the preset's, e.g. ``n_jobs=2``.

        Returns
        -------
        LightGBMRegressor
        """
        return cls(**{**get_preset("lightgbm", name), **overrides})

    def _process_params(self, stage: str) -> dict:
        params = super()._process_params(stage)
        for name in _OWN_PARAMS:
            params.pop(name, None)
        if "verbose" not in params and "verbosity" not in params:
            params["verbosity"] = -1
        return params

    def fit(
        self,
        X,
        y,
        sample_weight=None,
        *,
        dates=None,
        groups=None,
        **fit_params,
    ) -> LightGBMRegressor:
        """Fit, holding out the last dates for early stopping when asked.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Features; NaN allowed. A ``(datetime, instrument)`` panel gives the
            dates of the rows.
        y : array-like of shape (n_samples,)
            Target, without NaN (drop missing labels first).
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights.
        dates, groups : array-like of shape (n_samples,), default=None
            One date per row, for arrays (``groups`` so that a date-grouped
            cross-validation can pass the same array).
        **fit_params
            Passed to :meth:`lightgbm.LGBMRegressor.fit` (``eval_set`` or
            ``eval_X``/``eval_y``, ``eval_sample_weight``, ``eval_names``,
            ``callbacks``, ``init_score``, ``categorical_feature``, ...).
            ``eval_set`` is accepted without LightGBM 4.7's deprecation
            warning (it is passed on as ``eval_X``/``eval_y``).

        Returns
        -------
        self : LightGBMRegressor
        """
        check_validation_params(self)
        check_target(y)
        for name in _TIME_ATTRIBUTES:
            self.__dict__.pop(name, None)
        use_holdout = (
            self.validation_fraction is not None or self.validation_start is not None
        )
        eval_set = _pop_eval_pairs(fit_params)
        callbacks = list(fit_params.pop("callbacks", None) or [])
        ic = None
        if use_holdout:
            if eval_set is not None:
                raise ValueError(
                    "Pass either eval_set or validation_fraction/validation_start, "
                    "not both."
                )
            split = time_holdout(
                _num_samples(X),
                resolve_dates(X, dates, groups),
                validation_fraction=self.validation_fraction,
                validation_start=self.validation_start,
                gap=self.validation_gap,
            )
            y_valid = _safe_indexing(y, split.validation)
            eval_set = [(_safe_indexing(X, split.validation), y_valid)]
            fit_params["eval_names"] = ["validation"]
            if sample_weight is not None:
                fit_params["eval_sample_weight"] = [
                    _safe_indexing(sample_weight, split.validation)
                ]
                sample_weight = _safe_indexing(sample_weight, split.train)
            X, y = _safe_indexing(X, split.train), _safe_indexing(y, split.train)
            if self.early_stopping_metric != "loss":
                ic = DailyIC(self.early_stopping_metric)
                ic.add(y_valid, split.validation_dates)
        elif eval_set is not None and self.early_stopping_metric != "loss":
            ic = DailyIC(self.early_stopping_metric)
            for (_, y_eval), eval_dates in zip(
                eval_set, eval_set_dates(eval_set), strict=True
            ):
                ic.add(y_eval, eval_dates)
        if ic is not None:
            user_metric = fit_params.pop("eval_metric", None)
            if user_metric is None:
                user_metric = []
            elif not isinstance(user_metric, list):
                user_metric = [user_metric]
            fit_params["eval_metric"] = [*user_metric, _lgb_ic_metric(ic)]
        if eval_set and self.early_stopping_rounds:
            callbacks.append(
                _LastSetEarlyStopping(
                    int(self.early_stopping_rounds),
                    None if ic is None else ic.method,
                )
            )
        super().fit(
            X,
            y,
            sample_weight=sample_weight,
            eval_X=None if not eval_set else tuple(p[0] for p in eval_set),
            eval_y=None if not eval_set else tuple(p[1] for p in eval_set),
            callbacks=callbacks or None,
            **fit_params,
        )
        if use_holdout:
            self.train_end_ = split.train_end
            self.validation_start_ = split.validation_start
        return self

    def _fit_columns(
        self, X, columns, y, sample_weight, *, block_floats: int
    ) -> LightGBMRegressor:
        """``fit(X[:, columns], y, sample_weight)`` without copying the columns.

        For :class:`DoubleEnsembleRegressor`, whose sub-models train on
        column subsets of one large array: the LightGBM Dataset is built
        from ``X`` directly (:func:`~skquant.gbdt._lightgbm_dataset.column_dataset`,
        same bins), then trained and recorded as ``LGBMModel.fit`` does for
        an array. Only without a holdout or evaluation set; ``X`` is a
        validated float64 array and ``sample_weight`` a float64 array.
        """
        check_validation_params(self)
        if self.validation_fraction is not None or self.validation_start is not None:
            raise ValueError("_fit_columns does not hold out validation dates.")
        check_target(y)
        for name in _TIME_ATTRIBUTES:
            self.__dict__.pop(name, None)
        params = self._process_params(stage="fit")
        metric = params["metric"]
        metric = [metric] if isinstance(metric, (str, type(None))) else list(metric)
        params["metric"] = [m for m in metric if m is not None]
        self._n_features_in = len(columns)  # as LGBMModel.fit records it
        if self._class_weight is None:
            self._class_weight = self.class_weight
        train_set = column_dataset(
            X, columns, y, sample_weight, params, block_floats=block_floats
        )
        evals_result: dict = {}
        self._Booster = lightgbm.train(
            params,
            train_set,
            num_boost_round=self.n_estimators,
            callbacks=[record_evaluation(evals_result)],
        )
        self._n_features = self._Booster.num_feature()
        self._fitted_with_feature_names = False
        self._evals_result = evals_result
        self._best_iteration = self._Booster.best_iteration
        self._best_score = self._Booster.best_score
        self.fitted_ = True
        self._Booster.free_dataset()
        return self

    def predict(self, X, **kwargs):
        """Predict with the best iteration found by early stopping (see Notes).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Samples, with the columns seen in ``fit``.
        **kwargs
            Passed to :meth:`lightgbm.LGBMRegressor.predict` (``num_iteration``,
            ``start_iteration``, ``raw_score``, ``pred_contrib``, ...).

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        check_feature_count(self, X)
        return super().predict(X, **kwargs)

    @property
    def best_iteration_(self) -> int:
        """Number of boosting rounds used by ``predict`` (1-based)."""
        best = super().best_iteration_
        if best and best > 0:
            return int(best)
        return int(self.booster_.current_iteration())
