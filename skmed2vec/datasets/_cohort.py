"""A synthetic cohort of coded histories with planted structure."""

from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import Interval, validate_params

from .._inputs import events_to_timelines

__all__ = ["make_cohort"]

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


@validate_params(
    {
        "n_patients": [Interval(Integral, 1, None, closed="left")],
        "n_groups": [Interval(Integral, 1, len(_DISEASE_CATEGORIES), closed="both")],
        "codes_per_group": [Interval(Integral, 1, 100, closed="both")],
        "n_background": [Interval(Integral, 1, 10 * len(_BACKGROUND_CATEGORIES), closed="both")],
        "years": [Interval(Real, 0, None, closed="neither")],
        "recent_days": [Interval(Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
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
    if not np.isfinite(years):
        raise ValueError(f"years must be finite; got {years}.")
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
    ep_start = history_start[ep_patient] + np.floor(rng.random(n_ep) * (history_days + 1)).astype(
        np.int64
    )
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
    # A forced episode longer than the recent window is squeezed into it, so that
    # it still starts within recent_days (only with windows shorter than the
    # episodes, a few weeks at most; no random draw, so other cohorts are unchanged).
    window = int(np.floor(recent_days))
    forced_start = ep_start[first_episode]
    squeeze = first_episode[prediction[forced] - forced_start > recent_days]
    if squeeze.size:
        ep_start[squeeze] = prediction[ep_patient[squeeze]] - window
        events = np.isin(ev_episode, squeeze)
        offset[events] = np.floor(
            offset[events] * window / np.maximum(span[ev_episode[events]], 1)
        ).astype(np.int64)
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
    after_code = first_background + rng.choice(n_background, size=after_patient.size, p=zipf)
    after_time = prediction[after_patient] + rng.randint(1, 366, size=after_patient.size)
    positive = np.flatnonzero(y)
    outcome_time = prediction[positive] + rng.randint(1, 31, size=positive.size)

    patient = np.concatenate([bg_patient, ep_patient[ev_episode], after_patient, positive])
    code = np.concatenate([bg_code, ep_code, after_code, np.full(positive.size, outcome_index)])
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
    # Histories end on the prediction day, which is part of them.
    X, ids = events_to_timelines(
        events, prediction_times=prediction_times, at_prediction_time="include"
    )
    groups = {c: _DISEASE_CATEGORIES[i // codes_per_group] for i, c in enumerate(disease)}
    return Bunch(
        X=X,
        y=y,
        groups=groups,
        events=events,
        subject_ids=ids,
        prediction_times=prediction_times,
        risk_groups=list(_DISEASE_CATEGORIES[:n_risk]),
    )
