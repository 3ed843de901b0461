"""Patient rows for risk models: skmed2vec against bags of codes with few labels.

Real-format tasks from the Synthea Ohio extract (``../shared/data/synthea-ohio-10k``,
conditions, medications, care plans and allergies via ``load_synthea_events``;
the extract ships beside the repository, see ``../shared/data/synthea-ohio-10k/SOURCE.md``).
Each task predicts, at a cut date (2016-01-01), whether an outcome code first
occurs after it, for the patients with some history before it and without
the outcome before it. Every feature map is fitted label-free on all
patients' histories up to the cut (vocabulary and, for skmed2vec, the code
vectors); then, in each repeat, ``--labels`` patients are drawn (stratified)
as the labelled training set, a logistic regression with inner 3-fold CV
over its ``C`` (``LogisticRegressionCV``, AUROC) is fitted on their rows, and
the AUROC is measured on all the other eligible patients. Every method sees
the same draws, so differences are paired by repeat; intervals are 95%
bootstrap intervals of the mean over repeats.

Tasks: pregnancy, progestin-only pill, implant or injection (first
prescription) and death (a death date after the cut, from ``patients.csv``).
skmed2vec rows: ``TemporalMed2VecEmbedder()`` at its defaults and at the
former defaults (one decay of 0.01, recency block only), vectors fitted with
``--seeds`` seeds cycled over the repeats; rows are standardised.

Baselines (``BagOfCodes``, the same vocabulary ``CodeVocabulary(min_frequency=2)``):
binary and counts (unstandardised and standardised), recency-weighted at
several decays, and binary and count bags over the windows last 30 days /
365 days / all (MEDS-Tab style). The best baseline of each task and label
count is the one with the highest mean AUROC over the repeats, picked on the
test draws themselves: a choice that favours the baselines. The defaults
were chosen on other draws (repeats 500-507 of the same scheme).

Parts (``--parts``): ``synthea`` (the tasks; ``--tasks`` picks some),
``planted`` (``make_cohort(5000, n_groups=36, codes_per_group=100,
n_background=400)``, 200 labelled patients, differences to the best recency
bag), ``pretrained`` (vectors fitted on most Synthea patients, used frozen or
as a warm start on a small held-out cohort's pregnancy task) and
``selection`` (the decay the label-free ``score`` picks against the one the
tasks' AUROC picks) and ``variants`` (other patient rows, tried for the death
task: a history-volume block, a max block, slower recency decays; on the
selection draws, repeats 500 on, not the reported ones).

Run: ``python benchmarks/bench_features.py --data ../shared/data/synthea-ohio-10k
[--repeats 20] [--labels 100 300] [--parts ...] [--tasks ...]``.
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import SHARED_DATA, table, write_results  # noqa: E402

SYNTHEA = SHARED_DATA / "synthea-ohio-10k"
CUT = "2016-01-01"

#: Task name -> outcome codes (a first occurrence after the cut is the label),
#: or "death" (a death date after the cut, from patients.csv).
TASKS = {
    "pregnancy": ["SNOMED:72892002"],  # Normal pregnancy
    "progestin-only pill": [
        "RXNORM:757594",  # Jolivette 28 Day Pack
        "RXNORM:748962",  # Camila 28 Day Pack
        "RXNORM:831533",  # Errin 28 Day Pack
    ],
    "implant or injection": [
        "RXNORM:1111011",  # Nexplanon 68 MG Drug Implant
        "RXNORM:1000128",  # 1 ML Depo-Provera 150 MG/ML Injection
    ],
    "death": "death",
}


def _death_dates(path, ids):
    """Death date of each subject of ``ids`` (NaT if none or unreadable)."""
    patients = pd.read_csv(Path(path) / "patients.csv", dtype=str, keep_default_na=False)
    dates = pd.Series(
        pd.to_datetime(patients["death_date"], format="%Y-%m-%d", errors="coerce").to_numpy(),
        index=patients["pat_id"],
    )
    return dates.reindex(ids).to_numpy()


def synthea_tasks(path=SYNTHEA, cut=CUT, tasks=None):
    """Timelines of all patients cut at ``cut``, and each task's eligible rows and labels.

    Eligible: patients with an event on or before the cut, without the
    outcome on or before it (for death: alive at the cut).
    """
    from skmed2vec import events_to_timelines
    from skmed2vec.datasets import load_synthea_events

    tasks = TASKS if tasks is None else tasks
    events = load_synthea_events(path)
    cut = pd.Timestamp(cut)
    subjects = np.sort(events["subject_id"].unique())
    X, ids = events_to_timelines(events, prediction_times=pd.Series(cut, index=subjects))
    before = events[events["time"] <= cut]
    after = events[events["time"] > cut]
    with_history = np.isin(ids, before["subject_id"].unique())
    out = {}
    for name, codes in tasks.items():
        if codes == "death":
            died = _death_dates(path, ids)
            had = died <= np.datetime64(cut)
            gets = died > np.datetime64(cut)
        else:
            had = np.isin(ids, before.loc[before["code"].isin(codes), "subject_id"].unique())
            gets = np.isin(ids, after.loc[after["code"].isin(codes), "subject_id"].unique())
        rows = np.flatnonzero(with_history & ~had)
        out[name] = (rows, gets[rows].astype(int))
    return X, out


def draw(y, n_labels, rng):
    """Stratified draw of ``n_labels`` training rows (at least 2 of each class)."""
    positive, negative = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    n_pos = int(round(n_labels * len(positive) / len(y)))
    n_pos = min(max(n_pos, 3), len(positive))
    chosen = np.concatenate(
        [
            rng.choice(positive, n_pos, replace=False),
            rng.choice(negative, n_labels - n_pos, replace=False),
        ]
    )
    test = np.setdiff1d(np.arange(len(y)), chosen)
    return chosen, test


def classifier(scale=True):
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(
        StandardScaler(with_mean=False) if scale else "passthrough",
        LogisticRegressionCV(
            Cs=np.logspace(-4, 1, 6),
            cv=StratifiedKFold(3, shuffle=True, random_state=0),
            scoring="roc_auc",
            l1_ratios=(0.0,),
            use_legacy_attributes=False,
            max_iter=2000,
        ),
    )


def auroc_runs(features, y, n_labels, repeats, *, first=0, scale=True):
    """Test AUROC of each repeat's draw (the same draws for every feature set)."""
    from sklearn.metrics import roc_auc_score

    out = []
    for repeat in range(first, first + repeats):
        rng = np.random.default_rng(1000 * n_labels + repeat)
        train, test = draw(y, n_labels, rng)
        model = classifier(scale).fit(features[train], y[train])
        out.append(roc_auc_score(y[test], model.predict_proba(features[test])[:, 1]))
    return np.asarray(out)


