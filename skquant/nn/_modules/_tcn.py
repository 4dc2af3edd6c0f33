"""Qlib's TCN (the CMU Locus Lab temporal convolutional network)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from skquant.nn._modules._layout import to_channels


class _CausalConv1d(nn.Module):
    """Weight-normalised dilated ``Conv1d``, padded on the left only (causal).

    Left padding replaces the reference code's pad-both-sides-then-chomp; the
    output is the same. Weight normalisation (``w = g * v / ||v||``) is written
    out so that the module pickles (torch's parametrisation-based
    ``weight_norm`` refuses to).
    """

    def __init__(self, n_in: int, n_out: int, kernel_size: int, dilation: int):
        super().__init__()
        self.pad = (kernel_size - 1) * dilation
        self.dilation = dilation
        v = torch.empty(n_out, n_in, kernel_size).normal_(0.0, 0.01)
        self.weight_v = nn.Parameter(v)
        self.weight_g = nn.Parameter(v.norm(dim=(1, 2), keepdim=True).detach().clone())
        bound = 1.0 / (n_in * kernel_size) ** 0.5
        self.bias = nn.Parameter(torch.empty(n_out).uniform_(-bound, bound))

    def forward(self, x):
        weight = (
            self.weight_g * self.weight_v / self.weight_v.norm(dim=(1, 2), keepdim=True)
        )
        return F.conv1d(
            F.pad(x, (self.pad, 0)), weight, self.bias, dilation=self.dilation
        )


class _TemporalBlock(nn.Module):
    def __init__(self, n_in, n_out, kernel_size, dilation, dropout):
        super().__init__()
        self.conv1 = _CausalConv1d(n_in, n_out, kernel_size, dilation)
        self.conv2 = _CausalConv1d(n_out, n_out, kernel_size, dilation)
        self.dropout = nn.Dropout(dropout)
        self.downsample = nn.Conv1d(n_in, n_out, 1) if n_in != n_out else None
        if self.downsample is not None:
            nn.init.normal_(self.downsample.weight, 0.0, 0.01)

    def forward(self, x):
        out = self.dropout(F.relu(self.conv1(x)))
        out = self.dropout(F.relu(self.conv2(out)))
        res = x if self.downsample is None else self.downsample(x)
        return F.relu(out + res)


class TCNNet(nn.Module):
    """Causal temporal blocks (dilation ``2**i``), then ``Linear`` on the last day.

    Input rows ``(batch, d_feat * T)`` become ``(batch, d_feat, T)``: channels are
    features, the convolution runs over days. This layout is used both in
    training and in prediction (Qlib's ``pytorch_tcn_ts`` transposes only in
    training, its issue #1401).
    """

    def __init__(
        self,
        d_feat: int = 6,
        n_chans: int = 128,
        num_layers: int = 5,
        kernel_size: int = 5,
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        self.d_feat = d_feat
        blocks = []
        for i in range(num_layers):
            n_in = d_feat if i == 0 else n_chans
            blocks.append(_TemporalBlock(n_in, n_chans, kernel_size, 2**i, dropout))
        self.tcn = nn.Sequential(*blocks)
        self.linear = nn.Linear(n_chans, 1)

    def forward(self, x):
        out = self.tcn(to_channels(x, self.d_feat))  # (N, n_chans, T)
        return self.linear(out[:, :, -1])
