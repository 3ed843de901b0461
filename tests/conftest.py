"""Shared fixtures: a small planted cohort and the optional shared data folder."""

import pytest
from helpers import SHARED_DATA

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
