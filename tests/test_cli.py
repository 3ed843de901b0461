"""The ``skmed2vec`` command, run as a subprocess on a MEDS folder built from Synthea."""

import gzip
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skmed2vec._cli import main

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
pytest.importorskip("skops")

ROOT = Path(__file__).resolve().parents[1]
FAST = ["--embed-dim", "8", "--epochs", "1", "--random-state", "0"]
OUTCOME = "SNOMED//444814009"  # viral sinusitis, the most frequent condition
CUTOFF = pd.Timestamp("2015-01-01")


def run(*args, check=True):
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONWARNINGS="ignore")
    result = subprocess.run(
        [sys.executable, "-m", "skmed2vec", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"exit {result.returncode}\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="module")
def meds(synthea_dir, tmp_path_factory):
    """A MEDS folder (data/<split>/, metadata/codes.parquet, subject_splits) and labels."""
    from skmed2vec.datasets import load_synthea_events

    events = load_synthea_events(synthea_dir)
    subject_ids, subjects = pd.factorize(events["subject_id"])
    # MEDS-style codes; allergies by name, so some codes contain spaces.
    code = events["code"].str.replace(":", "//", n=1)
    allergy = events["table"] == "allergies"
    code[allergy] = "ALLERGY//" + events.loc[allergy, "description"]
    data = pd.DataFrame(
        {"subject_id": subject_ids.astype(np.int64), "time": events["time"], "code": code}
    )
    # A static row without a time per subject, as MEDS stores sex.
    static = pd.DataFrame(
        {"subject_id": np.arange(len(subjects)), "time": pd.NaT, "code": "GENDER//F"}
    )
    data = pd.concat([static, data], ignore_index=True)
    split_of = np.array(["train", "train", "train", "tuning", "held_out"])[
        np.arange(len(subjects)) % 5
    ]
    root = tmp_path_factory.mktemp("meds")
    for split in ["train", "tuning", "held_out"]:
        folder = root / "data" / split
        folder.mkdir(parents=True)
        part = data[split_of[data["subject_id"]] == split]
        table = pa.Table.from_pandas(part, preserve_index=False).cast(
            pa.schema(
                [("subject_id", pa.int64()), ("time", pa.timestamp("us")), ("code", pa.string())]
            )
        )
        pq.write_table(table, folder / "0.parquet")
    (root / "metadata").mkdir()
    descriptions = pd.DataFrame(
        {
            "code": code,
            "description": events["description"],
            "parent_codes": [[f"SYNTHEA//{t}"] for t in events["table"]],
        }
    )
    descriptions.drop_duplicates("code").to_parquet(root / "metadata" / "codes.parquet")
    pd.DataFrame({"subject_id": np.arange(len(subjects)), "split": split_of}).to_parquet(
        root / "metadata" / "subject_splits.parquet"
    )
    # Labels: does a subject seen before 2015 get viral sinusitis from 2015 on?
    before = data[data["time"] < CUTOFF]["subject_id"].unique()
    after = data[(data["time"] >= CUTOFF) & (data["code"] == OUTCOME)]["subject_id"].unique()
    labels = pd.DataFrame(
        {
            "subject_id": before.astype(np.int64),
            "prediction_time": CUTOFF,
            "boolean_value": np.isin(before, after),
        }
    )
    labels["prediction_time"] = labels["prediction_time"].astype("datetime64[us]")
    labels.to_parquet(root / "labels.parquet")
    return root


@pytest.fixture(scope="module")
def model(meds, tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "model.skops"
    result = run("fit", "--meds", meds, "--min-subjects", "3", *FAST, "--output", path)
    assert "wrote" in result.stdout and result.stderr == ""
    return path


def test_version_and_help(capsys):
    from skmed2vec import __version__

    assert run("--version").stdout.strip() == f"skmed2vec {__version__}"
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "fit" in out and "predict" in out and "export" in out
    for argv in (["fit", "--events", "e.csv", "-o", "m", "--bogus"], ["nonsense"], ["fit"]):
        with pytest.raises(SystemExit) as exit:
            main(argv)
        assert exit.value.code == 2
    assert "unrecognized arguments: --bogus" in capsys.readouterr().err


def test_fit_writes_a_skops_model_trusting_only_the_package(model):
    import skops.io as sio

    from skmed2vec._cli._models import TRUSTED_TYPES

    assert sorted(sio.get_untrusted_types(file=model)) == sorted(TRUSTED_TYPES)
    saved = sio.load(model, trusted=TRUSTED_TYPES)
    embedder = saved["model"].named_steps["embedder"]
    assert embedder.code_vectors_.shape[1] == 8
    assert "GENDER//F" in embedder.vocabulary_  # static rows join at the first event
    assert saved["descriptions"][OUTCOME] == "Viral sinusitis (disorder)"
    assert saved["groups"][OUTCOME] == "SYNTHEA//conditions"  # the first MEDS parent


def test_neighbours_table(model):
    out = run("neighbours", "--model", model, OUTCOME, "--topn", "3").stdout
    lines = out.splitlines()
    assert lines[0].startswith(f"{OUTCOME}  (Viral sinusitis (disorder)): ")
    assert lines[1].split() == ["code", "similarity", "count", "description"]
    rows = lines[3:]
    assert len(rows) == 3
    similarities = [float(r.split()[1]) for r in rows]
    assert similarities == sorted(similarities, reverse=True)


def test_neighbours_of_an_unknown_code(model, capsys):
    assert main(["neighbours", "--model", str(model), "NOPE//1"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'NOPE//1' is not in the model" in err


@pytest.mark.parametrize("format", ["word2vec-binary", "parquet", "projector", "safetensors"])
def test_export(model, tmp_path, format):
    from skmed2vec import load_vectors

    target = tmp_path / {"parquet": "v.parquet", "projector": "proj"}.get(format, "v.bin")
    argv = ["export", "--model", str(model), "--format", format, "--output", str(target)]
    assert main(argv) == 0  # in-process: fit, transform, predict, neighbours run as subprocesses
    read = load_vectors(target, format=format)
    assert read.vectors.shape[1] == 8
    assert any(c.startswith("ALLERGY//") and " " in c for c in read.codes)
    if format == "parquet":
        schema = pq.read_schema(target)
        assert schema.field("vector").type == pa.list_(pa.float32())
        assert schema.field("description").type == pa.string()
        assert schema.field("group").type == pa.string()
    if format == "projector":
        header = (target / "metadata.tsv").read_text().splitlines()[0]
        assert header == "code\tcount\tgroup\tdescription"


def test_transform_writes_one_row_per_label(meds, model, tmp_path):
    out = tmp_path / "features.parquet"
    run(
        "transform",
        "--model",
        model,
        "--meds",
        meds,
        "--labels",
        meds / "labels.parquet",
        "--output",
        out,
    )
    schema = pq.read_schema(out)
    assert schema.names[:2] == ["subject_id", "prediction_time"]
    assert schema.field("subject_id").type == pa.int64()
    assert pa.types.is_timestamp(schema.field("prediction_time").type)
    assert schema.names[2:] == [f"{agg}_{i}" for agg in ("recency", "mean") for i in range(8)]
    assert all(schema.field(n).type == pa.float32() for n in schema.names[2:])
    features = pd.read_parquet(out)
    labels = pd.read_parquet(meds / "labels.parquet")
    assert len(features) == len(labels)
    assert (features["subject_id"].to_numpy() == labels["subject_id"].to_numpy()).all()
    assert np.abs(features.iloc[:, 2:].to_numpy()).sum(axis=1).min() > 0


def test_predict_meds_dev(meds, tmp_path):
    out = tmp_path / "predictions.parquet"
    run(
        "predict",
        "--meds",
        meds,
        "--labels",
        meds / "labels.parquet",
        "--split",
        "held_out",
        *FAST,
        "--output",
        out,
    )
    schema = pq.read_schema(out)
    assert schema.names == [
        "subject_id",
        "prediction_time",
        "boolean_value",
        "predicted_boolean_probability",
        "predicted_boolean_value",
    ]
    assert schema.field("boolean_value").type == pa.bool_()
    assert schema.field("predicted_boolean_value").type == pa.bool_()
    assert schema.field("predicted_boolean_probability").type == pa.float64()
    predictions = pd.read_parquet(out)
    splits = pd.read_parquet(meds / "metadata" / "subject_splits.parquet")
    held_out = set(splits.loc[splits["split"] == "held_out", "subject_id"])
    assert set(predictions["subject_id"]) <= held_out and len(predictions) > 100
    assert predictions["predicted_boolean_probability"].between(0, 1).all()
    from sklearn.metrics import roc_auc_score

    # Features from history predict the outcome better than chance.
    auc = roc_auc_score(predictions["boolean_value"], predictions["predicted_boolean_probability"])
    assert auc > 0.55


def test_verbose_shows_progress_and_quiet_prints_nothing_on_stderr(tmp_path, capsys):
    events = tmp_path / "events.csv"
    rng = np.random.default_rng(0)
    pd.DataFrame(
        {
            "patient": np.repeat(np.arange(40), 6),
            "date": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 900, 240), "D"),
            "concept": rng.choice(["E11 9", "I10", "J45", "N18//3"], 240),
        }
    ).assign(text=lambda f: "about " + f["concept"]).to_csv(events, index=False)
    columns = [
        "--subject-col",
        "patient",
        "--time-col",
        "date",
        "--code-col",
        "concept",
        "--description-col",
        "text",
    ]
    # Quiet: in-process here (the MEDS fit of the ``model`` fixture checks a quiet
    # subprocess prints nothing on stderr).
    assert main(["fit", "--events", str(events), *columns, *FAST, "-o", str(tmp_path / "q")]) == 0
    quiet = capsys.readouterr()
    assert quiet.err == "" and quiet.out.startswith("fitted 5 codes")
    loud = run("fit", "--events", events, *columns, *FAST, "-o", tmp_path / "m.skops", "-v")
    assert "read 240 events of 40 subjects" in loud.stderr
    assert "[TemporalMed2VecEmbedder] epoch 1/1: loss" in loud.stdout
    assert "[CodeVocabulary] kept" in loud.stdout
    assert main(["neighbours", "--model", str(tmp_path / "m.skops"), "I10", "--topn", "3"]) == 0
    table = capsys.readouterr().out
    assert table.startswith("I10  (about I10): ")
    assert "about E11 9" in table and "about N18//3" in table


# -- errors: one line naming the option, exit status 1 (run in-process: fast) ----------
@pytest.fixture
def events_file(tmp_path):
    path = tmp_path / "events.parquet"
    X = [[("2020-01-01", "E11 9"), ("2020-01-03", "I10"), ("2020-02-01", "J45")]] * 10
    pd.DataFrame(
        [(i, pd.Timestamp(t), c) for i, timeline in enumerate(X) for t, c in timeline],
        columns=["subject_id", "time", "code"],
    ).to_parquet(path)
    return path


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--code-col", "concept"], "no column 'concept'.*--code-col"),
        (["--embed-dim", "0"], "--embed-dim: The 'embed_dim' parameter"),
        (["--objective", "magic"], "--objective: The 'objective' parameter"),
        (["--learning-rate", "1e30", "--epochs", "3"], "diverged.*lower --learning-rate"),
    ],
)
def test_fit_errors_name_the_option(events_file, tmp_path, capsys, extra, message):
    status = main(["fit", "--events", str(events_file), "-o", str(tmp_path / "m"), *extra])
    err = capsys.readouterr().err
    assert status == 1 and err.count("\n") == 1
    assert err.startswith("skmed2vec fit: error: ")
    import re

    assert re.search(message, err)
    assert not (tmp_path / "m").exists()


def test_missing_files_and_pickle_need_trust(events_file, tmp_path, capsys):
    assert main(["fit", "--events", str(tmp_path / "none.csv"), "-o", "x"]) == 1
    assert "--events" in capsys.readouterr().err
    model = tmp_path / "m.joblib"
    args = ["fit", "--events", str(events_file), *FAST, "--model-format", "joblib"]
    assert main([*args, "-o", str(model)]) == 0
    capsys.readouterr()
    assert main(["neighbours", "--model", str(model), "I10"]) == 1
    assert "--trust-pickle" in capsys.readouterr().err
    assert main(["neighbours", "--model", str(model), "I10", "--trust-pickle"]) == 0
    assert "E11%209" not in capsys.readouterr().out  # a table shows codes as they are
    assert (
        main(
            [
                "export",
                "--model",
                str(model),
                "--trust-pickle",
                "--format",
                "word2vec",
                "-o",
                str(tmp_path / "v.txt"),
            ]
        )
        == 0
    )
    assert "E11%209 " in (tmp_path / "v.txt").read_text()


def test_fit_from_an_omop_folder(tmp_path, capsys):
    folder = tmp_path / "omop"
    folder.mkdir()
    rng = np.random.default_rng(0)
    n = 300
    pd.DataFrame(
        {
            "person_id": rng.integers(1, 31, n),
            "condition_concept_id": rng.choice([201826, 320128, 317009], n),
            "condition_start_date": (
                pd.Timestamp("2019-01-01") + pd.to_timedelta(rng.integers(0, 700, n), "D")
            ).strftime("%Y-%m-%d"),
        }
    ).to_csv(folder / "condition_occurrence.csv", index=False)
    pd.DataFrame(
        {
            "concept_id": [201826, 320128, 317009],
            "vocabulary_id": ["SNOMED"] * 3,
            "concept_code": ["44054006", "38341003", "195967001"],
        }
    ).to_csv(folder / "concept.csv", index=False)
    model = tmp_path / "m.skops"
    argv = ["fit", "--omop", str(folder), *FAST, "-o", str(model)]
    assert main(argv) == 1
    assert "'drug_exposure' table" in capsys.readouterr().err  # all default tables needed
    assert main([*argv, "--omop-tables", "condition_occurrence"]) == 0, capsys.readouterr().err
    assert main(["neighbours", "--model", str(model), "SNOMED/44054006", "--topn", "2"]) == 0
    rows = capsys.readouterr().out.splitlines()[-2:]
    assert sorted(r.split()[0] for r in rows) == ["SNOMED/195967001", "SNOMED/38341003"]
    assert main(["fit", "--omop", str(tmp_path / "nowhere"), "-o", str(model)]) == 1
    assert capsys.readouterr().err.startswith("skmed2vec fit: error: --omop ")


@pytest.mark.parametrize(
    ("argv", "expected"),
    [([], 0.01), (["--recency-decay", "0.003"], 0.003), (["--recency-decay", "none"], None)],
)
def test_recency_decay_option_sets_the_embedder(tmp_path, argv, expected):
    from skmed2vec._cli import build_parser
    from skmed2vec._cli._models import build_pipeline

    args = build_parser().parse_args(
        ["fit", "--events", str(tmp_path / "e.csv"), "--output", str(tmp_path / "m"), *argv]
    )
    assert build_pipeline(args).named_steps["embedder"].recency_decay == expected


# -- label values, event files, OMOP sources, output paths ---------------------------
@pytest.fixture
def small_meds(tmp_path):
    """A small MEDS folder (60 train, 20 held_out subjects) without metadata/codes."""
    rng = np.random.default_rng(0)
    codes = ["ICD10CM//E11.9", "ICD10CM//I10", "LOINC//4548-4", "RxNorm//860975"]
    rows = [
        (s, pd.Timestamp("2015-01-01") + pd.Timedelta(days=int(d)), codes[rng.integers(4)])
        for s in range(80)
        for d in np.sort(rng.integers(0, 700, 8))
    ]
    events = pd.DataFrame(rows, columns=["subject_id", "time", "code"])
    events["time"] = events["time"].astype("datetime64[us]")
    root = tmp_path / "meds"
    (root / "data").mkdir(parents=True)
    (root / "metadata").mkdir()
    events.to_parquet(root / "data" / "0.parquet", index=False)
    pd.DataFrame(
        {"subject_id": np.arange(80), "split": ["train"] * 60 + ["held_out"] * 20}
    ).to_parquet(root / "metadata" / "subject_splits.parquet", index=False)
    return root


def small_labels(values):
    """One label row per subject of ``small_meds``, with these boolean_values."""
    return pd.DataFrame(
        {
            "subject_id": np.arange(80),
            "prediction_time": pd.Timestamp("2017-01-01"),
            "boolean_value": values,
        }
    )


def test_predict_refuses_label_rows_without_a_value(small_meds, tmp_path, capsys):
    # A CSV with empty cells: read as missing, which bool() would turn into True.
    labels = tmp_path / "labels.csv"
    small_labels([None if i % 3 == 0 else i % 2 == 0 for i in range(80)]).to_csv(
        labels, index=False
    )
    out = tmp_path / "p.parquet"
    argv = ["predict", "--meds", str(small_meds), *FAST, "-o", str(out)]
    assert main([*argv, "--labels", str(labels)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err == (
        f"skmed2vec predict: error: --labels {labels}: 20 label rows of split 'train' have no "
        "boolean_value (the first: subject_id 0); fill them in or leave those rows out\n"
    )
    small_labels(["maybe" if i == 7 else "true" for i in range(80)]).to_csv(labels, index=False)
    assert main([*argv, "--labels", str(labels)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "boolean_value 'maybe' (subject_id 7) is not a boolean" in err
    assert not out.exists()


@pytest.mark.parametrize(
    "values",
    [
        [i % 2 == 0 for i in range(80)],
        [i % 2 for i in range(80)],
        [("TRUE", "false", "True", "0", "1")[i % 5] for i in range(80)],
    ],
    ids=["bool", "0/1", "strings"],
)
def test_predict_reads_booleans_0_1_and_true_false(small_meds, tmp_path, values):
    labels = tmp_path / "labels.csv"
    small_labels(values).to_csv(labels, index=False)
    out = tmp_path / "p.parquet"
    argv = ["predict", "--meds", str(small_meds), "--labels", str(labels), *FAST, "-o", str(out)]
    assert main(argv) == 0
    predictions = pd.read_parquet(out)
    expected = [str(v).lower() in ("true", "1") for v in values[60:]]
    assert predictions["boolean_value"].tolist() == expected
    assert predictions["subject_id"].tolist() == list(range(60, 80))


def test_predict_writes_missing_truth_of_the_predicted_split(small_meds, tmp_path):
    labels = tmp_path / "labels.parquet"
    values = pd.array([i % 2 == 0 if i < 60 else None for i in range(80)], dtype="boolean")
    small_labels(values).to_parquet(labels)
    out = tmp_path / "p.parquet"
    argv = ["predict", "--meds", str(small_meds), "--labels", str(labels), *FAST, "-o", str(out)]
    assert main(argv) == 0
    assert pq.read_schema(out).field("boolean_value").type == pa.bool_()
    assert pd.read_parquet(out)["boolean_value"].isna().all()


def model_codes(path):
    import skops.io as sio

    from skmed2vec._cli._models import TRUSTED_TYPES

    embedder = sio.load(path, trusted=TRUSTED_TYPES)["model"].named_steps["embedder"]
    return sorted(embedder.codes_[1:].tolist())


def test_events_csv_codes_are_read_as_written(tmp_path, capsys):
    # ICD-9 and NDC codes look like numbers: leading zeros and trailing zeros count.
    events = tmp_path / "events.csv"
    events.write_text(
        "subject_id,time,code\n"
        "1,2020-01-01,0389\n1,2020-01-05,00002143380\n1,2020-01-06,250.00\n"
        "2,2020-01-02,0389\n2,2020-01-09,4019\n2,2020-01-10,250.00\n"
    )
    model = tmp_path / "m.skops"
    assert main(["fit", "--events", str(events), *FAST, "-o", str(model)]) == 0
    assert model_codes(model) == ["00002143380", "0389", "250.00", "4019"]
    out = tmp_path / "v.txt"
    assert main(["export", "--model", str(model), "--format", "word2vec", "-o", str(out)]) == 0
    written = [line.split()[0] for line in out.read_text().splitlines()[1:]]
    assert sorted(written)[:4] == ["00002143380", "0389", "250.00", "4019"]


def test_subject_ids_of_text_files_are_read_as_written(small_meds, tmp_path, capsys):
    # 0123 and 123 are two patients; reading ids as numbers merged their events.
    events = tmp_path / "events.csv"
    events.write_text(
        "subject_id,time,code\n"
        "0123,2020-01-01,A\n0123,2020-01-02,B\n0123,2020-01-03,A\n"
        "123,2020-01-01,C\n123,2020-01-02,D\n123,2020-01-03,C\n"
    )
    model = tmp_path / "m.skops"
    assert main(["fit", "--events", str(events), *FAST, "-o", str(model)]) == 0
    labels = tmp_path / "labels.csv"
    labels.write_text("subject_id,prediction_time\n0123,2020-01-05\n123,2020-01-05\n")
    out = tmp_path / "features.parquet"
    argv = ["transform", "--model", str(model), "--events", str(events), "--labels", str(labels)]
    assert main([*argv, "-o", str(out)]) == 0
    features = pd.read_parquet(out)
    assert features["subject_id"].tolist() == ["0123", "123"]
    assert features["prediction_time"].dtype.kind == "M"  # a timestamp, not text
    rows = features.iloc[:, 2:].to_numpy()
    assert not np.allclose(rows[0], rows[1])  # A, B against C, D
    # Numeric ids in the events (MEDS): label ids written as numbers join them...
    meds_model = tmp_path / "meds.skops"
    assert (
        main(["fit", "--meds", str(small_meds), "--split", "all", *FAST, "-o", str(meds_model)])
        == 0
    )
    labels.write_text("subject_id,prediction_time\n7,2017-01-01\n12.0,2017-01-01\n")
    argv = ["transform", "--model", str(meds_model), "--meds", str(small_meds), "--split", "all"]
    assert main([*argv, "--labels", str(labels), "-o", str(out)]) == 0
    assert pd.read_parquet(out)["subject_id"].tolist() == [7, 12]
    # ... and ids that are not written as numbers are refused, not matched to 7.
    labels.write_text("subject_id,prediction_time\n007,2017-01-01\n")
    capsys.readouterr()
    assert main([*argv, "--labels", str(labels), "-o", str(out)]) != 0
    assert "subject_id '007' is not a whole number" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["events.tsv", "events.tsv.gz", "events.txt", "events.csv.gz"])
def test_events_separator_follows_the_suffix(tmp_path, name):
    separator = "," if ".csv" in name else "\t"
    table = pd.DataFrame(
        {"subject_id": [1, 1, 2], "time": ["2020-01-01", "2020-01-02", "2020-01-01"]}
    ).assign(code=["A 1", "B,2", "A 1"])
    table.to_csv(tmp_path / name, sep=separator, index=False)
    model = tmp_path / "m.skops"
    assert main(["fit", "--events", str(tmp_path / name), *FAST, "-o", str(model)]) == 0
    assert model_codes(model) == ["A 1", "B,2"]


def test_unreadable_event_files_name_the_file(tmp_path, capsys):
    model = str(tmp_path / "m.skops")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert main(["fit", "--events", str(empty), "-o", model]) == 1
    assert capsys.readouterr().err == (
        f"skmed2vec fit: error: --events {empty}: the file is empty (no header line)\n"
    )
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes(
        "subject_id,time,code\n1,2020-01-01,Sjögren\n1,2020-01-02,I10\n".encode("latin-1")
    )
    assert main(["fit", "--events", str(latin1), "-o", model]) == 1
    assert capsys.readouterr().err == (
        f"skmed2vec fit: error: --events {latin1}: not UTF-8 text (byte 0xf6 cannot be "
        "decoded); save it as UTF-8 or pass its encoding with --encoding "
        "(e.g. --encoding latin-1)\n"
    )
    assert main(["fit", "--events", str(latin1), "--encoding", "latin-1", *FAST, "-o", model]) == 0
    assert model_codes(model) == ["I10", "Sjögren"]
    capsys.readouterr()
    # A bare .gz is compressed comma-separated text; .json is no table format.
    gz = tmp_path / "events.gz"
    with gzip.open(gz, "wt") as handle:
        handle.write("subject_id,time,code\n1,2020-01-01,0389\n1,2020-01-02,NA\n")
    assert main(["fit", "--events", str(gz), *FAST, "-o", model]) == 0
    assert model_codes(model) == ["0389", "NA"]  # "NA" is a code here, not a missing value
    other = tmp_path / "events.json"
    other.write_text("{}")
    assert main(["fit", "--events", str(other), "-o", model]) == 1
    assert "expected a .parquet file or a .csv" in capsys.readouterr().err


def test_omop_database_errors_are_one_line_without_the_password(tmp_path, capsys):
    pytest.importorskip("duckdb_engine")
    model = str(tmp_path / "m.skops")
    missing = f"duckdb:///{tmp_path}/nowhere/cdm.duckdb"
    assert main(["fit", "--omop", missing, "-o", model]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"skmed2vec fit: error: --omop {missing}: the database cannot be read: ")
    assert "Cannot open file" in err and "sqlalche.me" not in err
    # A dialect SQLAlchemy does not know; the password stays hidden.
    assert main(["fit", "--omop", "nodialect://ana:s3cret@db.example/cdm", "-o", model]) == 1
    err = capsys.readouterr().err
    assert err == (
        "skmed2vec fit: error: --omop nodialect://ana:***@db.example/cdm: the database cannot "
        "be read: Can't load plugin: sqlalchemy.dialects:nodialect\n"
    )
    table = tmp_path / "condition_occurrence.csv"
    table.write_text("person_id,condition_concept_id\n1,2\n")
    assert main(["fit", "--omop", str(table), "-o", model]) == 1
    assert capsys.readouterr().err == (
        f"skmed2vec fit: error: --omop {table}: not a DuckDB database file; for table exports "
        "(condition_occurrence.csv, concept.csv...) pass the folder that holds them\n"
    )


def test_omop_server_that_refuses_the_connection(tmp_path, capsys):
    pytest.importorskip("psycopg")
    url = "postgresql://ana:s3cret@127.0.0.1:1/cdm"
    assert main(["fit", "--omop", url, "-o", str(tmp_path / "m.skops")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "s3cret" not in err
    assert err.startswith(
        "skmed2vec fit: error: --omop postgresql://ana:***@127.0.0.1:1/cdm: "
        "the database cannot be read: "
    )


def test_output_paths_are_checked_before_any_work(events_file, small_meds, tmp_path, capsys):
    model = tmp_path / "m.skops"
    assert main(["fit", "--events", str(events_file), *FAST, "-o", str(model)]) == 0
    capsys.readouterr()
    export = ["export", "--model", str(model), "--format"]
    nowhere = tmp_path / "no" / "v.txt"
    for argv, message in [
        ([*export, "word2vec", "-o", nowhere], f"the folder {nowhere.parent} does not exist"),
        ([*export, "parquet", "-o", tmp_path], "is a folder; name the file to write"),
        ([*export, "projector", "-o", model], "is a file; this format writes a folder"),
    ]:
        assert main(list(map(str, argv))) == 1
        assert capsys.readouterr().err == (
            f"skmed2vec export: error: --output {argv[-1]}: {message}\n"
        )
    # fit stops before reading or training: -v would show the epochs.
    missing = tmp_path / "no" / "m.skops"
    assert main(["fit", "--events", str(events_file), *FAST, "-v", "-o", str(missing)]) == 1
    out, err = capsys.readouterr()
    assert "epoch" not in out + err.splitlines()[-1]
    assert err.endswith(f"--output {missing}: the folder {missing.parent} does not exist\n")
    labels = tmp_path / "labels.csv"
    small_labels([i % 2 for i in range(80)]).to_csv(labels, index=False)
    predict = ["predict", "--meds", str(small_meds), "--labels", str(labels), *FAST]
    assert main([*predict, "-o", str(tmp_path)]) == 1
    assert f"--output {tmp_path}: is a folder" in capsys.readouterr().err
    assert main([*predict, "-o", str(tmp_path / "p.parquet"), "--save-model", str(missing)]) == 1
    assert f"--save-model {missing}: the folder" in capsys.readouterr().err
    transform = ["transform", "--model", str(model), "--events", str(events_file)]
    assert main([*transform, "--labels", str(labels), "-o", str(missing)]) == 1
    assert f"--output {missing}: the folder" in capsys.readouterr().err


def test_a_missing_model_writer_is_found_before_fitting(events_file, tmp_path, capsys, monkeypatch):
    # A base install without skops fitted everything, then failed to write.
    import sys

    monkeypatch.setitem(sys.modules, "skops", None)
    monkeypatch.setitem(sys.modules, "skops.io", None)
    assert main(["fit", "--events", str(events_file), *FAST, "-o", str(tmp_path / "m")]) == 1
    captured = capsys.readouterr()
    assert "--model-format skops needs skops" in captured.err
    assert captured.out == "" and "epoch" not in captured.err


def test_errors_name_options_not_parameters(tmp_path, capsys):
    events = tmp_path / "events.csv"
    events.write_text("subject_id,time,code\n1,,SEX//F\n1,2020-01-01,A\n")
    argv = ["fit", "--events", str(events), *FAST, "--static-events", "error"]
    assert main([*argv, "-o", str(tmp_path / "m.skops")]) == 1
    assert "pass --static-events='first' or 'drop'" in capsys.readouterr().err
    assert "--at-prediction-time" not in run("fit", "--help").stdout  # fit reads no labels


def test_label_times_mixing_offsets_and_none_are_refused(tmp_path, capsys):
    # Parsed as UTC, a naive time meant east of UTC became later: events leaked in.
    events = tmp_path / "events.csv"
    events.write_text("subject_id,time,code\n1,2020-01-01T00:00Z,A\n1,2020-01-03T00:00Z,B\n")
    model = tmp_path / "m.skops"
    assert main(["fit", "--events", str(events), *FAST, "-o", str(model)]) == 0
    labels = tmp_path / "labels.csv"
    labels.write_text("subject_id,prediction_time\n1,2020-01-02T12:00:00\n1,2020-01-06T00:00Z\n")
    argv = ["transform", "--model", str(model), "--events", str(events), "--labels", str(labels)]
    capsys.readouterr()
    assert main([*argv, "-o", str(tmp_path / "f.parquet")]) == 1
    assert "has one, '2020-01-02T12:00:00' none" in capsys.readouterr().err
    labels.write_text("subject_id,prediction_time\n1,2020-01-02 11:00:00 Etc/UTC\n")
    assert main([*argv, "-o", str(tmp_path / "f.parquet")]) == 1  # quoted as written
    assert "prediction_time '2020-01-02 11:00:00 Etc/UTC' is not" in capsys.readouterr().err
    # Postgres writes offsets as +01, BigQuery " UTC": all aware, read as UTC.
    labels.write_text("subject_id,prediction_time\n1,2020-01-02 12:00:00+01\n")
    assert main([*argv, "-o", str(tmp_path / "f.parquet")]) == 0
    written = pd.read_parquet(tmp_path / "f.parquet")["prediction_time"]
    assert written.tolist() == [pd.Timestamp("2020-01-02 11:00", tz="UTC")]
    labels.write_text("subject_id,prediction_time\n1,2020-01-02 11:00:00 UTC\n")
    assert main([*argv, "-o", str(tmp_path / "g.parquet")]) == 0
    assert pd.read_parquet(tmp_path / "g.parquet")["prediction_time"].tolist() == written.tolist()


def test_error_messages_keep_paths_and_quoted_names():
    from skmed2vec._cli import _message

    # A sweep folder named after a parameter became --max-gap in the path shown.
    assert "'/runs/max_gap/events.parquet'" in _message(
        FileNotFoundError("No such file: '/runs/max_gap/events.parquet'")
    )
    assert _message(ValueError("column 'random_state' is missing")) == (
        "column 'random_state' is missing"
    )
    assert _message(ValueError("lower learning_rate, or train more epochs.")) == (
        "lower --learning-rate, or train more --epochs."
    )


def test_label_ids_beyond_64_bits_are_refused(tmp_path):
    from skmed2vec._cli._errors import CommandError
    from skmed2vec._cli._inputs import ids_as_in_events

    events = pd.Series([1, 2], dtype=np.int64)
    for big in ("9223372036854775808", "18446744073709551615"):  # wrapped to -2**63, -1
        labels = pd.DataFrame({"subject_id": [big], "prediction_time": ["2020-01-01"]})
        with pytest.raises(CommandError, match=f"subject_id {big} is beyond the 64-bit"):
            ids_as_in_events(labels, events, "labels.csv")


def test_label_ids_join_unsigned_64_bit_event_ids(tmp_path):
    from skmed2vec._cli._errors import CommandError
    from skmed2vec._cli._inputs import ids_as_in_events

    events = pd.Series([1, 2**64 - 1], dtype=np.uint64)
    labels = pd.DataFrame({"subject_id": ["18446744073709551615", "9223372036854775808", "1.0"]})
    joined = ids_as_in_events(labels, events, "labels.csv")["subject_id"]
    assert joined.dtype == np.uint64
    assert joined.tolist() == [2**64 - 1, 2**63, 1]
    for bad in ("-1", "18446744073709551616"):
        labels = pd.DataFrame({"subject_id": [bad]})
        with pytest.raises(CommandError, match=f"{bad} is beyond the unsigned 64-bit"):
            ids_as_in_events(labels, events, "labels.csv")


def test_predict_keeps_split_subjects_without_events_and_unsigned_ids(small_meds, tmp_path, caplog):
    # A held-out subject with a label row but no event was left out silently, and
    # unsigned 64-bit ids came back negative.
    offset = np.uint64(2**63)
    events = pd.read_parquet(small_meds / "data" / "0.parquet")
    events["subject_id"] = events["subject_id"].astype(np.uint64) + offset
    events.to_parquet(small_meds / "data" / "0.parquet", index=False)
    subjects = np.arange(81, dtype=np.uint64) + offset  # subject 80: held out, no events
    pd.DataFrame({"subject_id": subjects, "split": ["train"] * 60 + ["held_out"] * 21}).to_parquet(
        small_meds / "metadata" / "subject_splits.parquet", index=False
    )
    labels = tmp_path / "labels.parquet"
    pd.DataFrame(
        {
            "subject_id": subjects,
            "prediction_time": pd.Timestamp("2017-01-01"),
            "boolean_value": [i % 2 == 0 for i in range(81)],
        }
    ).to_parquet(labels)
    out = tmp_path / "p.parquet"
    argv = ["predict", "--meds", str(small_meds), "--labels", str(labels), *FAST, "-o", str(out)]
    assert main(argv) == 0
    assert "1 of 21 label rows have no events in the input" in caplog.text
    predictions = pd.read_parquet(out)
    assert predictions["subject_id"].dtype == np.uint64
    assert predictions["subject_id"].tolist() == [int(s) for s in subjects[60:]]


def test_transform_writes_the_label_files_ids(small_meds, tmp_path, caplog):
    # Events from a CSV (ids read as text) turned the label file's int64 ids into text.
    events = pd.read_parquet(small_meds / "data" / "0.parquet")
    events_csv = tmp_path / "events.csv"
    events.to_csv(events_csv, index=False)
    model = tmp_path / "m.skops"
    assert main(["fit", "--events", str(events_csv), *FAST, "-o", str(model)]) == 0
    labels = tmp_path / "labels.parquet"
    small_labels([True] * 80).assign(subject_id=np.arange(1, 81)).to_parquet(labels)
    out = tmp_path / "f.parquet"
    argv = ["transform", "--model", str(model), "--events", str(events_csv)]
    assert main([*argv, "--labels", str(labels), "-o", str(out)]) == 0
    features = pd.read_parquet(out)
    assert features["subject_id"].dtype == np.int64
    assert features["subject_id"].tolist() == list(range(1, 81))
    assert "1 of 80 label rows have no events" in caplog.text  # subject 80


def test_predict_writes_int64_ids_whatever_the_label_files_number_type(small_meds, tmp_path):
    # int32 or float64 label ids came back as int32 or double; MEDS's schema is int64.
    out = tmp_path / "p.parquet"
    for dtype in (np.int32, np.float64):
        labels = tmp_path / f"labels_{np.dtype(dtype).name}.parquet"
        frame = small_labels([i % 2 == 0 for i in range(80)])
        frame.assign(subject_id=frame["subject_id"].astype(dtype)).to_parquet(labels)
        argv = ["predict", "--meds", str(small_meds), "--labels", str(labels), *FAST]
        assert main([*argv, "-o", str(out)]) == 0
        predictions = pd.read_parquet(out)
        assert predictions["subject_id"].dtype == np.int64
        assert predictions["subject_id"].tolist() == list(range(60, 80))
