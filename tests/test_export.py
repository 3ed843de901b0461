"""Code vectors out and back in: word2vec text and binary, safetensors, parquet, projector."""

import numpy as np
import pytest

from skmed2vec import (
    TemporalMed2VecEmbedder,
    escape_code,
    load_vectors,
    load_word2vec_format,
    save_vectors,
    unescape_code,
)
from skmed2vec._export import FORMATS

# Codes as they come from MEDS, RxNorm names and labs: spaces, '//', '%', unicode, tabs.
CODES = [
    "<UNK>",
    "MEDICATION//aspirin 81 MG Oral Tablet",
    "ICD10CM//E11.9",
    "LAB//O2 sat 95%",
    "Ménière's disease",
    "糖尿病",
    "tab\there",
    "%20 literal",
    "x",
]


@pytest.fixture
def vectors():
    rng = np.random.default_rng(0)
    return rng.standard_normal((len(CODES), 7)).astype(np.float32)


@pytest.fixture
def counts():
    return np.arange(len(CODES), dtype=np.int64) * 10 + 3


@pytest.mark.parametrize("code", CODES + ["", "a b", "%", "%%25", "\u00a0nbsp", "line\nbreak"])
def test_escaping_is_reversible_and_leaves_one_token(code):
    escaped = escape_code(code)
    assert not any(ch.isspace() for ch in escaped)
    assert unescape_code(escaped) == code


def test_escaping_leaves_plain_codes_alone():
    assert escape_code("ICD10CM//E11.9") == "ICD10CM//E11.9"
    assert escape_code("a b%") == "a%20b%25"


def _path(tmp_path, format):
    suffix = {
        "word2vec": ".txt",
        "word2vec-binary": ".bin",
        "safetensors": ".safetensors",
        "parquet": ".parquet",
        "projector": "",
    }[format]
    return tmp_path / f"vectors{suffix}"


@pytest.mark.parametrize("format", FORMATS)
def test_round_trip(tmp_path, vectors, counts, format):
    path = _path(tmp_path, format)
    groups = {c: f"group {i % 3}" for i, c in enumerate(CODES)}
    descriptions = {CODES[1]: "Aspirin\t81 mg", CODES[4]: "inner ear"}
    written = save_vectors(
        path,
        CODES,
        vectors,
        format=format,
        counts=counts,
        groups=groups,
        descriptions=descriptions,
    )
    assert all(p.exists() for p in written)
    read = load_vectors(path)  # format inferred from the name
    assert read.codes.tolist() == CODES
    assert read.vectors.dtype == np.float32
    np.testing.assert_array_equal(read.vectors, vectors)
    if format.startswith("word2vec"):
        assert read.counts is None
    else:
        np.testing.assert_array_equal(read.counts, counts)
        assert read.metadata["group"] == [groups[c] for c in CODES]
        assert read.metadata["description"][1] == "Aspirin\t81 mg"
        assert read.metadata["description"][0] == ""


@pytest.mark.parametrize("binary", [False, True])
def test_gensim_reads_word2vec_files_with_the_same_vectors(tmp_path, vectors, binary):
    keyed_vectors = pytest.importorskip("gensim.models").KeyedVectors
    path = tmp_path / "vectors.bin"
    save_vectors(path, CODES, vectors, format="word2vec-binary" if binary else "word2vec")
    keyed = keyed_vectors.load_word2vec_format(str(path), binary=binary)
    assert keyed.index_to_key == [escape_code(c) for c in CODES]
    np.testing.assert_array_equal(keyed.vectors, vectors)
    # ... and what gensim writes reads back here.
    again = tmp_path / "gensim.bin"
    keyed.save_word2vec_format(str(again), binary=binary)
    frame = load_word2vec_format(again, binary=binary)
    assert frame.index.tolist() == CODES
    np.testing.assert_array_equal(frame.to_numpy(), vectors)


