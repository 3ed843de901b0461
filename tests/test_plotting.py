"""Displays draw what they claim: points, colours, labels, lines (Agg backend)."""

import numpy as np
import pytest

mpl = pytest.importorskip("matplotlib")
mpl.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

from skmed2vec import CodeVocabulary, TemporalMed2VecEmbedder  # noqa: E402
from skmed2vec.evaluation import neighbour_precision  # noqa: E402
from skmed2vec.plotting import (  # noqa: E402
    CodeMapDisplay,
    NeighbourPrecisionDisplay,
    TuningCurveDisplay,
)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def fitted(cohort):
    return TemporalMed2VecEmbedder(embed_dim=8, epochs=2, random_state=0).fit(cohort.X)


def test_code_map_points_colours_and_labels(fitted, cohort):
    groups = cohort.groups
    label = sorted(groups)[:2]
    display = CodeMapDisplay.from_estimator(fitted, groups=groups, label_codes=label)
    n_codes = len(fitted.codes_) - 1  # <UNK> left out
    n_points = sum(len(s.get_offsets()) for s in display.scatters_.values())
    assert n_points == n_codes == len(display.codes)
    named = sorted(set(groups.values()) & {groups.get(c) for c in fitted.codes_.tolist()})
    assert sorted(display.scatters_) == sorted(named + ["other"])
    for name in named:
        expected = sum(groups.get(c) == name for c in fitted.codes_.tolist())
        assert len(display.scatters_[name].get_offsets()) == expected
    colours = {to_hex(s.get_facecolor()[0]) for s in display.scatters_.values()}
    assert len(colours) == len(display.scatters_)  # one colour per group
    assert to_hex(display.scatters_["other"].get_facecolor()[0]) == to_hex("0.75")
    assert [t.get_text() for t in display.annotations_] == label
    legend = [t.get_text() for t in display.ax_.get_legend().get_texts()]
    assert legend == named + ["other"]
    assert display.ax_.get_xlabel() == "PCA 1" and display.figure_ is display.ax_.figure


def test_code_map_tsne_on_given_axes_and_errors(fitted, cohort):
    fig, ax = plt.subplots()
    display = CodeMapDisplay.from_estimator(
        fitted, groups=cohort.groups, method="tsne", show_ungrouped=False, ax=ax
    )
    assert display.ax_ is ax and "other" not in display.scatters_
    assert display.ax_.get_xlabel() == "t-SNE 1"
    with pytest.raises(ValueError, match="method must be one of"):
        CodeMapDisplay.from_estimator(fitted, method="umap")
    with pytest.raises(ValueError, match="label_codes not among"):
        CodeMapDisplay.from_estimator(fitted, label_codes=["NOPE"])


def test_tuning_curve_from_grid_search(cohort):
    pipe = make_pipeline(CodeVocabulary(), TemporalMed2VecEmbedder(epochs=1, random_state=0))
    grid = {
        "temporalmed2vecembedder__time_decay": [0.0, 0.01, 0.3],
        "temporalmed2vecembedder__embed_dim": [4, 8],
    }
    X = cohort.X[:150]
    search = GridSearchCV(pipe, grid, cv=2).fit(X)
    display = TuningCurveDisplay.from_estimator(search)
    assert sorted(display.lines_) == [4, 8]
    results = search.cv_results_
    for dim, line in display.lines_.items():
        assert line.get_xdata().tolist() == [0.0, 0.01, 0.3]
        rows = [
            i
            for i, p in enumerate(results["params"])
            if p["temporalmed2vecembedder__embed_dim"] == dim
        ]
        order = np.argsort(
            [results["params"][i]["temporalmed2vecembedder__time_decay"] for i in rows]
        )
        expected = results["mean_test_score"][np.array(rows)[order]]
        np.testing.assert_allclose(line.get_ydata(), expected)
        assert line.get_label() == f"embed_dim={dim}"
    best = search.best_params_
    assert display.best_marker_.get_xdata()[0] == best["temporalmed2vecembedder__time_decay"]
    np.testing.assert_allclose(display.best_marker_.get_ydata()[0], search.best_score_)
    assert display.ax_.get_xscale() == "symlog" and display.ax_.get_xlabel() == "time_decay"
    with pytest.raises(ValueError, match="exactly one parameter named 'window'"):
        TuningCurveDisplay.from_estimator(search, x="window")


def test_tuning_curve_shows_the_best_candidate_over_other_parameters():
    # A grid that also varies the classifier's C: each point is its best C.
    params, means = [], []
    for decay in (0.0, 0.01):
        for c, score in ((1.0, 0.8 + decay), (0.001, 0.55)):
            params.append({"emb__time_decay": decay, "emb__embed_dim": 8, "clf__C": c})
            means.append(score)
    results = {"params": params, "mean_test_score": means, "std_test_score": [0.01] * 4}
    display = TuningCurveDisplay.from_cv_results(results, best_index=2)
    np.testing.assert_allclose(display.lines_[8].get_ydata(), [0.8, 0.81])
    np.testing.assert_allclose(display.best_marker_.get_ydata(), [0.81])


def test_neighbour_precision_curve(fitted, cohort):
    results = [neighbour_precision(fitted, cohort.groups, k=k) for k in (1, 3, 10)]
    display = NeighbourPrecisionDisplay.from_results(results, name="decay", n_bootstrap=50)
    assert display.line_.get_xdata().tolist() == [1, 3, 10]
    np.testing.assert_allclose(display.line_.get_ydata(), [r.precision for r in results])
    np.testing.assert_allclose(display.baseline_line_.get_ydata(), [r.baseline for r in results])
    assert display.baseline_line_.get_linestyle() == "--"
    assert display.band_ is not None
    assert display.line_.get_label() == "decay"
    # A second embedding on the same axes.
    other = NeighbourPrecisionDisplay.from_embeddings(
        fitted, cohort.groups, ks=[1, 3, 10], name="again", n_bootstrap=0, ax=display.ax_
    )
    assert len(display.ax_.get_lines()) == 4 and other.band_ is None
    with pytest.raises(ValueError, match="distinct k"):
        NeighbourPrecisionDisplay.from_results(results[:1] * 2)


