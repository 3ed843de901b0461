"""scikit-learn's estimator checks, and our equivalents of those needing 2-D data."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils import estimator_checks
from sklearn.utils.estimator_checks import parametrize_with_checks

from skmed2vec import CodeVocabulary, TemporalMed2VecEmbedder

ESTIMATORS = [CodeVocabulary(), TemporalMed2VecEmbedder(embed_dim=4, epochs=1, random_state=0)]
X = [[(0, "A"), (1, "B"), (3, "C")], [(0, "B"), (2, "C")], [(1, "A"), (9, "D")]] * 5


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


# The checks that need no 2-D data; parametrize_with_checks skips them all
# (but cloneability) for estimators whose input is not a 2-D array.
DATA_FREE_CHECKS = [
    "check_estimator_repr",
    "check_no_attributes_set_in_init",
    "check_parameters_default_constructible",
    "check_get_params_invariance",
    "check_set_params",
    "check_do_not_raise_errors_in_init_or_set_params",
    "check_estimator_tags_renamed",
    "check_valid_tag_types",
]


@pytest.mark.parametrize("check", DATA_FREE_CHECKS)
@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_data_free_sklearn_checks(estimator, check):
    name = type(estimator).__name__
    getattr(estimator_checks, check)(name, clone(estimator))


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_tags_declare_timeline_input(estimator):
    tags = estimator.__sklearn_tags__()
    assert tags.input_tags.two_d_array is False
    assert tags.input_tags.string is True


def _output(estimator, data):
    out = estimator.transform(data)
    return out.codes if hasattr(out, "codes") else out


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_fit_twice_gives_same_result(estimator):
    first = _output(clone(estimator).fit(X), X)
    est = clone(estimator)
    est.fit(X)
    np.testing.assert_array_equal(_output(est.fit(X), X), first)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_pickle_round_trip(estimator):
    est = clone(estimator).fit(X)
    loaded = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(_output(loaded, X), _output(est, X))


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_fit_does_not_mutate_parameters(estimator):
    est = clone(estimator)
    before = est.get_params(deep=True)
    est.fit(X)
    after = est.get_params(deep=True)
    assert before.keys() == after.keys()
    assert all(before[k] is after[k] or before[k] == after[k] for k in before)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_fit_does_not_mutate_input(estimator):
    data = [list(t) for t in X]
    clone(estimator).fit(data)
    assert data == [list(t) for t in X]
