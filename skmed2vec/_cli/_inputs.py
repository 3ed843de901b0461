"""Input options of the commands: event files, MEDS folders, OMOP sources, label files."""

import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd

from .._progress import progress
from .._timelines import events_to_timelines
from ._errors import CommandError

__all__ = [
    "add_input_options",
    "add_labels_option",
    "label_values",
    "read_codes_metadata",
    "read_events",
    "ids_as_in_events",
    "read_labels",
    "timeline_options",
    "timelines_for_labels",
]

logger = logging.getLogger(__name__)


def add_input_options(parser, *, split_default="train", prediction_times=True):
    """The ``--events`` / ``--meds`` / ``--omop`` group and the column options
    (``--at-prediction-time`` only for commands that read prediction times)."""
    group = parser.add_argument_group("input (one of)")
    sources = group.add_mutually_exclusive_group(required=True)
    sources.add_argument(
        "--events",
        metavar="FILE",
        help="event table, one row per event: .parquet, .csv (comma-separated) or "
        ".tsv/.txt (tab-separated), the text ones optionally compressed (.csv.gz...)",
    )
    sources.add_argument("--meds", metavar="DIR", help="MEDS folder (data/**/*.parquet, metadata/)")
    sources.add_argument(
        "--omop",
        metavar="PATH_OR_URL",
        help="OMOP CDM: DuckDB file, SQLAlchemy URL, or folder of table exports",
    )
    group.add_argument(
        "--split",
        default=split_default,
        help="MEDS split of metadata/subject_splits.parquet to read, or 'all' "
        f"(default {split_default!r})",
    )
    group.add_argument(
        "--omop-concepts",
        choices=["standard", "source"],
        default="standard",
        help="OMOP: code events by standard or source concept (default standard)",
    )
    group.add_argument("--omop-schema", default=None, help="OMOP: database schema of the CDM")
    group.add_argument(
        "--omop-tables",
        nargs="+",
        default=None,
        metavar="TABLE",
        help="OMOP: event tables to read (default condition_occurrence, drug_exposure, "
        "procedure_occurrence, measurement, observation)",
    )
    group.add_argument("--subject-col", default="subject_id", help="default subject_id")
    group.add_argument("--time-col", default="time", help="default time")
    group.add_argument("--code-col", default="code", help="default code")
    group.add_argument(
        "--encoding",
        default=None,
        metavar="NAME",
        help="text encoding of an --events text file, e.g. latin-1 (default UTF-8)",
    )
    group.add_argument(
        "--static-events",
        choices=["first", "drop", "error"],
        default="first",
        help="rows without a time (MEDS static rows): at the subject's first event "
        "(default), left out, or an error",
    )
    if prediction_times:
        group.add_argument(
            "--at-prediction-time",
            choices=["exclude", "include"],
            default="exclude",
            help="whether events at exactly a prediction time are used (default exclude; "
            "MEDS tasks include them)",
        )


def add_labels_option(parser, *, required=True):
    parser.add_argument(
        "--labels",
        metavar="FILE_OR_DIR",
        required=required,
        help="MEDS labels: parquet with subject_id, prediction_time (and boolean_value)",
    )


#: Separators of the text formats, by suffix; a compression suffix may follow.
_SEPARATORS = {".csv": ",", ".tsv": "\t", ".txt": "\t"}
_COMPRESSIONS = {".gz", ".bz2", ".xz", ".zip", ".zst"}


def _text_format(path):
    """The separator of a text table, chosen by its suffix; None if it is not one.

    Parameters
    ----------
    path : pathlib.Path
        The file; ``.csv`` is comma-separated, ``.tsv`` and ``.txt`` tab-separated,
        each also compressed (``.csv.gz``, ``.tsv.gz``...).

    Returns
    -------
    separator : str or None
    """
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in _COMPRESSIONS:
        suffixes = suffixes[:-1]
        if not suffixes:  # "events.gz": compressed comma-separated text, as before
            return ","
    return _SEPARATORS.get(suffixes[-1]) if suffixes else None


