"""Utilities: estimator discovery."""

from skquant.utils.discovery import all_estimators

__all__ = ["all_estimators"]
