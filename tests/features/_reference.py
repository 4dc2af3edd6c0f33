"""A deliberately slow, obviously correct reference for skquant.features.

Written straight from the formulas of Qlib's Alpha158/Alpha360 and label
(``/work/shared/reference/qlib.md`` sections 3.1-3.3), the plain pandas way:
one instrument at a time, on its calendar-aligned daily series (from its first
to its last row, a day without a row being NaN), one feature at a time, with
``rolling(N, min_periods=1)`` and ``rolling(...).apply`` for the operators
pandas has no method for. Used by the tests and by benchmarks/bench_features.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

EPS = 1e-12
STD_ATOL = 2e-05
WINDOWS = (5, 10, 20, 30, 60)


def instrument_series(panel: pd.DataFrame):
    """Yield ``(instrument, frame)``, each frame reindexed on the calendar."""
    calendar = panel.index.get_level_values("datetime").unique().sort_values()
    for instrument, frame in panel.groupby(level="instrument", sort=True):
        frame = frame.droplevel("instrument")
        span = calendar[
            (calendar >= frame.index.min()) & (calendar <= frame.index.max())
        ]
        yield instrument, frame.reindex(span)


def _per_instrument(panel: pd.DataFrame, compute) -> pd.DataFrame:
    """Run ``compute(frame)`` per instrument and return the panel's rows."""
    parts = {inst: compute(frame) for inst, frame in instrument_series(panel)}
    out = pd.concat(parts, names=["instrument", "datetime"])
    out = out.swaplevel().sort_index()
    return out.reindex(panel.sort_index().index)


def _roll(s: pd.Series, d: int):
    return s.rolling(d, min_periods=1)


def _ols(a: np.ndarray):
    """OLS of the valid values of a window on their positions 1..len(a)."""
    pos = np.arange(1.0, len(a) + 1)
    ok = ~np.isnan(a)
    x, y = pos[ok], a[ok]
    if len(y) < 2:
        return np.nan, np.nan, np.nan
    xc, yc = x - x.mean(), y - y.mean()
    sxy, sxx, syy = (xc * yc).sum(), (xc * xc).sum(), (yc * yc).sum()
    slope = sxy / sxx
    intercept = y.mean() - slope * x.mean()
    resi = a[-1] - (slope * pos[-1] + intercept)  # NaN if today is missing
    with np.errstate(divide="ignore", invalid="ignore"):
        rsquare = sxy * sxy / (sxx * syy)
    return slope, rsquare, resi


def slope(s, d):
    return _roll(s, d).apply(lambda a: _ols(a)[0], raw=True)


def rsquare(s, d):
    r2 = _roll(s, d).apply(lambda a: _ols(a)[1], raw=True)
    return r2.mask(np.isclose(_roll(s, d).std(), 0, atol=STD_ATOL))


def resi(s, d):
    return _roll(s, d).apply(lambda a: _ols(a)[2], raw=True)


def idxmax(s, d):
    # 1-based position from the oldest day of the window; missing days skipped
    return _roll(s, d).apply(lambda a: np.nanargmax(a) + 1, raw=True)


def idxmin(s, d):
    return _roll(s, d).apply(lambda a: np.nanargmin(a) + 1, raw=True)


def corr(a, b, d):
    r = _roll(a, d).corr(b)
    flat = np.isclose(_roll(a, d).std(), 0, atol=STD_ATOL) | np.isclose(
        _roll(b, d).std(), 0, atol=STD_ATOL
    )
    return r.mask(flat)


