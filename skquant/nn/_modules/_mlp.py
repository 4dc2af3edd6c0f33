"""Qlib's MLP (``pytorch_nn.Net``)."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

_ACTIVATIONS = {"LeakyReLU": lambda: nn.LeakyReLU(negative_slope=0.1), "SiLU": nn.SiLU}


class MLPNet(nn.Module):
    """``Dropout -> [Linear -> BatchNorm1d -> act] * len(layers) -> Dropout -> Linear``.

    Parameters
    ----------
    input_dim : int
        Number of input columns.
    layers : sequence of int, default=(256,)
        Hidden layer sizes.
    dropout : float, default=0.05
        Dropout before the first and after the last hidden layer.
    act : {"LeakyReLU", "SiLU"}, default="LeakyReLU"
        Activation; LeakyReLU has slope 0.1, as in Qlib.
    """

    def __init__(
        self,
        input_dim: int,
        layers: Sequence[int] = (256,),
        dropout: float = 0.05,
        act: str = "LeakyReLU",
    ) -> None:
        super().__init__()
        blocks: list[nn.Module] = [nn.Dropout(dropout)]
        width = input_dim
        for hidden in layers:
            linear = nn.Linear(width, hidden)
            nn.init.kaiming_normal_(
                linear.weight, a=0.1, mode="fan_in", nonlinearity="leaky_relu"
            )
            blocks += [linear, nn.BatchNorm1d(hidden), _ACTIVATIONS[act]()]
            width = hidden
        head = nn.Linear(width, 1)
        nn.init.kaiming_normal_(
            head.weight, a=0.1, mode="fan_in", nonlinearity="leaky_relu"
        )
        blocks += [nn.Dropout(dropout), head]
        self.net = nn.Sequential(*blocks)

    def forward(self, x):
        return self.net(x)
