"""Tests of skquant.features on real slices of the bundled S&P 500 panel."""

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.impute import SimpleImputer
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline
from sklearn.tree import DecisionTreeRegressor

from skquant.datasets import load_sp500
from skquant.features import ALPHA158_SELECTED_20, Alpha158, Alpha360, forward_return

_spec = importlib.util.spec_from_file_location(
    "skquant_tests_features_reference", Path(__file__).with_name("_reference.py")
)
reference = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(reference)

RTOL, ATOL = 1e-6, 1e-8
# HPE lists on 2015-10-19 and KHC on 2015-07-06; UA misses 5 days and has 3
# zero-volume days, ESS misses 2015-08-25, HCN has a zero-volume day.
INSTRUMENTS = ["AAPL", "ESS", "HCN", "HPE", "KHC", "MSFT", "UA", "XOM"]
START, END = "2015-08-03", "2016-03-31"

# Qlib's column order, written out from qlib.md section 3.1 / 3.3.
KBAR = ["KMID", "KLEN", "KMID2", "KUP", "KUP2", "KLOW", "KLOW2", "KSFT", "KSFT2"]
PRICE = ["OPEN0", "HIGH0", "LOW0", "VWAP0"]
ROLLING = [
    "ROC", "MA", "STD", "BETA", "RSQR", "RESI", "MAX", "MIN", "QTLU", "QTLD",
    "RANK", "RSV", "IMAX", "IMIN", "IMXD", "CORR", "CORD", "CNTP", "CNTN", "CNTD",
    "SUMP", "SUMN", "SUMD", "VMA", "VSTD", "WVMA", "VSUMP", "VSUMN", "VSUMD",
]  # fmt: skip
ALPHA158_NAMES = (
    KBAR + PRICE + [f"{p}{d}" for p in ROLLING for d in (5, 10, 20, 30, 60)]
)
ALPHA360_NAMES = [
    f"{field}{i}"
    for field in ("CLOSE", "OPEN", "HIGH", "LOW", "VWAP", "VOLUME")
    for i in range(59, -1, -1)
]
SELECTED_20_FILTERCOL_ORDER = [
    "KLEN", "KLOW", "ROC60", "STD5", "RSQR5", "RSQR10", "RSQR20", "RSQR60",
    "RESI5", "RESI10", "CORR5", "CORR10", "CORR20", "CORR60", "CORD5", "CORD10",
    "CORD60", "VSTD5", "WVMA5", "WVMA60",
]  # fmt: skip
SELECTED_20_CONFIG_ORDER = [
    "RESI5", "WVMA5", "RSQR5", "KLEN", "RSQR10", "CORR5", "CORD5", "CORR10",
    "ROC60", "RESI10", "VSTD5", "RSQR60", "CORR60", "WVMA60", "STD5", "RSQR20",
    "CORD60", "CORD10", "CORR20", "KLOW",
]  # fmt: skip


@pytest.fixture(scope="module")
def panel():
    return load_sp500(instruments=INSTRUMENTS, start=START, end=END)


@pytest.fixture(scope="module")
def alpha158(panel):
    return Alpha158().fit_transform(panel)


@pytest.fixture(scope="module")
def alpha360(panel):
    return Alpha360().fit_transform(panel)


def assert_same_values(actual: pd.DataFrame, expected: pd.DataFrame):
    """Same index, same NaN positions, values within RTOL/ATOL, column by column."""
    assert actual.index.equals(expected.index)
    expected = expected[actual.columns]
    a, b = actual.to_numpy(), expected.to_numpy()
    nan_differs = (np.isnan(a) != np.isnan(b)).sum(axis=0)
    far = (~np.isclose(a, b, rtol=RTOL, atol=ATOL, equal_nan=True)).sum(axis=0)
    bad = {
        name: (int(n), int(f))
        for name, n, f in zip(actual.columns, nan_differs, far, strict=True)
        if n or f
    }
    assert not bad, f"(NaN mismatches, values off) per column: {bad}"


