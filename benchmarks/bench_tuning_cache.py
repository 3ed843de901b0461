"""Tuning without recounting: a 4 x 2 grid (decay x dim), 3 folds, with and without ``memory``.

1. ``GridSearchCV`` of ``TemporalMed2VecEmbedder`` (label-free ``score``) over
   ``time_decay`` in {0, 0.003, 0.01, 0.03} and ``embed_dim`` in {32, 64},
   3 folds, on encoded timelines, once without a cache (every candidate
   counts its pairs: 24 counts + the refit) and once with
   ``memory=<folder>`` (counts per time-gap bin, once per fold + refit).
   Reported: wall time, the number and total time of pair counts, and the
   best parameters of each.
2. The approximation of the gap bins: for each decay of the grid, an embedder
   trained from exact weights and one from binned weights (same seed), and a
   second exact one with another seed (the noise floor). Compared: neighbour
   precision at k=10 against the corpus's planted modules (paired
   difference binned - exact with its bootstrap interval, next to the
   seed-to-seed difference), the relative error of the pair weights, and
   the patient feature rows: the relative Frobenius distance of the patients'
   cosine-similarity matrices (500 patients; rotation-invariant), binned vs
   exact next to seed vs seed.

Data: ``synth_corpus.py`` (``../shared/tools``; a 20,000-code vocabulary in
planted disease modules, daily visits). Run:
``nice -n 10 python benchmarks/bench_tuning_cache.py [--patients 8000]``.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write_results  # noqa: E402
from make_meds_corpus import TOOLS  # noqa: E402

GRID = {"time_decay": [0.0, 0.003, 0.01, 0.03], "embed_dim": [32, 64]}


def corpus(n_patients, vocab, seed=0):
    sys.path.insert(0, str(TOOLS))
    from synth_corpus import make_corpus

    from skmed2vec import CodeVocabulary, Timelines

    c = make_corpus(n_patients=n_patients, vocab_size=vocab, seed=seed)
    names = np.asarray([f"C{i:05d}" for i in range(vocab)], dtype=object)
    X = Timelines(names[c["codes"]], c["days"].astype(np.float64), c["offsets"])
    modules = {names[i]: int(m) for i, m in enumerate(c["module_of"])}
    return CodeVocabulary().fit_transform(X), modules


def timed_counts():
    """Patch count_pairs to record the number and time of the counts."""
    from skmed2vec import _parallel

    calls = []
    real = _parallel.count_pairs

    def count_pairs(*args, **kwargs):
        start = time.perf_counter()
        result = real(*args, **kwargs)
        calls.append(time.perf_counter() - start)
        return result

    _parallel.count_pairs = count_pairs
    return calls, lambda: setattr(_parallel, "count_pairs", real)


def grid_search(X, epochs, memory):
    from sklearn.model_selection import GridSearchCV, KFold

    from skmed2vec import TemporalMed2VecEmbedder

    calls, restore = timed_counts()
    embedder = TemporalMed2VecEmbedder(epochs=epochs, random_state=0, memory=memory)
    search = GridSearchCV(embedder, GRID, cv=KFold(3, shuffle=True, random_state=0))
    start = time.perf_counter()
    search.fit(X)
    wall = time.perf_counter() - start
    restore()
    return {
        "wall_seconds": wall,
        "pair_counts": len(calls),
        "counting_seconds": float(sum(calls)),
        "best_params": search.best_params_,
        "mean_test_score": search.cv_results_["mean_test_score"].tolist(),
        "params": [dict(p) for p in search.cv_results_["params"]],
    }


def approximation(X, modules, epochs, dim):
    from skmed2vec import TemporalMed2VecEmbedder, count_pairs
    from skmed2vec.evaluation import neighbour_precision

    binned = count_pairs(X, time_decay=None)
    rows = []
    for decay in GRID["time_decay"]:
        exact_counts = count_pairs(X, time_decay=decay)
        params = dict(embed_dim=dim, epochs=epochs, time_decay=decay)
        exact = TemporalMed2VecEmbedder(random_state=0, **params).fit_counts(exact_counts)
        other = TemporalMed2VecEmbedder(random_state=1, **params).fit_counts(exact_counts)
        approx = TemporalMed2VecEmbedder(random_state=0, **params).fit_counts(binned)
        e_t, e_c, e_w = exact_counts.pair_weights()
        a_t, a_c, a_w = binned.pair_weights(decay)
        n = X.code_names.size
        e_key, a_key = e_t.astype(np.int64) * n + e_c, a_t.astype(np.int64) * n + a_c
        order = np.argsort(a_key)
        at = order[np.searchsorted(a_key[order], e_key)]
        relative = np.abs(a_w[at] - e_w) / e_w
        precision = {
            name: neighbour_precision(model, modules, k=10)
            for name, model in (("exact", exact), ("binned", approx), ("exact_seed1", other))
        }
        diff, interval = precision["binned"].difference(precision["exact"])
        noise, noise_interval = precision["exact_seed1"].difference(precision["exact"])
        # Patient rows compared through their cosine Gram matrix (500 patients):
        # invariant to the rotations that separate two seeds' vector spaces.
        sample = X[np.linspace(0, len(X) - 1, 500).astype(int)]

        def gram(model, sample=sample):
            rows = model.transform(sample).astype(np.float64)
            rows /= np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
            return rows @ rows.T

        features = {name: gram(m) for name, m in (("e", exact), ("a", approx), ("o", other))}

        def distance(a, b):
            return float(np.linalg.norm(a - b) / np.linalg.norm(b))

        rows.append(
            {
                "time_decay": decay,
                "precision_exact": precision["exact"].precision,
                "precision_binned": precision["binned"].precision,
                "precision_exact_seed1": precision["exact_seed1"].precision,
                "baseline": precision["exact"].baseline,
                "binned_minus_exact": diff,
                "binned_minus_exact_interval": list(interval),
                "seed1_minus_seed0": noise,
                "seed1_minus_seed0_interval": list(noise_interval),
                "weight_relative_error_max": float(relative.max()),
                "weight_relative_error_median": float(np.median(relative)),
                "weight_relative_error_weighted": float(np.abs(a_w[at] - e_w).sum() / e_w.sum()),
                "features_binned_vs_exact": distance(features["a"], features["e"]),
                "features_seed1_vs_seed0": distance(features["o"], features["e"]),
            }
        )
        print(rows[-1], flush=True)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=8000)
    parser.add_argument("--vocab", type=int, default=20_000)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    X, modules = corpus(args.patients, args.vocab)
    print(f"{len(X)} patients, {X.n_events} events, {len(X.code_names)} codes", flush=True)
    results = {
        "settings": vars(args),
        "data": {"patients": len(X), "events": X.n_events, "codes": len(X.code_names)},
    }
    results["without_memory"] = grid_search(X, args.epochs, None)
    print(results["without_memory"], flush=True)
    with tempfile.TemporaryDirectory() as cache:
        results["with_memory"] = grid_search(X, args.epochs, cache)
    print(results["with_memory"], flush=True)
    results["approximation"] = approximation(X, modules, args.epochs, 64)
    write_results("bench_tuning_cache", results)


if __name__ == "__main__":
    main()
