"""Discover skquant's public estimators, like :func:`sklearn.utils.all_estimators`."""

from __future__ import annotations

import importlib
import inspect

from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    ClusterMixin,
    RegressorMixin,
    TransformerMixin,
)

# Public subpackages whose ``__all__`` lists estimators. A subpackage listed here
# must import without torch, sentence-transformers or shap: estimators load
# those lazily, when they are fitted.
_PUBLIC_SUBPACKAGES = (
    "features",
    "preprocessing",
    "model_selection",
    "gbdt",
    "nn",
    "text",
    "backtest",
)

_TYPE_FILTERS = {
    "classifier": ClassifierMixin,
    "regressor": RegressorMixin,
    "transformer": TransformerMixin,
    "cluster": ClusterMixin,
}

__all__ = ["all_estimators"]


def all_estimators(type_filter=None) -> list[tuple[str, type]]:
    """List every public estimator of skquant.

    Parameters
    ----------
    type_filter : {"classifier", "regressor", "transformer", "cluster"} or list \
            of those, default=None
        Keep only estimators of these kinds; ``None`` keeps them all.

    Returns
    -------
    list of (str, type)
        ``(name, class)`` pairs sorted by name, as in scikit-learn.

    Examples
    --------
    >>> from skquant import all_estimators
    >>> names = [name for name, _ in all_estimators(type_filter="transformer")]
    >>> "Alpha158" in names
    True
    """
    found: dict[str, type] = {}
    for sub in _PUBLIC_SUBPACKAGES:
        try:
            module = importlib.import_module(f"skquant.{sub}")
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith("skquant"):
                continue  # subpackage not written yet
            raise
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if (
                inspect.isclass(obj)
                and issubclass(obj, BaseEstimator)
                and not inspect.isabstract(obj)
                and not name.startswith("_")
                and obj.__module__.startswith("skquant.")
            ):
                found[name] = obj
    estimators = sorted(found.items())
    if type_filter is None:
        return estimators
    filters = [type_filter] if isinstance(type_filter, str) else list(type_filter)
    unknown = [f for f in filters if f not in _TYPE_FILTERS]
    if unknown:
        raise ValueError(
            f"type_filter must be None or among {sorted(_TYPE_FILTERS)}; got {unknown}"
        )
    mixins = tuple(_TYPE_FILTERS[f] for f in filters)
    return [(n, c) for n, c in estimators if issubclass(c, mixins)]
