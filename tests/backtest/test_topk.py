"""The top-k dropout backtest against a slow, obviously-correct loop."""

import math

import numpy as np
import pandas as pd
import pytest

from skquant.backtest import risk_analysis, topk_dropout_backtest
from skquant.datasets import load_sp500


@pytest.fixture(scope="module")
def panel():
    names = load_sp500(start="2016-06-01", end="2016-06-01").index.get_level_values(
        "instrument"
    )[:80]
    return load_sp500(instruments=names, start="2016-06-01", end="2016-12-31")


def _slow_backtest(
    scores, close, topk, n_drop, buy_cost, sell_cost, min_cost, risk_degree, cash
):
    """Day by day with dicts and Python sorting, straight from Qlib's rules."""
    dates = sorted(close.index.get_level_values("datetime").unique())
    px = {d: close.xs(d, level="datetime").to_dict() for d in dates}
    sc = {
        d: s.droplevel("datetime").dropna().to_dict()
        for d, s in scores.groupby(level="datetime")
    }
    first_scored = min(sc)
    holdings, account, out = {}, cash, []
    for prev, day in zip(dates[:-1], dates[1:], strict=True):
        if day <= first_scored:
            continue
        for name in holdings:
            if name in px[day] and name in px[prev]:
                holdings[name] *= px[day][name] / px[prev][name]
        signal = sc.get(prev, {})

        def key(name, signal=signal):
            return signal.get(name, -math.inf)

        held = sorted(holdings)
        candidates = sorted(
            (n for n in px[day] if n not in holdings and n in signal),
            key=key,
            reverse=True,
        )
        new = candidates[: max(n_drop + topk - len(held), 0)]
        combined = sorted(held + new, key=lambda n: -key(n))
        bottom = combined[len(combined) - n_drop :] if n_drop else []
        sell = [n for n in held if n in bottom and n in px[day]]
        buy = new[: len(sell) + topk - len(held)]
        cost = traded = 0.0
        for name in sell:
            fee = max(holdings[name] * sell_cost, min_cost)
            cash += holdings[name] - fee
            cost += fee
            traded += holdings[name]
            del holdings[name]
        if buy:
            amount = cash * risk_degree / len(buy)
            for name in buy:
                fee = max(amount * buy_cost, min_cost)
                holdings[name] = amount
                cash -= amount + fee
                cost += fee
                traded += amount
        value = cash + sum(holdings.values())
        out.append(
            (
                day,
                value,
                (value - account + cost) / account,
                cost / account,
                traded / account,
                len(holdings),
            )
        )
        account = value
    return pd.DataFrame(
        out,
        columns=[
            "datetime",
            "account_value",
            "return",
            "cost",
            "turnover",
            "n_holdings",
        ],
    ).set_index("datetime")


@pytest.mark.parametrize(
    "topk,n_drop,min_cost", [(10, 2, 0.0), (25, 5, 5.0), (5, 0, 0.0)]
)
def test_matches_slow_loop_on_real_predictions(panel, topk, n_drop, min_cost):
    rng = np.random.default_rng(topk)
    close = panel["close"]
    momentum = close.groupby(level="instrument").pct_change(10)
    scores = momentum + rng.normal(scale=0.01, size=len(momentum))
    scores = scores[scores.index.get_level_values("datetime") >= "2016-07-01"]
    fast = topk_dropout_backtest(
        scores, panel, topk=topk, n_drop=n_drop, min_cost=min_cost, initial_cash=1e6
    )
    slow = _slow_backtest(
        scores, close, topk, n_drop, 0.0005, 0.0015, min_cost, 0.95, 1e6
    )
    cols = ["account_value", "return", "cost", "turnover", "n_holdings"]
    pd.testing.assert_frame_equal(
        fast.report[cols], slow[cols], check_dtype=False, rtol=1e-10
    )
    assert (fast.report["n_holdings"].iloc[1:] == topk).all()


