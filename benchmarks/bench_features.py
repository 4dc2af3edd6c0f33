"""Time Alpha158/Alpha360 against the straightforward pandas reference.

The reference is tests/features/_reference.py: one instrument at a time, one
feature at a time, pandas ``rolling`` and ``rolling.apply``. Each variant runs in
its own subprocess so that its peak memory (``ru_maxrss``) is its own; the
reference worker then also runs skquant on the same rows and reports how far
apart the values are.

    python benchmarks/bench_features.py                 # full bundled panel
    python benchmarks/bench_features.py --instruments 100
    python benchmarks/bench_features.py --reference-instruments 60

With ``--reference-instruments M`` the reference is timed on M of the
instruments and its time is extrapolated linearly in the number of rows (the
output says so); its memory is then that of the subset. Peak memory is the
peak resident set size of the worker during the transform (Linux resets the
high-water mark before it; elsewhere it is the peak since the worker started).
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from skquant.datasets import load_sp500
from skquant.features import Alpha158, Alpha360

ESTIMATORS = {"alpha158": Alpha158, "alpha360": Alpha360}


def _reference():
    path = ROOT / "tests" / "features" / "_reference.py"
    spec = importlib.util.spec_from_file_location("features_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _instruments(n: int | None) -> list[str] | None:
    """``n`` instruments spread evenly over the sorted tickers (None: all)."""
    tickers = load_sp500().index.get_level_values("instrument").unique().sort_values()
    if n is None or n >= len(tickers):
        return None
    return list(tickers[np.linspace(0, len(tickers) - 1, n).round().astype(int)])


def _reset_peak_rss() -> bool:
    """Start a fresh peak-RSS count for this process (Linux >= 4.0)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _rss_mb() -> tuple[float, float]:
    """(current, peak) resident memory of this process, in MB."""
    try:
        status = Path("/proc/self/status").read_text().split("\n")
        kib = {ln.split(":")[0]: int(ln.split()[1]) for ln in status if "kB" in ln}
        return kib["VmRSS"] / 1024, kib["VmHWM"] / 1024
    except (OSError, KeyError):  # not Linux: peak since the process started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return peak, peak


def worker(variant: str, feature_set: str, n_instruments: int | None) -> dict:
    """Run one variant in this process and return its measurements."""
    panel = load_sp500(instruments=_instruments(n_instruments))
    reference = _reference() if variant == "reference" else None
    gc.collect()
    _reset_peak_rss()
    base_rss = _rss_mb()[0]
    wall, cpu = time.perf_counter(), time.process_time()
    if variant == "skquant":
        out = ESTIMATORS[feature_set]().fit_transform(panel)
    else:
        out = getattr(reference, feature_set)(panel)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    result = {
        "rows": len(panel),
        "instruments": int(panel.index.get_level_values("instrument").nunique()),
        "wall_s": wall,
        "cpu_s": cpu,
        "base_rss_mb": base_rss,
        "peak_rss_mb": _rss_mb()[1],
        "shape": list(out.shape),
    }
    if reference is not None:  # compare with skquant on the same rows
        fast = ESTIMATORS[feature_set]().fit_transform(panel)
        a, b = fast.to_numpy(), out[fast.columns].to_numpy()
        both = np.isfinite(a) & np.isfinite(b)
        diff = np.abs(a - b)[both]
        result["max_abs_diff"] = float(diff.max()) if diff.size else 0.0
        # how much of the test tolerance |a - b| <= 1e-8 + 1e-6 |b| is used
        used = diff / (1e-8 + 1e-6 * np.abs(b[both]))
        result["tolerance_used"] = float(used.max()) if diff.size else 0.0
        result["nan_mismatches"] = int((np.isnan(a) != np.isnan(b)).sum())
        result["all_close"] = bool(
            np.isclose(a, b, rtol=1e-6, atol=1e-8, equal_nan=True).all()
        )
    return result


def run_variant(variant: str, feature_set: str, n_instruments: int | None) -> dict:
    cmd = [sys.executable, __file__, "--_worker", variant, feature_set]
    if n_instruments is not None:
        cmd += ["--instruments", str(n_instruments)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"{variant} {feature_set} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--instruments", type=int, default=None, help="subset (default: all 489)"
    )
    parser.add_argument(
        "--reference-instruments",
        type=int,
        default=None,
        help="time the reference on this many instruments and extrapolate",
    )
    parser.add_argument(
        "--features", nargs="+", choices=sorted(ESTIMATORS), default=sorted(ESTIMATORS)
    )
    parser.add_argument("--_worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args._worker:
        print(json.dumps(worker(*args._worker, args.instruments)))
        return

    n_ref = args.reference_instruments
    if n_ref is not None and args.instruments is not None:
        n_ref = min(n_ref, args.instruments)
    if n_ref is None:
        n_ref = args.instruments
    for feature_set in args.features:
        fast = run_variant("skquant", feature_set, args.instruments)
        ref = run_variant("reference", feature_set, n_ref)
        scale = fast["rows"] / ref["rows"]
        ref_wall, ref_cpu = ref["wall_s"] * scale, ref["cpu_s"] * scale
        extrapolated = ref["rows"] != fast["rows"]
        fast_extra = fast["peak_rss_mb"] - fast["base_rss_mb"]
        ref_extra = ref["peak_rss_mb"] - ref["base_rss_mb"]
        lines = [
            f"{feature_set}: {fast['rows']} rows x {fast['shape'][1]} columns, "
            f"{fast['instruments']} instruments",
            f"  skquant   {fast['wall_s']:8.2f} s wall {fast['cpu_s']:8.2f} s cpu   "
            f"peak RSS {fast['peak_rss_mb']:6.0f} MB (+{fast_extra:.0f} MB over the "
            f"{fast['base_rss_mb']:.0f} MB after imports and loading)",
            f"  reference {ref_wall:8.2f} s wall {ref_cpu:8.2f} s cpu   "
            f"peak RSS {ref['peak_rss_mb']:6.0f} MB (+{ref_extra:.0f} MB)",
        ]
        if extrapolated:
            lines.append(
                f"            reference timed on {ref['instruments']} instruments / "
                f"{ref['rows']} rows ({ref['wall_s']:.1f} s wall), extrapolated "
                f"x{scale:.2f} by rows; its memory is that of the subset"
            )
        lines += [
            f"  speed-up  {ref_wall / fast['wall_s']:8.1f} x wall "
            f"{ref_cpu / fast['cpu_s']:8.1f} x cpu",
            f"  values on the reference rows: max abs diff {ref['max_abs_diff']:.3g}; "
            f"largest share of the tolerance (1e-8 + 1e-6 |ref|) used "
            f"{ref['tolerance_used']:.2g}; NaN mismatches {ref['nan_mismatches']}; "
            f"all close: {ref['all_close']}",
        ]
        print("\n" + "\n".join(lines), flush=True)


if __name__ == "__main__":
    main()
