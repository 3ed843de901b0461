"""MIMIC-IV reader on a hand-built hosp/ folder following the published MIMIC-IV 2.x schema.

Every table has the full column list of the MIMIC-IV ``hosp`` module, in PhysioNet's
order, gzip-compressed as distributed; values are synthetic.
"""

import gzip
import logging

import numpy as np
import pandas as pd
import pytest

from skmed2vec import CodeVocabulary, events_to_timelines, read_mimic_iv

SCHEMA = {
    "admissions": (
        "subject_id,hadm_id,admittime,dischtime,deathtime,admission_type,admit_provider_id,"
        "admission_location,discharge_location,insurance,language,marital_status,race,"
        "edregtime,edouttime,hospital_expire_flag"
    ),
    "diagnoses_icd": "subject_id,hadm_id,seq_num,icd_code,icd_version",
    "procedures_icd": "subject_id,hadm_id,seq_num,chartdate,icd_code,icd_version",
    "prescriptions": (
        "subject_id,hadm_id,pharmacy_id,poe_id,poe_seq,order_provider_id,starttime,stoptime,"
        "drug_type,drug,formulary_drug_cd,gsn,ndc,prod_strength,form_rx,dose_val_rx,"
        "dose_unit_rx,form_val_disp,form_unit_disp,doses_per_24_hrs,route"
    ),
    "labevents": (
        "labevent_id,subject_id,hadm_id,specimen_id,itemid,order_provider_id,charttime,"
        "storetime,value,valuenum,valueuom,ref_range_lower,ref_range_upper,flag,priority,"
        "comments"
    ),
}
ROWS = {
    "admissions": [
        "10000032,22595853,2180-05-06 22:23:00,2180-05-07 17:15:00,,URGENT,P874LG,"
        "TRANSFER FROM HOSPITAL,HOME,Other,ENGLISH,WIDOWED,WHITE,2180-05-06 19:17:00,"
        "2180-05-06 23:30:00,0",
        "10000084,23052089,2160-11-21 01:56:00,2160-11-25 14:52:00,,EW EMER.,P21L6J,"
        "WALK-IN/SELF REFERRAL,HOME HEALTH CARE,Medicare,ENGLISH,MARRIED,WHITE,,,0",
    ],
    "diagnoses_icd": [
        "10000032,22595853,1,5723,9",
        "10000032,22595853,2,07070,9",
        "10000084,23052089,1,E1165,10",
        "10000084,99999999,1,I10,10",  # an admission absent from admissions
    ],
    "procedures_icd": [
        "10000032,22595853,1,2180-05-07,5491,9",
        "10000084,23052089,1,2160-11-22,0DTJ4ZZ,10",
    ],
    "prescriptions": [
        "10000032,22595853,12775705,10000032-55,55,P23SJA,2180-05-07 01:00:00,"
        "2180-05-07 09:00:00,MAIN,Furosemide,FURO40I,008208,63323028000,40mg/4mL Vial,"
        ",40,mg,1,VIAL,1,IV",
        "10000032,22595853,18415984,10000032-42,42,P23SJA,2180-05-07 02:00:00,,MAIN,"
        "Sodium Chloride 0.9%  Flush,NACLFLUSH,,0,10 mL Syringe,,3,mL,0.3,SYR,3,IV",
        "10000084,23052089,48770010,10000084-12,12,P21L6J,2160-11-22 08:00:00,,MAIN,"
        "Insulin,INSULIN,,,100 Units / mL,,0,UNIT,0,VIAL,,SC",
    ],
    "labevents": [
        "1,10000032,22595853,2704548,50931,P69FQC,2180-05-07 05:39:00,2180-05-07 06:14:00,"
        "110,110,mg/dL,70,100,abnormal,ROUTINE,",
        "2,10000032,,36092842,51071,,2180-05-07 05:39:00,,NEG,,,,,,ROUTINE,",
        "3,10000084,23052089,1,50912,,2160-11-22 06:00:00,,1.1,1.1,mg/dL,0.5,1.2,,STAT,",
    ],
}


@pytest.fixture
def mimic_root(tmp_path):
    (tmp_path / "hosp").mkdir()
    for table, header in SCHEMA.items():
        text = header + "\n" + "\n".join(ROWS[table]) + "\n"
        with gzip.open(tmp_path / "hosp" / f"{table}.csv.gz", "wt") as handle:
            handle.write(text)
    return tmp_path


