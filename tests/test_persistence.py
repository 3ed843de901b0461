"""Saving, loading and exporting fitted models, and what the fitted state holds."""

import os
import pickle
import re
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import skops.io as sio
import torch
from helpers import quick_embedder as embedder
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline

import skmed2vec._io as io_module
import skmed2vec._trainer as trainer_module
from skmed2vec import CodeVocabulary, as_timelines
from skmed2vec.datasets import make_cohort

DOCS = Path(__file__).resolve().parents[1] / "docs" / "security.md"

#: Everything skops needs trusted to load a fitted model of this project.
TRUSTED = [
    "skmed2vec._embedder.TemporalMed2VecEmbedder",
    "skmed2vec._vocabulary.CodeVocabulary",
]


def pipeline(**vocabulary_params):
    return make_pipeline(CodeVocabulary(**vocabulary_params), embedder(), LogisticRegression())


@pytest.fixture(scope="module")
def data():
    return make_cohort(150, n_groups=3, codes_per_group=3, n_background=12, random_state=0)


@pytest.fixture(scope="module")
def fitted(data):
    """A fitted vocabulary, embedders on raw and encoded input, and a pipeline."""
    vocabulary = CodeVocabulary(min_subjects=2).fit(data.X)
    return {
        "vocabulary": vocabulary,
        "embedder": embedder().fit(data.X),
        "encoded-embedder": embedder().fit(vocabulary.transform(data.X)),
        "pipeline": pipeline(min_subjects=2).fit(data.X, data.y),
    }


def _outputs(model, X):
    if isinstance(model, Pipeline):
        return model[:-1].transform(X), model.predict_proba(X)
    if isinstance(model, CodeVocabulary):
        encoded = model.transform(X)
        return encoded.codes, encoded.lengths
    return (model.transform(X),)


# -- pickle and joblib ----------------------------------------------------------------
def test_joblib_and_pickle_round_trip_in_a_fresh_process(fitted, data, tmp_path):
    model = fitted["pipeline"]
    joblib.dump(model, tmp_path / "model.joblib")
    with open(tmp_path / "model.pkl", "wb") as handle:
        pickle.dump(model, handle)
    with open(tmp_path / "X.pkl", "wb") as handle:
        pickle.dump(data.X, handle)
    script = textwrap.dedent(
        """
        import pickle, sys
        from pathlib import Path
        import joblib, numpy as np
        folder = Path(sys.argv[1])
        X = pickle.loads((folder / "X.pkl").read_bytes())
        models = {
            "joblib": joblib.load(folder / "model.joblib"),
            "pickle": pickle.loads((folder / "model.pkl").read_bytes()),
        }
        for name, model in models.items():
            np.save(folder / f"{name}-features.npy", model[:-1].transform(X))
            np.save(folder / f"{name}-proba.npy", model.predict_proba(X))
        # Serving a fitted model never loads torch.
        (folder / "loaded.txt").write_text(" ".join(m for m in sys.modules if m == "torch"))
        """
    )
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=True, timeout=120)
    features, proba = _outputs(model, data.X)
    for name in ("joblib", "pickle"):
        assert np.array_equal(np.load(tmp_path / f"{name}-features.npy"), features)
        assert np.array_equal(np.load(tmp_path / f"{name}-proba.npy"), proba)
    assert (tmp_path / "loaded.txt").read_text() == ""


