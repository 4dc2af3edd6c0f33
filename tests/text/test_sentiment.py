"""SentimentFeatures and ZeroShotSentiment (tiny model; real data)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.utils._param_validation import InvalidParameterError

from skquant.text import (
    EmbeddingCache,
    SentenceEmbedder,
    SentimentFeatures,
    ZeroShotSentiment,
)
from skquant.text._sentiment import DEFAULT_SENTIMENT_LABELS

pytest.importorskip("sentence_transformers")

HEADLINES = [
    "shares plunge after profit warning",
    "stock soars on record sales",
    "company to hold annual meeting",
    None,
]


@pytest.fixture(scope="module")
def sentiment(tiny_model):
    embedder = SentenceEmbedder(tiny_model, cache=EmbeddingCache())
    return SentimentFeatures(embedder=embedder, n_train=300, random_state=0).fit(
        HEADLINES
    )


def test_sentiment_features_output(sentiment):
    P = sentiment.transform(HEADLINES)
    assert P.shape == (4, 3)
    assert sentiment.classes_.tolist() == ["bearish", "bullish", "neutral"]
    np.testing.assert_allclose(P[:3].sum(axis=1), 1.0)
    assert np.all(P[3] == 0)  # missing text -> zeros, not a guess
    assert sentiment.get_feature_names_out().tolist() == [
        "sentimentfeatures_bearish",
        "sentimentfeatures_bullish",
        "sentimentfeatures_neutral",
    ]
    out = (
        clone(sentiment)
        .set_output(transform="pandas")
        .fit(["x"])
        .transform(pd.Series(HEADLINES[:2], index=["a", "b"]))
    )
    assert out.index.tolist() == ["a", "b"] and out.shape == (2, 3)


def test_sentiment_features_ignores_y_and_is_deterministic(sentiment):
    again = clone(sentiment).fit(HEADLINES, y=[0.1, -0.3, 0.2, 0.0])
    np.testing.assert_allclose(
        again.transform(HEADLINES), sentiment.transform(HEADLINES)
    )


def test_sentiment_features_custom_classifier_and_nan(tiny_model):
    emb = SentenceEmbedder(tiny_model, missing="nan")
    sf = SentimentFeatures(
        embedder=emb, classifier=LogisticRegression(C=0.1), n_train=90, random_state=1
    ).fit(["x"])
    assert sf.classifier_.C == 0.1 and sf.embedder_ is not emb
    P = sf.transform(["up", np.nan])
    assert np.isnan(P[1]).all() and not np.isnan(P[0]).any()


def test_sentiment_features_param_validation(tiny_model):
    with pytest.raises(InvalidParameterError, match="classifier"):
        SentimentFeatures(classifier=object()).fit(["x"])
    with pytest.raises(InvalidParameterError, match="n_train"):
        SentimentFeatures(n_train=1).fit(["x"])


def test_zero_shot_defaults(tiny_model):
    zs = ZeroShotSentiment(embedder=SentenceEmbedder(tiny_model)).fit(HEADLINES)
    assert zs.classes_.tolist() == list(DEFAULT_SENTIMENT_LABELS)
    P = zs.transform(HEADLINES)
    assert P.shape == (4, 3)
    np.testing.assert_allclose(P[:3].sum(axis=1), 1.0)
    assert np.all(P[3] == 0)
    np.testing.assert_allclose(
        np.linalg.norm(zs.label_embeddings_, axis=1), 1.0, rtol=1e-5
    )
    assert zs.get_feature_names_out()[0] == "zeroshotsentiment_bearish"


def test_zero_shot_similarity_and_labels(tiny_model):
    emb = SentenceEmbedder(tiny_model)
    zs = ZeroShotSentiment(
        ["stock up", "stock down"], embedder=emb, output="similarity"
    ).fit(["x"])
    S = zs.transform(["stock up", "stock down", "something"])
    assert zs.classes_.tolist() == ["stock up", "stock down"]
    assert np.all(np.abs(S) <= 1 + 1e-6)
    np.testing.assert_allclose(np.diag(S[:2]), 1.0, rtol=1e-5)  # self-similarity
    # softmax with a lower temperature is sharper
    sharp = clone(zs).set_params(output="proba", temperature=0.01).fit(["x"])
    soft = clone(zs).set_params(output="proba", temperature=1.0).fit(["x"])
    texts = ["stock up a lot"]
    assert sharp.transform(texts).max() > soft.transform(texts).max()
    several = ZeroShotSentiment(
        {"up": ["rises", "gains"], "down": "falls"}, embedder=emb
    ).fit(["x"])
    assert several.label_embeddings_.shape == (2, 16)


@pytest.mark.parametrize(
    "labels, match",
    [
        ({"only": "one"}, "at least 2"),
        ({"a": "", "b": "x"}, "non-empty"),
        ({"a": [], "b": "x"}, "non-empty"),
    ],
)
def test_zero_shot_bad_labels(tiny_model, labels, match):
    with pytest.raises(ValueError, match=match):
        ZeroShotSentiment(labels, embedder=SentenceEmbedder(tiny_model)).fit(["x"])
    with pytest.raises(InvalidParameterError):
        ZeroShotSentiment(temperature=0).fit(["x"])
