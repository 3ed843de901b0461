"""Messy input, bad parameters, numerics and determinism.

Unusable input must fail loudly, with an exception type and a message that
names the problem (never an IndexError, KeyError or RuntimeError from deep
inside numpy or torch); usable but unusual input must give finite output.
"""

import datetime as dt
import re

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_validate
from sklearn.pipeline import make_pipeline

import skmed2vec._trainer as trainer_module
from skmed2vec import CodeVocabulary, TemporalMed2VecEmbedder, as_timelines

# Twelve small patients over four codes, integer days.
BASE = [
    [(0, "A"), (1, "B"), (2, "C")],
    [(0, "A"), (3, "B"), (9, "D")],
    [(1, "C"), (2, "D")],
    [(0, "B"), (5, "A"), (6, "C")],
] * 3
Y = np.array([0, 1] * 6)


def embedder(**params):
    return TemporalMed2VecEmbedder(**{"embed_dim": 4, "epochs": 1, "random_state": 0, **params})


def pipeline(vocabulary=None, **params):
    return make_pipeline(vocabulary or CodeVocabulary(), embedder(**params), LogisticRegression())


def _labels(X):
    try:
        return np.arange(len(X)) % 2
    except TypeError:
        return np.array([0, 1])


FITTERS = {
    "vocabulary": lambda X: CodeVocabulary().fit(X),
    "embedder": lambda X: embedder().fit(X),
    "pipeline": lambda X: pipeline().fit(X, _labels(X)),
}


@pytest.fixture(scope="module")
def fitted():
    return {
        "vocabulary": CodeVocabulary().fit(BASE).transform,
        "embedder": embedder().fit(BASE).transform,
        "pipeline": pipeline().fit(BASE, Y).predict_proba,
    }


def _finite_rows(features, n):
    features = np.asarray(features)
    assert features.shape[0] == n
    assert np.isfinite(features).all()
    return features


# -- bad input ---------------------------------------------------------------------
class _Opaque:
    pass


