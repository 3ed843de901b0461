import subprocess
import sys

import joblib
import numpy as np
import pandas as pd
import pytest
from helpers import quick_embedder
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline

from skmed2vec import CodeVocabulary, TemporalMed2VecEmbedder


def make_pipe(**embedder):
    return make_pipeline(
        CodeVocabulary(min_subjects=3),
        quick_embedder(**embedder),
        LogisticRegression(max_iter=1000),
    )


def test_pipeline_fits_and_predicts(cohort):
    pipe = make_pipe().fit(cohort.X, cohort.y)
    proba = pipe.predict_proba(cohort.X)
    assert proba.shape == (len(cohort.X), 2)
    assert np.allclose(proba.sum(1), 1)
    assert set(pipe.predict(cohort.X)) <= {0, 1}


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_grid_search_tunes_time_decay_and_embed_dim(cohort, n_jobs):
    grid = {
        "temporalmed2vecembedder__time_decay": [0.0, 0.01],
        "temporalmed2vecembedder__embed_dim": [4, 8],
    }
    search = GridSearchCV(make_pipe(), grid, scoring="roc_auc", cv=3, n_jobs=n_jobs)
    search.fit(cohort.X, cohort.y)
    assert len(search.cv_results_["params"]) == 4
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    # the planted outcome depends on recent history: decay must win
    assert search.best_params_["temporalmed2vecembedder__time_decay"] == 0.01
    assert search.best_score_ > 0.7


def test_grid_search_results_do_not_depend_on_n_jobs(cohort):
    grid = {"temporalmed2vecembedder__time_decay": [0.0, 0.01]}
    scores = [
        GridSearchCV(make_pipe(), grid, scoring="roc_auc", cv=2, n_jobs=n)
        .fit(cohort.X, cohort.y)
        .cv_results_["mean_test_score"]
        for n in (1, 2)
    ]
    np.testing.assert_array_equal(scores[0], scores[1])


def test_grid_search_on_embedder_alone_uses_score(cohort):
    search = GridSearchCV(
        TemporalMed2VecEmbedder(embed_dim=8, epochs=2, random_state=0),
        {"time_decay": [0.0, 0.01], "embed_dim": [4, 8]},
        cv=KFold(2, shuffle=True, random_state=0),
    )
    search.fit(cohort.X)
    scores = search.cv_results_["mean_test_score"]
    assert ((scores > 0) & (scores < 1)).all()
    assert search.best_estimator_.code_vectors_.shape[1] == search.best_params_["embed_dim"]


def test_joblib_round_trip_in_new_process(cohort, tmp_path):
    pipe = make_pipe().fit(cohort.X, cohort.y)
    model, data = tmp_path / "model.joblib", tmp_path / "X.joblib"
    joblib.dump(pipe, model)
    joblib.dump(cohort.X, data)
    script = (
        "import joblib, numpy as np, sys\n"
        f"pipe = joblib.load({str(model)!r}); X = joblib.load({str(data)!r})\n"
        "np.save(sys.argv[1], pipe[:-1].transform(X))\n"
        "np.save(sys.argv[2], pipe.predict_proba(X))\n"
    )
    out_z, out_p = tmp_path / "z.npy", tmp_path / "p.npy"
    subprocess.run([sys.executable, "-c", script, str(out_z), str(out_p)], check=True)
    np.testing.assert_array_equal(np.load(out_z), pipe[:-1].transform(cohort.X))
    np.testing.assert_array_equal(np.load(out_p), pipe.predict_proba(cohort.X))


def test_clone_get_set_params():
    emb = TemporalMed2VecEmbedder(embed_dim=7, time_decay=0.5, aggregation=["mean", "max"])
    cloned = clone(emb)
    assert cloned.get_params() == emb.get_params()
    assert cloned.set_params(window=3).window == 3
    pipe = make_pipe()
    pipe.set_params(temporalmed2vecembedder__time_decay=0.3, codevocabulary__max_codes=10)
    params = clone(pipe).get_params()
    assert params["temporalmed2vecembedder__time_decay"] == 0.3
    assert params["codevocabulary__max_codes"] == 10


@pytest.mark.parametrize(
    "params, message",
    [
        ({"embed_dim": 0}, "embed_dim"),
        ({"time_decay": -1.0}, "time_decay"),
        ({"objective": "cbow"}, "objective"),
        ({"aggregation": ["mean", "median"]}, "aggregation"),
    ],
)
def test_invalid_parameters_raise_at_fit(cohort, params, message):
    emb = TemporalMed2VecEmbedder(**params)  # stored untouched
    assert all(getattr(emb, k) == v for k, v in params.items())
    with pytest.raises(ValueError, match=message):
        emb.fit(cohort.X)


def test_column_transformer_with_timelines_beside_tabular_columns(cohort):
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import StandardScaler

    X = cohort.X[:60]
    frame = pd.DataFrame({"timelines": list(X), "age": np.arange(60.0)})
    embedder = TemporalMed2VecEmbedder(embed_dim=4, epochs=1, random_state=0)
    outputs = []
    for columns in ("timelines", ["timelines"]):  # a Series, or a one-column DataFrame
        union = ColumnTransformer(
            [
                ("codes", make_pipeline(CodeVocabulary(), embedder), columns),
                ("age", StandardScaler(), ["age"]),
            ]
        )
        outputs.append(union.fit_transform(frame))
    assert outputs[0].shape == (60, 9)
    np.testing.assert_array_equal(outputs[0], outputs[1])
