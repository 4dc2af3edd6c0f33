"""The parameter and attribute docs shared by every :mod:`skquant.nn` regressor.

They are written once here and put into each class docstring when the class is
defined (:func:`fill_shared_doc`), with the defaults read from the class's own
signature, so that ``help()``, numpydoc and the API pages show them in full.
"""

from __future__ import annotations

import inspect
import re

__all__ = ["fill_shared_doc"]

SHARED_PARAMETERS = """\
lr : float, default=<lr>
    Learning rate.
max_epochs : int, default=<max_epochs>
    Maximum number of passes over the training rows.
batch_size : int, default=<batch_size>
    Rows per minibatch. As in Qlib, the final partial batch of an epoch is
    skipped when there is more than one batch.
optimizer : {"adam", "sgd"}, default=<optimizer>
    ``torch.optim.Adam`` or plain ``torch.optim.SGD`` (Qlib's ``"gd"``).
weight_decay : float, default=<weight_decay>
    L2 penalty passed to the optimizer.
lr_schedule : {"plateau", "cosine"} or None, default=<lr_schedule>
    ``"plateau"`` halves the learning rate when the validation loss (the
    training loss without validation) has not improved for 10 epochs, down
    to 1e-5 (Qlib's MLP scheduler); ``"cosine"`` anneals it to 0 over
    ``max_epochs``; None keeps it constant.
early_stopping : {"loss", "ic"} or None, default=<early_stopping>
    Hold out the last dates for validation, stop when the validation MSE
    (``"loss"``) or the mean daily Pearson IC of the validation predictions
    (``"ic"``, needs dates) has not improved for ``patience`` epochs, and
    restore the weights of the best epoch. None trains on every row for
    ``max_epochs``.
patience : int, default=<patience>
    Epochs without improvement before stopping (Qlib's ``early_stop``).
validation_fraction : float, default=<validation_fraction>
    Share of the dates (of the rows, when no dates are known) held out at
    the end of the training period for early stopping. Dates come from
    the ``(datetime, instrument)`` index of a panel ``X``, or from the
    ``dates``/``groups`` fit parameter; a plain array is split by row
    order.
validation_start : date-like or None, default=<validation_start>
    First validation date: every date ``>= validation_start`` is held out
    (instead of ``validation_fraction``). Needs dates (a panel ``X`` or the
    ``dates``/``groups`` fit parameter). The gradient boosting wrappers take
    the same parameter.
validation_gap : int, default=<validation_gap>
    Number of dates dropped between the last training date and the first
    validation date (rows, for a plain array), so that no training label
    overlaps the validation period: Qlib's label ``close[t+2]/close[t+1]-1``
    looks two dates ahead. 0 keeps every date. The same purge as the
    gradient boosting wrappers' ``validation_gap``.
clip_value : float or None, default=<clip_value>
    Clip each gradient element to ``[-clip_value, clip_value]``, like Qlib;
    None disables clipping.
allow_nan : bool, default=<allow_nan>
    If False, NaN in ``X`` raises a ``ValueError``; if True, NaN is replaced
    by 0 (Qlib's ``Fillna``) at fit and predict time. Infinite values are
    always rejected.
device : {"cpu", "cuda", "auto"} or str, default=<device>
    Torch device to train and predict on; ``"auto"`` takes CUDA when it is
    available. Any torch device string (``"cuda:1"``) works.
dtype : {"float32", "float64"}, default=<dtype>
    Precision of the network and of the data fed to it.
n_threads : int or None, default=<n_threads>
    Torch CPU threads while fitting and predicting (restored afterwards);
    None leaves torch's setting alone.
random_state : int, RandomState instance or None, default=<random_state>
    Seeds weight initialisation, shuffling and dropout, inside
    ``torch.random.fork_rng``: torch's global random state is left as it
    was. With an int, fitting twice on CPU gives identical predictions.
verbose : int, default=<verbose>
    0 is quiet; 1 prints one line per epoch (losses, IC, time); 2 also
    shows a progress bar within each epoch.
"""

SHARED_ATTRIBUTES = """\
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
train_end_ : object or None
    Last training date (last training row index for plain arrays); None
    without early stopping.
validation_start_ : object or None
    First held-out date (first held-out row index for plain arrays); None
    without early stopping.
device_ : str
    Device the net was trained on.
n_features_in_ : int
    Number of features seen during fit.
feature_names_in_ : ndarray of shape (n_features_in_,)
    Names of features seen during fit, when ``X`` has string column names.
"""

_MARKERS = {
    "%(shared_parameters)s": SHARED_PARAMETERS,
    "%(shared_attributes)s": SHARED_ATTRIBUTES,
}


def _render(default) -> str:
    return f'"{default}"' if isinstance(default, str) else repr(default)


def fill_shared_doc(cls: type) -> type:
    """Replace the shared-doc markers of ``cls.__doc__`` (4-space indented).

    ``<name>`` in the shared text becomes the default of parameter ``name`` in
    ``cls``'s signature.
    """
    doc = cls.__dict__.get("__doc__")
    if not doc:
        return cls
    defaults = {
        name: param.default
        for name, param in inspect.signature(cls.__init__).parameters.items()
    }
    for marker, text in _MARKERS.items():
        if marker not in doc:
            continue
        text = re.sub(r"<(\w+)>", lambda m: _render(defaults[m.group(1)]), text)
        indented = "\n".join(
            ("    " + line) if line else line for line in text.rstrip().splitlines()
        )
        doc = doc.replace("    " + marker, indented)
    cls.__doc__ = doc
    return cls
