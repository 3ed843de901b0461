"""Synthea loaders on hand-made exports, and end to end on the extract beside the project
(skipped where absent)."""

import numpy as np
import pandas as pd
import pytest

from skmed2vec import CodeVocabulary, TemporalMed2VecEmbedder, events_to_timelines
from skmed2vec.datasets import (
    load_synthea_events,
    load_synthea_indications,
    load_synthea_modules,
    load_synthea_patients,
)
from skmed2vec.evaluation import neighbour_precision, recall_at_k


def test_synthea_embeddings_recover_modules_and_indications(synthea_dir, modules_csv):
    events = load_synthea_events(synthea_dir)
    X, subject_ids = events_to_timelines(events)
    assert len(X) == len(subject_ids) == events["subject_id"].nunique()
    vocabulary = CodeVocabulary(min_subjects=5)
    embedder = TemporalMed2VecEmbedder(embed_dim=32, epochs=10, random_state=0)
    embedder.fit(vocabulary.fit_transform(X))
    assert np.isfinite(embedder.code_vectors_).all()

    modules = neighbour_precision(embedder, load_synthea_modules(modules_csv), k=10)
    assert modules.precision > 2 * modules.baseline
    pairs = load_synthea_indications(synthea_dir)[["drug", "indication"]]
    recall = recall_at_k(embedder, list(pairs.itertuples(index=False)), k=10)
    assert recall.n_pairs > 30
    assert recall.recall > 0.5

    features = embedder.transform(vocabulary.transform(X))
    assert features.shape == (len(X), 2 * 32)  # recency and mean blocks
    assert np.isfinite(features).all()


def test_dates_and_utc_datetimes_share_one_time_column(tmp_path):
    # Synthea v2/v3: conditions START is a date, medications START a UTC datetime.
    (tmp_path / "conditions.csv").write_text(
        "START,STOP,PATIENT,ENCOUNTER,CODE,DESCRIPTION\n"
        "2019-02-17,,p1,e1,44054006,Diabetes\n"
        "2019-02-18,,p2,e2,38341003,Hypertension\n"
    )
    (tmp_path / "medications.csv").write_text(
        "START,STOP,PATIENT,PAYER,ENCOUNTER,CODE,DESCRIPTION,REASONCODE,REASONDESCRIPTION\n"
        "2019-02-17T05:07:38Z,,p1,x,e1,860975,Metformin,44054006,Diabetes\n"
        "2019-02-18T01:30:00+02:00,,p2,x,e2,314076,Lisinopril,38341003,Hypertension\n"
    )
    (tmp_path / "patients.csv").write_text(
        "Id,BIRTHDATE,DEATHDATE,RACE,ETHNICITY,GENDER\n"
        "p1,1950-02-03,2020-01-01T23:30:00-05:00,white,irish,F\n"
    )
    events = load_synthea_events(tmp_path, tables=["conditions", "medications"])
    assert events["time"].dtype.kind == "M" and events["time"].dt.tz is None
    assert events[["subject_id", "code"]].values.tolist() == [
        ["p1", "SNOMED:44054006"],
        ["p1", "RXNORM:860975"],
        ["p2", "RXNORM:314076"],
        ["p2", "SNOMED:38341003"],
    ]
    expected = ["2019-02-17", "2019-02-17 05:07:38", "2019-02-17 23:30", "2019-02-18"]
    assert events["time"].tolist() == pd.to_datetime(expected, format="ISO8601").tolist()
    for table in ("conditions", "medications"):
        alone = load_synthea_events(tmp_path, tables=[table])
        assert alone["time"].dtype == events["time"].dtype
    patients = load_synthea_patients(tmp_path)
    death = patients.loc[patients["code"] == "MEDS_DEATH", "time"]
    assert death.tolist() == [pd.Timestamp("2020-01-02 04:30")]


def test_unparsable_start_dates_are_named(tmp_path):
    (tmp_path / "conditions.csv").write_text(
        "START,PATIENT,CODE,DESCRIPTION\n2019-02-17,p1,44054006,Diabetes\n"
        "17/02/2019,p2,44054006,Diabetes\n"
    )
    with pytest.raises(ValueError, match=r"column 'START' of .*conditions.csv.*17/02/2019"):
        load_synthea_events(tmp_path, tables=["conditions"])


def test_the_ohio_extract_has_one_naive_time_column(synthea_dir):
    events = load_synthea_events(synthea_dir)
    assert len(events) == 56_127
    assert events["time"].dtype.kind == "M" and events["time"].dt.tz is None
    assert events["time"].min() == pd.Timestamp("1914-08-03")
    assert events["time"].max() == pd.Timestamp("2018-12-31")


@pytest.mark.parametrize(
    ("separator", "expected"),
    [(":", ["RXNORM:7980", "SNOMED:419474003", "SNOMED:91936005"]),
     ("/", ["RxNorm/7980", "SNOMED/419474003", "SNOMED/91936005"])],
)  # fmt: skip
def test_synthea_3_allergies_take_each_row_s_system(tmp_path, separator, expected):
    # Synthea 3 allergies hold RxNorm drugs beside SNOMED substances (a SYSTEM column).
    (tmp_path / "allergies.csv").write_text(
        "START,STOP,PATIENT,ENCOUNTER,CODE,SYSTEM,DESCRIPTION,TYPE,CATEGORY\n"
        "1995-04-11,,p1,e1,7980,RxNorm,Penicillin G,allergy,medication\n"
        "1995-04-11,,p1,e1,419474003,SNOMED-CT,Allergy to mould,allergy,environment\n"
        "1995-04-12,,p1,e1,91936005,,Allergy to penicillin,allergy,medication\n"
        "1995-04-13,,p1,e1,7980,http://www.nlm.nih.gov/research/umls/rxnorm,P,allergy,x\n"
    )
    events = load_synthea_events(tmp_path, tables=["allergies"], separator=separator)
    assert sorted(set(events["code"])) == expected and len(events) == 4


def test_rows_left_out_are_counted_in_a_warning(tmp_path, caplog):
    (tmp_path / "conditions.csv").write_text(
        "START,PATIENT,CODE,DESCRIPTION\n"
        "2015-03-01,p1,44054006,Diabetes\n"
        ",p1,38341003,Hypertension\n"
        "2015-03-02,,38341003,Hypertension\n"
        "2015-03-03,p2,   ,Hypertension\n"
    )
    events = load_synthea_events(tmp_path, tables=["conditions"])
    assert events["code"].tolist() == ["SNOMED:44054006"]
    assert "3 row(s) without a start date, a patient or a code were left out" in caplog.text


def test_a_file_for_the_synthea_folder_is_named_a_file(tmp_path):
    (tmp_path / "conditions.csv").write_text("START,PATIENT,CODE,DESCRIPTION\n")
    with pytest.raises(FileNotFoundError, match=r"conditions.csv \(a file\): pass the folder"):
        load_synthea_events(tmp_path / "conditions.csv", tables=["medications"])
    with pytest.raises(FileNotFoundError, match=r"\(which does not exist\)"):
        load_synthea_events(tmp_path / "nowhere")