def test_panel_slice_has_the_awkward_cases(panel):
    close = panel["close"].unstack()
    assert close["HPE"].first_valid_index() == pd.Timestamp("2015-10-19")
    assert close["UA"].loc["2015-09-01":].isna().sum() >= 4  # missing days
    assert (panel["volume"] == 0).any()
    assert len(close) > 150


def test_column_names_and_order():
    assert len(ALPHA158_NAMES) == 158 and len(ALPHA360_NAMES) == 360
    assert list(Alpha158().get_feature_names_out()) == ALPHA158_NAMES
    assert list(Alpha360().get_feature_names_out()) == ALPHA360_NAMES
    assert list(ALPHA158_SELECTED_20) == SELECTED_20_FILTERCOL_ORDER
    # FilterCol keeps Alpha158's order whatever the order of the list
    selected = Alpha158(features=SELECTED_20_CONFIG_ORDER).get_feature_names_out()
    assert list(selected) == SELECTED_20_FILTERCOL_ORDER
    custom = Alpha158(windows=(3, 7)).get_feature_names_out()
    assert len(custom) == 13 + 29 * 2
    assert list(custom[13:17]) == ["ROC3", "ROC7", "MA3", "MA7"]


def test_alpha158_matches_reference(panel, alpha158):
    assert list(alpha158.columns) == ALPHA158_NAMES
    assert (alpha158.dtypes == np.float64).all()
    assert alpha158.index.equals(panel.index)
    assert_same_values(alpha158, reference.alpha158(panel))
    # the comparison is not vacuous: every column has values
    assert alpha158.notna().sum().min() > 400


def test_alpha360_matches_reference(panel, alpha360):
    assert list(alpha360.columns) == ALPHA360_NAMES
    assert (alpha360.dtypes == np.float64).all()
    assert_same_values(alpha360, reference.alpha360(panel))
    assert alpha360.notna().sum().min() > 400


def test_other_windows_match_reference(panel):
    small = panel.loc[(slice(None, "2015-12-31"), ["HPE", "UA", "AAPL"]), :]
    out = Alpha158(windows=(3, 7)).fit_transform(small)
    assert_same_values(out, reference.alpha158(small, windows=(3, 7)))
    out = Alpha360(window=4).fit_transform(small)
    assert out.shape[1] == 24
    assert_same_values(out, reference.alpha360(small, window=4))


def test_features_subset_equals_full_columns(panel, alpha158):
    out = Alpha158(features=SELECTED_20_CONFIG_ORDER).fit_transform(panel)
    pd.testing.assert_frame_equal(out, alpha158[SELECTED_20_FILTERCOL_ORDER])
    # volume and vwap are not needed by these two
    out = Alpha158(features=["ROC5", "MAX10"]).fit_transform(
        panel.drop(columns=["volume", "vwap"])
    )
    pd.testing.assert_frame_equal(out, alpha158[["ROC5", "MAX10"]])


def test_late_listing_and_missing_days(panel, alpha158):
    hpe = alpha158.xs("HPE", level="instrument")
    first = hpe.iloc[0]  # the listing day: one-day windows, Qlib style
    assert first["MA5"] == pytest.approx(1.0)
    assert first["IMAX5"] == pytest.approx(1 / 5)  # position 1 of a 1-day window
    assert np.isnan(first["ROC5"]) and np.isnan(first["STD5"])
    assert np.isnan(first["BETA5"]) and np.isnan(first["CORR5"])
    assert hpe["ROC5"].iloc[:5].isna().all() and hpe["ROC5"].iloc[5:].notna().all()
    # CNTP on day 2 is a mean over the 2 days of its history, not over 5
    assert hpe["CNTP5"].iloc[1] in (0.0, 0.5)
    # UA misses 2015-11-09, which is Ref(close, 5) of 2015-11-16
    ua = alpha158.xs("UA", level="instrument")
    assert pd.Timestamp("2015-11-09") not in ua.index
    assert np.isnan(ua.loc["2015-11-16", "ROC5"])
    assert ua[["ROC5"]].loc["2015-11-10":"2015-11-13"].notna().all().all()
    # the window of 11-10 holds 11-04..11-06, the missing 11-09 and 11-10 itself;
    # the last two count as "not up" (Qlib's NaN > x is False) and as days
    ua_close = panel.xs("UA", level="instrument")["close"]
    rises = ua_close.loc[:"2015-11-06"].diff().iloc[-3:].gt(0).sum()
    assert ua.loc["2015-11-10", "CNTP5"] == pytest.approx(rises / 5)


