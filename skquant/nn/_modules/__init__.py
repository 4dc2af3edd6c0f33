"""Plain :class:`torch.nn.Module` networks behind the :mod:`skquant.nn` estimators.

Importing this package imports torch; the estimators import it only inside
``fit``. Every sequence network takes a 2-D batch of shape
``(batch, d_feat * T)`` in Qlib's feature-major column order (all ``T`` days of
the first feature, oldest first, then the second feature, ...) and reshapes it
itself, so the estimators and the data stay 2-D.
"""

from skquant.nn._modules._mlp import MLPNet
from skquant.nn._modules._rnn import ALSTMNet, RNNNet
from skquant.nn._modules._tcn import TCNNet
from skquant.nn._modules._transformer import LocalformerNet, TransformerNet

__all__ = [
    "ALSTMNet",
    "LocalformerNet",
    "MLPNet",
    "RNNNet",
    "TCNNet",
    "TransformerNet",
]