BAD_INPUTS = [
    # X itself
    pytest.param("E11.9", TypeError, "single string", id="X-bare-string"),
    pytest.param(b"E11.9", TypeError, "single string", id="X-bytes"),
    pytest.param(None, TypeError, "got NoneType", id="X-None"),
    pytest.param(3, TypeError, "got int", id="X-int"),
    pytest.param(2.5, TypeError, "got float", id="X-float"),
    pytest.param(np.zeros((3, 2)), TypeError, "2-D float64 array", id="X-2d-numeric"),
    pytest.param(np.zeros(3), TypeError, "1-D float64 array", id="X-1d-numeric"),
    pytest.param(
        pd.DataFrame({"time": [0], "code": ["A"]}),
        TypeError,
        "events_to_timelines",
        id="X-dataframe",
    ),
    pytest.param((t for t in BASE), TypeError, "got generator", id="X-generator"),
    # timelines
    pytest.param([5], TypeError, "timeline 0 must be a sequence", id="timeline-int"),
    pytest.param([None], TypeError, "timeline 0 must be a sequence", id="timeline-None"),
    pytest.param(
        [[(0, "A")], "E11.9"], TypeError, "timeline 1 must be a sequence", id="timeline-string"
    ),
    # events
    pytest.param([[(0, "A", 1)]], ValueError, "(time, code) pair", id="event-3-tuple"),
    pytest.param([[(0,)]], ValueError, "(time, code) pair", id="event-1-tuple"),
    pytest.param([[(0, "A"), "E11.9"]], ValueError, "(time, code) pair", id="event-string"),
    pytest.param([[5]], ValueError, "(time, code) pair", id="event-number"),
    pytest.param([[(0, "A")], [None]], ValueError, "timeline 1", id="event-None"),
    # times
    pytest.param([[(None, "A")]], ValueError, "must not be missing", id="time-None"),
    pytest.param([[(np.nan, "A")]], ValueError, "must be finite", id="time-NaN"),
    pytest.param([[(np.inf, "A")]], ValueError, "must be finite", id="time-inf"),
    pytest.param([[(pd.NaT, "A")]], ValueError, "must not be missing", id="time-NaT"),
    pytest.param(
        [[("2020-01-01", "A"), (pd.NaT, "B")]],
        ValueError,
        "must not be missing",
        id="time-date-and-NaT",
    ),
    pytest.param(
        [[(np.datetime64("NaT"), "A"), ("2020-01-01", "B")]],
        ValueError,
        "must not be missing",
        id="time-datetime64-NaT",
    ),
    pytest.param(
        [[("yesterday", "A")]], ValueError, "could not parse times", id="time-unparseable"
    ),
    pytest.param([[("31/01/2020", "A")]], ValueError, "could not parse times", id="time-non-iso"),
    pytest.param(
        [[("2020-02-30", "A")]], ValueError, "could not parse times", id="time-impossible-date"
    ),
    pytest.param(
        [[(pd.Timestamp("2020-01-01", tz="UTC"), "A"), (pd.Timestamp("2020-01-02"), "B")]],
        ValueError,
        "timezone-aware and naive",
        id="time-mixed-tz-timestamps",
    ),
    pytest.param(
        [[("2020-01-01T08:00+01:00", "A"), ("2020-01-02T08:00", "B")]],
        ValueError,
        "timezone-aware and naive",
        id="time-mixed-tz-strings",
    ),
    pytest.param(
        [[(dt.date(2020, 1, 1), "A"), (dt.datetime(2020, 1, 2, tzinfo=dt.UTC), "B")]],
        ValueError,
        "timezone-aware and naive",
        id="time-mixed-tz-date-datetime",
    ),
    pytest.param(
        [[(0, "A"), ("2020-01-01", "B")]],
        ValueError,
        "mix numbers (days) and dates",
        id="time-days-and-dates",
    ),
    pytest.param([[(True, "A")]], TypeError, "got True of type bool", id="time-bool"),
    pytest.param([[(_Opaque(), "A")]], TypeError, "of type _Opaque", id="time-object"),
    # codes
    pytest.param([[(0, None)]], TypeError, "got None", id="code-None"),
    pytest.param([[(0, "A"), (1, np.nan)]], TypeError, "got nan", id="code-NaN"),
    pytest.param([[(0, 1.5)]], TypeError, "got 1.5 of type float", id="code-float"),
    pytest.param([[(0, True)]], TypeError, "of type bool", id="code-bool"),
    pytest.param([[(0, "")]], ValueError, "must not be empty", id="code-empty"),
    pytest.param([[(0, " \t")]], ValueError, "must not be empty", id="code-whitespace-only"),
]


@pytest.mark.parametrize("entry", list(FITTERS))
@pytest.mark.parametrize(("X", "error", "fragment"), BAD_INPUTS)
def test_bad_input_fails_loudly_at_fit(entry, X, error, fragment):
    with pytest.raises(error, match=re.escape(fragment)):
        FITTERS[entry](X)


@pytest.mark.parametrize("entry", ["vocabulary", "embedder", "pipeline"])
@pytest.mark.parametrize(("X", "error", "fragment"), BAD_INPUTS)
def test_bad_input_fails_loudly_at_transform(fitted, entry, X, error, fragment):
    with pytest.raises(error, match=re.escape(fragment)):
        fitted[entry](X)


# -- empty input -------------------------------------------------------------------
@pytest.mark.parametrize("entry", list(FITTERS))
@pytest.mark.parametrize("X", [[], [[], []]], ids=["no-timelines", "all-timelines-empty"])
def test_fit_without_events_raises(entry, X):
    with pytest.raises(ValueError, match="no events"):
        FITTERS[entry](X)


def test_fit_with_every_event_after_prediction_time_raises():
    X = as_timelines([[(5, "A")], [(7, "B")]], prediction_times=[0, 1])
    with pytest.raises(ValueError, match="no events"):
        embedder().fit(X)


