"""SHAP explanations of fitted skquant models, pipelines and ModelSelector.

shap is imported when :func:`explain` runs, never at import time.
"""

from __future__ import annotations

import warnings
from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from skquant._panel import DATE_LEVEL, get_dates, is_panel

__all__ = ["explain", "shap_by_date"]

_METHODS = ("auto", "tree", "gradient", "linear", "permutation", "text")


def _import_shap():
    try:
        import shap
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError(
            "skquant.explain needs shap (and matplotlib for the plots); install "
            "them with pip install 'skquant[explain]'."
        ) from exc
    return shap


# --------------------------------------------------------------- unwrapping
def _unwrap(estimator):
    """The model that makes the predictions: ModelSelector's choice, the
    regressor of CrossSectionalTargetRegressor (its predictions are the
    regressor's, untransformed)."""
    from skquant.model_selection import ModelSelector
    from skquant.preprocessing import CrossSectionalTargetRegressor

    while True:
        check_is_fitted(estimator)
        if isinstance(estimator, ModelSelector):
            estimator = estimator.estimator_
        elif isinstance(estimator, CrossSectionalTargetRegressor):
            estimator = estimator.regressor_
        else:
            return estimator


def _kind(est) -> str:
    """Which explainer fits a (non-pipeline) fitted model."""
    from skquant.gbdt import DoubleEnsembleRegressor
    from skquant.nn._base import _BaseNetRegressor

    if isinstance(est, _BaseNetRegressor):
        return "gradient"
    if isinstance(est, DoubleEnsembleRegressor):
        if all(_kind(sub) == "tree" for sub in est.estimators_):
            return "double_ensemble"
        return "permutation"
    if hasattr(est, "booster_") or callable(getattr(est, "get_booster", None)):
        return "tree"  # LightGBM, XGBoost (and their skquant subclasses)
    module = type(est).__module__
    if module.startswith(("sklearn.tree", "sklearn.ensemble._forest")) or (
        module.startswith("sklearn.ensemble._gb")
    ):
        return "tree"
    coef = getattr(est, "coef_", None)
    if (
        module.startswith("sklearn.linear_model")
        and coef is not None
        and np.ndim(coef) == 1
        and np.ndim(getattr(est, "intercept_", 0.0)) == 0
    ):
        return "linear"
    return "permutation"


# --------------------------------------------------------------------- data
def _is_text_values(values) -> bool:
    values = [
        v
        for v in values
        if v is not None and not (isinstance(v, float) and np.isnan(v))
    ]
    return bool(values) and all(isinstance(v, str) for v in values)


def _text_columns(X) -> list:
    if isinstance(X, pd.DataFrame):
        return [
            c
            for c in X.columns
            if not pd.api.types.is_numeric_dtype(X[c].dtype)
            and not isinstance(X[c].dtype, pd.CategoricalDtype)
            and _is_text_values(X[c].to_numpy(dtype=object)[:200])
        ]
    return []


def _is_text_only(X) -> bool:
    if isinstance(X, pd.DataFrame):
        return X.shape[1] == 1 and bool(_text_columns(X))
    if isinstance(X, pd.Series | list | tuple) or (
        isinstance(X, np.ndarray) and X.ndim == 1
    ):
        return _is_text_values(list(X)[:200])
    return False


def _row_dates(X, dates):
    if dates is not None:
        return np.asarray(get_dates(X, dates, n_samples=len(X)))
    if is_panel(X):
        return np.asarray(X.index.get_level_values(DATE_LEVEL))
    return None


def _instance_names(X, dates):
    if is_panel(X):
        return list(X.index)
    if dates is not None:
        return list(np.asarray(dates))
    return None


def _feature_names(X, est=None) -> list[str]:
    if isinstance(X, pd.DataFrame):
        return [str(c) for c in X.columns]
    names = getattr(est, "feature_names_in_", None)
    n = np.shape(X)[1]
    if names is not None and len(names) == n:
        return [str(c) for c in names]
    return [f"x{i}" for i in range(n)]


