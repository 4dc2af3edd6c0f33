"""Text as features: sentence embeddings, sentiment and daily aggregation.

torch and sentence-transformers are imported lazily, on the first ``fit`` of
an estimator that needs them; ``import skquant.text`` stays light.
"""

from skquant.text._aggregate import DailyTextAggregator
from skquant.text._cache import EmbeddingCache
from skquant.text._sentence import SentenceEmbedder
from skquant.text._sentiment import SentimentFeatures, ZeroShotSentiment

__all__ = [
    "DailyTextAggregator",
    "EmbeddingCache",
    "SentenceEmbedder",
    "SentimentFeatures",
    "ZeroShotSentiment",
]
