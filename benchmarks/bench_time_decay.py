"""Does time decay help? Downstream AUROC and neighbour precision against time_decay.

On ``make_cohort`` (whose outcome is driven by *recent* risk-group
episodes), each patient becomes a feature row and a LogisticRegression
predicts the outcome; the AUROC is that of out-of-fold probabilities over 5
stratified folds, with a 95% percentile bootstrap interval
(``skmed2vec.evaluation.cross_validated_auc``). Everything that learns from
the data (vocabulary, vectors, classifier) is refitted inside each fold.

Rows: skmed2vec (CodeVocabulary + TemporalMed2VecEmbedder + LR) over a grid
of ``time_decay`` (0 turns decay off, both in the pair weights and in the
recency-weighted patient mean), bags of codes (``BagOfCodes`` + LR: binary,
counts, recency-weighted at each decay of the grid up to 0.1, and binary and
counts over the windows last 30 / 365 days / all) on the same folds, and
gensim Word2Vec mean vectors + LR, and ``TemporalMed2VecEmbedder()`` at its
defaults (dim 128). The decay grid uses one decay for the pairs and the
recency-weighted mean (``recency_decay=None``, ``aggregation="recency"``).
The decay the label-free ``score`` picks
(GridSearchCV over the grid, 3 folds over patients, no label seen) is
compared with the one the AUROC picks. Neighbour
precision@5 against the planted disease groups (each code has 5 same-group
codes, so 1.0 is reachable) is measured on vectors fitted on the whole
cohort, with a 95% bootstrap interval over the query codes. Medians over 3
repetitions (seeds of the folds, the bootstrap and the vectors); the
intervals shown are those of the median run.

Run: ``python benchmarks/bench_time_decay.py [--patients 5000] [--repeats 3]``.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import median, table, write_results  # noqa: E402


def tied(time_decay):
    """One decay for the pairs and the recency-weighted mean (the only block)."""
    return dict(time_decay=time_decay, recency_decay=None, aggregation="recency")


GRID = [0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0]
DIM = 64
K = 5  # make_cohort's codes_per_group - 1: a query's same-group codes


class GensimMeanVectors(TransformerMixin, BaseEstimator):
    """Word2Vec (skip-gram) on the training documents; each row the mean of its vectors."""

    def __init__(self, vector_size=DIM, window=5, negative=5, epochs=5, seed=0):
        self.vector_size = vector_size
        self.window = window
        self.negative = negative
        self.epochs = epochs
        self.seed = seed

    def fit(self, X, y=None):
        from gensim.models import Word2Vec

        self.model_ = Word2Vec(
            [doc.split() for doc in X], vector_size=self.vector_size, window=self.window,
            negative=self.negative, sg=1, min_count=1, workers=2, epochs=self.epochs,
            seed=self.seed,
        )  # fmt: skip
        return self

    def transform(self, X):
        wv = self.model_.wv
        out = np.zeros((len(X), self.vector_size), dtype=np.float32)
        for i, doc in enumerate(X):
            known = [w for w in doc.split() if w in wv.key_to_index]
            if known:
                out[i] = wv[known].mean(axis=0)
        return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from sklearn.model_selection import GridSearchCV, KFold

    from skmed2vec import BagOfCodes, CodeVocabulary, TemporalMed2VecEmbedder
    from skmed2vec.datasets import make_cohort
    from skmed2vec.evaluation import cross_validated_auc, neighbour_precision

    cohort = make_cohort(args.patients, random_state=0)
    X, y = cohort.X, cohort.y
    cut = X.up_to_prediction()
    decoded = cut.decoded_codes().tolist()
    documents = [" ".join(decoded[a:b]) for a, b in zip(cut.offsets[:-1], cut.offsets[1:])]
    print(f"cohort: {len(X)} patients, {X.n_events} events, {y.mean():.0%} positive", flush=True)

    def skmed2vec(time_decay, seed):
        return make_pipeline(
            CodeVocabulary(min_subjects=5),
            TemporalMed2VecEmbedder(embed_dim=DIM, random_state=seed, **tied(time_decay)),
            LogisticRegression(max_iter=2000),
        )

    candidates = [(f"skmed2vec time_decay={td:g}", td) for td in GRID]
    bags = {
        "bag binary": BagOfCodes(weighting="binary"),
        "bag counts": BagOfCodes(weighting="count"),
        **{
            f"bag recency {td:g}": BagOfCodes(weighting="recency", time_decay=td)
            for td in GRID
            if 0 < td <= 0.1
        },
        "bag binary 30/365/all": BagOfCodes(weighting="binary", windows=[30, 365, None]),
        "bag counts 30/365/all": BagOfCodes(weighting="count", windows=[30, 365, None]),
    }
    candidates += [(name, bag) for name, bag in bags.items()]
    candidates += [("gensim mean vectors + LR", "gensim")]
    candidates += [("TemporalMed2VecEmbedder() defaults (dim 128)", "defaults")]
    runs = {name: [] for name, _ in candidates}
    neighbours = {}  # (name, seed) -> NeighbourPrecisionResult, for paired differences
    for seed in range(args.repeats):
        for name, what in candidates:
            start = time.perf_counter()
            if isinstance(what, BagOfCodes):
                estimator = make_pipeline(
                    CodeVocabulary(min_subjects=5), what, LogisticRegression(max_iter=2000)
                )
                data, precision = X, None
            elif what == "defaults":
                estimator = make_pipeline(
                    CodeVocabulary(min_subjects=5),
                    TemporalMed2VecEmbedder(random_state=seed),
                    LogisticRegression(max_iter=2000),
                )
                data, precision = X, None
            elif what == "gensim":
                estimator = make_pipeline(
                    GensimMeanVectors(seed=seed), LogisticRegression(max_iter=2000)
                )
                data = documents
                vectors = GensimMeanVectors(seed=seed).fit(documents).model_
                precision = neighbour_precision(vectors, cohort.groups, k=K)
            else:
                estimator, data = skmed2vec(what, seed), X
                embedder = TemporalMed2VecEmbedder(embed_dim=DIM, random_state=seed, **tied(what))
                precision = neighbour_precision(embedder.fit(X), cohort.groups, k=K)
            if precision is not None:
                neighbours[name, seed] = precision
            result = cross_validated_auc(estimator, data, y, cv=5, random_state=seed)
            runs[name].append(
                {
                    "seed": seed,
                    "auroc": result.auroc,
                    "auroc_ci": list(result.auroc_ci),
                    "auprc": result.auprc,
                    "precision": None if precision is None else precision.precision,
                    "precision_ci": None if precision is None else list(precision.interval()),
                    "seconds": time.perf_counter() - start,
                }
            )
            print(
                f"seed {seed} {name}: AUROC {result.auroc:.3f} "
                f"[{result.auroc_ci[0]:.3f}, {result.auroc_ci[1]:.3f}]"
                + ("" if precision is None else f", P@{K} {precision.precision:.3f}"),
                flush=True,
            )
    rows = []
    for name, results in runs.items():
        ordered = sorted(results, key=lambda r: r["auroc"])
        mid = ordered[len(ordered) // 2]
        precisions = [r["precision"] for r in results if r["precision"] is not None]
        by_precision = sorted(
            (r for r in results if r["precision"] is not None), key=lambda r: r["precision"]
        )
        mid_p = by_precision[len(by_precision) // 2]["precision_ci"] if by_precision else None
        rows.append(
            {
                "features": name,
                "auroc": median([r["auroc"] for r in results]),
                "ci": f"[{mid['auroc_ci'][0]:.3f}, {mid['auroc_ci'][1]:.3f}]",
                "ci_low": mid["auroc_ci"][0],
                "ci_high": mid["auroc_ci"][1],
                "auprc": median([r["auprc"] for r in results]),
                "precision": median(precisions) if precisions else None,
                "precision_ci": mid_p,
                "p_ci": "" if mid_p is None else f"[{mid_p[0]:.3f}, {mid_p[1]:.3f}]",
            }
        )
    decay_rows = [r for r in rows if r["features"].startswith("skmed2vec")]
    best = max(decay_rows[1:], key=lambda r: r["auroc"])
    zero = decay_rows[0]
    bag_rows = [r for r in rows if r["features"].startswith("bag")]
    best_bag = max(bag_rows, key=lambda r: r["auroc"])
    # The label-free choice: GridSearchCV with the embedder's own score, no label seen.
    search = GridSearchCV(
        make_pipeline(
            CodeVocabulary(min_subjects=5),
            TemporalMed2VecEmbedder(
                embed_dim=DIM, random_state=0, recency_decay=None, aggregation="recency"
            ),
        ),
        {"temporalmed2vecembedder__time_decay": GRID},
        cv=KFold(3, shuffle=True, random_state=0),
    ).fit(X)
    picked = search.best_params_["temporalmed2vecembedder__time_decay"]
    labelled = GRID[
        [r["features"] for r in decay_rows].index(
            max(decay_rows, key=lambda r: r["auroc"])["features"]
        )
    ]
    selection = {
        "score_by_decay": dict(
            zip(map(str, GRID), search.cv_results_["mean_test_score"].tolist(), strict=True)
        ),
        "score_picks": picked,
        "auroc_picks": labelled,
        "grid_steps_apart": abs(GRID.index(picked) - GRID.index(labelled)),
    }
    print(f"\nlabel-free score picks time_decay={picked}; AUROC picks {labelled}: {selection}")
    verdict = {
        "best_bag": best_bag["features"],
        "best_bag_auroc": best_bag["auroc"],
        "best": best["features"],
        "best_auroc": best["auroc"],
        "zero_auroc": zero["auroc"],
        "disjoint_intervals": best["ci_low"] > zero["ci_high"],
        "best_precision": best["precision"],
        "zero_precision": zero["precision"],
        # Paired over the query codes, per seed: (difference, (low, high)).
        "precision_difference": [
            neighbours[best["features"], seed].difference(neighbours[zero["features"], seed])
            for seed in range(args.repeats)
        ],
    }
    print()
    print(
        f"make_cohort({args.patients}): {X.n_events:,} events; 5-fold out-of-fold AUROC, "
        f"medians of {args.repeats} repetitions; embed_dim={DIM}"
    )
    print(
        table(
            rows,
            [
                ("features", "features", ""),
                ("auroc", "AUROC", ".3f"),
                ("ci", "95% CI (median run)", ""),
                ("auprc", "AUPRC", ".3f"),
                ("precision", f"P@{K} groups", ".3f"),
                ("p_ci", f"P@{K} 95% CI (median run)", ""),
            ],
        )
    )
    print(f"\nbest decay vs none: {verdict}")
    write_results(
        "bench_time_decay",
        {
            "patients": args.patients,
            "grid": GRID,
            "summary": rows,
            "verdict": verdict,
            "selection": selection,
            "runs": runs,
        },
    )


if __name__ == "__main__":
    main()
