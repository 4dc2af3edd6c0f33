"""SentenceEmbedder: inputs, missing text, caching, pickling, composition."""

from __future__ import annotations

import pickle
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError

from skquant.text import EmbeddingCache, SentenceEmbedder, _sentence

pytest.importorskip("sentence_transformers")

TEXTS = [
    "apple beats estimates",
    "fed hikes rates",
    "oil slides 3%",
    "apple beats estimates",
]


@pytest.fixture
def embedder(tiny_model):
    return SentenceEmbedder(tiny_model).fit(TEXTS)


def test_output_shape_dtype_and_duplicates(embedder):
    X = embedder.transform(TEXTS)
    assert X.shape == (4, 16) and X.dtype == np.float32
    assert embedder.embedding_dim_ == 16 and embedder.n_features_in_ == 1
    np.testing.assert_array_equal(X[0], X[3])
    assert not np.allclose(X[0], X[1])


def test_matches_sentence_transformers_encode(embedder, tiny_model):
    from sentence_transformers import SentenceTransformer

    direct = SentenceTransformer(tiny_model, device="cpu").encode(TEXTS)
    np.testing.assert_allclose(embedder.transform(TEXTS), direct, atol=1e-6)


@pytest.mark.parametrize(
    "make",
    [
        list,
        lambda t: np.asarray(t),
        lambda t: np.asarray(t, dtype=object).reshape(-1, 1),
        lambda t: pd.Series(t, name="headline"),
        lambda t: pd.Series(t, dtype="string"),
        lambda t: pd.DataFrame({"headline": t}),
        tuple,
        lambda t: (s for s in t),
    ],
    ids=[
        "list",
        "array",
        "2d-one-column",
        "series",
        "string-dtype",
        "frame",
        "tuple",
        "generator",
    ],
)
def test_accepted_inputs(embedder, make):
    expected = embedder.transform(TEXTS)
    np.testing.assert_allclose(embedder.transform(make(TEXTS)), expected)


def test_rejected_inputs(embedder):
    with pytest.raises(TypeError, match="single string"):
        embedder.transform("apple beats estimates")
    with pytest.raises(ValueError, match="one text column"):
        embedder.transform(pd.DataFrame({"a": ["x"], "b": ["y"]}))
    with pytest.raises(ValueError, match="1-D column"):
        embedder.transform(np.array([["a", "b"], ["c", "d"]]))
    with pytest.raises(ValueError, match="0 texts"):
        embedder.transform([])
    for bad in (3, 2.5, b"bytes", ["nested"], {"a": 1}):
        with pytest.raises(TypeError, match="expects texts"):
            embedder.transform(["fine", bad])


def test_missing_zeros_by_default(embedder):
    X = embedder.transform(["apple", None, np.nan, "", "   ", pd.NA, "oil"])
    assert np.all(X[1:6] == 0)
    assert np.all(np.abs(X[[0, 6]]).sum(axis=1) > 0)
    # all missing: no encoding at all, still the right shape
    assert embedder.transform([None, ""]).shape == (2, 16)


def test_missing_nan_and_error(tiny_model):
    X = (
        SentenceEmbedder(tiny_model, missing="nan")
        .fit(["a"])
        .transform(pd.Series(["apple", None, ""]))
    )
    assert np.isnan(X[1:]).all() and not np.isnan(X[0]).any()
    strict = SentenceEmbedder(tiny_model, missing="error")
    with pytest.raises(ValueError, match=r"2 missing text\(s\).*\[1, 2\]"):
        strict.fit(["apple", None, " "])
    strict.fit(["apple"])
    with pytest.raises(ValueError, match="missing='zeros'"):
        strict.transform(["apple", float("nan")])


def test_normalize_embeddings(tiny_model):
    X = SentenceEmbedder(tiny_model, normalize_embeddings=True).fit(TEXTS)
    X = X.transform(TEXTS + [None])
    np.testing.assert_allclose(np.linalg.norm(X[:4], axis=1), 1.0, rtol=1e-5)
    assert np.all(X[4] == 0)


