"""A folder of OMOP CDM table exports (CSV or parquet) as DuckDB views with the CDM's types.

Every value is cast to its column's CDM type strictly; when a query fails, the
export names the column and the values that could not be cast. The folder's
DuckDB runs in UTC, so times come out the same on every machine.
"""

__all__ = ["MISSING_TEXT", "folder_engine", "quote"]

_TEXT_IDS = {"vocabulary_id", "domain_id", "concept_class_id", "relationship_id"}


def quote(name):
    """A SQL identifier, double-quoted."""
    return '"' + name.replace('"', '""') + '"'


#: Above 2**53 a double no longer holds every integer: an id read through one may
#: be another's.
_EXACT_DOUBLE = 2**53


def _export_files(folder, table):
    """Files of one exported table: ``table.parquet``/``.csv[.gz]`` or a ``table/`` folder.

    Several files or folders named after one table (``condition_occurrence.csv``
    beside its ``.csv.gz``, ``CONDITION_OCCURRENCE.parquet``, a
    ``condition_occurrence.2019.csv``), or a folder of parts of two formats, are
    refused: whether they are copies or parts cannot be told, and reading one
    would drop rows, reading all could repeat them. Parts go in a folder.
    """
    entries = [e for e in sorted(folder.iterdir()) if e.name.split(".")[0].lower() == table]
    folders = [e for e in entries if e.is_dir()]
    files = [e for e in entries if not e.is_dir() and _export_kind(e)]
    several = len(folders) + len(files) > 1
    for entry in folders:
        files += sorted(
            p for p in entry.rglob("*") if _export_kind(p) and not p.name.startswith(".")
        )
    if several or len({_export_kind(f) for f in files}) > 1:
        shown = ", ".join(str(f.relative_to(folder)) for f in files[:4])
        raise ValueError(
            f"{folder} holds the {table} table in more than one form ({shown}"
            f"{', ...' if len(files) > 4 else ''}); keep one export of it: one file, or a "
            "folder of parts of one format."
        )
    return files


def _export_kind(path):
    name = path.name.lower()
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith((".csv", ".csv.gz")):
        return "csv"
    return None


def _cdm_type(name, kind):
    """The CDM type of an exported column: ids and values numbers, dates dates, codes text.

    Parameters
    ----------
    name : str
        The column's name, in either case.
    kind : {"csv", "parquet"}
        The export's format; parquet columns other than ids, dates and values
        keep their stored type.

    Returns
    -------
    cdm_type : str or None
        ``"BIGINT"``, ``"DOUBLE"``, ``"DATE"``, ``"TIMESTAMP"`` or
        ``"VARCHAR"``; None to keep the stored type.
    """
    lower = name.lower()
    if not (
        kind == "csv" or lower.endswith(("_id", "_date", "_datetime")) or lower.startswith("value_")
    ):
        return None
    if lower in _TEXT_IDS:
        return "VARCHAR"
    if lower.endswith("_id") or lower.endswith("levels_of_separation"):
        return "BIGINT"
    if lower.endswith("_date"):
        return "DATE"
    if lower.endswith("_datetime"):
        return "TIMESTAMP"
    if lower == "value_as_number":
        return "DOUBLE"
    return "VARCHAR"


#: Text that stands for a missing value in exports: empty, or R's and SQL's markers
#: (``\N``: PostgreSQL's and MySQL's text dumps).
MISSING_TEXT = ("", "NA", "NaN", "NULL", "null", "N/A", "\\N")


def _blank_is_null(value):
    """SQL of a text column's trimmed value, NULL where it marks a missing value."""
    markers = ", ".join(f"'{m}'" for m in MISSING_TEXT)
    return f"CASE WHEN TRIM({value}) IN ({markers}) THEN NULL ELSE TRIM({value}) END"


