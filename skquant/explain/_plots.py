"""Figures of SHAP explanations: the usual summary, and contributions over time.

matplotlib and shap are imported when a function runs. Each function returns
the :class:`matplotlib.figure.Figure` (close it with ``plt.close(fig)``) and
saves it too when given a ``path``.
"""

from __future__ import annotations

import os

import numpy as np

from skquant.explain._shap import _import_shap, shap_by_date

__all__ = ["plot_by_date", "plot_summary"]


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError(
            "The skquant.explain plots need matplotlib; install it with "
            "pip install 'skquant[explain]'."
        ) from exc
    return plt


def _save(fig, path):
    if path is not None:
        fig.savefig(os.fspath(path), dpi=120, bbox_inches="tight")
    return fig


def plot_summary(
    explanation,
    *,
    kind: str = "beeswarm",
    max_display: int = 15,
    path: str | os.PathLike | None = None,
):
    """The summary plot: every row's SHAP value per feature, or their mean size.

    Parameters
    ----------
    explanation : shap.Explanation
        From :func:`~skquant.explain.explain` (one value per row and feature).
    kind : {"beeswarm", "bar"}, default="beeswarm"
        ``"beeswarm"``: one dot per row and feature, coloured by the feature's
        value (``shap.plots.beeswarm``). ``"bar"``: mean absolute SHAP value
        per feature (``shap.plots.bar``).
    max_display : int, default=15
        Features shown; the others are summed in one line.
    path : str or path-like, default=None
        Also save the figure there (format from the extension).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> import shap
    >>> from skquant.explain import plot_summary
    >>> rng = np.random.default_rng(0)
    >>> sv = shap.Explanation(rng.normal(size=(50, 3)), data=rng.normal(size=(50, 3)),
    ...                       feature_names=["mom", "rev", "vol"])
    >>> fig = plot_summary(sv, kind="bar")
    >>> fig.axes[0].get_xlabel()
    'mean(|SHAP value|)'
    """
    if kind not in ("beeswarm", "bar"):
        raise ValueError(f"kind must be 'beeswarm' or 'bar'; got {kind!r}.")
    values = np.asarray(explanation.values)
    if values.dtype == object or values.ndim != 2:
        raise ValueError(
            "plot_summary needs one SHAP value per row and feature; for token-level "
            "text explanations use shap.plots.text(explanation)."
        )
    shap = _import_shap()
    plt = _pyplot()
    shown = min(values.shape[1], max_display)
    fig, ax = plt.subplots(figsize=(8, 0.4 * shown + 1.5))
    if kind == "beeswarm":
        shap.plots.beeswarm(
            explanation, max_display=max_display, ax=ax, show=False, plot_size=None
        )
    else:
        shap.plots.bar(explanation, max_display=max_display, ax=ax, show=False)
    fig.tight_layout()
    return _save(fig, path)


def plot_by_date(
    explanation,
    dates=None,
    *,
    top: int = 8,
    statistic: str = "mean_abs",
    kind: str = "lines",
    rolling: int | None = None,
    path: str | os.PathLike | None = None,
):
    """Feature contributions over time: the per-date summary of the SHAP values.

    Parameters
    ----------
    explanation : shap.Explanation
        From :func:`~skquant.explain.explain` on a panel (or with ``dates``).
    dates : array-like of shape (n_samples,), default=None
        Row dates, when the explanation does not carry them.
    top : int, default=8
        Show the features with the largest overall mean absolute value.
    statistic : {"mean_abs", "mean"}, default="mean_abs"
        Mean absolute SHAP value of the date's cross-section (importance),
        or mean SHAP value (direction), as :func:`shap_by_date`.
    kind : {"lines", "heatmap"}, default="lines"
        One line per feature, or a features x dates heatmap.
    rolling : int, default=None
        Smooth the lines with a rolling mean over this many dates.
    path : str or path-like, default=None
        Also save the figure there.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> import shap
    >>> from skquant.explain import plot_by_date
    >>> rng = np.random.default_rng(0)
    >>> sv = shap.Explanation(rng.normal(size=(60, 3)), feature_names=["a", "b", "c"])
    >>> days = np.arange("2017-01-02", "2017-01-22", dtype="datetime64[D]")
    >>> dates = np.repeat(days, 3)  # 20 dates, 3 instruments
    >>> fig = plot_by_date(sv, dates, top=2)
    >>> len(fig.axes[0].get_lines())
    2
    """
    if kind not in ("lines", "heatmap"):
        raise ValueError(f"kind must be 'lines' or 'heatmap'; got {kind!r}.")
    frame = shap_by_date(explanation, dates, statistic=statistic)
    order = frame.abs().mean().sort_values(ascending=False).index[: max(int(top), 1)]
    frame = frame[order]
    plt = _pyplot()
    label = "mean |SHAP value|" if statistic == "mean_abs" else "mean SHAP value"
    if kind == "lines":
        if rolling:
            frame = frame.rolling(int(rolling), min_periods=1).mean()
        fig, ax = plt.subplots(figsize=(9, 4.5))
        for name in frame.columns:
            ax.plot(frame.index, frame[name].to_numpy(), label=str(name), lw=1.2)
        ax.set_ylabel(label)
        ax.set_xlabel("date")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
        ax.set_title("SHAP contributions by date")
        fig.autofmt_xdate()
    else:
        fig, ax = plt.subplots(figsize=(9, 0.35 * len(frame.columns) + 2))
        image = ax.imshow(
            frame.to_numpy().T,
            aspect="auto",
            cmap="viridis" if statistic == "mean_abs" else "coolwarm",
            interpolation="nearest",
        )
        ax.set_yticks(range(len(frame.columns)), [str(c) for c in frame.columns])
        ticks = np.linspace(0, len(frame) - 1, min(len(frame), 6)).astype(int)
        labels = [str(frame.index[i])[:10] for i in ticks]
        ax.set_xticks(ticks, labels, rotation=30, ha="right")
        fig.colorbar(image, ax=ax, label=label)
        ax.set_title("SHAP contributions by date")
    fig.tight_layout()
    return _save(fig, path)
