"""Patient timelines held in flat arrays: the input container of skmed2vec."""

import datetime as _dt
import numbers
import re

import numpy as np
import pandas as pd

__all__ = ["Timelines", "as_timelines", "events_to_timelines"]

_DAY_SECONDS = 86400.0
_TIME_KINDS = ("datetime", "days")


class Timelines:
    """Patient timelines, one sample per patient, held in flat arrays.

    Events of all patients are stored back to back, sorted by
    ``(patient, time, code)``; ``offsets[i]:offsets[i + 1]`` are patient
    ``i``'s events. Indexing with an integer array, a boolean mask or a slice
    returns a new :class:`Timelines` with those patients, which is how
    scikit-learn's cross-validation splits it.

    Build one with :func:`as_timelines` (from sequences of ``(time, code)``
    pairs) or :func:`events_to_timelines` (from a long event table), rather
    than with the constructor.

    Parameters
    ----------
    codes : ndarray of shape (n_events,)
        Code strings, or integer indices into ``code_names`` for encoded
        timelines.
    times : ndarray of shape (n_events,)
        Event times as float days (since 1970-01-01 for dates).
    offsets : ndarray of shape (n_patients + 1,)
        Start of each patient's events; ``offsets[-1] == n_events``.
    prediction_times : ndarray of shape (n_patients,), default=None
        Per-patient prediction time in the same unit as ``times``; NaN (the
        default) means "after the last event". Events later than it are
        ignored when features are built.
    index : pandas.Index, default=None
        Labels of the patients, used as the index of pandas output.
    code_names : ndarray of str, default=None
        For encoded timelines, the code of each integer index.
    time_kind : {"datetime", "days"}, default="days"
        Whether times came from dates or from plain numbers of days.
    presorted : bool, default=False
        Skip sorting when events are already ordered within each patient.

    Attributes
    ----------
    n_events : int
        Total number of events.
    lengths : ndarray of shape (n_patients,)
        Number of events per patient.

    Examples
    --------
    >>> from skmed2vec import as_timelines
    >>> X = as_timelines([[(0, "E11.9"), (3, "I10")], [(1, "J45")]])
    >>> len(X), X.n_events
    (2, 3)
    >>> X[[1]].to_list()
    [[(1.0, 'J45')]]
    """

    def __init__(
        self,
        codes,
        times,
        offsets,
        *,
        prediction_times=None,
        index=None,
        code_names=None,
        time_kind="days",
        presorted=False,
    ):
        offsets = np.asarray(offsets, dtype=np.int64)
        times = np.asarray(times, dtype=np.float64)
        codes = np.asarray(codes)
        if offsets.ndim != 1 or offsets.size == 0 or offsets[0] != 0:
            raise ValueError("offsets must be a 1-D array starting at 0.")
        if np.any(np.diff(offsets) < 0) or offsets[-1] != len(codes):
            raise ValueError(
                "offsets must be non-decreasing and end at the number of events "
                f"({len(codes)}); got last offset {offsets[-1]}."
            )
        if len(times) != len(codes):
            raise ValueError(
                f"codes and times must have the same length; got {len(codes)} "
                f"codes and {len(times)} times."
            )
        if time_kind not in _TIME_KINDS:
            raise ValueError(f"time_kind must be one of {_TIME_KINDS}; got {time_kind!r}.")
        n = len(offsets) - 1
        if prediction_times is None:
            prediction_times = np.full(n, np.nan)
        prediction_times = np.asarray(prediction_times, dtype=np.float64)
        if prediction_times.shape != (n,):
            raise ValueError(
                f"prediction_times must have one value per patient ({n}); "
                f"got shape {prediction_times.shape}."
            )
        if index is not None:
            index = pd.Index(index)
            if len(index) != n:
                raise ValueError(f"index must have {n} labels; got {len(index)}.")
        if code_names is not None:
            code_names = np.asarray(code_names, dtype=str)
            codes = codes.astype(np.int64, copy=False)
            if codes.size and (codes.min() < 0 or codes.max() >= len(code_names)):
                raise ValueError("encoded codes must index into code_names.")
        if not presorted and len(codes):
            patient = np.repeat(np.arange(n), np.diff(offsets))
            order = np.lexsort((codes, times, patient))
            codes, times = codes[order], times[order]
        self.codes = codes
        self.times = times
        self.offsets = offsets
        self.prediction_times = prediction_times
        self.index = index
        self.code_names = code_names
        self.time_kind = time_kind

    # -- sizes -------------------------------------------------------------
    def __len__(self):
        return len(self.offsets) - 1

    @property
    def shape(self):
        """Tuple ``(n_patients,)``; lets scikit-learn index it like an array."""
        return (len(self),)

    @property
    def n_events(self):
        return int(self.offsets[-1])

    @property
    def lengths(self):
        return np.diff(self.offsets)

    @property
    def is_encoded(self):
        """Whether codes are integer indices into ``code_names``."""
        return self.code_names is not None

    def patient_ids(self):
        """Position of each event's patient, shape (n_events,)."""
        return np.repeat(np.arange(len(self)), self.lengths)

    # -- selection -----------------------------------------------------------
    def __getitem__(self, key):
        if isinstance(key, tuple):  # scikit-learn indexes arrays as X[rows, ...]
            if len(key) != 2 or key[1] is not Ellipsis:
                raise IndexError("Timelines are indexed by patient only.")
            key = key[0]
        if isinstance(key, numbers.Integral):
            return self.take([key]).to_list()[0]
        if isinstance(key, slice):
            key = np.arange(len(self))[key]
        key = np.asarray(key)
        if key.dtype == bool:
            if key.shape != (len(self),):
                raise IndexError(f"boolean mask has shape {key.shape}; expected ({len(self)},).")
            key = np.flatnonzero(key)
        return self.take(key)

    def take(self, indices):
        """Return the timelines of the patients at ``indices``."""
        indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        n = len(self)
        if indices.size and (indices.min() < -n or indices.max() >= n):
            raise IndexError(f"patient index out of range for {n} timelines.")
        indices = indices % n if n else indices
        starts = self.offsets[:-1][indices]
        lengths = self.lengths[indices]
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        events = np.repeat(starts - offsets[:-1], lengths) + np.arange(offsets[-1])
        return self._replace(
            codes=self.codes[events],
            times=self.times[events],
            offsets=offsets,
            prediction_times=self.prediction_times[indices],
            index=None if self.index is None else self.index[indices],
        )

    def select_events(self, mask):
        """Return the timelines keeping only the events where ``mask`` is true."""
        mask = np.asarray(mask, dtype=bool)
        kept = np.concatenate([[0], np.cumsum(mask)])
        return self._replace(
            codes=self.codes[mask], times=self.times[mask], offsets=kept[self.offsets]
        )

    def before_prediction(self):
        """Mask of the events not after their patient's prediction time.

        Returns None when no event is late, so callers can skip the copy.
        """
        if np.isnan(self.prediction_times).all():
            return None
        limit = np.repeat(self.prediction_times, self.lengths)
        on_time = ~(self.times > limit)  # NaN limits compare False: nothing is late
        return None if on_time.all() else on_time

    def up_to_prediction(self):
        """Return the timelines without the events after each prediction time."""
        on_time = self.before_prediction()
        return self if on_time is None else self.select_events(on_time)

    def _replace(self, **changes):
        fields = dict(
            codes=self.codes,
            times=self.times,
            offsets=self.offsets,
            prediction_times=self.prediction_times,
            index=self.index,
            code_names=self.code_names,
            time_kind=self.time_kind,
        )
        fields.update(changes)
        return Timelines(presorted=True, **fields)

    # -- views ---------------------------------------------------------------
    def decoded_codes(self):
        """Code strings of all events (decoding integer indices if encoded)."""
        return self.code_names[self.codes] if self.is_encoded else self.codes

    def to_list(self):
        """Timelines as lists of ``(time, code)`` pairs (times as stored)."""
        codes = self.decoded_codes().tolist()
        times = self.times.tolist()
        return [
            list(zip(times[a:b], codes[a:b]))
            for a, b in zip(self.offsets[:-1].tolist(), self.offsets[1:].tolist())
        ]

    def __iter__(self):
        return iter(self.to_list())

    def __repr__(self):
        kind = "encoded" if self.is_encoded else "raw"
        return f"Timelines(n_patients={len(self)}, n_events={self.n_events}, {kind})"


