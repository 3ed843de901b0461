"""Tests of the synthetic cohort and the Synthea loaders."""

import numpy as np
import pandas as pd
import pytest
from helpers import SHARED_DATA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score

from skmed2vec._timelines import Timelines
from skmed2vec.datasets import (
    load_synthea_events,
    load_synthea_indications,
    load_synthea_modules,
    make_cohort,
)

SYNTHEA = SHARED_DATA / "synthea-ohio-10k"
MODULES = SHARED_DATA / "synthea-modules"


@pytest.fixture(scope="module")
def large_cohort():
    return make_cohort(2000, random_state=0)


def _past(data):
    """Events at or before each subject's prediction time, with that time."""
    events = data.events
    pred = events["subject_id"].map(data.prediction_times)
    keep = events["time"] <= pred
    return events[keep].assign(pred=pred[keep])


# -- make_cohort ----------------------------------------------------------------
def test_cohort_fields_are_consistent(large_cohort):
    X, y, events = large_cohort.X, large_cohort.y, large_cohort.events
    assert isinstance(X, Timelines)
    assert len(X) == len(y) == len(large_cohort.subject_ids) == 2000
    assert len(large_cohort.prediction_times) == 2000
    assert X.n_events == len(events)
    assert X.time_kind == "datetime"
    assert set(np.unique(y)) == {0, 1}
    assert y.dtype.kind == "i"
    assert events.columns.tolist() == ["subject_id", "time", "code"]
    assert pd.api.types.is_datetime64_any_dtype(events["time"])
    np.testing.assert_array_equal(large_cohort.subject_ids, np.arange(2000))
    np.testing.assert_array_equal(X.lengths, events.groupby("subject_id").size())
    assert X.index.names == ["subject_id", "prediction_time"]
    np.testing.assert_array_equal(X.index.get_level_values(0), large_cohort.subject_ids)
    np.testing.assert_array_equal(
        X.index.get_level_values(1), large_cohort.prediction_times.reindex(large_cohort.subject_ids)
    )
    # Prediction times in X are the Series' dates as days since 1970.
    expected = (
        large_cohort.prediction_times.reindex(large_cohort.subject_ids) - pd.Timestamp("1970-01-01")
    ) / pd.Timedelta(days=1)
    np.testing.assert_allclose(X.prediction_times, expected.to_numpy())
    # Events are sorted, times are real dates from 2010 on.
    assert events.equals(events.sort_values(["subject_id", "time", "code"], ignore_index=True))
    assert events["time"].min() >= pd.Timestamp("2010-01-01")
    assert events["time"].max() < pd.Timestamp("2020-01-01")


def test_cohort_is_deterministic_given_seed():
    a = make_cohort(300, random_state=7)
    b = make_cohort(300, random_state=7)
    c = make_cohort(300, random_state=8)
    pd.testing.assert_frame_equal(a.events, b.events)
    np.testing.assert_array_equal(a.y, b.y)
    np.testing.assert_array_equal(a.X.codes, b.X.codes)
    np.testing.assert_array_equal(a.X.times, b.X.times)
    assert not a.events.equals(c.events)
    assert not np.array_equal(a.y, c.y)


def test_cohort_positive_rate_and_size(large_cohort):
    assert 0.2 <= large_cohort.y.mean() <= 0.5
    per_patient = len(large_cohort.events) / len(large_cohort.y)
    # ~25 background + 1-4 episodes of 3-6 codes + a few later events.
    assert 30 < per_patient < 45


def test_cohort_groups(large_cohort):
    groups = large_cohort.groups
    names = sorted(set(groups.values()))
    assert len(names) == 8
    assert len(groups) == 8 * 6
    for code, name in groups.items():
        assert code.startswith(name + ".")
    assert large_cohort.risk_groups == ["E11", "I50"]
    assert set(large_cohort.risk_groups) <= set(names)
    codes = set(large_cohort.events["code"])
    disease_seen = {c for c in codes if c.split(".")[0] in names}
    assert disease_seen <= set(groups)
    background = codes - set(groups) - {"R99"}
    assert 0 < len(background) <= 60
    assert not {c.split(".")[0] for c in background} & set(names)
    # Group popularity is skewed: the most common group has clearly more events.
    counts = large_cohort.events["code"].map(groups).value_counts()
    assert counts.iloc[0] > 2 * counts.iloc[-1]


def test_cohort_custom_sizes():
    data = make_cohort(50, n_groups=20, codes_per_group=12, n_background=100, random_state=0)
    assert len(data.groups) == 240
    assert data.groups["E11.07"] == "E11"
    assert len(data.risk_groups) == 5
    assert len(data.X) == len(data.y) == 50
    background = set(data.events["code"]) - set(data.groups) - {"R99"}
    assert len(background) <= 100


