"""Reader for OMOP CDM databases and exports: coded events and the concept hierarchy.

Every form of source goes through SQLAlchemy and the same SQL: a DuckDB file
(through ``duckdb-engine``), a database URL or engine, or a folder of table
exports, which an in-memory DuckDB exposes as views with the CDM's column types.
"""

import logging
import os
import re
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import HasMethods, StrOptions, validate_params

from ._omop_exports import MISSING_TEXT, folder_engine, quote

__all__ = ["read_omop", "read_omop_ancestors"]

logger = logging.getLogger(__name__)

#: Clinical event tables: (column prefix, event time column stem, value column or None).
OMOP_TABLES = {
    "condition_occurrence": ("condition", "condition_start", None),
    "drug_exposure": ("drug", "drug_exposure_start", None),
    "procedure_occurrence": ("procedure", "procedure", None),
    "measurement": ("measurement", "measurement", "value_as_number"),
    "observation": ("observation", "observation", "value_as_number"),
    "visit_occurrence": ("visit", "visit_start", None),
}
_DEFAULT_TABLES = (
    "condition_occurrence",
    "drug_exposure",
    "procedure_occurrence",
    "measurement",
    "observation",
)
_CHUNK_ROWS = 500_000
# Vocabulary columns named *_id that hold text.
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _sqlalchemy():
    try:
        import sqlalchemy
    except ImportError:
        raise ImportError(
            "reading OMOP needs SQLAlchemy, DuckDB and duckdb-engine: "
            "pip install 'skmed2vec[omop]'."
        ) from None
    return sqlalchemy


# -- sources -------------------------------------------------------------------------
@contextmanager
def _connect(source, tables):
    """A SQLAlchemy connection to ``source``, whatever its form, and its exports.

    The exports (table name -> export, from :func:`folder_engine`) are those of a folder, None
    for a database.
    """
    sqlalchemy = _sqlalchemy()
    exports = None
    if isinstance(source, sqlalchemy.engine.Engine):
        with source.connect() as connection:
            yield connection, exports
        return
    if isinstance(source, str) and "://" in source:
        engine = sqlalchemy.create_engine(source)
    else:
        path = Path(source)
        if path.is_dir():
            engine, exports = folder_engine(path, tables, sqlalchemy)
        elif path.is_file():
            engine = sqlalchemy.create_engine(f"duckdb:///{path}", connect_args={"read_only": True})
        else:
            raise FileNotFoundError(
                f"source {str(source)!r} is neither a DuckDB file, a folder of table exports "
                "nor a database URL (such as 'postgresql://user@host/db')."
            )
    try:
        with engine.connect() as connection:
            yield connection, exports
    finally:
        engine.dispose()


class _Table:
    """A CDM table as the database spells it: quoted name and quoted column names."""

    def __init__(self, name, columns, schema):
        prefix = "" if schema is None else quote(schema) + "."
        self.sql = prefix + quote(name)
        self.columns = columns  # lower-cased name -> name as stored

    def __contains__(self, column):
        return column in self.columns

    def __getitem__(self, column):
        return quote(self.columns[column])


def _find_table(connection, table, schema):
    """The table (its name in lower or upper case), or None when it does not exist.

    Columns are read from an empty SELECT, which every backend answers (the
    inspectors of some dialects do not work on every database).
    """
    sqlalchemy = _sqlalchemy()
    prefix = "" if schema is None else quote(schema) + "."
    for name in (table, table.upper()):
        try:
            result = connection.execute(
                sqlalchemy.text(f"SELECT * FROM {prefix}{quote(name)} WHERE 1 = 0")
            )
        except sqlalchemy.exc.DBAPIError:
            connection.rollback()  # a failed statement aborts the transaction (PostgreSQL)
            continue
        keys = list(result.keys())
        result.close()
        return _Table(name, {k.lower(): k for k in keys}, schema)
    return None


def _require(connection, table, needed, schema, source):
    columns = _find_table(connection, table, schema)
    if columns is None:
        raise ValueError(
            f"{source!r} has no {table!r} table (looked for {table} in "
            f"{'schema ' + repr(schema) if schema else 'the default schema'}); pass tables=... "
            "without it, or the schema that holds the CDM."
        )
    missing = [c for c in needed if c not in columns]
    if missing:
        raise ValueError(
            f"table {table!r} has no {missing[0]!r} column; its columns are "
            f"{sorted(columns.columns)}."
        )
    return columns


