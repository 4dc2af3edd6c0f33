"""Train every skquant.nn model on the bundled panel with Alpha360 features.

For each model (Qlib's default sizes) it prints seconds per epoch, the
peak resident memory while training, and the out-of-sample daily IC and Rank
IC after a fixed number of epochs; then the skorch-based estimator's time
per epoch against a minimal hand-written torch loop over the same module and
data (the training-loop overhead); then the latency of predicting one day's
cross-section of every stock in the panel.

    python benchmarks/bench_nets.py                     # ~10 min on 2 cores
    python benchmarks/bench_nets.py --instruments 489 --epochs 3
    python benchmarks/bench_nets.py --models --overhead-models --qlib-rows 12000

Data: ``--instruments`` stocks spread evenly over the tickers; Alpha360 of
their adjusted prices; train up to 2016-06-30, validation (early-stopping
holdout) to 2016-12-31, test 2017. Features are RobustZScoreNorm-ed (fitted on
train) and NaN-filled with 0; the training label is the per-date ranked
forward return (Qlib's CSRankNorm); IC is computed on the raw label.
Transformer, Localformer and TCN cost 10-30x an RNN per row at Qlib's sizes,
so they train on about ``--heavy-rows`` random training rows, validating on
the same share of the validation rows (compare them per 100k training rows;
like Qlib's loops, the last partial batch of an epoch is skipped). Seconds
per epoch are the best of the epochs run (other processes sharing the CPUs
only slow epochs down). Timings go to stdout only; nothing is written.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from skquant.datasets import load_sp500
from skquant.features import Alpha360, forward_return
from skquant.metrics import information_coefficient, rank_information_coefficient
from skquant.nn import (
    ALSTMRegressor,
    DNNRegressor,
    GRURegressor,
    LocalformerRegressor,
    LSTMRegressor,
    TCNRegressor,
    TransformerRegressor,
)
from skquant.preprocessing import RobustZScoreNorm, cs_rank_norm

TRAIN_END, VALID_END = "2016-06-30", "2016-12-31"

# Qlib's sizes (Alpha360 benchmark configs: batch 800 for the RNNs, 2000 for TCN)
MODELS = {
    "DNN": lambda: DNNRegressor(batch_size=4096),
    "LSTM": lambda: LSTMRegressor(batch_size=800),
    "GRU": lambda: GRURegressor(batch_size=800),
    "ALSTM": lambda: ALSTMRegressor(batch_size=800),
    "Transformer": lambda: TransformerRegressor(d_feat=6),
    "Localformer": lambda: LocalformerRegressor(d_feat=6),
    "TCN": lambda: TCNRegressor(kernel_size=3, lr=1e-3),
}
HEAVY = {"Transformer", "Localformer", "TCN"}


def _reset_peak_rss() -> None:
    try:  # Linux >= 4.0: reset VmHWM to the current RSS
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def _peak_rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _tickers(n: int) -> list[str]:
    tickers = load_sp500().index.get_level_values("instrument").unique().sort_values()
    pick = np.linspace(0, len(tickers) - 1, min(n, len(tickers))).round()
    return list(tickers[pick.astype(int)])


def load_data(n_instruments: int):
    panel = load_sp500(instruments=_tickers(n_instruments))
    X = Alpha360().fit_transform(panel)
    label = forward_return(panel)
    dates = X.index.get_level_values("datetime")
    keep = (dates >= dates.unique().sort_values()[59]) & label.notna().to_numpy()
    X, label = X[keep], label[keep]
    dates = X.index.get_level_values("datetime")
    fit_part = dates <= VALID_END
    test = ~fit_part
    scaler = RobustZScoreNorm().set_output(transform="pandas")
    scaler.fit(X[dates <= TRAIN_END])
    X = scaler.transform(X).fillna(0.0).astype(np.float32)
    y_fit = cs_rank_norm(label[fit_part])
    return X[fit_part], y_fit, X[test], label[test], scaler


def cross_section(scaler, n_dates: int = 70) -> pd.DataFrame:
    """Alpha360 of every stock on the last date of the panel (~490 rows)."""
    dates = load_sp500().index.get_level_values("datetime").unique().sort_values()
    panel = load_sp500(start=dates[-n_dates])
    X = Alpha360().fit_transform(panel)
    X = X.xs(dates[-1], level="datetime", drop_level=False)
    return scaler.transform(X).fillna(0.0).astype(np.float32)


def hand_loop_epoch_times(model, X, y, Xv, yv, epochs, seed=0):
    """A minimal torch loop over the module the estimator trains, same data."""
    import torch

    module_cls, kwargs = model._module(X.shape[1])
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        module = module_cls(**kwargs)
        opt = torch.optim.Adam(
            module.parameters(), lr=model.lr, weight_decay=model.weight_decay
        )
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y.astype(np.float32))
        Xvt, yvt = torch.from_numpy(Xv), torch.from_numpy(yv.astype(np.float32))
        bs, times = model.batch_size, []
        for _ in range(epochs):
            start = time.perf_counter()
            module.train()
            perm = torch.randperm(len(Xt))
            for b in range(max(len(Xt) // bs, 1)):
                idx = perm[b * bs : (b + 1) * bs]
                opt.zero_grad()
                loss = torch.mean((module(Xt[idx])[:, 0] - yt[idx]) ** 2)
                loss.backward()
                torch.nn.utils.clip_grad_value_(module.parameters(), 3.0)
                opt.step()
            module.eval()
            with torch.no_grad():
                for b in range(0, len(Xvt), bs):
                    torch.mean((module(Xvt[b : b + bs])[:, 0] - yvt[b : b + bs]) ** 2)
            times.append(time.perf_counter() - start)
    return times


# ----------------------------------------------------------------------------
# Qlib's Transformer and its epoch, transcribed from the description in
# ../shared/reference/qlib.md (section 1.8 and the shared training-loop pattern)


def qlib_transformer(d_feat: int = 6, d_model: int = 64, nhead: int = 2,
                     num_layers: int = 2, dropout: float = 0.0):  # fmt: skip
    """Qlib's ``Transformer`` network: sequence-first, PyTorch's layer defaults."""
    import math

    import torch
    from torch import nn

    class PositionalEncoding(nn.Module):
        def __init__(self, d_model, max_len=1000):
            super().__init__()
            pe = torch.zeros(max_len, d_model)
            position = torch.arange(0, max_len, dtype=torch.float).unsqueeze(1)
            div = torch.exp(
                torch.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model)
            )
            pe[:, 0::2] = torch.sin(position * div)
            pe[:, 1::2] = torch.cos(position * div)
            self.register_buffer("pe", pe.unsqueeze(0).transpose(0, 1))

        def forward(self, x):  # [T, N, d_model]
            return x + self.pe[: x.size(0), :]

    class Transformer(nn.Module):
        def __init__(self):
            super().__init__()
            self.feature_layer = nn.Linear(d_feat, d_model)
            self.pos_encoder = PositionalEncoding(d_model)
            layer = nn.TransformerEncoderLayer(d_model=d_model, nhead=nhead,
                                               dropout=dropout)  # fmt: skip
            self.transformer_encoder = nn.TransformerEncoder(layer, num_layers)
            self.decoder_layer = nn.Linear(d_model, 1)

        def forward(self, src):  # [N, F*T], feature-major
            src = src.reshape(len(src), d_feat, -1).permute(0, 2, 1)  # [N, T, F]
            src = self.feature_layer(src).transpose(1, 0)  # [T, N, d_model]
            src = self.pos_encoder(src)
            output = self.transformer_encoder(src, None)
            return self.decoder_layer(output.transpose(1, 0)[:, -1, :]).squeeze()

    return Transformer()


def qlib_epoch_times(module, X, y, Xv, yv, epochs, batch_size, lr, reg, seed=0):
    """Qlib's epoch: train_epoch, then test_epoch on the train and valid sets."""
    import torch

    def loss_fn(pred, label):
        mask = ~torch.isnan(label)
        return torch.mean((pred[mask] - label[mask]) ** 2)

    def test_epoch(data_x, data_y):
        module.eval()
        scores, losses = [], []
        indices = np.arange(len(data_x))
        for i in range(len(indices))[::batch_size]:
            if len(indices) - i < batch_size:
                break
            feature = torch.from_numpy(data_x[indices[i : i + batch_size]]).float()
            label = torch.from_numpy(data_y[indices[i : i + batch_size]]).float()
            with torch.no_grad():
                pred = module(feature)
                loss = loss_fn(pred, label)
                losses.append(loss.item())
                scores.append(-loss.item())
        return np.mean(losses), np.mean(scores)

    rng = np.random.RandomState(seed)
    optimizer = torch.optim.Adam(module.parameters(), lr=lr, weight_decay=reg)
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        module.train()
        indices = np.arange(len(X))
        rng.shuffle(indices)
        for i in range(len(indices))[::batch_size]:
            if len(indices) - i < batch_size:
                break
            feature = torch.from_numpy(X[indices[i : i + batch_size]]).float()
            label = torch.from_numpy(y[indices[i : i + batch_size]]).float()
            loss = loss_fn(module(feature), label)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_value_(module.parameters(), 3.0)
            optimizer.step()
        test_epoch(X, y)
        test_epoch(Xv, yv)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instruments", type=int, default=50)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--heavy-rows", type=int, default=4100)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--models", nargs="*", default=list(MODELS))
    parser.add_argument(
        "--overhead-models",
        nargs="*",
        default=["DNN", "ALSTM"],
        help="models whose loop overhead is measured against a hand loop",
    )
    parser.add_argument(
        "--qlib-rows",
        type=int,
        default=0,
        help="if > 0: time TransformerRegressor against a transcription of "
        "Qlib's Transformer and epoch on this many training rows, same threads",
    )
    args = parser.parse_args()

    import torch

    t0 = time.perf_counter()
    X_fit, y_fit, X_test, y_test, scaler = load_data(args.instruments)
    dates_fit = X_fit.index.get_level_values("datetime")
    n_train = int((dates_fit <= TRAIN_END).sum())
    print(
        f"data: {args.instruments} instruments, Alpha360 (360 features); "
        f"train {n_train} rows, valid {len(X_fit) - n_train}, test {len(X_test)} "
        f"({X_test.index.get_level_values('datetime').nunique()} dates); "
        f"built in {time.perf_counter() - t0:.1f} s; torch threads {args.threads}"
    )
    valid_fraction = dates_fit[dates_fit > TRAIN_END].nunique() / dates_fit.nunique()
    rng = np.random.default_rng(0)
    heavy_rows = None

    print(
        f"\n{'model':<12}{'train rows':>11}{'s/epoch':>9}{'s/100k rows':>12}"
        f"{'peak MB':>9}{'IC':>8}{'Rank IC':>9}{'infer ms':>10}"
    )
    section = cross_section(scaler)
    fitted = {}
    for name in args.models:
        model = MODELS[name]().set_params(
            max_epochs=args.epochs,
            patience=args.epochs + 1,  # train the fixed number of epochs
            validation_fraction=valid_fraction,
            validation_gap=0,  # the validation dates follow TRAIN_END directly
            n_threads=args.threads,
            random_state=0,
        )
        X, y = X_fit, y_fit
        if name in HEAVY and args.heavy_rows < n_train:
            if heavy_rows is None:  # same subset for every heavy model
                # the same share of the training and of the validation rows
                share = args.heavy_rows / n_train
                n_pick = round(share * len(X_fit))
                heavy_rows = np.sort(rng.choice(len(X_fit), n_pick, replace=False))
            X, y = X_fit.iloc[heavy_rows], y_fit.iloc[heavy_rows]
        _reset_peak_rss()
        model.fit(X, y)
        peak = _peak_rss_mb()
        rows = int((X.index.get_level_values("datetime") <= model.train_end_).sum())
        # best epoch time: robust to other processes sharing the CPUs
        per_epoch = float(np.min(model.history_[:, "dur"]))
        pred = model.predict(X_test)
        ic = information_coefficient(y_test, pred).mean()
        ric = rank_information_coefficient(y_test, pred).mean()
        lat = []
        with torch.no_grad():
            for _ in range(15):
                start = time.perf_counter()
                model.predict(section)
                lat.append(time.perf_counter() - start)
        fitted[name] = (model, X, y)
        print(
            f"{name:<12}{rows:>11}{per_epoch:>9.1f}{per_epoch / rows * 1e5:>12.1f}"
            f"{peak:>9.0f}{ic:>8.4f}{ric:>9.4f}{1000 * np.median(lat):>10.1f}",
            flush=True,
        )
    print(f"(inference: one date, {len(section)} stocks, median of 15 calls)")

    print("\nloop overhead: estimator vs hand-written torch loop, same module and data")
    print(
        f"{'model':<12}{'estimator s/epoch':>19}{'hand loop s/epoch':>19}{'ratio':>7}"
    )
    for name in args.overhead_models:
        if name not in fitted:
            continue
        model, X, y = fitted[name]
        dates = X.index.get_level_values("datetime")
        train = np.asarray(dates <= model.train_end_)
        Xa, ya = X.to_numpy(np.float32), y.to_numpy()
        threads = torch.get_num_threads()
        torch.set_num_threads(args.threads)  # what the estimator uses
        try:
            times_hand = hand_loop_epoch_times(
                model, Xa[train], ya[train], Xa[~train], ya[~train], args.epochs + 1
            )
        finally:
            torch.set_num_threads(threads)
        est = model.set_params(max_epochs=args.epochs + 1, patience=args.epochs + 2)
        est.fit(X, y)
        times_est = list(est.history_[:, "dur"])
        # the first epoch of either pays one-off costs; min is robust to the
        # other processes sharing the CPUs
        e, h = min(times_est[1:]), min(times_hand[1:])
        print(f"{name:<12}{e:>19.2f}{h:>19.2f}{e / h:>7.2f}", flush=True)
    if args.qlib_rows:
        compare_with_qlib_loop(X_fit, y_fit, n_train, args)
    print(f"\ntotal {time.perf_counter() - t0:.0f} s")