# -- conversion ----------------------------------------------------------------
def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _times_to_days(values, what="times"):
    """Convert an object array of times to float days and report their kind."""
    values = np.asarray(values, dtype=object)
    if values.size == 0:
        return np.zeros(0), None
    numeric = np.fromiter((_is_number(v) for v in values), bool, len(values))
    if numeric.all():
        days = values.astype(np.float64)
        bad = ~np.isfinite(days)
        if bad.any():
            raise ValueError(
                f"{what} must be finite; got {values[bad][0]!r}. Remove events "
                "without a time or give them one."
            )
        return days, "days"
    if numeric.any():
        raise ValueError(
            f"{what} mix numbers (days) and dates, e.g. {values[numeric][0]!r} and "
            f"{values[~numeric][0]!r}; use one kind for the whole dataset."
        )
    bad_type = [
        v
        for v in values
        if not isinstance(v, (str, _dt.date, np.datetime64))
        and v is not None
        and not (isinstance(v, float) and np.isnan(v))
        and v is not pd.NaT
    ]
    if bad_type:
        raise TypeError(
            f"{what} must be dates, datetimes, ISO date strings or numbers of days; "
            f"got {bad_type[0]!r} of type {type(bad_type[0]).__name__}."
        )
    try:
        parsed = pd.to_datetime(values, format="ISO8601")
    except ValueError as exc:
        if not any(word in str(exc).lower() for word in ("tz", "timezone", "utc")):
            raise _parse_error(exc, what) from None
        parsed = None  # different UTC offsets, or aware and naive values mixed
    except (TypeError, OverflowError) as exc:
        raise _parse_error(exc, what) from None
    if parsed is None:
        parsed = _parse_aware(values, what)
    if parsed.tz is not None:
        parsed = parsed.tz_convert("UTC").tz_localize(None)
    missing = np.asarray(parsed.isna())
    if missing.any():
        raise ValueError(
            f"{what} must not be missing; got {values[missing][0]!r}. Remove events "
            "without a time or give them one."
        )
    seconds = parsed.to_numpy().astype("datetime64[s]").astype(np.int64)
    return seconds / _DAY_SECONDS, "datetime"