def test_invalid_parameters_raise_at_fit(tiny_model):
    with pytest.raises(InvalidParameterError, match="missing"):
        SentenceEmbedder(tiny_model, missing="drop").fit(TEXTS)
    with pytest.raises(InvalidParameterError, match="batch_size"):
        SentenceEmbedder(tiny_model, batch_size=0).fit(TEXTS)
    with pytest.raises(InvalidParameterError, match="cache"):
        SentenceEmbedder(tiny_model, cache=3).fit(TEXTS)


def test_unknown_model_is_a_clear_error(tmp_path):
    with pytest.raises(OSError, match="never downloads"):
        SentenceEmbedder("no-such-org/no-such-model-xyz").fit(["a"])


def test_not_fitted(tiny_model):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        SentenceEmbedder(tiny_model).transform(["a"])


def test_feature_names_and_pandas_output(embedder):
    names = embedder.get_feature_names_out()
    assert names.tolist() == [f"sentenceembedder{i}" for i in range(16)]
    out = (
        clone(embedder)
        .set_output(transform="pandas")
        .fit(TEXTS)
        .transform(pd.Series(TEXTS, index=[10, 11, 12, 13]))
    )
    assert list(out.columns) == names.tolist()
    assert out.index.tolist() == [10, 11, 12, 13]


def test_feature_names_in_for_one_column_frame(tiny_model):
    emb = SentenceEmbedder(tiny_model).fit(pd.DataFrame({"headline": TEXTS}))
    assert emb.feature_names_in_.tolist() == ["headline"]
    assert not hasattr(emb.fit(TEXTS), "feature_names_in_")


def test_column_transformer_branch(tiny_model):
    frame = pd.DataFrame(
        {"headline": TEXTS, "ret": [0.1, -0.2, 0.0, 0.3], "vol": [1.0, 2.0, 3.0, 4.0]}
    )
    ct = ColumnTransformer(
        [
            ("text", SentenceEmbedder(tiny_model), "headline"),
            ("num", "passthrough", ["ret", "vol"]),
        ]
    )
    ct.set_output(transform="pandas")
    out = ct.fit_transform(frame)
    assert out.shape == (4, 18)
    assert out.columns[0] == "text__sentenceembedder0"
    assert list(out.columns[-2:]) == ["num__ret", "num__vol"]


