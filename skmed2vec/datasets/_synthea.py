"""Loaders for Synthea CSV exports: coded events, drug indications, module membership."""

import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import StrOptions, validate_params

_PATH = [str, os.PathLike]
logger = logging.getLogger(__name__)

__all__ = [
    "load_synthea_events",
    "load_synthea_indications",
    "load_synthea_modules",
    "load_synthea_patients",
]


# -- Synthea ------------------------------------------------------------------
# For each table: file name, code system prefix, and the accepted column names
# of each role (the renamed headers of some exports first, then Synthea's own).
_SYNTHEA_TABLES = {
    "conditions": ("conditions.csv", "SNOMED:"),
    "medications": ("medications.csv", "RXNORM:"),
    "careplans": ("careplans.csv", "SNOMED:"),
    "allergies": ("allergies.csv", "SNOMED:"),
}
_SYNTHEA_COLUMNS = {
    "time": ("med_start_date", "START"),
    "subject_id": ("med_pat_id", "PATIENT"),
    "code": ("med_code", "CODE"),
    "description": ("med_description", "DESCRIPTION"),
    "reason": ("med_reason_code", "REASONCODE"),
    "reason_description": ("med_reason_description", "REASONDESCRIPTION"),
    "patient": ("pat_id", "Id"),
    "birth": ("birth_date", "BIRTHDATE"),
    "death": ("death_date", "DEATHDATE"),
    "gender": ("gender", "GENDER"),
    "race": ("race", "RACE"),
    "ethnicity": ("ethnicity", "ETHNICITY"),
    "system": ("SYSTEM",),  # Synthea 3: the code system of each row (optional)
}
# Systems as OMOP vocabulary ids, for the "vocabulary_id/concept_code" form.
_OMOP_VOCABULARIES = {"SNOMED": "SNOMED", "RXNORM": "RxNorm", "LOINC": "LOINC"}
_SYSTEM_PREFIXES = {
    "SNOMED-CT": "SNOMED:",
    "RXNORM": "RXNORM:",
    "LOINC": "LOINC:",
    # FHIR system URIs, as conversions from Synthea's FHIR output write them.
    "HTTP://SNOMED.INFO/SCT": "SNOMED:",
    "HTTP://WWW.NLM.NIH.GOV/RESEARCH/UMLS/RXNORM": "RXNORM:",
    "HTTP://LOINC.ORG": "LOINC:",
}


def _find_file(path, name):
    """Path of the file ``name`` in the folder ``path`` (or ``path`` itself)."""
    path = Path(path)
    if path.is_file() and path.name == name:
        return path
    file = path / name
    if not file.is_file():
        what = "" if path.is_dir() else " (a file)" if path.exists() else " (which does not exist)"
        raise FileNotFoundError(
            f"no {name} in {path}{what}: pass the folder holding the Synthea CSV files."
        )
    return file


def _read_csv(file, roles, optional=()):
    """Read the columns playing ``roles`` (and ``optional`` ones if present) from
    ``file``, as strings named by role."""
    header = pd.read_csv(file, nrows=0).columns
    chosen = {}
    optional = [r for r in optional if any(c in header for c in _SYNTHEA_COLUMNS[r])]
    roles = [*roles, *optional]
    for role in roles:
        names = _SYNTHEA_COLUMNS[role]
        found = [c for c in names if c in header]
        if not found:
            raise ValueError(
                f"{file} has no {role} column (looked for {' or '.join(names)}); "
                f"its columns are {list(header)}."
            )
        chosen[found[0]] = role
    table = pd.read_csv(file, usecols=list(chosen), dtype=str, keep_default_na=False)
    table = table.rename(columns=chosen)[list(roles)]
    for role in roles:
        table[role] = table[role].str.strip()
    table.attrs["columns"] = {role: name for name, role in chosen.items()}  # as in the file
    return table


def _utc_times(values, **kwargs):
    """ISO 8601 dates and datetimes as naive UTC times.

    Synthea writes some tables' times as dates (``2019-02-17``) and others as
    UTC datetimes (``2019-02-17T05:07:38Z``). Times with a UTC offset are
    converted to UTC; dates and times without one are taken as they are.

    Parameters
    ----------
    values : pandas.Series of str
        The times as written in the file.
    **kwargs
        Passed to :func:`pandas.to_datetime` (``errors="coerce"``).

    Returns
    -------
    times : pandas.Series of datetime64
        Naive times, in UTC where the file gave an offset.
    """
    times = pd.to_datetime(values, format="ISO8601", utc=True, **kwargs)
    return times.dt.tz_localize(None)