def _query(connection, sql, what, verbose):
    """Run ``sql`` and return its rows as a DataFrame, reading in chunks with progress."""
    sqlalchemy = _sqlalchemy()
    parts, n_rows = [], 0
    # coerce_float=False: NUMERIC/DECIMAL ids (CDMs moved from SQL Server, Oracle or
    # Databricks) stay exact Decimals; through float64 those above 2**53 merge persons.
    chunks = pd.read_sql(
        sqlalchemy.text(sql), connection, chunksize=_CHUNK_ROWS, coerce_float=False
    )
    for part in chunks:
        parts.append(part)
        n_rows += len(part)
        message = f"read_omop: {what}, {n_rows:,} rows"
        logger.info(message)
        if verbose:
            print(message)
    if not parts:
        return None
    return pd.concat(parts, ignore_index=True)


def _checked_query(connection, exports, sql, what, verbose, columns):
    """:func:`_query`, naming the column and its values when an export's value cannot be cast.

    Parameters
    ----------
    connection : sqlalchemy.engine.Connection
        The connection to the source.
    exports : dict or None
        The folder's exports (table name -> export, from :func:`folder_engine`), None for a
        database.
    sql, what, verbose
        As for :func:`_query`.
    columns : dict
        Each table the query reads -> the lower-cased names of the columns it
        reads.

    Returns
    -------
    frame : pandas.DataFrame or None
        As :func:`_query` returns it.

    Raises
    ------
    ValueError
        If an exported column the query reads holds a value its CDM type
        cannot hold: a date that is not ``YYYY-MM-DD``, an id that is not an
        integer... The message names the table, its file, the column, the
        number of such values and one of them.
    """
    sqlalchemy = _sqlalchemy()
    errors = (sqlalchemy.exc.DBAPIError, pd.errors.DatabaseError)
    try:
        return _query(connection, sql, what, verbose)
    except errors as error:
        if exports is None:
            raise
        connection.rollback()
        try:
            messages = [
                exports[table].unparsable(connection, table, names)
                for table, names in columns.items()
                if table in exports
            ]
        except errors:
            raise error from None
        message = next((m for m in messages if m), None)
        if message:
            raise ValueError(message) from None
        raise


# -- events --------------------------------------------------------------------------
def _event_sql(table, events, concept_table, concepts):
    """The SELECT of one event table, in SQL every backend runs."""
    stem, time_stem, value = OMOP_TABLES[table]
    t, c = events, concept_table
    concept = t[f"{stem}_source_concept_id" if concepts == "source" else f"{stem}_concept_id"]
    # The id is never NULL in what pandas reads: a NULL would turn the column into
    # float64, which cannot hold ids above 2**53 (hashed ids), merging persons.
    select = [
        f"COALESCE(t.{t['person_id']}, 0) AS subject_id",
        f"CASE WHEN t.{t['person_id']} IS NULL THEN 1 ELSE 0 END AS no_person",
        f"t.{t[time_stem + '_date']} AS event_date",
        (
            f"t.{t[time_stem + '_datetime']} AS event_datetime"
            if time_stem + "_datetime" in t
            else "NULL AS event_datetime"
        ),
        f"t.{concept} AS concept_id",
        f"c.{c['vocabulary_id']} AS vocabulary_id",
        f"c.{c['concept_code']} AS concept_code",
        f"t.{t[value]} AS numeric_value" if value else "NULL AS numeric_value",
    ]
    if concepts == "source":
        select.append(f"t.{t[stem + '_source_value']} AS source_value")
    return (
        f"SELECT {', '.join(select)} FROM {t.sql} t "
        f"LEFT JOIN {c.sql} c ON c.{c['concept_id']} = t.{concept}"
    )


