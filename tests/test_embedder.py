import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline

from skmed2vec import CodeVocabulary, TemporalMed2VecEmbedder, as_timelines
from skmed2vec.evaluation import neighbour_precision

TOY = [[(0, "A"), (1, "B"), (40, "C")], [(0, "A"), (2, "B")], [(5, "C"), (6, "D")]] * 10


@pytest.fixture(scope="module")
def fitted(cohort):
    return TemporalMed2VecEmbedder(embed_dim=16, epochs=3, random_state=0).fit(cohort.X)


def test_fit_sets_plain_fitted_state(fitted, cohort):
    n_codes = len(fitted.codes_)
    assert fitted.codes_[0] == "<UNK>"
    assert fitted.code_vectors_.shape == (n_codes, 16)
    assert fitted.code_vectors_.dtype == np.float32
    assert fitted.context_vectors_.shape == (n_codes, 16)
    assert fitted.code_counts_.sum() == cohort.X.up_to_prediction().n_events
    assert fitted.n_iter_ == 3 and len(fitted.loss_curve_) == 3
    assert all(np.isfinite(fitted.loss_curve_))
    assert fitted.loss_curve_[-1] < fitted.loss_curve_[0]
    assert isinstance(fitted.vocabulary_, dict)


def test_planted_groups_are_neighbours(fitted, cohort):
    result = neighbour_precision(fitted, cohort.groups, k=5)
    assert result.precision > 0.8
    assert result.precision > result.baseline + 0.3


def test_transform_shape_dtype_and_names(fitted, cohort):
    Z = fitted.transform(cohort.X)
    assert Z.shape == (len(cohort.X), 32)  # default: recency and mean blocks
    assert Z.dtype == np.float32
    assert np.isfinite(Z).all()
    names = fitted.get_feature_names_out()
    assert names.tolist() == [f"{a}_{k}" for a in ("recency", "mean") for k in range(16)]


def day(n):
    return pd.Timestamp("2020-01-01") + pd.Timedelta(days=n)


def test_recency_row_is_time_weighted_mean(fitted):
    X = [[(day(0), "E11.0"), (day(10), "I50.0"), (day(20), "E11.0")]]
    row = fitted.transform(as_timelines(X, prediction_times=[day(30)]))[0]
    v = fitted.code_vectors_[[fitted.vocabulary_[c] for c in ("E11.0", "I50.0", "E11.0")]]
    w = np.exp(-fitted.recency_decay * (30.0 - np.array([0.0, 10.0, 20.0])))
    np.testing.assert_allclose(row[:16], (w[:, None] * v).sum(0) / w.sum(), rtol=1e-5)
    np.testing.assert_allclose(row[16:], v.mean(0), rtol=1e-5)


def test_code_idf_is_smoothed_inverse_document_frequency():
    # 30 timelines (3 distinct ones x 10): A, B and C are in 20 of them, D in 10.
    emb = TemporalMed2VecEmbedder(embed_dim=4, epochs=1, random_state=0).fit(TOY)
    df = {"A": 20, "B": 20, "C": 20, "D": 10}
    for code, count in df.items():
        expected = np.log(31 / (1 + count)) + 1
        assert emb.code_idf_[emb.vocabulary_[code]] == pytest.approx(expected)
    assert emb.code_idf_[0] == pytest.approx(np.log(31) + 1)  # <UNK>: in no timeline
    assert emb.code_weighting is None


def test_idf_weighting_weights_the_mean_blocks_only(fitted):
    X = [[(day(0), "E11.0"), (day(10), "I50.0"), (day(20), "E11.0")]]
    Xt = as_timelines(X, prediction_times=[day(30)])
    plain = fitted.transform(Xt)[0]
    rows = [fitted.vocabulary_[c] for c in ("E11.0", "I50.0", "E11.0")]
    v, idf = fitted.code_vectors_[rows], fitted.code_idf_[rows]
    assert idf[0] != idf[1]
    try:
        row = fitted.set_params(code_weighting="idf").transform(Xt)[0]
        w = np.exp(-fitted.recency_decay * (30.0 - np.array([0.0, 10.0, 20.0]))) * idf
        np.testing.assert_allclose(row[:16], (w[:, None] * v).sum(0) / w.sum(), rtol=1e-5)
        np.testing.assert_allclose(row[16:], (idf[:, None] * v).sum(0) / idf.sum(), rtol=1e-5)
        assert not np.allclose(row, plain)
        maxima = fitted.set_params(aggregation="max").transform(Xt)[0]
        np.testing.assert_allclose(maxima, v.max(0), rtol=1e-6)
    finally:
        fitted.set_params(code_weighting=None, aggregation=("recency", "mean"))
    np.testing.assert_array_equal(fitted.transform(Xt)[0], plain)