def test_cohort_related_codes_are_close_in_time(large_cohort):
    past = _past(large_cohort)
    group = past["code"].map(large_cohort.groups)
    disease = past[group.notna()].assign(group=group)
    disease_gaps = disease.groupby(["subject_id", "group"])["time"].diff().dropna()
    background = past[group.isna()]
    background_gaps = background.groupby("subject_id")["time"].diff().dropna()
    assert disease_gaps.median() < pd.Timedelta(days=7)
    assert background_gaps.median() > pd.Timedelta(days=30)


def test_cohort_outcome_code_only_after_prediction_time(large_cohort):
    events = large_cohort.events
    pred = events["subject_id"].map(large_cohort.prediction_times)
    outcome = events["code"] == "R99"
    assert outcome.any()
    assert (events.loc[outcome, "time"] > pred[outcome]).all()
    assert (events.loc[outcome, "time"] <= pred[outcome] + pd.Timedelta(days=30)).all()
    # Exactly the positive patients carry the outcome code.
    with_outcome = np.isin(large_cohort.subject_ids, events.loc[outcome, "subject_id"])
    np.testing.assert_array_equal(with_outcome, large_cohort.y == 1)
    # Other future events exist too, and X marks them as past the prediction time.
    later = (events["time"] > pred) & ~outcome
    assert later.any()
    assert (
        large_cohort.X.times > np.repeat(large_cohort.X.prediction_times, large_cohort.X.lengths)
    ).sum() == (events["time"] > pred).sum()


def test_cohort_recent_history_predicts_better(large_cohort):
    past = _past(large_cohort)
    risk = past["code"].map(large_cohort.groups).isin(large_cohort.risk_groups)
    recent = past["time"] > past["pred"] - pd.Timedelta(days=180)

    def counts(mask):
        per_subject = mask.groupby(past["subject_id"]).sum()
        return per_subject.reindex(large_cohort.subject_ids, fill_value=0).to_numpy()[:, None]

    cv = StratifiedKFold(5, shuffle=True, random_state=0)

    def auroc(features):
        scores = cross_val_score(
            LogisticRegression(), features, large_cohort.y, cv=cv, scoring="roc_auc"
        )
        return scores.mean()

    recent_auc = auroc(counts(risk & recent))
    all_auc = auroc(counts(risk))
    assert recent_auc > 0.72
    assert recent_auc > all_auc + 0.1


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"n_patients": 0}, ValueError),
        ({"n_patients": 2.5}, TypeError),
        ({"n_groups": 0}, ValueError),
        ({"n_groups": 1000}, ValueError),
        ({"codes_per_group": 101}, ValueError),
        ({"n_background": 0}, ValueError),
        ({"years": 0}, ValueError),
        ({"recent_days": 0}, ValueError),
        ({"years": 0.25, "recent_days": 180}, ValueError),
    ],
)
def test_cohort_rejects_bad_arguments(kwargs, error):
    with pytest.raises(error):
        make_cohort(**{"n_patients": 10, **kwargs})


# -- Synthea loaders on small files ------------------------------------------------
def _write(folder, name, text):
    (folder / name).write_text(text)


def test_synthea_loaders_on_small_files(tmp_path):
    _write(
        tmp_path,
        "conditions.csv",
        "START,STOP,PATIENT,ENCOUNTER,CODE,DESCRIPTION\n"
        "2015-03-01,,p1,e1,44054006,Diabetes\n"
        ",,p1,e1,38341003,Hypertension\n"
        "2011-01-01,,p2,e2,,No code\n",
    )
    _write(
        tmp_path,
        "medications.csv",
        "med_start_date,med_stop_date,med_pat_id,med_enc_id,med_code,med_description,"
        "med_reason_code,med_reason_description,med_days_supply\n"
        "2015-03-02,,p1,e1,860975,Metformin,44054006,Diabetes,30\n"
        "2016-03-02,,p1,e3,860975,Metformin,44054006,Diabetes,30\n"
        "2012-05-05,,p2,e2,282464,Acetaminophen,,,3\n",
    )
    events = load_synthea_events(str(tmp_path), tables=("conditions", "medications"))
    assert events.columns.tolist() == [
        "subject_id",
        "time",
        "code",
        "table",
        "description",
    ]
    assert events["code"].tolist() == [
        "SNOMED:44054006",
        "RXNORM:860975",
        "RXNORM:860975",
        "RXNORM:282464",
    ]
    assert events["subject_id"].tolist() == ["p1", "p1", "p1", "p2"]
    assert events["table"].tolist() == [
        "conditions",
        "medications",
        "medications",
        "medications",
    ]
    assert pd.api.types.is_datetime64_any_dtype(events["time"])

    pairs = load_synthea_indications(tmp_path)
    assert pairs[["drug", "indication", "n"]].values.tolist() == [
        ["RXNORM:860975", "SNOMED:44054006", 2]
    ]


