"""Counting a MEDS folder shard by shard: the same counts and vectors as reading it whole."""

import numpy as np
import pytest

pytest.importorskip("pyarrow")

from skmed2vec import (  # noqa: E402
    CodeVocabulary,
    TemporalMed2VecEmbedder,
    count_codes,
    count_meds_codes,
    count_meds_pairs,
    events_to_timelines,
    read_meds,
)
from skmed2vec.datasets import make_cohort  # noqa: E402


@pytest.fixture(scope="module")
def meds_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("meds")
    (root / "data" / "train").mkdir(parents=True)
    events = make_cohort(240, random_state=3).events
    subjects = np.sort(events["subject_id"].unique())
    for i, part in enumerate(np.array_split(subjects, 4)):
        shard = events[events["subject_id"].isin(part)]
        shard.to_parquet(root / "data" / "train" / f"{i}.parquet", index=False)
    return root


def test_shard_counts_match_the_whole_folder(meds_root):
    X, _ = events_to_timelines(read_meds(meds_root))
    vocabulary = CodeVocabulary(min_subjects=2, grouping="icd10_category")
    counts = count_meds_codes(meds_root, vocabulary=vocabulary, n_jobs=2)
    assert counts == count_codes(X, vocabulary=vocabulary)
    vocabulary.fit_counts(counts)
    reference = CodeVocabulary(min_subjects=2, grouping="icd10_category").fit(X)
    np.testing.assert_array_equal(vocabulary.codes_, reference.codes_)

    pairs = count_meds_pairs(meds_root, vocabulary, window=4, time_decay=0.02, n_jobs=2)
    embedder = TemporalMed2VecEmbedder(embed_dim=8, window=4, time_decay=0.02, epochs=2)
    embedder.set_params(random_state=0)
    from_shards = embedder.fit_counts(pairs).code_vectors_.copy()
    whole = embedder.fit(vocabulary.transform(X)).code_vectors_
    np.testing.assert_array_equal(from_shards, whole)
    assert pairs.n_subjects == len(X)


@pytest.mark.parametrize("handle_unknown", ["ignore", "error"])
def test_pruned_codes_count_as_in_fit_whatever_handle_unknown(meds_root, handle_unknown):
    # Shards are encoded as fit encodes: "ignore" drops pruned codes' events, and
    # "error" maps them to <UNK>, where transform would refuse them.
    X, _ = events_to_timelines(read_meds(meds_root))
    vocabulary = CodeVocabulary(min_frequency=20, handle_unknown=handle_unknown)
    vocabulary.fit_counts(count_meds_codes(meds_root, vocabulary=vocabulary))
    assert vocabulary.coverage_ < 1  # some codes are pruned
    pairs = count_meds_pairs(meds_root, vocabulary, window=4)
    embedder = TemporalMed2VecEmbedder(embed_dim=8, window=4, epochs=1, random_state=0)
    from_shards = embedder.fit_counts(pairs).code_vectors_.copy()
    encoded = vocabulary.fit_transform(X)
    whole = embedder.fit(encoded).code_vectors_
    np.testing.assert_array_equal(from_shards, whole)
    assert int(pairs.code_counts.sum()) == encoded.n_events
    assert (encoded.n_events < X.n_events) == (handle_unknown == "ignore")


def test_a_shard_of_static_rows_only_adds_to_the_others(meds_root, tmp_path):
    import shutil

    import pandas as pd

    root = tmp_path / "meds"
    shutil.copytree(meds_root, root)
    for dtype in ("datetime64[us]", object):  # a typed, then an untyped, empty time column
        static = pd.DataFrame(
            {
                "subject_id": [10_000, 10_000],
                "time": pd.Series([None, None], dtype=dtype),
                "code": ["SEX//F", "RACE//X"],
            }
        )
        static.to_parquet(root / "data" / "static.parquet", index=False)
        vocabulary = CodeVocabulary().fit_counts(count_meds_codes(root))
        pairs = count_meds_pairs(root, vocabulary)
        assert pairs.time_kind == "datetime" and pairs.n_subjects == 241


