"""The counting passes and a grid search on a Dask cluster through joblib's dask backend."""

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

from skmed2vec import TemporalMed2VecEmbedder  # noqa: E402
from skmed2vec.datasets import make_cohort  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
    ) as cluster, distributed.Client(cluster) as client:  # fmt: skip
        yield client


def test_fit_runs_its_counting_on_the_cluster(client):
    import joblib

    X = make_cohort(300, random_state=0).X
    params = dict(embed_dim=8, epochs=1, chunk_events=2000, random_state=0)
    with distributed.get_task_stream(client) as tasks, joblib.parallel_backend("dask"):
        on_cluster = TemporalMed2VecEmbedder(**params).fit(X)
    local = TemporalMed2VecEmbedder(**params).fit(X)
    np.testing.assert_array_equal(on_cluster.code_vectors_, local.code_vectors_)
    ran = [task for task in tasks.data if "pair_chunk_counts" in str(task["key"])]
    n_chunks = int(np.ceil(X.n_events / 2000))
    assert len(ran) >= n_chunks - 1  # chunks end on patient boundaries
    assert {task["worker"] for task in ran} <= set(client.scheduler_info()["workers"])


def test_grid_search_on_the_cluster_picks_the_same_parameters(client):
    import joblib
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline

    from skmed2vec import CodeVocabulary

    cohort = make_cohort(200, random_state=0)
    pipe = make_pipeline(
        CodeVocabulary(),
        TemporalMed2VecEmbedder(embed_dim=8, epochs=1, random_state=0),
        LogisticRegression(max_iter=500),
    )
    grid = {"temporalmed2vecembedder__time_decay": [0.0, 0.03]}
    local = GridSearchCV(pipe, grid, cv=2, scoring="roc_auc").fit(cohort.X, cohort.y)
    with distributed.get_task_stream(client) as tasks, joblib.parallel_backend("dask"):
        remote = GridSearchCV(pipe, grid, cv=2, scoring="roc_auc", n_jobs=-1).fit(
            cohort.X, cohort.y
        )
    assert remote.best_params_ == local.best_params_
    np.testing.assert_array_equal(
        remote.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"]
    )
    assert any("fit_and_score" in str(task["key"]) for task in tasks.data)
