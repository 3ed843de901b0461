"""A synthetic cohort with planted structure, and loaders for Synthea CSV exports."""

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import Bunch, check_random_state

from ._timelines import events_to_timelines

__all__ = [
    "load_synthea_events",
    "load_synthea_indications",
    "load_synthea_modules",
    "make_cohort",
]

# ICD-10 categories used as disease groups, in order (the first ones drive the
# outcome of ``make_cohort``).
_DISEASE_CATEGORIES = (
    "E11",  # type 2 diabetes mellitus
    "I50",  # heart failure
    "J44",  # chronic obstructive pulmonary disease
    "N18",  # chronic kidney disease
    "F32",  # depressive episode
    "C50",  # malignant neoplasm of breast
    "I21",  # acute myocardial infarction
    "K50",  # Crohn's disease
    "I48",  # atrial fibrillation and flutter
    "J45",  # asthma
    "G40",  # epilepsy
    "M05",  # rheumatoid arthritis with rheumatoid factor
    "I63",  # cerebral infarction
    "G30",  # Alzheimer's disease
    "F20",  # schizophrenia
    "C34",  # malignant neoplasm of bronchus and lung
    "K70",  # alcoholic liver disease
    "B20",  # HIV disease
    "I25",  # chronic ischaemic heart disease
    "E10",  # type 1 diabetes mellitus
    "L40",  # psoriasis
    "K51",  # ulcerative colitis
    "F31",  # bipolar affective disorder
    "C18",  # malignant neoplasm of colon
    "D50",  # iron deficiency anaemia
    "E03",  # other hypothyroidism
    "I26",  # pulmonary embolism
    "J18",  # pneumonia, organism unspecified
    "A41",  # other sepsis
    "N17",  # acute kidney failure
    "M81",  # osteoporosis without pathological fracture
    "F10",  # mental and behavioural disorders due to use of alcohol
    "G20",  # Parkinson's disease
    "K74",  # fibrosis and cirrhosis of liver
    "I70",  # atherosclerosis
    "C91",  # lymphoid leukaemia
)

# Categories of everyday, unrelated codes (check-ups, symptoms, minor problems).
_BACKGROUND_CATEGORIES = (
    "Z00", "R05", "M54", "J06", "Z23", "R10", "R51", "H52", "K21", "L30",
    "Z01", "R50", "R53", "M25", "J02", "H10", "K59", "Z13", "R06", "M79",
    "J30", "H66", "L70", "R11", "Z12", "R42", "S93", "B34", "G43", "G47",
    "R07", "K08", "E78", "T78", "S61", "Z30", "R19", "Z71", "R21", "Z79",
)  # fmt: skip

_OUTCOME_CODE = "R99"
_EPOCH = np.datetime64("2010-01-01", "D")
_DAYS_PER_YEAR = 365.25


def _disease_codes(n_groups, codes_per_group):
    """Code strings of the disease groups, group after group."""
    width = 1 if codes_per_group <= 10 else 2
    return [
        f"{category}.{k:0{width}d}"
        for category in _DISEASE_CATEGORIES[:n_groups]
        for k in range(codes_per_group)
    ]


def _background_codes(n_background):
    """The first ``n_background`` background codes, one category after another."""
    return [
        f"{_BACKGROUND_CATEGORIES[i % len(_BACKGROUND_CATEGORIES)]}"
        f".{i // len(_BACKGROUND_CATEGORIES)}"
        for i in range(n_background)
    ]


def _check_int(name, value, low, high=None):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int; got {type(value).__name__}.")
    if value < low or (high is not None and value > high):
        bound = f">= {low}" if high is None else f"between {low} and {high}"
        raise ValueError(f"{name} must be {bound}; got {value}.")