@pytest.mark.parametrize("aggregation", ["recency", "mean", "max", ["recency", "max"]])
def test_transform_of_empty_timelines_gives_zero_rows(aggregation):
    emb = embedder(aggregation=aggregation).fit(BASE)
    width = emb.get_feature_names_out().size
    assert emb.transform([]).shape == (0, width)
    # Every timeline empty (this used to fail inside numpy).
    np.testing.assert_array_equal(emb.transform([[], [], []]), np.zeros((3, width)))
    # Every event after its prediction time.
    cut = as_timelines([[(5, "A")], [(2, "B")]], prediction_times=[0, 1])
    np.testing.assert_array_equal(emb.transform(cut), np.zeros((2, width)))
    # Some timelines empty: zero rows for them, the others as on their own.
    mixed = [[], BASE[0], [], BASE[1]]
    features = _finite_rows(emb.transform(mixed), 4)
    np.testing.assert_array_equal(features[[0, 2]], 0)
    np.testing.assert_array_equal(features[[1, 3]], emb.transform([BASE[0], BASE[1]]))
    assert np.abs(features[[1, 3]]).sum() > 0


def test_empty_timelines_inside_a_pipeline():
    X = [t if i % 3 else [] for i, t in enumerate(BASE)]
    model = pipeline().fit(X, Y)
    proba = _finite_rows(model.predict_proba(X), len(X))
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    _finite_rows(model.predict_proba([[], []]), 2)
    assert model[:-1].transform([[]]).shape == (1, 4)


def test_unknown_codes_only_after_ignore_give_zero_rows():
    vocabulary = CodeVocabulary(handle_unknown="ignore").fit(BASE)
    model = make_pipeline(vocabulary, embedder()).fit(BASE)
    np.testing.assert_array_equal(model.transform([[(0, "NEW"), (1, "OTHER")]]), 0)


# -- times that are unusual but usable ----------------------------------------------
FAR_DATES = {
    "iso-strings": [[("1800-01-01", "A"), ("2200-01-01", "B")], [("1800-06-01", "A")]],
    "datetime-objects": [
        [(dt.date(1800, 1, 1), "A"), (dt.datetime(2200, 1, 1, 12), "B")],
        [(dt.datetime(1800, 6, 1), "A")],
    ],
    "timestamps": [
        [(pd.Timestamp("1800-01-01"), "A"), (pd.Timestamp("2200-01-01"), "B")],
        [(pd.Timestamp("1800-06-01"), "A")],
    ],
    "datetime64": [
        [(np.datetime64("1800-01-01"), "A"), (np.datetime64("2200-01-01T12:00"), "B")],
        [(np.datetime64("1800-06-01"), "A")],
    ],
}


@pytest.mark.parametrize("X", list(FAR_DATES.values()), ids=list(FAR_DATES))
def test_years_1800_and_2200_are_accepted(X):
    timelines = as_timelines(X)
    assert timelines.time_kind == "datetime"
    # Days since 1970-01-01: 1800 and 2200 lie outside the nanosecond Timestamp range.
    assert timelines.times.min() == pytest.approx(-62091.0)
    assert timelines.times.max() == pytest.approx(84006.0, abs=1)
    emb = embedder().fit(X)
    assert np.isfinite(emb.loss_curve_).all()
    _finite_rows(emb.transform(X), 2)
    _finite_rows(pipeline().fit(X * 2, [0, 1, 1, 0]).predict_proba(X), 2)


def test_timezone_aware_times_with_different_offsets_are_the_same_clock():
    # Either side of a daylight saving change, and two different zones.
    paris = [("2020-03-28T12:00+01:00", "A"), ("2020-03-29T12:00+02:00", "B")]
    utc = [("2020-03-28T11:00Z", "A"), ("2020-03-29T10:00Z", "B")]
    objects = [
        (pd.Timestamp("2020-03-28 12:00", tz="Europe/Paris"), "A"),
        (pd.Timestamp("2020-03-29 06:00", tz="America/New_York"), "B"),
    ]
    expected = as_timelines([utc]).times
    np.testing.assert_array_equal(as_timelines([paris]).times, expected)
    np.testing.assert_array_equal(as_timelines([objects]).times, expected)
    np.testing.assert_allclose(np.diff(expected), [23 / 24])


def test_prediction_times_of_another_kind_raise():
    with pytest.raises(ValueError, match="prediction_times are datetime but event times are days"):
        as_timelines([[(0, "A")]], prediction_times=["2020-01-01"])
    with pytest.raises(ValueError, match="one value per patient"):
        as_timelines([[(0, "A")]], prediction_times=[1, 2])


