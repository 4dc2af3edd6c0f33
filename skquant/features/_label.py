"""Qlib's default label: the forward return used as the training target."""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from skquant.features._alpha158 import check_fields
from skquant.features._ops import PanelGrid, ref

__all__ = ["forward_return"]


def forward_return(
    panel: pd.DataFrame, horizon: int = 1, price: str = "close"
) -> pd.Series:
    """Qlib's label ``Ref($close, -(horizon+1)) / Ref($close, -1) - 1``.

    For the row of day ``t`` the label is the return from the close of the next
    trading day ``t+1`` to the close of day ``t+1+horizon``: with the default
    ``horizon=1``, ``close[t+2] / close[t+1] - 1`` (Qlib's ``LABEL0``). The
    one-day lag is fixed: features are known after the close of ``t``, so the
    earliest one can trade on them is the close of ``t+1``.

    **This uses future prices. It is the target to predict, never a feature.**

    Parameters
    ----------
    panel : pandas.DataFrame
        Panel indexed by ``(datetime, instrument)`` with the ``price`` column.
    horizon : int, default=1
        Length of the return in trading days (days of the panel's calendar).
    price : str, default="close"
        Price column, e.g. ``"vwap"`` for Qlib's ``Alpha158vwap`` label.

    Returns
    -------
    pandas.Series
        Named ``"LABEL0"``, indexed like ``panel`` sorted by
        ``(datetime, instrument)``. NaN where day ``t+1`` or ``t+1+horizon``
        is past the end of the panel or a day the instrument has no row.

    Examples
    --------
    >>> from skquant.datasets import load_sp500
    >>> from skquant.features import forward_return
    >>> panel = load_sp500(instruments=["AAPL"], start="2017-01-03",
    ...                    end="2017-01-09")
    >>> close = panel["close"].to_numpy()
    >>> y = forward_return(panel)
    >>> y.name
    'LABEL0'
    >>> bool(abs(y.iloc[0] - (close[2] / close[1] - 1)) < 1e-12)
    True
    >>> y.tail(2).isna().tolist()
    [True, True]
    """
    if (
        isinstance(horizon, bool)
        or not isinstance(horizon, numbers.Integral)
        or horizon < 1
    ):
        raise ValueError(f"horizon must be a positive int; got {horizon!r}.")
    panel = check_fields(panel, [price], name="panel")
    grid = PanelGrid(panel.index)
    prices = grid.pivot(panel[price].to_numpy(np.float64))
    entry = ref(prices, -1)  # close of t+1: the first price one can trade at
    exit_ = ref(prices, -(1 + int(horizon)))
    with np.errstate(divide="ignore", invalid="ignore"):
        label = grid.gather(exit_ / entry - 1)
    return pd.Series(label, index=panel.index, name="LABEL0")