def test_synthea_modules_prefixes(tmp_path):
    _write(
        tmp_path,
        "code_to_module.csv",
        "module,top_module,state,state_type,system,code,display\n"
        "a,asthma,s,ConditionOnset,SNOMED-CT,195967001,Asthma\n"
        "b,asthma,s,MedicationOrder,RxNorm,895994,Fluticasone\n"
        "c,asthma,s,Observation,LOINC,8867-4,Heart rate\n"
        "d,wellness,s,Observation,LOINC,8867-4,Heart rate\n"
        "e,immunizations,s,Immunization,CVX,140,Influenza\n",
    )
    modules = load_synthea_modules(tmp_path / "code_to_module.csv")
    assert modules == {
        "SNOMED:195967001": frozenset({"asthma"}),
        "RXNORM:895994": frozenset({"asthma"}),
        "LOINC:8867-4": frozenset({"asthma", "wellness"}),
        "CVX:140": frozenset({"immunizations"}),
    }


def test_synthea_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="conditions.csv"):
        load_synthea_events(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="medications.csv"):
        load_synthea_indications(tmp_path)
    with pytest.raises(FileNotFoundError, match="code_to_module.csv"):
        load_synthea_modules(tmp_path)
    with pytest.raises(ValueError, match="unknown Synthea table 'labs'"):
        load_synthea_events(tmp_path, tables=["labs"])
    _write(tmp_path, "allergies.csv", "START,PATIENT,DESCRIPTION\n2015-03-01,p1,Mould\n")
    with pytest.raises(ValueError, match="no code column.*CODE"):
        load_synthea_events(tmp_path, tables=["allergies"])
    _write(tmp_path, "code_to_module.csv", "module,system,code\na,SNOMED-CT,1\n")
    with pytest.raises(ValueError, match="top_module"):
        load_synthea_modules(tmp_path)


# -- Synthea loaders on the Ohio cohort ----------------------------------------------
@pytest.fixture(scope="module")
def synthea_events():
    if not SYNTHEA.is_dir():
        pytest.skip(f"Synthea data not found at {SYNTHEA}")
    return load_synthea_events(SYNTHEA)


def test_synthea_events(synthea_events):
    events = synthea_events
    assert len(events) > 20_000
    assert events["subject_id"].nunique() >= 9_000
    assert set(events["code"].str.split(":").str[0]) == {"SNOMED", "RXNORM"}
    assert set(events["table"]) == {
        "conditions",
        "medications",
        "careplans",
        "allergies",
    }
    medications = events["table"] == "medications"
    assert events.loc[medications, "code"].str.startswith("RXNORM:").all()
    assert events.loc[~medications, "code"].str.startswith("SNOMED:").all()
    assert events["time"].min() >= pd.Timestamp("1900-01-01")
    assert events["time"].max() <= pd.Timestamp("2020-01-01")
    assert events[["subject_id", "time", "code"]].notna().all().all()


def test_synthea_indications():
    if not SYNTHEA.is_dir():
        pytest.skip(f"Synthea data not found at {SYNTHEA}")
    pairs = load_synthea_indications(SYNTHEA)
    assert len(pairs) > 0
    assert pairs["drug"].str.startswith("RXNORM:").all()
    assert pairs["indication"].str.startswith("SNOMED:").all()
    assert not pairs.duplicated(["drug", "indication"]).any()
    assert (pairs["n"] > 0).all()
    assert pairs["n"].is_monotonic_decreasing


def test_synthea_modules(synthea_events):
    if not MODULES.is_dir():
        pytest.skip(f"Synthea module map not found at {MODULES}")
    modules = load_synthea_modules(MODULES)
    prefixes = {code.split(":")[0] for code in modules}
    assert {"SNOMED", "RXNORM"} <= prefixes
    assert all(isinstance(v, frozenset) and v for v in modules.values())
    # Most codes of the cohort are emitted by some module.
    codes = set(synthea_events["code"])
    assert len(codes & set(modules)) > len(codes) / 2


@pytest.mark.parametrize("recent_days", [2, 5])
def test_short_recent_windows_still_plant_the_recent_signal(recent_days):
    # Forced recent episodes longer than the window are squeezed into it.
    cohort = make_cohort(3000, recent_days=recent_days, random_state=0)
    assert 0.3 <= cohort.y.mean() <= 0.4
    past = _past(cohort)
    risk = past["code"].map(cohort.groups).isin(cohort.risk_groups)
    recent = past["time"] >= past["pred"] - pd.Timedelta(days=recent_days)
    subjects = past.loc[risk & recent, "subject_id"].unique()
    has_recent = np.isin(cohort.subject_ids, subjects)
    assert cohort.y[has_recent].mean() > 0.7
