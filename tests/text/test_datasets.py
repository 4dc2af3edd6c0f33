"""The bundled financial tweets."""

import pandas as pd
import pytest

from skquant.datasets import load_financial_tweets


@pytest.mark.parametrize(
    "split, n, counts",
    [
        ("train", 9543, [1442, 1923, 6178]),
        ("valid", 2388, [347, 475, 1566]),
    ],
)
def test_load_financial_tweets(split, n, counts):
    tweets = load_financial_tweets(split)
    assert tweets.shape == (n, 3)
    assert list(tweets.columns) == ["text", "label", "sentiment"]
    assert tweets["label"].dtype == "int64"
    assert tweets["label"].value_counts().sort_index().tolist() == counts
    assert list(tweets["sentiment"].cat.categories) == ["bearish", "bullish", "neutral"]
    assert (tweets["sentiment"].cat.codes == tweets["label"]).all()
    assert tweets["text"].map(lambda t: isinstance(t, str) and t.strip() != "").all()
    assert pd.api.types.is_string_dtype(tweets["text"])


def test_splits_do_not_overlap_much_and_bad_split():
    train, valid = load_financial_tweets("train"), load_financial_tweets("valid")
    assert valid["text"].isin(train["text"]).mean() < 0.01
    with pytest.raises(ValueError, match="split"):
        load_financial_tweets("test")