def test_score_builds_its_rows_with_the_code_weighting(fitted, cohort):
    # A label-free search over code_weighting must see the rows transform builds.
    from skmed2vec._scoring import HORIZON_DAYS, next_codes_auc

    plain = fitted.score(cohort.X)
    try:
        weighted = fitted.set_params(code_weighting="idf").score(cohort.X)
    finally:
        fitted.set_params(code_weighting=None)
    assert weighted != plain
    args = (
        fitted.code_vectors_,
        fitted.context_vectors_,
        fitted.code_counts_,
        fitted._encoded_input(cohort.X),
        fitted._recency_decay(),
        HORIZON_DAYS,
    )
    assert weighted == next_codes_auc(*args, code_weights=fitted.code_idf_)
    assert plain == next_codes_auc(*args)


def test_idf_from_counts_equals_idf_from_timelines(tmp_path):
    from skmed2vec import PairCounts, count_pairs

    encoded = CodeVocabulary().fit_transform(TOY)
    direct = TemporalMed2VecEmbedder(embed_dim=4, epochs=1, random_state=0).fit(encoded)
    shards = count_pairs(encoded[:7], time_decay=0.0) + count_pairs(encoded[7:], time_decay=0.0)
    assert shards.n_documents == len(TOY)
    path = tmp_path / "counts.npz"
    shards.save(path)
    loaded = PairCounts.load(path)
    assert loaded == shards
    emb = TemporalMed2VecEmbedder(embed_dim=4, epochs=1, random_state=0).fit_counts(loaded)
    np.testing.assert_allclose(emb.code_idf_, direct.code_idf_)
    np.testing.assert_array_equal(
        emb.set_params(code_weighting="idf").transform(encoded),
        direct.set_params(code_weighting="idf").transform(encoded),
    )


def test_idf_weighting_needs_document_frequencies():
    from skmed2vec import PairCounts, count_pairs

    encoded = CodeVocabulary().fit_transform(TOY)
    counts = count_pairs(encoded, window=5, time_decay=0.0)
    # Counts as an earlier version saved them: no timelines per code.
    old = PairCounts(
        counts.code_names,
        counts.code_counts,
        counts.n_subjects,
        window=counts.window,
        max_gap=counts.max_gap,
        time_decay=counts.time_decay,
        time_kind=counts.time_kind,
        keys=counts.keys,
        values=counts.values,
    )
    assert (old + counts).code_documents is None
    emb = TemporalMed2VecEmbedder(embed_dim=4, epochs=1, random_state=0).fit_counts(old)
    assert emb.code_idf_ is None
    assert emb.transform(encoded).shape == (len(TOY), 8)
    with pytest.raises(ValueError, match="earlier version"):
        emb.set_params(code_weighting="idf").transform(encoded)
    with pytest.raises(ValueError, match="code_weighting"):
        TemporalMed2VecEmbedder(code_weighting="tfidf").fit(TOY)
    with pytest.raises(ValueError, match="pass both or neither"):
        PairCounts(
            ["A"],
            [1],
            1,
            window=5,
            max_gap=None,
            time_decay=0.0,
            time_kind=None,
            keys=[],
            values=[],
            code_documents=[1],
        )


@pytest.mark.parametrize(
    "aggregation, reducer",
    [("mean", lambda v: v.mean(0)), ("max", lambda v: v.max(0))],
)
def test_other_aggregations(fitted, aggregation, reducer):
    emb = TemporalMed2VecEmbedder(embed_dim=16, aggregation=aggregation)
    for name in ("codes_", "vocabulary_", "code_vectors_", "code_vocabulary_", "time_kind_"):
        setattr(emb, name, getattr(fitted, name))
    X = [[(day(0), "E11.0"), (day(10), "I50.0")]]
    v = fitted.code_vectors_[[fitted.vocabulary_[c] for c in ("E11.0", "I50.0")]]
    np.testing.assert_allclose(emb.transform(X)[0], reducer(v), rtol=1e-6)


def test_concatenated_aggregations():
    emb = TemporalMed2VecEmbedder(
        embed_dim=4, epochs=1, aggregation=["recency", "mean", "max"], random_state=0
    ).fit(TOY)
    Z = emb.transform(TOY)
    assert Z.shape == (30, 12)
    assert emb.get_feature_names_out()[[0, 4, 8]].tolist() == ["recency_0", "mean_0", "max_0"]


def test_empty_timeline_gives_zero_row():
    emb = TemporalMed2VecEmbedder(
        embed_dim=4, epochs=1, aggregation=["recency", "max"], random_state=0
    ).fit(TOY)
    Z = emb.transform([[], [(0, "A")]])
    assert np.array_equal(Z[0], np.zeros(8))
    assert np.abs(Z[1]).sum() > 0