def mean_interval(values, n_bootstrap=2000, seed=0):
    values = np.asarray(values, dtype=float)
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), (n_bootstrap, len(values)))].mean(axis=1)
    return float(values.mean()), (
        float(np.quantile(means, 0.025)),
        float(np.quantile(means, 0.975)),
    )


def baselines(decays=(0.001, 0.003, 0.01)):
    """Bag-of-codes feature maps, each with whether its columns are standardised.

    Standardising helps the binary and count bags on some tasks and ruins the
    recency bags on the planted cohort (rare codes' tiny weights blown up:
    AUROC 0.46-0.51 against 0.55-0.65 unscaled), so both are run where it can
    matter and the best counts.
    """
    from skmed2vec import BagOfCodes

    out = {
        "bag binary": (BagOfCodes(weighting="binary"), False),
        "bag binary, standardised": (BagOfCodes(weighting="binary"), True),
        "bag counts": (BagOfCodes(weighting="count"), False),
        "bag counts, standardised": (BagOfCodes(weighting="count"), True),
    }
    for decay in decays:
        out[f"bag recency {decay:g}"] = (BagOfCodes(weighting="recency", time_decay=decay), False)
    windows = [30, 365, None]
    out["bag binary 30/365/all"] = (BagOfCodes(weighting="binary", windows=windows), False)
    out["bag counts 30/365/all"] = (BagOfCodes(weighting="count", windows=windows), False)
    return out


