"""Clear errors, never a torch traceback."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from skquant.nn import (
    ALSTMRegressor,
    DNNRegressor,
    LSTMRegressor,
    TCNRegressor,
    TransformerRegressor,
)

KW = {"max_epochs": 1, "n_threads": 1, "random_state": 0}


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(60, 12)), rng.normal(size=60)


@pytest.mark.parametrize("cls", [LSTMRegressor, ALSTMRegressor, TCNRegressor])
def test_d_feat_must_divide_the_columns(cls, data):
    X, y = data
    with pytest.raises(ValueError, match=r"12 columns.*not a multiple of d_feat=5"):
        cls(d_feat=5, **KW).fit(X, y)


def test_nan_is_refused_with_advice(data):
    X, y = data
    X = X.copy()
    X[3, 4] = np.nan
    with pytest.raises(ValueError, match="NaN") as err:
        LSTMRegressor(d_feat=6, **KW).fit(X, y)
    assert "RobustZScoreNorm" in str(err.value) and "allow_nan=True" in str(err.value)
    fitted = LSTMRegressor(d_feat=6, **KW).fit(np.nan_to_num(X), y)
    with pytest.raises(ValueError, match="NaN"):
        fitted.predict(X)
    X[3, 4] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        LSTMRegressor(d_feat=6, allow_nan=True, **KW).fit(X, y)


def test_feature_count_changed_since_fit(data):
    X, y = data
    model = DNNRegressor(layers=(4,), **KW).fit(X, y)
    with pytest.raises(ValueError, match="12 features"):
        model.predict(X[:, :6])


def test_feature_names_changed_since_fit(data):
    X, y = data
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(12)])
    model = DNNRegressor(layers=(4,), **KW).fit(frame, y)
    renamed = frame.rename(columns={"f0": "g0"})
    with pytest.raises(ValueError, match="feature names"):
        model.predict(renamed)


def test_one_dimensional_X(data):
    X, y = data
    with pytest.raises(ValueError, match="Expected 2D array"):
        LSTMRegressor(d_feat=1, **KW).fit(X[:, 0], y)
    model = LSTMRegressor(d_feat=6, **KW).fit(X, y)
    with pytest.raises(ValueError, match="Expected 2D array"):
        model.predict(X[0])


def test_unfitted_predict(data):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        DNNRegressor().predict(data[0])


def test_devices(data):
    X, y = data
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            DNNRegressor(device="cuda", **KW).fit(X, y)
        assert DNNRegressor(device="auto", **KW).fit(X, y).device_ == "cpu"
    with pytest.raises(ValueError, match="not a torch device"):
        DNNRegressor(device="gpu0", **KW).fit(X, y)


def test_parameter_validation(data):
    from sklearn.utils._param_validation import InvalidParameterError

    X, y = data
    with pytest.raises(InvalidParameterError, match="early_stopping"):
        DNNRegressor(early_stopping="sharpe").fit(X, y)
    with pytest.raises(InvalidParameterError, match="rnn_type"):
        ALSTMRegressor(rnn_type="RNN").fit(X, y)
    with pytest.raises(ValueError, match="multiple of nhead"):
        TransformerRegressor(d_feat=6, d_model=10, nhead=4, **KW).fit(X, y)
    with pytest.raises(ValueError, match="layers must be"):
        DNNRegressor(layers=(4, 0), **KW).fit(X, y)


def test_dates_errors(data):
    X, y = data
    with pytest.raises(ValueError, match="needs dates"):
        DNNRegressor(early_stopping="ic", **KW).fit(X, y)
    with pytest.raises(ValueError, match="one date per row"):
        DNNRegressor(**KW).fit(X, y, dates=np.arange(10))
    with pytest.raises(ValueError, match="not both"):
        DNNRegressor(**KW).fit(X, y, dates=np.arange(60), groups=np.arange(60))
    with pytest.raises(ValueError, match="leaves no training data: 1 dates"):
        DNNRegressor(**KW).fit(X, y, dates=np.zeros(60))
    # without early stopping a single date is fine
    DNNRegressor(early_stopping=None, **KW).fit(X, y, dates=np.zeros(60))