def _person_ids(values, table):
    """``person_id`` values as int64, exactly, or a ValueError naming the first that is not one.

    Databases hand ids over as int64, uint64 (DuckDB's UBIGINT), Decimal
    (NUMERIC) or float; only whole numbers within int64 (MEDS's subject ids) are
    ids, and a float above 2**53 may already be another id.
    """
    if values.dtype == np.int64:
        return values
    if pd.api.types.is_signed_integer_dtype(values.dtype):  # int32, nullable Int64
        return values.astype(np.int64)
    if values.dtype.kind == "u":
        bad = values > np.iinfo(np.int64).max
    elif values.dtype.kind == "f":
        bad = (values != np.floor(values)) | (values.abs() > 2**53)
    else:
        limits = np.iinfo(np.int64)

        def exact(v):
            if isinstance(v, str):  # SQLite keeps what it was given: '123' is 123
                v = int(v) if re.fullmatch(r"[+-]?[0-9]+", v.strip()) else None
            try:
                return int(v) == v and limits.min <= int(v) <= limits.max
            except (TypeError, ValueError, OverflowError, ArithmeticError):
                return False

        bad = ~values.map(exact).astype(bool)
    if bad.any():
        raise ValueError(
            f"{table}.person_id holds {values[bad].iloc[0]!r}, which is not an exact 64-bit "
            f"integer id ({int(bad.sum())} such values); subject ids are int64."
        )
    return (
        values.astype(np.int64)
        if values.dtype.kind != "O"
        else pd.Series([int(v) for v in values], index=values.index, dtype=np.int64)
    )


def _codes(frame, table, concepts):
    """Codes as ``vocabulary_id/concept_code``; rows without one are counted and dropped."""
    known = frame["concept_id"].fillna(0).astype(np.int64).ne(0)
    known &= frame["concept_code"].notna() & frame["vocabulary_id"].notna()
    codes = pd.Series(pd.NA, index=frame.index, dtype=object)
    codes[known] = (
        frame["vocabulary_id"][known].astype(str) + "/" + frame["concept_code"][known].astype(str)
    )
    if concepts == "source":
        stem = OMOP_TABLES[table][0].upper()
        # Blank values and missing-value markers are no code (they would make one
        # shared code of unrelated events).
        source = frame["source_value"].astype("string").str.strip()
        raw = ~known & source.notna() & ~source.isin(MISSING_TEXT)
        codes[raw] = f"{stem}/" + source[raw].astype(str)
    missing = codes.isna().to_numpy()
    if missing.any():
        logger.warning(
            "read_omop: %d of %d %s rows have no %s concept (concept_id 0, absent from "
            "the concept table, or without its vocabulary_id or concept_code)%s and were "
            "left out",
            int(missing.sum()),
            len(frame),
            table,
            concepts,
            "" if concepts == "standard" else " nor source value",
        )
    return codes.to_numpy(), ~missing


def _naive_utc(values, table, column):
    """Times read from the database as naive UTC times.

    Parameters
    ----------
    values : pandas.Series
        Dates, or times with or without a time zone, as the driver returns
        them: date or datetime objects, ISO text (SQLite), ``None`` where empty.
    table, column : str
        Where they come from, for messages.

    Returns
    -------
    times : pandas.Series of datetime64
        Times with a time zone converted to UTC, then made naive; naive times
        and dates as they are, to the microsecond.

    Raises
    ------
    ValueError
        If the values are numbers (SQLite has no date type, and R writes dates
        there as numbers of days or seconds, which cannot be told apart), or
        text that is not an ISO date or time, naming the table, the column and
        a value.
    """
    present = values.dropna()
    numbers = present
    if not pd.api.types.is_numeric_dtype(present):
        kind = pd.api.types.infer_dtype(present, skipna=True)
        if kind == "string":  # digits are a number, but for a basic ISO date (20190301)
            text = present.str.strip()
            numbers = present[
                (text.str.fullmatch(r"[+-]?\d+(\.\d*)?") & ~text.str.fullmatch(r"\d{8}")).to_numpy()
            ]
        else:
            is_number = [isinstance(v, (int, float, np.number, Decimal)) for v in present] if (
                kind.startswith("mixed") or kind in ("integer", "floating", "decimal")
            ) else np.zeros(len(present), bool)  # fmt: skip
            numbers = present[np.asarray(is_number, dtype=bool)]
    if len(numbers) and not pd.api.types.is_datetime64_any_dtype(present):
        first = numbers.iloc[0]
        first = first.item() if isinstance(first, np.generic) else first
        raise ValueError(
            f"read_omop: {table}.{column} holds numbers (e.g. {first!r}), not dates: SQLite "
            "has no date type, and R writes dates there as days or seconds since 1970, "
            "which cannot be told apart. Store them as ISO text ('2019-03-01') or read "
            "the CDM from another database or a folder of exports."
        )
    try:
        return pd.to_datetime(values, utc=True, format="ISO8601").dt.tz_localize(None)
    except (ValueError, TypeError, OverflowError):
        for value in present:
            try:
                pd.to_datetime([value], utc=True, format="ISO8601")
            except (ValueError, TypeError, OverflowError):
                raise ValueError(
                    f"read_omop: {table}.{column} holds {value!r}, which is not an ISO date "
                    "or time ('2019-03-01', '2019-03-01 10:30:00')."
                ) from None
        raise