def _parse_error(exc, what):
    reason = str(exc).splitlines()[0].replace(" You might want to try:", "")
    return ValueError(
        f"could not parse {what}: {reason.rstrip('. ')}. Use dates, datetimes or ISO "
        "strings such as '2020-01-31'."
    )


# An ISO 8601 date and time with a UTC offset: "2020-03-29T02:30+02:00", "...Z".
_AWARE_STRING = re.compile(
    r"^\s*\d{4}-?\d{2}-?\d{2}[T ]\d{2}(:?\d{2}(:?\d{2}([.,]\d+)?)?)?\s*"
    r"(Z|[+-]\d{2}(:?\d{2})?)\s*$",
    re.IGNORECASE,
)


def _parse_aware(values, what):
    """Parse timezone-aware times with different UTC offsets (e.g. either side of
    a daylight saving change) as UTC; refuse a mix of aware and naive times,
    which have no common clock."""
    aware = np.zeros(len(values), dtype=bool)
    naive = np.zeros(len(values), dtype=bool)
    for i, v in enumerate(values):
        if v is None or v is pd.NaT or (isinstance(v, float) and np.isnan(v)):
            continue
        if isinstance(v, str):
            aware[i] = _AWARE_STRING.match(v) is not None
        elif isinstance(v, _dt.datetime):
            aware[i] = v.tzinfo is not None
        elif isinstance(v, np.datetime64) and np.isnat(v):
            continue
        naive[i] = not aware[i]
    if naive.any():
        example = f", e.g. {values[aware][0]!r} and {values[naive][0]!r}" if aware.any() else ""
        raise ValueError(
            f"{what} mix timezone-aware and naive values{example}; make them all "
            "aware or all naive."
        )
    try:
        return pd.to_datetime(values, format="ISO8601", utc=True)
    except (ValueError, TypeError, OverflowError) as exc:
        raise _parse_error(exc, what) from None