def test_events_after_prediction_time_are_ignored(fitted):
    past = [(day(0), "E11.0"), (day(3), "E11.1")]
    future = past + [(day(9), "I50.0"), (day(10), "R99")]
    with_future = fitted.transform(as_timelines([future], prediction_times=[day(5)]))
    assert np.array_equal(with_future, fitted.transform([past]))


def test_fit_ignores_events_after_prediction_time():
    X = as_timelines([[(0, "A"), (1, "B"), (9, "LEAK")]] * 20, prediction_times=[5] * 20)
    emb = TemporalMed2VecEmbedder(embed_dim=4, epochs=1, random_state=0).fit(X)
    assert "LEAK" not in emb.vocabulary_


def test_time_decay_helps_on_planted_cohort(cohort):
    def auc(decay):
        pipe = make_pipeline(
            CodeVocabulary(),
            TemporalMed2VecEmbedder(
                embed_dim=16,
                time_decay=decay,
                recency_decay=None,
                aggregation="recency",
                random_state=0,
            ),
            LogisticRegression(max_iter=1000),
        )
        return cross_val_score(pipe, cohort.X, cohort.y, cv=3, scoring="roc_auc").mean()

    assert auc(0.01) > auc(0.0) + 0.05


def test_score_is_a_bounded_ranking_auc(fitted, cohort):
    score = fitted.score(cohort.X)
    assert 0.5 < score <= 1.0
    untrained = TemporalMed2VecEmbedder(
        embed_dim=16, epochs=1, learning_rate=1e-6, random_state=0
    ).fit(cohort.X)
    assert score > untrained.score(cohort.X)


def test_similarity_most_similar_and_frame(fitted):
    top = fitted.most_similar("E11.0", topn=3)
    assert len(top) == 3
    assert all(code != "E11.0" and code != "<UNK>" for code, _ in top)
    assert [s for _, s in top] == sorted((s for _, s in top), reverse=True)
    assert fitted.similarity("E11.0", top[0][0]) == pytest.approx(top[0][1], rel=1e-5)
    assert fitted.similarity("E11.0", "E11.0") == pytest.approx(1.0, rel=1e-5)
    frame = fitted.to_frame()
    assert frame.shape == fitted.code_vectors_.shape
    assert frame.index.name == "code"
    np.testing.assert_array_equal(
        frame.loc["E11.0"].to_numpy(), fitted.code_vectors_[fitted.vocabulary_["E11.0"]]
    )
    with pytest.raises(KeyError, match="not in the vocabulary"):
        fitted.most_similar("NOPE")


def test_save_word2vec_format(fitted, tmp_path):
    path = tmp_path / "codes.txt"
    fitted.save_word2vec_format(path)
    lines = path.read_text().splitlines()
    assert lines[0] == f"{len(fitted.codes_)} 16"
    code, *values = lines[1].split(" ")
    assert code == fitted.codes_[0]
    np.testing.assert_allclose(np.array(values, dtype=np.float32), fitted.code_vectors_[0])
    gensim = pytest.importorskip("gensim")
    kv = gensim.models.KeyedVectors.load_word2vec_format(str(path))
    np.testing.assert_allclose(kv["E11.0"], fitted.code_vectors_[fitted.vocabulary_["E11.0"]])


def test_softmax_objective_trains():
    # With time_decay=0 every context weighs the same, as the untrained softmax
    # already predicts: nothing to learn (documented). A decay gives it a target.
    emb = TemporalMed2VecEmbedder(
        embed_dim=8, objective="softmax", epochs=5, time_decay=0.1, random_state=0
    ).fit(TOY)
    assert np.isfinite(emb.code_vectors_).all()
    assert emb.loss_curve_[-1] < 0.99 * emb.loss_curve_[0]


def test_pandas_output_keeps_series_index():
    series = pd.Series(TOY[:3], index=["p1", "p2", "p3"])
    pipe = make_pipeline(
        CodeVocabulary(), TemporalMed2VecEmbedder(embed_dim=4, epochs=1, random_state=0)
    )
    out = pipe.set_output(transform="pandas").fit(series).transform(series)
    assert isinstance(out, pd.DataFrame)
    assert out.index.tolist() == ["p1", "p2", "p3"]
    assert out.columns[0] == "recency_0"


def test_encoded_input_from_another_vocabulary_is_rejected():
    emb = TemporalMed2VecEmbedder(embed_dim=4, epochs=1, random_state=0)
    emb.fit(CodeVocabulary().fit_transform(TOY))
    other = CodeVocabulary(min_frequency=15).fit_transform(TOY)
    with pytest.raises(ValueError, match="different vocabulary"):
        emb.transform(other)
    with pytest.raises(ValueError, match="same CodeVocabulary"):
        emb.transform(TOY)