def make_cohort(
    n_patients=1000,
    *,
    n_groups=8,
    codes_per_group=6,
    n_background=60,
    years=8.0,
    recent_days=180.0,
    random_state=None,
):
    """Generate a synthetic cohort of coded patient histories with a planted outcome.

    Each patient has a few disease episodes (bursts of related codes) among
    many unrelated background codes, and a binary outcome driven by the
    *recent* disease history, so that features which weight recent events
    more predict it better than features which weigh all history equally.

    Parameters
    ----------
    n_patients : int, default=1000
        Number of patients.
    n_groups : int, default=8
        Number of disease groups, each named after an ICD-10 category (at
        most 36).
    codes_per_group : int, default=6
        Number of codes in each disease group (at most 100).
    n_background : int, default=60
        Number of background codes (at most 400).
    years : float, default=8.0
        Length of each patient's history before the prediction time.
    recent_days : float, default=180.0
        How far before the prediction time an episode counts as recent.
    random_state : int, RandomState instance or None, default=None
        Seed of the generator; the same seed gives the same cohort.

    Returns
    -------
    data : sklearn.utils.Bunch
        Dictionary-like object with the fields:

        X : Timelines
            One timeline per patient, with ``prediction_times`` set and
            ``time_kind="datetime"`` (float days since 1970-01-01).
        y : ndarray of shape (n_patients,)
            The outcome, 0 or 1.
        groups : dict
            Disease group name (ICD-10 category, e.g. ``"E11"``) of each
            disease code; background codes are absent.
        events : pandas.DataFrame
            The events, one row each, with columns ``subject_id``, ``time``
            (datetime64) and ``code``, sorted by subject, time and code.
        subject_ids : ndarray of shape (n_patients,)
            Subject id of each timeline of ``X`` (and of each label of ``y``).
        prediction_times : pandas.Series
            Prediction time (Timestamp) of each subject, indexed by subject id.
        risk_groups : list of str
            Names of the disease groups that drive the outcome.

    Notes
    -----
    The generated structure is:

    - **Disease groups.** ``n_groups`` groups named after ICD-10 categories
      (``"E11"``, ``"I50"``, ``"J44"``, ...), each with ``codes_per_group``
      dotted ICD-10-CM-style codes (``"E11.0"``, ``"E11.1"``, ...; two
      decimals beyond 10 codes). Group popularity decreases with the group's
      position (weights proportional to ``rank ** -0.8``).
    - **Background codes.** ``n_background`` codes from other categories
      (``"Z00.0"``, ``"R05.0"``, ``"M54.0"``, ...), with Zipf-like frequencies
      (exponent 1.1), placed uniformly at random over the whole history;
      Poisson(25) background events per patient.
    - **Episodes.** Each patient has 1 to 4 disease episodes. An episode picks
      a group, a start time uniformly over the history and emits 3 to 6 codes
      of that group separated by exponential gaps (mean 2 days), so related
      codes are close in time, while background codes are far from them in
      time though often next to them in event order. An episode that would
      run past the prediction time is moved back to end on it.
    - **Prediction time.** Histories start between 2010-01-01 and 2010-12-31
      and last ``years`` years; the prediction time is the end of the
      history. A few events lie after it on purpose, to expose models that
      use the future: 0 to 2 background events within a year, and for
      positive patients the outcome code ``"R99"`` within 30 days.
    - **Outcome.** The first ``max(1, n_groups // 4)`` groups are the risk
      groups. The outcome is drawn with
      ``logit = -2 + 3 * recent + 0.3 * earlier + N(0, 0.5)``, where
      ``recent`` says a risk-group episode started within ``recent_days``
      before the prediction time and ``earlier`` that one started before
      that. About a third of the patients are given a recent risk-group
      episode, so that roughly 30 to 40 percent are positive.

    Times are whole days. The cohort is fully determined by the arguments
    and ``random_state``.

    Examples
    --------
    >>> from skmed2vec.datasets import make_cohort
    >>> data = make_cohort(200, random_state=0)
    >>> len(data.X), data.y.shape, data.X.time_kind
    (200, (200,), 'datetime')
    >>> data.risk_groups
    ['E11', 'I50']
    >>> data.groups["E11.3"]
    'E11'
    >>> data.events.columns.tolist()
    ['subject_id', 'time', 'code']
    """
    _check_int("n_patients", n_patients, 1)
    _check_int("n_groups", n_groups, 1, len(_DISEASE_CATEGORIES))
    _check_int("codes_per_group", codes_per_group, 1, 100)
    _check_int("n_background", n_background, 1, 10 * len(_BACKGROUND_CATEGORIES))
    if not np.isfinite(years) or years <= 0:
        raise ValueError(f"years must be positive; got {years}.")
    history_days = int(np.rint(years * _DAYS_PER_YEAR))
    if not np.isfinite(recent_days) or not 0 < recent_days < history_days:
        raise ValueError(
            f"recent_days must be positive and shorter than the history "
            f"({history_days} days); got {recent_days}."
        )
    rng = check_random_state(random_state)
    n = int(n_patients)

    disease = _disease_codes(n_groups, codes_per_group)
    background = _background_codes(n_background)
    vocabulary = np.array(disease + background + [_OUTCOME_CODE], dtype=object)
    first_background = len(disease)
    outcome_index = len(vocabulary) - 1
    n_risk = max(1, n_groups // 4)

    # Histories: integer day numbers relative to 2010-01-01.
    history_start = rng.randint(0, 365, size=n)
    prediction = history_start + history_days

    # Background events over the whole history (Zipf-like code frequencies).
    zipf = np.arange(1, n_background + 1) ** -1.1
    zipf /= zipf.sum()
    n_bg = rng.poisson(25.0, size=n)
    bg_patient = np.repeat(np.arange(n), n_bg)
    bg_code = first_background + rng.choice(n_background, size=bg_patient.size, p=zipf)
    bg_time = history_start[bg_patient] + np.floor(
        rng.random(bg_patient.size) * (history_days + 1)
    ).astype(np.int64)

    # Episodes: a group and a start day each; about a third of the patients
    # get a recent risk-group episode as their first one.
    popularity = np.arange(1, n_groups + 1) ** -0.8
    popularity /= popularity.sum()
    n_episodes = rng.randint(1, 5, size=n)
    ep_patient = np.repeat(np.arange(n), n_episodes)
    n_ep = ep_patient.size
    ep_group = rng.choice(n_groups, size=n_ep, p=popularity)
    ep_start = history_start[ep_patient] + np.floor(
        rng.random(n_ep) * (history_days + 1)
    ).astype(np.int64)
    forced = np.flatnonzero(rng.random(n) < 1 / 3)
    first_episode = np.concatenate([[0], np.cumsum(n_episodes)[:-1]])[forced]
    ep_group[first_episode] = rng.randint(0, n_risk, size=forced.size)
    ep_start[first_episode] = prediction[forced] - np.floor(
        rng.random(forced.size) * recent_days
    ).astype(np.int64)

    # Codes of each episode, a few days apart.
    ep_length = rng.randint(3, 7, size=n_ep)
    ev_episode = np.repeat(np.arange(n_ep), ep_length)
    gaps = rng.exponential(2.0, size=ev_episode.size)
    ep_first_event = np.concatenate([[0], np.cumsum(ep_length)[:-1]])
    gaps[ep_first_event] = 0.0
    elapsed = np.cumsum(gaps)
    offset = np.floor(elapsed - elapsed[ep_first_event][ev_episode]).astype(np.int64)
    span = offset[ep_first_event + ep_length - 1]
    ep_start = np.minimum(ep_start, prediction[ep_patient] - span)
    within = np.arange(1, codes_per_group + 1) ** -0.5
    within /= within.sum()
    ep_code = ep_group[ev_episode] * codes_per_group + rng.choice(
        codes_per_group, size=ev_episode.size, p=within
    )
    ep_time = ep_start[ev_episode] + offset

    # Outcome, driven by recent risk-group episodes.
    is_risk = ep_group < n_risk
    is_recent = prediction[ep_patient] - ep_start <= recent_days
    recent = np.bincount(ep_patient[is_risk & is_recent], minlength=n) > 0
    earlier = np.bincount(ep_patient[is_risk & ~is_recent], minlength=n) > 0
    logit = -2.0 + 3.0 * recent + 0.3 * earlier + rng.normal(0.0, 0.5, size=n)
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int64)

    # Events after the prediction time: background noise and the outcome code.
    n_after = rng.randint(0, 3, size=n)
    after_patient = np.repeat(np.arange(n), n_after)
    after_code = first_background + rng.choice(
        n_background, size=after_patient.size, p=zipf
    )
    after_time = prediction[after_patient] + rng.randint(
        1, 366, size=after_patient.size
    )
    positive = np.flatnonzero(y)
    outcome_time = prediction[positive] + rng.randint(1, 31, size=positive.size)

    patient = np.concatenate(
        [bg_patient, ep_patient[ev_episode], after_patient, positive]
    )
    code = np.concatenate(
        [bg_code, ep_code, after_code, np.full(positive.size, outcome_index)]
    )
    day = np.concatenate([bg_time, ep_time, after_time, outcome_time])
    code_rank = np.argsort(np.argsort(vocabulary))
    order = np.lexsort((code_rank[code], day, patient))
    subject_ids = np.arange(n, dtype=np.int64)
    events = pd.DataFrame(
        {
            "subject_id": subject_ids[patient[order]],
            "time": pd.to_datetime(_EPOCH + day[order]).as_unit("s"),
            "code": vocabulary[code[order]],
        }
    )
    prediction_times = pd.Series(
        pd.to_datetime(_EPOCH + prediction).as_unit("s"),
        index=pd.Index(subject_ids, name="subject_id"),
        name="prediction_time",
    )
    X, ids = events_to_timelines(events, prediction_times=prediction_times)
    X.index = pd.Index(ids, name="subject_id")
    groups = {
        c: _DISEASE_CATEGORIES[i // codes_per_group] for i, c in enumerate(disease)
    }
    return Bunch(
        X=X,
        y=y,
        groups=groups,
        events=events,
        subject_ids=ids,
        prediction_times=prediction_times,
        risk_groups=list(_DISEASE_CATEGORIES[:n_risk]),
    )


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
}
_SYSTEM_PREFIXES = {"SNOMED-CT": "SNOMED:", "RXNORM": "RXNORM:", "LOINC": "LOINC:"}