def _parse_dates(values, file, column):
    try:
        return _utc_times(values)
    except (ValueError, TypeError) as exc:
        raise ValueError(
            f"could not parse the dates of column {column!r} of {file}: {exc}"
        ) from None


@validate_params(
    {
        "path": _PATH,
        "tables": [str, list, tuple],
        "separator": [StrOptions({":", "/", "//"})],
    },
    prefer_skip_nested_validation=True,
)
def load_synthea_events(
    path, *, tables=("conditions", "medications", "careplans", "allergies"), separator=":"
):
    """Load Synthea CSV tables as one long table of coded events.

    Each row of a table becomes an event at its start date. Rows without a
    start date, a patient or a code are dropped, with a logged warning that
    counts them.

    Parameters
    ----------
    path : str or pathlib.Path
        Folder holding the CSV files (``conditions.csv``, ``medications.csv``,
        ``careplans.csv``, ``allergies.csv``). Both Synthea's own headers
        (``START``, ``PATIENT``, ``CODE``, ``DESCRIPTION``) and the renamed
        medication headers (``med_start_date``, ``med_pat_id``, ``med_code``,
        ``med_description``) are understood.
    tables : sequence of str, default=("conditions", "medications", "careplans", \
"allergies")
        Which tables to load.
    separator : {":", "/", "//"}, default=":"
        Between system and code: ``"SNOMED:44054006"``; with ``"/"`` the OMOP
        form, with OMOP vocabulary ids (``"SNOMED/44054006"``,
        ``"RxNorm/860975"``); with ``"//"`` the MEDS form (``"SNOMED//44054006"``).

    Returns
    -------
    events : pandas.DataFrame
        One row per event, sorted by subject, time and code, with columns
        ``subject_id``, ``time`` (naive datetime64: dates and times without a
        UTC offset as written, times with one, such as Synthea's
        ``2019-02-17T05:07:38Z``, converted to UTC), ``code`` (prefixed by its
        system: ``"SNOMED:<code>"`` for conditions, care plans and allergies,
        ``"RXNORM:<code>"`` for medications; where a file has Synthea 3's
        ``SYSTEM`` column, each row's system, so a drug allergy is
        ``"RXNORM:7980"``), ``table`` (the table it came
        from) and ``description``. Pass it to
        :func:`~skmed2vec.events_to_timelines`.

    Raises
    ------
    FileNotFoundError
        If a table's CSV file is not in ``path``.
    ValueError
        If a table is unknown, a file lacks a needed column, or a date cannot
        be parsed.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skmed2vec.datasets import load_synthea_events
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "conditions.csv").write_text(
    ...     "START,PATIENT,CODE,DESCRIPTION\\n"
    ...     "2015-03-01,p1,44054006,Diabetes\\n"
    ...     "2012-07-09,p1,38341003,Hypertension\\n"
    ...     ",p2,38341003,Hypertension\\n")
    >>> events = load_synthea_events(folder, tables=["conditions"])
    >>> events["code"].tolist(), len(events)
    (['SNOMED:38341003', 'SNOMED:44054006'], 2)
    """
    if isinstance(tables, str):
        tables = [tables]
    tables = list(tables)
    if not tables:
        raise ValueError("tables must name at least one table.")
    unknown = [t for t in tables if t not in _SYNTHEA_TABLES]
    if unknown:
        raise ValueError(
            f"unknown Synthea table {unknown[0]!r}; choose from {list(_SYNTHEA_TABLES)}."
        )
    files = {t: _find_file(path, _SYNTHEA_TABLES[t][0]) for t in tables}
    parts = []
    for name, file in files.items():
        part = _read_csv(file, ("subject_id", "time", "code", "description"), ("system",))
        time_column = part.attrs["columns"]["time"]
        complete = (part["time"] != "") & (part["subject_id"] != "") & (part["code"] != "")
        if not complete.all():
            logger.warning(
                "%s: %d row(s) without a start date, a patient or a code were left out",
                file,
                int((~complete).sum()),
            )
        part = part[complete]
        prefix = _prefix(_SYNTHEA_TABLES[name][1], separator)
        if "system" in part:  # Synthea 3 allergies: RxNorm drugs beside SNOMED substances
            system = part["system"].str.upper()
            known = system.map(_SYSTEM_PREFIXES).fillna(system + ":")
            prefix = known.where(system != "", _SYNTHEA_TABLES[name][1])
            prefix = prefix.map(lambda p: _prefix(p, separator))
        part = part.assign(
            time=_parse_dates(part["time"], file, time_column),
            code=prefix + part["code"],
            table=name,
        )
        parts.append(part)
    events = pd.concat(parts, ignore_index=True)
    events = events[["subject_id", "time", "code", "table", "description"]]  # no "system"
    return events.sort_values(["subject_id", "time", "code"], kind="stable", ignore_index=True)


