"""DoubleEnsemble: skquant's streaming implementation vs Qlib's loss-matrix approach.

The reference ("qlib") below is a direct transcription of the algorithm as
Qlib's ``DEnsembleModel`` runs it (qlib.md §1.14), written here from that
description: the loss curve is the ``n_samples x n_trees`` float64 matrix of
per-round squared errors (built from one-tree predictions and a cumulative
sum) ranked column by column with pandas; feature selection copies the whole
training frame and, for each feature, shuffles its column in place and
re-predicts every sub-model with pandas. It uses the same LightGBM sub-models,
the same seeds and the same random draws as skquant, so both must give the
same predictions.

Each variant runs in its own subprocess; its peak memory is the rise of the
process's resident set (``VmHWM`` after the step minus ``VmRSS`` before it,
with the high-water mark reset first), so LightGBM's C++ allocations count
too. Two measurements:

- ``fit``: a whole ``DoubleEnsembleRegressor.from_preset("alpha158")`` fit
  (3 sub-models of 28 trees, SR and FS), on a subset of the panel;
- ``sr``: only the sample-reweighting step (the one of Qlib issue #1436,
  "more than 100GB"), for one LightGBM sub-model with many trees, on the
  full panel.

Run: ``python benchmarks/bench_double_ensemble.py [--mode fit|sr|all]``
(``--instruments``, ``--trees`` change the sizes).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import lightgbm
import numpy as np
import pandas as pd

from skquant.gbdt import DoubleEnsembleRegressor

# ----------------------------------------------------------------------------
# Qlib's approach, transcribed from the algorithm description.


def _loss(y, pred):
    return (y - pred) ** 2


def qlib_retrieve_loss_curve(model, x: pd.DataFrame, y: np.ndarray) -> pd.DataFrame:
    """The n_samples x n_trees loss matrix, one tree at a time."""
    booster = model.booster_
    best = booster.best_iteration
    n_trees = best if best > 0 else booster.current_iteration()
    loss_curve = pd.DataFrame(np.zeros((len(x), n_trees)))
    pred = np.zeros(len(x))
    values = x.values
    for t in range(n_trees):
        pred += booster.predict(values, start_iteration=t, num_iteration=1)
        loss_curve.iloc[:, t] = _loss(y, pred)
    return loss_curve


def qlib_sample_reweight(loss_curve, loss_values, k_th, p) -> pd.Series:
    loss_curve_norm = loss_curve.rank(axis=0, pct=True)
    loss_values_norm = (-loss_values).rank(pct=True)
    n_trees = loss_curve.shape[1]
    part = max(int(n_trees * 0.1), 1)
    l_start = loss_curve_norm.iloc[:, :part].mean(axis=1)
    l_end = loss_curve_norm.iloc[:, -part:].mean(axis=1)
    h1 = loss_values_norm
    h2 = (l_end / l_start).rank(pct=True)
    h = pd.DataFrame({"h_value": p["alpha1"] * h1 + p["alpha2"] * h2})
    h["bins"] = pd.cut(h["h_value"], p["bins_sr"])
    h_avg = h.groupby("bins", observed=False)["h_value"].mean()
    weights = pd.Series(np.zeros(len(h)))
    for b in h_avg.index:
        weights[h["bins"] == b] = 1.0 / (p["decay"] ** k_th * h_avg[b] + 0.1)
    return weights


def qlib_feature_selection(x_train, y, loss_values, ensemble, sub_features, w, p, rng):
    features = x_train.columns
    n_samples = len(x_train)
    g = pd.DataFrame({"g_value": np.zeros(len(features))})
    x_tmp = x_train.copy()
    for i_f, feat in enumerate(features):
        x_tmp.loc[:, feat] = rng.permutation(x_tmp.loc[:, feat].values)
        pred = pd.Series(np.zeros(n_samples), index=x_tmp.index)
        for i_s, submodel in enumerate(ensemble):
            part = submodel.predict(x_tmp.loc[:, sub_features[i_s]].values)
            pred += (
                pd.Series(part, index=x_tmp.index) * w[i_s] / w[: len(ensemble)].sum()
            )
        d = _loss(y, pred.values) - loss_values.values
        g.loc[i_f, "g_value"] = np.mean(d) / (np.std(d) + 1e-7)
        x_tmp.loc[:, feat] = x_train.loc[:, feat].copy()
    g["g_value"] = g["g_value"].fillna(0.0)
    g["bins"] = pd.cut(g["g_value"], p["bins_fs"])
    res_feat = []
    for i_b, b in enumerate(sorted(g["bins"].unique(), reverse=True)):
        b_feat = features[(g["bins"] == b).to_numpy()]
        num_feat = int(np.ceil(p["sample_ratios"][i_b] * len(b_feat)))
        res_feat += rng.choice(b_feat, size=num_feat, replace=False).tolist()
    chosen = set(res_feat)
    return pd.Index([f for f in features if f in chosen])  # original order


class QlibDoubleEnsemble:
    """DoubleEnsemble the Qlib way (see the module docstring)."""

    def __init__(self, lgb_params: dict, random_state: int, **params):
        self.lgb_params = lgb_params
        self.random_state = random_state
        self.p = params

    def fit(self, x_train: pd.DataFrame, y_train: pd.Series):
        p = self.p
        rng = np.random.RandomState(self.random_state)
        y = y_train.to_numpy(np.float64)
        n_samples, num_models = len(x_train), p["num_models"]
        w = np.asarray(p["sub_weights"], dtype=np.float64)
        weights = pd.Series(np.ones(n_samples))
        features = x_train.columns
        pred_sub = pd.DataFrame(np.zeros((n_samples, num_models)))
        self.ensemble, self.sub_features = [], []
        for k in range(num_models):
            model = lightgbm.LGBMRegressor(
                **self.lgb_params,
                random_state=rng.randint(np.iinfo(np.int32).max),
                verbosity=-1,
            )
            x_k = x_train.loc[:, features]
            model.fit(x_k.values, y, sample_weight=weights.values)
            self.ensemble.append(model)
            self.sub_features.append(features)
            if k + 1 == num_models:
                break
            loss_curve = qlib_retrieve_loss_curve(model, x_k, y)
            pred_sub.iloc[:, k] = model.predict(x_k.values)
            pred_ens = (pred_sub.iloc[:, : k + 1] * w[: k + 1]).sum(axis=1) / w[
                : k + 1
            ].sum()
            loss_values = pd.Series(_loss(y, pred_ens.values))
            if p["enable_sr"]:
                weights = qlib_sample_reweight(loss_curve, loss_values, k + 1, p)
            del loss_curve, x_k
            if p["enable_fs"]:
                features = qlib_feature_selection(
                    x_train, y, loss_values, self.ensemble, self.sub_features, w, p, rng
                )
        return self

    def predict(self, x: pd.DataFrame) -> np.ndarray:
        w = np.asarray(self.p["sub_weights"], dtype=np.float64)
        pred = sum(
            w[i] * m.predict(x.loc[:, f].values)
            for i, (m, f) in enumerate(
                zip(self.ensemble, self.sub_features, strict=True)
            )
        )
        return pred / w[: len(self.ensemble)].sum()


# ----------------------------------------------------------------------------
# measurement helpers


def _status(field: str) -> int:
    """A /proc/self/status memory field, in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def _reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM (Linux >= 4.0)


