"""Training behaviour of the skquant.nn regressors on real data."""

from __future__ import annotations

import math
import pickle
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone

from skquant.metrics import information_coefficient
from skquant.nn import (
    ALSTMRegressor,
    DNNRegressor,
    GRURegressor,
    LocalformerRegressor,
    LSTMRegressor,
    TCNRegressor,
    TransformerRegressor,
)

FAST = {"n_threads": 1, "random_state": 0, "batch_size": 512}

# Small versions of every model for the Alpha360 layout (d_feat=6, T=60).
SMALL_MODELS = {
    "DNN": lambda **kw: DNNRegressor(layers=(32,), **kw),
    "LSTM": lambda **kw: LSTMRegressor(hidden_size=16, num_layers=1, **kw),
    "GRU": lambda **kw: GRURegressor(hidden_size=16, num_layers=1, **kw),
    "ALSTM": lambda **kw: ALSTMRegressor(hidden_size=16, num_layers=1, **kw),
    "Transformer": lambda **kw: TransformerRegressor(
        d_feat=6, d_model=16, dim_feedforward=32, num_layers=1, **kw
    ),
    "Localformer": lambda **kw: LocalformerRegressor(
        d_feat=6, d_model=16, dim_feedforward=32, num_layers=1, **kw
    ),
    "TCN": lambda **kw: TCNRegressor(n_chans=16, num_layers=3, kernel_size=3, **kw),
}


def _dates(X):
    return np.asarray(X.index.get_level_values("datetime"))


