"""Parsing event times: dates, datetimes, ISO strings or numbers of days, to float days."""

import datetime as _dt
import numbers
import re

import numpy as np
import pandas as pd

__all__ = [
    "AWARE",
    "DAY_SECONDS",
    "column_to_days",
    "days_to_datetimes",
    "is_missing",
    "missing_mask",
    "place",
    "public_kind",
    "times_to_days",
]

DAY_SECONDS = 86400.0
_DAY_MICROSECONDS = 86_400_000_000.0

#: The kind of timezone-aware times, held as UTC days. It must not meet naive
#: times in one data set (a naive time has no offset to compare with); a
#: Timelines' ``time_kind`` then says ``"datetime"``.
AWARE = "aware datetime"


def public_kind(kind):
    """``"datetime"`` for aware and naive times alike (the Timelines' kinds)."""
    return "datetime" if kind == AWARE else kind


def _datetimes_to_days(values):
    """numpy datetime64 values to float days since 1970-01-01, to the microsecond.

    Float days keep microseconds apart up to the year 2149 (the spacing of
    doubles from 32,768 to 65,536 days is 0.63 microseconds, then 1.26 up to
    2328); seconds were too coarse for
    MEDS's microsecond timestamps, where an event a fraction of a second after
    a prediction time would have counted as at it.
    """
    return values.astype("datetime64[us]").astype(np.int64) / _DAY_MICROSECONDS


def days_to_datetimes(days, aware=False):
    """Float days back to Timestamps (UTC-aware if ``aware``); NaN gives NaT."""
    return pd.to_datetime(np.round(days * _DAY_MICROSECONDS), unit="us", utc=aware)


#: Types whose values are plain numbers of days (bools excluded).
_NUMBER_TYPES = {int, float, np.int64, np.int32, np.float64, np.float32}


# -- missing values and where they are ---------------------------------------------
def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def is_missing(value):
    return (
        value is None
        or value is pd.NaT
        or value is pd.NA
        or (isinstance(value, float) and np.isnan(value))
        or (isinstance(value, np.floating) and np.isnan(value))
        or (isinstance(value, np.datetime64) and np.isnat(value))
    )


def missing_mask(values):
    return np.fromiter((is_missing(v) for v in values), bool, len(values))


def place(where, position):
    """Describe the place of element ``position`` (e.g. "at row 3 (subject 7)")."""
    return "" if where is None else f" {where(int(position))}"


# -- times ---------------------------------------------------------------------------
def times_to_days(values, what="times", where=None):
    """Convert an object array of times (none missing) to float days and their kind.

    ``where(position)`` describes the place of a bad value in an error message.
    """
    values = np.asarray(values, dtype=object)
    if values.size == 0:
        return np.zeros(0), None
    # One pass over the types picks the fast path of the common cases (plain
    # numbers, or only strings); anything else, and every error, takes the
    # element-wise checks below.
    types = set(map(type, values))
    if types <= _NUMBER_TYPES:
        days = values.astype(np.float64)
        if np.isfinite(days).all():
            return days, "days"
    if types == {str}:
        return _parse_dates(values, what, where)
    missing = missing_mask(values)
    if missing.any():
        first = np.flatnonzero(missing)[0]
        raise ValueError(
            f"{what} must not be missing; got {values[first]!r}{place(where, first)}. "
            "Remove events without a time or give them one."
        )
    numeric = np.fromiter((_is_number(v) for v in values), bool, len(values))
    if numeric.all():
        days = values.astype(np.float64)
        bad = ~np.isfinite(days)
        if bad.any():
            first = np.flatnonzero(bad)[0]
            raise ValueError(
                f"{what} must be finite; got {values[first]!r}{place(where, first)}. "
                "Remove events without a time or give them one."
            )
        return days, "days"
    if numeric.any():
        number, date = np.flatnonzero(numeric)[0], np.flatnonzero(~numeric)[0]
        raise ValueError(
            f"{what} mix numbers (days) and dates, e.g. {values[number]!r}"
            f"{place(where, number)} and {values[date]!r}{place(where, date)}; use one kind "
            "for the whole dataset."
        )
    bad_type = np.fromiter(
        (not isinstance(v, (str, _dt.date, np.datetime64)) for v in values), bool, len(values)
    )
    if bad_type.any():
        first = np.flatnonzero(bad_type)[0]
        value = values[first]
        raise TypeError(
            f"{what} must be dates, datetimes, ISO date strings or numbers of days; "
            f"got {value!r} of type {type(value).__name__}{place(where, first)}."
        )
    return _parse_dates(values, what, where)