def _read_text(file, option, separator, text_columns, encoding):
    """One delimited text file, its ``text_columns`` read as strings.

    Parameters
    ----------
    file : pathlib.Path
    option : str
        The option that named the file, for messages.
    separator : str
    text_columns : sequence of str
        Columns read as they are written (``0389`` stays ``0389``), when present.
    encoding : str or None
        Text encoding; None is UTF-8.

    Returns
    -------
    frame : pandas.DataFrame
    """
    name = encoding or "UTF-8"
    try:
        options = {"sep": separator, "encoding": encoding or "utf-8"}
        frame = pd.read_csv(file, dtype={column: str for column in text_columns}, **options)
        # Codes are text as written: "NA" or "None" are codes there, not pandas'
        # missing values; only empty cells are. Read those columns again if needed.
        text = [column for column in dict.fromkeys(text_columns) if column in frame]
        if frame[text].isna().any().any():
            raw = pd.read_csv(
                file, usecols=text, dtype=str, keep_default_na=False, na_values=[""], **options
            )
            frame[text] = raw[text]
        return frame
    except pd.errors.EmptyDataError:
        raise CommandError(f"{option} {file}: the file is empty (no header line)") from None
    except UnicodeDecodeError as exc:
        byte = exc.object[exc.start : exc.start + 1].hex()
        advice = "save it as UTF-8"
        if option == "--events":
            advice += " or pass its encoding with --encoding (e.g. --encoding latin-1)"
        raise CommandError(
            f"{option} {file}: not {name} text (byte 0x{byte} cannot be decoded); {advice}"
        ) from None
    except LookupError:
        raise CommandError(f"--encoding {encoding}: unknown text encoding") from None
    except pd.errors.ParserError as exc:
        raise CommandError(f"{option} {file}: {exc}") from None


def _read_table(path, option, verbose=0, text_columns=(), encoding=None):
    path = Path(path)
    if not path.exists():
        raise CommandError(f"{option} {path}: no such file or folder")
    files = sorted(path.rglob("*.parquet")) if path.is_dir() else [path]
    if not files:
        raise CommandError(f"{option} {path}: the folder holds no .parquet file")
    frames = []
    for file in progress(files, "reading", verbose=verbose if len(files) > 1 else 0, unit="file"):
        separator = _text_format(file)
        if file.suffix.lower() == ".parquet":
            frames.append(pd.read_parquet(file))
        elif separator is not None:
            frames.append(_read_text(file, option, separator, text_columns, encoding))
        else:
            raise CommandError(
                f"{option} {file}: expected a .parquet file or a .csv (comma-separated) or "
                ".tsv/.txt (tab-separated) file, optionally compressed (.csv.gz...)"
            )
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def _require_columns(frame, columns, option, source, hints=None):
    for column in columns:
        if column not in frame.columns:
            hint = f"; name it with {hints[column]}" if hints and column in hints else ""
            raise CommandError(
                f"{option} {source}: no column {column!r} (columns: "
                f"{', '.join(map(str, frame.columns[:12]))}){hint}"
            )


def _read_meds(args):
    from ..datasets import read_meds

    split = None if args.split == "all" else args.split
    try:
        return read_meds(args.meds, split=split, verbose=args.verbose)
    except FileNotFoundError as exc:
        if split is not None and "subject_splits" in str(exc):
            raise CommandError(
                f"--split {split}: {args.meds} has no metadata/subject_splits.parquet; "
                "read every subject with --split all"
            ) from None
        raise CommandError(f"--meds {args.meds}: {exc}") from None
    except ValueError as exc:
        option = "--split" if "split" in str(exc) else "--meds"
        raise CommandError(f"{option}: {exc}") from None


def _hide_password(source):
    """A database URL with its password replaced by ``***``; paths as they are.

    Parameters
    ----------
    source : str
        The ``--omop`` argument.

    Returns
    -------
    shown : str
        The text to print.
    password : str or None
        The password the URL holds, to hide it wherever else it appears.
    """
    if "://" not in source:
        return source, None
    try:
        from sqlalchemy.engine import make_url

        url = make_url(source)
        return url.render_as_string(hide_password=True), url.password
    except Exception:  # not a URL SQLAlchemy parses: hide anything between : and @
        match = re.match(r"^([^:/]+://[^:@/]*:)([^@]*)(@.*)$", source)
        if match is None:
            return source, None
        return match.group(1) + "***" + match.group(3), match.group(2)


