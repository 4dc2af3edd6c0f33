"""Shared data for the skquant.nn tests: a small real Alpha360 slice."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

N_INSTRUMENTS = 40


@pytest.fixture(scope="session")
def sp500_slice() -> pd.DataFrame:
    """40 instruments of the bundled panel, 2016-09 to 2017-10 (raw prices)."""
    from skquant.datasets import load_sp500

    tickers = sorted(
        load_sp500(start="2016-09-01", end="2016-09-01").index.get_level_values(
            "instrument"
        )
    )[:N_INSTRUMENTS]
    return load_sp500(instruments=tickers, start="2016-09-01", end="2017-10-31")


@pytest.fixture(scope="session")
def alpha360_data(sp500_slice):
    """Alpha360 features and ranked label, about 40 instruments x 233 dates.

    The first 59 dates (incomplete 60-day history) and rows without a label
    are dropped; features are robust-z-scored (Qlib's NN processor). Returns
    ``(X, y)``: a panel DataFrame of 360 columns and a label Series.
    """
    from skquant.features import Alpha360, forward_return
    from skquant.preprocessing import RobustZScoreNorm, cs_rank_norm

    X = Alpha360().fit_transform(sp500_slice)
    y = forward_return(sp500_slice)
    dates = X.index.get_level_values("datetime")
    keep = (dates >= dates.unique().sort_values()[59]) & y.notna().to_numpy()
    X, y = X[keep], y[keep]
    X = RobustZScoreNorm().set_output(transform="pandas").fit_transform(X)
    X = X.fillna(0.0)
    return X, cs_rank_norm(y)


@pytest.fixture(scope="session")
def small_arrays():
    """A learnable toy problem in the 2-D layout: 3 features x 8 days."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3 * 8))
    y = X[:, 7] - 0.5 * X[:, 15] + 0.1 * rng.normal(size=400)
    return X, y
