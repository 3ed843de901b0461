"""Building Timelines: from sequences of (time, code) pairs or from a long event table."""

import logging
import numbers
from itertools import chain
from operator import itemgetter

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import StrOptions, validate_params

from ._timelines import AT_PREDICTION_TIME, Timelines
from ._times import (
    AWARE,
    DAY_SECONDS,
    column_to_days,
    days_to_datetimes,
    is_missing,
    missing_mask,
    place,
    public_kind,
    times_to_days,
)

__all__ = ["as_timelines", "events_to_timelines"]

logger = logging.getLogger(__name__)

#: What ``events_to_timelines`` does with rows without a time (MEDS static rows).
STATIC_EVENTS = ("first", "drop", "error")
# Static rows go this long (one second, in days) before a prediction time that
# precedes the subject's first timed event, so they are before every prediction time.
_STATIC_LEAD = 1.0 / DAY_SECONDS
_PREDICTION_COL = "prediction_time"


# -- codes ---------------------------------------------------------------------------
def _clean_codes(values, where=None):
    """Codes as stripped strings; integers become strings, other types raise.

    For 3.1M events of 50,000 codes given as strings, cleaning the distinct
    codes once took 1 s where the per-event pass took 21 s.
    """
    values = np.asarray(values, dtype=object)
    if values.size and set(map(type, values)) == {str}:
        # Only strings: clean each distinct code once (the per-event pass below
        # runs only to name the place of an empty code).
        inverse, distinct = pd.factorize(values)
        stripped = np.asarray([code.strip() for code in distinct], dtype=object)
        if all(stripped):
            return stripped[inverse]
    codes = pd.Series(np.asarray(values, dtype=object), dtype=object)
    missing = missing_mask(codes.to_numpy())
    if missing.any():
        first = np.flatnonzero(missing)[0]
        raise ValueError(
            f"codes must not be missing; got {codes.iloc[first]!r}{place(where, first)} "
            f"({int(missing.sum())} missing in all). Remove events without a code."
        )
    types = codes.map(type)
    is_int = types.map(lambda t: issubclass(t, numbers.Integral) and t is not bool)
    is_str = types.map(lambda t: issubclass(t, str))
    bad = (~(is_int | is_str)).to_numpy()
    if bad.any():
        first = np.flatnonzero(bad)[0]
        value = codes.iloc[first]
        raise TypeError(
            "codes must be strings (integers are turned into strings); got "
            f"{value!r} of type {type(value).__name__}{place(where, first)}. Read the code "
            "column as strings (a float column turns 250.00 into 250.0)."
        )
    codes[is_int] = codes[is_int].map(str)
    codes = codes.str.strip()
    empty = (codes.str.len() == 0).to_numpy()
    if empty.any():
        first = np.flatnonzero(empty)[0]
        raise ValueError(
            f"codes must not be empty strings (after stripping whitespace); got one"
            f"{place(where, first)}."
        )
    return codes.to_numpy(dtype=object)


# -- sequences of (time, code) pairs ------------------------------------------------
def _timelines_column(X):
    """The column of a one-column DataFrame of timelines, as a Series; else ``X``.

    A ColumnTransformer hands a step a DataFrame when its columns are given as
    a list (``["timelines"]``, or ``make_column_selector``).
    """
    if isinstance(X, pd.DataFrame) and X.shape[1] == 1:
        cells = [c for c in X.iloc[:, 0].tolist()[:1000] if not is_missing(c)]
        if cells and all(hasattr(c, "__len__") and not isinstance(c, (str, bytes)) for c in cells):
            return X.iloc[:, 0]
    return X


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
            "skmed2vec.events_to_timelines(events); a table with one column of "
            "timelines is read as that column."
        )
    if not hasattr(X, "__len__") or not hasattr(X, "__iter__"):
        raise TypeError(f"X must be a sequence of patient timelines; got {type(X).__name__}.")


