"""Qlib's TCN as a scikit-learn regressor."""

from __future__ import annotations

from numbers import Integral, Real

from sklearn.utils._param_validation import Interval

from skquant.nn._base import _BaseNetRegressor

__all__ = ["TCNRegressor"]


class TCNRegressor(_BaseNetRegressor):
    """Qlib's TCN: causal dilated convolutions over the days, read the last day.

    ``num_layers`` residual blocks of two weight-normalised causal ``Conv1d``
    (dilation ``2**i``, ReLU, dropout), the features as channels, then
    ``Linear(n_chans, 1)`` on the last day.

    ``X`` is 2-D, ``(n_samples, d_feat * T)``, in Qlib's feature-major order: the
    ``T`` days of the first feature (oldest first), then the ``T`` days of the
    second, and so on, as :class:`skquant.features.Alpha360` (``d_feat=6``,
    ``T=60``) and :class:`skquant.features.SequenceWindower` produce. The
    network reshapes each row to ``(d_feat, T)`` itself: features are the
    convolution's channels, days its length.

    Parameters
    ----------
    d_feat : int, default=6
        Features per day (input channels); must divide the number of columns.
    n_chans : int, default=128
        Channels of every block.
    num_layers : int, default=5
        Residual blocks; the receptive field is
        ``1 + 2 * (kernel_size - 1) * (2**num_layers - 1)`` days.
    kernel_size : int, default=5
        Convolution width.
    dropout : float, default=0.5
        Dropout after each convolution.
    %(shared_parameters)s

    Attributes
    ----------
    %(shared_attributes)s

    Notes
    -----
    Defaults are Qlib's ``TCN`` class defaults (its Alpha360 benchmark uses
    ``kernel_size=3, lr=1e-3``). The ``(batch, d_feat, T)`` layout is the same
    in training and prediction; Qlib's ``pytorch_tcn_ts`` feeds
    ``(batch, T, d_feat)`` at prediction time (issue #1401).

    Examples
    --------
    >>> import numpy as np
    >>> from skquant.nn import TCNRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(256, 2 * 5))  # 2 features x 5 days, feature-major
    >>> y = X[:, 4] - X[:, 9]
    >>> model = TCNRegressor(d_feat=2, n_chans=8, num_layers=2, kernel_size=3,
    ...                      dropout=0.0, lr=0.01, max_epochs=5, batch_size=64,
    ...                      random_state=0).fit(X, y)
    >>> model.predict(X[:3]).shape
    (3,)
    """

    _parameter_constraints: dict = {
        **_BaseNetRegressor._parameter_constraints,
        "d_feat": [Interval(Integral, 1, None, closed="left")],
        "n_chans": [Interval(Integral, 1, None, closed="left")],
        "num_layers": [Interval(Integral, 1, None, closed="left")],
        "kernel_size": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
    }

    def __init__(
        self,
        *,
        d_feat: int = 6,
        n_chans: int = 128,
        num_layers: int = 5,
        kernel_size: int = 5,
        dropout: float = 0.5,
        lr: float = 0.0001,
        max_epochs: int = 200,
        batch_size: int = 2000,
        optimizer: str = "adam",
        weight_decay: float = 0.0,
        lr_schedule: str | None = None,
        early_stopping: str | None = "loss",
        patience: int = 20,
        validation_fraction: float = 0.2,
        validation_start=None,
        validation_gap: int = 2,
        clip_value: float | None = 3.0,
        allow_nan: bool = False,
        device: str = "cpu",
        dtype: str = "float32",
        n_threads: int | None = None,
        random_state=None,
        verbose: int = 0,
    ) -> None:
        super().__init__(
            lr=lr,
            max_epochs=max_epochs,
            batch_size=batch_size,
            optimizer=optimizer,
            weight_decay=weight_decay,
            lr_schedule=lr_schedule,
            early_stopping=early_stopping,
            patience=patience,
            validation_fraction=validation_fraction,
            validation_start=validation_start,
            validation_gap=validation_gap,
            clip_value=clip_value,
            allow_nan=allow_nan,
            device=device,
            dtype=dtype,
            n_threads=n_threads,
            random_state=random_state,
            verbose=verbose,
        )
        self.d_feat = d_feat
        self.n_chans = n_chans
        self.num_layers = num_layers
        self.kernel_size = kernel_size
        self.dropout = dropout

    def _module(self, n_features):
        from skquant.nn._modules import TCNNet

        return TCNNet, {
            "d_feat": self.d_feat,
            "n_chans": self.n_chans,
            "num_layers": self.num_layers,
            "kernel_size": self.kernel_size,
            "dropout": self.dropout,
        }
