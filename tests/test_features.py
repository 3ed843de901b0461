"""Pretrained embeddings in supervised pipelines: frozen features and warm starts."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline

from skmed2vec import CodeVocabulary, TemporalMed2VecEmbedder

# Learning rates this small leave warm-started vectors where they started.
STILL = dict(epochs=1, learning_rate=1e-12, random_state=0)


@pytest.fixture(scope="module")
def pretrained(cohort):
    return TemporalMed2VecEmbedder(embed_dim=8, epochs=2, random_state=0).fit(cohort.X)


def test_frozen_features_are_not_refitted_by_a_supervised_search(cohort):
    big, small = cohort.X[np.arange(300)], np.arange(300, 400)
    features = make_pipeline(
        CodeVocabulary(min_frequency=2),
        TemporalMed2VecEmbedder(embed_dim=8, epochs=2, random_state=0),
    ).fit(big)
    before = features[-1].code_vectors_.copy()
    model = make_pipeline(FrozenEstimator(features), LogisticRegression(max_iter=1000))
    search = GridSearchCV(model, {"logisticregression__C": [0.1, 1.0]}, cv=3, scoring="roc_auc")
    search.fit(cohort.X[small], cohort.y[small])
    # The vectors learned on the big cohort are used unchanged, in every clone.
    np.testing.assert_array_equal(search.best_estimator_[0][-1].code_vectors_, before)
    np.testing.assert_array_equal(features[-1].code_vectors_, before)
    proba = search.predict_proba(cohort.X[small])
    assert proba.shape == (100, 2) and np.isfinite(proba).all()
    assert cross_val_score(model, cohort.X[small], cohort.y[small], cv=3).shape == (3,)


def test_warm_start_from_a_fitted_embedder_copies_both_tables(cohort, pretrained):
    emb = TemporalMed2VecEmbedder(embed_dim=8, initial_vectors=pretrained, **STILL)
    emb.fit(cohort.X[:100])
    shared = [c for c in emb.codes_ if c != "<UNK>" and c in pretrained.vocabulary_]
    assert emb.n_initialized_ == len(shared) > 10
    rows = [emb.vocabulary_[c] for c in shared]
    source = [pretrained.vocabulary_[c] for c in shared]
    np.testing.assert_allclose(emb.code_vectors_[rows], pretrained.code_vectors_[source], atol=1e-6)
    np.testing.assert_allclose(
        emb.context_vectors_[rows], pretrained.context_vectors_[source], atol=1e-6
    )
    # Without a warm start the same fit starts elsewhere.
    cold = TemporalMed2VecEmbedder(embed_dim=8, **STILL).fit(cohort.X[:100])
    assert cold.n_initialized_ == 0
    assert not np.allclose(cold.code_vectors_[rows], emb.code_vectors_[rows])


def test_warm_start_only_for_the_codes_both_know(pretrained):
    known = pretrained.codes_[1]
    X = [[(0, known), (1, "NEW.1"), (2, "NEW.2")]] * 5
    frame = pretrained.to_frame()
    emb = TemporalMed2VecEmbedder(embed_dim=8, initial_vectors=frame, **STILL).fit(X)
    assert emb.n_initialized_ == 1
    np.testing.assert_allclose(emb.code_vectors_[emb.vocabulary_[known]], frame.loc[known])
    # The new codes keep their small random start.
    assert np.abs(emb.code_vectors_[emb.vocabulary_["NEW.1"]]).max() <= 0.5 / 8


def test_warm_start_from_a_word2vec_file_and_a_dict(tmp_path, pretrained, cohort):
    path = tmp_path / "vectors.txt"
    pretrained.save_word2vec_format(path)
    emb = TemporalMed2VecEmbedder(embed_dim=8, initial_vectors=str(path), **STILL)
    emb.fit(cohort.X[:50])
    code = emb.codes_[1]
    np.testing.assert_allclose(
        emb.code_vectors_[1], pretrained.code_vectors_[pretrained.vocabulary_[code]], atol=1e-6
    )
    vector = np.arange(8, dtype=np.float32)
    emb = TemporalMed2VecEmbedder(embed_dim=8, initial_vectors={code: vector}, **STILL)
    assert emb.fit(cohort.X[:50]).n_initialized_ == 1
    np.testing.assert_allclose(emb.code_vectors_[1], vector, atol=1e-6)


def test_warm_start_from_gensim(cohort):
    gensim = pytest.importorskip("gensim")
    sentences = [[c for _, c in timeline] for timeline in cohort.X[:200]]
    w2v = gensim.models.Word2Vec(sentences, vector_size=8, min_count=1, seed=0, workers=1)
    for source in (w2v, w2v.wv):
        emb = TemporalMed2VecEmbedder(embed_dim=8, initial_vectors=source, **STILL)
        emb.fit(cohort.X[:100])
        code = emb.codes_[1]
        np.testing.assert_allclose(emb.code_vectors_[1], w2v.wv[code], atol=1e-6)
        assert emb.n_initialized_ > 10


def test_warm_start_from_gensim_reading_our_word2vec_file(tmp_path):
    # gensim keeps the file's percent-escaped keys ("aspirin%2081%20MG").
    gensim = pytest.importorskip("gensim")
    X = [[(0, "MEDICATION//aspirin 81 MG"), (2, "ICD10CM//I10"), (9, "LAB//O2 sat 95%")]] * 20
    first = TemporalMed2VecEmbedder(embed_dim=4, epochs=1, random_state=0).fit(X)
    path = tmp_path / "vectors.txt"
    first.save_word2vec_format(path)
    keyed = gensim.models.KeyedVectors.load_word2vec_format(str(path))
    assert "LAB//O2%20sat%2095%25" in keyed.key_to_index
    emb = TemporalMed2VecEmbedder(embed_dim=4, initial_vectors=keyed, **STILL).fit(X)
    assert emb.n_initialized_ == 3
    np.testing.assert_allclose(emb.code_vectors_[1:], first.code_vectors_[1:], atol=1e-6)


def test_frozen_embedder_survives_cloning_as_a_warm_start(cohort, pretrained):
    emb = TemporalMed2VecEmbedder(embed_dim=8, initial_vectors=FrozenEstimator(pretrained), **STILL)
    assert clone(emb).fit(cohort.X[:50]).n_initialized_ > 10
    unfitted = clone(TemporalMed2VecEmbedder(embed_dim=8, initial_vectors=pretrained))
    with pytest.raises(ValueError, match="unfitted embedder.*FrozenEstimator"):
        unfitted.fit(cohort.X[:50])


@pytest.mark.parametrize(
    "source, error, match",
    [
        (pd.DataFrame(np.ones((2, 4)), index=["A", "B"]), ValueError, "embed_dim=8"),
        ({"A": [np.nan] * 8}, ValueError, "NaN"),
        ({"A": [1.0] * 8, "B": [1.0] * 3}, ValueError, "one length"),
        (42, TypeError, "initial_vectors must be"),
        # The last of a repeated code was used silently.
        (pd.DataFrame(np.ones((2, 8)), index=["A", "A"]), ValueError, r"duplicates \['A'\]"),
    ],
)
def test_bad_initial_vectors_are_named(source, error, match):
    X = [[(0, "A"), (1, "B")]] * 5
    with pytest.raises(error, match=match):
        TemporalMed2VecEmbedder(embed_dim=8, initial_vectors=source, **STILL).fit(X)


def test_no_shared_code_warns():
    X = [[(0, "A"), (1, "B")]] * 5
    emb = TemporalMed2VecEmbedder(embed_dim=2, initial_vectors={"Z": [1.0, 2.0]}, **STILL)
    with pytest.warns(UserWarning, match="no code") as caught:
        emb.fit(X)
    assert caught[0].filename == __file__  # points at the caller's fit
    assert emb.n_initialized_ == 0


def test_an_empty_dict_of_initial_vectors_is_no_warm_start():
    # It crashed in torch after warning.
    X = [[(0, "A"), (1, "B")]] * 5
    emb = TemporalMed2VecEmbedder(embed_dim=2, initial_vectors={}, **STILL)
    with pytest.warns(UserWarning, match="shares no code"):
        assert emb.fit(X).n_initialized_ == 0
