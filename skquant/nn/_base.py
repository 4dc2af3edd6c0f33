"""The training machinery shared by every :mod:`skquant.nn` regressor.

One base class owns validation, seeding, the time-ordered validation split,
early stopping, gradient clipping, the optimizer and schedule, devices, dtypes
and threads. Each model only says which :class:`torch.nn.Module` to build
(:meth:`_BaseNetRegressor._module`). The training loop itself is skorch's: the
estimator composes a :class:`skorch.NeuralNetRegressor` as ``net_`` inside
``fit`` (it does not subclass it), which keeps scikit-learn's conventions
(cloning, parameters, checks) intact.

torch and skorch are imported inside ``fit``/``predict`` only, so that
``import skquant`` stays light.
"""

from __future__ import annotations

import contextlib
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from skquant.model_selection._holdout import resolve_dates, time_holdout
from skquant.nn._docs import fill_shared_doc
from skquant.utils._torch_seed import seeded_torch

__all__: list[str] = []

_NAN_ADVICE = (
    "Scale and fill the features first, e.g. make_pipeline(RobustZScoreNorm(), "
    "SimpleImputer(strategy='constant', fill_value=0.0), estimator) (Qlib's "
    "RobustZScoreNorm + Fillna), or pass allow_nan=True to fill NaN with 0."
)


def _import_torch():
    try:
        import skorch  # noqa: F401
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError(
            "skquant.nn estimators need torch and skorch; install them with "
            "pip install 'skquant[torch]'."
        ) from exc
    return torch


@contextlib.contextmanager
def _torch_threads(torch, n_threads):
    if n_threads is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(int(n_threads))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _resolve_device(torch, device: str) -> str:
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError) as exc:
        raise ValueError(
            f"device={device!r} is not a torch device; use 'cpu', 'cuda', 'auto' "
            "or a string such as 'cuda:1'."
        ) from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} but CUDA is not available in this torch install; "
            "use device='auto' (CUDA when present, else CPU) or device='cpu'."
        )
    return str(dev)


