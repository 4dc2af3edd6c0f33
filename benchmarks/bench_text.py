"""Benchmark skquant.text: throughput, sentiment quality, text+price fusion.

Three sections, all on CPU with the bundled all-MiniLM-L6-v2, all offline:

* **throughput**: sentences/s of ``SentenceEmbedder.transform`` against
  sentence-transformers' own ``encode`` on the same distinct tweets, same
  loaded model, same run, interleaved (best of ``--repeats``); then the cold
  and warm passes of a cached embedder. Goals: ratio >= 0.95, warm pass
  >= 50x faster than encoding.
* **quality**: accuracy and macro F1 on the bundled tweets' ``valid`` split
  for ``SentimentFeatures`` (embedding + logistic regression trained on
  ``train``), ``ZeroShotSentiment`` and TF-IDF + logistic regression (C chosen
  by 5-fold CV on ``train``), plus the majority class.
* **fine-tuning**: the same tweets, ``SentenceEmbedder(fine_tune=...)`` for
  one epoch (``"classification"`` and ``"contrastive"``) then a logistic
  regression, against the frozen MiniLM + logistic regression trained on the
  same stratified subset of ``train`` (``--finetune-train``, 2,000 tweets by
  default, so that each fine-tuning takes a few minutes on 2 CPUs; 0 uses
  all 9,543). Evaluated on the whole ``valid`` split.
* **fusion**: StockNet (Xu & Cohen, ACL 2018) next-day movement, the paper's
  protocol (targets between -0.5% and +0.55% dropped; train 2014-01-01 to
  2015-08-01, valid to 2015-10-01, test to 2016-01-01) with logistic
  regressions on prices only, tweets only, and both, C chosen on valid. The
  paper's best model (58.23% accuracy, MCC 0.0808) is quoted beside.

    python benchmarks/bench_text.py                       # see the note on time
    python benchmarks/bench_text.py --cache /tmp/emb      # reruns skip encoding
    python benchmarks/bench_text.py --quick               # a smaller slice
    python benchmarks/bench_text.py --tweets-per-day 0    # all StockNet tweets
    python benchmarks/bench_text.py --sections finetune --threads 1

Time: encoding dominates, about 46,000 distinct tweets by default (12,000
labelled tweets, 34,000 StockNet tweets: at most two per stock and day). At
the ~190 sentences/s MiniLM reaches on 2 idle CPUs that is about 4 minutes,
plus a few for the TF-IDF grid search; on busy shared CPUs it took 20
minutes. ``--cache DIR`` makes reruns skip the encoding. Fine-tuning adds a
few minutes per method (a backward pass per text). On CPUs that other jobs
also use, ``--threads 1`` can be several times faster than torch's default of
one thread per core (measured 17 against 3 training texts/s on 2 busy CPUs).

StockNet tweets are read from ``$SKQUANT_SHARED_DATA/stocknet`` (default
``../shared/data`` next to the repository); they are not bundled.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skquant.datasets import load_financial_tweets
from skquant.text import (
    DailyTextAggregator,
    EmbeddingCache,
    SentenceEmbedder,
    SentimentFeatures,
    ZeroShotSentiment,
)

SHARED = Path(os.environ.get("SKQUANT_SHARED_DATA", ROOT.parent / "shared" / "data"))
PAPER = {"accuracy": 0.5823, "mcc": 0.0808}
SPLITS = {
    "train": ("2014-01-01", "2015-08-01"),
    "valid": ("2015-08-01", "2015-10-01"),
    "test": ("2015-10-01", "2016-01-01"),
}
RISE, FALL = 0.0055, -0.005
WINDOW = 5  # trading days of tweets and prices before the target day


def _log(msg: str) -> None:
    print(msg, flush=True)


# -- 1. throughput ---------------------------------------------------------------
def throughput(n_texts: int, repeats: int, batch_size: int = 32) -> dict:
    tweets = pd.concat([load_financial_tweets("train"), load_financial_tweets("valid")])
    texts = (
        tweets["text"]
        .drop_duplicates()
        .sample(frac=1.0, random_state=0)
        .head(n_texts)
        .tolist()
    )
    embedder = SentenceEmbedder(batch_size=batch_size).fit(texts[:1])
    model = embedder._get_model()  # the very model sentence-transformers encodes with
    model.encode(texts[:64], batch_size=batch_size)  # warm-up
    direct, ours = [], []
    for r in range(repeats):
        for which in (0, 1) if r % 2 == 0 else (1, 0):
            start = time.perf_counter()
            if which == 0:
                ref = model.encode(
                    texts, batch_size=batch_size, show_progress_bar=False
                )
                direct.append(time.perf_counter() - start)
            else:
                got = embedder.transform(texts)
                ours.append(time.perf_counter() - start)
    max_diff = float(np.abs(ref - got).max())
    cached = SentenceEmbedder(batch_size=batch_size, cache=EmbeddingCache()).fit(
        texts[:1]
    )
    start = time.perf_counter()
    cached.transform(texts)
    cold = time.perf_counter() - start
    warm = []
    for _ in range(3):
        start = time.perf_counter()
        cached.transform(texts)
        warm.append(time.perf_counter() - start)
    res = {
        "n_texts": len(texts),
        "direct_per_s": len(texts) / min(direct),
        "embedder_per_s": len(texts) / min(ours),
        "ratio": min(direct) / min(ours),
        "cold_cached_per_s": len(texts) / cold,
        "warm_cached_per_s": len(texts) / min(warm),
        "warm_speedup": min(ours) / min(warm),
        "max_abs_diff": max_diff,
    }
    _log(
        f"\n## Throughput ({len(texts)} distinct tweets, batch_size={batch_size}, "
        f"best of {repeats}, interleaved)"
    )
    _log("| path | sentences/s |\n|---|---:|")
    _log(f"| sentence-transformers `encode` | {res['direct_per_s']:.1f} |")
    _log(f"| `SentenceEmbedder.transform`, no cache | {res['embedder_per_s']:.1f} |")
    _log(f"| cached, first pass (cold) | {res['cold_cached_per_s']:.1f} |")
    _log(f"| cached, second pass (warm) | {res['warm_cached_per_s']:.0f} |")
    _log(
        f"ratio embedder/encode = {res['ratio']:.3f} (goal >= 0.95); warm cache "
        f"{res['warm_speedup']:.0f}x faster than encoding (goal >= 50x); "
        f"max |difference| = {max_diff:.1e}"
    )
    return res


# -- 2. quality -----------------------------------------------------------------
def _scores(y_true, y_pred) -> tuple[float, float]:
    return accuracy_score(y_true, y_pred), f1_score(y_true, y_pred, average="macro")


def quality(cache: EmbeddingCache, n_train: int | None) -> SentimentFeatures:
    train, valid = load_financial_tweets("train"), load_financial_tweets("valid")
    if n_train is not None:
        train = train.groupby("label").sample(frac=n_train / len(train), random_state=0)
    y_true = valid["sentiment"].astype(str).to_numpy()
    embedder = SentenceEmbedder(cache=cache)
    rows = []
    start = time.perf_counter()
    sentiment = SentimentFeatures(embedder=embedder, n_train=n_train, random_state=0)
    sentiment.fit(valid["text"])
    P = sentiment.transform(valid["text"])
    rows.append(
        (
            "MiniLM embedding + LogisticRegression (SentimentFeatures)",
            *_scores(y_true, sentiment.classes_[P.argmax(1)]),
            time.perf_counter() - start,
        )
    )
    start = time.perf_counter()
    zero = ZeroShotSentiment(embedder=embedder).fit(valid["text"])
    S = zero.transform(valid["text"])
    rows.append(
        (
            "MiniLM zero-shot (ZeroShotSentiment, default labels)",
            *_scores(y_true, zero.classes_[S.argmax(1)]),
            time.perf_counter() - start,
        )
    )
    start = time.perf_counter()
    tfidf = GridSearchCV(
        make_pipeline(
            TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=2),
            LogisticRegression(max_iter=3000),
        ),
        {"logisticregression__C": [1.0, 3.0, 10.0, 30.0]},
        cv=5,
        n_jobs=1,
    ).fit(train["text"], train["sentiment"].astype(str))
    rows.append(
        (
            f"TF-IDF (1-2 grams) + LogisticRegression "
            f"(C={tfidf.best_params_['logisticregression__C']:g} by CV)",
            *_scores(y_true, tfidf.predict(valid["text"])),
            time.perf_counter() - start,
        )
    )
    rows.append(
        (
            "majority class (neutral)",
            *_scores(y_true, np.full(len(y_true), "neutral")),
            0.0,
        )
    )
    _log(
        f"\n## Sentiment quality (tweets valid split, n={len(valid)}; trained on "
        f"{len(train)} train tweets)"
    )
    _log("| model | accuracy | macro F1 | seconds |\n|---|---:|---:|---:|")
    for name, acc, f1, sec in rows:
        _log(f"| {name} | {acc:.4f} | {f1:.4f} | {sec:.0f} |")
    return sentiment


# -- 3. fine-tuning the encoder ---------------------------------------------------
def finetune(
    cache: EmbeddingCache, n_train: int, methods: list[str], epochs: int = 1
) -> None:
    train, valid = load_financial_tweets("train"), load_financial_tweets("valid")
    sample = ""
    if 0 < n_train < len(train):
        train = train.groupby("label").sample(frac=n_train / len(train), random_state=0)
        sample = "a stratified sample, "
    texts, labels = train["text"], train["sentiment"].astype(str).to_numpy()
    y_true = valid["sentiment"].astype(str).to_numpy()
    rows = []
    for method in [None, *methods]:
        start = time.perf_counter()
        embedder = SentenceEmbedder(
            cache=cache, fine_tune=method, fine_tune_epochs=epochs, random_state=0
        )
        embedder.fit(texts, labels)
        tune_s = time.perf_counter() - start
        # the recipe of make_pipeline(embedder, LogisticRegression(...))
        clf = LogisticRegression(C=3.0, max_iter=2000)
        clf.fit(embedder.transform(texts), labels)
        pred = clf.predict(embedder.transform(valid["text"]))
        total_s = time.perf_counter() - start
        name = (
            "MiniLM frozen + LogisticRegression"
            if method is None
            else f"MiniLM fine-tuned ({method}, {epochs} epoch"
            f"{'s' if epochs > 1 else ''}) + LogisticRegression"
        )
        loss = "" if method is None else f"{embedder.fine_tune_loss_[-1]:.4f}"
        rows.append(
            (name, *_scores(y_true, pred), tune_s if method else None, total_s, loss)
        )
        _log(f"  {name}: {rows[-1][1]:.4f} / {rows[-1][2]:.4f} ({total_s:.0f} s)")
    _log(
        f"\n## Fine-tuning (tweets valid split, n={len(valid)}; encoder and "
        f"classifier trained on {len(train)} train tweets, {sample}"
        "random_state=0)"
    )
    _log(
        "| model | accuracy | macro F1 | fine-tuning s | total s | last loss |\n"
        "|---|---:|---:|---:|---:|---:|"
    )
    for name, acc, f1, tune_s, total_s, loss in rows:
        tune = "" if tune_s is None else f"{tune_s:.0f}"
        _log(f"| {name} | {acc:.4f} | {f1:.4f} | {tune} | {total_s:.0f} | {loss} |")
    _log(
        f"({len(train)} training texts: {len(train) / max(rows[1][3], 1e-9):.1f} "
        "texts/s of fine-tuning for the first method, copying the model and "
        "hashing its weights included)"
        if len(rows) > 1
        else ""
    )


# -- 4. fusion on StockNet --------------------------------------------------------
def _stocknet_prices() -> tuple[pd.DataFrame, pd.DatetimeIndex]:
    prices = pd.read_csv(SHARED / "stocknet" / "prices.csv.gz", parse_dates=["date"])
    prices = prices[(prices["date"] >= "2013-11-01") & (prices["date"] < "2016-02-01")]
    prices = (
        prices.rename(columns={"date": "datetime"})
        .set_index(["datetime", "instrument"])
        .sort_index()
    )
    calendar = prices.index.get_level_values("datetime").unique().sort_values()
    close = prices["adj_close"].unstack()
    ret = close.pct_change(fill_method=None)
    feats = {f"ret_{k}": ret.shift(k) for k in range(WINDOW)}
    for k in range(WINDOW):
        hi = (prices["high"] / prices["close"] - 1).unstack().shift(k)
        lo = (prices["low"] / prices["close"] - 1).unstack().shift(k)
        feats[f"high_{k}"], feats[f"low_{k}"] = hi, lo
    move = close.shift(-1) / close - 1  # close(t) -> close(t+1)
    target_day = pd.Series(
        calendar[1:].append(pd.DatetimeIndex([pd.NaT])), index=calendar
    )
    frame = pd.DataFrame(
        {name: f.stack(future_stack=True) for name, f in feats.items()}
    )
    frame["move"] = move.stack(future_stack=True)
    frame["target_day"] = target_day.reindex(
        frame.index.get_level_values("datetime")
    ).to_numpy()
    return frame, calendar


def _tweet_features(
    tweets: pd.DataFrame,
    embedder: SentenceEmbedder,
    sentiment: SentimentFeatures,
    calendar,
) -> pd.DataFrame:
    E = embedder.transform(tweets["text"])
    P = sentiment.transform(tweets["text"])
    per_text = pd.DataFrame(
        np.hstack([E, P]),
        columns=[f"emb{i}" for i in range(E.shape[1])]
        + ["bearish", "bullish", "neutral"],
    )
    per_text["datetime"] = tweets["created_at"].to_numpy()
    per_text["instrument"] = tweets["ticker"].to_numpy()
    # texts known by the 16:00 New York close of day t count for day t
    daily = DailyTextAggregator(calendar=calendar, agg="sum").fit_transform(per_text)
    sums = daily.drop(columns="n_texts")
    grid = pd.MultiIndex.from_product(
        [calendar, sorted(daily.index.get_level_values(1).unique())],
        names=["datetime", "instrument"],
    )
    sums = sums.reindex(grid, fill_value=0.0)
    counts = daily["n_texts"].reindex(grid, fill_value=0)
    roll_s = sums.groupby(level="instrument").rolling(WINDOW, min_periods=1).sum()
    roll_s = roll_s.droplevel(0).reindex(grid)
    roll_n = counts.groupby(level="instrument").rolling(WINDOW, min_periods=1).sum()
    roll_n = roll_n.droplevel(0).reindex(grid)
    feats = roll_s.div(roll_n.where(roll_n > 0), axis=0)
    feats["log_n_tweets"] = np.log1p(roll_n)
    feats["n_window"] = roll_n
    return feats


def fusion(
    cache: EmbeddingCache,
    sentiment: SentimentFeatures,
    tweets_per_day: int,
    tickers: int | None,
) -> None:
    if not (SHARED / "stocknet" / "tweets.csv.gz").exists():
        _log(f"\n## Fusion: skipped, no StockNet data under {SHARED / 'stocknet'}")
        return
    prices, calendar = _stocknet_prices()
    tweets = pd.read_csv(SHARED / "stocknet" / "tweets.csv.gz")
    tweets["created_at"] = pd.to_datetime(
        tweets["created_at"], format="%a %b %d %H:%M:%S %z %Y"
    )
    n_all = len(tweets)
    if tickers is not None:
        keep = sorted(tweets["ticker"].unique())[:: max(1, 87 // tickers)][:tickers]
        tweets = tweets[tweets["ticker"].isin(keep)]
    if tweets_per_day > 0:
        tweets = (
            tweets.sample(frac=1.0, random_state=0)
            .groupby(["ticker", "date"])
            .head(tweets_per_day)
            .sort_values(["ticker", "created_at"])
        )
    start = time.perf_counter()
    embedder = SentenceEmbedder(cache=cache).fit(tweets["text"])
    text = _tweet_features(tweets, embedder, sentiment, calendar)
    embed_s = time.perf_counter() - start
    frame = prices.join(text, how="inner")
    frame = frame[
        (frame["n_window"] > 0)
        & frame["move"].notna()
        & frame[[f"ret_{k}" for k in range(WINDOW)]].notna().all(axis=1)
    ]
    frame = frame[(frame["move"] > RISE) | (frame["move"] < FALL)]
    y = (frame["move"] > RISE).astype(int).to_numpy()
    price_cols = [c for c in prices.columns if c.startswith(("ret_", "high_", "low_"))]
    text_cols = [c for c in text.columns if c != "n_window"]
    split_of = {}
    for name, (lo, hi) in SPLITS.items():
        split_of[name] = (
            (frame["target_day"] >= lo) & (frame["target_day"] < hi)
        ).to_numpy()
    models = {
        "prices only": price_cols,
        "tweets only": text_cols,
        "prices + tweets (fused)": price_cols + text_cols,
    }
    _log(
        f"\n## Fusion: StockNet next-day movement ({len(tweets):,} of {n_all:,} "
        f"tweets: at most {tweets_per_day or 'all'} per stock and day; "
        f"{tweets['text'].nunique():,} distinct; embedded and aggregated in "
        f"{embed_s:.0f} s)"
    )
    sizes = {k: int(v.sum()) for k, v in split_of.items()}
    test_up = y[split_of["test"]].mean()
    _log(
        f"samples (stock-days with tweets in the {WINDOW}-day window and |move| "
        f"outside the band): {sizes}; test share of rises {test_up:.3f}"
    )
    _log(
        "| model | C (valid) | valid acc | test acc | test MCC |\n"
        "|---|---:|---:|---:|---:|"
    )
    for name, cols in models.items():
        scale = [c for c in cols if c in price_cols or c == "log_n_tweets"]
        rest = [c for c in cols if c not in scale]
        ct = ColumnTransformer(
            [("scaled", StandardScaler(), scale), ("embedding", "passthrough", rest)]
        )
        best = None
        for C in (0.001, 0.01, 0.1, 1.0):
            model = make_pipeline(ct, LogisticRegression(C=C, max_iter=3000))
            model.fit(frame.loc[split_of["train"], cols], y[split_of["train"]])
            acc = accuracy_score(
                y[split_of["valid"]], model.predict(frame.loc[split_of["valid"], cols])
            )
            if best is None or acc > best[0]:
                best = (acc, C, model)
        acc_v, C, model = best
        pred = model.predict(frame.loc[split_of["test"], cols])
        yt = y[split_of["test"]]
        _log(
            f"| {name} | {C:g} | {acc_v:.4f} | {accuracy_score(yt, pred):.4f} | "
            f"{matthews_corrcoef(yt, pred):.4f} |"
        )
    _log(
        f"| StockNet paper, best (HedgeFundAnalyst) | | | {PAPER['accuracy']:.4f} | "
        f"{PAPER['mcc']:.4f} |"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sections", default="throughput,quality,finetune,fusion")
    parser.add_argument(
        "--quick", action="store_true", help="fewer texts everywhere (a few minutes)"
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=None,
        help="on-disk embedding cache for quality and fusion "
        "(throughput never uses it)",
    )
    parser.add_argument(
        "--tweets-per-day",
        type=int,
        default=2,
        help="StockNet tweets kept per stock and day (0: all)",
    )
    parser.add_argument("--throughput-texts", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--finetune-train",
        type=int,
        default=2000,
        help="train tweets for the fine-tuning section (0: all)",
    )
    parser.add_argument("--finetune-methods", default="classification,contrastive")
    parser.add_argument("--finetune-epochs", type=int, default=1)
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch threads (default: torch's own choice)",
    )
    args = parser.parse_args(argv)
    sections = set(args.sections.split(","))
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)

    _log(
        f"# skquant.text benchmark (torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, {os.cpu_count()} CPUs)"
    )
    start = time.perf_counter()
    cache = EmbeddingCache.for_directory(args.cache) if args.cache else EmbeddingCache()
    if "throughput" in sections:
        throughput(300 if args.quick else args.throughput_texts, args.repeats)
    sentiment = None
    if sections & {"quality", "fusion"}:
        sentiment = quality(cache, 2000 if args.quick else None)
    if "finetune" in sections:
        finetune(
            cache,
            500 if args.quick else args.finetune_train,
            [m for m in args.finetune_methods.split(",") if m],
            args.finetune_epochs,
        )
    if "fusion" in sections:
        fusion(
            cache,
            sentiment,
            1 if args.quick else args.tweets_per_day,
            15 if args.quick else None,
        )
    _log(f"\ntotal {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