def test_no_look_ahead(panel, alpha158, alpha360):
    cut = pd.Timestamp("2015-12-15")
    later = panel.index.get_level_values("datetime") > cut
    rng = np.random.default_rng(0)
    shaken = panel.copy()
    for col in ("open", "high", "low", "close", "volume", "vwap"):
        factor = rng.uniform(0.5, 1.5, size=later.sum())
        shaken.loc[later, col] = shaken.loc[later, col] * factor
    past = (slice(None, cut), slice(None))
    for est, full in ((Alpha158(), alpha158), (Alpha360(), alpha360)):
        out = est.fit_transform(shaken)
        pd.testing.assert_frame_equal(out.loc[past], full.loc[past], check_exact=True)
        assert not out.loc[later].equals(full.loc[later])
        # and a panel that ends at the cut gives the same past rows
        ended = est.fit_transform(panel.loc[past])
        pd.testing.assert_frame_equal(ended, full.loc[past], check_exact=True)
    # the label does look ahead: that is what makes it the target
    label, shaken_label = forward_return(panel), forward_return(shaken)
    on_cut = label.index.get_level_values("datetime") == cut
    assert (label[on_cut] != shaken_label[on_cut]).all()
    before = label.index.get_level_values("datetime") < cut - pd.Timedelta(days=7)
    pd.testing.assert_series_equal(label[before], shaken_label[before])


def test_unsorted_input_and_no_mutation(panel, alpha158):
    shuffled = panel.sample(frac=1.0, random_state=0)
    shuffled["extra"] = "text column, ignored"
    before = shuffled.copy()
    for est in (Alpha158(), Alpha360(window=5)):
        out = est.fit_transform(shuffled)
        assert out.index.equals(panel.index)
        pd.testing.assert_frame_equal(out, est.transform(panel), check_exact=True)
    pd.testing.assert_frame_equal(shuffled, before)
    label = forward_return(shuffled)
    assert label.index.equals(panel.index)
    pd.testing.assert_frame_equal(shuffled, before)
    features = list(SELECTED_20_CONFIG_ORDER)
    est = Alpha158(features=features, windows=[5, 10, 20, 30, 60])
    est.fit_transform(panel)
    assert features == SELECTED_20_CONFIG_ORDER
    assert est.windows == [5, 10, 20, 30, 60]


def test_input_errors(panel):
    with pytest.raises(ValueError, match=r"\['vwap'\]"):
        Alpha158().fit(panel.drop(columns="vwap"))
    with pytest.raises(ValueError, match="volume"):
        Alpha360().transform(panel.drop(columns=["volume"]))
    with pytest.raises(ValueError, match="MultiIndex"):
        Alpha158().fit_transform(panel.reset_index())
    with pytest.raises(TypeError, match="DataFrame"):
        Alpha158().fit_transform(panel.to_numpy())
    with pytest.raises(TypeError, match="Series"):
        Alpha158().fit_transform(panel["close"])
    duplicated = pd.concat([panel, panel.iloc[:1]])
    for call in (Alpha158().fit, Alpha360().transform, forward_return):
        with pytest.raises(ValueError, match="duplicated"):
            call(duplicated)
    with pytest.raises(ValueError, match="close"):
        forward_return(panel.drop(columns="close"))