def compare_with_qlib_loop(X_fit, y_fit, n_train, args) -> None:
    """Seconds per epoch: TransformerRegressor vs Qlib's loop, alternating."""
    import torch

    dates = X_fit.index.get_level_values("datetime")
    is_train = np.asarray(dates <= TRAIN_END)
    rng = np.random.default_rng(1)
    share = min(1.0, args.qlib_rows / n_train)
    pick = np.sort(rng.choice(len(X_fit), round(share * len(X_fit)), replace=False))
    X, y = X_fit.iloc[pick], y_fit.iloc[pick]
    train = is_train[pick]
    picked_dates = dates[pick]
    valid_share = picked_dates[~train].nunique() / picked_dates.nunique()
    Xa, ya = X.to_numpy(np.float32), y.to_numpy(np.float32)
    print(
        f"\nTransformer (Qlib's Alpha360 config: d_model 64, 2 heads, 2 layers, "
        f"feed-forward 2048, batch 2048) on {int(train.sum())} training and "
        f"{int((~train).sum())} validation rows, {args.threads} thread(s), "
        f"{args.epochs} epochs each, alternating"
    )
    ours, qlib = [], []
    previous = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    try:
        for repeat in range(2):
            est = TransformerRegressor(
                d_feat=6, batch_size=2048, max_epochs=args.epochs,
                patience=args.epochs + 1, validation_fraction=valid_share,
                validation_gap=0, n_threads=args.threads, random_state=repeat,
            ).fit(X, y)  # fmt: skip
            ours += list(est.history_[:, "dur"])
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(repeat)
                module = qlib_transformer()
            qlib += qlib_epoch_times(
                module, Xa[train], ya[train], Xa[~train], ya[~train],
                args.epochs, batch_size=2048, lr=1e-4, reg=1e-3, seed=repeat,
            )  # fmt: skip
    finally:
        torch.set_num_threads(previous)
    o, q = float(np.median(ours)), float(np.median(qlib))
    rows = int(train.sum())
    print(f"{'loop':<28}{'s/epoch (median)':>18}{'s per 100k rows':>17}")
    print(f"{'skquant TransformerRegressor':<28}{o:>18.1f}{o / rows * 1e5:>17.0f}")
    print(f"{'Qlib transcription':<28}{q:>18.1f}{q / rows * 1e5:>17.0f}")
    print(f"ratio skquant / Qlib: {o / q:.2f} (goal at most 1.00)")


if __name__ == "__main__":
    main()
