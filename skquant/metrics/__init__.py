"""Signal metrics: daily (Rank) IC, Qlib's IC summary, and IC scorers."""

from skquant.metrics._ic import (
    ic_summary,
    information_coefficient,
    rank_information_coefficient,
)
from skquant.metrics._scorers import ic_scorer, make_ic_scorer, rank_ic_scorer

__all__ = [
    "ic_scorer",
    "ic_summary",
    "information_coefficient",
    "make_ic_scorer",
    "rank_ic_scorer",
    "rank_information_coefficient",
]
