"""``skmed2vec demo``: tune the pipeline on a synthetic cohort and print what it found."""

import time

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline

from .. import BagOfCodes, CodeVocabulary, TemporalMed2VecEmbedder
from ..datasets import make_cohort

__all__ = ["add_parser", "demo", "run"]


def demo(n_patients=3000, n_jobs=2, random_state=0):
    """Tune the pipeline on a synthetic cohort and print what it found."""
    start = time.perf_counter()

    def say(message):
        print(f"[{time.perf_counter() - start:5.1f}s] {message}", flush=True)

    cohort = make_cohort(n_patients, random_state=random_state)
    X, y = cohort.X, cohort.y
    say(f"cohort: {len(X)} patients, {X.n_events} events, {y.mean():.0%} positive")

    pipe = make_pipeline(
        CodeVocabulary(min_subjects=5),
        # One decay for the pair weights and the recency weights of the rows.
        TemporalMed2VecEmbedder(epochs=5, recency_decay=None, random_state=random_state),
        LogisticRegression(max_iter=2000),
    )
    grid = {
        "temporalmed2vecembedder__time_decay": [0.0, 0.003, 0.01, 0.03, 0.1],
        "temporalmed2vecembedder__embed_dim": [16, 64],
    }
    cv = StratifiedKFold(3, shuffle=True, random_state=random_state)
    search = GridSearchCV(pipe, grid, scoring="roc_auc", cv=cv, n_jobs=n_jobs, verbose=1)
    say("tuning time_decay and embed_dim with 3-fold GridSearchCV ...")
    search.fit(X, y)
    best = search.best_params_
    say(
        f"chosen: time_decay={best['temporalmed2vecembedder__time_decay']}, "
        f"embed_dim={best['temporalmed2vecembedder__embed_dim']}"
    )
    results = search.cv_results_
    no_decay = [
        results["mean_test_score"][i]
        for i, p in enumerate(results["params"])
        if p["temporalmed2vecembedder__time_decay"] == 0.0
    ]
    baselines = {
        "bag of codes (binary) + LR": BagOfCodes(),
        "recency-weighted bag (0.01/day) + LR": BagOfCodes(weighting="recency", time_decay=0.01),
    }
    baselines = {
        name: cross_val_score(
            make_pipeline(bag, LogisticRegression(max_iter=2000)), X, y, scoring="roc_auc", cv=cv
        ).mean()
        for name, bag in baselines.items()
    }
    print()
    print(f"{'features':<40}{'CV AUROC':>10}")
    print(f"{'skmed2vec, tuned':<40}{search.best_score_:>10.3f}")
    print(f"{'skmed2vec, time_decay=0 (best dim)':<40}{max(no_decay):>10.3f}")
    for name, score in baselines.items():
        print(f"{name:<40}{score:>10.3f}")
    print()
    embedder = search.best_estimator_.named_steps["temporalmed2vecembedder"]
    print("nearest neighbours (cosine):")
    for group in cohort.risk_groups[:1] + sorted(set(cohort.groups.values()))[-2:]:
        code = next(c for c, g in sorted(cohort.groups.items()) if g == group)
        if code not in embedder.vocabulary_:
            continue
        neighbours = ", ".join(f"{c} {s:.2f}" for c, s in embedder.most_similar(code, topn=5))
        print(f"  {code:<8} -> {neighbours}")
    say("done")
    return search


def add_parser(commands):
    parser = commands.add_parser(
        "demo",
        help="tune the pipeline on a synthetic cohort",
        description="Generate a synthetic cohort, tune time_decay and embed_dim with "
        "GridSearchCV, and print the cross-validated AUROC next to two bag-of-codes "
        "baselines, and nearest neighbours.",
    )
    parser.add_argument("--patients", type=int, default=3000, help="cohort size (default 3000)")
    parser.add_argument("--n-jobs", type=int, default=2, help="GridSearchCV processes (default 2)")
    parser.add_argument("--random-state", type=int, default=0, help="seed (default 0)")
    parser.set_defaults(run=run)
    return parser


def run(args):
    np.set_printoptions(precision=3)
    demo(args.patients, n_jobs=args.n_jobs, random_state=args.random_state)
    return 0
