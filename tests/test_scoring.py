"""The label-free score: ranking of the codes that follow, and what it selects."""

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, KFold

from skmed2vec import CodeVocabulary, TemporalMed2VecEmbedder, as_timelines
from skmed2vec._scoring import next_codes_auc
from skmed2vec.datasets import make_cohort

# Codes: <UNK>, A, B, C, D. A is followed by B within days; C and D are drawn as negatives.
CODES = ["<UNK>", "A", "B", "C", "D"]
COUNTS = np.array([0, 10, 10, 10, 10])


def encoded(timelines):
    X = as_timelines(timelines)
    lookup = {c: i for i, c in enumerate(CODES)}
    return X._replace(
        codes=np.array([lookup[c] for c in X.codes]), code_names=np.array(CODES)
    ).up_to_prediction()


def tables(b_vector):
    code = np.array([[0, 0], [1, 0], b_vector, [0, 1], [0, 1]], dtype=np.float32)
    context = np.array([[0, 0], [0, 0], [1, 0], [-1, 0], [-1, 0]], dtype=np.float32)
    return code, context


def test_following_code_ranked_first_scores_one_and_last_scores_zero():
    X = encoded([[(0, "A"), (3, "B")]] * 20)
    code, context = tables([0, 1])
    assert next_codes_auc(code, context, COUNTS, X, 0.01, 30) == 1.0
    assert next_codes_auc(code, -context, COUNTS, X, 0.01, 30) == 0.0


def test_rows_use_only_the_events_up_to_each_anchor():
    # B's own vector would turn the row around if it leaked into the row built at A.
    X = encoded([[(0, "A"), (3, "B")]] * 20)
    code, context = tables([-10, 0])
    assert next_codes_auc(code, context, COUNTS, X, 0.0, 30) == 1.0


def test_codes_beyond_the_horizon_do_not_follow():
    X = encoded([[(0, "A"), (400, "B")]] * 5)
    code, context = tables([0, 1])
    with pytest.raises(ValueError, match="within 30 days"):
        next_codes_auc(code, context, COUNTS, X, 0.01, 30)
    assert next_codes_auc(code, context, COUNTS, X, 0.01, 400) == 1.0


def test_score_is_deterministic_and_above_chance_after_training():
    X = make_cohort(600, random_state=0).X
    emb = TemporalMed2VecEmbedder(embed_dim=16, random_state=0).fit(X)
    first = emb.score(X)
    assert first == emb.score(X) and 0.6 < first <= 1.0
    # Without context vectors every code ties: the score is chance.
    emb.context_vectors_ = np.zeros_like(emb.context_vectors_)
    assert emb.score(X) == pytest.approx(0.5)


def test_score_uses_the_recency_decay_of_transform():
    X = make_cohort(600, random_state=0).X
    emb = TemporalMed2VecEmbedder(embed_dim=16, random_state=0).fit(X)
    flat = TemporalMed2VecEmbedder(embed_dim=16, recency_decay=0.0, random_state=0).fit(X)
    np.testing.assert_array_equal(emb.code_vectors_, flat.code_vectors_)
    assert emb.score(X) != flat.score(X)


def test_grid_search_with_the_score_prefers_a_moderate_decay():
    cohort = make_cohort(1500, random_state=0)
    X = CodeVocabulary(min_subjects=5).fit(cohort.X).transform(cohort.X)
    search = GridSearchCV(
        TemporalMed2VecEmbedder(embed_dim=16, random_state=0),
        {"time_decay": [0.0, 0.01, 1.0]},
        cv=KFold(2, shuffle=True, random_state=0),
    ).fit(X)
    # The planted outcome depends on the last 180 days: the labelled metrics pick 0.01 too.
    assert search.best_params_["time_decay"] == 0.01


def test_horizon_is_exact_for_timelines_far_down_a_large_table():
    # Keys patient * 1e7 + time lost minutes to rounding 3 million timelines down:
    # a code 30 days and 2 minutes later counted as following within 30 days.
    from skmed2vec._scoring import _anchors, _following_code
    from skmed2vec._timelines import Timelines

    t0 = 18000.0 + 1234.5 / 86400
    times = np.array([t0, t0 + 29.5, t0 + 30 + 120 / 86400])
    for lead in (0, 3_000_000):
        offsets = np.concatenate([np.zeros(lead + 1, dtype=np.int64), [3]])
        X = Timelines(
            np.array([1, 2, 3]), times, offsets, code_names=np.array(CODES[:4]),
            time_kind="datetime", presorted=True,
        )  # fmt: skip
        rng = np.random.RandomState(0)
        anchors, patient = _anchors(X, 30.0, rng)
        known = np.array([False, True, True, True])
        _, keys = _following_code(X, anchors, patient, 30.0, known, rng)
        assert dict(zip(keys // 4, keys % 4)) == {0: 2, 1: 3}  # A -> B only, B -> C


def test_nothing_to_rank_is_an_error_not_a_score():
    # One known code: it returned 0.0 ("worse than chance"); no known code
    # following an anchor: an IndexError.
    emb = TemporalMed2VecEmbedder(embed_dim=4, epochs=1, random_state=0)
    emb.fit([[(0, "a"), (1, "a"), (2, "a")]] * 30)
    with pytest.raises(ValueError, match="no code that does not follow an anchor"):
        emb.score([[(0, "a"), (1, "a"), (2, "a")]] * 30)
    emb.fit([[(0, "A"), (1, "B")]] * 5)
    with pytest.raises(ValueError, match="no known code following an event"):
        emb.score([[(0, "A"), (1, "UNSEEN")]])