def _database_errors():
    """The exception types of SQLAlchemy and DuckDB that are installed."""
    errors = []
    try:
        import sqlalchemy.exc

        errors.append(sqlalchemy.exc.SQLAlchemyError)
    except ImportError:
        pass
    try:
        import duckdb

        errors.append(duckdb.Error)
    except ImportError:
        pass
    return tuple(errors)


def _database_reason(exc):
    """The driver's message of a database error, without SQL or SQLAlchemy's links."""
    reason = getattr(exc, "orig", None) or exc
    text = " ".join(str(reason).split()) or type(reason).__name__
    return re.sub(r"\s*\(Background on this error at: [^)]*\)", "", text)


def _is_duckdb_file(path):
    """Whether a file starts as DuckDB database files do."""
    with open(path, "rb") as handle:
        return handle.read(12)[8:12] == b"DUCK"


def _read_omop(args):
    from ..datasets import read_omop

    shown, password = _hide_password(str(args.omop))
    path = Path(args.omop)
    if "://" not in str(args.omop) and path.is_file() and not _is_duckdb_file(path):
        raise CommandError(
            f"--omop {shown}: not a DuckDB database file; for table exports "
            "(condition_occurrence.csv, concept.csv...) pass the folder that holds them"
        )
    options = {"schema": args.omop_schema, "verbose": args.verbose}
    if args.omop_tables:
        options["tables"] = args.omop_tables
    try:
        return read_omop(args.omop, args.omop_concepts, **options)
    except (FileNotFoundError, ValueError) as exc:
        message = str(exc).replace("pass tables=...", "pass --omop-tables")
        raise CommandError(f"--omop {shown}: {message}") from None
    except _database_errors() as exc:
        reason = _database_reason(exc)
        if password:
            reason = reason.replace(password, "***")
        raise CommandError(f"--omop {shown}: the database cannot be read: {reason}") from None
    except ImportError as exc:  # SQLAlchemy, or the driver the URL names, is missing
        raise CommandError(f"--omop {shown}: {exc}") from None


def read_events(args):
    """The events the input options name, as a DataFrame with subject, time, code columns."""
    if args.events:
        events = _read_table(
            args.events,
            "--events",
            args.verbose,
            text_columns=[
                args.code_col,
                getattr(args, "description_col", None) or args.code_col,
                args.subject_col,  # as written: 0123 and 123 are two subjects
            ],
            encoding=getattr(args, "encoding", None),
        )
        source, option = args.events, "--events"
    elif getattr(args, "meds", None):
        events = _read_meds(args)
        source, option = args.meds, "--meds"
    else:
        events = _read_omop(args)
        source, option = args.omop, "--omop"
    columns = [args.subject_col, args.time_col, args.code_col]
    hints = dict(zip(columns, ["--subject-col", "--time-col", "--code-col"]))
    if getattr(args, "description_col", None):
        columns.append(args.description_col)
        hints[args.description_col] = "--description-col"
    _require_columns(events, columns, option, source, hints)
    events = events[columns]
    if len(events) == 0:
        raise CommandError(f"{option} {source}: no events to read")
    logger.info("read %d events of %d subjects", len(events), events[args.subject_col].nunique())
    return events


def read_codes_metadata(args, events=None):
    """Code descriptions and groups, as two dicts by code.

    Descriptions come from ``--description-col`` of the events (the first one of each
    code), else from MEDS ``metadata/codes.parquet``; groups are the first MEDS parent
    code of each code that has one.
    """
    from ..datasets import read_meds_codes

    descriptions, groups = {}, {}
    meds = getattr(args, "meds", None)
    if meds and (Path(meds) / "metadata" / "codes.parquet").is_file():
        table = read_meds_codes(meds)
        known = table.dropna(subset=["code", "description"])
        descriptions = dict(zip(known["code"].astype(str), known["description"].astype(str)))
        groups = {str(c): p[0] for c, p in zip(table["code"], table["parent_codes"]) if p}
    column = getattr(args, "description_col", None)
    if column and events is not None:
        table = events[[args.code_col, column]].dropna().drop_duplicates(args.code_col)
        descriptions = dict(zip(table[args.code_col].astype(str), table[column].astype(str)))
    return descriptions, groups


