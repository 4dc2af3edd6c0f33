"""A LightGBM ``Dataset`` of some columns of an array, built without copying them.

``lightgbm.Dataset(X[:, columns])`` needs the column subset as one contiguous
array, and LightGBM then gathers every feature's bin-construction sample
(``bin_construct_sample_cnt`` rows) for all columns at once. On the full
Alpha158 panel (606k rows x 158 float64) the two together are most of a
DoubleEnsemble fit's peak memory. Here the same Dataset is built through
LightGBM's streaming C API, one block of columns at a time:

1. the sample rows are drawn once, by LightGBM itself (``LGBM_SampleIndices``)
   from the full parameter string, so the draw is the one
   ``lightgbm.Dataset(X)`` makes (``data_random_seed`` derives from ``seed``);
2. for each block, the sampled values of its columns (zeros left out, NaN
   kept, as LightGBM does) give the bin boundaries
   (``LGBM_DatasetCreateFromSampledColumn``), and the rows are pushed in
   chunks (``LGBM_DatasetPushRows``);
3. the blocks are joined column-wise (``LGBM_DatasetAddFeaturesFrom``).

Every feature gets exactly the bins it gets from ``lightgbm.Dataset``, which
bins each feature on its own; only the exclusive-feature bundling, a storage
optimisation, cannot join features of different blocks. The extra memory is
one block of sampled values plus one chunk of rows, instead of the column
copy plus the full sample. ``tests/gbdt/test_lightgbm_dataset.py`` checks
that models trained both ways predict the same.
"""

from __future__ import annotations

import ctypes

import lightgbm
import numpy as np
from lightgbm.basic import (
    _LIB,
    ZERO_THRESHOLD,
    _c_str,
    _param_dict_to_str,
    _safe_call,
)

__all__ = ["column_dataset"]

_DOUBLE_P = ctypes.POINTER(ctypes.c_double)
_INT32_P = ctypes.POINTER(ctypes.c_int32)
_C_API_DTYPE_FLOAT64 = 1  # lightgbm's C_API_DTYPE_FLOAT64


def _sample_rows(n_rows: int, params_str: str) -> np.ndarray:
    """The rows LightGBM samples to find the bins (sorted)."""
    limit = int(lightgbm.basic._get_sample_count(n_rows, params_str))
    rows = np.empty(limit, dtype=np.int32)
    count = ctypes.c_int32(0)
    _safe_call(
        _LIB.LGBM_SampleIndices(
            ctypes.c_int32(n_rows),
            _c_str(params_str),
            rows.ctypes.data_as(_INT32_P),
            ctypes.byref(count),
        )
    )
    return rows[: count.value]


def _block_handle(
    X: np.ndarray,
    columns: np.ndarray,
    sample: np.ndarray,
    params_str: str,
    chunk_rows: int,
) -> ctypes.c_void_p:
    """A constructed C Dataset of ``X[:, columns]`` (one block of columns)."""
    n_rows, n_sample = len(X), len(sample)
    values = np.empty((len(columns), n_sample))
    every = np.arange(n_sample, dtype=np.int32)
    positions, counts = [], np.empty(len(columns), dtype=np.int32)
    for j, c in enumerate(columns):
        column = values[j]
        np.take(X[:, c], sample, out=column)
        kept = (np.abs(column) > ZERO_THRESHOLD) | np.isnan(column)
        if kept.all():
            positions.append(every)
            counts[j] = n_sample
        else:  # LightGBM leaves zeros out of the sample; compact in place
            counts[j] = np.count_nonzero(kept)
            column[: counts[j]] = column[kept]
            positions.append(every[kept])
    value_ptrs = (_DOUBLE_P * len(columns))(
        *[values[j].ctypes.data_as(_DOUBLE_P) for j in range(len(columns))]
    )
    position_ptrs = (_INT32_P * len(columns))(
        *[p.ctypes.data_as(_INT32_P) for p in positions]
    )
    handle = ctypes.c_void_p()
    _safe_call(
        _LIB.LGBM_DatasetCreateFromSampledColumn(
            ctypes.cast(value_ptrs, ctypes.POINTER(_DOUBLE_P)),
            ctypes.cast(position_ptrs, ctypes.POINTER(_INT32_P)),
            ctypes.c_int32(len(columns)),
            counts.ctypes.data_as(_INT32_P),
            ctypes.c_int32(n_sample),
            ctypes.c_int32(n_rows),
            ctypes.c_int64(n_rows),
            _c_str(params_str),
            ctypes.byref(handle),
        )
    )
    del values, positions
    rows = np.empty((min(chunk_rows, n_rows), len(columns)))  # row-major
    for start in range(0, n_rows, chunk_rows):
        stop = min(start + chunk_rows, n_rows)
        block = rows[: stop - start]
        for j, c in enumerate(columns):
            block[:, j] = X[start:stop, c]
        _safe_call(
            _LIB.LGBM_DatasetPushRows(
                handle,
                block.ctypes.data_as(ctypes.c_void_p),
                ctypes.c_int(_C_API_DTYPE_FLOAT64),
                ctypes.c_int32(stop - start),
                ctypes.c_int32(len(columns)),
                ctypes.c_int32(start),
            )
        )
    return handle