# -- lazy loading, sharing, pickling -----------------------------------------
def test_import_and_construction_stay_light():
    code = (
        "import sys, skquant.text as t; t.SentenceEmbedder(); "
        "t.SentimentFeatures(); t.ZeroShotSentiment(); t.DailyTextAggregator(); "
        "print([m for m in ('torch', 'transformers', 'sentence_transformers') "
        "if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_clones_share_the_loaded_model(embedder):
    other = clone(embedder).fit(["x"])
    assert other._get_model() is embedder._get_model()


def test_pickle_drops_weights_and_reloads(embedder):
    blob = pickle.dumps(embedder)
    assert len(blob) < 5_000
    restored = pickle.loads(blob)
    assert "_model" not in restored.__dict__
    np.testing.assert_allclose(restored.transform(TEXTS), embedder.transform(TEXTS))


def test_pickle_with_weights_works_without_the_files(tiny_model, tmp_path):
    moved = tmp_path / "model"
    shutil.copytree(tiny_model, moved)
    emb = SentenceEmbedder(str(moved), store_weights_in_pickle=True).fit(TEXTS)
    expected = emb.transform(TEXTS)
    blob = pickle.dumps(emb)
    light = pickle.dumps(
        clone(emb).set_params(store_weights_in_pickle=False).fit(TEXTS)
    )
    assert len(blob) > 10 * len(light)
    shutil.rmtree(moved)
    _sentence._MODELS.clear()
    np.testing.assert_allclose(pickle.loads(blob).transform(TEXTS), expected)
    with pytest.raises(OSError, match="could not load"):
        pickle.loads(light).transform(TEXTS)


# -- the cache -----------------------------------------------------------------
def _frame(n: int = 60, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    words = ["apple", "beats", "misses", "fed", "oil", "rally", "slump", "ceo"]
    heads = [" ".join(rng.choice(words, 3)) for _ in range(n)]
    frame = pd.DataFrame(
        {"headline": heads, "mom": rng.normal(size=n), "vol": rng.normal(size=n)}
    )
    y = frame["mom"].to_numpy() + rng.normal(scale=0.1, size=n)
    return frame, y


def test_grid_search_encodes_each_text_once(tiny_model, count_encodes):
    frame, y = _frame()
    cache = EmbeddingCache()
    embedder = SentenceEmbedder(tiny_model, cache=cache)
    seen = count_encodes(embedder)
    ct = ColumnTransformer(
        [("text", embedder, "headline"), ("num", "passthrough", ["mom", "vol"])]
    )
    search = GridSearchCV(
        make_pipeline(ct, Ridge()), {"ridge__alpha": [0.1, 1.0, 10.0]}, cv=KFold(3)
    )
    search.fit(frame, y)
    n_unique = frame["headline"].nunique()
    assert sorted(seen) == sorted(set(frame["headline"]))  # each text once
    assert len(seen) == n_unique < len(frame)
    assert cache.misses == n_unique and cache.hits > 3 * n_unique
    # the uncached run encodes every text again in every fit and predict
    seen.clear()
    GridSearchCV(
        make_pipeline(clone(ct).set_params(text__cache=None), Ridge()),
        {"ridge__alpha": [0.1, 1.0, 10.0]},
        cv=KFold(3),
    ).fit(frame, y)
    assert len(seen) > 5 * n_unique


def test_cache_survives_clone(tiny_model):
    cache = EmbeddingCache()
    emb = SentenceEmbedder(tiny_model, cache=cache)
    assert clone(emb).cache is cache
    assert clone(SentenceEmbedder(cache="memory")).cache == "memory"
    from skquant.text._cache import resolve_cache

    assert resolve_cache("memory") is EmbeddingCache.shared()


def test_memory_cache_is_shared_across_estimators(tiny_model, count_encodes):
    first = SentenceEmbedder(tiny_model, cache="memory").fit(["a"])
    seen = count_encodes(first)
    texts = ["memory cache text one", "memory cache text two"]
    a = first.transform(texts)
    b = clone(first).fit(["b"]).transform(texts[::-1])
    assert len(seen) == 2
    np.testing.assert_allclose(a, b[::-1])


def test_disk_cache_outlives_the_process(tiny_model, tmp_path, count_encodes):
    emb = SentenceEmbedder(tiny_model, cache=tmp_path / "emb").fit(["a"])
    seen = count_encodes(emb)
    expected = emb.transform(TEXTS)
    assert (tmp_path / "emb" / "skquant_embeddings.sqlite").exists()
    # a new process has an empty in-memory layer: simulate it
    EmbeddingCache._on_disk.clear()
    again = SentenceEmbedder(tiny_model, cache=str(tmp_path / "emb")).fit(["a"])
    np.testing.assert_allclose(again.transform(TEXTS), expected)
    assert len(seen) == 3  # three distinct texts, encoded once in all
    cache = EmbeddingCache.for_directory(tmp_path / "emb")
    assert cache.hits == 3 and cache.misses == 0
    cache.clear()
    assert cache.get(again._model_key, TEXTS) == {}


def test_disk_only_cache_and_pickle(tmp_path):
    cache = EmbeddingCache(tmp_path, memory=False)
    cache.put("m", ["x", "y"], np.ones((2, 3)))
    assert len(cache) == 0
    assert sorted(cache.get("m", ["x", "z"])) == ["x"]
    restored = pickle.loads(pickle.dumps(cache))
    assert restored.directory == tmp_path and restored.get("m", ["y"])["y"].sum() == 3
    mem = EmbeddingCache()
    mem.put("m", ["x"], np.ones((1, 3)))
    assert len(pickle.loads(pickle.dumps(mem))) == 0  # entries are not pickled
    with pytest.raises(ValueError, match="one row per text"):
        mem.put("m", ["x", "y"], np.ones((1, 3)))


def test_cache_keys_include_the_model(tiny_model, make_tiny_model):
    other = make_tiny_model(1)
    cache = EmbeddingCache()
    a = SentenceEmbedder(tiny_model, cache=cache).fit(["a"]).transform(TEXTS)
    b = SentenceEmbedder(other, cache=cache).fit(["a"]).transform(TEXTS)
    assert not np.allclose(a, b)
    assert cache.misses == 6 and cache.hits == 0