def _background(X, background, row_dates, *, max_background, fraction, rng):
    """Background rows: the given ones, else X's earliest dates (or rows).

    Never later than the first ``fraction`` of X's dates, so an explanation
    of a test period does not compare it with its own future.
    """
    if background is None:
        n = len(X)
        if row_dates is not None:
            uniques = np.unique(row_dates)
            cutoff = uniques[max(int(np.ceil(fraction * len(uniques))), 1) - 1]
            rows = np.flatnonzero(row_dates <= cutoff)
        else:
            rows = np.arange(max(int(np.ceil(fraction * n)), 1))
        source = X
    else:
        source = background
        rows = np.arange(len(background))
    if len(rows) > max_background:
        rows = np.sort(rng.choice(rows, size=max_background, replace=False))
    if isinstance(source, pd.DataFrame | pd.Series):
        return source.iloc[rows]
    return np.asarray(source)[rows]


def _numeric(X) -> np.ndarray:
    return np.asarray(X, dtype=np.float64)


def _explanation(shap, values, base_values, data, feature_names, instance_names):
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 3 and values.shape[2] == 1:
        values = values[:, :, 0]
    base = np.broadcast_to(
        np.asarray(base_values, dtype=np.float64).reshape(-1), (len(values),)
    ).copy()
    return shap.Explanation(
        values=values,
        base_values=base,
        data=np.asarray(data),
        feature_names=list(feature_names),
        instance_names=instance_names,
    )


# --------------------------------------------------------------- explainers
def _explain_tree(shap, est, X, bg, names, instances):
    if bg is None:
        explainer = shap.TreeExplainer(est)
    else:
        explainer = shap.TreeExplainer(
            est, data=bg, feature_perturbation="interventional"
        )
    out = explainer(_model_view(est, X))
    return _explanation(shap, out.values, out.base_values, out.data, names, instances)


def _explain_double_ensemble(shap, est, X, names, instances):
    """Tree SHAP of each sub-model, weighted as ``predict`` weights them."""
    Xn = _numeric(X)
    values = np.zeros_like(Xn)
    base = np.zeros(len(Xn))
    weights = est.sub_weights_[: len(est.estimators_)]
    for sub, cols, w in zip(
        est.estimators_, est.feature_subsets_, weights, strict=False
    ):
        out = shap.TreeExplainer(sub)(Xn[:, cols])
        values[:, cols] += w * out.values
        base += w * np.asarray(out.base_values).reshape(-1)
    total = weights.sum()
    return _explanation(shap, values / total, base / total, Xn, names, instances)


def _explain_gradient(shap, est, X, bg, names, instances, nsamples, seed):
    """Expected gradients of the net's torch module on its validated input."""
    import torch

    module = est.net_.module_
    dtype = next(module.parameters()).dtype
    device = next(module.parameters()).device
    x = torch.as_tensor(est._validate_X(X, reset=False), dtype=dtype, device=device)
    b = torch.as_tensor(est._validate_X(bg, reset=False), dtype=dtype, device=device)
    was_training = module.training
    module.eval()
    try:
        explainer = shap.GradientExplainer(module, b)
        values = explainer.shap_values(x, nsamples=nsamples, rseed=seed)
        with torch.no_grad():
            base = float(module(b).mean())
    finally:
        module.train(was_training)
    values = np.asarray(values).reshape(len(x), -1)
    return _explanation(shap, values, base, x.cpu().numpy(), names, instances)


def _explain_linear(shap, est, X, bg, names, instances):
    background = _numeric(bg)
    masker = shap.maskers.Independent(background, max_samples=len(background))
    explainer = shap.LinearExplainer(est, masker)
    out = explainer(_numeric(X))
    return _explanation(
        shap, out.values, out.base_values, _numeric(X), names, instances
    )