# -- codes that are unusual but usable ---------------------------------------------
def test_integer_codes_become_strings():
    X = [[(0, 250), (1, "250"), (2, np.int64(250)), (3, "I10")], [(0, 401)]]
    vocabulary = CodeVocabulary().fit(X)
    assert vocabulary.codes_.tolist() == ["<UNK>", "250", "401", "I10"]
    assert vocabulary.code_counts_.tolist() == [0, 3, 1, 1]
    emb = embedder().fit(X)
    np.testing.assert_array_equal(emb.transform([[(0, 250)]]), emb.transform([[(0, "250")]]))


def test_whitespace_around_codes_is_stripped():
    X = [[(0, " E11.9 "), (1, "E11.9"), (2, "E11.9\t"), (3, "\nI10")]]
    vocabulary = CodeVocabulary().fit(X)
    assert vocabulary.codes_.tolist() == ["<UNK>", "E11.9", "I10"]
    assert vocabulary.code_counts_.tolist() == [0, 3, 1]
    emb = embedder().fit(X)
    stripped = emb.transform([[(0, " E11.9 ")]])
    np.testing.assert_array_equal(stripped, emb.transform([[(0, "E11.9")]]))


def test_duplicate_events_are_kept_and_counted():
    X = [[(0, "A"), (0, "A"), (0, "A"), (1, "B")], [(0, "A"), (2, "B")]]
    vocabulary = CodeVocabulary().fit(X)
    assert dict(zip(vocabulary.codes_, vocabulary.code_counts_)) == {"<UNK>": 0, "A": 4, "B": 2}
    assert dict(zip(vocabulary.codes_, vocabulary.subject_counts_)) == {"<UNK>": 0, "A": 2, "B": 2}
    emb = embedder(aggregation="mean").fit(X)
    assert emb.code_counts_[emb.vocabulary_["A"]] == 4
    assert as_timelines(X).lengths.tolist() == [4, 2]
    # A duplicate weighs as much as it occurs in the patient's mean.
    a, b = emb.code_vectors_[emb.vocabulary_["A"]], emb.code_vectors_[emb.vocabulary_["B"]]
    np.testing.assert_allclose(emb.transform(X[:1])[0], (3 * a + b) / 4, rtol=1e-6)


def test_reversed_timelines_give_the_same_model_and_features():
    shuffled = [list(reversed(t)) for t in BASE]
    for objective in ("negative_sampling", "softmax"):
        a = embedder(objective=objective, epochs=2).fit(BASE)
        b = embedder(objective=objective, epochs=2).fit(shuffled)
        np.testing.assert_array_equal(a.code_vectors_, b.code_vectors_)
        np.testing.assert_array_equal(a.transform(BASE), b.transform(shuffled))
        np.testing.assert_array_equal(a.transform(shuffled), a.transform(BASE))


def test_unknown_code_lookups_name_the_code():
    emb = embedder().fit(BASE)
    with pytest.raises(KeyError, match="'NOPE' is not in the vocabulary"):
        emb.most_similar("NOPE")
    with pytest.raises(KeyError, match="'NOPE' is not in the vocabulary"):
        emb.similarity("A", "NOPE")


# -- labels and parameters ---------------------------------------------------------
@pytest.mark.parametrize("n_labels", [3, len(BASE) + 1])
def test_labels_of_another_length_raise_in_a_pipeline(n_labels):
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        pipeline().fit(BASE, np.arange(n_labels) % 2)


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
    model = embedder(**params) if where == "embedder" else pipeline(**params)
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
        embedder(device=device).fit(BASE)


BAD_VOCABULARY_PARAMS = [
    ({"min_frequency": 0}, "min_frequency"),
    ({"min_frequency": 1.5}, "min_frequency"),
    ({"min_subjects": -1}, "min_subjects"),
    ({"min_subjects": 1.5}, "min_subjects"),
    ({"max_codes": 0}, "max_codes"),
    ({"max_codes": True}, "max_codes.*not a bool"),
    ({"min_frequency": True}, "min_frequency.*not a bool"),
    ({"handle_unknown": "drop"}, "handle_unknown"),
    ({"grouping": "icd9"}, "grouping"),
    ({"system": 10}, "system"),
]


