"""scikit-learn's API-level checks, for estimators its data checks cannot feed."""

from __future__ import annotations

from sklearn.utils import estimator_checks

__all__ = ["API_CHECKS", "check_estimator_api"]

#: The checks of :func:`sklearn.utils.estimator_checks.check_estimator` that need
#: no data. Estimators that only accept panels or text (which ``check_estimator``
#: skips or cannot generate) must pass these.
API_CHECKS = (
    "check_estimator_cloneable",
    "check_estimator_repr",
    "check_no_attributes_set_in_init",
    "check_get_params_invariance",
    "check_set_params",
    "check_parameters_default_constructible",
    "check_do_not_raise_errors_in_init_or_set_params",
    "check_valid_tag_types",
    "check_estimator_tags_renamed",
    "check_mixin_order",
)


def check_estimator_api(estimator, checks=API_CHECKS) -> None:
    """Run scikit-learn's data-free API checks on ``estimator``.

    Parameters
    ----------
    estimator : estimator instance
        The estimator to check.
    checks : iterable of str, default=API_CHECKS
        Names of functions in :mod:`sklearn.utils.estimator_checks`.

    Raises
    ------
    AssertionError
        From the first check that fails.

    Examples
    --------
    >>> from skquant.preprocessing import CSRankNorm
    >>> from skquant.utils.estimator_checks import check_estimator_api
    >>> check_estimator_api(CSRankNorm())
    """
    for name in checks:
        getattr(estimator_checks, name)(type(estimator).__name__, estimator)