#: skmed2vec rows compared: the defaults, and the former defaults (one decay
#: shared by the pairs and the recency weights, recency block only).
EMBEDDERS = {
    "skmed2vec defaults": {},
    "skmed2vec former defaults": dict(time_decay=0.01, recency_decay=None, aggregation="recency"),
    "skmed2vec defaults, idf-weighted codes": dict(code_weighting="idf"),
}


def embedder_features(encoded, params, seeds):
    """Rows of ``encoded`` from an embedder fitted label-free on it, one per seed."""
    from skmed2vec import TemporalMed2VecEmbedder

    return [
        TemporalMed2VecEmbedder(random_state=seed, **params).fit(encoded).transform(encoded)
        for seed in seeds
    ]


def compare(features, y, labels, repeats, *, first=0, baseline_prefix="bag"):
    """AUROC of every feature set on the same draws; paired differences to the best baseline.

    ``features`` maps a name to ``(matrix or list of matrices, scale)``; a
    list gives repeat ``r`` the matrix ``r % len(list)`` (vectors fitted with
    another seed).
    """
    from sklearn.metrics import roc_auc_score

    runs = {}
    for name, (matrix, scale) in features.items():
        out = []
        for repeat in range(first, first + repeats):
            rng = np.random.default_rng(1000 * labels + repeat)
            train, test = draw(y, labels, rng)
            F = matrix[repeat % len(matrix)] if isinstance(matrix, list) else matrix
            model = classifier(scale).fit(F[train], y[train])
            out.append(roc_auc_score(y[test], model.predict_proba(F[test])[:, 1]))
        runs[name] = np.asarray(out)
    best = max((n for n in runs if n.startswith(baseline_prefix)), key=lambda n: runs[n].mean())
    rows = []
    for name, values in runs.items():
        mean, ci = mean_interval(values)
        diff, diff_ci = mean_interval(values - runs[best])
        rows.append(
            {
                "features": name,
                "auroc": mean,
                "ci": f"[{ci[0]:.3f}, {ci[1]:.3f}]",
                "difference": diff,
                "difference_ci": f"[{diff_ci[0]:+.3f}, {diff_ci[1]:+.3f}]",
                "difference_low": diff_ci[0],
                "difference_high": diff_ci[1],
            }
        )
    return best, rows, {n: v.tolist() for n, v in runs.items()}


COLUMNS = [
    ("features", "features", ""),
    ("auroc", "AUROC", ".3f"),
    ("ci", "95% CI", ""),
    ("difference", "paired difference to the best bag", "+.3f"),
    ("difference_ci", "95% CI", ""),
]


def synthea_part(args):
    from skmed2vec import CodeVocabulary

    X, tasks = synthea_tasks(args.data, tasks={t: TASKS[t] for t in args.tasks})
    encoded = CodeVocabulary(min_frequency=2).fit(X).transform(X)
    print(f"Synthea: {len(X)} patients, {len(encoded.code_names)} codes at min_frequency=2")
    features = {}
    for name, (bag, scale) in baselines().items():
        features[name] = (bag.fit(encoded).transform(encoded).tocsr(), scale)
    for name, params in EMBEDDERS.items():
        features[name] = (embedder_features(encoded, params, range(args.seeds)), True)
    results, verdicts = {}, []
    for task, (rows, y) in tasks.items():
        task_features = {
            n: ([m[rows] for m in F] if isinstance(F, list) else F[rows], s)
            for n, (F, s) in features.items()
        }
        for labels in args.labels:
            best, table_rows, runs = compare(task_features, y, labels, args.repeats)
            results[f"{task}, {labels} labels"] = {
                "patients": len(y),
                "positives": int(y.sum()),
                "best_baseline": best,
                "summary": table_rows,
                "runs": runs,
            }
            default = next(r for r in table_rows if r["features"] == "skmed2vec defaults")
            need = 0.02 if labels <= 100 else -0.005
            verdicts.append(
                {
                    "task": task,
                    "labels": labels,
                    "best_baseline": best,
                    "difference": default["difference"],
                    "difference_ci": default["difference_ci"],
                    "target": f">= {need:+.3f}",
                    "met": default["difference"] >= need,
                }
            )
            print(
                f"\n{task}, {labels} labels ({len(y)} patients, {int(y.sum())} positive); "
                f"best bag: {best}"
            )
            print(table(table_rows, COLUMNS), flush=True)
    return results, verdicts