def test_read_mimic_iv_codes_times_and_values(mimic_root, caplog):
    with caplog.at_level(logging.WARNING, logger="skmed2vec"):
        events = read_mimic_iv(mimic_root)
    assert events.columns.tolist() == ["subject_id", "time", "code", "numeric_value"]
    assert events["subject_id"].dtype == np.int64
    rows = [
        (s, str(t), c) for s, t, c in events[["subject_id", "time", "code"]].itertuples(index=False)
    ]
    assert rows == [
        (10000032, "2180-05-07 00:00:00", "PROCEDURE//ICD//9//5491"),
        (10000032, "2180-05-07 01:00:00", "MEDICATION//NDC//63323028000"),
        (10000032, "2180-05-07 02:00:00", "MEDICATION//DRUG//Sodium Chloride 0.9%  Flush"),
        (10000032, "2180-05-07 05:39:00", "LAB//50931//mg/dL"),
        (10000032, "2180-05-07 05:39:00", "LAB//51071"),
        (10000032, "2180-05-07 17:15:00", "DIAGNOSIS//ICD//9//07070"),
        (10000032, "2180-05-07 17:15:00", "DIAGNOSIS//ICD//9//5723"),
        (10000084, "2160-11-22 00:00:00", "PROCEDURE//ICD//10//0DTJ4ZZ"),
        (10000084, "2160-11-22 06:00:00", "LAB//50912//mg/dL"),
        (10000084, "2160-11-22 08:00:00", "MEDICATION//DRUG//Insulin"),
        (10000084, "2160-11-25 14:52:00", "DIAGNOSIS//ICD//10//E1165"),
    ]
    by_code = events.set_index("code")
    assert by_code.loc["LAB//50931//mg/dL", "numeric_value"] == 110.0
    assert np.isnan(by_code.loc["LAB//51071", "numeric_value"])
    # Diagnoses are dated at discharge; the one of an unknown admission is counted out.
    assert str(by_code.loc["DIAGNOSIS//ICD//9//5723", "time"]) == "2180-05-07 17:15:00"
    assert "1 diagnoses_icd rows left out" in caplog.text
    assert len(events) == 11
    assert events.equals(events.sort_values(["subject_id", "time", "code"], ignore_index=True))


def test_mimic_codes_group_by_their_own_icd_revision(mimic_root):
    events = read_mimic_iv(mimic_root, tables=["diagnoses_icd"])
    X, _ = events_to_timelines(events)
    vocab = CodeVocabulary(grouping="icd_category").fit(X)
    assert sorted(vocab.codes_.tolist()) == [
        "<UNK>",
        "DIAGNOSIS//ICD//10//E11",
        "DIAGNOSIS//ICD//9//070",
        "DIAGNOSIS//ICD//9//572",
    ]


def test_missing_tables_and_columns_are_named(mimic_root):
    (mimic_root / "hosp" / "labevents.csv.gz").unlink()
    with pytest.raises(FileNotFoundError, match="no labevents.csv.gz"):
        read_mimic_iv(mimic_root)
    assert len(read_mimic_iv(mimic_root / "hosp", tables=["procedures_icd"])) == 2
    with gzip.open(mimic_root / "hosp" / "procedures_icd.csv.gz", "wt") as handle:
        handle.write("subject_id,hadm_id,seq_num,icd_code,icd_version\n1,2,1,5491,9\n")
    with pytest.raises(ValueError, match="has no 'chartdate' column"):
        read_mimic_iv(mimic_root, tables=["procedures_icd"])
    with pytest.raises(ValueError, match="must name MIMIC-IV hosp tables"):
        read_mimic_iv(mimic_root, tables=["chartevents"])


def test_rows_without_a_code_and_admissions_without_rows(tmp_path, caplog):
    (tmp_path / "hosp").mkdir()
    rows = {
        "admissions": [],  # a header and no admission
        "diagnoses_icd": ["10000032,22595853,1,,10", "10000032,22595853,2,I10,10"],
        "procedures_icd": ["10000032,22595853,1,2180-05-07,,9"],
    }
    for table, lines in rows.items():
        text = SCHEMA[table] + "\n" + "".join(line + "\n" for line in lines)
        with gzip.open(tmp_path / "hosp" / f"{table}.csv.gz", "wt") as handle:
            handle.write(text)
    with caplog.at_level(logging.WARNING, logger="skmed2vec"):
        events = read_mimic_iv(tmp_path, tables=["diagnoses_icd", "procedures_icd"])
    assert len(events) == 0  # no code, or no admission to date the diagnosis by
    assert "2 diagnoses_icd rows left out" in caplog.text
    assert "1 procedures_icd rows left out" in caplog.text


def test_a_table_named_twice_is_read_once(mimic_root):
    once = read_mimic_iv(mimic_root, tables=["diagnoses_icd", "labevents"])
    twice = read_mimic_iv(mimic_root, tables=["diagnoses_icd", "labevents", "labevents"])
    pd.testing.assert_frame_equal(once, twice)