@validate_params({"path": _PATH}, prefer_skip_nested_validation=True)
def load_synthea_indications(path):
    """Load the drug–indication pairs of Synthea's medications table.

    Synthea records, for many prescriptions, the condition the drug treats
    (``med_reason_code`` or ``REASONCODE``). Prescriptions without a reason
    are dropped.

    Parameters
    ----------
    path : str or pathlib.Path
        Folder holding ``medications.csv`` (or the file itself).

    Returns
    -------
    indications : pandas.DataFrame
        One row per distinct pair, most frequent first, with columns ``drug``
        (``"RXNORM:<code>"``), ``indication`` (``"SNOMED:<code>"``), ``n`` (the
        number of prescriptions with that pair), ``drug_description`` and
        ``indication_description``.

    Raises
    ------
    FileNotFoundError
        If ``medications.csv`` is not in ``path``.
    ValueError
        If the file lacks a needed column.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skmed2vec.datasets import load_synthea_indications
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "medications.csv").write_text(
    ...     "START,PATIENT,CODE,DESCRIPTION,REASONCODE,REASONDESCRIPTION\\n"
    ...     "2015-03-01,p1,860975,Metformin,44054006,Diabetes\\n"
    ...     "2016-03-01,p2,860975,Metformin,44054006,Diabetes\\n"
    ...     "2016-05-01,p2,282464,Acetaminophen,,\\n")
    >>> load_synthea_indications(folder)[["drug", "indication", "n"]].values.tolist()
    [['RXNORM:860975', 'SNOMED:44054006', 2]]
    """
    file = _find_file(path, _SYNTHEA_TABLES["medications"][0])
    roles = ("code", "reason", "description", "reason_description")
    meds = _read_csv(file, roles)
    meds = meds[(meds["code"] != "") & (meds["reason"] != "")]
    meds = meds.assign(drug="RXNORM:" + meds["code"], indication="SNOMED:" + meds["reason"])
    pairs = meds.groupby(["drug", "indication"], sort=True).agg(
        n=("drug", "size"),
        drug_description=("description", "first"),
        indication_description=("reason_description", "first"),
    )
    pairs = pairs.reset_index().sort_values("n", ascending=False, kind="stable")
    pairs["n"] = pairs["n"].astype(np.int64)
    return pairs.reset_index(drop=True)


@validate_params({"path": _PATH}, prefer_skip_nested_validation=True)
def load_synthea_modules(path):
    """Load the map from codes to the Synthea disease modules that emit them.

    Codes of the same module are clinically related (a disease, its drugs,
    care plans and procedures), which makes the map a ground truth for
    judging the nearest neighbours of code embeddings.

    Parameters
    ----------
    path : str or pathlib.Path
        Folder holding ``code_to_module.csv`` (or the file itself), with
        columns ``top_module``, ``system`` and ``code``.

    Returns
    -------
    modules : dict
        Code -> frozenset of top-level module names. Codes are prefixed by
        their system as in :func:`load_synthea_events`: ``"SNOMED:"`` for
        SNOMED-CT, ``"RXNORM:"`` for RxNorm, ``"LOINC:"`` for LOINC, and the
        upper-cased system name followed by ``":"`` for any other system. Rows
        without a code or module are dropped.

    Raises
    ------
    FileNotFoundError
        If ``code_to_module.csv`` is not in ``path``.
    ValueError
        If the file lacks a needed column.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skmed2vec.datasets import load_synthea_modules
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "code_to_module.csv").write_text(
    ...     "module,top_module,system,code\\n"
    ...     "diabetes,metabolic_syndrome,SNOMED-CT,44054006\\n"
    ...     "metformin,metabolic_syndrome,RxNorm,860975\\n"
    ...     "veteran_diabetes,veterans,SNOMED-CT,44054006\\n")
    >>> modules = load_synthea_modules(folder)
    >>> sorted(modules["SNOMED:44054006"]), sorted(modules)
    (['metabolic_syndrome', 'veterans'], ['RXNORM:860975', 'SNOMED:44054006'])
    """
    file = _find_file(path, "code_to_module.csv")
    header = pd.read_csv(file, nrows=0).columns
    missing = [c for c in ("top_module", "system", "code") if c not in header]
    if missing:
        raise ValueError(f"{file} has no {missing[0]!r} column; its columns are {list(header)}.")
    table = pd.read_csv(
        file, usecols=["top_module", "system", "code"], dtype=str, keep_default_na=False
    )
    table = table.apply(lambda column: column.str.strip())
    table = table[(table["code"] != "") & (table["top_module"] != "")]
    system = table["system"].str.upper()
    prefix = system.map(_SYSTEM_PREFIXES).fillna(system + ":")
    table = table.assign(code=prefix + table["code"])
    table = table.drop_duplicates(["code", "top_module"])
    return {
        code: frozenset(modules) for code, modules in table.groupby("code", sort=True)["top_module"]
    }


