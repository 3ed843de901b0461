"""Embedding quality on Synthea: skmed2vec, gensim and a PPMI + SVD count baseline.

On the Synthea Ohio extract (conditions, medications, care plans and
allergies as one timeline per patient), each method learns 128-dimensional
code vectors; we report

- neighbour precision@10 against Synthea's module map (codes emitted by the
  same disease module are related), with its frequency-matched random
  baseline;
- drug -> indication recall@10: the share of (drug, reason) pairs of the
  medications table whose indication is among the drug's 10 nearest codes.

Methods, at each number of epochs asked for (5 and 10 by default):
skmed2vec (window 5, 5 negatives) at each ``time_decay`` of a grid, and at
the ``time_decay`` its label-free ``score`` picks in a 3-fold GridSearchCV
over patients (no metric below is looked at to choose it); gensim Word2Vec
(skip-gram, window 5, 5 negatives, the same epochs, ``min_count=1`` so every
code gets a vector); and a
count baseline: time-weighted co-occurrences in the same window (each pair
weighted ``exp(-time_decay * days)``), positive PMI with context counts
raised to 0.75, then TruncatedSVD (vectors ``U * sqrt(S)``). Medians over
the seeds; the 95% intervals are bootstraps over the query codes (P@10) and
the pairs (R@10) of the median run.

gensim runs twice at each number of epochs: at its defaults (``sample=1e-3``
downsamples frequent codes) and with ``sample=0``. skmed2vec is compared with
both, paired: P@10 over the query codes (``NeighbourPrecisionResult.difference``)
and R@10 over the indication pairs (bootstrap of the per-pair hit differences),
per seed.

Data: ``../shared/data/synthea-ohio-10k`` (the Synthea Ohio extract) and
``../shared/data/synthea-modules`` (Synthea's module map), shipped beside the
repository (their ``SOURCE.md`` says where they come from); ``--data`` points
at another folder holding both.

Run: ``python benchmarks/bench_quality.py [--seeds 0 1 2] [--epochs 5 10] [--data PATH]``.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import SHARED_DATA, median, table, write_results  # noqa: E402

SYNTHEA = SHARED_DATA / "synthea-ohio-10k"
MODULES = SHARED_DATA / "synthea-modules"
WINDOW, NEGATIVE, DIM = 5, 5, 128


def ppmi_svd(encoded, *, time_decay, dim, seed, window=WINDOW, smoothing=0.75):
    """Vectors from time-weighted positive PMI of window co-occurrences, by SVD."""
    from sklearn.decomposition import TruncatedSVD

    from skmed2vec._pairs import PairTotals, window_weights

    n = len(encoded.code_names)
    totals = PairTotals(n)
    for left, right, weights in window_weights(
        encoded.codes, encoded.times, encoded.lengths, window, time_decay
    ):
        totals.add(left, right, weights)
    targets, contexts, weights = totals.result()
    counts = sp.csr_matrix((weights, (targets, contexts)), shape=(n, n))
    row = np.asarray(counts.sum(axis=1)).ravel()
    col = np.asarray(counts.sum(axis=0)).ravel() ** smoothing
    coo = counts.tocoo()
    # log P(t, c) / (P(t) P_0.75(c)), with P_0.75(c) = N(c)^0.75 / sum N^0.75.
    pmi = np.log(coo.data * col.sum() / (row[coo.row] * col[coo.col]))
    keep = pmi > 0
    ppmi = sp.csr_matrix((pmi[keep], (coo.row[keep], coo.col[keep])), shape=(n, n))
    svd = TruncatedSVD(min(dim, n - 1), algorithm="randomized", random_state=seed)
    u = svd.fit_transform(ppmi)  # U * S
    return u / np.sqrt(np.maximum(svd.singular_values_, 1e-12))  # U * sqrt(S)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=SHARED_DATA, help="folder holding the two Synthea folders"
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, nargs="+", default=[5, 10])
    parser.add_argument("--decays", type=float, nargs="+", default=[0.0, 0.001, 0.003, 0.01])
    args = parser.parse_args()

    from gensim.models import Word2Vec
    from sklearn.model_selection import GridSearchCV, KFold

    from skmed2vec import CodeVocabulary, TemporalMed2VecEmbedder, events_to_timelines
    from skmed2vec.datasets import (
        load_synthea_events,
        load_synthea_indications,
        load_synthea_modules,
    )
    from skmed2vec.evaluation import neighbour_precision, recall_at_k

    synthea, module_map = args.data / SYNTHEA.name, args.data / MODULES.name
    events = load_synthea_events(synthea)
    X, _ = events_to_timelines(events)
    modules = load_synthea_modules(module_map)
    indications = load_synthea_indications(synthea)[["drug", "indication"]]
    encoded = CodeVocabulary().fit_transform(X).up_to_prediction()
    codes = np.asarray(encoded.code_names)
    counts = np.bincount(encoded.codes, minlength=len(codes))
    raw = X.up_to_prediction()
    decoded = raw.decoded_codes().tolist()
    sentences = [decoded[a:b] for a, b in zip(raw.offsets[:-1], raw.offsets[1:], strict=True)]
    corpus = {
        "patients": int((X.lengths > 0).sum()),
        "events": X.n_events,
        "codes": len(codes) - 1,
        "indication_pairs": len(indications),
        "module_codes": len(modules),
    }
    print(f"corpus: {corpus}", flush=True)

    def skmed2vec(time_decay, epochs):
        def fit(seed):
            emb = TemporalMed2VecEmbedder(
                embed_dim=DIM, window=WINDOW, negative=NEGATIVE, epochs=epochs,
                time_decay=time_decay, random_state=seed,
            )  # fmt: skip
            return emb.fit(X)

        return fit

    def chosen_by_score(epochs):
        search = GridSearchCV(
            TemporalMed2VecEmbedder(
                embed_dim=DIM,
                window=WINDOW,
                negative=NEGATIVE,
                epochs=epochs,
                random_state=0,
                recency_decay=None,  # the rows the score builds decay like the pairs
            ),
            {"time_decay": args.decays},
            cv=KFold(3, shuffle=True, random_state=0),
        ).fit(X)
        decay = search.best_params_["time_decay"]
        print(f"{epochs} epochs: score picks time_decay={decay}", flush=True)
        return decay

    def gensim(epochs, **options):
        def fit(seed):
            return Word2Vec(
                sentences, vector_size=DIM, window=WINDOW, negative=NEGATIVE, sg=1, workers=2,
                min_count=1, epochs=epochs, seed=seed, **options,
            )  # fmt: skip

        return fit

    def ppmi(time_decay):
        def fit(seed):
            vectors = ppmi_svd(encoded, time_decay=time_decay, dim=DIM, seed=seed)
            return (vectors, codes, counts)

        return fit

    methods = {}
    for epochs in args.epochs:
        picked = chosen_by_score(epochs)
        methods[f"skmed2vec, {epochs} ep, time_decay={picked} (picked by score)"] = skmed2vec(
            picked, epochs
        )
        for decay in args.decays:
            methods[f"skmed2vec, {epochs} ep, time_decay={decay}"] = skmed2vec(decay, epochs)
        methods[f"gensim Word2Vec, {epochs} ep"] = gensim(epochs)
        methods[f"gensim Word2Vec sample=0, {epochs} ep"] = gensim(epochs, sample=0)
    methods["PPMI + SVD (time_decay=0.01)"] = ppmi(0.01)
    methods["PPMI + SVD (no decay)"] = ppmi(0.0)
    runs = {name: [] for name in methods}
    neighbours = {}  # (method, seed) -> NeighbourPrecisionResult, for paired differences
    hits = {}  # (method, seed) -> per-pair recall hits, same pairs for every method
    for seed in args.seeds:
        for name, fit in methods.items():
            start = time.perf_counter()
            model = fit(seed)
            seconds = time.perf_counter() - start
            np_result = neighbour_precision(model, modules, k=10)
            neighbours[name, seed] = np_result
            recall = recall_at_k(model, indications, k=10)
            hits[name, seed] = recall.hits
            runs[name].append(
                {
                    "seed": seed,
                    "seconds": seconds,
                    "precision": np_result.precision,
                    "precision_ci": list(np_result.interval()),
                    "baseline": np_result.baseline,
                    "n_queries": np_result.n_queries,
                    "recall": recall.recall,
                    "recall_ci": list(recall.interval()),
                    "n_pairs": recall.n_pairs,
                }
            )
            print(
                f"seed {seed} {name}: P@10 {np_result.precision:.3f} "
                f"(random {np_result.baseline:.3f}, {np_result.n_queries} queries), "
                f"R@10 {recall.recall:.3f} ({recall.n_pairs} pairs), {seconds:.1f}s",
                flush=True,
            )

    def value_range(results, key):
        return f"{min(r[key] for r in results):.3f}-{max(r[key] for r in results):.3f}"

    def median_run_ci(results, key):
        ordered = sorted(results, key=lambda r: r[key])
        low, high = ordered[len(ordered) // 2][f"{key}_ci"]
        return f"[{low:.3f}, {high:.3f}]"

    rows = []
    for name, results in runs.items():
        rows.append(
            {
                "method": name,
                "precision": median([r["precision"] for r in results]),
                "precision_range": value_range(results, "precision"),
                "precision_ci": median_run_ci(results, "precision"),
                "baseline": median([r["baseline"] for r in results]),
                "recall": median([r["recall"] for r in results]),
                "recall_range": value_range(results, "recall"),
                "recall_ci": median_run_ci(results, "recall"),
                "seconds": median([r["seconds"] for r in results]),
            }
        )
    print()
    print(
        f"Synthea: {corpus['patients']:,} patients, {corpus['events']:,} events, "
        f"{corpus['codes']} codes; medians over seeds {args.seeds}"
    )
    print(
        table(
            rows,
            [
                ("method", "method", ""),
                ("precision", "module P@10", ".3f"),
                ("precision_range", "range", ""),
                ("precision_ci", "95% CI", ""),
                ("baseline", "random P@10", ".3f"),
                ("recall", "indication R@10", ".3f"),
                ("recall_range", "range", ""),
                ("recall_ci", "95% CI", ""),
                ("seconds", "fit s", ".2f"),
            ],
        )
    )
    # Time decay against none, query by query (paired), per seed.
    paired = []
    for epochs in args.epochs:
        zero = f"skmed2vec, {epochs} ep, time_decay=0.0"
        for decay in args.decays:
            name = f"skmed2vec, {epochs} ep, time_decay={decay}"
            if decay == 0 or zero not in methods:
                continue
            diffs = [neighbours[name, s].difference(neighbours[zero, s]) for s in args.seeds]
            mid = sorted(diffs)[len(diffs) // 2]
            paired.append(
                {
                    "comparison": f"{epochs} ep: time_decay={decay} - time_decay=0",
                    "difference": median([d for d, _ in diffs]),
                    "ci": f"[{mid[1][0]:+.3f}, {mid[1][1]:+.3f}]",
                    "excludes_zero": f"{sum(low > 0 or high < 0 for _, (low, high) in diffs)}"
                    f"/{len(diffs)}",
                }
            )
    print()
    print("Module P@10, paired over query codes: difference against time_decay=0")
    print(
        table(
            paired,
            [
                ("comparison", "comparison", ""),
                ("difference", "P@10 difference", "+.3f"),
                ("ci", "95% CI (median seed)", ""),
                ("excludes_zero", "seeds whose CI excludes 0", ""),
            ],
        )
    )
    # Against gensim at equal epochs, paired over query codes (P@10) and pairs (R@10).
    against = []
    for epochs in args.epochs:
        ours = [f"skmed2vec, {epochs} ep, time_decay={d}" for d in args.decays]
        theirs = [f"gensim Word2Vec, {epochs} ep", f"gensim Word2Vec sample=0, {epochs} ep"]
        for name in ours:
            for other in theirs:
                p_diffs = [neighbours[name, s].difference(neighbours[other, s]) for s in args.seeds]
                r_diffs = [
                    paired_mean(hits[name, s].astype(float) - hits[other, s].astype(float))
                    for s in args.seeds
                ]
                p_mid = sorted(p_diffs)[len(p_diffs) // 2]
                r_mid = sorted(r_diffs)[len(r_diffs) // 2]
                against.append(
                    {
                        "comparison": f"{name.split(', ', 1)[1]} - {other}",
                        "precision_difference": median([d for d, _ in p_diffs]),
                        "precision_ci": f"[{p_mid[1][0]:+.3f}, {p_mid[1][1]:+.3f}]",
                        "precision_above": sum(low > 0 for _, (low, _h) in p_diffs),
                        "precision_below": sum(high < 0 for _, (_l, high) in p_diffs),
                        "recall_difference": median([d for d, _ in r_diffs]),
                        "recall_ci": f"[{r_mid[1][0]:+.3f}, {r_mid[1][1]:+.3f}]",
                        "recall_above": sum(low > 0 for _, (low, _h) in r_diffs),
                        "recall_below": sum(high < 0 for _, (_l, high) in r_diffs),
                    }
                )
    print()
    print("Against gensim, paired: P@10 over query codes, R@10 over indication pairs")
    print(
        table(
            against,
            [
                ("comparison", "skmed2vec - gensim", ""),
                ("precision_difference", "P@10 diff", "+.3f"),
                ("precision_ci", "95% CI (median seed)", ""),
                ("precision_above", "seeds CI > 0", ""),
                ("precision_below", "seeds CI < 0", ""),
                ("recall_difference", "R@10 diff", "+.3f"),
                ("recall_ci", "95% CI (median seed)", ""),
                ("recall_above", "seeds CI > 0", ""),
                ("recall_below", "seeds CI < 0", ""),
            ],
        )
    )
    write_results(
        "bench_quality",
        {
            "corpus": corpus,
            "summary": rows,
            "paired": paired,
            "against_gensim": against,
            "runs": runs,
        },
    )


def paired_mean(differences, n_bootstrap=1000, seed=0):
    """Mean of paired differences and its 95% percentile bootstrap interval."""
    differences = np.asarray(differences, dtype=float)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, differences.size, (n_bootstrap, differences.size))
    means = differences[draws].mean(axis=1)
    low, high = np.quantile(means, [0.025, 0.975])
    return float(differences.mean()), (float(low), float(high))


if __name__ == "__main__":
    main()
