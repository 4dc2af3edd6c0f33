"""Tweets and prices in one Pipeline: StockNet's next-day stock movement.

StockNet (Xu & Cohen, ACL 2018) pairs 88 US stocks' daily prices with their
tweets. The task: will the stock close higher tomorrow? (Moves between -0.5%
and +0.55% are dropped; train before 2015-08-01, test 2015-10-01 to
2016-01-01, the paper's split.) This example

1. assigns every tweet to the trading day on which it is known at the close
   (``DailyTextAggregator.trading_days``: UTC timestamps, 16:00 New York
   cut-off, weekends and holidays roll forward), so nothing leaks from the
   future;
2. joins each stock-day's tweets into one text (days without tweets stay
   missing, and ``SentenceEmbedder(missing="zeros")`` turns them into zero
   rows);
3. puts the text column and the price columns into one ``Pipeline``:
   ``ColumnTransformer([SentenceEmbedder -> tweets, StandardScaler -> prices])``
   then a logistic regression, tuned by ``GridSearchCV`` over dates
   (``DateSplit``). The embedder caches in memory, so the search encodes each
   day's text once, not once per fold and candidate.

The tweets are third-party content and are not bundled with skquant: the
script reads them from ``$SKQUANT_SHARED_DATA/stocknet`` (by default
``../shared/data/stocknet`` next to the repository) and says so if they are
absent. ``SKQUANT_EXAMPLE_QUICK=1`` uses 8 stocks and a shorter period (CI).
It writes no files. See ``benchmarks/bench_text.py`` for the full-data
comparison with the paper's numbers.
"""

import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, matthews_corrcoef
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skquant.model_selection import DateSplit
from skquant.text import DailyTextAggregator, SentenceEmbedder

os.environ.setdefault("HF_HUB_OFFLINE", "1")
QUICK = os.environ.get("SKQUANT_EXAMPLE_QUICK") == "1"
REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("SKQUANT_SHARED_DATA", REPO.parent / "shared" / "data"))
STOCKNET = DATA / "stocknet"
RISE, FALL = 0.0055, -0.005
START, TEST_START, END = (
    "2015-04-01" if QUICK else "2014-01-01",
    "2015-10-01",
    "2016-01-01",
)

if not (STOCKNET / "tweets.csv.gz").exists():
    print(
        f"StockNet data not found under {STOCKNET}: set SKQUANT_SHARED_DATA to "
        "the folder that holds stocknet/prices.csv.gz and stocknet/tweets.csv.gz."
    )
    sys.exit(0)

# -- prices: the last 5 daily returns and today's range; the label -------------
prices = pd.read_csv(STOCKNET / "prices.csv.gz", parse_dates=["date"])
tickers = sorted(prices["instrument"].unique())
if QUICK:
    tickers = ["AAPL", "AMZN", "BAC", "FB", "GOOG", "MSFT", "T", "XOM"]
prices = prices[
    prices["instrument"].isin(tickers)
    & prices["date"].between("2013-12-01", "2016-01-10")
]
prices = (
    prices.rename(columns={"date": "datetime"})
    .set_index(["datetime", "instrument"])
    .sort_index()
)
calendar = prices.index.get_level_values("datetime").unique()
close = prices["adj_close"].unstack()
returns = close.pct_change(fill_method=None)
features = {f"ret_{k}": returns.shift(k) for k in range(5)}
features["high"] = (prices["high"] / prices["close"] - 1).unstack()
features["low"] = (prices["low"] / prices["close"] - 1).unstack()
frame = pd.DataFrame({k: v.stack() for k, v in features.items()})
move = (close.shift(-1) / close - 1).stack()  # close(t) -> close(t+1)
frame["move"] = move.reindex(frame.index)
price_cols = list(features)

# -- tweets: the trading day each one counts for, then one text per stock-day -
tweets = pd.read_csv(STOCKNET / "tweets.csv.gz")
tweets = tweets[tweets["ticker"].isin(tickers)].rename(columns={"ticker": "instrument"})
tweets["datetime"] = pd.to_datetime(
    tweets["created_at"], format="%a %b %d %H:%M:%S %z %Y"
)
aligner = DailyTextAggregator(calendar=calendar)  # cutoff 16:00 New York
tweets["day"] = aligner.fit(tweets[["datetime", "instrument"]]).trading_days(tweets)
per_day = 3 if QUICK else 5  # a few tweets per stock-day keep texts short
daily_text = (
    tweets.dropna(subset=["day"])
    .sort_values("datetime")
    .groupby(["day", "instrument"])["text"]
    .agg(lambda s: " | ".join(s.head(per_day)))
)
daily_text.index.names = ["datetime", "instrument"]
frame["tweets"] = daily_text.reindex(frame.index)  # NaN: no tweets that day

# -- samples: the paper's band and split, by the day of the predicted close ---
frame = frame.dropna(subset=["move", *price_cols])
frame = frame[(frame["move"] > RISE) | (frame["move"] < FALL)]
dates = frame.index.get_level_values("datetime")
frame = frame[(dates >= START) & (dates < END)]
target_day = calendar[calendar.searchsorted(frame.index.get_level_values(0)) + 1]
train = frame[target_day < "2015-08-01"]
test = frame[target_day >= TEST_START]
y_train, y_test = (train["move"] > RISE).astype(int), (test["move"] > RISE).astype(int)
print(
    f"{len(tickers)} stocks; {len(train):,} training and {len(test):,} test "
    f"stock-days; {train['tweets'].notna().mean():.0%} of them with tweets"
)

# -- one Pipeline: text and prices side by side --------------------------------
model = Pipeline(
    [
        (
            "features",
            ColumnTransformer(
                [
                    ("tweets", SentenceEmbedder(cache="memory"), "tweets"),
                    ("prices", StandardScaler(), price_cols),
                ]
            ),
        ),
        ("clf", LogisticRegression(max_iter=2000)),
    ]
)
search = GridSearchCV(
    model,
    {"clf__C": [0.01, 0.1, 1.0]},
    cv=DateSplit(n_splits=3, gap=1),
    scoring="accuracy",
)
search.fit(train[["tweets", *price_cols]], y_train)
prices_only = GridSearchCV(
    Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(max_iter=2000))]),
    {"clf__C": [0.01, 0.1, 1.0]},
    cv=DateSplit(n_splits=3, gap=1),
).fit(train[price_cols], y_train)

print(
    f"chosen C: text+prices {search.best_params_['clf__C']}, "
    f"prices only {prices_only.best_params_['clf__C']}"
)
print(f"test share of rises: {y_test.mean():.3f}")
for name, est, cols in [
    ("prices only", prices_only, price_cols),
    ("tweets + prices", search, ["tweets", *price_cols]),
]:
    pred = est.predict(test[cols])
    print(
        f"{name:>16}: accuracy {accuracy_score(y_test, pred):.4f}, "
        f"MCC {matthews_corrcoef(y_test, pred):+.4f}"
    )
print("StockNet paper, best model: accuracy 0.5823, MCC +0.0808 (all 88 stocks)")
print(
    "Text feature names:",
    np.asarray(search.best_estimator_[0].get_feature_names_out()[:2]).tolist(),
    "...",
)
