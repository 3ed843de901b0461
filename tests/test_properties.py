"""Properties of transform over random timelines (hypothesis).

Fitting is the slow part, so the models are fitted once, on a fixed dataset;
the examples are random timelines over the same codes plus unseen ones.
"""

import re

import numpy as np
import pytest
from helpers import quick_embedder
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.pipeline import make_pipeline

from skmed2vec import CodeVocabulary, as_timelines

KNOWN = ["A01", "B02", "C03", "D04", "E05"]
UNSEEN = ["X98", "Y99"]
HANDLE_UNKNOWN = ["unknown", "ignore", "error"]

_rng = np.random.RandomState(0)
TRAIN = [
    [
        (int(day), KNOWN[int(code)])
        for day, code in zip(_rng.randint(0, 400, n), _rng.randint(0, 5, n))
    ]
    for n in _rng.randint(2, 9, size=40)
]


def _embedder():
    return quick_embedder(embed_dim=6, aggregation=["recency", "mean", "max"])


# Fitted once for the whole module.
EMBEDDER = _embedder().fit(TRAIN)
N_FEATURES = 3 * 6
PIPELINES = {
    mode: make_pipeline(CodeVocabulary(handle_unknown=mode), _embedder()).fit(TRAIN)
    for mode in HANDLE_UNKNOWN
}

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True)

events = st.tuples(st.integers(-1000, 1000), st.sampled_from(KNOWN + UNSEEN))
timelines = st.lists(st.lists(events, max_size=8), max_size=8)
known_timelines = st.lists(
    st.lists(st.tuples(st.integers(-1000, 1000), st.sampled_from(KNOWN)), max_size=8),
    max_size=8,
)


@SETTINGS
@given(X=timelines)
def test_transform_shape_and_finite(X):
    for model in (EMBEDDER, PIPELINES["unknown"], PIPELINES["ignore"]):
        features = model.transform(X)
        assert features.shape == (len(X), N_FEATURES)
        assert features.dtype == np.float32
        assert np.isfinite(features).all()
        empty = np.array([len(t) == 0 for t in X], dtype=bool)
        assert not features[empty].any()


@SETTINGS
@given(data=st.data(), X=timelines)
def test_transform_follows_the_order_of_patients(data, X):
    order = data.draw(st.permutations(range(len(X))))
    permuted = [X[i] for i in order]
    for model in (EMBEDDER, PIPELINES["ignore"]):
        features = model.transform(X)
        np.testing.assert_array_equal(model.transform(permuted), features[list(order)])
        # A patient's row does not depend on the other patients.
        for i in range(min(len(X), 3)):
            np.testing.assert_array_equal(model.transform([X[i]])[0], features[i])


@SETTINGS
@given(data=st.data(), X=timelines)
def test_transform_ignores_the_order_of_events(data, X):
    shuffled = [data.draw(st.permutations(t)) for t in X]
    for model in (EMBEDDER, PIPELINES["unknown"], PIPELINES["ignore"]):
        np.testing.assert_array_equal(model.transform(shuffled), model.transform(X))


@SETTINGS
@given(X=timelines)
def test_unknown_codes_map_to_index_zero(X):
    vocabulary = PIPELINES["unknown"][0]
    raw = as_timelines(X)
    encoded = vocabulary.transform(X)
    expected = [vocabulary.vocabulary_.get(code, 0) for code in raw.codes.tolist()]
    assert encoded.codes.tolist() == expected
    np.testing.assert_array_equal(encoded.lengths, raw.lengths)
    np.testing.assert_array_equal(encoded.times, raw.times)
    unseen = np.isin(raw.codes.astype(str), UNSEEN)
    assert (encoded.codes[unseen] == 0).all()
    assert (encoded.codes[~unseen] > 0).all()


@SETTINGS
@given(X=timelines)
def test_ignored_unknown_codes_are_dropped(X):
    vocabulary = PIPELINES["ignore"][0]
    encoded = vocabulary.transform(X)
    kept = [[(t, c) for t, c in timeline if c not in UNSEEN] for timeline in X]
    assert encoded.lengths.tolist() == [len(t) for t in kept]
    assert UNSEEN[0] not in encoded.decoded_codes() and UNSEEN[1] not in encoded.decoded_codes()
    assert (encoded.codes > 0).all()
    # Dropping the unseen events by hand gives the same features.
    model = PIPELINES["ignore"]
    np.testing.assert_array_equal(model.transform(X), model.transform(kept))


@SETTINGS
@given(X=timelines)
def test_unknown_codes_raise_naming_them(X):
    unseen = sorted({code for timeline in X for _, code in timeline if code in UNSEEN})
    vocabulary = PIPELINES["error"][0]
    if not unseen:
        assert vocabulary.transform(X).n_events == sum(map(len, X))
        assert PIPELINES["error"].transform(X).shape == (len(X), N_FEATURES)
        return
    message = re.escape(f"{len(unseen)} code(s) are not in the vocabulary: {unseen}")
    with pytest.raises(ValueError, match=message):
        vocabulary.transform(X)
    with pytest.raises(ValueError, match=message):
        PIPELINES["error"].transform(X)


@SETTINGS
@given(X=known_timelines)
def test_known_codes_give_the_same_features_in_every_mode(X):
    features = [PIPELINES[mode].transform(X) for mode in HANDLE_UNKNOWN]
    np.testing.assert_array_equal(features[0], features[1])
    np.testing.assert_array_equal(features[0], features[2])
