"""Real datasets shipped with skquant."""

from skquant.datasets._sp500 import load_sp500

__all__ = ["load_sp500"]