@pytest.mark.parametrize(
    ("params", "name"),
    BAD_VOCABULARY_PARAMS,
    ids=[f"{k}={v!r}" for p, _ in BAD_VOCABULARY_PARAMS for k, v in p.items()],
)
def test_out_of_range_vocabulary_parameters_raise(params, name):
    with pytest.raises(ValueError, match=name):
        CodeVocabulary(**params).fit(BASE)
    with pytest.raises(ValueError, match=name):
        pipeline(CodeVocabulary(**params)).fit(BASE, Y)


@pytest.mark.parametrize(
    "params",
    [{"min_frequency": 100}, {"min_subjects": 13}, {"min_subjects": 1.0, "min_frequency": 0.5}],
)
def test_pruning_every_code_raises_naming_the_thresholds(params):
    with pytest.raises(ValueError, match="min_frequency=.*min_subjects=.*no code is left"):
        CodeVocabulary(**params).fit(BASE)
    with pytest.raises(ValueError, match="lower the thresholds"):
        pipeline(CodeVocabulary(**params)).fit(BASE, Y)


def test_a_grouping_that_returns_no_code_raises():
    with pytest.raises(ValueError, match="grouping returned None"):
        CodeVocabulary(grouping=lambda code: None).fit(BASE)


# -- not fitted ----------------------------------------------------------------------
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
        call(embedder())
    assert not list(tmp_path.iterdir())


def test_vocabulary_and_pipeline_before_fit_raise_not_fitted():
    with pytest.raises(NotFittedError):
        CodeVocabulary().transform(BASE)
    with pytest.raises(NotFittedError):
        pipeline().predict_proba(BASE)
    with pytest.raises(NotFittedError):
        pipeline()[:-1].transform(BASE)


# -- tiny vocabularies -------------------------------------------------------------
@pytest.mark.parametrize("objective", ["negative_sampling", "softmax"])
def test_a_single_code(objective):
    X = [[(0, "A"), (1, "A")], [(0, "A")], [(3, "A")]]
    emb = embedder(objective=objective, epochs=2).fit(X)
    assert emb.codes_.tolist() == ["<UNK>", "A"]
    assert np.isfinite(emb.code_vectors_).all() and np.isfinite(emb.context_vectors_).all()
    _finite_rows(emb.transform(X), 3)
    assert emb.most_similar("A") == []
    assert 0 <= emb.score(X) <= 1
    _finite_rows(pipeline(objective=objective).fit(X, [0, 1, 0]).predict_proba(X), 3)


def test_a_single_event():
    emb = embedder().fit([[(0, "A")]])
    assert emb.codes_.tolist() == ["<UNK>", "A"]
    _finite_rows(emb.transform([[(0, "A")], [(0, "B")]]), 2)
    with pytest.raises(ValueError, match="no pairs of events"):
        emb.score([[(0, "A")]])


@pytest.mark.parametrize("objective", ["negative_sampling", "softmax"])
def test_fewer_codes_than_negatives(objective):
    X = [[(0, "A"), (1, "B"), (2, "C")], [(0, "C"), (4, "A")]] * 3
    emb = embedder(negative=20, objective=objective, epochs=3).fit(X)
    assert len(emb.codes_) == 4
    assert np.isfinite(emb.loss_curve_).all()
    assert np.isfinite(emb.code_vectors_).all() and np.isfinite(emb.context_vectors_).all()
    _finite_rows(emb.transform(X), len(X))


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
    emb = embedder(time_decay=time_decay, objective=objective, epochs=2, embed_dim=8)
    emb.set_params(aggregation=["recency", "mean", "max"]).fit(CENTURIES)
    assert np.isfinite(emb.loss_curve_).all()
    assert np.isfinite(emb.code_vectors_).all() and np.isfinite(emb.context_vectors_).all()
    features = _finite_rows(emb.transform(CENTURIES), len(CENTURIES))
    assert np.abs(features).sum() > 0
    assert 0 <= emb.score(CENTURIES) <= 1


