"""Messy input, bad parameters, numerics and determinism.

Unusable input must fail loudly, with an exception type and a message that
names the problem (never an IndexError, KeyError or RuntimeError from deep
inside numpy or torch); usable but unusual input must give finite output.
"""

import numpy as np
import pytest
import torch
from helpers import BASE, FITTERS, Y, finite_rows, tiny_embedder, tiny_pipeline
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import cross_validate
from sklearn.pipeline import make_pipeline

import skmed2vec._trainer as trainer_module
from skmed2vec import CodeVocabulary, TemporalMed2VecEmbedder, as_timelines


# -- empty input -------------------------------------------------------------------
@pytest.mark.parametrize("entry", list(FITTERS))
@pytest.mark.parametrize("X", [[], [[], []]], ids=["no-timelines", "all-timelines-empty"])
def test_fit_without_events_raises(entry, X):
    with pytest.raises(ValueError, match="no events"):
        FITTERS[entry](X)


def test_fit_with_every_event_after_prediction_time_raises():
    X = as_timelines([[(5, "A")], [(7, "B")]], prediction_times=[0, 1])
    with pytest.raises(ValueError, match="no events"):
        tiny_embedder().fit(X)


@pytest.mark.parametrize("aggregation", ["recency", "mean", "max", ["recency", "max"]])
def test_transform_of_empty_timelines_gives_zero_rows(aggregation):
    emb = tiny_embedder(aggregation=aggregation).fit(BASE)
    width = emb.get_feature_names_out().size
    assert emb.transform([]).shape == (0, width)
    # Every timeline empty (this used to fail inside numpy).
    np.testing.assert_array_equal(emb.transform([[], [], []]), np.zeros((3, width)))
    # Every event after its prediction time.
    cut = as_timelines([[(5, "A")], [(2, "B")]], prediction_times=[0, 1])
    np.testing.assert_array_equal(emb.transform(cut), np.zeros((2, width)))
    # Some timelines empty: zero rows for them, the others as on their own.
    mixed = [[], BASE[0], [], BASE[1]]
    features = finite_rows(emb.transform(mixed), 4)
    np.testing.assert_array_equal(features[[0, 2]], 0)
    np.testing.assert_array_equal(features[[1, 3]], emb.transform([BASE[0], BASE[1]]))
    assert np.abs(features[[1, 3]]).sum() > 0


def test_empty_timelines_inside_a_pipeline():
    X = [t if i % 3 else [] for i, t in enumerate(BASE)]
    model = tiny_pipeline().fit(X, Y)
    proba = finite_rows(model.predict_proba(X), len(X))
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    finite_rows(model.predict_proba([[], []]), 2)
    assert model[:-1].transform([[]]).shape == (1, 8)  # recency and mean blocks


def test_unknown_codes_only_after_ignore_give_zero_rows():
    vocabulary = CodeVocabulary(handle_unknown="ignore").fit(BASE)
    model = make_pipeline(vocabulary, tiny_embedder()).fit(BASE)
    np.testing.assert_array_equal(model.transform([[(0, "NEW"), (1, "OTHER")]]), 0)


def test_reversed_timelines_give_the_same_model_and_features():
    shuffled = [list(reversed(t)) for t in BASE]
    for objective in ("negative_sampling", "softmax"):
        a = tiny_embedder(objective=objective, epochs=2).fit(BASE)
        b = tiny_embedder(objective=objective, epochs=2).fit(shuffled)
        np.testing.assert_array_equal(a.code_vectors_, b.code_vectors_)
        np.testing.assert_array_equal(a.transform(BASE), b.transform(shuffled))
        np.testing.assert_array_equal(a.transform(shuffled), a.transform(BASE))


def test_unknown_code_lookups_name_the_code():
    emb = tiny_embedder().fit(BASE)
    with pytest.raises(KeyError, match="'NOPE' is not in the vocabulary"):
        emb.most_similar("NOPE")
    with pytest.raises(KeyError, match="'NOPE' is not in the vocabulary"):
        emb.similarity("A", "NOPE")


# -- labels and parameters ---------------------------------------------------------
@pytest.mark.parametrize("n_labels", [3, len(BASE) + 1])
def test_labels_of_another_length_raise_in_a_pipeline(n_labels):
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        tiny_pipeline().fit(BASE, np.arange(n_labels) % 2)


