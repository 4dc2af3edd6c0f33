"""Qlib's Alpha158/Alpha360 factors and label for daily panels.

Panels are DataFrames indexed by ``(datetime, instrument)`` (see
:func:`skquant.check_panel`) with adjusted ``open, high, low, close, volume,
vwap`` columns, such as :func:`skquant.datasets.load_sp500` returns.
:class:`SequenceWindower` turns per-row features into windows of past rows for
the sequence models.
"""

from skquant.features._alpha158 import ALPHA158_SELECTED_20, Alpha158
from skquant.features._alpha360 import Alpha360
from skquant.features._label import forward_return
from skquant.features._windower import SequenceWindower

__all__ = [
    "ALPHA158_SELECTED_20",
    "Alpha158",
    "Alpha360",
    "SequenceWindower",
    "forward_return",
]