def test_fit_loads_torch_but_not_its_compiler_stack():
    # torch.optim.Optimizer's constructor imports torch._dynamo (about 1 s and
    # 70 MB); the row-wise optimiser avoids it.
    script = textwrap.dedent(
        """
        import sys
        from skmed2vec import TemporalMed2VecEmbedder, as_timelines
        assert "torch" not in sys.modules
        X = as_timelines([[(0, "A"), (1, "B"), (2, "C")]] * 20)
        TemporalMed2VecEmbedder(embed_dim=4, epochs=1, random_state=0).fit(X)
        print(sorted(m for m in ("torch", "torch._dynamo", "sympy") if m in sys.modules))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], check=True, timeout=120, capture_output=True, text=True
    )
    assert done.stdout.strip() == "['torch']"


_ALLOWED = (np.ndarray, dict, list, tuple, str, int, float, bool, type(None))


def _walk_state(value, path="state"):
    """Yield (path, value) for every value in a fitted estimator's state."""
    yield path, value
    if isinstance(value, BaseEstimator):
        for key, item in vars(value).items():
            yield from _walk_state(item, f"{path}.{key}")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _walk_state(key, f"{path}[key]")
            yield from _walk_state(item, f"{path}[{key!r}]")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _walk_state(item, f"{path}[{i}]")


@pytest.mark.parametrize("name", ["vocabulary", "embedder", "encoded-embedder", "pipeline"])
def test_fitted_state_holds_only_plain_values(fitted, name):
    for path, value in _walk_state(fitted[name]):
        assert "torch" not in type(value).__module__, path
        if isinstance(value, BaseEstimator):
            assert type(value).__module__.startswith(("skmed2vec.", "sklearn.")), path
            continue
        assert isinstance(value, _ALLOWED), (path, type(value))
        if isinstance(value, np.ndarray):
            # No object arrays: they would need pickle, and skops would not trust them.
            assert value.dtype.kind in "biufU", (path, value.dtype)
    assert b"torch" not in pickle.dumps(fitted[name])


# -- skops ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "untrusted"),
    [
        ("vocabulary", TRUSTED[1:]),
        ("embedder", TRUSTED),
        ("encoded-embedder", TRUSTED[:1]),
        ("pipeline", TRUSTED),
    ],
)
def test_skops_round_trip_trusting_only_this_project(fitted, data, tmp_path, name, untrusted):
    model = fitted[name]
    path = tmp_path / "model.skops"
    sio.dump(model, path)
    assert sorted(sio.get_untrusted_types(file=path)) == untrusted
    with pytest.raises(sio.exceptions.UntrustedTypesFoundException):
        sio.load(path, trusted=[])
    loaded = sio.load(path, trusted=TRUSTED)
    assert type(loaded) is type(model)
    X = fitted["vocabulary"].transform(data.X) if name == "encoded-embedder" else data.X
    for ours, theirs in zip(_outputs(model, X), _outputs(loaded, X)):
        assert np.array_equal(ours, theirs)


def test_security_docs_show_the_trusted_list():
    text = DOCS.read_text()
    listed = re.search(r"trusted\s*=\s*\[(.*?)\]", text, re.DOTALL)
    assert listed is not None
    assert sorted(re.findall(r"\"([\w.]+)\"", listed.group(1))) == TRUSTED
    for phrase in ("joblib.load", "pickle.load", "min_subjects", "Determinism"):
        assert phrase in text


# -- word2vec export -------------------------------------------------------------------
def _read_word2vec(path):
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    n, dim = map(int, lines[0].split())
    rows = [line.split(" ") for line in lines[1:]]
    assert len(rows) == n
    assert all(len(row) == dim + 1 for row in rows)
    return [row[0] for row in rows], np.array([[float(v) for v in row[1:]] for row in rows])


def test_word2vec_export_parses(fitted, tmp_path):
    model = fitted["embedder"]
    path = tmp_path / "vectors.txt"
    model.save_word2vec_format(path)
    codes, vectors = _read_word2vec(path)
    assert codes == model.codes_.tolist()
    assert np.array_equal(vectors.astype(np.float32), model.code_vectors_)
    assert [p.name for p in tmp_path.iterdir()] == ["vectors.txt"]


def test_word2vec_export_loads_in_gensim(fitted, tmp_path):
    gensim_models = pytest.importorskip("gensim.models")
    model = fitted["embedder"]
    model.save_word2vec_format(tmp_path / "vectors.txt")
    keyed = gensim_models.KeyedVectors.load_word2vec_format(str(tmp_path / "vectors.txt"))
    assert keyed.index_to_key == model.codes_.tolist()
    np.testing.assert_array_equal(keyed.vectors, model.code_vectors_)


_fdopen = os.fdopen


