"""Input rules of events_to_timelines, measured: MEDS static rows, events at prediction times.

Data: the Synthea Ohio extract, as MEDS events (``load_synthea_events(separator="/")``
plus ``load_synthea_patients``: static GENDER//, RACE//, ETHNICITY// rows without a
time, MEDS_BIRTH and MEDS_DEATH). Every figure is the out-of-fold AUROC of a
CodeVocabulary(min_subjects=10) + TemporalMed2VecEmbedder + LogisticRegression
pipeline over 5 GroupKFold folds by subject (the same folds for both sides of a
comparison), with a 95% percentile bootstrap interval
(``skmed2vec.evaluation.cross_validated_auc``).

1. Static rows, ``static_events="first"`` against ``"drop"``. Task: at 2012-01-01,
   2014-01-01 and 2016-01-01 (subjects with an event before, alive), does any
   condition or drug follow within two years?
2. Events at the prediction time, ``at_prediction_time="exclude"`` against
   ``"include"``. Task, as day-resolution protocols often write it: at each
   medication start date, is a condition recorded within [t, t + 365 days]? An
   outcome recorded on the prediction day is visible to "include".

Get the data: the Synthea extract lives in ``../shared/data/synthea-ohio-10k`` (see
its SOURCE.md; any Synthea CSV export works). Run:
``python benchmarks/bench_input_rules.py [--data PATH]``.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import make_pipeline

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import SHARED_DATA, table, write_results  # noqa: E402


def meds_events(folder):
    from skmed2vec.datasets import load_synthea_events, load_synthea_patients

    coded = load_synthea_events(folder, separator="/")
    static = load_synthea_patients(folder)
    events = pd.concat([static, coded[["subject_id", "time", "code", "table"]]], ignore_index=True)
    return events


def static_task(events):
    timed = events.dropna(subset=["time"])
    first = timed.groupby("subject_id")["time"].min()
    death = timed[timed["code"] == "MEDS_DEATH"].groupby("subject_id")["time"].min()
    rows = []
    for day in ("2012-01-01", "2014-01-01", "2016-01-01"):
        t = pd.Timestamp(day)
        ok = (first < t) & ~(first.index.map(death).to_series(index=first.index) <= t)
        rows.append(pd.DataFrame({"subject_id": first.index[ok.to_numpy()], "prediction_time": t}))
    labels = pd.concat(rows, ignore_index=True)
    coded = timed[timed["table"].notna()].merge(labels, on="subject_id")
    window = (coded["time"] > coded["prediction_time"]) & (
        coded["time"] <= coded["prediction_time"] + pd.Timedelta(days=730)
    )
    positive = coded[window].groupby(["subject_id", "prediction_time"]).size().index
    labels["boolean_value"] = pd.MultiIndex.from_frame(labels).isin(positive)
    return labels


def same_day_task(events):
    coded = events[events["table"].notna()]
    starts = coded[coded["table"] == "medications"][["subject_id", "time"]].drop_duplicates()
    labels = starts.rename(columns={"time": "prediction_time"}).reset_index(drop=True)
    conditions = coded[coded["table"] == "conditions"][["subject_id", "time"]]
    pairs = conditions.merge(labels, on="subject_id")
    delay = pairs["time"] - pairs["prediction_time"]
    inside = (delay >= pd.Timedelta(0)) & (delay <= pd.Timedelta(days=365))
    positive = pairs[inside].groupby(["subject_id", "prediction_time"]).size().index
    same_day = pairs[delay == pd.Timedelta(0)].groupby(["subject_id", "prediction_time"]).size()
    labels["boolean_value"] = pd.MultiIndex.from_frame(labels).isin(positive)
    labels["same_day"] = pd.MultiIndex.from_frame(labels[["subject_id", "prediction_time"]]).isin(
        same_day.index
    )
    return labels


def evaluate(events, labels, seed, dim, epochs, **rules):
    from skmed2vec import CodeVocabulary, TemporalMed2VecEmbedder, events_to_timelines
    from skmed2vec.evaluation import cross_validated_auc

    X, groups = events_to_timelines(
        events[["subject_id", "time", "code"]], prediction_times=labels, **rules
    )
    y = labels["boolean_value"].to_numpy()
    splits = list(GroupKFold(n_splits=5).split(np.zeros(len(y)), y, groups))
    pipe = make_pipeline(
        CodeVocabulary(min_subjects=10),
        TemporalMed2VecEmbedder(embed_dim=dim, epochs=epochs, random_state=seed),
        LogisticRegression(max_iter=2000),
    )
    start = time.perf_counter()
    result = cross_validated_auc(pipe, X, y, cv=splits, random_state=seed)
    return {
        **rules,
        "samples": len(y),
        "positives": int(y.sum()),
        "auroc": result.auroc,
        "auroc_low": result.auroc_ci[0],
        "auroc_high": result.auroc_ci[1],
        "seconds": time.perf_counter() - start,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(SHARED_DATA / "synthea-ohio-10k"))
    parser.add_argument("--dim", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    events = meds_events(args.data)
    n_static = int(events["time"].isna().sum())
    print(f"{len(events):,} events, {n_static:,} static rows")
    columns = [
        ("rule", "rule", ""),
        ("samples", "samples", ""),
        ("positives", "positives", ""),
        ("auroc", "AUROC", ".3f"),
        ("auroc_low", "95% low", ".3f"),
        ("auroc_high", "95% high", ".3f"),
    ]

    labels = static_task(events)
    static_rows = []
    for rule in ("first", "drop"):
        row = evaluate(events, labels, args.seed, args.dim, args.epochs, static_events=rule)
        static_rows.append({"rule": f"static_events={rule!r}", **row})
        print(static_rows[-1])
    print(table(static_rows, columns))

    labels = same_day_task(events)
    positives = labels["boolean_value"].sum()
    share_same_day = float(labels["same_day"].sum() / positives)
    print(f"{share_same_day:.1%} of the positive samples have their outcome on the prediction day")
    timing_rows = []
    for rule in ("exclude", "include"):
        row = evaluate(events, labels, args.seed, args.dim, args.epochs, at_prediction_time=rule)
        timing_rows.append({"rule": f"at_prediction_time={rule!r}", **row})
        print(timing_rows[-1])
    print(table(timing_rows, columns))

    write_results(
        "bench_input_rules",
        {
            "command": "python benchmarks/bench_input_rules.py " + " ".join(argv or sys.argv[1:]),
            "data": "synthea-ohio-10k",
            "static_rows": n_static,
            "static_events": static_rows,
            "positives_with_outcome_on_prediction_day": share_same_day,
            "at_prediction_time": timing_rows,
        },
    )


if __name__ == "__main__":
    main()
