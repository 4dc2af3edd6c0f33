"""SequenceWindower: values, no look-ahead, padding, API."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from skquant.features import SequenceWindower


@pytest.fixture(scope="module")
def panel():
    """3 features, instruments listed at different dates and with gaps."""
    rng = np.random.default_rng(0)
    dates = pd.bdate_range("2020-01-01", periods=30)
    rows = []
    for inst, start in (("A", 0), ("B", 4), ("C", 11)):
        for i, d in enumerate(dates[start:]):
            if inst == "B" and i % 5 == 3:
                continue  # B has no row on some days (suspensions)
            rows.append((d, inst))
    index = pd.MultiIndex.from_tuples(rows, names=["datetime", "instrument"])
    frame = pd.DataFrame(
        rng.normal(size=(len(index), 3)), index=index, columns=["f", "g", "h"]
    )
    return frame.sort_index()


def slow_windows(panel, step_len, padding):
    """The obvious per-instrument loop."""
    out = {}
    for _, group in panel.groupby(level="instrument", sort=False):
        values = group.to_numpy()
        for i, key in enumerate(group.index):
            window = []
            for j in range(i - step_len + 1, i + 1):
                if j >= 0:
                    window.append(values[j])
                elif padding == "repeat":
                    window.append(values[0])
                elif padding == "nan":
                    window.append(np.full(values.shape[1], np.nan))
                else:
                    window.append(np.zeros(values.shape[1]))
            out[key] = np.asarray(window).T.ravel()  # feature-major
    return np.vstack([out[key] for key in panel.index])


@pytest.mark.parametrize("padding", ["repeat", "nan", "zero"])
@pytest.mark.parametrize("step_len", [1, 5, 20])
def test_values_match_a_slow_loop(panel, step_len, padding):
    out = SequenceWindower(step_len=step_len, padding=padding).fit_transform(panel)
    assert out.shape == (len(panel), 3 * step_len)
    assert out.index.equals(panel.index)
    expected = slow_windows(panel, step_len, padding)
    np.testing.assert_array_equal(out.to_numpy(), expected)


def test_no_look_ahead(panel):
    cut = panel.index.get_level_values("datetime").unique()[15]
    windower = SequenceWindower(step_len=10)
    before = windower.fit_transform(panel)
    future = panel.copy()
    late = future.index.get_level_values("datetime") > cut
    future.loc[late] = 1e6
    after = windower.transform(future)
    past = ~late
    pd.testing.assert_frame_equal(before[past], after[past])
    assert not np.allclose(before[late], after[late])


def test_padding_is_as_documented(panel):
    first = panel.xs("C", level="instrument").iloc[0].to_numpy()
    key = (panel.xs("C", level="instrument").index[0], "C")
    for padding, fill in (("repeat", first), ("nan", np.nan), ("zero", 0.0)):
        row = SequenceWindower(step_len=4, padding=padding).fit_transform(panel)
        values = row.loc[key].to_numpy().reshape(3, 4)  # (feature, day)
        np.testing.assert_array_equal(values[:, -1], first)  # today
        expected = np.broadcast_to(np.asarray(fill).reshape(-1, 1), (3, 3))
        np.testing.assert_array_equal(values[:, :3], expected)


def test_unsorted_input_and_names(panel):
    shuffled = panel.sample(frac=1.0, random_state=0)
    windower = SequenceWindower(step_len=3).fit(shuffled)
    out = windower.transform(shuffled)
    expected = SequenceWindower(step_len=3).fit_transform(panel)
    pd.testing.assert_frame_equal(out, expected)
    assert list(windower.get_feature_names_out()) == [
        f"{f}_lag{k}" for f in "fgh" for k in (2, 1, 0)
    ]
    assert list(windower.feature_names_in_) == ["f", "g", "h"]


def test_set_output_and_dtype(panel):
    windower = SequenceWindower(step_len=2).set_output(transform="pandas")
    out = windower.fit_transform(panel.astype(np.float32))
    assert isinstance(out, pd.DataFrame) and out.index.equals(panel.index)
    assert (out.dtypes == np.float32).all()
    assert list(out.columns) == list(windower.get_feature_names_out())


def test_layout_feeds_the_sequence_models(panel):
    torch = pytest.importorskip("torch")
    from skquant.nn._modules._layout import to_sequence

    out = SequenceWindower(step_len=4).fit_transform(panel)
    seq = to_sequence(torch.as_tensor(out.to_numpy().copy()), 3).numpy()
    np.testing.assert_array_equal(seq[:, -1, :], panel.to_numpy())  # last = today


def test_errors(panel):
    with pytest.raises(TypeError, match="needs a panel"):
        SequenceWindower().fit(panel.to_numpy())
    windower = SequenceWindower(step_len=3).fit(panel)
    with pytest.raises(ValueError, match="feature names"):
        windower.transform(panel.rename(columns={"f": "z"}))
    with pytest.raises(ValueError, match="datetime"):
        SequenceWindower().fit(panel.reset_index(level="instrument"))
    text = panel.assign(f="x")
    with pytest.raises(ValueError):
        SequenceWindower().fit(text)