@validate_params(
    {
        "X": "no_validation",
        "prediction_times": ["array-like", None],
        "at_prediction_time": [StrOptions(set(AT_PREDICTION_TIME))],
    },
    prefer_skip_nested_validation=True,
)
def as_timelines(X, *, prediction_times=None, at_prediction_time="exclude"):
    """Convert patient timelines to a :class:`Timelines` container.

    Parameters
    ----------
    X : sequence of timelines, pandas.Series of timelines, or Timelines
        One timeline per patient; a timeline is a sequence of ``(time, code)``
        pairs in any order. Times are dates, datetimes, pandas Timestamps,
        ``np.datetime64``, ISO date strings, or numbers of days (one kind for the
        whole dataset; timezone-aware values are converted to UTC; kept to the
        microsecond). Codes are
        strings; integers are turned into strings and surrounding whitespace is
        stripped. A Series' index labels the patients in pandas output.
    prediction_times : sequence, default=None
        One prediction time per patient (same kind as the event times, and
        timezone-aware only if they are; None or NaN for "after the last
        event"). Events after a patient's prediction time are ignored when
        features are built. Matched to the patients by position, or by index
        label when both ``X`` and ``prediction_times`` are Series. Ignored if
        ``X`` is already a :class:`Timelines`, which carries its own.
    at_prediction_time : {"exclude", "include"}, default="exclude"
        Whether events at exactly the prediction time are used. The default
        leaves them out: with dates, an event on the prediction day may have
        happened after the prediction was made (often the outcome itself).
        ``"include"`` follows the MEDS task convention (data up to and
        including the prediction time). Ignored if ``X`` is a
        :class:`Timelines`.

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
        or cannot be parsed; the message names the timeline and event.

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
    X = _timelines_column(X)
    _check_sequence(X)
    index = None
    if isinstance(X, pd.Series):
        index = X.index
        X = X.tolist()
    flat = _flatten_pairs(X)
    if flat is not None:
        lengths, times, codes = flat
    else:
        lengths, times, codes = _flatten_checked(X)
    offsets = np.concatenate([[0], np.cumsum(lengths)])

    def where(position):
        timeline = int(np.searchsorted(offsets, position, side="right") - 1)
        return f"(timeline {timeline}, event {position - offsets[timeline]})"

    days, kind = times_to_days(times, where=where)
    pred = _positional_prediction_times(prediction_times, len(lengths), kind, index)
    return Timelines(
        _clean_codes(codes, where),
        days,
        offsets,
        prediction_times=pred,
        index=index,
        time_kind=public_kind(kind) or "days",
        at_prediction_time=at_prediction_time,
    )


def _flatten_pairs(X):
    """``(lengths, times, codes)`` when every event is a 2-tuple or 2-list, else None.

    The common input takes C-level passes (``map``, ``chain``, ``zip``) instead
    of a Python loop per event; anything unusual goes to :func:`_flatten_checked`,
    which names the bad timeline or event.
    """
    try:
        lengths = np.fromiter(map(len, X), np.int64, len(X))
    except TypeError:  # a timeline without a length (a generator, a number)
        return None
    events = list(chain.from_iterable(X))
    if not events:
        return None
    if not set(map(type, events)) <= {tuple, list} or set(map(len, events)) != {2}:
        return None
    # itemgetter maps, not zip(*events): 0.03 s instead of 0.76 s for 1M events.
    return lengths, list(map(itemgetter(0), events)), list(map(itemgetter(1), events))


def _flatten_checked(X):
    """``(lengths, times, codes)`` one event at a time, with errors naming the place."""
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
    return lengths, times, codes


def _positional_prediction_times(prediction_times, n, kind, index=None):
    """One prediction time per timeline, in float days (NaN: after the last event).

    A Series is matched to a Series of timelines by index label; anything
    else goes by position.
    """
    if prediction_times is None:
        return None
    if isinstance(prediction_times, pd.Series) and index is not None:
        if not prediction_times.index.is_unique:
            raise ValueError("prediction_times has repeated index labels; give one per patient.")
        positions = prediction_times.index.get_indexer(index)
        extra = prediction_times.index.difference(index)
        if (positions < 0).any() or len(extra):
            absent, extra = index[positions < 0].tolist(), extra.tolist()
            differ = (
                f"{absent[:3]!r} of X have no prediction time"
                if absent
                else f"prediction_times has labels that X does not, e.g. {extra[:3]!r}"
            )
            raise ValueError(
                "prediction_times and X are both Series, so they are matched by index "
                f"label, but their labels differ ({differ}); give both the same labels, "
                "or pass prediction_times.to_numpy() to match by position."
            )
        prediction_times = prediction_times.iloc[positions]
    values = _time_objects(prediction_times)
    if len(values) != n:
        raise ValueError(
            f"prediction_times must have one value per patient ({n}); got {len(values)}."
        )
    missing = missing_mask(values)
    days = np.full(n, np.nan)
    if (~missing).any():
        rows = np.flatnonzero(~missing)
        parsed, pred_kind = times_to_days(
            values[rows], what="prediction_times", where=lambda i: f"(patient {rows[i]})"
        )
        _check_kinds(pred_kind, kind)
        days[rows] = parsed
    return days


def _time_objects(values):
    """Times as a flat object array; numpy datetimes become Timestamps.

    ``np.asarray(..., dtype=object)`` would turn nanosecond datetimes into
    plain integers, which would then read as numbers of days.
    """
    if isinstance(values, (pd.Series, pd.Index)):
        return values.to_numpy(dtype=object).reshape(-1)
    array = np.asarray(values)
    if array.dtype.kind == "M":
        return pd.DatetimeIndex(array.reshape(-1)).to_numpy(dtype=object)
    return np.asarray(values, dtype=object).reshape(-1)


def _check_kinds(pred_kind, kind):
    if kind is None or pred_kind is None or pred_kind == kind:
        return
    if {pred_kind, kind} == {"datetime", AWARE}:
        aware, naive = (
            ("prediction_times", "event times")
            if pred_kind == AWARE
            else ("event times", "prediction_times")
        )
        raise ValueError(
            f"{aware} are timezone-aware but {naive} are naive: a naive time has no UTC "
            "offset to compare with. Make both aware (e.g. .dt.tz_localize(...)) or both "
            "naive."
        )
    raise ValueError(
        f"prediction_times are {public_kind(pred_kind)} but event times are "
        f"{public_kind(kind)}; use the same kind for both."
    )


# -- long event tables ---------------------------------------------------------------
def _plain(value):
    """A numpy scalar as the Python value it holds (for messages)."""
    return value.item() if isinstance(value, np.generic) else value


def _id_kind(values):
    inferred = pd.api.types.infer_dtype(values, skipna=True)
    if inferred in ("integer", "mixed-integer-float", "floating", "decimal"):
        return "numbers"
    if inferred in ("string", "bytes"):
        return "strings"
    return inferred


def _label_rows(prediction_times, subject_col):
    """A label table as (subject ids, prediction times, per-subject form?)."""
    if isinstance(prediction_times, pd.DataFrame):
        subject = subject_col if subject_col in prediction_times.columns else "subject_id"
        missing = [c for c in (subject, _PREDICTION_COL) if c not in prediction_times.columns]
        if missing:
            raise ValueError(
                f"prediction_times is a table without a {missing[0]!r} column; a label table "
                f"needs {subject_col!r} and {_PREDICTION_COL!r} columns (extra columns such "
                f"as boolean_value are allowed). Its columns are "
                f"{list(prediction_times.columns)}."
            )
        return (
            prediction_times[subject].to_numpy(),
            prediction_times[_PREDICTION_COL].to_numpy(dtype=object),
            False,
        )
    if isinstance(prediction_times, dict):
        prediction_times = pd.Series(prediction_times, dtype=object)
    keys = prediction_times.index
    per_subject = keys.is_unique
    return keys.to_numpy(), prediction_times.to_numpy(dtype=object), per_subject


def _match_subjects(keys, subject_ids, subject_col):
    """Position of each key among ``subject_ids``; every key must be found."""
    if pd.isna(pd.Series(keys, dtype=object)).any():
        raise ValueError(f"prediction_times has missing {subject_col} values.")
    positions = pd.Index(subject_ids).get_indexer(pd.Index(keys))
    unmatched = positions < 0
    if unmatched.any():
        examples = list(dict.fromkeys(keys[unmatched].tolist()))
        key_kind, id_kind = _id_kind(keys), _id_kind(subject_ids)
        hint = (
            f" The keys are {key_kind} while the events' {subject_col} values are {id_kind}; "
            f"convert one to the other (e.g. .astype(str))."
            if key_kind != id_kind
            else " Pass only subjects that have events, or add their events."
        )
        raise ValueError(
            f"{len(examples)} subject(s) of prediction_times have no events, e.g. "
            f"{examples[:5]!r}; no prediction time may be dropped.{hint}"
        )
    return positions


def _days_to_labels(days, kind):
    """Prediction times as index labels: Timestamps for dates (in UTC if the
    times were timezone-aware), float days otherwise."""
    if public_kind(kind) == "datetime":
        return days_to_datetimes(days, aware=kind == AWARE)
    return pd.Index(days, dtype=np.float64)


@validate_params(
    {
        "events": [pd.DataFrame],
        "subject_col": [str],
        "time_col": [str],
        "code_col": [str],
        "prediction_times": [pd.DataFrame, pd.Series, dict, "array-like", None],
        "at_prediction_time": [StrOptions(set(AT_PREDICTION_TIME))],
        "static_events": [StrOptions(set(STATIC_EVENTS))],
    },
    prefer_skip_nested_validation=True,
)
def events_to_timelines(
    events,
    *,
    subject_col="subject_id",
    time_col="time",
    code_col="code",
    prediction_times=None,
    at_prediction_time="exclude",
    static_events="first",
):
    """Build timelines from a long event table (one row per event).

    Parameters
    ----------
    events : pandas.DataFrame
        One row per event. The default column names are MEDS's; other columns
        (``numeric_value``...) are ignored.
    subject_col, time_col, code_col : str
        Names of the subject, time and code columns.
    prediction_times : pandas.DataFrame, pandas.Series or dict, default=None
        Either a label table with ``subject_id`` (or ``subject_col``) and
        ``prediction_time`` columns, such as a MEDS label table (other columns
        allowed): one sample per row, in the table's order, each cut at its
        own time, so a subject may have several; or a Series or dict of one
        prediction time per subject id: one sample per subject of ``events``,
        subjects without a time using all their events. A Series whose index
        repeats a subject counts as a label table. Every subject named must
        have events: unmatched ids raise a ValueError (which says so when ids
        and keys are of different types, e.g. integers and strings).
    at_prediction_time : {"exclude", "include"}, default="exclude"
        Whether events at exactly a prediction time are used. The default
        leaves them out: with dates, an event on the prediction day may have
        happened after the prediction was made (often the outcome itself).
        ``"include"`` follows the MEDS task convention (data up to and
        including the prediction time).
    static_events : {"first", "drop", "error"}, default="first"
        Rows without a time (MEDS static rows: sex, race...). ``"first"``
        makes them events at the subject's first timed event (for a sample
        whose prediction time is not after it, one second before that
        prediction time), so every sample of the subject sees them, placed
        from the sample's own rows only; ``"drop"`` leaves them out;
        ``"error"`` raises, naming the row. The count is logged.

    Returns
    -------
    X : Timelines
        One sample per subject (sorted ids) or per label row (table order),
        indexed by ``(subject_id, prediction_time)`` for pandas output.
    subject_ids : ndarray
        The subject of each sample (also ``X.subject_ids``): align labels with
        it, and pass it as ``groups`` to ``GroupKFold`` to keep a subject's
        samples in one fold.

    Raises
    ------
    ValueError
        If a column is missing, a subject id, code or time is missing or
        unparsable (naming the row), or a prediction time cannot be matched.

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
    >>> labels = pd.DataFrame({"subject_id": [7, 7, 3],
    ...                        "prediction_time": ["2020-01-02", "2020-06-01", "2022-01-01"],
    ...                        "boolean_value": [False, True, False]})
    >>> X, ids = events_to_timelines(events, prediction_times=labels)
    >>> ids.tolist(), X.up_to_prediction().lengths.tolist()
    ([7, 7, 3], [1, 2, 1])
    """
    missing = [c for c in (subject_col, time_col, code_col) if c not in events.columns]
    if missing:
        raise ValueError(
            f"events has no column {missing[0]!r}; its columns are "
            f"{list(events.columns)}. Pass subject_col, time_col and code_col."
        )
    subjects = events[subject_col]

    def where(position):
        return f"at row {position} ({subject_col} {_plain(subjects.iloc[position])!r})"

    missing_subject = subjects.isna().to_numpy()
    if missing_subject.any():
        first = np.flatnonzero(missing_subject)[0]
        raise ValueError(
            f"column {subject_col!r} has {int(missing_subject.sum())} missing subject ids, "
            f"the first at row {first}."
        )
    days, untimed, kind = column_to_days(events[time_col], f"column {time_col!r}", where)
    codes = _clean_codes(events[code_col], where)
    patient, subject_ids = pd.factorize(subjects.to_numpy(), sort=True)
    subject_ids = np.asarray(subject_ids)

    # Samples: one per subject, or one per row of a label table.
    if prediction_times is not None and not isinstance(
        prediction_times, (pd.DataFrame, pd.Series, dict)
    ):
        raise TypeError(
            "prediction_times must name the subject of each time: a label table with "
            f"{subject_col!r} and 'prediction_time' columns, or a Series or dict keyed by "
            f"subject id; got {type(prediction_times).__name__}, which has no subject ids "
            "to match the events by."
        )
    if prediction_times is None:
        sample_subject, pred = np.arange(len(subject_ids)), np.full(len(subject_ids), np.nan)
    else:
        keys, values, per_subject = _label_rows(prediction_times, subject_col)
        positions = _match_subjects(keys, subject_ids, subject_col)
        absent = missing_mask(values)
        if absent.any() and not per_subject:
            first = np.flatnonzero(absent)[0]
            raise ValueError(
                f"the label table has {int(absent.sum())} row(s) without a prediction_time, "
                f"the first at row {first} ({subject_col} {_plain(keys[first])!r}); every "
                "sample of a label table needs its time."
            )
        pred_days = np.full(len(values), np.nan)
        if (~absent).any():
            rows = np.flatnonzero(~absent)
            parsed, pred_kind = times_to_days(
                values[rows],
                "prediction_times",
                lambda i: f"(for {subject_col} {_plain(keys[rows[i]])!r})",
            )
            _check_kinds(pred_kind, kind)
            kind = kind or pred_kind
            pred_days[rows] = parsed
        if per_subject:
            sample_subject = np.arange(len(subject_ids))
            pred = np.full(len(subject_ids), np.nan)
            pred[positions] = pred_days
        else:
            sample_subject, pred = positions, pred_days

    if untimed.any() and static_events != "first":
        keep = _static_rule(untimed, static_events, where)
        patient, days, codes, untimed = patient[keep], days[keep], codes[keep], untimed[keep]
    n_subjects = len(subject_ids)
    first = np.full(n_subjects, np.inf)
    if untimed.any():  # at the subject's first timed event for now (day 0 if none)
        logger.info(
            "events_to_timelines: %d static event(s) placed at their subject's first event",
            int(untimed.sum()),
        )
        np.minimum.at(first, patient[~untimed], days[~untimed])
        days = days.copy()
        days[untimed] = np.where(np.isfinite(first), first, 0.0)[patient[untimed]]

    counts = np.bincount(patient, minlength=n_subjects)
    # Codes are strings by now: ranking them first sorts the same, without
    # comparing Python strings inside the sort.
    ranks = pd.factorize(codes, sort=True)[0]
    order = np.lexsort((ranks, days, patient))
    offsets = np.concatenate([[0], np.cumsum(counts)])
    events = order
    owner = patient[order] if untimed.any() else None  # only to place static rows
    if prediction_times is not None and not per_subject:
        # One timeline per label row: the subject's sorted events, copied.
        lengths = counts[sample_subject]
        starts = offsets[:-1][sample_subject]
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        events = order[np.repeat(starts - offsets[:-1], lengths) + np.arange(offsets[-1])]
        owner = np.repeat(np.arange(len(sample_subject)), lengths) if untimed.any() else None
        first = first[sample_subject]
    codes, days = codes[events], days[events]
    if untimed.any():
        static = untimed[events]
        days, moving = _place_static(days, static, owner, first, pred)
        if moving.any():
            # Moved before the first event: those samples' static events go first,
            # in their order (by code), then the rest, in theirs.
            touched = np.flatnonzero(np.isin(owner, owner[moving]))
            position = np.arange(len(days))
            position[touched] = touched[np.lexsort((~moving[touched], owner[touched]))]
            codes, days = codes[position], days[position]
    X = Timelines(
        codes,
        days,
        offsets,
        time_kind=public_kind(kind) or "days",
        presorted=True,
        at_prediction_time=at_prediction_time,
    )
    sample_ids = subject_ids[sample_subject]
    index = pd.MultiIndex.from_arrays(
        [sample_ids, _days_to_labels(pred, kind)], names=[subject_col, _PREDICTION_COL]
    )
    X = X._replace(prediction_times=pred, index=index, subject_ids=sample_ids)
    return X, sample_ids


def _static_rule(untimed, rule, where):
    """Rows kept under ``static_events`` ``"drop"``; ``"error"`` raises naming the first."""
    n_static = int(untimed.sum())
    if rule == "error":
        first = np.flatnonzero(untimed)[0]
        raise ValueError(
            f"{n_static} event(s) have no time, the first {where(first)}; pass "
            "static_events='first' or 'drop' for MEDS static rows, or give them a time."
        )
    logger.info("events_to_timelines: dropped %d static event(s) without a time", n_static)
    return ~untimed


def _place_static(days, static, owner, first, pred):
    """Move each sample's static events before its prediction time where needed.

    They sit at the sample's first timed event (``first``; day 0 without one).
    Where the prediction time is not after it, they go one second before the
    prediction time, so the sample sees them. Each sample is placed from its own
    events and prediction time only, so its features do not depend on the other
    samples of the call. Returns the times and the events moved.
    """
    before = pred - _STATIC_LEAD  # NaN without a prediction time
    moving = static & (before <= first - _STATIC_LEAD)[owner]
    if moving.any():
        days = days.copy()
        days[moving] = before[owner[moving]]
    return days, moving