def _prefix(prefix, separator):
    """``"SNOMED:"`` in the form asked for: ``"SNOMED/"``, ``"RxNorm/"``, ``"SNOMED//"``."""
    system = prefix.rstrip(":")
    if separator == "/":
        system = _OMOP_VOCABULARIES.get(system, system)
    return system + separator


@validate_params({"path": _PATH}, prefer_skip_nested_validation=True)
def load_synthea_patients(path):
    """Load Synthea's patients table as MEDS events: static rows, birth and death.

    Parameters
    ----------
    path : str or pathlib.Path
        Folder holding ``patients.csv`` (or the file itself); Synthea's own
        headers (``Id``, ``BIRTHDATE``, ``GENDER``...) and the renamed ones
        (``pat_id``, ``birth_date``, ``gender``...) are understood.

    Returns
    -------
    events : pandas.DataFrame
        Columns ``subject_id``, ``time`` and ``code``: per patient, static rows
        without a time (``GENDER//F``, ``RACE//white``, ``ETHNICITY//irish``),
        ``MEDS_BIRTH`` at the birth date and ``MEDS_DEATH`` at the death date
        when there is one, as the MEDS conventions name them. Birth or death
        dates that cannot be parsed are left out, with a logged warning that
        counts them (the Ohio extract has four ``BAD_DATA`` birth dates and two death dates).

    Raises
    ------
    FileNotFoundError
        If ``patients.csv`` is not in ``path``.
    ValueError
        If the file lacks a needed column or a date cannot be parsed.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skmed2vec.datasets import load_synthea_patients
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "patients.csv").write_text(
    ...     "Id,BIRTHDATE,DEATHDATE,RACE,ETHNICITY,GENDER\\n"
    ...     "p1,1950-02-03,,white,irish,F\\n")
    >>> load_synthea_patients(folder)["code"].tolist()
    ['ETHNICITY//irish', 'GENDER//F', 'RACE//white', 'MEDS_BIRTH']
    """
    file = _find_file(path, "patients.csv")
    table = _read_csv(file, ("patient", "birth", "death", "gender", "race", "ethnicity"))
    table = table[table["patient"] != ""]
    parts = []
    for role, name in (("gender", "GENDER"), ("race", "RACE"), ("ethnicity", "ETHNICITY")):
        rows = table[table[role] != ""]
        parts.append(
            pd.DataFrame(
                {
                    "subject_id": rows["patient"],
                    "time": pd.Series(pd.NaT, index=rows.index, dtype="datetime64[s]"),
                    "code": f"{name}//" + rows[role],
                }
            )
        )
    for role, code in (("birth", "MEDS_BIRTH"), ("death", "MEDS_DEATH")):
        rows = table[table[role] != ""]
        times = _utc_times(rows[role], errors="coerce")
        bad = times.isna().to_numpy()
        if bad.any():
            logger.warning(
                "%s: %d %s date(s) could not be parsed and were left out, e.g. %r for patient %r",
                file,
                int(bad.sum()),
                role,
                rows[role][bad].iloc[0],
                rows["patient"][bad].iloc[0],
            )
        rows, times = rows[~bad], times[~bad].astype("datetime64[s]")
        parts.append(pd.DataFrame({"subject_id": rows["patient"], "time": times, "code": code}))
    events = pd.concat(parts, ignore_index=True)
    return events.sort_values(
        ["subject_id", "time", "code"], kind="stable", na_position="first", ignore_index=True
    )