def read_labels(path):
    """A MEDS label table: subject_id, prediction_time, and boolean_value if present."""
    labels = _read_table(path, "--labels", text_columns=["subject_id"])
    _require_columns(labels, ["subject_id", "prediction_time"], "--labels", path)
    for column in ("subject_id", "prediction_time"):
        if labels[column].isna().any():
            raise CommandError(f"--labels {path}: {column} is missing in some rows")
    written = labels["prediction_time"]
    if written.dtype == object or pd.api.types.is_string_dtype(written):
        # BigQuery writes "2180-07-23 12:35:00 UTC", as event times may be.
        times = written.astype(str).str.replace(r"\s+UTC\s*$", "+00:00", regex=True, case=False)
        # Text (a CSV file): timestamps, as MEDS labels and predictions hold them.
        try:
            labels["prediction_time"] = pd.to_datetime(times, format="ISO8601")
        except (ValueError, TypeError) as exc:
            # Several UTC offsets: UTC, if every time has one (a naive time has none);
            # Postgres writes them +01 or +05:30.
            offset = r"[T ]\d\d(?::?\d\d)*(?:\.\d+)?\s*(?:Z|[+-]\d\d(?::?\d\d)?)\s*$"
            aware = times.astype(str).str.contains(offset, regex=True, case=False)
            if aware.any() and not aware.all():
                raise CommandError(
                    f"--labels {path}: prediction_time mixes times with a UTC offset and "
                    f"without ({written[aware].iloc[0]!r} has one, {written[~aware].iloc[0]!r} "
                    "none); give every time an offset or none"
                ) from None
            if not aware.any():
                raise CommandError(_not_iso(path, written, times, exc)) from None
            try:
                labels["prediction_time"] = pd.to_datetime(times, format="ISO8601", utc=True)
            except (ValueError, TypeError) as again:
                raise CommandError(_not_iso(path, written, times, again)) from None
    return labels.reset_index(drop=True)


def _not_iso(path, written, times, exc):
    """The message for label times pandas cannot read: the first one as written."""
    for value, parsed in zip(written, times):
        try:
            pd.to_datetime([parsed], format="ISO8601")
        except (ValueError, TypeError):
            return f"--labels {path}: prediction_time {value!r} is not an ISO date or time"
    reason = str(exc).splitlines()[0].replace(" You might want to try:", "").rstrip(". ")
    return f"--labels {path}: prediction_time is not an ISO date or time ({reason})"


def ids_as_in_events(labels, event_ids, path):
    """``labels`` with its subject ids of the kind of ``event_ids``, to join them.

    Text files keep ids as written (``0123`` and ``123`` are two subjects). Where
    one side's ids are numbers and the other's text, text written as a whole number
    (``123``, ``123.0``) is that number; other text (``0123``, ``P7``) is refused.

    Parameters
    ----------
    labels : pandas.DataFrame
        A label table from :func:`read_labels`.
    event_ids : pandas.Series
        The events' subject ids.
    path : str or path-like
        The label file, for messages.

    Returns
    -------
    pandas.DataFrame
    """
    ids = labels["subject_id"]
    numbers = pd.api.types.is_numeric_dtype(event_ids)
    if numbers == pd.api.types.is_numeric_dtype(ids):
        if not numbers or ids.dtype == event_ids.dtype or event_ids.dtype.kind not in "iu":
            return labels
        # Numbers of another type (int32, 7.0): made the events' integers below.
        ids = ids.map(lambda v: str(int(v)) if v == int(v) else repr(v))
    elif not numbers:  # text ids in the events: numbers as they are written
        return labels.assign(subject_id=ids.map(lambda v: str(int(v)) if v == int(v) else str(v)))
    text = ids.astype(str).str.strip()
    # 7 and 7.0 (what pandas writes for an id column that held a missing value).
    whole = text.str.extract(r"^(-?(?:0|[1-9][0-9]*))(?:\.0*)?$", expand=False)
    if whole.isna().any():
        raise CommandError(
            f"--labels {path}: subject_id {text[whole.isna()].iloc[0]!r} is not a whole "
            f"number, but the events' subject ids are numbers (e.g. {event_ids.iloc[0]}); "
            "write the label file's ids as the events' are"
        )
    numbers = whole.map(int)
    # The events' own integer type: unsigned 64-bit ids reach 2**64 - 1.
    kind = np.uint64 if pd.api.types.is_unsigned_integer_dtype(event_ids) else np.int64
    limits = np.iinfo(kind)
    beyond = ~numbers.between(int(limits.min), int(limits.max))
    if beyond.any():
        raise CommandError(
            f"--labels {path}: subject_id {text[beyond].iloc[0]} is beyond the "
            f"{'unsigned ' if kind is np.uint64 else ''}64-bit integers the events' ids are"
        )
    return labels.assign(subject_id=pd.Series(numbers.tolist(), dtype=kind, index=labels.index))