def measure(fn):
    """(result, seconds, peak resident-set rise in bytes) of ``fn()``."""
    _reset_peak()
    before = _status("VmRSS")
    start = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - start
    return out, seconds, _status("VmHWM") - before


def _preset_params():
    model = DoubleEnsembleRegressor.from_preset("alpha158", random_state=0)
    params = model.get_params(deep=False)
    lgb_params = {
        k: v
        for k, v in model.estimator.get_params().items()
        if k in lightgbm.LGBMRegressor().get_params() and k != "random_state"
    }
    return model, params, lgb_params


# ----------------------------------------------------------------------------
# worker (one variant, one process)


def worker(mode: str, variant: str, data_dir: Path, trees: int, n_jobs: int) -> dict:
    X = np.load(data_dir / "X.npy")  # column-major, like a DataFrame's values
    y = np.load(data_dir / "y.npy")
    names = json.loads((data_dir / "names.json").read_text())
    frame = pd.DataFrame(X, columns=names, copy=False)
    target = pd.Series(y)
    if mode == "fit":
        model, params, lgb_params = _preset_params()
        model.set_params(estimator__n_jobs=n_jobs)
        lgb_params["n_jobs"] = n_jobs
        if variant == "skquant":
            fitted, seconds, peak = measure(lambda: model.fit(frame, target))
            pred = fitted.predict(frame)
            subsets = [list(map(int, s)) for s in fitted.feature_subsets_]
        else:
            qlib_params = {
                k: params[k]
                for k in (
                    "num_models", "enable_sr", "enable_fs", "alpha1", "alpha2",
                    "bins_sr", "bins_fs", "decay", "sample_ratios", "sub_weights",
                )
            }  # fmt: skip
            reference = QlibDoubleEnsemble(lgb_params, 0, **qlib_params)
            fitted, seconds, peak = measure(lambda: reference.fit(frame, target))
            pred = fitted.predict(frame)
            subsets = [[names.index(f) for f in s] for s in fitted.sub_features]
        np.save(data_dir / f"pred_{mode}_{variant}.npy", pred)
        return {"seconds": seconds, "peak": peak, "subsets": subsets}

    # mode == "sr": the SR step only, after one sub-model with many trees
    # (trained once by the driver and loaded here, identical for both)
    from types import SimpleNamespace

    from skquant.gbdt._double_ensemble import DoubleEnsembleRegressor as DE

    model = SimpleNamespace(
        booster_=lightgbm.Booster(model_file=str(data_dir / "model.txt"))
    )
    pred = np.load(data_dir / "pred_model.npy")
    loss = (y - pred) ** 2
    if variant == "skquant":
        de = DE(alpha1=1.0, alpha2=1.0, bins_sr=10, decay=0.5)
        weights, seconds, peak = measure(
            lambda: de._sample_reweight(model, X, None, y, loss, 1)
        )
    else:
        p = {"alpha1": 1.0, "alpha2": 1.0, "bins_sr": 10, "decay": 0.5}

        def step():
            curve = qlib_retrieve_loss_curve(model, frame, y)
            return qlib_sample_reweight(curve, pd.Series(loss), 1, p).to_numpy()

        weights, seconds, peak = measure(step)
    np.save(data_dir / f"weights_sr_{variant}.npy", np.asarray(weights))
    return {"seconds": seconds, "peak": peak}


