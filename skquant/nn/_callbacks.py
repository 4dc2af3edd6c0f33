"""skorch pieces used by every :mod:`skquant.nn` estimator.

Imported only inside ``fit``/``predict`` (it imports torch and skorch).

* :class:`BatchLoader` serves minibatches by slicing tensors instead of
  collating one sample at a time (the speed of a hand-written loop).
* :class:`WeightedMSELoss` is MSE, weighted when the target carries a weight
  column.
* :class:`GradientValueClipping` clips each gradient element like Qlib
  (``clip_grad_value_(params, 3.0)``); skorch ships only norm clipping.
* :class:`DailyIC` records the mean daily information coefficient of the
  validation predictions, from the predictions skorch already computed for the
  validation loss (no second pass over the validation rows).
"""

from __future__ import annotations

import numpy as np
import torch
from skorch.callbacks import Callback


class BatchLoader:
    """Minibatches of a skorch ``Dataset`` of arrays, by tensor slicing.

    Parameters
    ----------
    dataset : skorch.dataset.Dataset
        Holds ``X`` (2-D array) and ``y`` (2-D array or None).
    batch_size : int
        Rows per batch.
    shuffle : bool, default=False
        Draw a new permutation each epoch from torch's default generator (the
        estimator seeds it inside ``torch.random.fork_rng``).
    drop_last : bool, default=False
        Skip the final partial batch (Qlib's loops do).
    """

    def __init__(self, dataset, batch_size, shuffle=False, drop_last=False):
        self.X = torch.as_tensor(dataset.X)
        self.y = None if dataset.y is None else torch.as_tensor(dataset.y)
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last

    def __len__(self):
        n = len(self.X)
        if self.drop_last:
            return n // self.batch_size
        return -(-n // self.batch_size)

    def __iter__(self):
        n = len(self.X)
        order = torch.randperm(n) if self.shuffle else None
        for b in range(len(self)):
            if order is None:
                sl = slice(b * self.batch_size, (b + 1) * self.batch_size)
            else:
                sl = order[b * self.batch_size : (b + 1) * self.batch_size]
            yield self.X[sl], (None if self.y is None else self.y[sl])


class WeightedMSELoss(torch.nn.Module):
    """Mean squared error; a second target column holds per-row weights.

    With ``y_true`` of shape ``(n, 1)`` this is ``mean((pred - y)**2)``. With
    shape ``(n, 2)`` it is ``mean(w * (pred - y)**2)``, the weights having been
    rescaled to mean 1 over the training set.
    """

    def forward(self, y_pred, y_true):
        err = (y_pred[:, 0] - y_true[:, 0]) ** 2
        if y_true.shape[1] > 1:
            err = err * y_true[:, 1]
        return err.mean()


class GradientValueClipping(Callback):
    """Clip every gradient element to ``[-clip_value, clip_value]``."""

    def __init__(self, clip_value=3.0):
        self.clip_value = clip_value

    def on_grad_computed(self, net, named_parameters, **kwargs):
        torch.nn.utils.clip_grad_value_(
            (p for _, p in named_parameters), self.clip_value
        )


class DailyIC(Callback):
    """Record ``valid_ic``: the mean daily IC of the validation predictions.

    Uses :func:`skquant.metrics.information_coefficient` (Pearson, per date,
    averaged over the dates where it is defined).

    Parameters
    ----------
    y_valid : ndarray of shape (n_valid,)
        Validation labels, in the order the validation rows are served.
    dates : ndarray of shape (n_valid,)
        The date of each validation row.
    """

    def __init__(self, y_valid, dates):
        self.y_valid = y_valid
        self.dates = dates

    def on_epoch_begin(self, net, **kwargs):
        self.preds_ = []

    def on_batch_end(self, net, batch=None, training=False, y_pred=None, **kwargs):
        if not training:
            self.preds_.append(y_pred.detach()[:, 0].cpu().to(torch.float64).numpy())

    def on_epoch_end(self, net, **kwargs):
        from skquant.metrics import information_coefficient

        pred = np.concatenate(self.preds_) if self.preds_ else np.empty(0)
        self.preds_ = []
        ic = information_coefficient(self.y_valid, pred, dates=self.dates).mean()
        net.history.record("valid_ic", float(ic))

    def __getstate__(self):
        # the labels are only needed while fitting: keep pickles small
        state = self.__dict__.copy()
        state.update(y_valid=None, dates=None, preds_=[])
        return state
