"""SHAP explanations and plots for skquant models.

:func:`explain` picks the exact or cheapest faithful SHAP explainer for a
fitted skquant model, Pipeline or ModelSelector and returns a
``shap.Explanation``; :func:`shap_by_date` summarises it per date;
:func:`plot_summary` and :func:`plot_by_date` draw it. shap and matplotlib
are imported when these functions run (``pip install 'skquant[explain]'``).
"""

from skquant.explain._plots import plot_by_date, plot_summary
from skquant.explain._shap import explain, shap_by_date

__all__ = ["explain", "plot_by_date", "plot_summary", "shap_by_date"]