def _clean_codes(values):
    """Codes as stripped strings; integers become strings, other types raise."""
    codes = pd.Series(np.asarray(values, dtype=object), dtype=object)
    types = codes.map(type)
    is_int = types.map(lambda t: issubclass(t, numbers.Integral) and t is not bool)
    is_str = types.map(lambda t: issubclass(t, str))
    bad = ~(is_int | is_str)
    if bad.any():
        value = codes[bad].iloc[0]
        raise TypeError(
            "codes must be strings (integers are turned into strings); got "
            f"{value!r} of type {type(value).__name__}. Remove events without a code."
        )
    codes[is_int] = codes[is_int].map(str)
    codes = codes.str.strip()
    empty = codes.str.len() == 0
    if empty.any():
        raise ValueError("codes must not be empty strings (after stripping whitespace).")
    return codes.to_numpy(dtype=object)


def _check_sequence(X):
    if isinstance(X, (str, bytes)):
        raise TypeError(
            "X must be a sequence of patient timelines, not a single string; "
            "wrap one patient's events as [[(time, code), ...]]."
        )
    if X is None or isinstance(X, numbers.Number):
        raise TypeError(f"X must be a sequence of patient timelines; got {type(X).__name__}.")
    if isinstance(X, np.ndarray) and (X.ndim != 1 or X.dtype != object):
        raise TypeError(
            "X must be a sequence of patient timelines (each a sequence of "
            f"(time, code) pairs), not a {X.ndim}-D {X.dtype} array."
        )
    if isinstance(X, pd.DataFrame):
        raise TypeError(
            "X is a DataFrame; turn a long event table into timelines with "
            "skmed2vec.events_to_timelines(events)."
        )
    if not hasattr(X, "__len__") or not hasattr(X, "__iter__"):
        raise TypeError(f"X must be a sequence of patient timelines; got {type(X).__name__}.")


def as_timelines(X, *, prediction_times=None):
    """Convert patient timelines to a :class:`Timelines` container.

    Parameters
    ----------
    X : sequence of timelines, pandas.Series of timelines, or Timelines
        One timeline per patient; a timeline is a sequence of ``(time, code)``
        pairs in any order. Times are dates, datetimes, pandas Timestamps,
        ``np.datetime64``, ISO date strings, or numbers of days (one kind for the
        whole dataset; timezone-aware values are converted to UTC). Codes are
        strings; integers are turned into strings and surrounding whitespace is
        stripped. A Series' index labels the patients in pandas output.
    prediction_times : sequence, default=None
        One prediction time per patient (same kind as the event times; None or
        NaN for "after the last event"). Events after a patient's prediction
        time are ignored when features are built. Ignored if ``X`` is already a
        :class:`Timelines`, which carries its own.

    Returns
    -------
    Timelines
        The timelines in flat arrays, events sorted by time then code.

    Raises
    ------
    TypeError
        If ``X`` is not a sequence of timelines, or a time or code has an
        unusable type.
    ValueError
        If an event is not a ``(time, code)`` pair, or a time or code is missing
        or cannot be parsed.

    Examples
    --------
    >>> from skmed2vec import as_timelines
    >>> X = as_timelines(
    ...     [[("2020-01-05", "I10"), ("2020-01-01", "E11.9")], []],
    ...     prediction_times=["2020-01-03", None],
    ... )
    >>> X.to_list()[0][0][1], X.lengths.tolist()
    ('E11.9', [2, 0])
    """
    if isinstance(X, Timelines):
        return X
    _check_sequence(X)
    index = None
    if isinstance(X, pd.Series):
        index = X.index
        X = X.tolist()
    lengths = np.zeros(len(X), dtype=np.int64)
    times, codes = [], []
    for i, timeline in enumerate(X):
        if isinstance(timeline, (str, bytes)) or not hasattr(timeline, "__iter__"):
            raise TypeError(
                f"timeline {i} must be a sequence of (time, code) pairs; got "
                f"{type(timeline).__name__}."
            )
        n_before = len(times)
        for event in timeline:
            if isinstance(event, (str, bytes)) or not (
                hasattr(event, "__len__") and len(event) == 2
            ):
                raise ValueError(
                    f"timeline {i}: every event must be a (time, code) pair; got {event!r}."
                )
            times.append(event[0])
            codes.append(event[1])
        lengths[i] = len(times) - n_before
    days, kind = _times_to_days(times)
    pred = _prediction_times(prediction_times, len(lengths), kind)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    return Timelines(
        _clean_codes(codes),
        days,
        offsets,
        prediction_times=pred,
        index=index,
        time_kind=kind or "days",
    )


