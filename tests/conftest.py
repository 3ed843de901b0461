"""Shared fixtures: a small planted cohort and the optional shared data folder."""

import pytest
from helpers import BASE, SHARED_DATA, Y, tiny_embedder, tiny_pipeline

from skmed2vec import CodeVocabulary
from skmed2vec.datasets import make_cohort


@pytest.fixture(scope="session")
def cohort():
    """600 synthetic patients with planted groups and a recency-driven outcome."""
    return make_cohort(600, random_state=0)


@pytest.fixture(scope="session")
def synthea_dir():
    path = SHARED_DATA / "synthea-ohio-10k"
    if not (path / "conditions.csv").exists():
        pytest.skip("the Synthea extract is not beside the project")
    return path


@pytest.fixture(scope="session")
def modules_csv():
    path = SHARED_DATA / "synthea-modules" / "code_to_module.csv"
    if not path.exists():
        pytest.skip("the Synthea module map is not beside the project")
    return path


@pytest.fixture(scope="module")
def tiny_fitted():
    """The ``transform`` (or ``predict_proba``) of each kind of object fitted on ``BASE``."""
    return {
        "vocabulary": CodeVocabulary().fit(BASE).transform,
        "embedder": tiny_embedder().fit(BASE).transform,
        "pipeline": tiny_pipeline().fit(BASE, Y).predict_proba,
    }
