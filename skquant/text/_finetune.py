"""Fine-tune a sentence-transformers encoder on labelled texts (plain torch).

A short training loop around the SentenceTransformer module, with one of two
objectives on (text, label) pairs:

* ``"classification"``: a linear softmax head on the pooled embedding,
  cross-entropy; the head is discarded after training.
* ``"contrastive"``: sentence-transformers' ``BatchAllTripletLoss`` with
  cosine distance: within each batch, a text should be closer to the texts of
  its own label than to those of any other label, by a margin.

Everything torch-related is imported inside the functions, so importing this
module stays light.
"""

from __future__ import annotations

import hashlib
import time

import numpy as np

from skquant.utils._torch_seed import seeded_torch

__all__ = ["fine_tune_encoder", "weights_digest"]

#: Learning rate of the freshly initialised classification head, which has to
#: move much further than the pre-trained encoder in one short run.
HEAD_LR = 1e-3
#: BatchAllTripletLoss margin, in cosine distance (1 - cosine similarity).
TRIPLET_MARGIN = 0.3


def _losses_module():
    try:  # sentence-transformers >= 6
        from sentence_transformers.sentence_transformer import losses
    except ImportError:  # older releases
        from sentence_transformers import losses
    return losses


def _preprocess(model, texts: list[str]) -> dict:
    """Tokenize a batch (``preprocess`` in s-t >= 6, ``tokenize`` before)."""
    prepare = getattr(model, "preprocess", None) or model.tokenize
    features = prepare(texts)
    return {
        k: (v.to(model.device) if hasattr(v, "to") else v) for k, v in features.items()
    }


def fine_tune_encoder(
    model,
    texts: list[str],
    labels: np.ndarray,
    *,
    method: str,
    epochs: int,
    lr: float,
    batch_size: int,
    seed: int,
    verbose: int = 0,
) -> list[float]:
    """Train ``model`` in place on ``(texts, labels)``; return the epoch losses.

    Parameters
    ----------
    model : SentenceTransformer
        Trained in place: pass a private copy. Left in eval mode.
    texts : list of str
        Training texts (no missing values).
    labels : ndarray of int
        Class index of each text, ``0 .. n_classes - 1``.
    method : {"classification", "contrastive"}
        The objective (see the module docstring).
    epochs, lr, batch_size : int, float, int
        Passes over the data, AdamW learning rate of the encoder, texts per
        step.
    seed : int
        Seeds the shuffling, dropout and the head's initialisation, in a fork
        of torch's RNG state.
    verbose : int, default=0
        Print one line per epoch when positive.

    Returns
    -------
    list of float
        The mean training loss of each epoch.
    """
    import torch

    losses = _losses_module()
    n = len(texts)
    y = torch.as_tensor(np.asarray(labels, dtype=np.int64), device=model.device)
    history: list[float] = []
    with seeded_torch(torch, seed):
        generator = torch.Generator().manual_seed(seed)
        if method == "classification":
            dim = _embedding_dim(model)
            head = torch.nn.Linear(dim, int(y.max()) + 1).to(model.device)
            params = [
                {"params": list(model.parameters()), "lr": lr},
                {"params": list(head.parameters()), "lr": HEAD_LR},
            ]
            cross_entropy = torch.nn.CrossEntropyLoss()

            def objective(emb, target):
                return cross_entropy(head(emb), target)
        elif method == "contrastive":
            triplet = losses.BatchAllTripletLoss(
                model,
                distance_metric=losses.BatchHardTripletLossDistanceFunction.cosine_distance,
                margin=TRIPLET_MARGIN,
            )
            params = [{"params": list(model.parameters()), "lr": lr}]

            def objective(emb, target):
                return triplet.compute_loss_from_embeddings([emb], target)
        else:  # pragma: no cover - validated by the estimator
            raise ValueError(f"unknown fine-tuning method {method!r}")
        optimizer = torch.optim.AdamW(params, lr=lr)
        model.train()
        try:
            for epoch in range(epochs):
                start = time.perf_counter()
                order = torch.randperm(n, generator=generator).tolist()
                total, steps = 0.0, 0
                for lo in range(0, n, batch_size):
                    idx = order[lo : lo + batch_size]
                    features = _preprocess(model, [texts[i] for i in idx])
                    emb = model(features)["sentence_embedding"]
                    loss = objective(emb, y[idx])
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    optimizer.step()
                    total += float(loss.detach())
                    steps += 1
                history.append(total / max(steps, 1))
                if verbose:
                    print(
                        f"[SentenceEmbedder] fine-tune epoch {epoch + 1}/{epochs}: "
                        f"loss {history[-1]:.4f}, {n} texts, "
                        f"{time.perf_counter() - start:.1f} s",
                        flush=True,
                    )
        finally:
            optimizer.zero_grad(set_to_none=True)
            model.eval()
    return history


def _embedding_dim(model) -> int:
    dimension = getattr(model, "get_embedding_dimension", None)
    if dimension is None:
        dimension = model.get_sentence_embedding_dimension
    return int(dimension())


def weights_digest(model) -> str:
    """A hash of every parameter and buffer of ``model`` (names and values)."""
    h = hashlib.blake2b(digest_size=16)
    for name, tensor in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(str(tuple(tensor.shape)).encode())
        values = tensor.detach().cpu().contiguous()
        try:
            h.update(values.numpy().tobytes())
        except TypeError:  # bfloat16 and other dtypes numpy lacks
            h.update(values.float().numpy().tobytes())
    return h.hexdigest()