def _cast(name, stored, cdm_type, cast="CAST"):
    """SQL giving the column ``name`` its CDM type.

    Parameters
    ----------
    name : str
        The column's name as stored.
    stored : str
        Its stored DuckDB type (``"VARCHAR"`` for every CSV column).
    cdm_type : str
        Its CDM type, from :func:`_cdm_type`.
    cast : {"CAST", "TRY_CAST"}, default="CAST"
        ``CAST`` fails on a value the type cannot hold; ``TRY_CAST`` gives NULL.

    Returns
    -------
    sql : str
        The expression. Blank text and missing-value markers (``NA``,
        ``NULL``...) are NULL. Dates and times go through
        ``TIMESTAMPTZ`` in the session's UTC: a time with a UTC offset becomes
        the UTC time, a time or date without one stays as it is.
    """
    value = quote(name)
    if cdm_type == "VARCHAR":
        return f"{cast}({value} AS VARCHAR)"
    if stored == "VARCHAR":
        value = _blank_is_null(value)
    if cdm_type in ("DATE", "TIMESTAMP"):
        return f"CAST({cast}({value} AS TIMESTAMPTZ) AS {cdm_type})"
    if cdm_type == "BIGINT":
        # DuckDB rounds 1.5 to 2 when casting to an integer: only whole numbers
        # ("7", "7.0", 7.0) pass; anything else fails the cast (or is NULL).
        other = "NULL" if cast == "TRY_CAST" else "error('not an integer')"
        if stored == "VARCHAR":
            # Digits are cast as written (exact for any 64-bit id); scientific
            # notation (R writes 100000 as "1e+05") through a double, when whole
            # and within 2**53, where a double still holds the id exactly.
            plain = f"regexp_full_match({value}, '[+-]?[0-9]+(\\.0*)?')"
            number = f"regexp_replace({value}, '\\.0*$', '')"
            double = f"TRY_CAST({value} AS DOUBLE)"
            cases = (
                f"WHEN {plain} THEN {cast}({number} AS BIGINT) "
                f"WHEN {double} = floor({double}) AND abs({double}) <= {_EXACT_DOUBLE} "
                f"THEN {cast}({double} AS BIGINT) "
            )
        elif stored in ("FLOAT", "DOUBLE"):
            cases = (
                f"WHEN {value} = floor({value}) AND abs({value}) <= {_EXACT_DOUBLE} "
                f"THEN {cast}({value} AS BIGINT) "
            )
        elif stored.startswith("DECIMAL"):
            cases = f"WHEN {value} = floor({value}) THEN {cast}({value} AS BIGINT) "
        else:
            return f"{cast}({value} AS BIGINT)"
        return f"{cast}(CASE WHEN {value} IS NULL THEN NULL {cases}ELSE {other} END AS BIGINT)"
    return f"{cast}({value} AS {cdm_type})"


class _Export:
    """An exported table: the scan of its files and the types of its columns."""

    def __init__(self, files, scan, columns):
        self.files = files
        self.scan = scan
        self.columns = columns  # lower-cased name -> (name, stored type, CDM type or None)

    def unparsable(self, connection, table, names):
        """Describe the first column of ``names`` holding values its CDM type cannot hold.

        Parameters
        ----------
        connection : sqlalchemy.engine.Connection
            The connection to the folder's DuckDB.
        table : str
            The table's name, for the message.
        names : iterable of str
            Lower-cased names of the columns to check.

        Returns
        -------
        message : str or None
            The table, its file, the column, the number of such values and
            one of them; None if every value can be cast.
        """
        for lower in names:
            if lower not in self.columns:
                continue
            name, stored, cdm_type = self.columns[lower]
            if cdm_type in (None, "VARCHAR"):
                continue
            value = quote(name)
            filled = _blank_is_null(value) if stored == "VARCHAR" else value
            typed = _cast(name, stored, cdm_type, "TRY_CAST")
            n, example = connection.exec_driver_sql(
                f"SELECT COUNT(*), MIN(CAST({value} AS VARCHAR)) FROM {self.scan} "
                f"WHERE {filled} IS NOT NULL AND {typed} IS NULL"
            ).one()
            if not n:
                continue
            where = self.files[0].name if len(self.files) == 1 else f"{self.files[0].parent}"
            one, many, hint = _UNPARSABLE[cdm_type]
            return (
                f"table {table!r} ({where}): column {name!r} has "
                + (f"1 value that is not {one}" if n == 1 else f"{n:,} values that are not {many}")
                + f", e.g. {example!r}; {hint}"
            )
        return None