def _alpha158_one(f: pd.DataFrame, windows) -> pd.DataFrame:
    o, h, lo, c, v, w = (
        f[k] for k in ("open", "high", "low", "close", "volume", "vwap")
    )
    feats = {
        "KMID": (c - o) / o,
        "KLEN": (h - lo) / o,
        "KMID2": (c - o) / (h - lo + EPS),
        "KUP": (h - np.maximum(o, c)) / o,
        "KUP2": (h - np.maximum(o, c)) / (h - lo + EPS),
        "KLOW": (np.minimum(o, c) - lo) / o,
        "KLOW2": (np.minimum(o, c) - lo) / (h - lo + EPS),
        "KSFT": (2 * c - h - lo) / o,
        "KSFT2": (2 * c - h - lo) / (h - lo + EPS),
        "OPEN0": o / c,
        "HIGH0": h / c,
        "LOW0": lo / c,
        "VWAP0": w / c,
    }
    c1, v1 = c.shift(1), v.shift(1)
    up, down = np.maximum(c - c1, 0), np.maximum(c1 - c, 0)
    vup, vdown = np.maximum(v - v1, 0), np.maximum(v1 - v, 0)
    rise, fall = (c > c1).astype(float), (c < c1).astype(float)
    wv = np.abs(c / c1 - 1) * v
    rolling = {}
    for d in windows:
        r = rolling.setdefault
        r("ROC", {})[d] = c.shift(d) / c
        r("MA", {})[d] = _roll(c, d).mean() / c
        r("STD", {})[d] = _roll(c, d).std() / c
        r("BETA", {})[d] = slope(c, d) / c
        r("RSQR", {})[d] = rsquare(c, d)
        r("RESI", {})[d] = resi(c, d) / c
        r("MAX", {})[d] = _roll(h, d).max() / c
        r("MIN", {})[d] = _roll(lo, d).min() / c
        r("QTLU", {})[d] = _roll(c, d).quantile(0.8) / c
        r("QTLD", {})[d] = _roll(c, d).quantile(0.2) / c
        r("RANK", {})[d] = _roll(c, d).rank(pct=True)
        r("RSV", {})[d] = (c - _roll(lo, d).min()) / (
            _roll(h, d).max() - _roll(lo, d).min() + EPS
        )
        r("IMAX", {})[d] = idxmax(h, d) / d
        r("IMIN", {})[d] = idxmin(lo, d) / d
        r("IMXD", {})[d] = (idxmax(h, d) - idxmin(lo, d)) / d
        r("CORR", {})[d] = corr(c, np.log(v + 1), d)
        r("CORD", {})[d] = corr(c / c1, np.log(v / v1 + 1), d)
        r("CNTP", {})[d] = _roll(rise, d).mean()
        r("CNTN", {})[d] = _roll(fall, d).mean()
        r("CNTD", {})[d] = _roll(rise, d).mean() - _roll(fall, d).mean()
        absum = _roll(np.abs(c - c1), d).sum() + EPS
        r("SUMP", {})[d] = _roll(up, d).sum() / absum
        r("SUMN", {})[d] = _roll(down, d).sum() / absum
        r("SUMD", {})[d] = (_roll(up, d).sum() - _roll(down, d).sum()) / absum
        r("VMA", {})[d] = _roll(v, d).mean() / (v + EPS)
        r("VSTD", {})[d] = _roll(v, d).std() / (v + EPS)
        r("WVMA", {})[d] = _roll(wv, d).std() / (_roll(wv, d).mean() + EPS)
        vabsum = _roll(np.abs(v - v1), d).sum() + EPS
        r("VSUMP", {})[d] = _roll(vup, d).sum() / vabsum
        r("VSUMN", {})[d] = _roll(vdown, d).sum() / vabsum
        r("VSUMD", {})[d] = (_roll(vup, d).sum() - _roll(vdown, d).sum()) / vabsum
    for prefix, by_window in rolling.items():
        for d, values in by_window.items():
            feats[f"{prefix}{d}"] = values
    return pd.DataFrame(feats)


def alpha158(panel: pd.DataFrame, windows=WINDOWS) -> pd.DataFrame:
    """Alpha158 of every panel row (columns in the order built here)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return _per_instrument(panel, lambda f: _alpha158_one(f, windows))


def _alpha360_one(f: pd.DataFrame, window: int) -> pd.DataFrame:
    c, v = f["close"], f["volume"]
    feats = {}
    for field in ("close", "open", "high", "low", "vwap"):
        for i in range(window - 1, -1, -1):
            feats[f"{field.upper()}{i}"] = f[field].shift(i) / c
    for i in range(window - 1, -1, -1):
        feats[f"VOLUME{i}"] = v.shift(i) / (v + EPS)
    return pd.DataFrame(feats)


def alpha360(panel: pd.DataFrame, window: int = 60) -> pd.DataFrame:
    """Alpha360 of every panel row."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return _per_instrument(panel, lambda f: _alpha360_one(f, window))


def forward_return(panel: pd.DataFrame, horizon: int = 1, price: str = "close"):
    """``Ref(price, -(horizon+1)) / Ref(price, -1) - 1`` per instrument."""

    def one(f):
        p = f[price]
        return (p.shift(-(horizon + 1)) / p.shift(-1) - 1).to_frame("LABEL0")

    return _per_instrument(panel, one)["LABEL0"]
