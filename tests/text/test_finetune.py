"""SentenceEmbedder(fine_tune=...): training, determinism, state, caching."""

from __future__ import annotations

import copy
import pickle
import shutil

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError

from skquant.text import EmbeddingCache, SentenceEmbedder, SentimentFeatures, _sentence

pytest.importorskip("sentence_transformers")
torch = pytest.importorskip("torch")

UP = ["surge", "rally", "beat", "soar", "gain", "jump", "record", "upgrade"]
DOWN = ["plunge", "slump", "miss", "crash", "loss", "drop", "warning", "downgrade"]
NAMES = ["apple", "oil", "fed", "bank", "tesla", "gold", "bond", "ceo"]
METHODS = ["classification", "contrastive"]


def headlines(n: int, seed: int) -> tuple[list[str], np.ndarray]:
    """Toy headlines whose label is the direction word in the middle."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    texts = [
        f"{rng.choice(NAMES)} {rng.choice(UP if c else DOWN)} {rng.choice(NAMES)}"
        for c in y
    ]
    return texts, y


X_TRAIN, Y_TRAIN = headlines(48, 0)
X_TEST, Y_TEST = headlines(200, 100)


def tuned(path, method="classification", **params) -> SentenceEmbedder:
    """A fine-tuning embedder on the tiny model (rates for a random model)."""
    params = {"fine_tune_lr": 3e-3, "fine_tune_epochs": 3, "random_state": 0, **params}
    return SentenceEmbedder(path, fine_tune=method, **params)


def separation(E: np.ndarray, y: np.ndarray) -> float:
    """Distance between the class means over the mean distance to them."""
    means = [E[y == c].mean(axis=0) for c in (0, 1)]
    within = np.mean(
        [np.linalg.norm(E[y == c] - means[c], axis=1).mean() for c in (0, 1)]
    )
    return float(np.linalg.norm(means[0] - means[1]) / within)


@pytest.mark.parametrize("method", METHODS)
def test_fine_tuning_changes_embeddings_not_the_interface(tiny_model, method):
    frozen = SentenceEmbedder(tiny_model).fit(X_TRAIN)
    emb = tuned(tiny_model, method).fit(X_TRAIN, Y_TRAIN)
    E, F = emb.transform(X_TEST), frozen.transform(X_TEST)
    assert E.shape == F.shape == (200, 16) and E.dtype == np.float32
    assert np.abs(E - F).max() > 1e-3
    assert len(emb.fine_tune_loss_) == 3 and all(np.isfinite(emb.fine_tune_loss_))
    assert emb.get_feature_names_out().tolist() == (
        frozen.get_feature_names_out().tolist()
    )
    out = emb.set_output(transform="pandas").transform(
        pd.Series(X_TEST[:3], index=[7, 8, 9])
    )
    assert out.index.tolist() == [7, 8, 9]
    np.testing.assert_allclose(out.to_numpy(), E[:3], atol=1e-6)  # other padding


@pytest.mark.parametrize("method", METHODS)
def test_fine_tuning_separates_held_out_classes(tiny_model, method):
    """The behavioural check: held-out texts, downstream logistic regression."""
    frozen = SentenceEmbedder(tiny_model).fit(X_TRAIN)
    emb = tuned(tiny_model, method).fit(X_TRAIN, Y_TRAIN)

    def downstream(e):
        model = LogisticRegression(max_iter=2000)
        model.fit(e.transform(X_TRAIN), Y_TRAIN)
        return model.score(e.transform(X_TEST), Y_TEST)

    assert separation(emb.transform(X_TEST), Y_TEST) > 1.5 * separation(
        frozen.transform(X_TEST), Y_TEST
    )
    assert downstream(emb) > downstream(frozen) + 0.05


def test_same_seed_same_embeddings_other_seed_differs(tiny_model):
    a = tuned(tiny_model, random_state=0).fit(X_TRAIN, Y_TRAIN)
    b = tuned(tiny_model, random_state=0).fit(X_TRAIN, Y_TRAIN)
    c = tuned(tiny_model, random_state=1).fit(X_TRAIN, Y_TRAIN)
    np.testing.assert_array_equal(a.transform(X_TEST), b.transform(X_TEST))
    assert a.fine_tune_key_ == b.fine_tune_key_ != c.fine_tune_key_
    assert np.abs(a.transform(X_TEST) - c.transform(X_TEST)).max() > 1e-4


def test_global_random_state_is_untouched(tiny_model):
    torch_state = torch.get_rng_state()
    np_state = np.random.get_state()  # noqa: NPY002 - the legacy global state
    tuned(tiny_model, "contrastive").fit(X_TRAIN, Y_TRAIN)
    assert torch.equal(torch.get_rng_state(), torch_state)
    after = np.random.get_state()  # noqa: NPY002
    assert np_state[0] == after[0] and np.array_equal(np_state[1], after[1])


def test_shared_model_is_never_trained(tiny_model):
    frozen = SentenceEmbedder(tiny_model).fit(["a"])
    shared = frozen._get_model()
    before = {k: v.clone() for k, v in shared.state_dict().items()}
    expected = frozen.transform(X_TEST)
    emb = tuned(tiny_model).fit(X_TRAIN, Y_TRAIN)
    assert emb._get_model() is shared and emb.encoder_ is not shared
    assert next(iter(_sentence._MODELS.values()))[0] is not emb.encoder_
    for name, tensor in shared.state_dict().items():
        assert torch.equal(tensor, before[name]), name
    assert not shared.training
    np.testing.assert_array_equal(frozen.transform(X_TEST), expected)


def test_user_data_is_not_mutated(tiny_model):
    X = pd.Series(X_TRAIN + [None, "  "], index=range(100, 150))
    y = pd.Series(np.r_[Y_TRAIN, 0, 1], index=X.index)
    X_copy, y_copy = X.copy(), y.copy()
    texts, labels = list(X_TRAIN), Y_TRAIN.copy()
    tuned(tiny_model).fit(X, y)
    tuned(tiny_model).fit(texts, labels)
    pd.testing.assert_series_equal(X, X_copy)
    pd.testing.assert_series_equal(y, y_copy)
    assert texts == X_TRAIN and np.array_equal(labels, Y_TRAIN)


def test_missing_texts_are_skipped_and_the_policy_is_unchanged(tiny_model):
    X = X_TRAIN + [None, "", np.nan]
    y = np.r_[Y_TRAIN, 1, 1, 1]
    emb = tuned(tiny_model).fit(X, y)
    # the missing texts (and their labels) played no part in training
    same = tuned(tiny_model).fit(X_TRAIN, Y_TRAIN)
    assert emb.fine_tune_key_ == same.fine_tune_key_
    out = emb.transform(["apple surge oil", None, " "])
    assert np.all(out[1:] == 0) and np.abs(out[0]).sum() > 0
    out = clone(emb).set_params(missing="nan").fit(X, y).transform([None, "x"])
    assert np.isnan(out[0]).all() and not np.isnan(out[1]).any()
    with pytest.raises(ValueError, match="missing text"):
        clone(emb).set_params(missing="error").fit(X, y)


def test_labels_of_any_kind(tiny_model):
    names = np.where(Y_TRAIN == 1, "up", "down")
    a = tuned(tiny_model, fine_tune_epochs=1).fit(X_TRAIN, names)
    b = tuned(tiny_model, fine_tune_epochs=1).fit(X_TRAIN, Y_TRAIN.astype(bool))
    c = tuned(tiny_model, fine_tune_epochs=1).fit(
        pd.DataFrame({"t": X_TRAIN}), pd.DataFrame({"y": Y_TRAIN})
    )
    # the same partition into classes (sorted class order) trains the same way
    assert a.fine_tune_key_ == b.fine_tune_key_ == c.fine_tune_key_
    three = np.arange(len(X_TRAIN)) % 3
    assert tuned(tiny_model, fine_tune_epochs=1).fit(X_TRAIN, three).encoder_


@pytest.mark.parametrize(
    ("y", "match"),
    [
        (None, r"fit\(X, y\)"),
        (Y_TRAIN[:-1], "48 texts but y has 47 labels"),
        (np.r_[Y_TRAIN[:-1], np.nan], r"1 missing label.*\[47\]"),
        ([None] + list(Y_TRAIN[1:]), r"missing label.*\[0\]"),
        (np.zeros(48, dtype=int), "at least 2 classes"),
        (np.linspace(-1, 1, 48), "continuous"),
        (np.ones((48, 2)), "1-D y"),
    ],
    ids=["none", "length", "nan", "none-label", "one-class", "continuous", "2d"],
)
def test_bad_labels(tiny_model, y, match):
    with pytest.raises(ValueError, match=match):
        tuned(tiny_model).fit(X_TRAIN, y)


def test_continuous_target_is_cut_into_quantile_classes(tiny_model, monkeypatch):
    from skquant.text import _finetune

    seen = []
    train = _finetune.fine_tune_encoder

    def spy(encoder, texts, codes, **kwargs):
        seen.append(np.asarray(codes))
        return train(encoder, texts, codes, **kwargs)

    monkeypatch.setattr(_finetune, "fine_tune_encoder", spy)
    returns = np.random.default_rng(0).normal(0.0, 0.02, len(X_TRAIN))
    frozen = SentenceEmbedder(tiny_model).fit(X_TRAIN)
    emb = tuned(tiny_model, fine_tune_epochs=1, fine_tune_bins=3).fit(
        X_TRAIN, pd.Series(returns)
    )
    assert np.abs(emb.transform(X_TEST) - frozen.transform(X_TEST)).max() > 1e-3
    # terciles: 16 texts each, lowest returns in class 0
    terciles = np.searchsorted(np.quantile(returns, [1 / 3, 2 / 3]), returns)
    np.testing.assert_array_equal(seen[-1], terciles)
    assert np.bincount(seen[-1]).tolist() == [16, 16, 16]
    assert emb.fine_tune_classes_.tolist() == [0, 1, 2]
    np.testing.assert_allclose(
        emb.fine_tune_bin_edges_, np.quantile(returns, [0, 1 / 3, 2 / 3, 1])
    )
    # class labels are used as they are, bins or not
    labelled = tuned(tiny_model, fine_tune_epochs=1, fine_tune_bins=3).fit(
        X_TRAIN, Y_TRAIN
    )
    np.testing.assert_array_equal(seen[-1], Y_TRAIN)
    assert labelled.fine_tune_classes_.tolist() == [0, 1]
    assert not hasattr(labelled, "fine_tune_bin_edges_")
    assert (
        labelled.fine_tune_key_
        == tuned(tiny_model, fine_tune_epochs=1).fit(X_TRAIN, Y_TRAIN).fine_tune_key_
    )
    # a refit on labels drops the edges of the binned fit
    emb.fit(X_TRAIN, Y_TRAIN)
    assert not hasattr(emb, "fine_tune_bin_edges_")


def test_continuous_target_without_bins_names_fine_tune_bins(tiny_model):
    with pytest.raises(ValueError, match="continuous.*fine_tune_bins"):
        tuned(tiny_model).fit(X_TRAIN, np.linspace(-1, 1, 48))


def test_continuous_target_that_gives_one_quantile_class(tiny_model):
    y = np.r_[np.full(47, 0.5), 0.75]  # continuous, but every tercile is 0.5
    emb = tuned(tiny_model, fine_tune_bins=3)
    with pytest.raises(ValueError, match="at least 2 quantile classes"):
        emb.fit(X_TRAIN, y)
    # missing texts are left out before cutting
    with pytest.raises(ValueError, match="at least 2 quantile classes"):
        emb.fit(["apple surge", "oil rally", None], [0.5, 0.5, 0.25])


def test_one_class_left_after_dropping_missing_texts(tiny_model):
    X = ["apple surge", "oil rally", None]
    with pytest.raises(ValueError, match=r"at least 2 classes.*\[1\]"):
        tuned(tiny_model).fit(X, [1, 1, 0])


def test_bad_parameters(tiny_model):
    for params, name in [
        ({"fine_tune": "lora"}, "fine_tune"),
        ({"fine_tune_epochs": 0}, "fine_tune_epochs"),
        ({"fine_tune_lr": 0.0}, "fine_tune_lr"),
        ({"fine_tune_batch_size": 1}, "fine_tune_batch_size"),
        ({"fine_tune_bins": 1}, "fine_tune_bins"),
        ({"random_state": "seed"}, "random_state"),
    ]:
        with pytest.raises(InvalidParameterError, match=name):
            SentenceEmbedder(tiny_model, **{"fine_tune": "contrastive", **params}).fit(
                X_TRAIN, Y_TRAIN
            )


def test_failed_refit_leaves_the_embedder_unfitted(tiny_model):
    from sklearn.exceptions import NotFittedError

    emb = tuned(tiny_model).fit(X_TRAIN, Y_TRAIN)
    with pytest.raises(ValueError, match="at least 2 classes"):
        emb.fit(X_TRAIN, np.zeros(48))
    with pytest.raises(NotFittedError):
        emb.transform(X_TRAIN)


def test_refit_frozen_drops_the_fine_tuned_state(tiny_model):
    emb = tuned(tiny_model).fit(X_TRAIN, Y_TRAIN)
    emb.set_params(fine_tune=None).fit(X_TRAIN, Y_TRAIN)  # y is ignored again
    assert not hasattr(emb, "encoder_") and not hasattr(emb, "fine_tune_key_")
    frozen = SentenceEmbedder(tiny_model).fit(["a"])
    np.testing.assert_array_equal(emb.transform(X_TEST), frozen.transform(X_TEST))


def test_pickle_carries_the_fine_tuned_weights(tiny_model, tmp_path):
    moved = tmp_path / "model"
    shutil.copytree(tiny_model, moved)
    emb = tuned(str(moved), "contrastive").fit(X_TRAIN, Y_TRAIN)
    expected = emb.transform(X_TEST)
    blob = pickle.dumps(emb)
    frozen_blob = pickle.dumps(SentenceEmbedder(str(moved)).fit(["a"]))
    assert len(blob) > 10 * len(frozen_blob)
    # no model files, no loaded models: the pickle is self-sufficient
    shutil.rmtree(moved)
    _sentence._MODELS.clear()
    restored = pickle.loads(blob)
    np.testing.assert_array_equal(restored.transform(X_TEST), expected)
    assert restored.fine_tune_key_ == emb.fine_tune_key_
    np.testing.assert_array_equal(copy.deepcopy(emb).transform(X_TEST), expected)
    # clone: unfitted, same parameters
    fresh = clone(emb)
    assert not hasattr(fresh, "encoder_")
    assert fresh.get_params()["fine_tune"] == "contrastive"


def test_cache_never_mixes_frozen_and_fine_tuned(tiny_model):
    cache = EmbeddingCache()
    frozen = SentenceEmbedder(tiny_model, cache=cache).fit(["a"])
    F = frozen.transform(X_TEST)
    emb = tuned(tiny_model, cache=cache).fit(X_TRAIN, Y_TRAIN)
    E = emb.transform(X_TEST)
    assert np.abs(E - F).max() > 1e-3
    n_unique = len(set(X_TEST))
    assert cache.hits == 0 and cache.misses == 2 * n_unique
    # the same texts, embedded without the cache, agree with what it holds
    np.testing.assert_allclose(
        clone(emb).set_params(cache=None).fit(X_TRAIN, Y_TRAIN).transform(X_TEST),
        E,
        atol=1e-6,
    )
    # a refit with the same seed has the same weights: its entries are reused
    again = tuned(tiny_model, cache=cache).fit(X_TRAIN, Y_TRAIN)
    np.testing.assert_array_equal(again.transform(X_TEST), E)
    assert cache.hits == n_unique
    # another seed, other weights: new entries
    tuned(tiny_model, cache=cache, random_state=1).fit(X_TRAIN, Y_TRAIN).transform(
        X_TEST
    )
    assert cache.hits == n_unique and cache.misses == 3 * n_unique
    assert emb.fine_tune_key_.startswith(frozen._model_key + "|fine_tune=")


def test_in_a_pipeline_and_verbose(tiny_model, capsys):
    emb = tuned(tiny_model)
    params = emb.get_params()
    pipe = make_pipeline(emb, LogisticRegression(max_iter=2000))
    pipe.fit(X_TRAIN, Y_TRAIN)
    assert emb.get_params() == params  # fit stores no parameter changes
    assert pipe.score(X_TEST, Y_TEST) > 0.6
    assert capsys.readouterr().out == ""  # quiet by default
    tuned(tiny_model, verbose=1).fit(X_TRAIN, Y_TRAIN)
    out = capsys.readouterr().out
    assert out.count("fine-tune epoch") == 3 and "3/3: loss" in out


def test_sentiment_features_fine_tunes_on_the_tweets(tiny_model):
    base = SentimentFeatures(
        embedder=SentenceEmbedder(tiny_model), n_train=60, random_state=0
    ).fit(["x"])
    sent = SentimentFeatures(
        embedder=tuned(tiny_model, fine_tune_epochs=1), n_train=60, random_state=0
    ).fit(["x", None])
    assert sent.embedder_.fine_tune_loss_ and not hasattr(base.embedder_, "encoder_")
    P = sent.transform(["shares plunge", "stock soars"])
    assert P.shape == (2, 3)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    assert not np.allclose(P, base.transform(["shares plunge", "stock soars"]))
