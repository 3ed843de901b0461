import datetime as dt

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import make_pipeline, make_union

from skmed2vec import (
    BagOfCodes,
    CodeVocabulary,
    TemporalMed2VecEmbedder,
    Timelines,
    as_timelines,
    events_to_timelines,
)
from skmed2vec.datasets import make_cohort


def test_flat_arrays_sorted_within_patient():
    X = as_timelines([[(5, "b"), (1, "a"), (5, "a")], [], [(2, 3)]])
    assert X.offsets.tolist() == [0, 3, 3, 4]
    assert X.codes.tolist() == ["a", "a", "b", "3"]
    assert X.times.tolist() == [1.0, 5.0, 5.0, 2.0]
    assert X.lengths.tolist() == [3, 0, 1]
    assert X.shape == (3,)


@pytest.mark.parametrize(
    "time, days",
    [
        (dt.date(1970, 1, 11), 10.0),
        (dt.datetime(1970, 1, 2, 12), 1.5),
        (pd.Timestamp("1970-01-03"), 2.0),
        (np.datetime64("1970-01-04"), 3.0),
        ("1970-01-05", 4.0),
        (pd.Timestamp("1970-01-02T01:00", tz="Europe/Paris"), 1.0),
    ],
)
def test_time_types_become_days(time, days):
    X = as_timelines([[(time, "A")]])
    assert X.times[0] == pytest.approx(days)
    assert X.time_kind == "datetime"


def test_numbers_are_days():
    X = as_timelines([[(3, "A"), (1.5, "B")]])
    assert X.time_kind == "days"
    assert X.times.tolist() == [1.5, 3.0]


def test_indexing_keeps_prediction_times_and_index():
    series = pd.Series([[(0, "A")], [(1, "B"), (2, "C")], [(3, "D")]], index=["p1", "p2", "p3"])
    X = as_timelines(series, prediction_times=[None, 1.5, 9])
    sub = X[np.array([2, 1])]
    assert isinstance(sub, Timelines)
    assert sub.index.tolist() == ["p3", "p2"]
    assert np.array_equal(sub.prediction_times, [9.0, 1.5])
    assert sub.to_list() == [[(3.0, "D")], [(1.0, "B"), (2.0, "C")]]
    assert X[np.array([True, False, True])].index.tolist() == ["p1", "p3"]
    assert X[1:].index.tolist() == ["p2", "p3"]
    assert X[0] == [(0.0, "A")]
    # scikit-learn's array indexing passes (rows, Ellipsis)
    assert X[np.array([1]), ...].to_list() == [[(1.0, "B"), (2.0, "C")]]


def test_up_to_prediction_drops_later_events_and_by_default_those_at_the_time():
    timelines = [[(0, "A"), (5, "B"), (10, "C")], [(1, "D")]]
    X = as_timelines(timelines, prediction_times=[5, None])
    assert X.at_prediction_time == "exclude"
    assert X.up_to_prediction().to_list() == [[(0.0, "A")], [(1.0, "D")]]
    X = as_timelines(timelines, prediction_times=[5, None], at_prediction_time="include")
    assert X.up_to_prediction().to_list() == [[(0.0, "A"), (5.0, "B")], [(1.0, "D")]]
    # The rule travels with the samples through cross-validation splits.
    assert X[[0]].at_prediction_time == "include"


def test_prediction_time_kind_must_match():
    with pytest.raises(ValueError, match="prediction_times are datetime"):
        as_timelines([[(0, "A")]], prediction_times=["2020-01-01"])


def test_events_to_timelines_meds_defaults_and_prediction_times():
    events = pd.DataFrame(
        {
            "subject_id": [7, 3, 7, 7],
            "time": pd.to_datetime(["2020-01-02", "2021-05-01", "2020-01-01", "2020-03-01"]),
            "code": ["I10", "J45", "E11.9", "N18.3"],
        }
    )
    X, ids = events_to_timelines(events, prediction_times={7: pd.Timestamp("2020-02-01")})
    assert ids.tolist() == [3, 7]
    assert X.lengths.tolist() == [1, 3]
    assert X.to_list()[1][0][1] == "E11.9"
    assert np.isnan(X.prediction_times[0])
    assert X.up_to_prediction().lengths.tolist() == [1, 2]


def test_events_to_timelines_custom_columns():
    events = pd.DataFrame({"pid": ["a", "b"], "day": [3, 4], "concept": [1, "X"]})
    X, ids = events_to_timelines(events, subject_col="pid", time_col="day", code_col="concept")
    assert ids.tolist() == ["a", "b"]
    assert X.codes.tolist() == ["1", "X"]
    with pytest.raises(ValueError, match="no column 'subject_id'"):
        events_to_timelines(events)


# -- leakage -------------------------------------------------------------------------
def _leakage_setup():
    cohort = make_cohort(80, n_background=20, years=2, random_state=1)
    events = cohort.events
    end = cohort.prediction_times
    # Two prediction times per subject, so each subject has events after its first one.
    labels = pd.concat(
        [
            pd.DataFrame({"prediction_time": end - pd.Timedelta(days=300)}),
            pd.DataFrame({"prediction_time": end}),
        ]
    ).reset_index()
    return events, labels