def _history_volume(encoded):
    """Per patient: log1p of its events, of its distinct codes and of its span in days."""
    X = encoded.up_to_prediction()
    bounds = zip(X.offsets[:-1], X.offsets[1:], strict=True)
    distinct = [len(np.unique(X.codes[a:b])) for a, b in zip(X.offsets[:-1], X.offsets[1:])]
    span = [X.times[b - 1] - X.times[a] if b > a else 0.0 for a, b in bounds]
    return np.log1p(np.column_stack([np.diff(X.offsets), distinct, np.maximum(span, 0.0)]))


def variants_part(args):
    """Row variants aimed at the death task, on the selection draws (repeats 500 on)."""
    from skmed2vec import CodeVocabulary, TemporalMed2VecEmbedder

    X, tasks = synthea_tasks(args.data, tasks={t: TASKS[t] for t in args.tasks})
    encoded = CodeVocabulary(min_frequency=2).fit(X).transform(X)
    features = {
        n: (b.fit(encoded).transform(encoded).tocsr(), s) for n, (b, s) in baselines().items()
    }
    fitted = [TemporalMed2VecEmbedder(random_state=s).fit(encoded) for s in range(args.seeds)]
    default = [f.transform(encoded) for f in fitted]
    volume = _history_volume(encoded)

    defaults = TemporalMed2VecEmbedder().get_params()
    transform_time = {k: defaults[k] for k in ("aggregation", "recency_decay", "code_weighting")}

    def rows(**params):
        """Rows of the fitted embedders with ``params``, the other transform settings at default."""
        return [f.set_params(**{**transform_time, **params}).transform(encoded) for f in fitted]

    features["skmed2vec defaults"] = (default, True)
    features["defaults + history volume"] = ([np.hstack([d, volume]) for d in default], True)
    features["recency + mean + max"] = (rows(aggregation=("recency", "mean", "max")), True)
    features["recency 0.003 + mean"] = (
        rows(aggregation=("recency", "mean"), recency_decay=0.003),
        True,
    )
    features["recency 0.001 + mean"] = (rows(recency_decay=0.001), True)
    slow = rows(recency_decay=0.001, aggregation="recency")
    features["recency 0.01 and 0.001 + mean"] = ([np.hstack(p) for p in zip(default, slow)], True)
    features["idf-weighted recency + mean"] = (rows(code_weighting="idf"), True)
    results = {}
    for task, (eligible, y) in tasks.items():
        task_features = {
            n: ([m[eligible] for m in F] if isinstance(F, list) else F[eligible], s)
            for n, (F, s) in features.items()
        }
        for labels in args.labels:
            best, table_rows, runs = compare(task_features, y, labels, args.repeats, first=500)
            results[f"{task}, {labels} labels"] = {"best_baseline": best, "summary": table_rows}
            print(f"\n{task}, {labels} labels, draws 500-{499 + args.repeats}; best bag: {best}")
            print(table(table_rows, COLUMNS), flush=True)
    return results


