"""Qlib's Transformer and Localformer as scikit-learn regressors."""

from __future__ import annotations

from numbers import Integral, Real

from sklearn.utils._param_validation import Interval

from skquant.nn._base import _BaseNetRegressor

__all__ = ["LocalformerRegressor", "TransformerRegressor"]


class _AttentionRegressor(_BaseNetRegressor):
    _parameter_constraints: dict = {
        **_BaseNetRegressor._parameter_constraints,
        "d_feat": [Interval(Integral, 1, None, closed="left")],
        "d_model": [Interval(Integral, 1, None, closed="left")],
        "nhead": [Interval(Integral, 1, None, closed="left")],
        "num_layers": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "dim_feedforward": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        *,
        d_feat: int = 20,
        d_model: int = 64,
        nhead: int = 2,
        num_layers: int = 2,
        dropout: float = 0.0,
        dim_feedforward: int = 2048,
        lr: float = 0.0001,
        max_epochs: int = 100,
        batch_size: int = 2048,
        optimizer: str = "adam",
        weight_decay: float = 0.001,
        lr_schedule: str | None = None,
        early_stopping: str | None = "loss",
        patience: int = 5,
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
        self.d_model = d_model
        self.nhead = nhead
        self.num_layers = num_layers
        self.dropout = dropout
        self.dim_feedforward = dim_feedforward

    def _module_kwargs(self):
        if self.d_model % self.nhead:
            raise ValueError(
                f"d_model={self.d_model} must be a multiple of nhead={self.nhead} "
                "(each attention head gets d_model / nhead dimensions)."
            )
        return {
            "d_feat": self.d_feat,
            "d_model": self.d_model,
            "nhead": self.nhead,
            "num_layers": self.num_layers,
            "dropout": self.dropout,
            "dim_feedforward": self.dim_feedforward,
        }


class TransformerRegressor(_AttentionRegressor):
    """Qlib's Transformer: embed each day, self-attention over days, read the last day.

    ``Linear(d_feat, d_model)``, sinusoidal positional encoding, a PyTorch
    ``TransformerEncoder`` (post-norm, ReLU, no mask), then ``Linear(d_model, 1)``
    on the last day.

    ``X`` is 2-D, ``(n_samples, d_feat * T)``, in Qlib's feature-major order: the
    ``T`` days of the first feature (oldest first), then the ``T`` days of the
    second, and so on, as :class:`skquant.features.Alpha360` (``d_feat=6``,
    ``T=60``) and :class:`skquant.features.SequenceWindower` produce. The
    network reshapes each row to ``(T, d_feat)`` itself.

    Parameters
    ----------
    d_feat : int, default=20
        Features per day; must divide the number of columns of ``X``. Qlib's
        default 20 fits the 20 selected Alpha158 features windowed over 20
        days; use 6 for Alpha360.
    d_model : int, default=64
        Width of the day embeddings.
    nhead : int, default=2
        Attention heads; must divide ``d_model``.
    num_layers : int, default=2
        Encoder layers.
    dropout : float, default=0.0
        Dropout inside the encoder layers.
    dim_feedforward : int, default=2048
        Width of each encoder layer's feed-forward block (PyTorch's default,
        which Qlib keeps; it dominates the cost: 256 trains several times
        faster).
    %(shared_parameters)s

    Attributes
    ----------
    %(shared_attributes)s

    See Also
    --------
    LocalformerRegressor : Adds local convolutions and a GRU.

    Notes
    -----
    Defaults are Qlib's (its ``reg=1e-3`` is the Adam ``weight_decay``).

    Examples
    --------
    >>> import numpy as np
    >>> from skquant.nn import TransformerRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(256, 2 * 5))  # 2 features x 5 days, feature-major
    >>> y = X[:, 4] - X[:, 9]
    >>> model = TransformerRegressor(d_feat=2, d_model=8, dim_feedforward=16,
    ...                              max_epochs=5, batch_size=64,
    ...                              random_state=0).fit(X, y)
    >>> model.predict(X[:3]).shape
    (3,)
    """

    def _module(self, n_features):
        from skquant.nn._modules import TransformerNet

        return TransformerNet, self._module_kwargs()


class LocalformerRegressor(_AttentionRegressor):
    """Qlib's Localformer: a Transformer with local convolutions, then a GRU.

    Before each encoder layer a kernel-3 convolution over the days is added to
    its input; the encoder output goes through a GRU and ``Linear(d_model, 1)``
    reads the last day.

    ``X`` is 2-D, ``(n_samples, d_feat * T)``, in Qlib's feature-major order: the
    ``T`` days of the first feature (oldest first), then the ``T`` days of the
    second, and so on, as :class:`skquant.features.Alpha360` (``d_feat=6``,
    ``T=60``) and :class:`skquant.features.SequenceWindower` produce. The
    network reshapes each row to ``(T, d_feat)`` itself.

    Parameters
    ----------
    d_feat : int, default=20
        Features per day; must divide the number of columns of ``X``. Qlib's
        default 20 fits the 20 selected Alpha158 features windowed over 20
        days; use 6 for Alpha360.
    d_model : int, default=64
        Width of the day embeddings.
    nhead : int, default=2
        Attention heads; must divide ``d_model``.
    num_layers : int, default=2
        Encoder layers.
    dropout : float, default=0.0
        Dropout inside the encoder layers.
    dim_feedforward : int, default=2048
        Width of each encoder layer's feed-forward block (PyTorch's default,
        which Qlib keeps; it dominates the cost: 256 trains several times
        faster).
    %(shared_parameters)s

    Attributes
    ----------
    %(shared_attributes)s

    See Also
    --------
    TransformerRegressor : Without the convolutions and the GRU.

    Notes
    -----
    Defaults are Qlib's. Qlib clones one encoder layer (and one convolution)
    ``num_layers`` times, so its layers start from identical weights; here
    each layer is initialised independently.

    Examples
    --------
    >>> import numpy as np
    >>> from skquant.nn import LocalformerRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(256, 2 * 5))  # 2 features x 5 days, feature-major
    >>> y = X[:, 4] - X[:, 9]
    >>> model = LocalformerRegressor(d_feat=2, d_model=8, dim_feedforward=16,
    ...                              max_epochs=5, batch_size=64,
    ...                              random_state=0).fit(X, y)
    >>> model.predict(X[:3]).shape
    (3,)
    """

    def _module(self, n_features):
        from skquant.nn._modules import LocalformerNet

        return LocalformerNet, self._module_kwargs()