#: What a value of each CDM type must be: (singular, plural, how to write it).
_UNPARSABLE = {
    "DATE": ("a date", "dates", "write dates as YYYY-MM-DD (or YYYY-MM-DD HH:MM:SS)."),
    "TIMESTAMP": (
        "a date and time",
        "dates and times",
        "write times as YYYY-MM-DD HH:MM:SS, with a UTC offset (+02:00, Z) if they have one.",
    ),
    "BIGINT": ("an integer", "integers", "write ids and levels as whole numbers."),
    "DOUBLE": ("a number", "numbers", "leave missing values empty."),
}


def _utc_session(dbapi_connection, connection_record):
    """Set a new DuckDB connection's ``TimeZone`` to UTC.

    DuckDB converts between ``TIMESTAMP WITH TIME ZONE`` and ``TIMESTAMP`` or
    ``DATE`` in its session time zone, which follows the machine's; in UTC the
    views' casts give the same times on every machine.

    Parameters
    ----------
    dbapi_connection : duckdb_engine.ConnectionWrapper
        The new connection.
    connection_record : sqlalchemy.pool.ConnectionPoolEntry
        Its pool entry (unused).
    """
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SET TimeZone = 'UTC'")
    finally:
        cursor.close()


def _one_row_per_concept(connection, folder, files, select, scan, columns):
    """Keep one row per concept_id, refusing an id given two different codes.

    Part files that overlap repeat concept rows, and every event joining a
    repeated concept would come out twice. The stored values are compared
    (``TRY_CAST``: an id that is not a number fails later, where the reader
    names it), rows without an id are left alone.
    """
    concept_id, vocabulary, code = (
        quote(columns[name][0]) for name in ("concept_id", "vocabulary_id", "concept_code")
    )
    row = connection.exec_driver_sql(
        f"SELECT id, COUNT(DISTINCT ({vocabulary}, {code})) FROM "
        f"(SELECT TRY_CAST({concept_id} AS BIGINT) AS id, {vocabulary}, {code} FROM {scan}) "
        "WHERE id IS NOT NULL GROUP BY id HAVING COUNT(*) > 1 ORDER BY 2 DESC, 1 LIMIT 1"
    ).first()
    if row is None:
        return
    if row[1] > 1:
        raise ValueError(
            f"the concept table of {folder} ({files[0].name}"
            f"{', ...' if len(files) > 1 else ''}) gives concept_id {row[0]} {row[1]} "
            "different codes; a concept_id names one concept."
        )
    connection.exec_driver_sql(
        f"CREATE OR REPLACE VIEW concept AS SELECT {select} FROM {scan} "
        "QUALIFY row_number() OVER (PARTITION BY concept_id) = 1"
    )


def folder_engine(folder, tables, sqlalchemy):
    """An in-memory DuckDB with one view per exported table, columns lower-cased and typed."""
    engine = sqlalchemy.create_engine("duckdb:///:memory:")
    sqlalchemy.event.listen(engine, "connect", _utc_session)
    exports = {}
    with engine.begin() as connection:
        for table in tables:
            files = _export_files(folder, table)
            if not files:
                continue
            kind = _export_kind(files[0])
            paths = "[" + ", ".join("'" + str(f).replace("'", "''") + "'" for f in files) + "]"
            if kind == "parquet":
                scan = f"read_parquet({paths}, union_by_name=true)"
            else:
                scan = f"read_csv({paths}, header=true, all_varchar=true, union_by_name=true)"
            described = connection.exec_driver_sql(f"DESCRIBE SELECT * FROM {scan}").all()
            columns = {
                row[0].lower(): (row[0], row[1], _cdm_type(row[0], kind)) for row in described
            }
            select = ", ".join(
                (quote(name) if cdm_type is None else _cast(name, stored, cdm_type))
                + f" AS {quote(lower)}"
                for lower, (name, stored, cdm_type) in columns.items()
            )
            connection.exec_driver_sql(f"CREATE VIEW {table} AS SELECT {select} FROM {scan}")
            concept_columns = {"concept_id", "vocabulary_id", "concept_code"}
            if table == "concept" and len(files) > 1 and concept_columns <= set(columns):
                # Only part files can overlap; one file is taken as it is.
                _one_row_per_concept(connection, folder, files, select, scan, columns)
            exports[table] = _Export(files, scan, columns)
    return engine, exports