class _PartialWriter:
    """A file handle that writes half the text, then fails like a full disk."""

    def __init__(self, handle):
        self.handle = handle

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.handle.close()

    def write(self, text):
        self.handle.write(text[: len(text) // 2])
        self.handle.flush()
        raise OSError(28, "No space left on device")


def _fail_rename(*args, **kwargs):
    raise OSError("rename failed")


def _interrupt_sync(*args, **kwargs):
    raise KeyboardInterrupt


@pytest.mark.parametrize(
    ("target", "replacement", "error"),
    [
        ("replace", _fail_rename, OSError),
        ("fsync", _interrupt_sync, KeyboardInterrupt),
        ("fdopen", lambda *a, **k: _PartialWriter(_fdopen(*a, **k)), OSError),
    ],
    ids=["rename-fails", "interrupted-before-rename", "disk-full-midway"],
)
def test_failed_export_leaves_the_previous_file_and_no_temporary(
    fitted, tmp_path, monkeypatch, target, replacement, error
):
    path = tmp_path / "vectors.txt"
    path.write_text("previous content\n")
    monkeypatch.setattr(io_module.os, target, replacement)
    with pytest.raises(error):
        fitted["embedder"].save_word2vec_format(path)
    monkeypatch.undo()
    assert path.read_text() == "previous content\n"
    assert [p.name for p in tmp_path.iterdir()] == ["vectors.txt"]
    # Without an earlier file, a failed export leaves nothing behind.
    path.unlink()
    monkeypatch.setattr(io_module.os, target, replacement)
    with pytest.raises(error):
        fitted["embedder"].save_word2vec_format(path)
    assert list(tmp_path.iterdir()) == []


def test_codes_with_inner_whitespace_need_escaping(tmp_path):
    model = embedder().fit([[(0, "E11 9"), (1, "I10")]])
    with pytest.raises(ValueError, match="whitespace.*escape=True"):
        model.save_word2vec_format(tmp_path / "vectors.txt", escape=False)
    assert list(tmp_path.iterdir()) == []
    model.save_word2vec_format(tmp_path / "vectors.txt")
    assert "E11%209 " in (tmp_path / "vectors.txt").read_text()


# -- interrupted fit ---------------------------------------------------------------------
def _interrupt_on_call(monkeypatch, call):
    real, calls = trainer_module.run_epoch, []

    def run_epoch(*args, **kwargs):
        calls.append(1)
        if len(calls) == call:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(trainer_module, "run_epoch", run_epoch)
    return calls


def test_fit_interrupted_after_an_epoch_keeps_a_consistent_model(data, monkeypatch):
    calls = _interrupt_on_call(monkeypatch, call=2)
    threads = torch.get_num_threads()
    model = embedder(epochs=3, chunk_events=10**9)
    with pytest.warns(UserWarning, match="interrupted after 1 of 3 complete epochs") as caught:
        model.fit(data.X)
    assert caught[0].filename == __file__  # points at the caller's fit
    assert len(calls) == 2
    assert torch.get_num_threads() == threads
    assert model.n_iter_ == 1 and len(model.loss_curve_) == 1
    assert model.codes_.tolist() == model.code_vocabulary_.codes_.tolist()
    assert model.code_vectors_.shape == (len(model.codes_), 8)
    features = model.transform(data.X)
    assert features.shape == (len(data.X), 16) and np.isfinite(features).all()


def test_fit_interrupted_in_the_first_epoch_stays_unfitted(data, monkeypatch):
    _interrupt_on_call(monkeypatch, call=1)
    threads = torch.get_num_threads()
    model = embedder(epochs=3, chunk_events=10**9)
    with pytest.raises(KeyboardInterrupt):
        model.fit(data.X)
    assert torch.get_num_threads() == threads
    assert not [key for key in vars(model) if key.endswith("_")]
    with pytest.raises(NotFittedError):
        model.transform(data.X)


def test_refit_interrupted_in_the_first_epoch_keeps_the_previous_fit(data, monkeypatch):
    model = embedder(epochs=3).fit(data.X)
    before = dict(vars(model))
    copies = {k: v.copy() for k, v in before.items() if isinstance(v, np.ndarray)}
    features = model.transform(data.X)
    _interrupt_on_call(monkeypatch, call=1)
    other = [[(0, "NEW-1"), (1, "NEW-2")], [(0, "NEW-2"), (4, "NEW-3")]]
    with pytest.raises(KeyboardInterrupt):
        model.fit(other)
    assert vars(model).keys() == before.keys()
    for key, value in before.items():
        assert getattr(model, key) is value, key
    for key, value in copies.items():
        assert np.array_equal(getattr(model, key), value), key
    assert np.array_equal(model.transform(data.X), features)


# -- privacy -------------------------------------------------------------------------------
def test_model_size_does_not_grow_with_the_number_of_patients():
    sizes, code_sets = [], []
    for n in (500, 5000):
        cohort = make_cohort(n, n_groups=3, codes_per_group=3, n_background=10, random_state=0)
        model = make_pipeline(
            CodeVocabulary(min_subjects=25), embedder(embed_dim=4, epochs=1), LogisticRegression()
        ).fit(cohort.X, cohort.y)
        sizes.append(len(pickle.dumps(model)))
        code_sets.append(set(model[0].codes_.tolist()))
    assert code_sets[0] == code_sets[1]
    assert abs(sizes[1] - sizes[0]) <= 0.1 * sizes[0], sizes


@pytest.fixture(scope="module")
def identified(data):
    """The cohort as a Series indexed by recognisable patient ids."""
    ids = [f"PATIENT-8f3a-{i:06d}" for i in range(len(data.X))]
    return pd.Series(data.X.to_list(), index=ids), data.y


def _fitted_on_identified(X, y, min_subjects=2):
    vocabulary = CodeVocabulary(min_subjects=min_subjects).fit(X)
    model = pipeline(min_subjects=min_subjects)
    model.set_output(transform="pandas")
    model.fit(X, y)
    return {
        "vocabulary": vocabulary,
        "embedder": embedder().fit(X),
        "encoded-embedder": embedder().fit(vocabulary.transform(X)),
        "pipeline": model,
    }


def test_fitted_state_holds_no_patient_ids_or_event_times(identified):
    X, y = identified
    timelines = as_timelines(X)
    models = _fitted_on_identified(X, y)
    # The ids label the output rows, which is where they belong.
    assert models["pipeline"][:-1].transform(X).index.tolist() == X.index.tolist()
    forbidden_lengths = {len(X), timelines.n_events}
    assert not forbidden_lengths & {models["vocabulary"].codes_.size, 8}
    times = np.unique(timelines.times)
    for name, model in models.items():
        blob = pickle.dumps(model)
        assert b"PATIENT-8f3a" not in blob, name
        assert "PATIENT-8f3a".encode("utf-16-le") not in blob, name
        assert not any(struct.pack("<d", t) in blob for t in times), name
        for path, value in _walk_state(model):
            if isinstance(value, np.ndarray):
                assert not forbidden_lengths & set(value.shape), (name, path, value.shape)
            if isinstance(value, (list, tuple, dict)):
                assert len(value) not in forbidden_lengths, (name, path)


def test_min_subjects_keeps_rare_codes_out_of_the_model(identified):
    X, y = identified
    rare = X.copy()
    rare.iloc[0] = rare.iloc[0] + [(rare.iloc[0][-1][0], "RARE-CODE-ZZ9")]
    rare.iloc[1] = rare.iloc[1] + [(rare.iloc[1][-1][0], "RARE-CODE-ZZ9")]
    # Seen in two patients: kept with min_subjects=2, left out with min_subjects=3.
    kept = _fitted_on_identified(rare, y, min_subjects=2)
    guarded = _fitted_on_identified(rare, y, min_subjects=3)
    for name in ("vocabulary", "encoded-embedder", "pipeline"):
        assert b"RARE-CODE-ZZ9" in pickle.dumps(kept[name]), name
        assert b"RARE-CODE-ZZ9" not in pickle.dumps(guarded[name]), name
    # An embedder given raw timelines fits a default vocabulary, which keeps every code.
    assert "RARE-CODE-ZZ9" in guarded["embedder"].codes_


def test_warm_started_embedder_saves_with_skops_once_its_source_is_dropped():
    from skmed2vec import TemporalMed2VecEmbedder

    X = [[(0, "A"), (2, "B"), (9, "C")]] * 20
    first = TemporalMed2VecEmbedder(embed_dim=4, epochs=1, random_state=0).fit(X)
    warm = TemporalMed2VecEmbedder(
        embed_dim=4, epochs=1, random_state=1, initial_vectors=first.to_frame()
    ).fit(X)
    expected = warm.transform(X)
    data = sio.dumps(warm.set_params(initial_vectors=None))  # as the persistence guide says
    loaded = sio.loads(data, trusted=sio.get_untrusted_types(data=data))
    np.testing.assert_array_equal(loaded.transform(X), expected)
    assert loaded.n_initialized_ == 3


def test_loaded_vectors_are_read_only_again():
    from skmed2vec import TemporalMed2VecEmbedder

    X = [[(0, "A"), (2, "B"), (9, "C")]] * 20
    fitted = TemporalMed2VecEmbedder(embed_dim=4, epochs=1, random_state=0).fit(X)
    data = sio.dumps(fitted)
    from_skops = sio.loads(data, trusted=sio.get_untrusted_types(data=data))
    for loaded in (pickle.loads(pickle.dumps(fitted)), from_skops):
        assert not loaded.code_vectors_.flags.writeable
        assert not loaded.context_vectors_.flags.writeable
        assert loaded.similarity("A", "B") == pytest.approx(fitted.similarity("A", "B"))
