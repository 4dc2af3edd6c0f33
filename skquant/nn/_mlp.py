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
    lr : float, default=0.002
        Learning rate.
    max_epochs : int, default=200
        Maximum number of passes over the training rows.
    batch_size : int, default=4096
        Rows per minibatch. As in Qlib, the final partial batch of an epoch is
        skipped when there is more than one batch.
    optimizer : {"adam", "sgd"}, default="adam"
        ``torch.optim.Adam`` or plain ``torch.optim.SGD`` (Qlib's ``"gd"``).
    weight_decay : float, default=0.0
        L2 penalty passed to the optimizer.
    lr_schedule : {"plateau", "cosine"} or None, default="plateau"
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