def column_dataset(
    X: np.ndarray,
    columns,
    label: np.ndarray,
    weight: np.ndarray | None,
    params: dict,
    *,
    block_floats: int = 32768 * 64,
) -> lightgbm.Dataset:
    """``lightgbm.Dataset(X[:, columns], label, weight=weight, params=params)``.

    Constructed, with the same bins, without copying the columns.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float64
        Any memory order; NaN allowed.
    columns : array-like of int
        The columns of ``X`` the Dataset holds, in this order.
    label, weight : ndarray of shape (n_samples,)
        Target and row weights (``weight`` may be None).
    params : dict
        The full LightGBM parameters the model trains with (``seed``,
        ``max_bin``, ``bin_construct_sample_cnt``, ``num_threads``, ...).
    block_floats : int, default=2,097,152
        Bounds the extra memory: a block of columns holds at most this many
        sampled values (at least one column), and rows are pushed in chunks
        of at most this many values.

    Returns
    -------
    lightgbm.Dataset
        Constructed; its features are named ``Column_0, Column_1, ...`` as
        LightGBM names the columns of an array.

    Examples
    --------
    >>> import numpy as np
    >>> import lightgbm
    >>> from skquant.gbdt._lightgbm_dataset import column_dataset
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(500, 5))
    >>> y = X[:, 1] + X[:, 3]
    >>> params = {"objective": "regression", "verbosity": -1, "num_threads": 1}
    >>> dataset = column_dataset(X, [1, 3], y, None, params)
    >>> dataset.num_data(), dataset.num_feature()
    (500, 2)
    >>> a = lightgbm.train(params, dataset, num_boost_round=5)
    >>> b = lightgbm.train(params, lightgbm.Dataset(X[:, [1, 3]], y, params=params),
    ...                    num_boost_round=5)
    >>> bool(np.array_equal(a.predict(X[:, [1, 3]]), b.predict(X[:, [1, 3]])))
    True
    """
    X = np.asarray(X)
    if X.dtype != np.float64 or X.ndim != 2:
        raise ValueError("column_dataset needs a 2-D float64 array.")
    columns = np.asarray(columns, dtype=np.intp)
    if columns.ndim != 1 or not len(columns):
        raise ValueError("column_dataset needs at least one column.")
    params_str = _param_dict_to_str(params)
    sample = _sample_rows(len(X), params_str)
    per_block = max(1, block_floats // max(len(sample), 1))
    chunk_rows = max(1, block_floats // min(per_block, len(columns)))
    handle = None
    try:
        for first in range(0, len(columns), per_block):
            block = _block_handle(
                X, columns[first : first + per_block], sample, params_str, chunk_rows
            )
            if handle is None:
                handle = block
                continue
            try:
                _safe_call(_LIB.LGBM_DatasetAddFeaturesFrom(handle, block))
            finally:
                _safe_call(_LIB.LGBM_DatasetFree(block))
    except BaseException:
        if handle is not None:
            _safe_call(_LIB.LGBM_DatasetFree(handle))
        raise
    dataset = lightgbm.Dataset(None, params=params, free_raw_data=True)
    dataset._handle = handle  # constructed: lightgbm.train uses it as it is
    dataset.set_feature_name([f"Column_{i}" for i in range(len(columns))])
    dataset.set_label(label)
    if weight is not None:
        dataset.set_weight(weight)
    return dataset
