"""Qlib's MLP (``DNNModelPytorch``) as a scikit-learn regressor."""

from __future__ import annotations

from numbers import Integral, Real

from sklearn.utils._param_validation import Interval, StrOptions

from skquant.nn._base import _BaseNetRegressor

__all__ = ["DNNRegressor"]


class DNNRegressor(_BaseNetRegressor):
    """Qlib's MLP: dropout, ``Linear -> BatchNorm -> LeakyReLU`` blocks, a linear head.

    The network is ``Dropout(dropout)``, then for each size in ``layers``
    ``Linear -> BatchNorm1d -> LeakyReLU(0.1)`` (or SiLU), then
    ``Dropout(dropout) -> Linear(., 1)``, with Kaiming-normal weights. It reads
    the columns of ``X`` as one flat vector (no time structure).

    Parameters
    ----------
    layers : tuple of int, default=(256,)
        Hidden layer sizes.
    dropout : float, default=0.05
        Dropout on the input and before the head.
    act : {"LeakyReLU", "SiLU"}, default="LeakyReLU"
        Hidden activation.
    %(shared_parameters)s

    Attributes
    ----------
    %(shared_attributes)s

    See Also
    --------
    ALSTMRegressor : An RNN with temporal attention over the same 2-D layout.

    Notes
    -----
    Qlib trains this MLP by steps, drawing batches with replacement, and
    evaluates every 20 steps; here it trains by epochs like the other nets.
    The defaults follow Qlib's Alpha360 benchmark configuration (Adam at
    0.002, batches of 4096) rather than the class defaults (SGD at 0.001 for
    300 steps), which barely move the weights. The learning rate is halved on
    a validation-loss plateau, as in Qlib.

    Examples
    --------
    >>> import numpy as np
    >>> from skquant.nn import DNNRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(256, 8))
    >>> y = X[:, 0] - X[:, 1]
    >>> model = DNNRegressor(layers=(16,), max_epochs=5, batch_size=64,
    ...                      random_state=0).fit(X, y)
    >>> model.predict(X[:3]).shape
    (3,)
    """

    _parameter_constraints: dict = {
        **_BaseNetRegressor._parameter_constraints,
        "layers": [tuple, list],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "act": [StrOptions({"LeakyReLU", "SiLU"})],
    }

    def __init__(
        self,
        *,
        layers: tuple[int, ...] = (256,),
        dropout: float = 0.05,
        act: str = "LeakyReLU",
        lr: float = 0.002,
        max_epochs: int = 200,
        batch_size: int = 4096,
        optimizer: str = "adam",
        weight_decay: float = 0.0,
        lr_schedule: str | None = "plateau",
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
        self.layers = layers
        self.dropout = dropout
        self.act = act

    def _module(self, n_features):
        from skquant.nn._modules import MLPNet

        layers = tuple(self.layers)
        if not all(isinstance(h, Integral) and h >= 1 for h in layers):
            raise ValueError(
                f"layers must be a tuple of positive ints; got {self.layers!r}."
            )
        return MLPNet, {
            "input_dim": n_features,
            "layers": layers,
            "dropout": self.dropout,
            "act": self.act,
        }