BAD_EMBEDDER_PARAMS = [
    ({"time_decay": -0.1}, "time_decay"),
    ({"time_decay": np.nan}, "time_decay"),
    ({"time_decay": np.inf}, "time_decay"),
    ({"embed_dim": 0}, "embed_dim"),
    ({"embed_dim": 2.5}, "embed_dim"),
    ({"embed_dim": "8"}, "embed_dim"),
    ({"embed_dim": True}, "embed_dim.*not a bool"),
    ({"time_decay": False}, "time_decay.*not a bool"),
    ({"negative": -1}, "negative"),
    ({"window": 0}, "window"),
    ({"batch_size": 0}, "batch_size"),
    ({"epochs": 0}, "epochs"),
    ({"learning_rate": 0}, "learning_rate"),
    ({"learning_rate": np.nan}, "learning_rate"),
    ({"max_gap": -1}, "max_gap"),
    ({"chunk_events": 0}, "chunk_events"),
    ({"objective": "cbow"}, "objective"),
    ({"aggregation": "median"}, "aggregation"),
    ({"aggregation": ["mean", "median"]}, "aggregation"),
    ({"aggregation": []}, "aggregation"),
    ({"device": "tpu"}, "device"),
    ({"device": "not a device"}, "device"),
    ({"random_state": "seed"}, "random_state"),
]


@pytest.mark.parametrize(
    ("params", "name"),
    BAD_EMBEDDER_PARAMS,
    ids=[f"{k}={v!r}" for p, _ in BAD_EMBEDDER_PARAMS for k, v in p.items()],
)
@pytest.mark.parametrize("where", ["embedder", "pipeline"])
def test_out_of_range_parameters_raise_at_fit_naming_the_parameter(params, name, where):
    model = tiny_embedder(**params) if where == "embedder" else tiny_pipeline(**params)
    with pytest.raises(ValueError, match=name):
        model.fit(BASE, Y)


@pytest.mark.parametrize(
    ("device", "available"),
    [
        ("cuda", torch.cuda.is_available),
        ("cuda:0", torch.cuda.is_available),
        ("mps", torch.backends.mps.is_available),
    ],
)
def test_unavailable_device_raises_value_error(device, available):
    if available():
        pytest.skip(f"{device} is available here")
    with pytest.raises(ValueError, match=f"device='{device}' was requested but .* not available"):
        tiny_embedder(device=device).fit(BASE)


def test_an_unavailable_device_is_found_before_counting(monkeypatch):
    # It was found after the vocabulary and the pair counts (minutes on large data).
    from skmed2vec import _embedder

    if torch.cuda.is_available():
        pytest.skip("cuda is available here")
    monkeypatch.setattr(_embedder.TemporalMed2VecEmbedder, "_count_pairs", None)  # not reached
    with pytest.raises(ValueError, match="CUDA is not available"):
        tiny_embedder(device="cuda").fit(BASE)