def planted_part(args):
    from skmed2vec import CodeVocabulary
    from skmed2vec.datasets import make_cohort

    cohort = make_cohort(
        args.planted_patients, n_groups=36, codes_per_group=100, n_background=400, random_state=0
    )
    encoded = CodeVocabulary(min_frequency=2).fit(cohort.X).transform(cohort.X)
    features = {}
    for name, (bag, scale) in baselines(decays=(0.001, 0.003, 0.01, 0.03, 0.1)).items():
        features[name] = (bag.fit(encoded).transform(encoded).tocsr(), scale)
    for name, params in EMBEDDERS.items():
        features[name] = (embedder_features(encoded, params, range(args.seeds)), True)
    best, rows, runs = compare(features, cohort.y, 200, args.repeats, baseline_prefix="bag recency")
    print(
        f"\nmake_cohort({args.planted_patients}, n_groups=36, codes_per_group=100, "
        f"n_background=400): {len(encoded.code_names)} codes, 200 labels; "
        f"paired differences to the best recency bag ({best})"
    )
    print(table(rows, COLUMNS), flush=True)
    return {"codes": len(encoded.code_names), "best_baseline": best, "summary": rows, "runs": runs}


def pretrained_part(args):
    """Vectors fitted on most patients, used on a small held-out cohort (pregnancy task)."""
    from sklearn.frozen import FrozenEstimator
    from sklearn.pipeline import make_pipeline

    from skmed2vec import BagOfCodes, CodeVocabulary, TemporalMed2VecEmbedder

    X, tasks = synthea_tasks(args.data, tasks={"pregnancy": TASKS["pregnancy"]})
    rows, y = tasks["pregnancy"]
    rng = np.random.default_rng(0)
    held_out = np.zeros(len(X), dtype=bool)
    held_out[rng.choice(len(X), int(args.held_out * len(X)), replace=False)] = True
    big = X[np.flatnonzero(~held_out)]
    keep = held_out[rows]
    small_rows, y_small = rows[keep], y[keep]
    small = X[small_rows]
    features = {}
    bag = make_pipeline(CodeVocabulary(min_frequency=2), BagOfCodes()).fit(small)
    features["bag binary (small cohort)"] = (bag.transform(small).tocsr(), True)
    pretrained, cold, warm = [], [], []
    for seed in range(args.seeds):
        big_model = make_pipeline(
            CodeVocabulary(min_frequency=2), TemporalMed2VecEmbedder(random_state=seed)
        ).fit(big)
        pretrained.append(FrozenEstimator(big_model).transform(small))
        cold_model = make_pipeline(
            CodeVocabulary(min_frequency=2), TemporalMed2VecEmbedder(random_state=seed)
        ).fit(small)
        cold.append(cold_model.transform(small))
        warm_model = make_pipeline(
            CodeVocabulary(min_frequency=2),
            TemporalMed2VecEmbedder(
                random_state=seed, initial_vectors=FrozenEstimator(big_model[-1])
            ),
        ).fit(small)
        warm.append(warm_model.transform(small))
    features["skmed2vec fitted on the big cohort, frozen"] = (pretrained, True)
    features["skmed2vec fitted on the small cohort"] = (cold, True)
    features["skmed2vec warm-started from the big cohort"] = (warm, True)
    best, table_rows, runs = compare(features, y_small, args.small_labels, args.repeats)
    print(
        f"\nPretrained: big cohort {len(big)} patients; held-out cohort {len(small_rows)} "
        f"eligible ({int(y_small.sum())} positive), {args.small_labels} labels"
    )
    print(table(table_rows, COLUMNS), flush=True)
    return {
        "big_patients": len(big),
        "small_patients": len(small_rows),
        "small_positives": int(y_small.sum()),
        "labels": args.small_labels,
        "summary": table_rows,
        "runs": runs,
    }


PARTS = ("synthea", "planted", "pretrained", "selection", "variants")
SELECTION_GRID = [0.0, 0.001, 0.003, 0.01, 0.03, 0.1]