class _BaseNetRegressor(RegressorMixin, BaseEstimator):
    """Base of the skquant nets; not public. Subclasses implement ``_module``."""

    _parameter_constraints: dict = {
        "lr": [Interval(Real, 0, None, closed="neither")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "optimizer": [StrOptions({"adam", "sgd"})],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "lr_schedule": [StrOptions({"plateau", "cosine"}), None],
        "early_stopping": [StrOptions({"loss", "ic"}), None],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "validation_start": "no_validation",  # any date-like, checked in fit
        "validation_gap": [Interval(Integral, 0, None, closed="left")],
        "clip_value": [Interval(Real, 0, None, closed="neither"), None],
        "allow_nan": ["boolean"],
        "device": [str],
        "dtype": [StrOptions({"float32", "float64"})],
        "n_threads": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        lr,
        max_epochs,
        batch_size,
        optimizer,
        weight_decay,
        lr_schedule,
        early_stopping,
        patience,
        validation_fraction,
        validation_start,
        validation_gap,
        clip_value,
        allow_nan,
        device,
        dtype,
        n_threads,
        random_state,
        verbose,
    ):
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.lr_schedule = lr_schedule
        self.early_stopping = early_stopping
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.validation_start = validation_start
        self.validation_gap = validation_gap
        self.clip_value = clip_value
        self.allow_nan = allow_nan
        self.device = device
        self.dtype = dtype
        self.n_threads = n_threads
        self.random_state = random_state
        self.verbose = verbose

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        fill_shared_doc(cls)  # the shared parameter/attribute docs, written once

    # ------------------------------------------------------------------ hooks
    def _module(self, n_features: int):
        """Return ``(module_class, module_kwargs)`` for ``n_features`` inputs."""
        raise NotImplementedError

    def _check_layout(self, n_features: int) -> None:
        """Raise a ValueError if ``n_features`` does not fit the model's layout."""
        d_feat = getattr(self, "d_feat", None)
        if d_feat is not None and n_features % d_feat:
            raise ValueError(
                f"X has {n_features} columns, which is not a multiple of "
                f"d_feat={d_feat}. Sequence models read X as d_feat features x T "
                "days in feature-major order (Alpha360: d_feat=6, T=60; "
                "SequenceWindower output: d_feat=<number of input columns>). "
                f"Set d_feat to the number of features per day."
            )

    # ------------------------------------------------------------- validation
    def _np_dtype(self):
        return np.float64 if self.dtype == "float64" else np.float32

    def _finish_X(self, X):
        if np.isnan(X).any():
            if not self.allow_nan:
                raise ValueError(
                    f"Input X contains NaN ({int(np.isnan(X).sum())} values). "
                    f"{type(self).__name__} needs finite inputs. {_NAN_ADVICE}"
                )
            X = np.nan_to_num(X, nan=0.0, posinf=np.inf, neginf=-np.inf)
        if not X.flags.writeable:  # torch cannot wrap read-only memory
            X = X.copy()
        return X

    def _validate_X(self, X, *, y=None, reset: bool):
        kwargs = {
            "dtype": self._np_dtype(),
            "order": "C",
            "ensure_all_finite": "allow-nan",
        }
        if reset:
            X, y = validate_data(
                self, X, y, y_numeric=True, ensure_min_samples=2, **kwargs
            )
            return self._finish_X(X), y
        X = validate_data(self, X, reset=False, **kwargs)
        return self._finish_X(X)

    # -------------------------------------------------------------------- fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, *, dates=None, groups=None):
        """Train the network, holding out the last dates for early stopping.

        Parameters
        ----------
        X : {array-like, panel} of shape (n_samples, n_features)
            Features. A panel (DataFrame indexed by ``(datetime, instrument)``)
            gives the dates used for the validation split and the daily IC.
        y : array-like of shape (n_samples,)
            Target, e.g. the cross-sectionally ranked forward return.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights for a weighted MSE (rescaled to mean 1
            over the training rows).
        dates : array-like of shape (n_samples,), default=None
            Date of each row, for array input (overrides the panel index).
        groups : array-like of shape (n_samples,), default=None
            Same as ``dates``, under scikit-learn's name, so that the dates
            given to a :class:`skquant.model_selection.DateSplit` can be
            routed here too.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        torch = _import_torch()
        from skorch import NeuralNetRegressor
        from skorch.callbacks import EarlyStopping, LRScheduler, ProgressBar
        from skorch.dataset import Dataset
        from skorch.helper import predefined_split

        from skquant.nn._callbacks import (
            BatchLoader,
            DailyIC,
            GradientValueClipping,
            WeightedMSELoss,
        )

        row_dates = resolve_dates(X, dates, groups)
        X, y = self._validate_X(X, y=y, reset=True)
        self._check_layout(X.shape[1])
        n_samples = X.shape[0]
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=np.float64, ensure_non_negative=True
            )
        if self.early_stopping == "ic" and row_dates is None:
            raise ValueError(
                "early_stopping='ic' computes a daily IC and needs dates: pass a "
                "panel indexed by (datetime, instrument), or dates=... to fit."
            )
        device = _resolve_device(torch, self.device)
        np_dtype = self._np_dtype()
        torch_dtype = torch.float64 if self.dtype == "float64" else torch.float32

        target = y.astype(np_dtype).reshape(-1, 1)
        train = np.ones(n_samples, dtype=bool)
        valid = np.zeros(n_samples, dtype=bool)
        if self.early_stopping is not None:
            # the last dates, after a purge of validation_gap dates (shared with
            # the gradient boosting wrappers)
            split = time_holdout(
                n_samples,
                row_dates,
                # a validation_start date replaces the fraction
                validation_fraction=(
                    self.validation_fraction if self.validation_start is None else None
                ),
                validation_start=self.validation_start,
                gap=self.validation_gap,
            )
            train[:] = False
            train[split.train] = True
            valid[split.validation] = True
        if sample_weight is not None:
            mean_w = sample_weight[train].mean()
            if not mean_w > 0:
                raise ValueError(
                    "The sample weights of the training rows are all zero "
                    "(the validation rows are the last dates)."
                )
            target = np.hstack([target, (sample_weight / mean_w)[:, None]])
            target = target.astype(np_dtype)

        # a panel sorted by date (or plain arrays) puts the training rows first
        # and the validation rows last: slice views then avoid copies
        n_train, n_valid = int(train.sum()), int(valid.sum())
        if train[:n_train].all() and valid[n_samples - n_valid :].all():
            X_train, t_train = X[:n_train], target[:n_train]
            X_valid, t_valid = X[n_samples - n_valid :], target[n_samples - n_valid :]
        else:
            X_train, t_train, X_valid, t_valid = (
                X[train],
                target[train],
                X[valid],
                target[valid],
            )

        callbacks = []
        if self.clip_value is not None:
            callbacks.append(("clip", GradientValueClipping(self.clip_value)))
        train_split = None
        if valid.any():
            train_split = predefined_split(Dataset(X_valid, t_valid))
            if self.early_stopping == "ic":
                valid_dates = np.asarray(row_dates)[valid]
                callbacks.append(("valid_ic", DailyIC(y[valid], valid_dates)))
            monitor = "valid_ic" if self.early_stopping == "ic" else "valid_loss"
            callbacks.append(
                (
                    "early_stopping",
                    EarlyStopping(
                        monitor=monitor,
                        patience=self.patience,
                        threshold=0.0,
                        threshold_mode="abs",
                        lower_is_better=self.early_stopping == "loss",
                        load_best=True,
                    ),
                )
            )
        if self.lr_schedule == "plateau":
            callbacks.append(
                (
                    "lr_schedule",
                    LRScheduler(
                        policy="ReduceLROnPlateau",
                        monitor="valid_loss" if valid.any() else "train_loss",
                        mode="min",
                        factor=0.5,
                        patience=10,
                        threshold=1e-4,
                        min_lr=1e-5,
                    ),
                )
            )
        elif self.lr_schedule == "cosine":
            callbacks.append(
                (
                    "lr_schedule",
                    LRScheduler(policy="CosineAnnealingLR", T_max=self.max_epochs),
                )
            )
        if self.verbose >= 2:
            callbacks.append(("progress_bar", ProgressBar()))

        module, module_kwargs = self._module(X.shape[1])
        optimizer = torch.optim.Adam if self.optimizer == "adam" else torch.optim.SGD
        net = NeuralNetRegressor(
            module,
            criterion=WeightedMSELoss,
            optimizer=optimizer,
            lr=self.lr,
            optimizer__weight_decay=self.weight_decay,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            train_split=train_split,
            iterator_train=BatchLoader,
            iterator_valid=BatchLoader,
            iterator_train__shuffle=True,
            iterator_train__drop_last=n_train > self.batch_size,
            callbacks=callbacks,
            device=device,
            verbose=int(self.verbose > 0),
            **{f"module__{k}": v for k, v in module_kwargs.items()},
        )

        seed = int(
            check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        )
        cuda_devices = []
        if device.startswith("cuda"):
            index = torch.device(device).index
            cuda_devices = [torch.cuda.current_device() if index is None else index]
        with (
            _torch_threads(torch, self.n_threads),
            seeded_torch(torch, seed, cuda_devices),
        ):
            net.initialize()
            net.module_.to(torch_dtype)
            net.partial_fit(X_train, t_train)

        net.train_split = None  # don't keep the validation rows in the pickle
        history = net.history
        self.net_ = net
        self.history_ = history
        self.n_epochs_ = len(history)
        self.device_ = device
        if valid.any():
            stopper = dict(net.callbacks_)["early_stopping"]
            scores = np.asarray(history[:, monitor], dtype=np.float64)
            finite = np.isfinite(scores)
            if stopper.best_model_weights_ is not None:
                self.best_epoch_ = int(stopper.best_epoch_)
                self.best_score_ = float(scores[self.best_epoch_ - 1])
            else:  # the score never improved on its start (e.g. NaN IC)
                self.best_epoch_ = self.n_epochs_
                self.best_score_ = float(scores[finite][-1]) if finite.any() else None
            self.train_end_ = split.train_end
            self.validation_start_ = split.validation_start
        else:
            self.best_epoch_ = self.n_epochs_
            self.best_score_ = None
            self.train_end_ = None
            self.validation_start_ = None
        return self

    # ---------------------------------------------------------------- predict
    def predict(self, X):
        """Predict the target of each row.

        Parameters
        ----------
        X : {array-like, panel} of shape (n_samples, n_features)
            Same columns, in the same order, as in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples,)
            float64 predictions.
        """
        check_is_fitted(self)
        torch = _import_torch()
        X = self._validate_X(X, reset=False)
        with _torch_threads(torch, self.n_threads):
            pred = self.net_.predict(X)
        return np.asarray(pred, dtype=np.float64)[:, 0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = bool(self.allow_nan)
        # GPU kernels (cuDNN RNNs, atomics) are not bit-reproducible
        tags.non_deterministic = self.device != "cpu"
        return tags
