"""The 2-D feature-major layout shared by the sequence networks."""

from __future__ import annotations

import torch


def to_sequence(x: torch.Tensor, d_feat: int) -> torch.Tensor:
    """Reshape ``(batch, d_feat * T)`` feature-major rows to ``(batch, T, d_feat)``.

    Columns come in blocks, one per feature, each ordered oldest to newest
    (Qlib's ``CLOSE59 .. CLOSE0, OPEN59 .. OPEN0, ...``), so ``out[:, -1, :]`` is
    the latest day.
    """
    return x.reshape(x.shape[0], d_feat, -1).permute(0, 2, 1)


def to_channels(x: torch.Tensor, d_feat: int) -> torch.Tensor:
    """Reshape ``(batch, d_feat * T)`` rows to ``(batch, d_feat, T)`` for ``Conv1d``."""
    return x.reshape(x.shape[0], d_feat, -1)
