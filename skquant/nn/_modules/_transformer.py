"""Qlib's Transformer and Localformer networks."""

from __future__ import annotations

import math

import torch
from torch import nn

from skquant.nn._modules._layout import to_sequence


class PositionalEncoding(nn.Module):
    """Sinusoidal positional encoding (no dropout), batch-first."""

    def __init__(self, d_model: int, max_len: int = 1000) -> None:
        super().__init__()
        position = torch.arange(max_len, dtype=torch.float32).unsqueeze(1)
        div = torch.exp(
            torch.arange(0, d_model, 2, dtype=torch.float32)
            * (-math.log(10000.0) / d_model)
        )
        pe = torch.zeros(max_len, d_model)
        pe[:, 0::2] = torch.sin(position * div)
        pe[:, 1::2] = torch.cos(position * div)[:, : d_model // 2]
        self.register_buffer("pe", pe.unsqueeze(0), persistent=False)

    def forward(self, x):  # (N, T, d_model)
        return x + self.pe[:, : x.shape[1]].to(x.dtype)


def _encoder_layer(d_model, nhead, dim_feedforward, dropout):
    # PyTorch's defaults as in Qlib: ReLU, post-norm; batch_first is only layout.
    return nn.TransformerEncoderLayer(
        d_model,
        nhead,
        dim_feedforward=dim_feedforward,
        dropout=dropout,
        batch_first=True,
    )


class TransformerNet(nn.Module):
    """Embed days, add positions, ``TransformerEncoder``, ``Linear`` on the last day."""

    def __init__(
        self,
        d_feat: int = 20,
        d_model: int = 64,
        nhead: int = 2,
        num_layers: int = 2,
        dropout: float = 0.0,
        dim_feedforward: int = 2048,
    ) -> None:
        super().__init__()
        self.d_feat = d_feat
        self.feature_layer = nn.Linear(d_feat, d_model)
        self.pos_encoder = PositionalEncoding(d_model)
        self.encoder = nn.TransformerEncoder(
            _encoder_layer(d_model, nhead, dim_feedforward, dropout),
            num_layers=num_layers,
            enable_nested_tensor=False,
        )
        self.decoder_layer = nn.Linear(d_model, 1)

    def forward(self, x):
        src = self.pos_encoder(self.feature_layer(to_sequence(x, self.d_feat)))
        return self.decoder_layer(self.encoder(src)[:, -1, :])


class _LocalformerEncoder(nn.Module):
    """Per layer: a kernel-3 convolution over days, added before the encoder layer."""

    def __init__(self, d_model, nhead, num_layers, dropout, dim_feedforward):
        super().__init__()
        self.convs = nn.ModuleList(
            nn.Conv1d(d_model, d_model, kernel_size=3, stride=1, padding=1)
            for _ in range(num_layers)
        )
        self.layers = nn.ModuleList(
            _encoder_layer(d_model, nhead, dim_feedforward, dropout)
            for _ in range(num_layers)
        )

    def forward(self, src):  # (N, T, d_model)
        out = src
        local = torch.zeros_like(src)
        for conv, layer in zip(self.convs, self.layers, strict=True):
            local = conv(out.transpose(1, 2)).transpose(1, 2)
            out = layer(out + local)
        return out + local


class LocalformerNet(nn.Module):
    """Transformer with local convolutions, a GRU, ``Linear`` on the last day."""

    def __init__(
        self,
        d_feat: int = 20,
        d_model: int = 64,
        nhead: int = 2,
        num_layers: int = 2,
        dropout: float = 0.0,
        dim_feedforward: int = 2048,
    ) -> None:
        super().__init__()
        self.d_feat = d_feat
        self.feature_layer = nn.Linear(d_feat, d_model)
        self.pos_encoder = PositionalEncoding(d_model)
        self.encoder = _LocalformerEncoder(
            d_model, nhead, num_layers, dropout, dim_feedforward
        )
        self.rnn = nn.GRU(
            d_model,
            d_model,
            num_layers,
            batch_first=True,
            dropout=dropout if num_layers > 1 else 0.0,
        )
        self.decoder_layer = nn.Linear(d_model, 1)

    def forward(self, x):
        src = self.pos_encoder(self.feature_layer(to_sequence(x, self.d_feat)))
        out, _ = self.rnn(self.encoder(src))
        return self.decoder_layer(out[:, -1, :])
