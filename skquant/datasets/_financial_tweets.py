"""The bundled Twitter financial news sentiment dataset."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

_DATA_DIR = Path(__file__).parent / "data"
TWEET_LABELS = ("bearish", "bullish", "neutral")

__all__ = ["load_financial_tweets", "TWEET_LABELS"]


def load_financial_tweets(split: str = "train") -> pd.DataFrame:
    """Load English financial news tweets labelled bearish, bullish or neutral.

    The "twitter-financial-news-sentiment" dataset (MIT licence): 11,931 tweets
    of financial news headlines, each labelled with its sentiment for the
    stocks it mentions. It ships inside the package (gzipped CSV, 450 KB), so
    it works offline. skquant uses it to train and benchmark the text
    sentiment features of :mod:`skquant.text`.

    Parameters
    ----------
    split : {"train", "valid"}, default="train"
        ``"train"`` has 9,543 tweets (1,442 bearish, 1,923 bullish, 6,178
        neutral); ``"valid"`` has 2,388 (347 / 475 / 1,566). Both are the
        original splits of the dataset.

    Returns
    -------
    pandas.DataFrame
        One row per tweet, with columns ``text`` (str), ``label`` (int64:
        0 = bearish, 1 = bullish, 2 = neutral) and ``sentiment`` (the label
        name, a categorical with categories ``bearish, bullish, neutral``).

    Examples
    --------
    >>> from skquant.datasets import load_financial_tweets
    >>> tweets = load_financial_tweets("valid")
    >>> tweets.shape
    (2388, 3)
    >>> tweets["sentiment"].value_counts().sort_index().to_dict()
    {'bearish': 347, 'bullish': 475, 'neutral': 1566}
    """
    if split not in ("train", "valid"):
        raise ValueError(f"split must be 'train' or 'valid'; got {split!r}")
    frame = pd.read_csv(
        _DATA_DIR / f"financial_tweets_{split}.csv.gz",
        dtype={"text": str, "label": "int64"},
        keep_default_na=False,
    )
    frame["sentiment"] = pd.Categorical.from_codes(
        frame["label"].to_numpy(), categories=list(TWEET_LABELS)
    )
    return frame
