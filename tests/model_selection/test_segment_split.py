"""segment_split: Qlib-style named date segments."""

import numpy as np
import pandas as pd
import pytest

from skquant.model_selection import segment_split

SEGMENTS = {
    "train": ("2016-01-01", "2016-06-30"),
    "valid": ("2016-07-01", "2016-09-30"),
    "test": ("2016-10-01", "2016-12-31"),
}


def _dates(part):
    return part.index.get_level_values("datetime")


def test_keywords_and_mapping_agree(features, label):
    by_kw = segment_split(features, label, **SEGMENTS)
    by_map = segment_split(features, label, SEGMENTS)
    assert list(by_kw) == ["train", "valid", "test"]
    for name in SEGMENTS:
        X_kw, y_kw = by_kw[name]
        X_map, y_map = by_map[name]
        pd.testing.assert_frame_equal(X_kw, X_map)
        pd.testing.assert_series_equal(y_kw, y_map)
        assert X_kw.index.equals(y_kw.index)
        start, end = SEGMENTS[name]
        assert _dates(X_kw).min() >= pd.Timestamp(start)
        assert _dates(X_kw).max() <= pd.Timestamp(end)
    assert sum(len(X) for X, _ in by_kw.values()) == len(features)


def test_gap_drops_the_dates_whose_label_reaches_the_next_segment(features, label):
    plain = segment_split(features, **SEGMENTS)
    purged = segment_split(features, gap=2, **SEGMENTS)
    all_dates = np.sort(_dates(features).unique())
    for name, nxt in (("train", "valid"), ("valid", "test")):
        kept = np.sort(_dates(purged[name]).unique())
        first_next = _dates(plain[nxt]).min()
        # two trading dates dropped, and the label of the last kept date
        # (close(t+2)/close(t+1)) is realised before the next segment starts
        assert len(np.unique(_dates(plain[name]))) - len(kept) == 2
        last = np.searchsorted(all_dates, kept[-1])
        assert all_dates[last + 2] < first_next
    pd.testing.assert_frame_equal(purged["test"], plain["test"])  # last segment


def test_calendar_hole_between_segments_needs_no_purge(features):
    parts = segment_split(
        features,
        gap=2,
        train=("2016-01-01", "2016-03-31"),
        test=("2016-06-01", "2016-06-30"),
    )
    assert _dates(parts["train"]).max() == pd.Timestamp("2016-03-31")


def test_arrays_with_dates_and_indices(features, label):
    dates = _dates(features)
    parts = segment_split(
        features.to_numpy(), label.to_numpy(), dates=dates, **SEGMENTS
    )
    indices = segment_split(features, return_indices=True, **SEGMENTS)
    for name, (X_part, y_part) in parts.items():
        np.testing.assert_array_equal(X_part, features.to_numpy()[indices[name]])
        np.testing.assert_array_equal(y_part, label.to_numpy()[indices[name]])
    with pytest.raises(ValueError, match="dates are needed"):
        segment_split(features.to_numpy(), **SEGMENTS)


def test_open_ended_segments(features):
    parts = segment_split(
        features, train=(None, "2016-06-30"), test=("2016-07-01", None)
    )
    assert len(parts["train"]) + len(parts["test"]) == len(features)


def test_parts_are_independent_copies(features):
    parts = segment_split(features, **SEGMENTS)
    before = features.copy()
    parts["train"].iloc[:, 0] = 0.0
    pd.testing.assert_frame_equal(features, before)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({}, "No segment"),
        (
            {
                "train": ("2016-01-01", "2016-06-30"),
                "test": ("2016-06-01", "2016-12-31"),
            },
            "overlaps or precedes",
        ),
        (
            {
                "test": ("2016-07-01", "2016-12-31"),
                "train": ("2016-01-01", "2016-06-30"),
            },
            "overlaps or precedes",
        ),
        ({"train": ("2016-06-30", "2016-01-01")}, "starts after it ends"),
        ({"train": ("2018-01-01", "2018-12-31")}, "holds no date"),
        ({"train": "2016"}, r"\(start, end\) pair"),
    ],
)
def test_invalid_segments(features, kwargs, match):
    with pytest.raises(ValueError, match=match):
        segment_split(features, **kwargs)


def test_mapping_and_keywords_together_and_misaligned_y(features, label):
    with pytest.raises(ValueError, match="either"):
        segment_split(features, None, SEGMENTS, train=("2016-01-01", "2016-02-01"))
    with pytest.raises(ValueError, match="different indexes"):
        segment_split(features, label.sample(frac=1.0, random_state=0), **SEGMENTS)


def test_short_segment_warns_when_purged_away(features):
    with pytest.warns(UserWarning, match="shorter than gap"):
        parts = segment_split(
            features,
            gap=5,
            train=("2016-01-01", "2016-01-06"),
            test=("2016-01-07", "2016-12-31"),
        )
    assert len(parts["train"]) == 0