def _prediction_times(prediction_times, n, kind):
    if prediction_times is None:
        return None
    values = np.asarray(prediction_times, dtype=object).reshape(-1)
    if len(values) != n:
        raise ValueError(
            f"prediction_times must have one value per patient ({n}); got {len(values)}."
        )
    missing = np.array(
        [v is None or v is pd.NaT or (_is_number(v) and np.isnan(v)) for v in values], dtype=bool
    )
    days = np.full(n, np.nan)
    if (~missing).any():
        parsed, pred_kind = _times_to_days(values[~missing], what="prediction_times")
        if kind is not None and pred_kind != kind:
            raise ValueError(
                f"prediction_times are {pred_kind} but event times are {kind}; "
                "use the same kind for both."
            )
        days[~missing] = parsed
    return days


def events_to_timelines(
    events,
    *,
    subject_col="subject_id",
    time_col="time",
    code_col="code",
    prediction_times=None,
):
    """Build timelines from a long event table (one row per event).

    Parameters
    ----------
    events : pandas.DataFrame
        One row per event. The default column names are MEDS's.
    subject_col, time_col, code_col : str
        Names of the patient, time and code columns.
    prediction_times : mapping or pandas.Series, default=None
        Prediction time per subject id; subjects without one use all their
        events.

    Returns
    -------
    X : Timelines
        One timeline per subject, in the order of ``subject_ids``.
    subject_ids : ndarray
        The subject id of each timeline, sorted; use it to align labels.

    Examples
    --------
    >>> import pandas as pd
    >>> from skmed2vec import events_to_timelines
    >>> events = pd.DataFrame({"subject_id": [7, 3, 7],
    ...                        "time": ["2020-01-02", "2021-05-01", "2020-01-01"],
    ...                        "code": ["I10", "J45", "E11.9"]})
    >>> X, ids = events_to_timelines(events)
    >>> ids.tolist(), X.lengths.tolist()
    ([3, 7], [1, 2])
    """
    if not isinstance(events, pd.DataFrame):
        raise TypeError(f"events must be a pandas DataFrame; got {type(events).__name__}.")
    missing = [c for c in (subject_col, time_col, code_col) if c not in events.columns]
    if missing:
        raise ValueError(
            f"events has no column {missing[0]!r}; its columns are "
            f"{list(events.columns)}. Pass subject_col, time_col and code_col."
        )
    subjects = events[subject_col]
    if subjects.isna().any():
        raise ValueError(f"column {subject_col!r} has missing subject ids.")
    patient, subject_ids = pd.factorize(subjects.to_numpy(), sort=True)
    times = events[time_col]
    if pd.api.types.is_datetime64_any_dtype(times):
        if times.isna().any():
            raise ValueError(f"column {time_col!r} has missing times.")
        if getattr(times.dt, "tz", None) is not None:
            times = times.dt.tz_convert("UTC").dt.tz_localize(None)
        days = times.to_numpy().astype("datetime64[s]").astype(np.int64) / _DAY_SECONDS
        kind = "datetime"
    elif pd.api.types.is_numeric_dtype(times) and not pd.api.types.is_bool_dtype(times):
        days = times.to_numpy(dtype=np.float64)
        if not np.isfinite(days).all():
            raise ValueError(f"column {time_col!r} has missing or infinite times.")
        kind = "days"
    else:
        days, kind = _times_to_days(times.to_numpy(dtype=object))
    codes = _clean_codes(events[code_col].to_numpy(dtype=object))
    counts = np.bincount(patient, minlength=len(subject_ids))
    order = np.lexsort((codes, days, patient))
    offsets = np.concatenate([[0], np.cumsum(counts)])
    pred = None
    if prediction_times is not None:
        lookup = pd.Series(prediction_times)
        pred = _prediction_times(
            lookup.reindex(subject_ids).astype(object).to_numpy(), len(subject_ids), kind
        )
    X = Timelines(
        codes[order],
        days[order],
        offsets,
        prediction_times=pred,
        time_kind=kind or "days",
        presorted=True,
    )
    return X, subject_ids