def _parse_dates(values, what, where):
    """Dates, datetimes and ISO strings (none missing) to float days and their kind
    (``"datetime"``, or :data:`AWARE` for timezone-aware values)."""
    try:
        parsed = pd.to_datetime(values, format="ISO8601")
    except ValueError as exc:
        if not any(word in str(exc).lower() for word in ("tz", "timezone", "utc")):
            raise _parse_error(exc, what, values, where) from None
        parsed = None  # different UTC offsets, or aware and naive values mixed
    except (TypeError, OverflowError) as exc:
        raise _parse_error(exc, what, values, where) from None
    if parsed is None:
        parsed = _parse_aware(values, what, where)
    not_a_time = np.asarray(pd.isna(parsed))
    if not_a_time.any():  # "", "NaT", "nan": pandas' words for a missing time
        first = np.flatnonzero(not_a_time)[0]
        raise ValueError(
            f"{what} must be dates or datetimes; got {values[first]!r}{place(where, first)}, which "
            "reads as 'not a time'. Give a missing time as None or NaN (in a table, a row "
            "without a time is a static row), not as text."
        )
    kind = "datetime"
    if parsed.tz is not None:
        parsed, kind = parsed.tz_convert("UTC").tz_localize(None), AWARE
    return _datetimes_to_days(parsed.to_numpy()), kind


def _first_unparsable(values):
    for i, v in enumerate(values):
        try:
            pd.to_datetime([v], format="ISO8601")
        except (ValueError, TypeError, OverflowError):
            return i
    return None


def _parse_error(exc, what, values, where):
    reason = str(exc).splitlines()[0].replace(" You might want to try:", "")
    first = _first_unparsable(values)
    at = "" if first is None else f" ({values[first]!r}{place(where, first)})"
    return ValueError(
        f"could not parse {what}{at}: {reason.rstrip('. ')}. Use dates, datetimes or "
        "ISO strings such as '2020-01-31'."
    )


# An ISO 8601 date and time with a UTC offset: "2020-03-29T02:30+02:00", "...Z", or
# "... UTC" as BigQuery writes timestamps (MIMIC-IV on BigQuery).
_AWARE_STRING = re.compile(
    r"^\s*\d{4}-?\d{2}-?\d{2}[T ]\d{2}(:?\d{2}(:?\d{2}([.,]\d+)?)?)?\s*"
    r"(Z|UTC|[+-]\d{2}(:?\d{2})?)\s*$",
    re.IGNORECASE,
)
_UTC_SUFFIX = re.compile(r"\s*UTC\s*$", re.IGNORECASE)


def _parse_aware(values, what, where):
    """Parse timezone-aware times with different UTC offsets (e.g. either side of
    a daylight saving change) as UTC; refuse a mix of aware and naive times,
    which have no common clock."""
    aware = np.zeros(len(values), dtype=bool)
    for i, v in enumerate(values):
        if isinstance(v, str):
            aware[i] = _AWARE_STRING.match(v) is not None
        elif isinstance(v, _dt.datetime):
            aware[i] = v.tzinfo is not None
    if not aware.any():  # not a time zone problem: a value pandas cannot read
        first = _first_unparsable(values)
        at = "" if first is None else f" ({values[first]!r}{place(where, first)})"
        raise ValueError(
            f"could not parse {what}{at}. Use dates, datetimes or ISO strings such as '2020-01-31'."
        )
    if not aware.all():
        naive = np.flatnonzero(~aware)[0]
        raise ValueError(
            f"{what} mix timezone-aware and naive values, e.g. {values[aware][0]!r} and "
            f"{values[naive]!r}{place(where, naive)}; make them all aware or all naive."
        )
    values = np.array(
        [_UTC_SUFFIX.sub("+00:00", v) if isinstance(v, str) else v for v in values], dtype=object
    )
    try:
        return pd.to_datetime(values, format="ISO8601", utc=True)
    except (ValueError, TypeError, OverflowError) as exc:
        raise _parse_error(exc, what, values, where) from None


def column_to_days(column, what, where):
    """Days and kind of a table column of times; missing values give NaN."""
    missing = column.isna().to_numpy()
    days = np.full(len(column), np.nan)
    kind = None
    if pd.api.types.is_datetime64_any_dtype(column):
        kind = "datetime"
        try:
            aware = column.dt.tz is not None
        except NotImplementedError:  # pyarrow dates (date32, date64) have no time zone
            column, aware = column.astype("datetime64[us]"), False
        if aware:
            column, kind = column.dt.tz_convert("UTC").dt.tz_localize(None), AWARE
        days[~missing] = _datetimes_to_days(column.to_numpy()[~missing])
    elif pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        infinite = np.isinf(values)
        if infinite.any():
            first = np.flatnonzero(infinite)[0]
            raise ValueError(f"{what} must be finite; got {values[first]!r}{place(where, first)}.")
        days[~missing] = values[~missing]
        kind = "days"
    else:
        values = column.to_numpy(dtype=object)
        missing = missing_mask(values)
        rows = np.flatnonzero(~missing)
        parsed, kind = times_to_days(
            values[rows], what, None if where is None else (lambda i: where(rows[i]))
        )
        days[rows] = parsed
    if (~missing).sum() == 0:
        kind = None
    return days, missing, kind