def _features(events, labels, model=None):
    X, _ = events_to_timelines(events, prediction_times=labels)
    if model is None:
        embedder = TemporalMed2VecEmbedder(
            embed_dim=8, epochs=1, aggregation=["recency", "mean", "max"], random_state=0
        )
        bag = BagOfCodes(weighting="recency", windows=[30, None])
        model = make_pipeline(CodeVocabulary(), make_union(embedder, bag)).fit(X)
    features = model.transform(X)
    return (features.toarray() if hasattr(features, "toarray") else features), model


def test_events_after_a_prediction_time_never_reach_its_row():
    events, labels = _leakage_setup()
    base, model = _features(events, labels)
    sample = 3  # subject 3, cut 300 days before the end of its history
    subject, cut = labels.loc[sample, "subject_id"], labels.loc[sample, "prediction_time"]
    own = events["subject_id"] == subject
    after = np.flatnonzero(own & (events["time"] >= cut))
    before = np.flatnonzero(own & (events["time"] < cut))
    assert after.size >= 5 and before.size >= 5  # the test has something to move
    other_code = events["code"].iloc[0]
    for row in after:
        changed = events.copy()
        changed.loc[row, "code"] = other_code if events.loc[row, "code"] != other_code else "Z"
        changed_time = events.copy()
        changed_time.loc[row, "time"] = cut + pd.Timedelta(days=1)
        deleted = events.drop(index=row)
        for variant in (changed, changed_time, deleted):
            features, _ = _features(variant, labels, model)
            np.testing.assert_array_equal(features[sample], base[sample])
    # The same model refitted without any event after the cut gives the same row
    # for the sample: fitting never saw them either.
    trimmed = events.drop(index=after)
    labels_one = labels.iloc[[sample]]
    refit = _features(trimmed, labels_one)[0]
    again = _features(events, labels_one)[0]
    np.testing.assert_array_equal(refit, again)
    # Changing one event before the cut changes the row.
    for row in before[:3]:
        changed = events.copy()
        changed.loc[row, "code"] = other_code if events.loc[row, "code"] != other_code else "Z"
        features, _ = _features(changed, labels, model)
        assert not np.array_equal(features[sample], base[sample])


def test_last_times_of_samples_with_and_without_events():
    X = Timelines(np.array([1, 1, 2]), np.array([0.0, 5.0, 3.0]), np.array([0, 0, 2, 3]))
    np.testing.assert_array_equal(X.last_times(), [np.nan, 5.0, 3.0])
    empty = Timelines(np.zeros(0, np.int64), np.zeros(0), np.array([0, 0]))
    assert np.isnan(empty.last_times()).all()


def test_patient_rows_of_timelines_without_events_are_zeros():
    from skmed2vec._features import patient_features

    empty = Timelines(np.zeros(0, np.int64), np.zeros(0), np.array([0, 0, 0]), code_names=["<UNK>"])
    rows = patient_features(np.ones((1, 3), np.float32), empty, 0.01, ["recency", "mean", "max"])
    assert rows.shape == (2, 9) and rows.dtype == np.float32 and not rows.any()


def test_indexing_reads_masks_and_positions_by_value_and_refuses_the_rest():
    X = as_timelines([[(0, "A")], [(1, "B")], [(2, "C")], [(3, "D")]])

    def first_codes(sub):
        return [events[0][1] for events in sub]

    # Python bools in an object array or Series are a mask, not positions 0 and 1.
    assert first_codes(X[np.array([True, False, False, True], dtype=object)]) == ["A", "D"]
    assert first_codes(X[pd.Series([True, False, False, True], dtype=object)]) == ["A", "D"]
    assert first_codes(X[pd.array([1, 3], dtype="Int64")]) == ["B", "D"]
    for key in ([1.9, 2.5], True, pd.array([True, None, False, True], dtype="boolean")):
        with pytest.raises(IndexError, match="indexed by integers, slices or boolean masks"):
            X[key]


def test_an_empty_mask_of_the_wrong_length_is_refused():
    X = as_timelines([[(0, "A")], [(1, "B")]])
    with pytest.raises(IndexError, match="boolean mask has shape"):
        X[np.zeros(0, dtype=bool)]
    assert len(X[[]]) == 0


def test_samples_taken_one_by_one_hold_no_event_after_their_prediction_time():
    # A DataFrame column (or a list) built from X cannot carry the prediction times.
    X = as_timelines([[(0, "A"), (5, "LATER")], [(1, "B")]], prediction_times=[2, None])
    assert list(X) == [[(0.0, "A")], [(1.0, "B")]]
    assert X[0] == [(0.0, "A")]
    column = pd.DataFrame({"timelines": X})["timelines"]
    assert [code for _, code in column[0]] == ["A"]
    assert X.to_list()[0] == [(0.0, "A"), (5.0, "LATER")]  # everything stored, on request
