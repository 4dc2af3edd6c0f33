"""scikit-learn's API-level checks, one by one, for the text estimators.

``check_estimator`` skips every check for string-input transformers (it only
feeds numeric 2-D arrays), so the checks that do not need data run here
directly, plus fitted-state checks written for text input.
"""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from skquant.text import (
    DailyTextAggregator,
    SentenceEmbedder,
    SentimentFeatures,
    ZeroShotSentiment,
)

ESTIMATORS = [
    SentenceEmbedder(),
    SentimentFeatures(),
    ZeroShotSentiment(),
    DailyTextAggregator(),
]
TEXTS = ["shares plunge", "stock soars", None, "shares plunge"]


def test_string_input_tags():
    from sklearn.utils import get_tags

    for est in ESTIMATORS[:3]:
        tags = get_tags(est)
        assert tags.input_tags.string and not tags.input_tags.two_d_array
        assert tags.transformer_tags is not None


@pytest.fixture(scope="module")
def fitted(tiny_model):
    emb = SentenceEmbedder(tiny_model)
    return [
        SentenceEmbedder(tiny_model),
        SentimentFeatures(embedder=emb, n_train=60, random_state=0),
        ZeroShotSentiment(embedder=emb),
    ]


def test_fit_contract(fitted):
    for est in fitted:
        params = est.get_params(deep=False)
        with pytest.raises(NotFittedError):
            est.transform(TEXTS)
        assert est.fit(TEXTS) is est
        after = est.get_params(deep=False)
        assert all(after[k] is v for k, v in params.items()), type(est).__name__
        # clone gives an unfitted copy; pickling round-trips the outputs
        with pytest.raises(NotFittedError):
            clone(est).transform(TEXTS)
        first = est.transform(TEXTS)
        np.testing.assert_allclose(est.transform(TEXTS), first)  # idempotent
        np.testing.assert_allclose(
            pickle.loads(pickle.dumps(est)).transform(TEXTS), first
        )
        # row i depends on text i only (batch and order invariance)
        np.testing.assert_allclose(est.transform(TEXTS[::-1])[::-1], first, atol=1e-6)
        np.testing.assert_allclose(est.transform(TEXTS[:1]), first[:1], atol=1e-6)
        assert est.n_features_in_ == 1
        names = est.get_feature_names_out()
        assert len(names) == first.shape[1]
        out = (
            clone(est)
            .set_output(transform="pandas")
            .fit(TEXTS)
            .transform(pd.Series(TEXTS))
        )
        assert list(out.columns) == list(names)


def test_aggregator_fit_contract():
    frame = pd.DataFrame(
        {
            "datetime": pd.to_datetime(["2024-03-04 10:00"] * 2),
            "instrument": ["A", "B"],
            "x": [1.0, 2.0],
        }
    )
    est = DailyTextAggregator()
    with pytest.raises(NotFittedError):
        est.transform(frame)
    assert est.fit(frame) is est and est.n_features_in_ == 1
    with pytest.raises(NotFittedError):
        clone(est).transform(frame)
    pd.testing.assert_frame_equal(
        pickle.loads(pickle.dumps(est)).transform(frame), est.transform(frame)
    )
