"""Reader for the MIMIC-IV ``hosp`` module as PhysioNet distributes it (CSV or CSV.gz)."""

import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import validate_params

__all__ = ["read_mimic_iv"]

logger = logging.getLogger(__name__)

#: Tables read by default, and the columns each needs (MIMIC-IV 2.x ``hosp`` schema).
MIMIC_TABLES = {
    "diagnoses_icd": ("subject_id", "hadm_id", "icd_code", "icd_version"),
    "procedures_icd": ("subject_id", "chartdate", "icd_code", "icd_version"),
    "prescriptions": ("subject_id", "starttime", "drug", "ndc"),
    "labevents": ("subject_id", "itemid", "charttime", "valuenum", "valueuom"),
}
_ADMISSIONS = ("hadm_id", "dischtime")
_CHUNK_ROWS = 1_000_000
_PATH = [str, os.PathLike]


def _hosp_file(root, table):
    """``root/hosp/<table>.csv.gz`` (or ``.csv``; ``root`` may be the ``hosp`` folder)."""
    root = Path(root)
    folders = [root / "hosp", root]
    for folder in folders:
        for suffix in (".csv.gz", ".csv"):
            file = folder / f"{table}{suffix}"
            if file.is_file():
                return file
    raise FileNotFoundError(
        f"no {table}.csv.gz (or .csv) in {root / 'hosp'}: pass the MIMIC-IV folder that holds "
        "hosp/, or leave the table out with tables=..."
    )


def _read(file, columns, verbose):
    """The ``columns`` of a CSV file as strings, read in chunks with progress."""
    header = pd.read_csv(file, nrows=0).columns
    missing = [c for c in columns if c not in header]
    if missing:
        raise ValueError(
            f"{file} has no {missing[0]!r} column, which the MIMIC-IV schema has; its "
            f"columns are {list(header)}."
        )
    parts, n_rows = [], 0
    reader = pd.read_csv(
        file, usecols=list(columns), dtype=str, keep_default_na=False, chunksize=_CHUNK_ROWS
    )
    for part in reader:
        parts.append(part)
        n_rows += len(part)
        message = f"read_mimic_iv: {file.name}, {n_rows:,} rows"
        logger.info(message)
        if verbose:
            print(message)
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=str) for c in columns})
    return pd.concat(parts, ignore_index=True)[list(columns)]


def _times(values, file, column):
    times = pd.to_datetime(values.replace("", None), format="ISO8601", errors="coerce")
    bad = times.isna() & values.ne("")
    if bad.any():
        raise ValueError(
            f"{file}: column {column!r} has a value that is not a date, "
            f"{values[bad].iloc[0]!r} at row {int(np.flatnonzero(bad)[0])}."
        )
    return times


def _icd_codes(table, kind):
    version = table["icd_version"].str.strip()
    bad = ~version.isin(["9", "10"])
    if bad.any():
        raise ValueError(
            f"icd_version must be 9 or 10; got {version[bad].iloc[0]!r} "
            f"at row {int(np.flatnonzero(bad)[0])}."
        )
    code = table["icd_code"].str.strip()
    # No code, no event: left out with the other rows without one.
    return (f"{kind}//ICD//" + version + "//" + code).where(code.ne(""))


def _drop(frame, keep, what):
    n = int((~keep).sum())
    if n:
        logger.warning("read_mimic_iv: %d %s left out", n, what)
    return frame[keep]


