"""Qlib's LSTM, GRU and ALSTM networks."""

from __future__ import annotations

import torch
from torch import nn

from skquant.nn._modules._layout import to_sequence


def _rnn(rnn_type: str, input_size: int, hidden_size: int, num_layers: int, dropout):
    cls = {"LSTM": nn.LSTM, "GRU": nn.GRU}[rnn_type]
    return cls(
        input_size=input_size,
        hidden_size=hidden_size,
        num_layers=num_layers,
        batch_first=True,
        # torch warns about dropout with a single layer, where it does nothing
        dropout=dropout if num_layers > 1 else 0.0,
    )


class RNNNet(nn.Module):
    """An LSTM or GRU over the days, then ``Linear(hidden_size, 1)`` on the last day.

    Parameters
    ----------
    d_feat : int
        Features per day.
    hidden_size : int
        RNN width.
    num_layers : int
        Stacked RNN layers.
    dropout : float
        Dropout between RNN layers.
    rnn_type : {"LSTM", "GRU"}
        The recurrent cell.
    """

    def __init__(
        self,
        d_feat: int = 6,
        hidden_size: int = 64,
        num_layers: int = 2,
        dropout: float = 0.0,
        rnn_type: str = "LSTM",
    ) -> None:
        super().__init__()
        self.d_feat = d_feat
        self.rnn = _rnn(rnn_type, d_feat, hidden_size, num_layers, dropout)
        self.fc_out = nn.Linear(hidden_size, 1)

    def forward(self, x):
        out, _ = self.rnn(to_sequence(x, self.d_feat))
        return self.fc_out(out[:, -1, :])


class ALSTMNet(nn.Module):
    """Qlib's ALSTM: an RNN with temporal attention.

    ``Linear(d_feat, H) -> Tanh -> RNN``; attention scores
    ``Linear(H, H/2) -> Dropout -> Tanh -> Linear(H/2, 1) -> softmax over days``;
    the head ``Linear(2H, 1)`` reads the last hidden state concatenated with the
    attention-weighted sum of hidden states. Unlike Qlib, ``rnn_type`` is
    honoured (Qlib's wrapper never passes it on, so its ALSTM is always a GRU).
    """

    def __init__(
        self,
        d_feat: int = 6,
        hidden_size: int = 64,
        num_layers: int = 2,
        dropout: float = 0.0,
        rnn_type: str = "GRU",
    ) -> None:
        super().__init__()
        self.d_feat = d_feat
        self.net = nn.Sequential(nn.Linear(d_feat, hidden_size), nn.Tanh())
        self.rnn = _rnn(rnn_type, hidden_size, hidden_size, num_layers, dropout)
        half = max(hidden_size // 2, 1)
        self.att_net = nn.Sequential(
            nn.Linear(hidden_size, half),
            nn.Dropout(dropout),
            nn.Tanh(),
            nn.Linear(half, 1, bias=False),
            nn.Softmax(dim=1),
        )
        self.fc_out = nn.Linear(2 * hidden_size, 1)

    def forward(self, x):
        out, _ = self.rnn(self.net(to_sequence(x, self.d_feat)))  # (N, T, H)
        score = self.att_net(out)  # (N, T, 1), sums to 1 over T
        attended = torch.sum(out * score, dim=1)
        return self.fc_out(torch.cat((out[:, -1, :], attended), dim=1))