def _encoded(X, bg):
    """Numeric matrices for the masker, and a function back to model input.

    Non-numeric columns (categories, texts) become integer codes shared by X
    and the background; the model sees the original values again.
    """
    if not isinstance(X, pd.DataFrame):
        return _numeric(X), _numeric(bg), lambda rows: rows
    columns, dtypes = list(X.columns), X.dtypes.to_dict()
    X_codes = np.empty(X.shape)
    bg_codes = np.empty((len(bg), X.shape[1]))
    decoders = {}
    for j, column in enumerate(columns):
        dtype = dtypes[column]
        if pd.api.types.is_numeric_dtype(dtype) and not isinstance(
            dtype, pd.CategoricalDtype
        ):
            X_codes[:, j] = X[column].to_numpy(dtype=np.float64)
            bg_codes[:, j] = bg[column].to_numpy(dtype=np.float64)
            continue
        both = np.concatenate(
            [X[column].to_numpy(dtype=object), bg[column].to_numpy(dtype=object)]
        )
        codes, uniques = pd.factorize(both)  # missing values -> -1
        X_codes[:, j], bg_codes[:, j] = codes[: len(X)], codes[len(X) :]
        decoders[j] = np.append(np.asarray(uniques, dtype=object), None)

    def to_frame(rows):
        frame = pd.DataFrame(rows, columns=columns)
        for j, uniques in decoders.items():
            frame[columns[j]] = uniques[rows[:, j].astype(np.int64)]  # -1 -> None
        return frame.astype(dtypes)

    return X_codes, bg_codes, to_frame


def _explain_permutation(shap, est, X, bg, names, instances, max_evals, seed):
    """Model-agnostic: permutation SHAP of ``est.predict`` over a background."""
    data, background, to_input = _encoded(X, bg)

    def predict(rows):
        # a closure, not est.predict: shap deep-copies a bound method's owner
        # and breaks pipelines fitted on DataFrames
        return np.asarray(est.predict(to_input(rows)), dtype=np.float64)

    masker = shap.maskers.Independent(background, max_samples=len(background))
    explainer = shap.PermutationExplainer(predict, masker, seed=seed)
    if max_evals == "auto":
        evals = max(2 * data.shape[1] + 1, 500)
    else:
        evals = int(max_evals)
    out = explainer(data, max_evals=evals, silent=True)
    shown = X.to_numpy(dtype=object) if isinstance(X, pd.DataFrame) else data
    if isinstance(X, pd.DataFrame) and all(
        pd.api.types.is_numeric_dtype(t) for t in X.dtypes
    ):
        shown = data
    return _explanation(shap, out.values, out.base_values, shown, names, instances)


def _explain_text(shap, est, X, max_evals, seed):
    """Token-level SHAP of a text-only model with a text masker."""
    if isinstance(X, pd.DataFrame):
        column = X.columns[0]
        texts = X[column].tolist()

        def wrap(batch):
            return pd.DataFrame({column: list(batch)})
    elif isinstance(X, pd.Series):
        texts, name = X.tolist(), X.name

        def wrap(batch):
            return pd.Series(list(batch), name=name)
    else:
        texts = list(X)

        def wrap(batch):
            return list(batch)

    def predict(batch):
        return np.asarray(est.predict(wrap(batch)), dtype=np.float64)

    explainer = shap.Explainer(predict, shap.maskers.Text(r"\W+"), seed=seed)
    evals = 100 if max_evals == "auto" else int(max_evals)
    return explainer(texts, max_evals=evals, silent=True)


def _split_pipeline(model):
    """The fitted transformer heads and the final model, through nested
    pipelines and wrappers (e.g. a Pipeline ending in a ModelSelector whose
    choice is itself a pipeline)."""
    heads = []
    while True:
        model = _unwrap(model)
        if not isinstance(model, Pipeline):
            return heads, model
        if len(model.steps) > 1:
            heads.append(model[:-1])
        model = model.steps[-1][1]


