"""BagOfCodes: values, windows, prediction times, vocabularies and pipelines."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import FeatureUnion, make_pipeline
from sklearn.utils import estimator_checks
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

from skmed2vec import BagOfCodes, CodeVocabulary, TemporalMed2VecEmbedder, as_timelines
from skmed2vec.datasets import make_cohort

X = [[(0, "A"), (10, "B"), (10, "B"), (40, "C")], [(5, "B"), (400, "A")], []]


def dense(bag, data=X):
    out = bag.transform(data)
    assert sp.issparse(out) and out.format == "csr" and out.dtype == np.float64
    return out.toarray()


def column(bag, code, window=None):
    label = "all" if window is None else f"{window:g}d"
    return list(bag.get_feature_names_out()).index(f"{bag.weighting}_{label}_{code}")


def test_binary_and_count_values():
    counts = BagOfCodes(weighting="count").fit(X)
    binary = BagOfCodes(weighting="binary").fit(X)
    c, b = dense(counts), dense(binary)
    assert c.shape == b.shape == (3, 4)  # <UNK>, A, B, C
    assert c[0, column(counts, "B")] == 2 and b[0, column(binary, "B")] == 1
    assert c[1, column(counts, "A")] == 1 and c[1, column(counts, "C")] == 0
    np.testing.assert_array_equal(c[2], 0)  # an empty timeline gives a row of zeros
    np.testing.assert_array_equal(b, (c > 0).astype(float))


def test_recency_sums_decayed_weights_from_the_last_event():
    bag = BagOfCodes(weighting="recency", time_decay=0.1).fit(X)
    out = dense(bag)
    # Patient 0's reference is its last event (day 40): B twice at age 30.
    assert out[0, column(bag, "B")] == pytest.approx(2 * np.exp(-3.0))
    assert out[0, column(bag, "C")] == pytest.approx(1.0)
    assert out[1, column(bag, "B")] == pytest.approx(np.exp(-0.1 * 395))


def test_recency_counts_age_from_the_prediction_time_and_drops_later_events():
    data = as_timelines(X, prediction_times=[20, 1000, None])
    bag = BagOfCodes(weighting="recency", time_decay=0.01).fit(data)
    out = dense(bag, data)
    # C's only event (day 40) is after its patient's prediction time (20): no column
    assert "C" not in bag.vocabulary_ and out.shape == (3, 3)
    later = dense(bag, [[(50, "A"), (60, "C")]])
    assert later[0, column(bag, "<UNK>")] == 1 and later[0, column(bag, "A")] == pytest.approx(
        np.exp(-0.1)
    )
    assert out[0, column(bag, "A")] == pytest.approx(np.exp(-0.2))
    assert out[0, column(bag, "B")] == pytest.approx(2 * np.exp(-0.1))
    assert out[1, column(bag, "A")] == pytest.approx(np.exp(-6.0))
    # time_decay=0 makes the recency bag the count bag
    zero = dense(BagOfCodes(weighting="recency", time_decay=0).fit(data), data)
    np.testing.assert_allclose(zero, dense(BagOfCodes(weighting="count").fit(data), data))


@pytest.mark.parametrize("weighting", ["binary", "count", "recency"])
def test_no_event_left_before_the_prediction_times_gives_rows_of_zeros(weighting):
    bag = BagOfCodes(weighting=weighting, windows=[30, None]).fit(X)
    for data in ([[]], as_timelines([[(5, "A"), (9, "B")]], prediction_times=[1])):
        out = dense(bag, data)
        assert out.shape == (1, 2 * 4)
        np.testing.assert_array_equal(out, 0)


def test_windows_give_one_block_each():
    bag = BagOfCodes(weighting="count", windows=[30, 365, None]).fit(X)
    out = dense(bag)
    names = bag.get_feature_names_out()
    assert out.shape == (3, 12) and names[4] == "count_365d_<UNK>" and names[8] == "count_all_<UNK>"
    # Patient 0 (reference day 40): B is 30 days old (in the 30-day window, bounds
    # included), A 40 days old (not in it).
    assert out[0, column(bag, "B", 30)] == 2 and out[0, column(bag, "A", 30)] == 0
    assert out[0, column(bag, "A", 365)] == 1
    # Patient 1 (reference day 400): B is 395 days old, only in the whole history.
    assert out[1, column(bag, "B", 365)] == 0 and out[1, column(bag, "B")] == 1


@pytest.mark.parametrize(
    "windows", [[], [0], [-5], [30, 30], ["30"], [True], [float("inf")], [float("nan")]]
)
def test_bad_windows_are_named(windows):
    with pytest.raises(ValueError, match="windows"):
        BagOfCodes(windows=windows).fit(X)


def test_bad_weighting_is_named():
    with pytest.raises(InvalidParameterError, match="weighting"):
        BagOfCodes(weighting="tfidf").fit(X)
    with pytest.raises(InvalidParameterError, match="time_decay"):
        BagOfCodes(time_decay=-1).fit(X)


def test_unknown_codes_share_the_unknown_column():
    bag = BagOfCodes(weighting="count").fit(X)
    out = dense(bag, [[(0, "Z"), (1, "Y"), (2, "A")]])
    assert out[0, column(bag, "<UNK>")] == 2 and out[0, column(bag, "A")] == 1


def test_encoded_input_uses_the_vocabulary_columns():
    vocab = CodeVocabulary(min_frequency=2).fit(X)
    encoded = vocab.transform(X)
    bag = BagOfCodes(weighting="count").fit(encoded)
    assert bag.code_vocabulary_ is None
    assert bag.codes_.tolist() == vocab.codes_.tolist() == ["<UNK>", "B", "A"]
    out = dense(bag, encoded)
    assert out[0, 0] == 1  # C is rare: <UNK>
    other = CodeVocabulary().fit(X).transform(X)
    with pytest.raises(ValueError, match="different vocabulary"):
        bag.transform(other)
    with pytest.raises(ValueError, match="encoded timelines"):
        bag.transform(X)


def test_time_kind_mismatch_is_an_error():
    bag = BagOfCodes().fit(X)
    with pytest.raises(ValueError, match="datetime times"):
        bag.transform([[("2020-01-01", "A")]])


def test_feature_union_with_the_embedder():
    cohort = make_cohort(200, random_state=0)
    union = make_pipeline(
        CodeVocabulary(min_frequency=2),
        FeatureUnion(
            [
                ("bag", BagOfCodes(weighting="recency", windows=[365, None])),
                ("emb", TemporalMed2VecEmbedder(embed_dim=8, epochs=1, random_state=0)),
            ]
        ),
    )
    out = union.fit_transform(cohort.X)
    n_codes = len(union[0].codes_)
    assert sp.issparse(out) and out.shape == (200, 2 * n_codes + 16)
    names = union[1].get_feature_names_out()
    assert names[0] == "bag__recency_365d_<UNK>" and names[-1] == "emb__mean_7"


def test_grid_search_over_the_weighting():
    cohort = make_cohort(300, random_state=1)
    search = GridSearchCV(
        make_pipeline(BagOfCodes(), LogisticRegression(max_iter=1000)),
        {"bagofcodes__weighting": ["binary", "recency"], "bagofcodes__time_decay": [0.01]},
        cv=3,
        scoring="roc_auc",
    ).fit(cohort.X, cohort.y)
    # The planted outcome depends on recent episodes: recency weighting wins.
    assert search.best_params_["bagofcodes__weighting"] == "recency"
    assert search.best_score_ > 0.6


ESTIMATOR = BagOfCodes(weighting="recency", windows=[30, None])


@parametrize_with_checks([ESTIMATOR])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize(
    "check",
    [
        "check_estimator_repr",
        "check_no_attributes_set_in_init",
        "check_parameters_default_constructible",
        "check_get_params_invariance",
        "check_set_params",
        "check_do_not_raise_errors_in_init_or_set_params",
    ],
)
def test_data_free_sklearn_checks(check):
    getattr(estimator_checks, check)("BagOfCodes", clone(ESTIMATOR))


def test_distinct_windows_give_distinct_column_names():
    # "{:g}" kept 6 digits: 365.25 and 365.2501 days gave the same names.
    bag = BagOfCodes(windows=[365.25, 365.2501, np.float32(0.1), 0.1, 30, None]).fit([[(0, "A")]])
    names = bag.get_feature_names_out().tolist()
    assert len(set(names)) == len(names)
    assert names[:2] == ["binary_365.25d_<UNK>", "binary_365.25d_A"]
    assert "binary_365.2501d_A" in names and "binary_30d_A" in names and "binary_all_A" in names


@pytest.mark.parametrize("change", [{"time_decay": -1.0}, {"weighting": "tfidf"}])
def test_parameters_changed_after_fit_are_checked_where_they_are_read(change):
    X = [[(0, "A"), (10, "B")], [(0, "A")]]
    bag = BagOfCodes(weighting="recency").fit(X).set_params(**change)
    name = next(iter(change))
    with pytest.raises(ValueError, match=f"'{name}' parameter of BagOfCodes must be"):
        bag.transform(X)
    with pytest.raises(ValueError, match=f"'{name}' parameter of BagOfCodes must be"):
        bag.get_feature_names_out()