def _find_file(path, name):
    """Path of the file ``name`` in the folder ``path`` (or ``path`` itself)."""
    path = Path(path)
    if path.is_file() and path.name == name:
        return path
    file = path / name
    if not file.is_file():
        where = "folder" if path.is_dir() else "path (which does not exist)"
        raise FileNotFoundError(
            f"no {name} in {path}: pass the {where} holding the Synthea CSV files."
        )
    return file


def _read_csv(file, roles):
    """Read the columns playing ``roles`` from ``file``, as strings named by role."""
    header = pd.read_csv(file, nrows=0).columns
    chosen = {}
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
    return table


def _parse_dates(values, file):
    try:
        return pd.to_datetime(values, format="ISO8601")
    except (ValueError, TypeError) as exc:
        raise ValueError(f"could not parse the dates of {file}: {exc}") from None


def load_synthea_events(
    path, *, tables=("conditions", "medications", "careplans", "allergies")
):
    """Load Synthea CSV tables as one long table of coded events.

    Each row of a table becomes an event at its start date. Rows without a
    start date, a patient or a code are dropped.

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

    Returns
    -------
    events : pandas.DataFrame
        One row per event, sorted by subject, time and code, with columns
        ``subject_id``, ``time`` (datetime64), ``code`` (prefixed by its
        system: ``"SNOMED:<code>"`` for conditions, care plans and allergies,
        ``"RXNORM:<code>"`` for medications), ``table`` (the table it came
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
            f"unknown Synthea table {unknown[0]!r}; choose from "
            f"{list(_SYNTHEA_TABLES)}."
        )
    files = {t: _find_file(path, _SYNTHEA_TABLES[t][0]) for t in tables}
    parts = []
    for name, file in files.items():
        part = _read_csv(file, ("subject_id", "time", "code", "description"))
        part = part[
            (part["time"] != "") & (part["subject_id"] != "") & (part["code"] != "")
        ]
        part = part.assign(
            time=_parse_dates(part["time"], file),
            code=_SYNTHEA_TABLES[name][1] + part["code"],
            table=name,
        )
        parts.append(part)
    events = pd.concat(parts, ignore_index=True)
    events = events[["subject_id", "time", "code", "table", "description"]]
    return events.sort_values(
        ["subject_id", "time", "code"], kind="stable", ignore_index=True
    )


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
    meds = meds.assign(
        drug="RXNORM:" + meds["code"], indication="SNOMED:" + meds["reason"]
    )
    pairs = meds.groupby(["drug", "indication"], sort=True).agg(
        n=("drug", "size"),
        drug_description=("description", "first"),
        indication_description=("reason_description", "first"),
    )
    pairs = pairs.reset_index().sort_values("n", ascending=False, kind="stable")
    pairs["n"] = pairs["n"].astype(np.int64)
    return pairs.reset_index(drop=True)


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
        raise ValueError(
            f"{file} has no {missing[0]!r} column; its columns are {list(header)}."
        )
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
        code: frozenset(modules)
        for code, modules in table.groupby("code", sort=True)["top_module"]
    }
