"""Shared fixtures: a small planted cohort and the optional shared data folder."""

import os
from pathlib import Path

import pytest

from skmed2vec.datasets import make_cohort

# ../shared/data beside the clone, or the folder named by SKMED2VEC_SHARED_DATA.
SHARED_DATA = Path(
    os.environ.get(
        "SKMED2VEC_SHARED_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data"
    )
)


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


@pytest.fixture
def make_embedder():
    """Factory of embedders quick enough for unit tests."""
    from skmed2vec import TemporalMed2VecEmbedder

    def make(**params):
        return TemporalMed2VecEmbedder(
            **{"embed_dim": 16, "epochs": 3, "random_state": 0, **params}
        )

    return make
