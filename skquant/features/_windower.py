"""Windows of past rows per instrument: Qlib's ``TSDatasetH`` as a transformer."""

from __future__ import annotations

from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_feature_names_in,
    check_array,
    check_is_fitted,
    validate_data,
)

from skquant._panel import INSTRUMENT_LEVEL, check_panel

__all__ = ["SequenceWindower"]


def _window_values(
    values: np.ndarray, instruments: np.ndarray, step_len: int, padding: str
) -> np.ndarray:
    """Feature-major windows ``(n, n_features * step_len)`` of each row's past rows.

    ``values`` rows are in panel order (date, then instrument); ``instruments``
    holds one integer code per row.
    """
    n, n_feat = values.shape
    out = np.empty((n, n_feat, step_len), dtype=values.dtype)
    if n == 0:
        return out.reshape(n, -1)
    # rows grouped by instrument, each group in date order (the sort is stable
    # and the panel is sorted by date)
    order = np.argsort(instruments, kind="stable")
    grouped = values[order]
    codes = instruments[order]
    new_group = np.r_[True, codes[1:] != codes[:-1]]
    first = np.maximum.accumulate(np.where(new_group, np.arange(n), 0))
    position = np.arange(n) - first  # rows of the instrument before this one
    for j, lag in enumerate(range(step_len - 1, -1, -1)):
        short = position < lag
        src = np.where(short, first, np.arange(n) - lag)
        block = grouped[src]
        if padding == "nan":
            block[short] = np.nan
        elif padding == "zero":
            block[short] = 0
        out[order, :, j] = block
    return out.reshape(n, n_feat * step_len)


class SequenceWindower(TransformerMixin, BaseEstimator):
    """Stack each instrument's last ``step_len`` rows into one feature-major row.

    The panel equivalent of Qlib's ``TSDatasetH``: for the row of instrument
    ``s`` on day ``t``, the output holds the input features of the
    ``step_len`` rows of ``s`` up to and including ``t``, in the 2-D layout of
    :class:`skquant.features.Alpha360` and of the :mod:`skquant.nn` sequence
    models: all days of the first feature (oldest first), then all days of
    the second, ... The output has ``n_features * step_len`` columns; give the
    sequence model ``d_feat=n_features``.

    Only rows of the same instrument at or before ``t`` are read: no
    look-ahead, and the transformer learns nothing, so it can be applied to
    the whole panel before a time-ordered split (windows at the start of a
    test fold then see the real history rather than padding).

    Parameters
    ----------
    step_len : int, default=20
        Rows per window (Qlib's ``step_len``).
    padding : {"repeat", "nan", "zero"}, default="repeat"
        What fills the window of an instrument's first ``step_len - 1`` rows,
        which have less history. ``"repeat"`` repeats the instrument's first
        row (what Qlib's ``fillna_type="ffill+bfill"`` gives); ``"nan"`` leaves
        NaN (drop or impute them downstream); ``"zero"`` writes 0 (Qlib's
        ``Fillna`` on already normalised features).

    Attributes
    ----------
    n_features_in_ : int
        Number of input columns.
    feature_names_in_ : ndarray of str
        Input column names, when they are all strings.

    See Also
    --------
    skquant.nn.ALSTMRegressor : A sequence model reading this layout.

    Notes
    -----
    Windows follow the instrument's own rows, i.e. its trading days: a day on
    which it has no row is skipped rather than filled (Qlib builds windows on
    the calendar and forward-fills missing days). NaN in the input stays NaN
    in the output. Output columns are named ``<feature>_lag<k>``, ``k`` from
    ``step_len - 1`` down to 0. The output holds ``step_len`` times as many
    values as the input; pass float32 input to halve it.

    Examples
    --------
    >>> import pandas as pd
    >>> from skquant.features import SequenceWindower
    >>> idx = pd.MultiIndex.from_product(
    ...     [pd.to_datetime(["2017-01-03", "2017-01-04", "2017-01-05"]), ["A", "B"]],
    ...     names=["datetime", "instrument"])
    >>> panel = pd.DataFrame({"f": [1.0, 10.0, 2.0, 20.0, 3.0, 30.0],
    ...                       "g": [-1.0, -10.0, -2.0, -20.0, -3.0, -30.0]}, index=idx)
    >>> out = SequenceWindower(step_len=2).fit_transform(panel)
    >>> list(out.columns)
    ['f_lag1', 'f_lag0', 'g_lag1', 'g_lag0']
    >>> out.loc[("2017-01-05", "B")].tolist()
    [20.0, 30.0, -20.0, -30.0]
    >>> out.loc[("2017-01-03", "A")].tolist()  # first row repeated
    [1.0, 1.0, -1.0, -1.0]
    """

    _parameter_constraints: dict = {
        "step_len": [Interval(Integral, 1, None, closed="left")],
        "padding": [StrOptions({"repeat", "nan", "zero"})],
    }

    def __init__(self, step_len: int = 20, padding: str = "repeat") -> None:
        self.step_len = step_len
        self.padding = padding

    def _check_input(self, X, *, reset: bool):
        if not isinstance(X, pd.DataFrame):
            raise TypeError(
                "SequenceWindower needs a panel: a DataFrame indexed by "
                f"(datetime, instrument); got {type(X).__name__}. Windows are "
                "built per instrument, which a plain array cannot tell."
            )
        panel = check_panel(X, name="X")
        validate_data(self, panel, reset=reset, skip_check_array=True)
        values = check_array(
            panel,
            dtype=[np.float64, np.float32],
            ensure_all_finite="allow-nan",
            ensure_min_samples=0,
            input_name="X",
        )
        return panel, values

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the panel and record its columns; nothing is learned.

        Parameters
        ----------
        X : pandas.DataFrame
            Panel of per-day features indexed by ``(datetime, instrument)``.
        y : ignored

        Returns
        -------
        self : object
        """
        self._check_input(X, reset=True)
        return self

    def transform(self, X) -> pd.DataFrame:
        """Build the windows.

        Parameters
        ----------
        X : pandas.DataFrame
            Panel with the columns seen in ``fit``.

        Returns
        -------
        pandas.DataFrame of shape (n_samples, n_features_in_ * step_len)
            Indexed like ``X`` sorted by ``(datetime, instrument)``, same dtype
            as the input values.
        """
        check_is_fitted(self)
        panel, values = self._check_input(X, reset=False)
        instruments = panel.index.codes[panel.index.names.index(INSTRUMENT_LEVEL)]
        out = _window_values(
            values, np.asarray(instruments), int(self.step_len), self.padding
        )
        return pd.DataFrame(
            out, index=panel.index, columns=self.get_feature_names_out(), copy=False
        )

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Output names ``<feature>_lag<k>``, feature-major, oldest lag first.

        Parameters
        ----------
        input_features : array-like of str, default=None
            Input names; default ``feature_names_in_`` (or ``x0, x1, ...``).

        Returns
        -------
        ndarray of str
        """
        check_is_fitted(self, "n_features_in_")
        names = _check_feature_names_in(self, input_features)
        lags = range(int(self.step_len) - 1, -1, -1)
        return np.asarray([f"{f}_lag{k}" for f in names for k in lags], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