def test_matplotlib_is_imported_only_when_drawing():
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    code = "import sys, skmed2vec.plotting; print('matplotlib' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    assert out.stdout.strip() == "False", out.stderr


def test_a_failed_candidate_never_hides_the_best_one():
    params = [{"emb__time_decay": d, "clf__C": c} for d in (0.0, 0.01) for c in (1.0, 0.001)]
    results = {
        "params": params,
        "mean_test_score": [0.70, 0.72, 0.80, np.nan],  # the last candidate failed
        "std_test_score": [0.01] * 4,
    }
    display = TuningCurveDisplay.from_cv_results(results, series="embed_dim", best_index=2)
    np.testing.assert_allclose(display.lines_[None].get_ydata(), [0.72, 0.80])


def test_code_map_never_draws_a_group_in_the_grey_of_ungrouped_codes(fitted, cohort):
    # The cohort has 8 groups: tab10's 8th colour is a grey.
    display = CodeMapDisplay.from_estimator(fitted, groups=cohort.groups)
    assert len(display.scatters_) > 8
    for name, scatter in display.scatters_.items():
        red, green, blue = scatter.get_facecolor()[0][:3]
        is_grey = abs(red - green) < 1e-3 and abs(green - blue) < 1e-3
        assert is_grey == (name == "other"), name


def test_code_map_groups_as_real_groupings_give_them():
    # Synthea modules (a frozenset per code) drew each set as a group, coloured by
    # hash order; 22 ICD-10 chapters shared colours; cluster 0 was drawn as "other";
    # a Series or NaN for a missing group crashed.
    import pandas as pd

    rng = np.random.default_rng(0)
    codes = [f"C{i}" for i in range(66)]
    vectors = rng.normal(size=(66, 4))
    modules = {c: frozenset({"b", "a"} if i < 10 else {"c"}) for i, c in enumerate(codes)}
    scatters = CodeMapDisplay.from_vectors(vectors, codes, groups=modules).scatters_
    assert {k: len(v.get_offsets()) for k, v in scatters.items()} == {"a": 10, "c": 56}
    chapters = {c: f"chapter {i % 22}" for i, c in enumerate(codes)}
    scatters = CodeMapDisplay.from_vectors(vectors, codes, groups=chapters).scatters_
    colours = {to_hex(s.get_facecolor()[0]) for s in scatters.values()}
    assert len(scatters) == len(colours) == 22
    clusters = pd.Series({c: i % 3 for i, c in enumerate(codes)})
    assert set(CodeMapDisplay.from_vectors(vectors, codes, groups=clusters).scatters_) == {
        "0", "1", "2"
    }  # fmt: skip
    for missing in (np.nan, np.float32("nan"), pd.NA, None):
        holes = pd.Series({c: (missing if i % 3 == 0 else "g") for i, c in enumerate(codes)})
        scatters = CodeMapDisplay.from_vectors(vectors, codes, groups=holes.to_dict()).scatters_
        assert {k: len(v.get_offsets()) for k, v in scatters.items()} == {"g": 44, "other": 22}
    parents = {c: np.array(["P2", "P1"]) for c in codes}  # a parquet list column
    assert set(CodeMapDisplay.from_vectors(vectors, codes, groups=parents).scatters_) == {"P1"}
    nested = {c: [("ICD10", "E11")] for c in codes}  # drawn as text, not a crash
    assert set(CodeMapDisplay.from_vectors(vectors, codes, groups=nested).scatters_) == {
        "('ICD10', 'E11')"
    }  # fmt: skip
    plt.close("all")


def test_tuning_curve_of_a_search_with_several_scorers():
    params = [{"time_decay": d, "embed_dim": 8} for d in (0.0, 0.01)]
    results = {"params": params, "mean_test_auroc": [0.7, 0.8], "std_test_auroc": [0.01] * 2}
    results.update({"mean_test_auprc": [0.2, 0.1], "std_test_auprc": [0.01] * 2})
    display = TuningCurveDisplay.from_cv_results(results, metric="auprc")
    np.testing.assert_allclose(display.lines_[8].get_ydata(), [0.2, 0.1])
    assert display.scoring == "auprc"
    assert display.ax_.get_ylabel() == "cross-validated auprc"  # was "... score"
    with pytest.raises(ValueError, match=r"its scorers are \['auprc', 'auroc'\]: pass metric="):
        TuningCurveDisplay.from_cv_results(results)
    plt.close("all")


def test_tuning_curve_refuses_a_list_of_grids_that_set_different_parameters():
    # The first grid's parameters decided: 8 and 16 were merged into one line, and
    # the same grids in the other order raised a KeyError.
    first = [{"time_decay": d} for d in (0.0, 0.01)]
    second = [{"time_decay": d, "embed_dim": e} for d in (0.0, 0.01) for e in (8, 16)]
    for params in (first + second, second + first):
        n = len(params)
        results = {"params": params, "mean_test_score": [0.5] * n, "std_test_score": [0.0] * n}
        with pytest.raises(ValueError, match="does not set 'embed_dim', which 4 others set"):
            TuningCurveDisplay.from_cv_results(results)
    plt.close("all")
