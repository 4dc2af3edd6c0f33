"""Portfolio backtests of a score panel with Qlib's conventions."""

from skquant.backtest._risk import risk_analysis
from skquant.backtest._topk import BacktestResult, topk_dropout_backtest

__all__ = ["BacktestResult", "risk_analysis", "topk_dropout_backtest"]
