"""Timelines from messy input: every entry point fails loudly on unusable input.

Unusable input must fail loudly, with an exception type and a message that
names the problem and where it is (never an IndexError, KeyError or
RuntimeError from deep inside numpy or torch); usable but unusual input must
give finite output.
"""

import datetime as dt
import re

import numpy as np
import pandas as pd
import pytest
from helpers import BASE, FITTERS, finite_rows, tiny_embedder, tiny_pipeline
from sklearn.model_selection import GroupKFold, cross_val_score
from sklearn.pipeline import make_pipeline

from skmed2vec import CodeVocabulary, as_timelines, events_to_timelines
from skmed2vec.datasets import make_cohort


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
    pytest.param(
        [[(0, "A")], [(np.nan, "A")]],
        ValueError,
        "must not be missing; got nan (timeline 1, event 0)",
        id="time-NaN",
    ),
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
    # Text pandas reads as "not a time" was a date 292,000 years ago.
    pytest.param(
        [[("NaT", "A"), ("2020-01-01", "B")]],
        ValueError,
        "got 'NaT' (timeline 0, event 0), which reads as 'not a time'",
        id="time-NaT-string",
    ),
    pytest.param([[("", "A")]], ValueError, "got '' (timeline 0, event 0)", id="time-empty"),
    pytest.param([[("nan", "A")]], ValueError, "reads as 'not a time'", id="time-nan-string"),
    pytest.param(
        [[("not a date (tz)", "A")]],
        ValueError,
        "could not parse times ('not a date (tz)' (timeline 0, event 0))",
        id="time-unparseable-mentioning-tz",
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
    pytest.param([[(0, None)]], ValueError, "got None (timeline 0, event 0)", id="code-None"),
    pytest.param(
        [[(0, "A"), (1, np.nan)]], ValueError, "got nan (timeline 0, event 1)", id="code-NaN"
    ),
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
def test_bad_input_fails_loudly_at_transform(tiny_fitted, entry, X, error, fragment):
    with pytest.raises(error, match=re.escape(fragment)):
        tiny_fitted[entry](X)


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
    emb = tiny_embedder().fit(X)
    assert np.isfinite(emb.loss_curve_).all()
    finite_rows(emb.transform(X), 2)
    finite_rows(tiny_pipeline().fit(X * 2, [0, 1, 1, 0]).predict_proba(X), 2)


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


def test_bigquery_utc_suffix_is_utc():
    # BigQuery (MIMIC-IV there) writes timestamps as "2180-07-23 12:35:00 UTC".
    bigquery = [("2020-03-28 11:00:00 UTC", "A"), ("2020-03-29 10:00:00 utc", "B")]
    iso = [("2020-03-28T11:00Z", "A"), ("2020-03-29T10:00Z", "B")]
    np.testing.assert_array_equal(as_timelines([bigquery]).times, as_timelines([iso]).times)
    table = pd.DataFrame(
        {"subject_id": [1, 1], "time": [t for t, _ in bigquery], "code": ["A", "B"]}
    )
    X, _ = events_to_timelines(table)
    np.testing.assert_array_equal(X.times, as_timelines([iso]).times)


def test_not_a_time_text_is_refused_in_tables_and_prediction_times():
    table = pd.DataFrame({"subject_id": [1, 1], "time": ["NaT", "2020-01-02"], "code": ["A", "B"]})
    with pytest.raises(ValueError, match="reads as 'not a time'"):
        events_to_timelines(table)
    with pytest.raises(ValueError, match="reads as 'not a time'"):
        as_timelines([[("2020-01-01", "A")]], prediction_times=["NaT"])


def test_prediction_times_of_another_kind_raise():
    with pytest.raises(ValueError, match="prediction_times are datetime but event times are days"):
        as_timelines([[(0, "A")]], prediction_times=["2020-01-01"])
    with pytest.raises(ValueError, match="one value per patient"):
        as_timelines([[(0, "A")]], prediction_times=[1, 2])


def test_numpy_nanosecond_datetimes_are_times_not_integers():
    # What df["col"].to_numpy() gives for timestamps read from parquet.
    events = [[(pd.Timestamp("2020-01-01"), "A"), (pd.Timestamp("2020-01-05"), "OUTCOME")]]
    ns = pd.to_datetime(["2020-01-03"]).as_unit("ns").to_numpy()
    expected = as_timelines(events, prediction_times=[pd.Timestamp("2020-01-03")])
    X = as_timelines(events, prediction_times=ns)
    np.testing.assert_array_equal(X.prediction_times, expected.prediction_times)
    assert X.up_to_prediction().to_list() == [[(18262.0, "A")]]
    with pytest.raises(ValueError, match="prediction_times are datetime but event times are days"):
        as_timelines([[(0, "A"), (5, "OUTCOME")]], prediction_times=ns)


def test_aware_and_naive_times_do_not_meet():
    naive = [[(pd.Timestamp("2020-01-01 10:00"), "A")]]
    aware = [pd.Timestamp("2020-01-01 08:00", tz="America/New_York")]
    with pytest.raises(ValueError, match="prediction_times are timezone-aware but event times"):
        as_timelines(naive, prediction_times=aware)
    events = pd.DataFrame(
        {
            "subject_id": [1, 1],
            "time": pd.to_datetime(["2020-01-01 10:00", "2020-01-02 00:00"]),
            "code": ["A", "B"],
        }
    )
    labels = pd.DataFrame({"subject_id": [1], "prediction_time": aware})
    with pytest.raises(ValueError, match="prediction_times are timezone-aware but event times"):
        events_to_timelines(events, prediction_times=labels)
    with pytest.raises(ValueError, match="event times are timezone-aware but prediction_times"):
        events_to_timelines(
            events.assign(time=events["time"].dt.tz_localize("UTC")),
            prediction_times=labels.assign(prediction_time=pd.Timestamp("2020-01-01 08:00")),
        )
    # Both aware: one clock (08:00 New York is 13:00 UTC), labelled in UTC.
    X, _ = events_to_timelines(
        events.assign(time=events["time"].dt.tz_localize("UTC")), prediction_times=labels
    )
    assert X.up_to_prediction().lengths.tolist() == [1]
    assert X.index[0][1] == aware[0]
    assert str(X.index.levels[1].tz) == "UTC"


def test_times_keep_fractions_of_a_second():
    # MEDS timestamps are to the microsecond.
    events = pd.DataFrame(
        {
            "subject_id": [1, 1, 1],
            "time": pd.to_datetime(
                ["2020-01-01 09:00", "2020-01-01 10:00:00.050", "2020-01-01 10:00:00.900"],
                format="ISO8601",
            ),
            "code": ["EARLY", "BEFORE", "AFTER"],
        }
    )
    cut = pd.Timestamp("2020-01-01 10:00:00.100")
    labels = pd.DataFrame({"subject_id": [1], "prediction_time": [cut]})
    for rule in ("include", "exclude"):
        X, _ = events_to_timelines(events, prediction_times=labels, at_prediction_time=rule)
        kept = [code for _, code in X.up_to_prediction().to_list()[0]]
        assert kept == ["EARLY", "BEFORE"], rule
    assert X.index[0][1] == cut
    as_list = [[(t, c) for t, c in zip(events["time"], events["code"])]]
    X = as_timelines(as_list, prediction_times=[cut], at_prediction_time="include")
    assert [code for _, code in X.up_to_prediction().to_list()[0]] == ["EARLY", "BEFORE"]


def test_series_of_prediction_times_follows_the_series_index():
    X = pd.Series({"a": [(0, "A"), (10, "A_LATE")], "b": [(0, "B"), (10, "B_LATE")]})
    cut = pd.Series({"b": 5.0, "a": None})
    kept = as_timelines(X, prediction_times=cut).up_to_prediction().to_list()
    assert [[code for _, code in row] for row in kept] == [["A", "A_LATE"], ["B"]]
    # By position otherwise.
    kept = as_timelines(X.tolist(), prediction_times=cut).up_to_prediction().to_list()
    assert [[code for _, code in row] for row in kept] == [["A"], ["B", "B_LATE"]]
    with pytest.raises(ValueError, match="matched by index label"):
        as_timelines(X, prediction_times=pd.Series([5.0, None]))


def test_pyarrow_date_columns_are_dates():
    pa = pytest.importorskip("pyarrow")
    days = pd.to_datetime(["2020-01-01", "2020-01-05"])
    events = pd.DataFrame({"subject_id": [1, 1], "time": days, "code": ["A", "B"]})
    expected, _ = events_to_timelines(events)
    for unit in (pa.date32(), pa.date64()):
        arrow = events.assign(time=events["time"].astype(pd.ArrowDtype(unit)))
        X, _ = events_to_timelines(arrow)
        assert X.to_list() == expected.to_list() and X.time_kind == "datetime"


# -- codes that are unusual but usable ---------------------------------------------
def test_integer_codes_become_strings():
    X = [[(0, 250), (1, "250"), (2, np.int64(250)), (3, "I10")], [(0, 401)]]
    vocabulary = CodeVocabulary().fit(X)
    assert vocabulary.codes_.tolist() == ["<UNK>", "250", "401", "I10"]
    assert vocabulary.code_counts_.tolist() == [0, 3, 1, 1]
    emb = tiny_embedder().fit(X)
    np.testing.assert_array_equal(emb.transform([[(0, 250)]]), emb.transform([[(0, "250")]]))


def test_whitespace_around_codes_is_stripped():
    X = [[(0, " E11.9 "), (1, "E11.9"), (2, "E11.9\t"), (3, "\nI10")]]
    vocabulary = CodeVocabulary().fit(X)
    assert vocabulary.codes_.tolist() == ["<UNK>", "E11.9", "I10"]
    assert vocabulary.code_counts_.tolist() == [0, 3, 1]
    emb = tiny_embedder().fit(X)
    stripped = emb.transform([[(0, " E11.9 ")]])
    np.testing.assert_array_equal(stripped, emb.transform([[(0, "E11.9")]]))


def test_duplicate_events_are_kept_and_counted():
    X = [[(0, "A"), (0, "A"), (0, "A"), (1, "B")], [(0, "A"), (2, "B")]]
    vocabulary = CodeVocabulary().fit(X)
    assert dict(zip(vocabulary.codes_, vocabulary.code_counts_)) == {"<UNK>": 0, "A": 4, "B": 2}
    assert dict(zip(vocabulary.codes_, vocabulary.subject_counts_)) == {"<UNK>": 0, "A": 2, "B": 2}
    emb = tiny_embedder(aggregation="mean").fit(X)
    assert emb.code_counts_[emb.vocabulary_["A"]] == 4
    assert as_timelines(X).lengths.tolist() == [4, 2]
    # A duplicate weighs as much as it occurs in the patient's mean.
    a, b = emb.code_vectors_[emb.vocabulary_["A"]], emb.code_vectors_[emb.vocabulary_["B"]]
    np.testing.assert_allclose(emb.transform(X[:1])[0], (3 * a + b) / 4, rtol=1e-6)


# -- long event tables ---------------------------------------------------------------
EVENTS = pd.DataFrame(
    {
        "subject_id": [7, 3, 7, 7, 3, 7],
        "time": pd.to_datetime(
            ["2020-01-02", "2021-05-01", "2020-01-01", "2020-03-01", "2021-06-01", "2020-05-01"]
        ),
        "code": ["I10", "J45", "E11.9", "N18.3", "J45", "I50"],
    }
)


def _cut(X):
    return X.up_to_prediction().to_list()


@pytest.mark.parametrize(
    ("prediction_times", "fragment"),
    [
        (["2020-02-01", "2021-01-01"], "got list, which has no subject ids"),
        (np.array(["2020-02-01", "2021-01-01"], dtype=object), "got ndarray"),
        (pd.Series(["2020-02-01"], index=[99]), "1 subject(s) of prediction_times have no events"),
        ({7: "2020-02-01", 98: "2020-01-01", 99: "2020-01-01"}, "e.g. [98, 99]"),
        (pd.Series(["2020-02-01"], index=["7"]), "keys are strings while the events"),
        (
            pd.DataFrame({"subject_id": ["7"], "prediction_time": ["2020-02-01"]}),
            "keys are strings while the events' subject_id values are numbers",
        ),
        (pd.DataFrame({"subject_id": [7]}), "without a 'prediction_time' column"),
        (
            pd.DataFrame({"subject_id": [7, 3], "prediction_time": ["2020-02-01", None]}),
            "1 row(s) without a prediction_time, the first at row 1 (subject_id 3)",
        ),
    ],
    ids=[
        "list",
        "array",
        "absent-id",
        "absent-ids",
        "str-keys",
        "str-table",
        "no-time-column",
        "row-without-time",
    ],
)
def test_prediction_times_are_never_dropped_silently(prediction_times, fragment):
    with pytest.raises((TypeError, ValueError), match=re.escape(fragment)):
        events_to_timelines(EVENTS, prediction_times=prediction_times)


def test_integer_keys_for_string_ids_are_named_as_a_type_mismatch():
    events = EVENTS.assign(subject_id=EVENTS["subject_id"].astype(str))
    with pytest.raises(ValueError, match="keys are numbers while the events' subject_id"):
        events_to_timelines(events, prediction_times=pd.Series({7: "2020-02-01"}))
    X, ids = events_to_timelines(events, prediction_times=pd.Series({"7": "2020-02-01"}))
    assert ids.tolist() == ["3", "7"] and np.isnan(X.prediction_times[0])


def test_a_label_table_gives_one_sample_per_row_in_table_order():
    labels = pd.DataFrame(
        {
            "subject_id": [7, 3, 7, 7],
            "prediction_time": pd.to_datetime(
                ["2020-03-01", "2021-12-31", "2020-01-02", "2020-12-31"]
            ),
            "boolean_value": [True, False, False, True],
        }
    )
    X, subject_ids = events_to_timelines(EVENTS, prediction_times=labels)
    assert len(X) == 4
    assert subject_ids.tolist() == [7, 3, 7, 7]
    assert X.subject_ids.tolist() == [7, 3, 7, 7]
    assert X.n_subjects == 2
    # Each sample is cut at its own time (events at the time excluded by default).
    assert [[code for _, code in t] for t in _cut(X)] == [
        ["E11.9", "I10"],
        ["J45", "J45"],
        ["E11.9"],
        ["E11.9", "I10", "N18.3", "I50"],
    ]
    # Rows keep their identity: (subject_id, prediction_time), in table order.
    assert X.index.names == ["subject_id", "prediction_time"]
    assert X.index.tolist() == list(zip(labels["subject_id"], labels["prediction_time"]))
    # A Series whose index repeats a subject is a label table too.
    series = labels.set_index("subject_id")["prediction_time"]
    Xs, ids = events_to_timelines(EVENTS, prediction_times=series)
    assert ids.tolist() == [7, 3, 7, 7] and _cut(Xs) == _cut(X)


def test_label_table_samples_fit_with_group_kfold_and_count_subjects_once():
    cohort = make_cohort(60, n_background=20, years=2, random_state=0)
    events = cohort.events
    # Two prediction times per subject: one year before the end, and the end.
    end = cohort.prediction_times
    labels = pd.concat(
        [
            pd.DataFrame({"prediction_time": end - pd.Timedelta(days=365)}),
            pd.DataFrame({"prediction_time": end}),
        ]
    ).reset_index()
    labels["boolean_value"] = np.resize(cohort.y, len(labels)).astype(bool)
    X, groups = events_to_timelines(events, prediction_times=labels, at_prediction_time="include")
    y = labels["boolean_value"].to_numpy()
    assert len(X) == len(y) == 120
    folds = list(GroupKFold(n_splits=3).split(X, y, groups))
    for train, test in folds:
        assert not set(groups[train]) & set(groups[test])
    scores = cross_val_score(
        tiny_pipeline().set_params(codevocabulary__min_subjects=2),
        X,
        y,
        groups=groups,
        cv=GroupKFold(n_splits=3),
    )
    assert scores.shape == (3,)
    # min_subjects counts subjects, not samples: two samples of one subject are one.
    one = pd.DataFrame({"subject_id": [1, 1], "time": [0, 1], "code": ["RARE", "A"]})
    two = pd.DataFrame({"subject_id": [1, 1], "prediction_time": [5, 6]})
    Xr, _ = events_to_timelines(one, prediction_times=two)
    assert len(Xr) == 2 and Xr.n_subjects == 1
    with pytest.raises(ValueError, match="no code is left"):
        CodeVocabulary(min_subjects=2).fit(Xr)


def test_static_rows_without_a_time():
    events = pd.DataFrame(
        {
            "subject_id": [1, 1, 1, 2, 2, 3],
            "time": [None, "2020-01-05", "2020-03-01", "2019-06-01", None, None],
            "code": ["SEX//F", "E11.9", "I10", "J45", "SEX//M", "SEX//F"],
        }
    )
    labels = pd.DataFrame(
        {
            "subject_id": [1, 1, 2, 3],
            "prediction_time": ["2020-02-01", "2020-01-01", "2021-01-01", "2021-01-01"],
        }
    )
    X, _ = events_to_timelines(events, prediction_times=labels)
    cut = _cut(X)
    day = pd.Timestamp("2020-01-01").value / 86400e9
    # At the first timed event, or before a prediction time that precedes it.
    first = pd.Timestamp("2020-01-05").value / 86400e9
    assert cut[0] == [(first, "E11.9"), (first, "SEX//F")]
    assert cut[1] == [(day - 1 / 86400, "SEX//F")]
    assert [c for _, c in cut[2]] == ["J45", "SEX//M"]
    assert [c for _, c in cut[3]] == ["SEX//F"]
    # Each sample from its own rows: the same whatever the other label rows.
    for row in range(len(labels)):
        alone, _ = events_to_timelines(events, prediction_times=labels.iloc[[row]])
        assert _cut(alone)[0] == cut[row]
    dropped, _ = events_to_timelines(events, static_events="drop")
    assert dropped.lengths.tolist() == [2, 1, 0]
    with pytest.raises(ValueError, match=re.escape("3 event(s) have no time, the first at row 0")):
        events_to_timelines(events, static_events="error")


def test_errors_name_the_missing_value_and_its_row():
    numeric = pd.DataFrame({"subject_id": [1, 1, 2], "time": [0, 1, 2], "code": [250, None, 401]})
    assert numeric["code"].dtype == np.float64
    with pytest.raises(ValueError, match=re.escape("got nan at row 1 (subject_id 1)")):
        events_to_timelines(numeric)
    floats = numeric.fillna(3.0)
    with pytest.raises(TypeError, match=re.escape("got 250.0 of type float at row 0")):
        events_to_timelines(floats)
    strings = pd.DataFrame({"subject_id": [1, 2], "time": ["2020-01-01", None], "code": ["A", "B"]})
    with pytest.raises(ValueError, match=re.escape("at row 1 (subject_id 2)")):
        events_to_timelines(strings, static_events="error")
    bad = pd.DataFrame({"subject_id": [1, 2], "time": ["2020-01-01", "soon"], "code": ["A", "B"]})
    with pytest.raises(ValueError, match=re.escape("('soon' at row 1 (subject_id 2))")):
        events_to_timelines(bad)
    with pytest.raises(ValueError, match="missing subject ids, the first at row 1"):
        events_to_timelines(pd.DataFrame({"subject_id": [1, None], "time": [0, 1], "code": "A"}))


def test_pandas_output_is_indexed_by_subject_and_prediction_time():
    cohort = make_cohort(40, n_background=20, years=2, random_state=0)
    X, ids = events_to_timelines(cohort.events, prediction_times=cohort.prediction_times)
    pipe = make_pipeline(CodeVocabulary(), tiny_embedder()).set_output(transform="pandas")
    features = pipe.fit(X).transform(X)
    assert features.index.names == ["subject_id", "prediction_time"]
    assert features.index.get_level_values(0).tolist() == ids.tolist()
    assert features.index[3] == (ids[3], cohort.prediction_times[ids[3]])
    # Plain timelines have no labels: a RangeIndex, still a DataFrame.
    plain = tiny_embedder().set_output(transform="pandas").fit(BASE).transform(BASE)
    assert isinstance(plain, pd.DataFrame) and plain.index.tolist() == list(range(len(BASE)))


@pytest.mark.parametrize("rule", ["exclude", "include"])
def test_events_at_the_prediction_time_follow_the_rule(rule):
    events = pd.DataFrame(
        {
            "subject_id": [1, 1, 1],
            "time": ["2020-01-01", "2020-02-01", "2020-02-01"],
            "code": ["A", "B", "C"],
        }
    )
    labels = pd.DataFrame({"subject_id": [1], "prediction_time": ["2020-02-01"]})
    X, _ = events_to_timelines(events, prediction_times=labels, at_prediction_time=rule)
    expected = ["A"] if rule == "exclude" else ["A", "B", "C"]
    assert [c for _, c in _cut(X)[0]] == expected
    days = [("2019-01-01", "A"), ("2019-01-02", "B"), ("2019-01-03", "C")]
    emb = tiny_embedder(aggregation="mean").fit(as_timelines([days] * 5))
    row = emb.transform(X)[0]
    vectors = emb.code_vectors_[[emb.vocabulary_[c] for c in expected]]
    np.testing.assert_allclose(row, vectors.mean(axis=0), rtol=1e-6)


def test_series_prediction_times_with_labels_x_lacks_are_named():
    X = pd.Series({"p": [(0, "A")], "q": [(1, "B")]})
    with pytest.raises(
        ValueError, match=r"prediction_times has labels that X does not, e.g. \['r'\]"
    ):
        as_timelines(X, prediction_times=pd.Series({"p": 1.0, "q": 2.0, "r": 3.0}))
    # X repeating a label: "b" was dropped silently and both samples took "a"'s time.
    repeated = pd.Series([[(0, "A"), (50, "LATE")]] * 2, index=["a", "a"])
    with pytest.raises(ValueError, match=r"labels that X does not, e.g. \['b'\]"):
        as_timelines(repeated, prediction_times=pd.Series([100.0, 3.0], index=["a", "b"]))
