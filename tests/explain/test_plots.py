"""skquant.explain plots: the summary and the per-date contributions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from skquant.datasets import load_sp500
from skquant.explain import explain, plot_by_date, plot_summary
from skquant.features import Alpha158, forward_return
from skquant.gbdt import LightGBMRegressor
from skquant.preprocessing import drop_missing_label

pytest.importorskip("shap")
matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
plt = pytest.importorskip("matplotlib.pyplot")


@pytest.fixture(scope="module")
def explanation():
    panel = load_sp500(start="2016-09-01", end="2017-01-31")
    keep = sorted(panel.index.get_level_values("instrument").unique())[:15]
    panel = panel[panel.index.get_level_values("instrument").isin(keep)]
    X = Alpha158().fit_transform(panel)[["ROC5", "ROC20", "STD20", "MA5", "KMID"]]
    X, y = drop_missing_label(X, forward_return(panel))
    with threadpool_limits(1, user_api="openmp"):
        model = LightGBMRegressor(n_estimators=20, n_jobs=1).fit(X, y)
        return explain(model, X.loc["2016-12-01":])


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize("kind", ["beeswarm", "bar"])
def test_summary_plot(explanation, kind, tmp_path):
    path = tmp_path / f"summary_{kind}.png"
    fig = plot_summary(explanation, kind=kind, max_display=4, path=path)
    assert isinstance(fig, matplotlib.figure.Figure)
    assert path.stat().st_size > 1000
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert any("ROC" in label or "STD" in label for label in labels)


@pytest.mark.parametrize("kind", ["lines", "heatmap"])
def test_contributions_by_date(explanation, kind, tmp_path):
    path = tmp_path / f"by_date_{kind}.svg"
    fig = plot_by_date(explanation, top=3, kind=kind, rolling=5, path=path)
    ax = fig.axes[0]
    assert ax.get_title() == "SHAP contributions by date"
    if kind == "lines":
        assert len(ax.get_lines()) == 3
        assert len(ax.get_lines()[0].get_xdata()) == explanation.shape[0] // 15
    else:
        assert len(ax.get_yticklabels()) == 3
    assert path.read_text().startswith("<?xml")


def test_signed_contributions_and_errors(explanation):
    fig = plot_by_date(explanation, statistic="mean", top=2)
    assert fig.axes[0].get_ylabel() == "mean SHAP value"
    with pytest.raises(ValueError, match="kind"):
        plot_summary(explanation, kind="violin")
    with pytest.raises(ValueError, match="kind"):
        plot_by_date(explanation, kind="area")
    with pytest.raises(ValueError, match="statistic"):
        plot_by_date(explanation, statistic="median")
    import shap

    text_like = shap.Explanation(
        np.array([np.zeros(3), np.zeros(2)], dtype=object), feature_names=None
    )
    with pytest.raises(ValueError, match="shap.plots.text"):
        plot_summary(text_like)
    dates = pd.to_datetime(["2017-01-03"] * 2)
    with pytest.raises(ValueError, match="token-level"):
        plot_by_date(text_like, dates)