def _boolean(value):
    """True or False for a label value, None for one that is not boolean."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, str):
        return {"true": True, "1": True, "false": False, "0": False}.get(value.strip().lower())
    if isinstance(value, (int, float, np.integer, np.floating)) and value in (0, 1):
        return bool(value)
    return None


def label_values(labels, path):
    """The ``boolean_value`` column of a label table, as pandas' nullable booleans.

    Booleans, the numbers 0 and 1, and the strings ``true``, ``false``, ``1`` and
    ``0`` (in any case, as CSV files write them) are read; a missing value stays
    missing (``pd.NA``).

    Parameters
    ----------
    labels : pandas.DataFrame
        The label table, with ``subject_id`` and ``boolean_value`` columns.
    path : str or path-like
        The label file, for messages.

    Returns
    -------
    values : pandas.Series of dtype "boolean"
        Aligned with ``labels``.

    Raises
    ------
    CommandError
        If a value is none of these, naming it and the first subject that has it.
    """
    column = labels["boolean_value"]
    if pd.api.types.is_bool_dtype(column):
        return column.astype("boolean")
    present = column.notna().to_numpy()
    mapping = {}
    for value in pd.unique(column[present]):
        parsed = _boolean(value)
        if parsed is None:
            first = labels["subject_id"].to_numpy()[present & (column == value).to_numpy()][0]
            shown = value.item() if isinstance(value, np.generic) else value
            raise CommandError(
                f"--labels {path}: boolean_value {shown!r} (subject_id {first}) is not a "
                "boolean; use true/false or 1/0"
            )
        mapping[value] = parsed
    values = pd.array([pd.NA] * len(column), dtype="boolean")
    values[present] = column[present].map(mapping).to_numpy(dtype=bool)
    return pd.Series(values, index=column.index, name="boolean_value")


def timeline_options(args):
    """The keyword arguments of ``events_to_timelines`` the options set."""
    return {
        "subject_col": args.subject_col,
        "time_col": args.time_col,
        "code_col": args.code_col,
        "at_prediction_time": getattr(args, "at_prediction_time", "exclude"),
        "static_events": args.static_events,
    }


def timelines_for_labels(events, labels, args):
    """One timeline per label row: the subject's events up to its prediction time.

    Returns the timelines and the positions of the label rows they belong to; label rows
    whose subject has no event get no timeline (their feature row is zeros, as the
    embedder gives for an empty timeline).
    """
    known = labels["subject_id"].isin(events[args.subject_col].unique()).to_numpy()
    if not known.any():
        raise CommandError(
            "--labels: no subject of the label file has events in the input; "
            "check --split and the subject ids"
        )
    if not known.all():
        logger.warning(
            "%d of %d label rows have no events in the input: their features are zeros "
            "(check --split and the subject ids if they should have some)",
            (~known).sum(),
            len(known),
        )
    table = labels.loc[known, ["subject_id", "prediction_time"]]
    if args.subject_col != "subject_id":
        table = table.rename(columns={"subject_id": args.subject_col})
    X, _ = events_to_timelines(events, prediction_times=table, **timeline_options(args))
    return X, np.flatnonzero(known)