def test_parquet_schema(tmp_path, vectors, counts):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "vectors.parquet"
    save_vectors(path, CODES, vectors, format="parquet", counts=counts)
    schema = pq.read_schema(path)
    assert schema.names == ["code", "count", "vector"]
    assert schema.field("code").type == pa.string()
    assert schema.field("count").type == pa.int64()
    assert schema.field("vector").type == pa.list_(pa.float32())


def test_safetensors_holds_plain_tensors_and_metadata(tmp_path, vectors, counts):
    from safetensors import safe_open

    path = tmp_path / "vectors.safetensors"
    save_vectors(path, CODES, vectors, format="safetensors", counts=counts)
    with safe_open(path, framework="numpy") as handle:
        assert sorted(handle.keys()) == ["counts", "vectors"]
        assert handle.metadata()["format"] == "skmed2vec"
        np.testing.assert_array_equal(handle.get_tensor("vectors"), vectors)


def test_projector_pair(tmp_path, vectors, counts):
    save_vectors(tmp_path / "proj", CODES, vectors, format="projector", counts=counts)
    rows = (tmp_path / "proj" / "vectors.tsv").read_text().splitlines()
    assert len(rows) == len(CODES) and all(len(r.split("\t")) == 7 for r in rows)
    meta = (tmp_path / "proj" / "metadata.tsv").read_text(encoding="utf-8").splitlines()
    assert meta[0] == "code\tcount"
    assert meta[2] == "MEDICATION//aspirin 81 MG Oral Tablet\t13"  # spaces kept in TSV
    assert meta[7] == "tab%09here\t63"


def test_projector_labels_alone_have_no_header(tmp_path, vectors):
    # The Projector reads a one-column metadata file as labels, without a header.
    save_vectors(tmp_path / "proj", CODES, vectors, format="projector")
    meta = (tmp_path / "proj" / "metadata.tsv").read_text(encoding="utf-8").splitlines()
    assert len(meta) == len(CODES) and meta[0] == CODES[0]
    read = load_vectors(tmp_path / "proj")
    assert read.codes.tolist() == list(CODES) and read.counts is None
    np.testing.assert_array_equal(read.vectors, vectors)


def test_embedder_methods(tmp_path):
    X = [[(0, "aspirin 81 MG"), (1, "E11//9"), (3, "O2 95%")], [(0, "aspirin 81 MG")]] * 5
    emb = TemporalMed2VecEmbedder(embed_dim=4, epochs=1, random_state=0).fit(X)
    emb.save_word2vec_format(tmp_path / "v.bin", binary=True)
    frame = load_word2vec_format(tmp_path / "v.bin", binary=True)
    assert frame.index.tolist() == emb.codes_.tolist()
    np.testing.assert_array_equal(frame.to_numpy(), emb.code_vectors_)
    emb.export(tmp_path / "v.parquet", format="parquet")
    read = load_vectors(tmp_path / "v.parquet")
    np.testing.assert_array_equal(read.counts, emb.code_counts_)
    with pytest.raises(ValueError, match="format must be one of"):
        emb.export(tmp_path / "v.x", format="csv")