@validate_params(
    {"root": _PATH, "tables": [list, tuple], "verbose": ["verbose"]},
    prefer_skip_nested_validation=True,
)
def read_mimic_iv(root, *, tables=tuple(MIMIC_TABLES), verbose=0):
    """Read the MIMIC-IV ``hosp`` module as one long table of coded events.

    Codes follow the MIMIC-IV MEDS conventions, with the system first:

    - ``DIAGNOSIS//ICD//{9,10}//<icd_code>`` from ``diagnoses_icd``, dated by
      the admission's discharge time (``admissions.dischtime``), since
      diagnoses are coded at discharge;
    - ``PROCEDURE//ICD//{9,10}//<icd_code>`` from ``procedures_icd``, at
      ``chartdate`` (midnight: before an admission later that day, so cut a
      prediction at admission to the start of its day);
    - ``MEDICATION//NDC//<ndc>`` from ``prescriptions`` at ``starttime``, or
      ``MEDICATION//DRUG//<drug name>`` where the NDC is 0 or missing;
    - ``LAB//<itemid>//<valueuom>`` (``LAB//<itemid>`` without a unit) from
      ``labevents`` at ``charttime``, with ``valuenum`` as ``numeric_value``.

    ICD codes are kept as PhysioNet writes them (undotted, leading zeros kept);
    ``CodeVocabulary(grouping="icd_category")`` groups the ICD-9 and ICD-10
    diagnoses, each by its own rule.

    Parameters
    ----------
    root : str or path-like
        The MIMIC-IV folder holding ``hosp/`` (or the ``hosp`` folder itself),
        with the tables as ``<table>.csv.gz`` or ``<table>.csv``.
    tables : sequence of str, default=("diagnoses_icd", "procedures_icd", \
"prescriptions", "labevents")
        The tables to read; ``admissions`` is read too when diagnoses are.
    verbose : int, default=0
        Print the progress of the rows read (``labevents`` has over 100 million).

    Returns
    -------
    events : pandas.DataFrame
        Columns ``subject_id`` (int64), ``time`` (datetime64), ``code`` and
        ``numeric_value`` (float, missing except for labs), sorted by subject,
        time and code. Only the needed columns are read. Rows without a time
        or code (diagnoses of an admission absent from ``admissions``,
        prescriptions without NDC nor drug name, labs without a time) are left
        out, and counted in a logged warning.

    Raises
    ------
    FileNotFoundError
        If a table's file is missing (named in the message).
    ValueError
        If a file lacks a column of the MIMIC-IV schema, a time cannot be
        parsed, or ``tables`` names a table this reader does not know.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skmed2vec import read_mimic_iv
    >>> root = Path(tempfile.mkdtemp())
    >>> (root / "hosp").mkdir()
    >>> _ = (root / "hosp" / "admissions.csv").write_text(
    ...     "subject_id,hadm_id,admittime,dischtime\\n"
    ...     "10000032,22595853,2180-05-06 22:23:00,2180-05-07 17:15:00\\n")
    >>> _ = (root / "hosp" / "diagnoses_icd.csv").write_text(
    ...     "subject_id,hadm_id,seq_num,icd_code,icd_version\\n"
    ...     "10000032,22595853,1,5723,9\\n")
    >>> read_mimic_iv(root, tables=["diagnoses_icd"])[["time", "code"]].values.tolist()
    [[Timestamp('2180-05-07 17:15:00'), 'DIAGNOSIS//ICD//9//5723']]
    """
    tables = list(dict.fromkeys(tables))  # a table named twice is read once
    unknown = [t for t in tables if t not in MIMIC_TABLES]
    if unknown or not tables:
        raise ValueError(
            f"tables must name MIMIC-IV hosp tables among {list(MIMIC_TABLES)}; "
            f"got {unknown or tables}."
        )
    files = {t: _hosp_file(root, t) for t in tables}
    if "diagnoses_icd" in tables:
        files["admissions"] = _hosp_file(root, "admissions")
    parts = []
    for table in tables:
        file = files[table]
        frame = _read(file, MIMIC_TABLES[table], verbose)
        value = pd.Series(np.nan, index=frame.index)
        if table == "diagnoses_icd":
            admissions = _read(files["admissions"], _ADMISSIONS, verbose)
            discharge = pd.Series(
                _times(admissions["dischtime"], files["admissions"], "dischtime").to_numpy(),
                index=admissions["hadm_id"],
            )
            discharge = discharge[~discharge.index.duplicated()]
            # reindex, not map: map casts an empty lookup to float and fails.
            time = pd.Series(discharge.reindex(frame["hadm_id"]).to_numpy(), index=frame.index)
            code = _icd_codes(frame, "DIAGNOSIS")
        elif table == "procedures_icd":
            time = _times(frame["chartdate"], file, "chartdate")
            code = _icd_codes(frame, "PROCEDURE")
        elif table == "prescriptions":
            time = _times(frame["starttime"], file, "starttime")
            ndc = frame["ndc"].str.strip()
            has_ndc = ndc.ne("") & ndc.str.strip("0").ne("")
            drug = frame["drug"].str.strip()
            code = pd.Series(pd.NA, index=frame.index, dtype=object)
            code[has_ndc] = "MEDICATION//NDC//" + ndc[has_ndc]
            named = ~has_ndc & drug.ne("")
            code[named] = "MEDICATION//DRUG//" + drug[named]
        else:
            time = _times(frame["charttime"], file, "charttime")
            unit = frame["valueuom"].str.strip()
            code = "LAB//" + frame["itemid"].str.strip()
            code = code.where(unit.eq(""), code + "//" + unit)
            value = pd.to_numeric(frame["valuenum"].replace("", None), errors="coerce")
        part = pd.DataFrame(
            {
                "subject_id": frame["subject_id"],
                "time": time,
                "code": code,
                "numeric_value": value,
            }
        )
        part = _drop(part, part["time"].notna() & part["code"].notna(), f"{table} rows")
        parts.append(part)
    events = pd.concat(parts, ignore_index=True)
    events["subject_id"] = events["subject_id"].astype(np.int64)
    events["time"] = events["time"].astype("datetime64[s]")
    events["code"] = events["code"].astype(str)
    events["numeric_value"] = events["numeric_value"].astype(np.float64)
    return events.sort_values(["subject_id", "time", "code"], kind="stable", ignore_index=True)