@validate_params(
    {
        "source": [str, os.PathLike, HasMethods(["connect", "dispose"])],
        "concepts": [StrOptions({"standard", "source"})],
        "tables": [list, tuple],
        "visits": ["boolean"],
        "schema": [str, None],
        "verbose": ["verbose"],
    },
    prefer_skip_nested_validation=True,
)
def read_omop(
    source,
    concepts="standard",
    *,
    tables=_DEFAULT_TABLES,
    visits=False,
    schema=None,
    verbose=0,
):
    """Read the coded events of an OMOP CDM as one long table.

    Parameters
    ----------
    source : str, path-like or sqlalchemy.engine.Engine
        A DuckDB database file (the embedded default: no server), a
        SQLAlchemy URL (``"postgresql://user@host/cdm"``, ``"mssql+pyodbc://..."``)
        or engine, or a folder of table exports: one file
        (``condition_occurrence.csv``, ``.csv.gz``, ``.parquet``) or folder of
        files per table, named after the table in either case, with column
        names in either case. All forms run the same SQL.
    concepts : {"standard", "source"}, default="standard"
        Code each event by its standard concept (``condition_concept_id``...)
        or by its source concept (``condition_source_concept_id``...), falling
        back to the source value (``CONDITION/K92.2``) where the source concept
        is 0.
    tables : sequence of str, default=("condition_occurrence", "drug_exposure", \
"procedure_occurrence", "measurement", "observation")
        The event tables to read (each once, however often it is named).
    visits : bool, default=False
        Also read ``visit_occurrence`` (inpatient, outpatient, emergency
        visits as events).
    schema : str, default=None
        Database schema holding the CDM tables (e.g. ``"cdm"``); None for the
        default schema. Not used for folders.
    verbose : int, default=0
        Print the progress of each table read.

    Returns
    -------
    events : pandas.DataFrame
        Columns ``subject_id`` (``person_id``), ``time`` (the event's start
        datetime, or its date where the datetime is empty; naive, in UTC where
        the source holds times with a time zone, so that every machine reads
        the same times), ``code``
        (``vocabulary_id/concept_code`` of the concept, e.g.
        ``"SNOMED/192671"``) and ``numeric_value`` (``value_as_number`` of
        measurements and observations), sorted by subject, time and code.
        Rows whose concept is 0 or missing from ``concept``, whose
        ``person_id`` is empty, or whose start date and datetime are both
        empty are left out, and counted in a logged warning. In an export, a
        date is ``YYYY-MM-DD`` (a time may follow) and a datetime
        ``YYYY-MM-DD HH:MM:SS``, with a UTC offset (``+02:00``, ``Z``) if it
        has one.

    Raises
    ------
    FileNotFoundError
        If ``source`` is neither a file, a folder nor a URL.
    ValueError
        If a table or a column the query needs is missing (named in the
        message), ``tables`` names a table that is not an event table, or a
        column of an exported table holds values that cannot be read as its
        CDM type (a date such as ``05/03/2019`` or ``20190504``, an id that is
        not an integer): the message names the table, the column, the number
        of such values and one of them.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import pandas as pd
    >>> from skmed2vec import read_omop
    >>> folder = Path(tempfile.mkdtemp())
    >>> pd.DataFrame({"PERSON_ID": [1, 1], "CONDITION_CONCEPT_ID": [192671, 0],
    ...               "CONDITION_START_DATE": ["2019-05-01", "2019-06-01"]}
    ...              ).to_csv(folder / "CONDITION_OCCURRENCE.csv", index=False)
    >>> pd.DataFrame({"concept_id": [192671], "vocabulary_id": ["SNOMED"],
    ...               "concept_code": ["74474003"]}).to_csv(folder / "concept.csv", index=False)
    >>> read_omop(folder, tables=["condition_occurrence"])[["subject_id", "code"]]
       subject_id             code
    0           1  SNOMED/74474003
    """
    # Each table once: a table named twice would give each of its events twice.
    tables = list(dict.fromkeys([*tables, *(["visit_occurrence"] if visits else [])]))
    unknown = [t for t in tables if t not in OMOP_TABLES]
    if unknown or not tables:
        raise ValueError(
            f"tables must name OMOP event tables among {list(OMOP_TABLES)}; "
            f"got {unknown or tables}."
        )
    if schema is not None and not _IDENTIFIER.match(schema):
        raise ValueError(f"schema must be a plain SQL identifier; got {schema!r}.")
    parts = []
    with _connect(source, [*tables, "concept"]) as (connection, exports):
        concept_table = _require(
            connection, "concept", ["concept_id", "vocabulary_id", "concept_code"], schema, source
        )
        for table in tables:
            stem, time_stem, value = OMOP_TABLES[table]
            concept = f"{stem}_source_concept_id" if concepts == "source" else f"{stem}_concept_id"
            needed = ["person_id", f"{time_stem}_date", concept]
            needed += [value] if value else []
            needed += [f"{stem}_source_value"] if concepts == "source" else []
            events = _require(connection, table, needed, schema, source)
            sql = _event_sql(table, events, concept_table, concepts)
            read = {table: [*needed, f"{time_stem}_datetime"], "concept": ["concept_id"]}
            frame = _checked_query(connection, exports, sql, table, verbose, read)
            if frame is None:
                continue
            codes, keep = _codes(frame, table, concepts)
            no_person = frame["no_person"].to_numpy() == 1
            no_person &= keep
            if no_person.any():
                logger.warning(
                    "read_omop: %d %s rows have no person_id and were left out",
                    int(no_person.sum()),
                    table,
                )
                keep &= ~no_person
            time = _naive_utc(frame["event_datetime"], table, f"{time_stem}_datetime").fillna(
                _naive_utc(frame["event_date"], table, f"{time_stem}_date").dt.normalize()
            )
            undated = time.isna().to_numpy() & keep
            if undated.any():
                logger.warning(
                    "read_omop: %d %s rows have no date and were left out",
                    int(undated.sum()),
                    table,
                )
                keep &= ~undated
            parts.append(
                pd.DataFrame(
                    {
                        "subject_id": _person_ids(frame["subject_id"][keep], table),
                        "time": time[keep].astype("datetime64[us]"),
                        "code": codes[keep],
                        "numeric_value": pd.to_numeric(frame["numeric_value"][keep]).astype(
                            np.float64
                        ),
                    }
                )
            )
    columns = {"subject_id": np.int64, "time": "datetime64[us]", "code": object}
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in columns.items()}).assign(
            numeric_value=np.float64()
        )
    events = pd.concat(parts, ignore_index=True)
    return events.sort_values(
        ["subject_id", "time", "code", "numeric_value"], kind="stable", ignore_index=True
    )


