"""Real data for the GBDT tests: slices of the bundled S&P 500 panel."""

from __future__ import annotations

import pytest

from skquant.datasets import load_sp500
from skquant.features import Alpha158, forward_return
from skquant.preprocessing import cs_rank_norm, drop_missing_label


def alpha158_slice(n_instruments: int, start: str, end: str | None = None):
    """Alpha158 and Qlib's label for ``n_instruments`` spread over the universe.

    Rows without a label (the last two dates) are dropped, as Qlib's
    ``DropnaLabel``. Returns ``(X, y)``, both indexed by (datetime, instrument).
    """
    panel = load_sp500(start=start, end=end)
    tickers = sorted(panel.index.get_level_values("instrument").unique())
    step = len(tickers) // n_instruments
    panel = panel[
        panel.index.get_level_values("instrument").isin(tickers[::step][:n_instruments])
    ]
    return drop_missing_label(Alpha158().fit_transform(panel), forward_return(panel))


@pytest.fixture(scope="session")
def alpha158_data():
    """100 instruments, 2014-01 to 2017-12 (about 98k rows x 158 features).

    Returns ``(X, y, y_train)``: ``y`` is the raw forward return the models are
    judged on (Qlib's ``SigAnaRecord`` convention) and ``y_train`` its
    cross-sectional rank (Qlib's ``CSRankNorm``), the training target. On S&P
    500 stocks the daily signal in Alpha158 is weak (out-of-sample Rank IC of
    about 0.01); the rank label is less dominated by a few extreme returns than
    Qlib's GBDT default (``CSZScoreNorm``), which matters at this size.
    """
    X, y = alpha158_slice(100, "2014-01-01")
    return X, y, cs_rank_norm(y)


@pytest.fixture(scope="session")
def small_alpha158_data():
    """25 instruments, 2016-01 to 2017-12 (about 12k rows): quick checks."""
    X, y = alpha158_slice(25, "2016-01-01")
    return X, y, cs_rank_norm(y)