def _transform(heads, X):
    """X through the pipelines' transformers, named by ``get_feature_names_out``.

    The pipelines run with their own output settings; names are traced from
    X's columns through every step (so a step fitted on arrays does not
    reset them to x0, x1, ...).
    """
    Xt, names = X, list(X.columns) if isinstance(X, pd.DataFrame) else None
    for head in heads:
        Xt_next = head.transform(Xt)
        try:
            names = [str(c) for c in head.get_feature_names_out(names)]
        except (AttributeError, ValueError, TypeError):
            names = (
                [str(c) for c in Xt_next.columns]
                if isinstance(Xt_next, pd.DataFrame)
                else None
            )
        Xt = Xt_next
    n_out = np.shape(Xt)[1]
    if names is None or len(names) != n_out:
        names = [f"x{i}" for i in range(n_out)]
    index = X.index if isinstance(X, pd.DataFrame) and len(X) == len(Xt) else None
    if isinstance(Xt, pd.DataFrame):
        Xt = Xt.set_axis(names, axis=1)
        if index is not None and not is_panel(Xt):
            Xt = Xt.set_axis(index, axis=0)
        return Xt
    return pd.DataFrame(np.asarray(Xt), columns=names, index=index)


# -------------------------------------------------------------------- main
def explain(
    estimator,
    X,
    background=None,
    *,
    method: str = "auto",
    dates=None,
    max_background: int = 100,
    background_fraction: float = 0.2,
    max_evals="auto",
    nsamples: int = 200,
    random_state=0,
):
    """SHAP values of a fitted skquant model, pipeline or ModelSelector.

    The explainer follows the model (``method="auto"``):

    - gradient boosting (:class:`~skquant.gbdt.LightGBMRegressor`,
      :class:`~skquant.gbdt.XGBoostRegressor`, LightGBM/XGBoost and
      scikit-learn tree ensembles): exact Tree SHAP
      (``shap.TreeExplainer``), with the rounds ``predict`` uses;
      :class:`~skquant.gbdt.DoubleEnsembleRegressor`: the sub-models' Tree
      SHAP on their feature subsets, weighted as in ``predict`` (exact);
    - :mod:`skquant.nn` networks: expected gradients
      (``shap.GradientExplainer``) of the torch module, fed the validated
      input tensor (DeepExplainer breaks additivity on RNNs);
    - scikit-learn linear models: ``shap.LinearExplainer`` (exact);
    - anything else: model-agnostic permutation SHAP of ``predict`` over
      a background;
    - text-only input (a column of strings): token-level SHAP with
      ``shap.maskers.Text``.

    A :class:`~sklearn.pipeline.Pipeline` whose last step has an exact or
    gradient explainer is explained in its *transformed* space: ``X`` goes
    through ``pipe[:-1]`` with pandas output, so the values are per
    transformed feature and carry its name (``get_feature_names_out``). Any
    other pipeline is explained as a whole, model-agnostically, per input
    column. :class:`~skquant.model_selection.ModelSelector` and
    :class:`~skquant.preprocessing.CrossSectionalTargetRegressor` are
    explained through the model they wrap.

    Parameters
    ----------
    estimator : fitted estimator
        A skquant model, a Pipeline, a ModelSelector, or any regressor.
    X : array-like, pandas.DataFrame or sequence of str
        The rows to explain. A panel keeps its ``(datetime, instrument)``
        index in ``instance_names`` (for :func:`shap_by_date`).
    background : array-like or pandas.DataFrame, default=None
        Reference rows (the "absent feature" values), e.g. a sample of the
        training period. ``None`` draws them from the earliest
        ``background_fraction`` of X's dates (of its rows, without dates):
        never from later dates. Tree SHAP uses the trees' own training
        statistics unless a background is given (then interventional).
    method : {"auto", "tree", "gradient", "linear", "permutation", "text"}, \
default="auto"
        Force an explainer. ``"permutation"`` on a pipeline explains the
        whole pipeline per input column.
    dates : array-like of shape (n_samples,), default=None
        Row dates for array input (background choice and per-date plots).
    max_background : int, default=100
        At most this many background rows (a random, time-sorted sample).
    background_fraction : float in (0, 1], default=0.2
        Share of the earliest dates the default background is drawn from.
    max_evals : int or "auto", default="auto"
        Model evaluations per row for the permutation (``max(500,
        2 * n_features + 1)``) and text (100) explainers.
    nsamples : int, default=200
        Samples per row of the gradient explainer.
    random_state : int, RandomState instance or None, default=0
        Seeds the background sample and the sampling explainers.

    Returns
    -------
    shap.Explanation
        ``values`` of shape (n_samples, n_features) (per token for text),
        ``base_values`` (n_samples,), ``data``, ``feature_names``, and
        ``instance_names`` (the panel index or the dates, when known). For
        the exact explainers ``values.sum(1) + base_values`` equals the
        predictions.

    Raises
    ------
    ValueError
        For text mixed with other columns and ``method="text"`` (token-level
        values need a text-only pipeline), or a method that does not apply.

    Warns
    -----
    UserWarning
        When text columns are mixed with other columns: each column (a whole
        text included) is then one feature of a model-agnostic explanation.

    See Also
    --------
    shap_by_date : Mean absolute SHAP value per feature and date.
    skquant.explain.plot_summary, skquant.explain.plot_by_date : Figures.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from skquant.explain import explain
    >>> from skquant.gbdt import LightGBMRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.normal(size=(200, 3)), columns=["mom", "rev", "vol"])
    >>> y = X["mom"] - 0.5 * X["rev"] + 0.1 * rng.normal(size=200)
    >>> model = LightGBMRegressor(n_estimators=20, n_jobs=1).fit(X, y)
    >>> sv = explain(model, X)
    >>> sv.values.shape, sv.feature_names
    ((200, 3), ['mom', 'rev', 'vol'])
    >>> bool(np.allclose(sv.values.sum(1) + sv.base_values, model.predict(X)))
    True
    """
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}; got {method!r}.")
    if not (isinstance(max_background, Integral) and max_background >= 1):
        raise ValueError(
            f"max_background must be a positive int; got {max_background!r}."
        )
    if not 0 < background_fraction <= 1:
        raise ValueError(
            f"background_fraction must be in (0, 1]; got {background_fraction!r}."
        )
    shap = _import_shap()
    rng = check_random_state(random_state)
    seed = int(rng.randint(np.iinfo(np.int32).max))
    model = _unwrap(estimator)

    if _is_text_only(X) or method == "text":
        if not _is_text_only(X):
            raise ValueError(
                "method='text' needs text-only input (a list, Series or one-column "
                "DataFrame of strings) and a model that predicts from it; token-level "
                f"values cannot be computed for columns {_feature_names(X)}."
            )
        return _explain_text(shap, model, X, max_evals, seed)
    text = _text_columns(X)
    if text:
        warnings.warn(
            f"X mixes text columns {text} with other columns: token-level SHAP "
            "needs a text-only pipeline (explain it on the text column alone). "
            "Each column, a whole text included, is one feature here "
            "(model-agnostic).",
            UserWarning,
            stacklevel=2,
        )
        method = "permutation"

    row_dates = _row_dates(X, dates)
    instances = _instance_names(X, dates)

    def background_rows(given=None):
        # the user's background, else rows drawn from the earliest dates
        return _background(
            X,
            given,
            row_dates,
            max_background=max_background,
            fraction=background_fraction,
            rng=rng,
        )

    bg = (
        None
        if background is None and method in ("auto", "tree")
        else background_rows(background)
    )

    heads, final = _split_pipeline(model)
    if heads and method != "permutation":
        kind = _kind(final)
        if kind in ("tree", "double_ensemble", "gradient", "linear"):
            if bg is None and kind in ("gradient", "linear"):
                bg = background_rows()
            Xt = _transform(heads, X)
            bgt = None if bg is None else _transform(heads, bg)
            return _dispatch(
                shap,
                final,
                kind if method == "auto" else method,
                Xt,
                bgt,
                _feature_names(Xt, final),
                instances,
                max_evals,
                nsamples,
                seed,
            )
        if method != "auto":
            raise ValueError(
                f"method={method!r} does not apply to a pipeline ending in "
                f"{type(final).__name__}; use 'auto' or 'permutation'."
            )
        method = "permutation"
    elif not heads:
        model = final
    kind = _kind(model) if method == "auto" else method
    if bg is None and kind in ("gradient", "linear", "permutation"):
        bg = background_rows()
    return _dispatch(
        shap,
        model,
        kind,
        X,
        bg,
        _feature_names(X, model),
        instances,
        max_evals,
        nsamples,
        seed,
    )


