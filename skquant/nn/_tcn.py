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
    lr : float, default=0.0001
        Learning rate.
    max_epochs : int, default=200
        Maximum number of passes over the training rows.
    batch_size : int, default=2000
        Rows per minibatch. As in Qlib, the final partial batch of an epoch is
        skipped when there is more than one batch.
    optimizer : {"adam", "sgd"}, default="adam"
        ``torch.optim.Adam`` or plain ``torch.optim.SGD`` (Qlib's ``"gd"``).
    weight_decay : float, default=0.0
        L2 penalty passed to the optimizer.
    lr_schedule : {"plateau", "cosine"} or None, default=None
        ``"plateau"`` halves the learning rate when the validation loss (the
        training loss without validation) has not improved for 10 epochs, down
        to 1e-5 (Qlib's MLP scheduler); ``"cosine"`` anneals it to 0 over
        ``max_epochs``; None keeps it constant.
    early_stopping : {"loss", "ic"} or None, default="loss"
        Hold out the last dates for validation, stop when the validation MSE
        (``"loss"``) or the mean daily Pearson IC of the validation predictions
        (``"ic"``, needs dates) has not improved for ``patience`` epochs, and
        restore the weights of the best epoch. None trains on every row for
        ``max_epochs``.
    patience : int, default=20
        Epochs without improvement before stopping (Qlib's ``early_stop``).
    validation_fraction : float, default=0.2
        Share of the dates (of the rows, when no dates are known) held out at
        the end of the training period for early stopping. Dates come from
        the ``(datetime, instrument)`` index of a panel ``X``, or from the
        ``dates``/``groups`` fit parameter; a plain array is split by row
        order.
    clip_value : float or None, default=3.0
        Clip each gradient element to ``[-clip_value, clip_value]``, like Qlib;
        None disables clipping.
    allow_nan : bool, default=False
        If False, NaN in ``X`` raises a ``ValueError``; if True, NaN is replaced
        by 0 (Qlib's ``Fillna``) at fit and predict time. Infinite values are
        always rejected.
    device : {"cpu", "cuda", "auto"} or str, default="cpu"
        Torch device to train and predict on; ``"auto"`` takes CUDA when it is
        available. Any torch device string (``"cuda:1"``) works.
    dtype : {"float32", "float64"}, default="float32"
        Precision of the network and of the data fed to it.
    n_threads : int or None, default=None
        Torch CPU threads while fitting and predicting (restored afterwards);
        None leaves torch's setting alone.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling and dropout, inside
        ``torch.random.fork_rng``: torch's global random state is left as it
        was. With an int, fitting twice on CPU gives identical predictions.
    verbose : int, default=0
        0 is quiet; 1 prints one line per epoch (losses, IC, time); 2 also
        shows a progress bar within each epoch.

    Attributes
    ----------
    net_ : skorch.NeuralNetRegressor
        The fitted skorch net; ``net_.module_`` is the torch module.
    history_ : skorch.history.History
        Per-epoch record: ``train_loss``, ``valid_loss``, ``valid_ic`` (with
        ``early_stopping="ic"``), ``dur``, ...
    n_epochs_ : int
        Epochs run.
    best_epoch_ : int
        Epoch (1-based) whose weights the model holds: the best validation
        epoch with early stopping, else the last epoch.
    best_score_ : float or None
        Best validation loss (or IC) seen; None without early stopping.
    validation_start_ : object or None
        First held-out date (first held-out row index for plain arrays); None
        without early stopping.
    device_ : str
        Device the net was trained on.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.

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