def selection_part(args):
    """The decay the label-free score picks against the one the tasks' AUROC picks.

    One decay for the pairs and the recency weights (``recency_decay=None``,
    ``aggregation="recency"``). Labelled: mean AUROC over the tasks at the
    largest label count, ``--selection-repeats`` draws each. Label-free:
    GridSearchCV with ``score``, 3 folds over all patients.
    """
    from sklearn.model_selection import GridSearchCV, KFold

    from skmed2vec import CodeVocabulary, TemporalMed2VecEmbedder

    X, tasks = synthea_tasks(args.data)
    encoded = CodeVocabulary(min_frequency=2).fit(X).transform(X)
    common = dict(recency_decay=None, aggregation="recency")
    labels = max(args.labels)
    auroc = {}
    for decay in SELECTION_GRID:
        fits = embedder_features(encoded, dict(time_decay=decay, **common), range(args.seeds))
        per_task = []
        for rows, y in tasks.values():
            _, table_rows, _ = compare(
                {"bag": ([F[rows] for F in fits], True)}, y, labels, args.selection_repeats
            )
            per_task.append(table_rows[0]["auroc"])
        auroc[decay] = float(np.mean(per_task))
        print(f"time_decay={decay:g}: mean AUROC over tasks {auroc[decay]:.4f}", flush=True)
    search = GridSearchCV(
        TemporalMed2VecEmbedder(random_state=0, **common),
        {"time_decay": SELECTION_GRID},
        cv=KFold(3, shuffle=True, random_state=0),
    ).fit(encoded)
    scores = dict(zip(SELECTION_GRID, search.cv_results_["mean_test_score"].tolist()))
    picked = search.best_params_["time_decay"]
    labelled = max(auroc, key=auroc.get)
    steps = abs(SELECTION_GRID.index(picked) - SELECTION_GRID.index(labelled))
    rows = [{"time_decay": d, "auroc": auroc[d], "score": scores[d]} for d in SELECTION_GRID]
    print(f"\nSynthea decay selection ({labels} labels, tasks averaged)")
    print(
        table(rows, [("time_decay", "time_decay", "g"), ("auroc", "mean AUROC", ".4f"),
                     ("score", "label-free score", ".4f")])
    )  # fmt: skip
    print(f"score picks {picked}, AUROC picks {labelled}: {steps} grid step(s) apart")
    return {
        "rows": rows,
        "score_picks": picked,
        "auroc_picks": labelled,
        "grid_steps_apart": steps,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SYNTHEA, help="Synthea CSV folder")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--seeds", type=int, default=5, help="vector seeds, cycled over repeats")
    parser.add_argument("--labels", type=int, nargs="+", default=[100, 300])
    parser.add_argument("--planted-patients", type=int, default=5000)
    parser.add_argument("--held-out", type=float, default=0.15)
    parser.add_argument("--small-labels", type=int, default=100)
    parser.add_argument("--selection-repeats", type=int, default=10)
    parser.add_argument(
        "--parts", nargs="+", default=list(PARTS), choices=PARTS,
    )  # fmt: skip
    args = parser.parse_args()
    from threadpoolctl import threadpool_limits

    payload = {"args": {k: str(v) for k, v in vars(args).items()}}
    with threadpool_limits(1):
        if "synthea" in args.parts:
            payload["synthea"], payload["verdicts"] = synthea_part(args)
            print("\nTargets (skmed2vec defaults minus the best bag, paired over repeats):")
            print(
                table(
                    payload["verdicts"],
                    [
                        ("task", "task", ""),
                        ("labels", "labels", ""),
                        ("best_baseline", "best bag", ""),
                        ("difference", "difference", "+.3f"),
                        ("difference_ci", "95% CI", ""),
                        ("target", "target", ""),
                        ("met", "met", ""),
                    ],
                )
            )
        if "planted" in args.parts:
            payload["planted"] = planted_part(args)
        if "pretrained" in args.parts:
            payload["pretrained"] = pretrained_part(args)
        if "selection" in args.parts:
            payload["selection"] = selection_part(args)
        if "variants" in args.parts:
            payload["variants"] = variants_part(args)
    name = "bench_features"
    if len(args.parts) < len(PARTS):
        name += "_" + "_".join(args.parts)
    if "synthea" in args.parts and len(args.tasks) < len(TASKS):
        name += "_" + "_".join(t.split()[0].split("-")[0] for t in args.tasks)
    write_results(name, payload)


if __name__ == "__main__":
    main()