# -- not tiny_fitted ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "call",
    [
        lambda e: e.transform(BASE),
        lambda e: e.score(BASE),
        lambda e: e.most_similar("A"),
        lambda e: e.similarity("A", "B"),
        lambda e: e.to_frame(),
        lambda e: e.get_feature_names_out(),
        lambda e: e.save_word2vec_format("never-written.txt"),
    ],
    ids=[
        "transform",
        "score",
        "most_similar",
        "similarity",
        "to_frame",
        "get_feature_names_out",
        "save_word2vec_format",
    ],
)
def test_embedder_methods_before_fit_raise_not_fitted(call, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(NotFittedError):
        call(tiny_embedder())
    assert not list(tmp_path.iterdir())


def test_vocabulary_and_pipeline_before_fit_raise_not_fitted():
    with pytest.raises(NotFittedError):
        CodeVocabulary().transform(BASE)
    with pytest.raises(NotFittedError):
        tiny_pipeline().predict_proba(BASE)
    with pytest.raises(NotFittedError):
        tiny_pipeline()[:-1].transform(BASE)


# -- tiny vocabularies -------------------------------------------------------------
@pytest.mark.parametrize("objective", ["negative_sampling", "softmax"])
def test_a_single_code(objective):
    X = [[(0, "A"), (1, "A")], [(0, "A")], [(3, "A")]]
    emb = tiny_embedder(objective=objective, epochs=2).fit(X)
    assert emb.codes_.tolist() == ["<UNK>", "A"]
    assert np.isfinite(emb.code_vectors_).all() and np.isfinite(emb.context_vectors_).all()
    finite_rows(emb.transform(X), 3)
    assert emb.most_similar("A") == []
    with pytest.raises(ValueError, match="nothing|no code that does not follow"):
        emb.score(X)  # one code: nothing ranks against it
    finite_rows(tiny_pipeline(objective=objective).fit(X, [0, 1, 0]).predict_proba(X), 3)


def test_a_single_event():
    with pytest.warns(UserWarning, match="vectors keep their random start"):
        emb = tiny_embedder().fit([[(0, "A")]])
    assert np.isnan(emb.loss_curve_).all()
    assert emb.codes_.tolist() == ["<UNK>", "A"]
    finite_rows(emb.transform([[(0, "A")], [(0, "B")]]), 2)
    with pytest.raises(ValueError, match="no event followed by another"):
        emb.score([[(0, "A")]])


@pytest.mark.parametrize("objective", ["negative_sampling", "softmax"])
def test_fewer_codes_than_negatives(objective):
    X = [[(0, "A"), (1, "B"), (2, "C")], [(0, "C"), (4, "A")]] * 3
    emb = tiny_embedder(negative=20, objective=objective, epochs=3).fit(X)
    assert len(emb.codes_) == 4
    assert np.isfinite(emb.loss_curve_).all()
    assert np.isfinite(emb.code_vectors_).all() and np.isfinite(emb.context_vectors_).all()
    finite_rows(emb.transform(X), len(X))


# -- numerics ------------------------------------------------------------------------
# Events 150 years apart, next to events a day apart.
CENTURIES = [
    [("1870-01-01", "A"), ("2020-01-01", "B"), ("2020-01-02", "C")],
    [("1870-03-01", "A"), ("2019-12-30", "C"), ("2020-01-05", "D")],
    [("1900-01-01", "D"), ("2020-01-01", "B")],
] * 2


@pytest.mark.parametrize("objective", ["negative_sampling", "softmax"])
@pytest.mark.parametrize("time_decay", [0, 1e-3, 1, 1e3])
def test_finite_across_time_decays_and_150_year_gaps(time_decay, objective):
    emb = tiny_embedder(time_decay=time_decay, objective=objective, epochs=2, embed_dim=8)
    emb.set_params(aggregation=["recency", "mean", "max"])
    if time_decay < 1e3:
        emb.fit(CENTURIES)
        assert np.isfinite(emb.loss_curve_).all()
    else:  # a day apart weighs exp(-1000) = 0: said, and no loss to report
        with pytest.warns(UserWarning, match="no pair of events has a positive weight"):
            emb.fit(CENTURIES)
        assert np.isnan(emb.loss_curve_).all()
    assert np.isfinite(emb.code_vectors_).all() and np.isfinite(emb.context_vectors_).all()
    features = finite_rows(emb.transform(CENTURIES), len(CENTURIES))
    assert np.abs(features).sum() > 0
    assert 0 <= emb.score(CENTURIES) <= 1


@pytest.mark.parametrize("embed_dim", [1, 1024])
def test_extreme_embedding_sizes(embed_dim):
    emb = tiny_embedder(embed_dim=embed_dim, epochs=2).fit(BASE)
    assert emb.code_vectors_.shape == (5, embed_dim)
    assert np.isfinite(emb.loss_curve_).all() and np.isfinite(emb.code_vectors_).all()
    assert finite_rows(emb.transform(BASE), len(BASE)).shape[1] == 2 * embed_dim
    assert np.isfinite(emb.similarity("A", "B"))


@pytest.mark.parametrize("objective", ["negative_sampling", "softmax"])
def test_ten_times_the_default_learning_rate_stays_finite(objective):
    rate = 10 * TemporalMed2VecEmbedder().learning_rate
    emb = tiny_embedder(learning_rate=rate, objective=objective, epochs=3).fit(BASE)
    assert np.isfinite(emb.loss_curve_).all()
    assert np.isfinite(emb.code_vectors_).all() and np.isfinite(emb.context_vectors_).all()
    finite_rows(emb.transform(BASE), len(BASE))


@pytest.mark.parametrize("epochs", [1, 3])
@pytest.mark.parametrize("batch_size", [2, 4096])
@pytest.mark.parametrize("objective", ["negative_sampling", "softmax"])
def test_divergence_raises_suggesting_a_lower_learning_rate(objective, batch_size, epochs):
    # With time_decay=0 the softmax objective has no gradient from a zero context table
    # (every context of a window weighs the same): it cannot diverge, so decay is on.
    emb = tiny_embedder(
        learning_rate=1e30, objective=objective, batch_size=batch_size, epochs=epochs,
        time_decay=0.01,
    )  # fmt: skip
    with pytest.raises(FloatingPointError, match="lower learning_rate"):
        emb.fit(BASE)
    assert not hasattr(emb, "code_vectors_")


def test_non_finite_vectors_raise_and_keep_the_previous_fit(monkeypatch):
    emb = tiny_embedder().fit(BASE)
    before = {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in vars(emb).items()}
    real = trainer_module.run_epoch

    def poisoned(model, *args, **kwargs):
        loss = real(model, *args, **kwargs)
        with torch.no_grad():
            model.target.weight[1, 0] = float("nan")
        return loss

    monkeypatch.setattr(trainer_module, "run_epoch", poisoned)
    with pytest.raises(FloatingPointError, match="learning_rate"):
        emb.fit(BASE[:4])
    with pytest.raises(FloatingPointError, match="learning_rate"):
        tiny_embedder().fit(BASE)
    assert vars(emb).keys() == before.keys()
    for key, value in before.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(getattr(emb, key), value)
        else:
            assert getattr(emb, key) is value or getattr(emb, key) == value


def test_a_loss_that_explodes_across_epochs_raises(monkeypatch):
    losses = iter([1.0, 5.0, 2e3])
    monkeypatch.setattr(trainer_module, "run_epoch", lambda *a, **k: next(losses))
    with pytest.raises(
        FloatingPointError,
        match="mean loss rose from 1 after the first epoch to 2000.*learning_rate",
    ):
        tiny_embedder(epochs=3).fit(BASE)


def test_a_first_epoch_far_above_an_untrained_model_raises(monkeypatch):
    # An untrained model's loss is log(2) * (1 + negative) = 4.16 per unit of weight.
    monkeypatch.setattr(trainer_module, "run_epoch", lambda *a, **k: 600.0)
    with pytest.raises(FloatingPointError, match="was 600 after the first epoch.*is 4.16"):
        tiny_embedder(epochs=3).fit(BASE)


def test_fitted_vectors_own_their_memory():
    emb = tiny_embedder(epochs=1).fit(BASE)
    for table in (emb.code_vectors_, emb.context_vectors_):
        assert table.base is None and table.flags.owndata  # no torch tensor behind them


def test_softmax_windows_are_no_wider_than_the_timelines():
    from skmed2vec._pairs import window_contexts

    contexts, _, mask = window_contexts(
        np.array([1, 2, 3]), np.array([0.0, 1.0, 2.0]), np.array([3]), 10**9
    )
    assert contexts.shape == (3, 4) and mask.sum() == 6
    emb = tiny_embedder(objective="softmax", window=10**6, time_decay=0.1).fit(BASE)
    assert np.isfinite(emb.code_vectors_).all()


# -- determinism ---------------------------------------------------------------------
@pytest.mark.parametrize("objective", ["negative_sampling", "softmax"])
def test_same_random_state_gives_bit_identical_vectors(objective):
    a = tiny_embedder(objective=objective, epochs=2, random_state=7).fit(BASE)
    b = tiny_embedder(objective=objective, epochs=2, random_state=7).fit(BASE)
    c = tiny_embedder(objective=objective, epochs=2, random_state=8).fit(BASE)
    assert np.array_equal(a.code_vectors_, b.code_vectors_)
    assert np.array_equal(a.context_vectors_, b.context_vectors_)
    assert a.loss_curve_ == b.loss_curve_
    assert not np.array_equal(a.code_vectors_, c.code_vectors_)
    rng = np.random.RandomState(3)
    d = tiny_embedder(random_state=rng).fit(BASE)
    e = tiny_embedder(random_state=np.random.RandomState(3)).fit(BASE)
    assert np.array_equal(d.code_vectors_, e.code_vectors_)


def test_vectors_do_not_depend_on_the_torch_thread_count():
    previous = torch.get_num_threads()
    try:
        results = []
        for threads in (1, 2):
            torch.set_num_threads(threads)
            results.append(tiny_embedder(epochs=2, embed_dim=16).fit(BASE).code_vectors_)
            assert torch.get_num_threads() == threads  # restored after fit
    finally:
        torch.set_num_threads(previous)
    assert np.array_equal(*results)


def test_vectors_do_not_depend_on_n_jobs():
    X, y = BASE * 2, np.tile(Y, 2)
    runs = [
        cross_validate(tiny_pipeline(epochs=2), X, y, cv=2, n_jobs=n_jobs, return_estimator=True)
        for n_jobs in (1, 2)
    ]
    for one, two in zip(runs[0]["estimator"], runs[1]["estimator"]):
        assert np.array_equal(one[1].code_vectors_, two[1].code_vectors_)
        assert np.array_equal(one[-1].coef_, two[-1].coef_)
    np.testing.assert_array_equal(runs[0]["test_score"], runs[1]["test_score"])


def test_training_threads_from_n_jobs_leave_the_vectors_unchanged(cohort):
    # Batches large enough for torch to split the matrix products between threads.
    def fit(n_jobs):
        model = TemporalMed2VecEmbedder(
            embed_dim=64, epochs=2, batch_size=2048, n_jobs=n_jobs, random_state=0
        )
        return model.fit(cohort.X)

    previous = torch.get_num_threads()
    one, two, every = fit(None), fit(2), fit(-1)
    assert torch.get_num_threads() == previous
    for other in (two, every):
        assert np.array_equal(one.code_vectors_, other.code_vectors_)
        assert np.array_equal(one.context_vectors_, other.context_vectors_)
        assert one.loss_curve_ == other.loss_curve_


@pytest.mark.parametrize(
    "n_jobs, cores, threads",
    [
        (None, 8, 1),
        (1, 8, 1),
        (2, 8, 2),
        (16, 8, 8),
        (-1, 8, 8),
        (-2, 8, 7),
        (-1, 1, 1),
        (-9, 8, 1),
    ],
)
def test_training_threads_follow_n_jobs_up_to_torchs_setting(n_jobs, cores, threads):
    previous = torch.get_num_threads()
    try:
        torch.set_num_threads(cores)
        assert trainer_module.training_threads(n_jobs) == threads
    finally:
        torch.set_num_threads(previous)


def test_a_fit_in_a_joblib_worker_process_trains_on_its_share_of_the_cores():
    import joblib
    from joblib import Parallel, delayed

    def threads_in_worker():
        from skmed2vec import _trainer

        return _trainer.training_threads(-1)

    # joblib gives each of its worker processes its share of the cores.
    share = max(joblib.cpu_count() // 2, 1)
    assert Parallel(n_jobs=2)(delayed(threads_in_worker)() for _ in range(2)) == [share] * 2


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: tiny_embedder(aggregation=("mean", "mean")), "each at most once"),
        (lambda: tiny_embedder(random_state=True), "'random_state' parameter.*not a bool"),
        (lambda: CodeVocabulary(system=""), "'system' parameter.*must name a system"),
        (lambda: CodeVocabulary(system="//"), "'system' parameter.*must name a system"),
    ],
)
def test_parameters_that_would_give_wrong_output_are_refused(make, match):
    with pytest.raises(ValueError, match=match):
        make().fit(BASE)


def test_fit_counts_takes_a_float32_decay_for_the_one_it_was_counted_with():
    from skmed2vec import count_pairs

    encoded = CodeVocabulary().fit_transform(BASE)
    counts = count_pairs(encoded, time_decay=0.01)
    emb = tiny_embedder(time_decay=np.float32(0.01)).fit_counts(counts)
    assert np.isfinite(emb.code_vectors_).all()
    with pytest.raises(ValueError, match="made with time_decay=0.01"):
        tiny_embedder(time_decay=0.02).fit_counts(counts)