@validate_params(
    {"source": [str, os.PathLike, HasMethods(["connect", "dispose"])], "schema": [str, None]},
    prefer_skip_nested_validation=True,
)
def read_omop_ancestors(source, *, schema=None):
    """Read the OMOP concept hierarchy (``concept_ancestor``) as code pairs.

    Parameters
    ----------
    source : str, path-like or sqlalchemy.engine.Engine
        As for :func:`read_omop`.
    schema : str, default=None
        Database schema holding the vocabulary tables.

    Returns
    -------
    ancestors : pandas.DataFrame
        One row per (code, ancestor) pair with columns ``code``, ``ancestor``
        (both ``vocabulary_id/concept_code``, as :func:`read_omop` writes
        them) and ``levels`` (``min_levels_of_separation``, 1 for a parent),
        sorted by code, levels and ancestor; a concept is not its own
        ancestor. As a fallback for unseen codes and as a grouping::

            parents = ancestors.groupby("code")["ancestor"].agg(list).to_dict()
            CodeVocabulary(fallback_to_parent=parents)
            first = ancestors[ancestors["levels"] == 1].drop_duplicates("code")
            CodeVocabulary(grouping=dict(zip(first["code"], first["ancestor"])))

    Raises
    ------
    ValueError
        If ``concept_ancestor`` or ``concept`` (or a needed column) is missing,
        or an exported id or level is not an integer (named as by
        :func:`read_omop`).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import pandas as pd
    >>> from skmed2vec import read_omop_ancestors
    >>> folder = Path(tempfile.mkdtemp())
    >>> pd.DataFrame({"concept_id": [1, 2, 3], "vocabulary_id": ["SNOMED"] * 3,
    ...               "concept_code": ["74474003", "2704003", "64572001"]}
    ...              ).to_parquet(folder / "concept.parquet")
    >>> pd.DataFrame({"ancestor_concept_id": [2, 3, 1], "descendant_concept_id": [1, 1, 1],
    ...               "min_levels_of_separation": [1, 2, 0]}
    ...              ).to_parquet(folder / "concept_ancestor.parquet")
    >>> read_omop_ancestors(folder).values.tolist()
    [['SNOMED/74474003', 'SNOMED/2704003', 1], ['SNOMED/74474003', 'SNOMED/64572001', 2]]
    """
    if schema is not None and not _IDENTIFIER.match(schema):
        raise ValueError(f"schema must be a plain SQL identifier; got {schema!r}.")
    with _connect(source, ["concept", "concept_ancestor"]) as (connection, exports):
        c = _require(
            connection, "concept", ["concept_id", "vocabulary_id", "concept_code"], schema, source
        )
        x = _require(
            connection,
            "concept_ancestor",
            ["ancestor_concept_id", "descendant_concept_id", "min_levels_of_separation"],
            schema,
            source,
        )
        sql = (
            f"SELECT d.{c['vocabulary_id']} AS d_vocabulary, d.{c['concept_code']} AS d_code, "
            f"a.{c['vocabulary_id']} AS a_vocabulary, a.{c['concept_code']} AS a_code, "
            f"x.{x['min_levels_of_separation']} AS levels "
            f"FROM {x.sql} x "
            f"JOIN {c.sql} d ON d.{c['concept_id']} = x.{x['descendant_concept_id']} "
            f"JOIN {c.sql} a ON a.{c['concept_id']} = x.{x['ancestor_concept_id']} "
            f"WHERE x.{x['ancestor_concept_id']} <> x.{x['descendant_concept_id']}"
        )
        read = {
            "concept": ["concept_id"],
            "concept_ancestor": [
                "ancestor_concept_id",
                "descendant_concept_id",
                "min_levels_of_separation",
            ],
        }
        frame = _checked_query(connection, exports, sql, "concept_ancestor", 0, read)
    if frame is None:
        return pd.DataFrame({"code": [], "ancestor": [], "levels": []}).astype({"levels": np.int64})
    named = frame[["d_vocabulary", "d_code", "a_vocabulary", "a_code"]].notna().all(axis=1)
    if not named.all():
        logger.warning(
            "read_omop_ancestors: %d (ancestor, descendant) pairs have a concept without "
            "its vocabulary_id or concept_code and were left out",
            int((~named).sum()),
        )
        frame = frame[named]
    levels = pd.to_numeric(frame["levels"].astype(object), errors="coerce")
    if levels.isna().any():
        raise ValueError(
            "concept_ancestor.min_levels_of_separation is missing for "
            f"{int(levels.isna().sum())} (ancestor, descendant) pairs; it is required."
        )
    ancestors = pd.DataFrame(
        {
            "code": frame["d_vocabulary"].astype(str) + "/" + frame["d_code"].astype(str),
            "ancestor": frame["a_vocabulary"].astype(str) + "/" + frame["a_code"].astype(str),
            "levels": levels.astype(np.int64),
        }
    )
    ancestors = ancestors.sort_values(["code", "levels", "ancestor"], ignore_index=True)
    # A pair given twice (overlapping part files) is one pair, at its fewest levels.
    return ancestors.drop_duplicates(["code", "ancestor"], ignore_index=True)