def test_trades_on_the_previous_days_signal(panel):
    close = panel["close"]
    by_name = close.groupby(level="instrument")
    # Qlib's label at t is the return close t+1 -> close t+2: exactly what a
    # position bought at close t+1 on the signal of t earns. A clairvoyant.
    label = by_name.shift(-2) / by_name.shift(-1) - 1
    perfect = topk_dropout_backtest(
        label.dropna(), panel, topk=10, n_drop=10, buy_cost=0, sell_cost=0
    )
    # One day off (the move the position can no longer catch): no edge.
    too_late = by_name.shift(-1) / close - 1
    late = topk_dropout_backtest(
        too_late.dropna(), panel, topk=10, n_drop=10, buy_cost=0, sell_cost=0
    )
    perfect_excess = perfect.excess_return(with_cost=False).iloc[1:]
    assert perfect_excess.mean() > 0.01  # beats the market every day
    assert (perfect_excess > 0).mean() > 0.95
    assert late.excess_return(with_cost=False).mean() < perfect_excess.mean() / 5


def test_random_signal_earns_nothing_but_costs(panel):
    rng = np.random.default_rng(0)
    noise = pd.Series(rng.normal(size=len(panel)), index=panel.index)
    result = topk_dropout_backtest(noise, panel, topk=20, n_drop=5)
    without = result.excess_return(with_cost=False)
    with_cost = result.excess_return(with_cost=True)
    assert abs(without.mean()) < 3 * without.std() / np.sqrt(len(without))
    np.testing.assert_allclose(without - with_cost, result.report["cost"])
    assert (result.report["cost"] > 0).all()


def test_costs_only_on_flat_prices():
    dates = pd.bdate_range("2020-01-01", periods=6)
    names = [f"S{i}" for i in range(6)]
    idx = pd.MultiIndex.from_product([dates, names], names=["datetime", "instrument"])
    flat = pd.Series(10.0, index=idx)
    rng = np.random.default_rng(1)
    scores = pd.Series(rng.normal(size=len(idx)), index=idx)
    result = topk_dropout_backtest(scores, flat, topk=3, n_drop=1, initial_cash=1000)
    report = result.report
    np.testing.assert_allclose(report["bench"], 0.0)
    np.testing.assert_allclose(report["return"], 0.0, atol=1e-12)  # gross of costs
    # the first day buys 3 x 950/3 and pays 0.05%
    assert report["cost"].iloc[0] == pytest.approx(950 * 0.0005 / 1000)
    value = 1000 * np.cumprod(1 - report["cost"].to_numpy())
    np.testing.assert_allclose(report["account_value"], value)


def test_bad_parameters(panel):
    scores = panel["close"]
    with pytest.raises(ValueError, match="n_drop"):
        topk_dropout_backtest(scores, panel, topk=3, n_drop=4)
    with pytest.raises(ValueError, match="topk"):
        topk_dropout_backtest(scores, panel, topk=0)
    with pytest.raises(ValueError, match="close"):
        topk_dropout_backtest(scores, panel[["open"]])
    with pytest.raises(ValueError, match="2-level MultiIndex"):
        topk_dropout_backtest(scores.reset_index(drop=True), panel)


def test_risk_analysis_conventions():
    r = pd.Series([0.01, -0.02, 0.03, -0.01, 0.005])
    qlib = risk_analysis(r)
    assert qlib["annualized_return"] == pytest.approx(r.mean() * 238)
    assert qlib["information_ratio"] == pytest.approx(r.mean() / r.std() * np.sqrt(238))
    assert qlib["max_drawdown"] == pytest.approx(-0.02)
    compounded = risk_analysis(r, periods_per_year=252, mode="product")
    growth = float(np.prod(1 + r))
    assert compounded["annualized_return"] == pytest.approx(
        growth ** (252 / len(r)) - 1
    )
    curve = np.concatenate([[1.0], np.cumprod(1 + r)])
    assert compounded["max_drawdown"] == pytest.approx(
        (curve / np.maximum.accumulate(curve) - 1).min()
    )
    first_day_loss = risk_analysis(pd.Series([-0.03, 0.01]))
    assert first_day_loss["max_drawdown"] == pytest.approx(-0.03)
