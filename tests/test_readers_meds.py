"""MEDS reader: shards, splits, code metadata, and a round trip of the Synthea extract."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, cross_val_score
from sklearn.pipeline import make_pipeline

from skmed2vec import (
    CodeVocabulary,
    TemporalMed2VecEmbedder,
    events_to_timelines,
    read_meds,
    read_meds_codes,
)
from skmed2vec.datasets import load_synthea_events, load_synthea_patients

pytest.importorskip("pyarrow")


def write_meds(root, events, codes=None, splits=None, shards=2):
    """A MEDS folder: events sharded by subject under data/, metadata/ beside it."""
    (root / "data" / "train").mkdir(parents=True)
    (root / "metadata").mkdir()
    events = events.assign(time=events["time"].astype("datetime64[us]"))
    subjects = np.sort(events["subject_id"].unique())
    for i, part in enumerate(np.array_split(subjects, shards)):
        shard = events[events["subject_id"].isin(part)]
        folder = root / "data" / ("train" if i % 2 == 0 else "")
        shard.to_parquet(folder / f"{i}.parquet", index=False)
    if codes is not None:
        codes.to_parquet(root / "metadata" / "codes.parquet", index=False)
    if splits is not None:
        splits.to_parquet(root / "metadata" / "subject_splits.parquet", index=False)


@pytest.fixture
def meds_root(tmp_path):
    events = pd.DataFrame(
        {
            "subject_id": np.array([1, 1, 1, 2, 2, 3], dtype=np.int64),
            "time": pd.to_datetime(
                [None, "2020-01-01", "2020-02-01 10:30", "2019-05-05", "2019-06-01", "2021-01-01"],
                format="ISO8601",
            ),
            "code": [
                "GENDER//F",
                "SNOMED/195662009",
                "LOINC/4548-4",
                "RxNorm/1049630",
                "ICD10CM//E1165",
                "SNOMED/15777000",
            ],
            "numeric_value": np.array([np.nan, np.nan, 6.1, np.nan, np.nan, np.nan], "float32"),
        }
    )
    codes = pd.DataFrame(
        {
            "code": ["ICD10CM//E1165", "ICD10CM//E116", "LOINC/4548-4"],
            "description": ["T2DM with hyperglycemia", "T2DM with complications", "HbA1c"],
            "parent_codes": [["ICD10CM//E116", "SNOMED/44054006"], ["ICD10CM//E11"], None],
        }
    )
    splits = pd.DataFrame({"subject_id": [1, 2, 3], "split": ["train", "train", "held_out"]})
    write_meds(tmp_path, events, codes, splits)
    return tmp_path, events


def test_read_meds_reads_every_shard_with_the_meds_columns(meds_root):
    root, events = meds_root
    read = read_meds(root)
    assert read.columns.tolist() == ["subject_id", "time", "code", "numeric_value"]
    key = ["subject_id", "code"]
    pd.testing.assert_frame_equal(
        read.sort_values(key, ignore_index=True),
        events.sort_values(key, ignore_index=True).astype({"numeric_value": "float64"}),
        check_dtype=False,
    )
    assert read["time"].isna().sum() == 1  # the static row
    held_out = read_meds(root, split="held_out")
    assert held_out["subject_id"].tolist() == [3]
    assert sorted(read_meds(root, split=["train"])["subject_id"].unique()) == [1, 2]


def test_read_meds_codes_feed_the_vocabulary(meds_root):
    root, _ = meds_root
    codes = read_meds_codes(root)
    assert codes["parent_codes"].tolist() == [
        ["ICD10CM//E116", "SNOMED/44054006"],
        ["ICD10CM//E11"],
        [],
    ]
    parents = dict(zip(codes["code"], codes["parent_codes"]))
    vocab = CodeVocabulary(fallback_to_parent=parents).fit([[(0, "SNOMED/44054006")]])
    encoded = vocab.transform([[(0, "ICD10CM//E1165"), (1, "LOINC/4548-4")]])
    assert encoded.decoded_codes().tolist() == ["SNOMED/44054006", "<UNK>"]
    grouped = CodeVocabulary(grouping={c: p[0] for c, p in parents.items() if p})
    grouped.fit([[(0, "ICD10CM//E1165"), (1, "ICD10CM//E116")]])
    assert sorted(grouped.codes_.tolist()) == ["<UNK>", "ICD10CM//E11", "ICD10CM//E116"]


def test_read_meds_errors_name_what_is_missing(meds_root, tmp_path_factory):
    root, _ = meds_root
    with pytest.raises(ValueError, match=r"split 'tuning' is not in .*'held_out', 'train'"):
        read_meds(root, split="tuning")
    empty = tmp_path_factory.mktemp("empty")
    with pytest.raises(FileNotFoundError, match="no data/ folder"):
        read_meds(empty)
    with pytest.raises(FileNotFoundError, match="codes.parquet"):
        read_meds_codes(empty)
    (empty / "data").mkdir()
    pd.DataFrame({"subject_id": [1], "code": ["A"]}).to_parquet(empty / "data" / "0.parquet")
    with pytest.raises(ValueError, match="has no 'time' column"):
        read_meds(empty)
    with pytest.raises(FileNotFoundError, match="subject_splits.parquet"):
        read_meds(empty, split="train")


def test_synthea_as_a_meds_dataset_round_trip(synthea_dir, tmp_path):
    static = load_synthea_patients(synthea_dir)
    coded = load_synthea_events(synthea_dir, separator="/")[["subject_id", "time", "code"]]
    events = pd.concat([static, coded], ignore_index=True)
    ids = {s: i for i, s in enumerate(sorted(events["subject_id"].unique()))}
    events["subject_id"] = events["subject_id"].map(ids).astype(np.int64)
    events["numeric_value"] = np.float32(np.nan)
    assert events["code"].str.startswith("SNOMED/").any()
    assert events["code"].str.startswith("RxNorm/").any()
    write_meds(tmp_path, events, shards=3)

    read = read_meds(tmp_path)
    key = ["subject_id", "time", "code"]
    expected = events.astype({"time": "datetime64[us]"}).sort_values(key, ignore_index=True)
    pd.testing.assert_frame_equal(
        read.sort_values(key, ignore_index=True), expected, check_dtype=False
    )

    # Labels: two prediction times per subject with a history, outcome = any
    # condition or drug in the following two years.
    timed = read.dropna(subset=["time"])
    first = timed.groupby("subject_id")["time"].min()
    labels = pd.concat(
        [
            pd.DataFrame({"subject_id": first.index, "prediction_time": pd.Timestamp(day)})
            for day in ("2014-01-01", "2016-01-01")
        ],
        ignore_index=True,
    )
    labels = labels[labels["prediction_time"] > labels["subject_id"].map(first)]
    later = timed[~timed["code"].str.startswith("MEDS_")].merge(labels, on="subject_id")
    window = (later["time"] > later["prediction_time"]) & (
        later["time"] <= later["prediction_time"] + pd.Timedelta(days=730)
    )
    positive = later[window].groupby(["subject_id", "prediction_time"]).size()
    labels["boolean_value"] = pd.MultiIndex.from_frame(labels).isin(positive.index)
    assert labels.groupby("subject_id").size().max() == 2

    X, groups = events_to_timelines(read, prediction_times=labels)
    y = labels["boolean_value"].to_numpy()
    assert len(X) == len(labels) and 0.1 < y.mean() < 0.9
    pipe = make_pipeline(
        CodeVocabulary(min_subjects=10, grouping="icd10_category"),
        TemporalMed2VecEmbedder(embed_dim=8, epochs=1, random_state=0),
        LogisticRegression(max_iter=1000),
    )
    scores = cross_val_score(
        pipe, X, y, groups=groups, cv=GroupKFold(n_splits=3), scoring="roc_auc"
    )
    assert np.isfinite(scores).all() and scores.mean() > 0.6


def test_a_file_for_a_meds_folder_is_named_a_file(tmp_path):
    events = tmp_path / "events.csv"
    events.write_text("subject_id,time,code\n")
    with pytest.raises(FileNotFoundError, match=r"events.csv \(a file\): pass the root folder"):
        read_meds(events)
    with pytest.raises(FileNotFoundError, match=r"\(which does not exist\)"):
        read_meds(tmp_path / "missing")


@pytest.mark.parametrize("ids", [["1", "2", "3"], [1.0, 2.0, 3.0]])
def test_split_ids_of_another_type_than_the_shards_are_named(tmp_path, ids):
    # A splits file written from a CSV (text ids) failed inside pyarrow.
    events = pd.DataFrame(
        {"subject_id": [1, 2, 3], "time": pd.to_datetime(["2020-01-01"] * 3), "code": "A"}
    )
    splits = pd.DataFrame({"subject_id": ids, "split": ["train", "train", "held_out"]})
    write_meds(tmp_path, events, splits=splits)
    kind = "text" if isinstance(ids[0], str) else "floats"
    with pytest.raises(ValueError, match=f"subject_splits.parquet are {kind}, those of .* int64"):
        read_meds(tmp_path, split="train")
    assert len(read_meds(tmp_path)) == 3  # every subject: the splits are not read