@pytest.mark.parametrize("name", list(SMALL_MODELS))
def test_each_model_trains_on_alpha360(name, alpha360_data):
    X, y = alpha360_data
    model = SMALL_MODELS[name](max_epochs=2, lr=1e-3, **FAST).fit(X, y)
    dates = _dates(X)
    uniq = np.unique(dates)
    # the last 20% of the dates are held out, after a purge of 2 dates
    first_valid = len(uniq) - math.ceil(0.2 * len(uniq))
    assert model.validation_start_ == uniq[first_valid]
    assert model.train_end_ == uniq[first_valid - 3]
    history = model.history_
    assert model.n_epochs_ == len(history) == 2
    assert np.isfinite(history[:, "train_loss"]).all()
    assert np.isfinite(history[:, "valid_loss"]).all()
    n_train = int((dates <= model.train_end_).sum())
    assert history[-1, "train_batch_count"] == n_train // 512  # last partial skipped
    n_valid = int((dates >= model.validation_start_).sum())
    assert history[-1, "valid_batch_count"] == -(-n_valid // 512)
    pred = model.predict(X.iloc[-500:])
    assert pred.shape == (500,) and pred.dtype == np.float64
    assert np.isfinite(pred).all() and pred.std() > 0
    assert model.best_epoch_ == 1 + int(np.argmin(history[:, "valid_loss"]))


def test_early_stopping_restores_the_best_epoch(alpha360_data):
    X, y = alpha360_data
    # a wide MLP at a high learning rate overfits noisy returns within epochs
    model = DNNRegressor(
        layers=(256,),
        lr=0.01,
        max_epochs=30,
        patience=3,
        lr_schedule=None,
        **FAST,
    ).fit(X, y)
    valid_loss = np.asarray(model.history_[:, "valid_loss"])
    best = int(np.argmin(valid_loss))
    assert model.best_epoch_ == best + 1
    assert model.best_epoch_ < model.n_epochs_  # it stopped after a real peak
    assert model.n_epochs_ == min(30, model.best_epoch_ + 3)
    assert model.best_score_ == pytest.approx(valid_loss[best])
    # the weights held now give the best recorded validation loss, computed on
    # exactly the rows dated from validation_start_ on
    valid = _dates(X) >= model.validation_start_
    mse = np.mean((model.predict(X[valid]) - y[valid].to_numpy()) ** 2)
    assert mse == pytest.approx(valid_loss[best], rel=1e-5)
    assert mse != pytest.approx(valid_loss[-1], rel=1e-5)


def test_early_stopping_on_daily_ic(alpha360_data):
    X, y = alpha360_data
    model = ALSTMRegressor(
        hidden_size=16,
        num_layers=1,
        lr=3e-3,
        max_epochs=4,
        patience=2,
        early_stopping="ic",
        **FAST,
    ).fit(X, y)
    ic = np.asarray(model.history_[:, "valid_ic"])
    assert np.isfinite(ic).all()
    best = int(np.argmax(ic))
    assert model.best_epoch_ == best + 1
    assert model.best_score_ == pytest.approx(ic[best])
    valid = _dates(X) >= model.validation_start_
    daily = information_coefficient(y[valid], model.predict(X[valid]))
    assert daily.mean() == pytest.approx(ic[best], abs=1e-5)


def test_validation_gap_purges_dates_between_training_and_validation(
    alpha360_data, monkeypatch
):
    import skorch

    X, y = alpha360_data
    order = np.random.default_rng(0).permutation(len(X))  # any row order
    X, y = X.iloc[order], y.iloc[order]
    trained_rows = []
    partial_fit = skorch.NeuralNetRegressor.partial_fit

    def spy(net, X_train, y_train=None, **kw):
        trained_rows.append(len(X_train))
        return partial_fit(net, X_train, y_train, **kw)

    monkeypatch.setattr(skorch.NeuralNetRegressor, "partial_fit", spy)
    for gap in (0, 5):
        model = DNNRegressor(layers=(8,), max_epochs=1, validation_gap=gap, **FAST).fit(
            X, y
        )
        uniq = np.unique(_dates(X))
        start = np.searchsorted(uniq, np.datetime64(model.validation_start_))
        end = np.searchsorted(uniq, np.datetime64(model.train_end_))
        assert start - end - 1 == gap  # exactly `gap` dates purged
        # the net trained on exactly the rows dated up to train_end_
        dates = _dates(X)
        assert trained_rows[-1] == int((dates <= model.train_end_).sum())
        purged = (dates > model.train_end_) & (dates < model.validation_start_)
        assert (purged.sum() > 0) == (gap > 0)
    with pytest.raises(ValueError, match="leaves no training data"):
        DNNRegressor(max_epochs=1, validation_gap=10_000, **FAST).fit(X, y)


def test_dates_from_fit_params_match_the_panel_index(alpha360_data):
    X, y = alpha360_data
    X, y = X.iloc[:3000], y.iloc[:3000]
    kw = dict(max_epochs=2, **FAST)
    on_panel = SMALL_MODELS["DNN"](**kw).fit(X, y)
    arr, dates = X.to_numpy(), _dates(X)
    with_dates = SMALL_MODELS["DNN"](**kw).fit(arr, y.to_numpy(), dates=dates)
    with_groups = SMALL_MODELS["DNN"](**kw).fit(arr, y.to_numpy(), groups=dates)
    assert on_panel.validation_start_ == with_dates.validation_start_
    np.testing.assert_array_equal(on_panel.predict(X), with_dates.predict(arr))
    np.testing.assert_array_equal(with_groups.predict(arr), with_dates.predict(arr))
    # plain arrays without dates: the last rows are held out
    by_rows = SMALL_MODELS["DNN"](**kw).fit(arr, y.to_numpy())
    assert by_rows.validation_start_ == 3000 - 600


def test_reproducible_and_global_rng_untouched(small_arrays):
    X, y = small_arrays
    torch_state = torch.random.get_rng_state()
    np_state = np.random.get_state()[1].copy()  # noqa: NPY002
    make = lambda seed: ALSTMRegressor(  # noqa: E731
        d_feat=3,
        hidden_size=8,
        max_epochs=3,
        batch_size=64,
        n_threads=1,
        random_state=seed,
    )
    a, b, c = make(0).fit(X, y), make(0).fit(X, y), make(1).fit(X, y)
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    assert not np.allclose(a.predict(X), c.predict(X))
    assert torch.equal(torch.random.get_rng_state(), torch_state)
    np.testing.assert_array_equal(np.random.get_state()[1], np_state)  # noqa: NPY002


def test_pickle_and_clone(small_arrays):
    X, y = small_arrays
    model = TCNRegressor(
        d_feat=3,
        n_chans=8,
        num_layers=2,
        kernel_size=3,
        max_epochs=3,
        batch_size=64,
        n_threads=1,
        random_state=0,
    ).fit(X, y)
    assert model.net_.train_split is None  # validation rows are not pickled
    blob = pickle.dumps(model)
    restored = pickle.loads(blob)
    np.testing.assert_array_equal(model.predict(X), restored.predict(X))
    twin = clone(model)
    assert twin.get_params() == model.get_params()
    assert not hasattr(twin, "net_")
    np.testing.assert_array_equal(twin.fit(X, y).predict(X), model.predict(X))


def test_n_threads_is_restored(small_arrays):
    X, y = small_arrays
    before = torch.get_num_threads()
    model = GRURegressor(d_feat=3, hidden_size=4, max_epochs=1, n_threads=1)
    model.fit(X, y).predict(X)
    assert torch.get_num_threads() == before


def test_sample_weight_and_metadata_routing(small_arrays):
    from sklearn import config_context
    from sklearn.model_selection import KFold, cross_validate

    X, y = small_arrays
    kw = {
        "layers": (8,),
        "max_epochs": 3,
        "batch_size": 64,
        "n_threads": 1,
        "random_state": 0,
    }
    w = np.where(np.arange(len(y)) % 2 == 0, 1.0, 3.0)
    plain = DNNRegressor(**kw).fit(X, y).predict(X)
    ones = DNNRegressor(**kw).fit(X, y, sample_weight=np.ones(len(y))).predict(X)
    weighted = DNNRegressor(**kw).fit(X, y, sample_weight=w).predict(X)
    np.testing.assert_allclose(plain, ones, rtol=1e-6)
    assert not np.allclose(plain, weighted)
    with pytest.raises(ValueError, match="zero"):
        DNNRegressor(**kw).fit(X, y, sample_weight=np.zeros(len(y)))
    with config_context(enable_metadata_routing=True):
        model = DNNRegressor(**kw).set_fit_request(sample_weight=True, dates=True)
        model.set_score_request(sample_weight=False)
        dates = np.repeat(np.arange(40), 10)
        out = cross_validate(
            model,
            X,
            y,
            cv=KFold(2),
            params={"sample_weight": w, "dates": dates},
            return_estimator=True,
        )
        fitted = out["estimator"][0]
        assert fitted.validation_start_ in dates  # a date, not a row number


def test_allow_nan_fills_with_zero(small_arrays):
    X, y = small_arrays
    X_nan = X.copy()
    X_nan[::7, 3] = np.nan
    kw = {
        "d_feat": 3,
        "hidden_size": 4,
        "max_epochs": 2,
        "n_threads": 1,
        "random_state": 0,
    }
    filled = LSTMRegressor(**kw).fit(np.nan_to_num(X_nan), y)
    tolerant = LSTMRegressor(allow_nan=True, **kw).fit(X_nan, y)
    np.testing.assert_array_equal(
        filled.predict(np.nan_to_num(X_nan)), tolerant.predict(X_nan)
    )
    assert tolerant.__sklearn_tags__().input_tags.allow_nan


def test_float64_and_options(small_arrays):
    X, y = small_arrays
    model = TransformerRegressor(
        d_feat=3,
        d_model=8,
        dim_feedforward=16,
        max_epochs=3,
        batch_size=64,
        dtype="float64",
        optimizer="sgd",
        lr=0.05,
        lr_schedule="cosine",
        clip_value=None,
        n_threads=1,
        random_state=0,
    ).fit(X, y)
    assert all(p.dtype == torch.float64 for p in model.net_.module_.parameters())
    assert isinstance(model.net_.optimizer_, torch.optim.SGD)
    assert model.net_.optimizer_.param_groups[0]["lr"] < 0.05  # annealed
    assert model.predict(X).dtype == np.float64
    plateau = LocalformerRegressor(
        d_feat=3,
        d_model=8,
        dim_feedforward=16,
        max_epochs=2,
        batch_size=64,
        lr_schedule="plateau",
        early_stopping=None,
        n_threads=1,
        random_state=0,
    ).fit(X, y)
    assert plateau.validation_start_ is None and plateau.best_score_ is None
    assert plateau.best_epoch_ == plateau.n_epochs_ == 2


def test_verbose_prints_only_when_asked(small_arrays, capsys):
    X, y = small_arrays
    kw = {"d_feat": 3, "n_chans": 4, "num_layers": 1, "max_epochs": 2, "n_threads": 1}
    TCNRegressor(**kw).fit(X, y)
    assert capsys.readouterr().out == ""
    TCNRegressor(verbose=1, **kw).fit(X, y)
    out = capsys.readouterr().out
    assert "train_loss" in out and "valid_loss" in out


def test_alstm_honours_rnn_type(small_arrays):
    X, y = small_arrays
    kw = {"d_feat": 3, "hidden_size": 4, "max_epochs": 1, "n_threads": 1}
    gru = ALSTMRegressor(**kw).fit(X, y).net_.module_.rnn
    lstm = ALSTMRegressor(rnn_type="LSTM", **kw).fit(X, y).net_.module_.rnn
    assert isinstance(gru, torch.nn.GRU) and isinstance(lstm, torch.nn.LSTM)


def test_sequence_layout_is_qlib_feature_major():
    from skquant.features._alpha360 import alpha360_names
    from skquant.nn._modules._layout import to_channels, to_sequence

    names = np.asarray(alpha360_names())
    idx = torch.arange(360, dtype=torch.float64).reshape(1, -1)
    seq = names[to_sequence(idx, 6)[0].long().numpy()]  # (T, d_feat)
    assert seq.shape == (60, 6)
    assert list(seq[-1]) == ["CLOSE0", "OPEN0", "HIGH0", "LOW0", "VWAP0", "VOLUME0"]
    assert list(seq[0]) == [f"{f}59" for f in ("CLOSE", "OPEN", "HIGH", "LOW")] + [
        "VWAP59",
        "VOLUME59",
    ]
    chans = names[to_channels(idx, 6)[0].long().numpy()]  # (d_feat, T) for Conv1d
    assert list(chans[:, -1]) == list(seq[-1])


@pytest.mark.parametrize("d_feat, T", [(6, 60), (20, 20), (4, 9)])
def test_tcn_uses_one_layout_in_fit_and_predict(d_feat, T):
    from skquant.nn._modules._layout import to_channels

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, d_feat * T)).astype(np.float32)
    y = X[:, T - 1]  # today's value of the first feature
    model = TCNRegressor(
        d_feat=d_feat,
        n_chans=8,
        num_layers=2,
        kernel_size=3,
        dropout=0.0,
        max_epochs=2,
        batch_size=64,
        n_threads=1,
        random_state=0,
    ).fit(X, y)
    module = model.net_.module_.eval()
    with torch.no_grad():
        x = torch.from_numpy(X)
        manual = module.linear(module.tcn(to_channels(x, d_feat))[:, :, -1])
    np.testing.assert_allclose(model.predict(X), manual[:, 0].numpy(), rtol=1e-5)
    # causal: perturbing the last day leaves the conv outputs of earlier days alone
    with torch.no_grad():
        z = to_channels(x, d_feat).clone()
        base = module.tcn(z)
        z[:, :, -1] += 1.0
        moved = module.tcn(z)
    torch.testing.assert_close(moved[:, :, :-1], base[:, :, :-1])
    assert not torch.allclose(moved[:, :, -1], base[:, :, -1])


def test_import_does_not_load_torch():
    code = (
        "import sys, skquant.nn; skquant.nn.ALSTMRegressor().get_params(); "
        "print('torch' in sys.modules, 'skorch' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False False"


def test_validation_start_holds_out_the_dates_from_that_day(alpha360_data):
    X, y = alpha360_data
    uniq = np.unique(_dates(X))
    start = pd.Timestamp(uniq[-10])
    model = DNNRegressor(
        layers=(8,), max_epochs=1, validation_start=start, validation_gap=1, **FAST
    ).fit(X, y)
    assert model.validation_start_ == start
    assert model.train_end_ == pd.Timestamp(uniq[-12])  # one date purged
    with pytest.raises(ValueError, match="validation_start needs dates"):
        DNNRegressor(max_epochs=1, validation_start=start, **FAST).fit(
            X.to_numpy(), y.to_numpy()
        )
