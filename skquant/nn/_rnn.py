"""Qlib's LSTM, GRU and ALSTM as scikit-learn regressors."""

from __future__ import annotations

from numbers import Integral, Real

from sklearn.utils._param_validation import Interval, StrOptions

from skquant.nn._base import _BaseNetRegressor

__all__ = ["ALSTMRegressor", "GRURegressor", "LSTMRegressor"]

_RNN_CONSTRAINTS = {
    **_BaseNetRegressor._parameter_constraints,
    "d_feat": [Interval(Integral, 1, None, closed="left")],
    "hidden_size": [Interval(Integral, 1, None, closed="left")],
    "num_layers": [Interval(Integral, 1, None, closed="left")],
    "dropout": [Interval(Real, 0, 1, closed="left")],
}


class _RNNRegressor(_BaseNetRegressor):
    _parameter_constraints: dict = _RNN_CONSTRAINTS
    _rnn_type = "LSTM"

    def __init__(
        self,
        *,
        d_feat: int = 6,
        hidden_size: int = 64,
        num_layers: int = 2,
        dropout: float = 0.0,
        lr: float = 0.001,
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
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.dropout = dropout

    def _module(self, n_features):
        from skquant.nn._modules import RNNNet

        return RNNNet, {
            "d_feat": self.d_feat,
            "hidden_size": self.hidden_size,
            "num_layers": self.num_layers,
            "dropout": self.dropout,
            "rnn_type": self._rnn_type,
        }


class LSTMRegressor(_RNNRegressor):
    """Qlib's LSTM: stacked LSTM over the days, a linear head on the last day.

    ``X`` is 2-D, ``(n_samples, d_feat * T)``, in Qlib's feature-major order: the
    ``T`` days of the first feature (oldest first), then the ``T`` days of the
    second, and so on, as :class:`skquant.features.Alpha360` (``d_feat=6``,
    ``T=60``) and :class:`skquant.features.SequenceWindower` produce. The
    network reshapes each row to ``(T, d_feat)`` itself.

    Parameters
    ----------
    d_feat : int, default=6
        Features per day; must divide the number of columns of ``X``.
    hidden_size : int, default=64
        LSTM width.
    num_layers : int, default=2
        Stacked LSTM layers.
    dropout : float, default=0.0
        Dropout between LSTM layers.
    %(shared_parameters)s

    Attributes
    ----------
    %(shared_attributes)s

    See Also
    --------
    GRURegressor : The same network with GRU cells.
    ALSTMRegressor : Adds attention over the days.

    Notes
    -----
    Defaults are Qlib's ``LSTM`` class defaults; its Alpha360 benchmark sets
    ``batch_size=800``.

    Examples
    --------
    >>> import numpy as np
    >>> from skquant.nn import LSTMRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(256, 2 * 5))  # 2 features x 5 days, feature-major
    >>> y = X[:, 4] - X[:, 9]              # latest day of each feature
    >>> model = LSTMRegressor(d_feat=2, hidden_size=8, max_epochs=5,
    ...                       batch_size=64, random_state=0).fit(X, y)
    >>> model.predict(X[:3]).shape
    (3,)
    """

    _rnn_type = "LSTM"


class GRURegressor(_RNNRegressor):
    """Qlib's GRU: stacked GRU over the days, a linear head on the last day.

    ``X`` is 2-D, ``(n_samples, d_feat * T)``, in Qlib's feature-major order: the
    ``T`` days of the first feature (oldest first), then the ``T`` days of the
    second, and so on, as :class:`skquant.features.Alpha360` (``d_feat=6``,
    ``T=60``) and :class:`skquant.features.SequenceWindower` produce. The
    network reshapes each row to ``(T, d_feat)`` itself.

    Parameters
    ----------
    d_feat : int, default=6
        Features per day; must divide the number of columns of ``X``.
    hidden_size : int, default=64
        GRU width.
    num_layers : int, default=2
        Stacked GRU layers.
    dropout : float, default=0.0
        Dropout between GRU layers.
    %(shared_parameters)s

    Attributes
    ----------
    %(shared_attributes)s

    See Also
    --------
    LSTMRegressor : The same network with LSTM cells.
    ALSTMRegressor : Adds attention over the days.

    Notes
    -----
    Defaults are Qlib's ``GRU`` class defaults; its Alpha360 benchmark sets
    ``batch_size=800``.

    Examples
    --------
    >>> import numpy as np
    >>> from skquant.nn import GRURegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(256, 2 * 5))  # 2 features x 5 days, feature-major
    >>> y = X[:, 4] - X[:, 9]
    >>> model = GRURegressor(d_feat=2, hidden_size=8, max_epochs=5,
    ...                      batch_size=64, random_state=0).fit(X, y)
    >>> model.predict(X[:3]).shape
    (3,)
    """

    _rnn_type = "GRU"


class ALSTMRegressor(_BaseNetRegressor):
    """Qlib's ALSTM: an RNN with attention over the days.

    Each day's features go through ``Linear(d_feat, hidden_size) -> Tanh``,
    then an LSTM or GRU; attention weights over the days pool the hidden
    states, and a linear head reads the last hidden state together with the
    pooled one.

    ``X`` is 2-D, ``(n_samples, d_feat * T)``, in Qlib's feature-major order: the
    ``T`` days of the first feature (oldest first), then the ``T`` days of the
    second, and so on, as :class:`skquant.features.Alpha360` (``d_feat=6``,
    ``T=60``) and :class:`skquant.features.SequenceWindower` produce. The
    network reshapes each row to ``(T, d_feat)`` itself.

    Parameters
    ----------
    d_feat : int, default=6
        Features per day; must divide the number of columns of ``X``.
    hidden_size : int, default=64
        RNN width (the attention layer is half as wide).
    num_layers : int, default=2
        Stacked RNN layers.
    dropout : float, default=0.0
        Dropout between RNN layers and inside the attention layer.
    rnn_type : {"GRU", "LSTM"}, default="GRU"
        The recurrent cell. Qlib's wrapper drops this argument, so its ALSTM
        is always a GRU; here it is honoured.
    %(shared_parameters)s

    Attributes
    ----------
    %(shared_attributes)s

    See Also
    --------
    LSTMRegressor, GRURegressor : Without attention.
    skquant.features.SequenceWindower : Builds this layout from per-day
        features such as the 20 selected Alpha158 columns.

    Notes
    -----
    Defaults are Qlib's; its Alpha360 benchmark sets ``batch_size=800``.

    Examples
    --------
    >>> import numpy as np
    >>> from skquant.nn import ALSTMRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(256, 2 * 5))  # 2 features x 5 days, feature-major
    >>> y = X[:, 4] - X[:, 9]
    >>> model = ALSTMRegressor(d_feat=2, hidden_size=8, max_epochs=5,
    ...                        batch_size=64, random_state=0).fit(X, y)
    >>> model.predict(X[:3]).shape
    (3,)
    """

    _parameter_constraints: dict = {
        **_RNN_CONSTRAINTS,
        "rnn_type": [StrOptions({"GRU", "LSTM"})],
    }

    def __init__(
        self,
        *,
        d_feat: int = 6,
        hidden_size: int = 64,
        num_layers: int = 2,
        dropout: float = 0.0,
        rnn_type: str = "GRU",
        lr: float = 0.001,
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
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.dropout = dropout
        self.rnn_type = rnn_type

    def _module(self, n_features):
        from skquant.nn._modules import ALSTMNet

        return ALSTMNet, {
            "d_feat": self.d_feat,
            "hidden_size": self.hidden_size,
            "num_layers": self.num_layers,
            "dropout": self.dropout,
            "rnn_type": self.rnn_type,
        }