def test_errors_name_the_problem(tmp_path, vectors):
    with pytest.raises(ValueError, match="whitespace.*escape=True"):
        save_vectors(tmp_path / "v.txt", CODES, vectors, escape=False)
    with pytest.raises(ValueError, match="shape"):
        save_vectors(tmp_path / "v.txt", CODES[:3], vectors)
    with pytest.raises(ValueError, match="distinct"):
        save_vectors(tmp_path / "v.txt", ["a", "a"], vectors[:2])
    with pytest.raises(ValueError, match="cannot tell the format.*format="):
        load_vectors(tmp_path / "v.weird")
    (tmp_path / "short.txt").write_text("3 2\na 1 2\n")
    with pytest.raises(ValueError, match="announces 3 codes"):
        load_vectors(tmp_path / "short.txt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["short.txt"]


def test_failed_write_keeps_previous_file(tmp_path, vectors, monkeypatch):
    import skmed2vec._io as io_module

    path = tmp_path / "v.parquet"
    path.write_bytes(b"old")

    def fail(*args, **kwargs):
        raise OSError("rename failed")

    monkeypatch.setattr(io_module.os, "replace", fail)
    with pytest.raises(OSError):
        save_vectors(path, CODES, vectors, format="parquet")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["v.parquet"]


@pytest.mark.skipif(not hasattr(__import__("os"), "umask"), reason="POSIX file modes")
def test_written_files_have_the_mode_open_would_give(tmp_path):
    import os
    import stat

    def mode(path):
        return stat.S_IMODE(os.stat(path).st_mode)

    previous = os.umask(0o022)
    try:
        paths = save_vectors(tmp_path / "v.txt", ["A", "B"], np.eye(2, dtype=np.float32))
        assert [mode(p) for p in paths] == [0o644]  # not the 0600 of a temporary file
        os.chmod(paths[0], 0o640)  # replacing a file keeps its mode
        save_vectors(tmp_path / "v.txt", ["A", "B"], np.eye(2, dtype=np.float32))
        assert mode(paths[0]) == 0o640
        os.umask(0o077)
        private = save_vectors(tmp_path / "w.txt", ["A"], np.eye(1, dtype=np.float32))
        assert mode(private[0]) == 0o600
    finally:
        os.umask(previous)


@pytest.mark.parametrize(
    "code", ["LAB//%CD4+", "%O2", "X%41%ZZ", "%+1", "A%20%-5", "O2 sat 95%"]
)  # fmt: skip
def test_codes_another_tool_wrote_unescaped_read_as_written(code, tmp_path):
    # Non-UTF-8 %XX crashed the reading of a whole file; %+1 became "\x01".
    assert unescape_code(code) == code
    path = tmp_path / "foreign.txt"
    path.write_text(f"1 2\n{code.replace(' ', '_')} 1.0 2.0\n")
    assert load_word2vec_format(path).index.tolist() == [code.replace(" ", "_")]


SURROGATE_CODES = ["a\ud800 b", "\udcff", "x%\udc80", "LAB//\udce9t\u00e9"]


@pytest.mark.parametrize("code", SURROGATE_CODES)
def test_escaping_round_trips_lone_surrogates(code):
    # Bytes decoded with "surrogateescape" give lone surrogates, which have no
    # UTF-8 form: escaped as %XX of their three bytes, and back.
    escaped = escape_code(code)
    escaped.encode("utf-8")  # valid UTF-8 text
    assert unescape_code(escaped) == code


@pytest.mark.parametrize("format", ["word2vec", "word2vec-binary", "projector"])
def test_escaping_formats_round_trip_lone_surrogates(tmp_path, format):
    codes = SURROGATE_CODES + ["A"]
    vectors = np.arange(len(codes) * 2, dtype=np.float32).reshape(-1, 2)
    path = save_vectors(_path(tmp_path, format), codes, vectors, format=format)[0]
    back = load_vectors(path if format != "projector" else path.parent, format=format)
    assert back.codes.tolist() == codes
    np.testing.assert_array_equal(back.vectors, vectors)


@pytest.mark.parametrize(
    "format, options",
    [("safetensors", {}), ("parquet", {}), ("word2vec", {"escape": False}),
     ("word2vec-binary", {"escape": False})],
)  # fmt: skip
def test_verbatim_formats_refuse_lone_surrogates(tmp_path, format, options):
    path = _path(tmp_path, format)
    with pytest.raises(ValueError, match=r"codes with lone surrogates.*format='" + format):
        save_vectors(path, ["A", "b\udc80"], np.eye(2, dtype=np.float32), format=format, **options)
    assert not path.exists()
    with pytest.raises(ValueError, match="descriptions with lone surrogates"):
        save_vectors(
            path, ["A"], np.eye(1, dtype=np.float32), format="parquet",
            descriptions=["caf\udce9"],
        )  # fmt: skip