# ----------------------------------------------------------------------------
# driver


def load_data(n_instruments: int | None):
    from skquant.datasets import load_sp500
    from skquant.features import Alpha158, forward_return
    from skquant.preprocessing import cs_zscore_norm, drop_missing_label

    panel = load_sp500()
    if n_instruments is not None:
        tickers = sorted(panel.index.get_level_values("instrument").unique())
        keep = tickers[:: max(1, len(tickers) // n_instruments)][:n_instruments]
        panel = panel[panel.index.get_level_values("instrument").isin(keep)]
    X, y = drop_missing_label(Alpha158().fit_transform(panel), forward_return(panel))
    return X, cs_zscore_norm(y)  # Qlib's GBDT label: CSZScoreNorm


def run(
    mode: str, n_instruments: int | None, trees: int, n_jobs: int, repeats: int
) -> None:
    X, y = load_data(n_instruments)
    n_dates = X.index.get_level_values("datetime").nunique()
    n_stocks = X.index.get_level_values("instrument").nunique()
    with tempfile.TemporaryDirectory(prefix="skquant-bench-de-") as tmp:
        data_dir = Path(tmp)
        np.save(data_dir / "X.npy", np.asfortranarray(X.to_numpy(np.float64)))
        np.save(data_dir / "y.npy", y.to_numpy(np.float64))
        (data_dir / "names.json").write_text(json.dumps(list(X.columns)))
        if mode == "sr":  # the sub-model both variants reweight after
            start = time.perf_counter()
            model = lightgbm.LGBMRegressor(
                n_estimators=trees, num_leaves=31, learning_rate=0.05,
                random_state=0, n_jobs=n_jobs, verbosity=-1,
            ).fit(X.to_numpy(), y.to_numpy())  # fmt: skip
            model.booster_.save_model(str(data_dir / "model.txt"))
            np.save(data_dir / "pred_model.npy", model.predict(X.to_numpy()))
            print(
                f"(sub-model of {trees} trees trained in "
                f"{time.perf_counter() - start:.0f}s)"
            )
        del X
        results = {}
        for _ in range(repeats):  # alternate the variants: load hits both alike
            for variant in ("skquant", "qlib"):
                cmd = [
                    sys.executable, __file__, "--_worker", mode, variant,
                    str(data_dir), "--trees", str(trees), "--n-jobs", str(n_jobs),
                ]  # fmt: skip
                out = subprocess.run(cmd, capture_output=True, text=True)
                if out.returncode:
                    sys.exit(f"{variant} worker failed:\n{out.stderr}")
                result = json.loads(out.stdout.strip().splitlines()[-1])
                best = results.setdefault(variant, result)
                best["seconds"] = min(best["seconds"], result["seconds"])
                best["peak"] = max(best["peak"], result["peak"])
        n = len(y)
        if mode == "fit":
            print(
                "\n[fit] DoubleEnsembleRegressor.from_preset('alpha158'): 3 "
                f"sub-models x 28 trees, SR + FS; {n} rows x 158 Alpha158 features "
                f"({n_stocks} stocks x {n_dates} dates), n_jobs={n_jobs}"
            )
            a = np.load(data_dir / "pred_fit_skquant.npy")
            b = np.load(data_dir / "pred_fit_qlib.npy")
            same = results["skquant"]["subsets"] == results["qlib"]["subsets"]
            agree = (
                f"max |pred diff| = {np.max(np.abs(a - b)):.2e}, same feature "
                f"subsets: {same}"
            )
        else:
            matrix = n * trees * 8
            print(
                f"\n[sr] sample reweighting after one LightGBM sub-model of {trees} "
                f"trees; {n} rows ({n_stocks} stocks x {n_dates} dates); the "
                f"n x n_trees float64 loss matrix alone is {matrix / 2**20:.0f} MiB"
            )
            a = np.load(data_dir / "weights_sr_skquant.npy")
            b = np.load(data_dir / "weights_sr_qlib.npy")
            agree = (
                f"max |weight diff| = {np.max(np.abs(a - b)):.2e} "
                f"(weights range {a.min():.2f}..{a.max():.2f})"
            )
        print(f"{'variant':<10}{'time':>10}{'peak RSS rise':>16}  ({repeats} run(s))")
        for variant, r in results.items():
            print(f"{variant:<10}{r['seconds']:>9.1f}s{r['peak'] / 2**20:>12.0f} MiB")
        s, q = results["skquant"], results["qlib"]
        print(
            f"ratio skquant/qlib: time {s['seconds'] / q['seconds']:.2f}, "
            f"peak memory {s['peak'] / q['peak']:.3f}  ({agree})"
        )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=["fit", "sr", "all"], default="all")
    parser.add_argument(
        "--instruments",
        type=int,
        default=None,
        help="stocks for --mode fit (default 100; sr uses the full panel)",
    )
    parser.add_argument("--trees", type=int, default=300, help="trees for --mode sr")
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument(
        "--repeats", type=int, default=1, help="runs per variant (best time kept)"
    )
    parser.add_argument("--_worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args._worker:
        mode, variant, data_dir = args._worker
        result = worker(mode, variant, Path(data_dir), args.trees, args.n_jobs)
        print(json.dumps(result))
        return
    if args.mode in ("fit", "all"):
        run("fit", args.instruments or 100, args.trees, args.n_jobs, args.repeats)
    if args.mode in ("sr", "all"):
        run("sr", args.instruments, args.trees, args.n_jobs, args.repeats)


if __name__ == "__main__":
    main()