def test_a_subject_split_across_shards_is_refused(meds_root, tmp_path):
    import pandas as pd

    (tmp_path / "data").mkdir()
    events = pd.read_parquet(meds_root / "data" / "train" / "0.parquet")
    first = events["subject_id"].iloc[0]
    mine = events[events["subject_id"] == first]
    mine.iloc[: len(mine) // 2].to_parquet(tmp_path / "data" / "a.parquet", index=False)
    mine.iloc[len(mine) // 2 :].to_parquet(tmp_path / "data" / "b.parquet", index=False)
    with pytest.raises(ValueError, match=f"subject {first} has events in two shards"):
        count_meds_codes(tmp_path)
    vocabulary = CodeVocabulary().fit(events_to_timelines(events)[0])
    with pytest.raises(ValueError, match="MEDS keeps each subject in one shard"):
        count_meds_pairs(tmp_path, vocabulary)


def test_meds_counting_errors(meds_root, tmp_path):
    with pytest.raises(ValueError, match="must be fitted"):
        count_meds_pairs(meds_root, CodeVocabulary())
    with pytest.raises(FileNotFoundError, match="no data/ folder"):
        count_meds_codes(tmp_path)
    (tmp_path / "data").mkdir()
    with pytest.raises(FileNotFoundError, match="no parquet shard"):
        count_meds_codes(tmp_path)


def test_string_columns_clean_each_distinct_code_once():
    import pandas as pd

    events = pd.DataFrame(
        {
            "subject_id": [2, 1, 1, 2, 1],
            "time": pd.to_datetime(
                ["2020-01-02", "2020-01-01", "2020-01-01", "2020-01-02", "2020-03-01"]
            ),
            "code": [" I10", "E11.9 ", "A01", "I10", "B02"],
        }
    )
    fast, _ = events_to_timelines(events.astype({"code": "string"}))
    slow, _ = events_to_timelines(events.astype({"code": object}))
    np.testing.assert_array_equal(fast.codes, slow.codes)
    np.testing.assert_array_equal(fast.times, slow.times)
    assert fast.codes.tolist() == ["A01", "E11.9", "B02", "I10", "I10"]
    with pytest.raises(ValueError, match="empty strings.*at row 1"):
        events_to_timelines(
            events.assign(code=["I10", " ", "A", "B", "C"]).astype({"code": "string"})
        )


def test_a_split_is_counted_as_read_meds_reads_it(tmp_path):
    # Counting a folder counted its held-out subjects too, with no way to leave them out.
    import shutil

    import pandas as pd

    root = tmp_path / "meds"
    events = make_cohort(120, random_state=3).events
    subjects = np.sort(events["subject_id"].unique())
    (root / "data").mkdir(parents=True)
    (root / "metadata").mkdir()
    for i, part in enumerate(np.array_split(subjects, 3)):
        events[events["subject_id"].isin(part)].to_parquet(root / "data" / f"{i}.parquet")
    split = np.where(np.arange(len(subjects)) % 4 == 0, "held_out", "train")
    pd.DataFrame({"subject_id": subjects, "split": split}).to_parquet(
        root / "metadata" / "subject_splits.parquet"
    )
    X, _ = events_to_timelines(read_meds(root, split="train"))
    vocabulary = CodeVocabulary(min_subjects=2)
    counts = count_meds_codes(root, vocabulary=vocabulary, split="train", n_jobs=2)
    assert counts == count_codes(X, vocabulary=vocabulary)
    assert counts.n_subjects == (split == "train").sum()
    vocabulary.fit_counts(counts)
    pairs = count_meds_pairs(root, vocabulary, window=4, split=["train"], n_jobs=2)
    embedder = TemporalMed2VecEmbedder(embed_dim=8, window=4, epochs=1, random_state=0)
    from_shards = embedder.fit_counts(pairs).code_vectors_.copy()
    whole = embedder.fit(vocabulary.transform(X)).code_vectors_
    np.testing.assert_array_equal(from_shards, whole)
    with pytest.raises(ValueError, match="split 'tuning' is not in"):
        count_meds_codes(root, split="tuning")
    shutil.rmtree(root / "metadata")
    with pytest.raises(FileNotFoundError, match="subject_splits.parquet"):
        count_meds_pairs(root, vocabulary, split="train")


def test_shard_counts_on_disk_return_from_worker_processes(meds_root, tmp_path, monkeypatch):
    # loky sent memory-mapped counts back by file name, and the worker had removed
    # the file: BrokenProcessPool, and folders left behind.
    import joblib
    from sklearn import config_context

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    vocabulary = CodeVocabulary().fit_counts(count_meds_codes(meds_root))
    expected = count_meds_pairs(meds_root, vocabulary, window=4)
    with config_context(working_memory=1e-3), joblib.parallel_backend("loky", n_jobs=2):
        counts = count_meds_pairs(meds_root, vocabulary, window=4, n_jobs=2, chunk_events=300)
    assert counts == expected
    del counts
    assert list(tmp_path.iterdir()) == []