def test_same_random_state_same_vectors():
    a = TemporalMed2VecEmbedder(embed_dim=8, epochs=2, random_state=3).fit(TOY)
    b = TemporalMed2VecEmbedder(embed_dim=8, epochs=2, random_state=3).fit(TOY)
    c = TemporalMed2VecEmbedder(embed_dim=8, epochs=2, random_state=4).fit(TOY)
    assert np.array_equal(a.code_vectors_, b.code_vectors_)
    assert not np.array_equal(a.code_vectors_, c.code_vectors_)


def test_chunks_bound_memory_and_still_learn(cohort):
    chunked = TemporalMed2VecEmbedder(
        embed_dim=16, epochs=3, chunk_events=2000, random_state=0
    ).fit(cohort.X)
    assert neighbour_precision(chunked, cohort.groups, k=5).precision > 0.8


def test_verbose_prints_epochs(capsys):
    TemporalMed2VecEmbedder(embed_dim=4, epochs=2, verbose=1, random_state=0).fit(TOY)
    out = capsys.readouterr().out
    assert "epoch 1/2: loss" in out and "epoch 2/2" in out


def test_inspection_refuses_what_it_cannot_answer_and_never_serves_stale_norms(fitted):
    with pytest.raises(ValueError, match="topn must be a non-negative integer"):
        fitted.most_similar(fitted.codes_[1], topn=-1)
    with pytest.raises(TypeError, match="code must be a code string"):
        fitted.similarity([fitted.codes_[1]], fitted.codes_[2])
    everything = fitted.most_similar("<UNK>", topn=len(fitted.codes_))
    assert len(everything) == len(fitted.codes_) - 1  # only <UNK> itself left out
    with pytest.raises(ValueError, match="read-only"):
        fitted.code_vectors_ *= 2  # fitted vectors are not edited in place
    edited = pickle.loads(pickle.dumps(fitted))
    edited.code_vectors_ = edited.code_vectors_.copy()  # a writeable table is not cached
    a, b = edited.codes_[1], edited.codes_[2]
    before = edited.similarity(a, b)
    edited.code_vectors_[edited.vocabulary_[a]] *= -1  # opposite direction
    assert edited.similarity(a, b) == pytest.approx(-before, rel=1e-5)
    try:
        fitted.set_params(recency_decay=np.inf)
        with pytest.raises(ValueError, match=r"recency_decay \(the rows. decay\) must be finite"):
            fitted.transform([[(day(0), fitted.codes_[1])]])
    finally:
        fitted.set_params(recency_decay=None)


def test_most_similar_breaks_ties_by_vocabulary_order():
    # argpartition picked an arbitrary subset and order among tied cosines.
    emb = TemporalMed2VecEmbedder(embed_dim=2, epochs=1, random_state=0).fit(
        [[(0, f"C{i}") for i in range(1, 14)]] * 2
    )
    same = {f"C{i}" for i in range(1, 8)}
    emb.code_vectors_ = np.array(
        [[0, 0] if c == "<UNK>" else [1, 0] if c in same else [-1, 0] for c in emb.codes_],
        dtype=np.float32,
    )  # C1..C7 one vector, C8..C13 the opposite one
    tied = [c for c in emb.codes_ if c in same - {"C1"}]
    opposite = [c for c in emb.codes_ if c not in same | {"<UNK>"}]
    assert [c for c, _ in emb.most_similar("C1", topn=3)] == tied[:3]
    assert [c for c, _ in emb.most_similar("C1", topn=9)] == tied + opposite[:3]


def test_codes_without_training_events_have_zero_vectors():
    # <UNK> kept its random start when nothing was pruned, so unseen codes added
    # seed-dependent noise to the rows.
    emb = TemporalMed2VecEmbedder(embed_dim=4, epochs=1, random_state=0).fit(TOY)
    assert emb.code_counts_[0] == 0
    assert not emb.code_vectors_[0].any() and not emb.context_vectors_[0].any()
    assert (np.linalg.norm(emb.code_vectors_[1:], axis=1) > 0).all()
    unseen = emb.transform([[(0, "NEW1"), (1, "NEW2")]])
    assert not unseen.any()
    # A vocabulary fitted on other patients: its codes absent here learn nothing,
    # unless a warm start gives them a vector.
    vocabulary = CodeVocabulary().fit(TOY + [[(0, "E"), (1, "F")]])
    emb = TemporalMed2VecEmbedder(embed_dim=4, epochs=1, random_state=0)
    emb.fit(vocabulary.transform(TOY))
    absent = [emb.vocabulary_[c] for c in ("E", "F")]
    assert not emb.code_vectors_[absent].any()
    warm = {"E": np.ones(4, dtype=np.float32)}
    emb.set_params(initial_vectors=warm).fit(vocabulary.transform(TOY))
    np.testing.assert_array_equal(emb.code_vectors_[emb.vocabulary_["E"]], np.ones(4))
    assert not emb.code_vectors_[emb.vocabulary_["F"]].any()
