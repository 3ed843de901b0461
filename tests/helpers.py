"""Helpers the test modules import: the shared data folder and the one embedder factory."""

import os
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from skmed2vec import CodeVocabulary, TemporalMed2VecEmbedder

# ../shared/data beside the clone, or the folder named by SKMED2VEC_SHARED_DATA.
SHARED_DATA = Path(
    os.environ.get(
        "SKMED2VEC_SHARED_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data"
    )
)


def quick_embedder(**params):
    """An embedder quick enough for unit tests; ``params`` override the small defaults."""
    return TemporalMed2VecEmbedder(**{"embed_dim": 8, "epochs": 2, "random_state": 0, **params})


# Twelve small patients over four codes, integer days: the input of the tests of
# messy input and of the reliability tests.
BASE = [
    [(0, "A"), (1, "B"), (2, "C")],
    [(0, "A"), (3, "B"), (9, "D")],
    [(1, "C"), (2, "D")],
    [(0, "B"), (5, "A"), (6, "C")],
] * 3
Y = np.array([0, 1] * 6)


def tiny_embedder(**params):
    return quick_embedder(**{"embed_dim": 4, "epochs": 1, **params})


def tiny_pipeline(vocabulary=None, **params):
    return make_pipeline(
        vocabulary or CodeVocabulary(), tiny_embedder(**params), LogisticRegression()
    )


def _labels(X):
    try:
        return np.arange(len(X)) % 2
    except TypeError:
        return np.array([0, 1])


#: Each kind of fitted object, from timelines.
FITTERS = {
    "vocabulary": lambda X: CodeVocabulary().fit(X),
    "embedder": lambda X: tiny_embedder().fit(X),
    "pipeline": lambda X: tiny_pipeline().fit(X, _labels(X)),
}


def finite_rows(features, n):
    """``features`` as an array, after checking it has ``n`` finite rows."""
    features = np.asarray(features)
    assert features.shape[0] == n
    assert np.isfinite(features).all()
    return features
