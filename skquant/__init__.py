"""skquant: Qlib's model zoo and alpha research loop as scikit-learn estimators.

``import skquant`` stays light: numpy, pandas and scikit-learn only. torch,
sentence-transformers and shap are imported by the estimators that need them,
when they are used.
"""

from skquant._panel import check_panel, get_dates, is_panel, to_panel
from skquant.utils.discovery import all_estimators

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "all_estimators",
    "check_panel",
    "get_dates",
    "is_panel",
    "to_panel",
]