@pytest.mark.parametrize(
    "est, match",
    [
        (Alpha158(windows=()), "windows"),
        (Alpha158(windows=5), "windows"),
        (Alpha158(windows=(5, 0)), "windows"),
        (Alpha158(windows=(5, 5)), "repeat"),
        (Alpha158(windows=(2.5,)), "windows"),
        (Alpha158(features=["ROC7"]), "ROC7"),
        (Alpha158(features="ROC5"), "sequence"),
        (Alpha360(window=0), "window"),
    ],
)
def test_parameter_errors(panel, est, match):
    with pytest.raises(ValueError, match=match):
        est.fit(panel)


def test_sklearn_api(panel, alpha158):
    est = Alpha158()
    assert est.__sklearn_tags__().requires_fit is False
    assert est.__sklearn_tags__().input_tags.allow_nan is True
    pd.testing.assert_frame_equal(est.transform(panel), alpha158)  # no fit needed
    est.fit(panel)
    assert est.n_features_in_ == panel.shape[1]
    assert list(est.feature_names_in_) == list(panel.columns)
    assert clone(est).get_params() == {"windows": (5, 10, 20, 30, 60), "features": None}
    for config in ("pandas", "default"):
        out = Alpha360(window=3).set_output(transform=config).fit_transform(panel)
        assert isinstance(out, pd.DataFrame) and out.index.equals(panel.index)
        assert list(out.columns) == list(Alpha360(window=3).get_feature_names_out())


def test_in_a_pipeline(panel):
    label = forward_return(panel)
    keep = label.notna().to_numpy()
    # raw features keep NaN (and huge ratios on zero-volume days): a tree model
    # takes them as they are
    model = DecisionTreeRegressor(max_depth=3, random_state=0)
    pipe = make_pipeline(Alpha158(features=ALPHA158_SELECTED_20), model)
    pipe.fit(panel[keep], label[keep])
    pred = pipe.predict(panel)
    assert pred.shape == (len(panel),) and np.isfinite(pred).all()
    assert list(pipe[:-1].get_feature_names_out()) == SELECTED_20_FILTERCOL_ORDER
    # and with an imputer before a linear model
    pipe = make_pipeline(Alpha158(features=["ROC5", "MA5"]), SimpleImputer(), Ridge())
    assert np.isfinite(pipe.fit(panel[keep], label[keep]).predict(panel)).all()


def test_empty_panel(panel):
    empty = panel.iloc[:0]
    assert Alpha158().fit_transform(empty).shape == (0, 158)
    assert Alpha360().fit_transform(empty).shape == (0, 360)
    assert len(forward_return(empty)) == 0


def test_forward_return_direct(panel):
    close = panel["close"].unstack()  # all panel dates x instruments
    for horizon in (1, 5):
        expected = (close.shift(-(horizon + 1)) / close.shift(-1) - 1).stack()
        expected = expected.reindex(panel.index)
        got = forward_return(panel, horizon=horizon)
        assert got.name == "LABEL0" and got.index.equals(panel.index)
        np.testing.assert_allclose(got, expected, rtol=1e-15, atol=0)
        pd.testing.assert_series_equal(got, reference.forward_return(panel, horizon))
    vwap = forward_return(panel, price="vwap")
    pd.testing.assert_series_equal(vwap, reference.forward_return(panel, 1, "vwap"))
    # close t+2 over close t+1, by hand, for one row
    aapl = panel.xs("AAPL", level="instrument")["close"]
    t = aapl.index[10]
    assert forward_return(panel).loc[(t, "AAPL")] == pytest.approx(
        aapl.iloc[12] / aapl.iloc[11] - 1, rel=1e-14
    )
    # NaN at the end of each history and around missing days
    last = forward_return(panel).groupby(level="instrument").tail(2)
    assert last.isna().all()
    assert np.isnan(forward_return(panel).loc[("2015-11-06", "UA")])  # 11-09 missing
    with pytest.raises(ValueError, match="horizon"):
        forward_return(panel, horizon=0)