def _model_view(est, X):
    """X as the model saw it in fit: a frame only if it was fitted on one."""
    if isinstance(X, pd.DataFrame) and not hasattr(est, "feature_names_in_"):
        return X.to_numpy()
    return X


def _dispatch(shap, est, kind, X, bg, names, instances, max_evals, nsamples, seed):
    if kind != "permutation":  # the permutation explainer rebuilds frames itself
        X = _model_view(est, X)
        bg = None if bg is None else _model_view(est, bg)
    if kind == "tree":
        return _explain_tree(shap, est, X, bg, names, instances)
    if kind == "double_ensemble":
        return _explain_double_ensemble(shap, est, X, names, instances)
    if kind == "gradient":
        if not hasattr(est, "net_"):
            raise ValueError(
                f"method='gradient' needs a skquant.nn model; got {type(est).__name__}."
            )
        return _explain_gradient(shap, est, X, bg, names, instances, nsamples, seed)
    if kind == "linear":
        return _explain_linear(shap, est, X, bg, names, instances)
    return _explain_permutation(shap, est, X, bg, names, instances, max_evals, seed)


def shap_by_date(
    explanation, dates=None, *, statistic: str = "mean_abs"
) -> pd.DataFrame:
    """Per-date summary of SHAP values: one row per date, one column per feature.

    Tracks how much each feature drives the predictions over time (e.g. to
    see a factor fade out of the model's cross-sections).

    Parameters
    ----------
    explanation : shap.Explanation
        From :func:`explain`; its ``instance_names`` give the dates when it
        was computed on a panel or with ``dates``.
    dates : array-like of shape (n_samples,), default=None
        The dates of the rows, when the explanation does not carry them.
    statistic : {"mean_abs", "mean"}, default="mean_abs"
        Mean absolute SHAP value per date (importance) or mean SHAP value
        (direction).

    Returns
    -------
    pandas.DataFrame
        Indexed by date (sorted), columns the feature names.

    Examples
    --------
    >>> import numpy as np
    >>> import shap
    >>> from skquant.explain import shap_by_date
    >>> sv = shap.Explanation(np.array([[1.0, -2.0], [-3.0, 0.0], [2.0, 2.0]]),
    ...                       feature_names=["a", "b"])
    >>> shap_by_date(sv, dates=["2017-01-03", "2017-01-03", "2017-01-04"])
                  a    b
    datetime
    2017-01-03  2.0  1.0
    2017-01-04  2.0  2.0
    """
    if statistic not in ("mean_abs", "mean"):
        raise ValueError(f"statistic must be 'mean_abs' or 'mean'; got {statistic!r}.")
    values = np.asarray(explanation.values)
    if values.dtype == object or values.ndim != 2:
        raise ValueError(
            "shap_by_date needs one value per row and feature (not token-level "
            "text values)."
        )
    if dates is None:
        names = explanation.instance_names
        if names is None:
            raise ValueError(
                "The explanation carries no dates: explain a panel, pass dates= to "
                "explain, or pass dates= here."
            )
        dates = [n[0] if isinstance(n, tuple) else n for n in names]
    dates = np.asarray(dates)
    if len(dates) != len(values):
        raise ValueError(
            f"dates has {len(dates)} entries for {len(values)} explained rows."
        )
    features = explanation.feature_names
    if features is None:
        features = [f"x{i}" for i in range(values.shape[1])]
    frame = pd.DataFrame(
        np.abs(values) if statistic == "mean_abs" else values,
        columns=list(features),
    )
    frame.index = pd.Index(dates, name="datetime")
    return frame.groupby(level=0, sort=True).mean()