@pytest.mark.parametrize("embed_dim", [1, 1024])
def test_extreme_embedding_sizes(embed_dim):
    emb = embedder(embed_dim=embed_dim, epochs=2).fit(BASE)
    assert emb.code_vectors_.shape == (5, embed_dim)
    assert np.isfinite(emb.loss_curve_).all() and np.isfinite(emb.code_vectors_).all()
    assert _finite_rows(emb.transform(BASE), len(BASE)).shape[1] == embed_dim
    assert np.isfinite(emb.similarity("A", "B"))


@pytest.mark.parametrize("objective", ["negative_sampling", "softmax"])
def test_ten_times_the_default_learning_rate_stays_finite(objective):
    rate = 10 * TemporalMed2VecEmbedder().learning_rate
    emb = embedder(learning_rate=rate, objective=objective, epochs=3).fit(BASE)
    assert np.isfinite(emb.loss_curve_).all()
    assert np.isfinite(emb.code_vectors_).all() and np.isfinite(emb.context_vectors_).all()
    _finite_rows(emb.transform(BASE), len(BASE))


@pytest.mark.parametrize("epochs", [1, 3])
@pytest.mark.parametrize("batch_size", [2, 4096])
@pytest.mark.parametrize("objective", ["negative_sampling", "softmax"])
def test_divergence_raises_suggesting_a_lower_learning_rate(objective, batch_size, epochs):
    emb = embedder(learning_rate=1e30, objective=objective, batch_size=batch_size, epochs=epochs)
    with pytest.raises(FloatingPointError, match="lower learning_rate"):
        emb.fit(BASE)
    assert not hasattr(emb, "code_vectors_")


def test_non_finite_vectors_raise_and_keep_the_previous_fit(monkeypatch):
    emb = embedder().fit(BASE)
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
        embedder().fit(BASE)
    assert vars(emb).keys() == before.keys()
    for key, value in before.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(getattr(emb, key), value)
        else:
            assert getattr(emb, key) is value or getattr(emb, key) == value


def test_a_loss_that_explodes_across_epochs_raises(monkeypatch):
    losses = iter([1.0, 5.0, 2e3])
    monkeypatch.setattr(trainer_module, "run_epoch", lambda *a, **k: next(losses))
    with pytest.raises(FloatingPointError, match="mean loss rose from 1 to 2000.*learning_rate"):
        embedder(epochs=3).fit(BASE)


# -- determinism ---------------------------------------------------------------------
@pytest.mark.parametrize("objective", ["negative_sampling", "softmax"])
def test_same_random_state_gives_bit_identical_vectors(objective):
    a = embedder(objective=objective, epochs=2, random_state=7).fit(BASE)
    b = embedder(objective=objective, epochs=2, random_state=7).fit(BASE)
    c = embedder(objective=objective, epochs=2, random_state=8).fit(BASE)
    assert np.array_equal(a.code_vectors_, b.code_vectors_)
    assert np.array_equal(a.context_vectors_, b.context_vectors_)
    assert a.loss_curve_ == b.loss_curve_
    assert not np.array_equal(a.code_vectors_, c.code_vectors_)
    rng = np.random.RandomState(3)
    d = embedder(random_state=rng).fit(BASE)
    e = embedder(random_state=np.random.RandomState(3)).fit(BASE)
    assert np.array_equal(d.code_vectors_, e.code_vectors_)


def test_vectors_do_not_depend_on_the_torch_thread_count():
    previous = torch.get_num_threads()
    try:
        results = []
        for threads in (1, 2):
            torch.set_num_threads(threads)
            results.append(embedder(epochs=2, embed_dim=16).fit(BASE).code_vectors_)
            assert torch.get_num_threads() == threads  # restored after fit
    finally:
        torch.set_num_threads(previous)
    assert np.array_equal(*results)


def test_vectors_do_not_depend_on_n_jobs():
    X, y = BASE * 2, np.tile(Y, 2)
    runs = [
        cross_validate(pipeline(epochs=2), X, y, cv=2, n_jobs=n_jobs, return_estimator=True)
        for n_jobs in (1, 2)
    ]
    for one, two in zip(runs[0]["estimator"], runs[1]["estimator"]):
        assert np.array_equal(one[1].code_vectors_, two[1].code_vectors_)
        assert np.array_equal(one[-1].coef_, two[-1].coef_)
    np.testing.assert_array_equal(runs[0]["test_score"], runs[1]["test_score"])
