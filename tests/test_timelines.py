import datetime as dt

import numpy as np
import pandas as pd
import pytest

from skmed2vec import Timelines, as_timelines, events_to_timelines


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


def test_up_to_prediction_drops_later_events():
    X = as_timelines([[(0, "A"), (5, "B"), (10, "C")], [(1, "D")]], prediction_times=[5, None])
    cut = X.up_to_prediction()
    assert cut.to_list() == [[(0.0, "A"), (5.0, "B")], [(1.0, "D")]]


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
