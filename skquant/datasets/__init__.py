"""Real datasets shipped with skquant."""

from skquant.datasets._financial_tweets import load_financial_tweets
from skquant.datasets._sp500 import load_sp500

__all__ = ["load_financial_tweets", "load_sp500"]
