"""XGBoost regressor with Qlib's presets and time-aware early stopping."""

from __future__ import annotations

from sklearn.utils import _safe_indexing
from sklearn.utils.validation import _num_samples
from xgboost import XGBRegressor
from xgboost.callback import EarlyStopping

from skquant.gbdt._early_stopping import (
    DailyIC,
    check_feature_count,
    check_target,
    check_validation_params,
    eval_set_dates,
    temporary_attributes,
)
from skquant.gbdt._presets import get_preset
from skquant.model_selection._holdout import resolve_dates, time_holdout

__all__ = ["XGBoostRegressor"]

# Parameters of ours that XGBoost's learner must never see.
_OWN_PARAMS = (
    "validation_fraction",
    "validation_start",
    "validation_gap",
    "early_stopping_metric",
)
_TIME_ATTRIBUTES = ("train_end_", "validation_start_")


class XGBoostRegressor(XGBRegressor):
    """XGBoost regressor with Qlib presets and a time-ordered early-stopping holdout.

    An :class:`xgboost.XGBRegressor` (every native parameter is accepted and
    visible to ``get_params``/``set_params``/``GridSearchCV``) that can hold out
    the *last dates* of its training data to stop boosting early, as Qlib's
    ``XGBModel`` stops on its "valid" segment. ``fit`` prints nothing unless
    ``verbose=True`` is passed to it.

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
        date (the label horizon of Qlib's ``close[t+2]/close[t+1]-1``).
    early_stopping_rounds : int or None, default=50
        XGBoost's own parameter, with Qlib's value as default. Used only when
        there is a validation set (holdout or ``eval_set``); ``None`` disables
        early stopping.
    early_stopping_metric : {"loss", "ic", "rank_ic"}, default="loss"
        ``"loss"``: XGBoost's last ``eval_metric`` (``rmse`` by default) on
        the last evaluation set. ``"ic"``/``"rank_ic"``: the mean daily
        Pearson/Spearman IC of the predictions on the validation dates,
        maximised; it replaces ``eval_metric`` during ``fit``.
    **kwargs
        Any :class:`xgboost.XGBRegressor` parameter (``n_estimators``,
        ``learning_rate``, ``max_depth``, ``n_jobs``, ``random_state``, ...).
        ``n_jobs=None`` uses all cores.

    Attributes
    ----------
    best_iteration_ : int
        Number of boosting rounds that ``predict`` uses (1-based; XGBoost's
        own ``best_iteration`` is the 0-based index of the best round).
    train_end_, validation_start_ : date or int
        Last training date and first validation date of the holdout (row
        positions for arrays without dates). Only set when a holdout is used.
    feature_importances_ : ndarray of shape (n_features,)
        XGBoost's importances (``importance_type``).
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of str
        Column names, when ``X`` was a DataFrame.

    See Also
    --------
    LightGBMRegressor : The same for LightGBM.

    Notes
    -----
    ``predict`` uses the best round found by early stopping (XGBoost's
    default). **Qlib's** ``XGBModel`` **predicts with every tree it trained**,
    including the ``early_stopping_rounds`` rounds after the best one; to do
    the same, pass ``iteration_range=(0, model.get_booster().num_boosted_rounds())``
    to ``predict``.

    Examples
    --------
    >>> import numpy as np
    >>> from skquant.gbdt import XGBoostRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 3))
    >>> y = X[:, 0] + 0.1 * rng.normal(size=400)
    >>> model = XGBoostRegressor(n_estimators=300, validation_fraction=0.25,
    ...                          early_stopping_rounds=10, random_state=0,
    ...                          n_jobs=1)
    >>> model.fit(X, y).best_iteration_ < 300
    True
    >>> XGBoostRegressor.from_preset("alpha158").get_params()["learning_rate"]
    0.0421
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
        self.early_stopping_metric = early_stopping_metric
        super().__init__(early_stopping_rounds=early_stopping_rounds, **kwargs)

    @classmethod
    def from_preset(cls, name: str, **overrides) -> XGBoostRegressor:
        """Build the model with Qlib's tuned hyperparameters.

        Parameters
        ----------
        name : {"alpha158", "alpha360"}
            Qlib's XGBoost benchmark config (the same for both feature sets):
            ``eval_metric="rmse"``, ``colsample_bytree=0.8879``,
            ``learning_rate=0.0421`` (``eta``), ``max_depth=8``,
            ``subsample=0.8789``, up to 1000 rounds with early stopping after
            50 on the last 20% of the dates. The YAML's ``n_estimators: 647`` is
            ignored by Qlib (see :mod:`skquant.gbdt._presets`) and here too;
            ``nthread: 20`` becomes ``n_jobs=None`` (all cores).
        **overrides
            Parameters that replace the preset's, e.g. ``n_jobs=2``.

        Returns
        -------
        XGBoostRegressor
        """
        return cls(**{**get_preset("xgboost", name), **overrides})

    def get_xgb_params(self) -> dict:
        """XGBoost learner parameters, without skquant's own ones."""
        params = super().get_xgb_params()
        for name in _OWN_PARAMS:
            params.pop(name, None)
        return params

    def fit(
        self,
        X,
        y,
        *,
        sample_weight=None,
        dates=None,
        groups=None,
        eval_set=None,
        verbose: bool | int = False,
        sample_weight_eval_set=None,
        **fit_params,
    ) -> XGBoostRegressor:
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
            One date per row, for arrays.
        eval_set : list of (X, y), default=None
            Explicit evaluation sets, instead of a holdout.
        verbose : bool or int, default=False
            Print the evaluation log (XGBoost's default is ``True``).
        sample_weight_eval_set : list of array-like, default=None
            Weights of the evaluation sets.
        **fit_params
            Passed to :meth:`xgboost.XGBRegressor.fit` (``base_margin``,
            ``xgb_model``, ...).

        Returns
        -------
        self : XGBoostRegressor
        """
        check_validation_params(self)
        check_target(y)
        for name in _TIME_ATTRIBUTES:
            self.__dict__.pop(name, None)
        use_holdout = (
            self.validation_fraction is not None or self.validation_start is not None
        )
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
            if sample_weight is not None:
                sample_weight_eval_set = [
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

        # XGBoost reads these from the estimator inside fit; they are set for
        # the duration of the call and restored afterwards.
        callbacks = list(self.callbacks or [])
        if eval_set and self.early_stopping_rounds:
            callbacks.append(
                EarlyStopping(
                    rounds=int(self.early_stopping_rounds),
                    metric_name=None if ic is None else ic.method,
                    maximize=None if ic is None else True,
                )
            )
        overrides = {"early_stopping_rounds": None, "callbacks": callbacks or None}
        if ic is not None:
            overrides["eval_metric"] = ic
        with temporary_attributes(self, **overrides):
            super().fit(
                X,
                y,
                sample_weight=sample_weight,
                eval_set=eval_set,
                verbose=verbose,
                sample_weight_eval_set=sample_weight_eval_set,
                **fit_params,
            )
        if use_holdout:
            self.train_end_ = split.train_end
            self.validation_start_ = split.validation_start
        return self

    def predict(self, X, **kwargs):
        """Predict with the best round found by early stopping (see Notes).

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Samples, with the columns seen in ``fit``.
        **kwargs
            Passed to :meth:`xgboost.XGBRegressor.predict` (``iteration_range``,
            ``output_margin``, ``base_margin``, ...).

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        check_feature_count(self, X)
        return super().predict(X, **kwargs)

    @property
    def best_iteration_(self) -> int:
        """Number of boosting rounds used by ``predict`` (1-based)."""
        try:
            return int(self.best_iteration) + 1
        except AttributeError:
            return int(self.get_booster().num_boosted_rounds())
