"""Shared real-data fixtures: a 30-stock slice of the bundled S&P 500 panel for
2016, simple past-return features and Qlib's label close(t+2)/close(t+1) - 1."""

import os

# pytest -n 2 runs one worker per core: a second OpenMP/torch thread per worker
# only makes LightGBM and torch spin against each other (measured 30x slower on
# 2 shared cores). Set before any test imports lightgbm or torch; examples run
# in subprocesses inherit it.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd
import pytest

from skquant.datasets import load_sp500

TICKERS = (
    "AAPL MSFT XOM JPM GE KO PFE WMT INTC CSCO BA MMM CAT DIS HD IBM MCD MRK NKE PG "
    "T UNH VZ CVX GS AXP TRV JNJ UTX V"
).split()


def make_features(panel):
    close = panel["close"].groupby(level="instrument")
    volume = panel["volume"].groupby(level="instrument")
    return pd.DataFrame(
        {
            "ret1": close.pct_change(1),
            "ret5": close.pct_change(5),
            "ret20": close.pct_change(20),
            "vratio": panel["volume"] / volume.shift(1),
            "range": (panel["high"] - panel["low"]) / panel["close"],
            "logvol": np.log(panel["volume"]),
        }
    )


def make_label(panel):
    close = panel["close"].groupby(level="instrument")
    return (close.shift(-2) / close.shift(-1) - 1).rename("LABEL0")


@pytest.fixture(scope="session")
def panel():
    return load_sp500(instruments=TICKERS, start="2016-01-01", end="2016-12-31")


@pytest.fixture(scope="session")
def features(panel):
    return make_features(panel)


@pytest.fixture(scope="session")
def label(panel):
    return make_label(panel)
