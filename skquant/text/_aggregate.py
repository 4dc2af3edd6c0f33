"""Many texts per day and instrument to one panel row, without look-ahead."""

from __future__ import annotations

import datetime as dt
from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from skquant._panel import PANEL_LEVELS, is_panel

__all__ = ["DailyTextAggregator"]


def _parse_cutoff(cutoff) -> pd.Timedelta | None:
    if cutoff is None:
        return None
    if isinstance(cutoff, dt.time):
        cutoff = cutoff.isoformat()
    parts = str(cutoff).split(":")
    try:
        if len(parts) not in (2, 3):
            raise ValueError
        h, m, s = (float(p) for p in [*parts, "0"][:3])
    except ValueError:
        raise ValueError(
            f"cutoff must be a time of day such as '16:00' or '09:30:00', or None; "
            f"got {cutoff!r}"
        ) from None
    delta = pd.Timedelta(hours=h, minutes=m, seconds=s)
    if not pd.Timedelta(0) <= delta < pd.Timedelta(days=1):
        raise ValueError(f"cutoff must lie within one day; got {cutoff!r}")
    return delta


class DailyTextAggregator(TransformerMixin, BaseEstimator):
    """Turn per-text features into one row per (trading day, instrument).

    News and tweets come many per day and stock, at any hour, on any day.
    This transformer takes a frame of per-text numeric features (embeddings
    from :class:`~skquant.text.SentenceEmbedder`, probabilities from
    :class:`~skquant.text.SentimentFeatures`, ...) with a timestamp and an
    instrument per text, and returns a panel indexed by ``(datetime,
    instrument)`` with the aggregated features and the number of texts,
    ready to ``join`` with a price panel.

    **No look-ahead.** A text only affects the features of the trading day on
    which it is known at the close, or later:

    1. Timestamps are converted to ``timezone`` (naive ones are taken to be in
       it already).
    2. A text published at or after ``cutoff`` (default 16:00, the US close)
       counts for the next calendar day.
    3. That day rolls forward to the next trading day of ``calendar``
       (weekends, holidays), then ``lag`` more trading days.

    Parameters
    ----------
    calendar : panel, DatetimeIndex or array-like of dates, default=None
        The trading days, usually the price panel itself (its dates are
        used). ``None`` uses Monday-to-Friday business days, which ignores
        exchange holidays.
    cutoff : str, datetime.time or None, default="16:00"
        Time of day (in ``timezone``) from which a text counts for the next
        day. ``None`` uses the calendar date of the timestamp as is: right
        for data that are stamped with dates only *and* known before the
        close; if you are unsure, set ``lag=1``.
    timezone : str or None, default="America/New_York"
        Where ``cutoff`` applies. ``None`` keeps timestamps' own wall-clock
        times.
    lag : int, default=0
        Extra trading days of delay, for example ``1`` to use only texts known
        before the previous close.
    agg : {"mean", "sum", "max", "min"}, default="mean"
        How the features of one day's texts are combined (NaN are skipped).
    count_column : str or None, default="n_texts"
        Name of the output column with the number of texts; ``None`` leaves it
        out.
    datetime_column, instrument_column : str, default="datetime", "instrument"
        Where the timestamps and instruments are: columns of ``X``, or levels
        of its index. Every other column is a feature and must be numeric.

    Attributes
    ----------
    feature_names_in_ : ndarray of str
        The feature columns aggregated.
    n_features_in_ : int
        Their number.
    calendar_ : DatetimeIndex or None
        Sorted trading days, or None for business days.

    See Also
    --------
    SentenceEmbedder : Per-text embeddings to aggregate.

    Notes
    -----
    The output has one row per (trading day, instrument) that has texts, and
    is not a row-for-row transformer: use it to build features before the
    model, ``prices.join(daily)``, then fill the days without texts (for
    example ``n_texts`` with 0). Texts whose day falls after the calendar's
    last day are dropped; texts before its first day count for its first day.

    Examples
    --------
    >>> import pandas as pd
    >>> from skquant.text import DailyTextAggregator
    >>> texts = pd.DataFrame({
    ...     "datetime": pd.to_datetime(["2024-03-01 09:00", "2024-03-01 17:30",
    ...                                 "2024-03-02 12:00", "2024-03-04 10:00"]),
    ...     "instrument": "AAPL",
    ...     "bullish": [1.0, 0.0, 0.5, 1.0]})
    >>> DailyTextAggregator().fit_transform(texts)  # Fri, Fri after close, Sat, Mon
                         bullish  n_texts
    datetime   instrument
    2024-03-01 AAPL         1.00        1
    2024-03-04 AAPL         0.50        3
    """

    _parameter_constraints: dict = {
        "calendar": ["array-like", None],
        "cutoff": [str, dt.time, None],
        "timezone": [str, None],
        "lag": [Interval(Integral, 0, None, closed="left")],
        "agg": [StrOptions({"mean", "sum", "max", "min"})],
        "count_column": [str, None],
        "datetime_column": [str],
        "instrument_column": [str],
    }

    def __init__(
        self,
        *,
        calendar=None,
        cutoff: str | dt.time | None = "16:00",
        timezone: str | None = "America/New_York",
        lag: int = 0,
        agg: str = "mean",
        count_column: str | None = "n_texts",
        datetime_column: str = "datetime",
        instrument_column: str = "instrument",
    ) -> None:
        self.calendar = calendar
        self.cutoff = cutoff
        self.timezone = timezone
        self.lag = lag
        self.agg = agg
        self.count_column = count_column
        self.datetime_column = datetime_column
        self.instrument_column = instrument_column

    def _split(
        self, X, check_features: bool = True
    ) -> tuple[pd.Series, np.ndarray, pd.DataFrame]:
        if not isinstance(X, pd.DataFrame):
            raise TypeError(
                "DailyTextAggregator expects a pandas DataFrame with a "
                f"{self.datetime_column!r} and an {self.instrument_column!r} "
                f"column (or index level); got {type(X).__name__}"
            )
        frame = X
        wanted = (self.datetime_column, self.instrument_column)
        in_index = [n for n in wanted if n in (frame.index.names or [])]
        if in_index:
            frame = frame.reset_index(level=in_index)
        missing = [n for n in wanted if n not in frame.columns]
        if missing:
            raise ValueError(
                f"DailyTextAggregator needs columns or index levels {list(wanted)}; "
                f"{missing} not found among {list(frame.columns)[:10]}"
            )
        features = frame.drop(columns=list(wanted))
        bad = [
            c
            for c in features.columns
            if check_features
            and (
                not pd.api.types.is_numeric_dtype(features[c])
                or pd.api.types.is_complex_dtype(features[c])
            )
        ]
        if bad:
            raise ValueError(
                f"feature columns must be numeric; {bad[:5]} are not. Embed text "
                "first (SentenceEmbedder, SentimentFeatures) and pass the result."
            )
        times = pd.Series(pd.to_datetime(frame[self.datetime_column]))
        instruments = frame[self.instrument_column].to_numpy()
        return times, instruments, features

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the input and settings, and store the calendar.

        Parameters
        ----------
        X : pandas.DataFrame
            Per-text rows with timestamp, instrument and numeric features.
        y : None
            Ignored.

        Returns
        -------
        self : DailyTextAggregator
        """
        _parse_cutoff(self.cutoff)
        if self.timezone is not None:
            pd.Timestamp("2000-01-01").tz_localize(self.timezone)  # validates
        if self.count_column in (self.datetime_column, self.instrument_column):
            raise ValueError("count_column must differ from the index columns")
        _, _, features = self._split(X)
        if self.count_column is not None and self.count_column in features.columns:
            raise ValueError(
                f"count_column={self.count_column!r} clashes with a feature column"
            )
        self.feature_names_in_ = np.asarray(features.columns, dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        if self.calendar is None:
            self.calendar_ = None
        else:
            cal = self.calendar
            if is_panel(cal):
                cal = cal.index.get_level_values(PANEL_LEVELS[0])
            cal = pd.DatetimeIndex(pd.to_datetime(np.asarray(cal).ravel()))
            if cal.tz is not None:
                cal = cal.tz_localize(None)
            cal = cal.normalize().unique().sort_values()
            if len(cal) == 0:
                raise ValueError("calendar is empty")
            self.calendar_ = cal
        return self

    def _trading_days(self, times: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        """Effective trading day of each text, and which texts are kept."""
        if times.dt.tz is not None:
            local = times.dt.tz_convert(self.timezone) if self.timezone else times
            local = local.dt.tz_localize(None)
        else:
            local = times
        day = local.dt.normalize()
        cutoff = _parse_cutoff(self.cutoff)
        if cutoff is not None:
            day = day + pd.to_timedelta((local - day >= cutoff).astype(int), unit="D")
        ok = day.notna().to_numpy()
        day = pd.DatetimeIndex(day[ok])
        if self.calendar_ is None:
            start = day.min() if len(day) else pd.Timestamp("2000-01-03")
            end = day.max() if len(day) else start
            cal = pd.bdate_range(start, end + pd.Timedelta(days=7 + 2 * self.lag))
        else:
            cal = self.calendar_
        pos = cal.searchsorted(day, side="left") + self.lag
        inside = pos < len(cal)
        kept = np.flatnonzero(ok)[inside]
        return np.asarray(cal[pos[inside]]), kept

    def trading_days(self, X) -> pd.Series:
        """The trading day each row of ``X`` counts for.

        Useful to align raw texts yourself (for example, to join each day's
        headlines into one text per stock before embedding them).

        Parameters
        ----------
        X : pandas.DataFrame
            Rows with the timestamp and instrument columns (or index levels);
            other columns are ignored here.

        Returns
        -------
        pandas.Series of datetime64
            Aligned with the rows of ``X`` (same index); ``NaT`` for rows
            dropped because their day falls after the calendar's end.
        """
        check_is_fitted(self)
        times, _, _ = self._split(X, check_features=False)
        days, kept = self._trading_days(times)
        out = np.full(len(times), np.datetime64("NaT"), dtype="datetime64[ns]")
        out[kept] = days
        return pd.Series(out, index=X.index, name=PANEL_LEVELS[0])

    def transform(self, X) -> pd.DataFrame:
        """Aggregate the texts per trading day and instrument.

        Parameters
        ----------
        X : pandas.DataFrame
            Per-text rows with the columns seen in ``fit``.

        Returns
        -------
        pandas.DataFrame
            Indexed by ``(datetime, instrument)``, sorted; float64 feature
            columns aggregated with ``agg``, then ``count_column`` (int64).
        """
        check_is_fitted(self)
        times, instruments, features = self._split(X)
        if list(features.columns) != list(self.feature_names_in_):
            raise ValueError(
                "X has feature columns "
                f"{list(features.columns)[:5]}... but DailyTextAggregator was "
                f"fitted with {list(self.feature_names_in_)[:5]}..."
            )
        days, kept = self._trading_days(times)
        index = pd.MultiIndex.from_arrays(
            [pd.DatetimeIndex(days, name=PANEL_LEVELS[0]), instruments[kept]],
            names=list(PANEL_LEVELS),
        )
        values = features.iloc[kept].astype(np.float64).set_axis(index, axis=0)
        grouped = values.groupby(level=list(PANEL_LEVELS), sort=True)
        out = (
            grouped.agg(self.agg)
            if self.n_features_in_
            else pd.DataFrame(index=grouped.size().index)
        )
        if self.count_column is not None:
            out[self.count_column] = grouped.size().astype(np.int64)
        return out

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Output columns: the features, then ``count_column``.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Ignored.

        Returns
        -------
        numpy.ndarray of str
        """
        check_is_fitted(self)
        names = list(self.feature_names_in_)
        if self.count_column is not None:
            names.append(self.count_column)
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.transformer_tags.preserves_dtype = []
        return tags
