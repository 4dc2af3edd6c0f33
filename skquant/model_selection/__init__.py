"""Date-aware model selection: :class:`DateSplit` cross-validation over dates
with a purge gap, and Qlib-style named date segments with :func:`segment_split`.
"""

from skquant.model_selection._split import DateSplit, segment_split

__all__ = ["DateSplit", "segment_split"]
