"""Date-aware model selection: :class:`DateSplit` cross-validation over dates
with a purge gap, Qlib-style named date segments with :func:`segment_split`,
and :class:`ModelSelector`, the seed decision tree as a meta-estimator.
"""

from skquant.model_selection._selector import (
    DataCharacteristics,
    DecisionPath,
    DecisionStep,
    ModelSelector,
)
from skquant.model_selection._split import DateSplit, segment_split

__all__ = [
    "DataCharacteristics",
    "DateSplit",
    "DecisionPath",
    "DecisionStep",
    "ModelSelector",
    "segment_split",
]
