"""Qlib's risk analysis of a daily return series."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

__all__ = ["risk_analysis"]


def risk_analysis(
    returns: pd.Series,
    *,
    periods_per_year: int = 238,
    mode: Literal["sum", "product"] = "sum",
) -> pd.Series:
    """Annualised return, information ratio and max drawdown of daily returns.

    Qlib's ``risk_analysis`` conventions by default: ``mode="sum"`` annualises
    the *arithmetic* mean (``mean * periods_per_year``), computes the
    information ratio as ``mean / std * sqrt(periods_per_year)`` (``std`` with
    ``ddof=1``) and the max drawdown on the cumulative *sum* of returns, with
    238 trading days a year (the number Qlib's code uses for daily data).
    ``mode="product"`` compounds instead: geometric annual return
    ``(1 + cum)**(periods_per_year / n) - 1``, the std of ``log(1 + r)`` and the
    drawdown of the compounded curve; pass ``periods_per_year=252`` for the
    usual US convention.

    One deliberate difference from Qlib: the drawdown curve starts at zero
    before the first day, so losses on the first days count as a drawdown
    (Qlib's ``cumsum - cummax`` ignores them).

    Parameters
    ----------
    returns : pandas.Series
        Daily (excess) returns; NaN are dropped.
    periods_per_year : int, default=238
        Periods in a year.
    mode : {"sum", "product"}, default="sum"
        Arithmetic (Qlib's default) or compounded accounting.

    Returns
    -------
    pandas.Series
        ``mean``, ``std``, ``annualized_return``, ``information_ratio``,
        ``max_drawdown``.

    Examples
    --------
    >>> import pandas as pd
    >>> from skquant.backtest import risk_analysis
    >>> r = pd.Series([0.01, -0.02, 0.015, 0.005])
    >>> round(float(risk_analysis(r)["annualized_return"]), 4)
    0.595
    >>> round(float(risk_analysis(r)["max_drawdown"]), 4)
    -0.02
    """
    if mode not in ("sum", "product"):
        raise ValueError(f"mode must be 'sum' or 'product'; got {mode!r}")
    r = pd.Series(returns, dtype=float).dropna()
    n = len(r)
    if mode == "sum":
        mean = r.mean()
        std = r.std(ddof=1)
        annualized = mean * periods_per_year
        curve = pd.concat([pd.Series([0.0]), r.cumsum()])
        drawdown = (curve - curve.cummax()).min()
    else:
        cumulative = (1.0 + r).prod() - 1.0
        mean = (1.0 + cumulative) ** (1.0 / n) - 1.0 if n else np.nan
        std = np.log1p(r).std(ddof=1)
        annualized = (1.0 + cumulative) ** (periods_per_year / n) - 1.0 if n else np.nan
        curve = pd.concat([pd.Series([1.0]), (1.0 + r).cumprod()])
        drawdown = (curve / curve.cummax() - 1.0).min()
    ir = mean / std * np.sqrt(periods_per_year) if std > 0 else np.nan
    return pd.Series(
        {
            "mean": float(mean),
            "std": float(std),
            "annualized_return": float(annualized),
            "information_ratio": float(ir),
            "max_drawdown": float(drawdown),
        }
    )
