"""Training speed and memory: skmed2vec against gensim's Word2Vec on one corpus.

Both learn 128-dimensional skip-gram vectors with a window of 5 and 5
negatives (gensim with ``workers=2``) from the same ``make_cohort`` timelines
(events up to each prediction time). Each method runs in its own subprocess,
so peak memory does not mix, and the methods alternate (A B B A ...) so that
drifting machine speed hits both alike.

Reported per method (medians over the rounds):

- pairs/s: raw ordered window pairs of the corpus (each of the ``window``
  events on both sides of every event) times the epochs run, divided by the
  wall time of training;
- the wall time to reach gensim's final neighbour precision@10 (against the
  cohort's planted disease groups). skmed2vec is fitted with ``epochs=1, 2,
  ...`` (the same seed, so each is a prefix of the next) and the first fit
  that reaches the target counts, its whole ``fit`` (vocabulary included);
  gensim counts ``build_vocab`` and all its epochs;
- peak RSS of the subprocess (psutil, sampled every 5 ms), and the peak
  above the RSS once the imports were done and the corpus was loaded (for
  gensim, its token lists included). The gensim process imports no torch.

A third row, "skmed2vec-encoded", is fitted on timelines already encoded by
a ``CodeVocabulary`` (applied before the measurement), to separate the
vocabulary's cost from the embedder's.

Run: ``python benchmarks/bench_speed.py [--rounds 3] [--patients 100000]``.
"""

import argparse
import json
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import PeakRSS, median, rss_mb, table, write_results  # noqa: E402

WINDOW, NEGATIVE, DIM, GENSIM_WORKERS = 5, 5, 128, 2


# -- workers (run in subprocesses) ---------------------------------------------
def _load(path):
    with open(path, "rb") as f:
        return pickle.load(f)


def _without_torch():
    """Import skmed2vec's submodules without its package (which loads torch).

    The gensim process needs only the evaluation functions and the timelines
    container; torch's runtime would add some 300 MB to gensim's memory.
    """
    import importlib.util
    import types

    spec = importlib.util.find_spec("skmed2vec")
    parent = types.ModuleType("skmed2vec")
    parent.__path__ = list(spec.submodule_search_locations)
    sys.modules["skmed2vec"] = parent


def worker_gensim(data_path, epochs, seed):
    _without_torch()
    from gensim.models import Word2Vec

    from skmed2vec.evaluation import neighbour_precision

    data = _load(data_path)
    X = data["X"].up_to_prediction()
    codes = X.decoded_codes().tolist()
    sentences = [codes[a:b] for a, b in zip(X.offsets[:-1], X.offsets[1:], strict=True)]
    del codes
    loaded = rss_mb()
    curve, elapsed = [], 0.0
    with PeakRSS() as peak:
        start = time.perf_counter()
        model = Word2Vec(
            vector_size=DIM, window=WINDOW, negative=NEGATIVE, sg=1, workers=GENSIM_WORKERS,
            min_count=1, seed=seed, epochs=epochs,
        )  # fmt: skip
        model.build_vocab(sentences)
        elapsed += time.perf_counter() - start
        alpha, min_alpha = model.alpha, model.min_alpha
        for epoch in range(epochs):
            # gensim's own linear decay over `epochs`, one epoch per call.
            start = time.perf_counter()
            model.train(
                sentences,
                total_examples=len(sentences),
                epochs=1,
                start_alpha=alpha - (alpha - min_alpha) * epoch / epochs,
                end_alpha=alpha - (alpha - min_alpha) * (epoch + 1) / epochs,
            )
            elapsed += time.perf_counter() - start
            precision = neighbour_precision(model, data["groups"]).precision
            curve.append({"epoch": epoch + 1, "seconds": elapsed, "precision": precision})
    assert "torch" not in sys.modules
    return {"curve": curve, "loaded_mb": loaded, "peak_mb": peak.peak}


def worker_skmed2vec(data_path, epochs, seed, encoded=False):
    from skmed2vec import CodeVocabulary, TemporalMed2VecEmbedder
    from skmed2vec.evaluation import neighbour_precision

    data = _load(data_path)
    if encoded:  # the vocabulary applied beforehand, outside the measurement
        data["X"] = CodeVocabulary().fit_transform(data["X"])
    loaded = rss_mb()
    curve = []
    with PeakRSS() as peak:
        for n_epochs in range(1, epochs + 1):
            embedder = TemporalMed2VecEmbedder(
                embed_dim=DIM, window=WINDOW, negative=NEGATIVE, epochs=n_epochs,
                random_state=seed,
            )  # fmt: skip
            start = time.perf_counter()
            embedder.fit(data["X"])
            seconds = time.perf_counter() - start
            precision = neighbour_precision(embedder, data["groups"]).precision
            curve.append({"epoch": n_epochs, "seconds": seconds, "precision": precision})
            del embedder
    return {"curve": curve, "loaded_mb": loaded, "peak_mb": peak.peak}


def worker_skmed2vec_encoded(data_path, epochs, seed):
    return worker_skmed2vec(data_path, epochs, seed, encoded=True)


WORKERS = {
    "gensim": worker_gensim,
    "skmed2vec": worker_skmed2vec,
    "skmed2vec-encoded": worker_skmed2vec_encoded,
}


def run_worker(method, data_path, epochs, seed):
    done = subprocess.run(
        [sys.executable, __file__, "--worker", method, "--data", str(data_path),
         "--epochs", str(epochs), "--seed", str(seed)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"{method} worker failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- driver --------------------------------------------------------------------
def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--groups", type=int, default=8, help="make_cohort n_groups")
    parser.add_argument("--codes-per-group", type=int, default=6)
    parser.add_argument("--name", default="bench_speed")
    parser.add_argument("--worker", choices=sorted(WORKERS))
    parser.add_argument("--data")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(WORKERS[args.worker](args.data, args.epochs, args.seed)))
        return

    from skmed2vec._pairs import window_pairs
    from skmed2vec.datasets import make_cohort

    cohort = make_cohort(
        args.patients, n_groups=args.groups, codes_per_group=args.codes_per_group,
        random_state=0,
    )  # fmt: skip
    X = cohort.X.up_to_prediction()
    encoded = np.unique(X.codes, return_inverse=True)[1].ravel()
    left, _, _ = window_pairs(encoded, X.times, X.lengths, WINDOW)
    raw_pairs = 2 * len(left)  # ordered pairs per epoch
    n_codes = len(set(X.codes.tolist()))
    corpus = {
        "patients": len(X), "events": X.n_events, "codes": n_codes,
        "raw_pairs_per_epoch": raw_pairs, "groups": args.groups,
        "codes_per_group": args.codes_per_group,
    }  # fmt: skip
    print(f"corpus: {corpus}", flush=True)

    runs = {method: [] for method in WORKERS}
    with tempfile.TemporaryDirectory() as tmp:
        data_path = Path(tmp) / "cohort.pkl"
        with open(data_path, "wb") as f:
            pickle.dump({"X": cohort.X, "groups": cohort.groups}, f)
        del cohort, X, encoded, left
        for r in range(args.rounds):
            order = list(WORKERS) if r % 2 == 0 else list(WORKERS)[::-1]
            for method in order:
                result = run_worker(method, data_path, args.epochs, seed=r)
                runs[method].append(result)
                final = result["curve"][-1]
                print(
                    f"round {r + 1} {method}: {final['seconds']:.1f}s for {args.epochs} epochs, "
                    f"precision {[round(c['precision'], 3) for c in result['curve']]}, "
                    f"peak {result['peak_mb']:.0f} MB",
                    flush=True,
                )

    rows = []
    for r, g in enumerate(runs["gensim"]):
        target = g["curve"][-1]["precision"]
        g["target"], g["to_target"] = target, g["curve"][-1]
        for method in ("skmed2vec", "skmed2vec-encoded"):
            s = runs[method][r]
            reached = [c for c in s["curve"] if c["precision"] >= target - 1e-12]
            s["target"] = target
            s["to_target"] = reached[0] if reached else None
    summary = []
    for method in WORKERS:
        results = runs[method]
        last = [res["curve"][-1] for res in results]
        hit = [res["to_target"] for res in results if res["to_target"] is not None]
        summary.append(
            {
                "method": method,
                "epochs_full": args.epochs,
                "pairs_per_s": median([raw_pairs * c["epoch"] / c["seconds"] for c in last]),
                "seconds_full": median([c["seconds"] for c in last]),
                "precision_full": median([c["precision"] for c in last]),
                "reached": f"{len(hit)}/{len(results)}",
                "seconds_to_target": median([c["seconds"] for c in hit]) if hit else None,
                "epochs_to_target": median([c["epoch"] for c in hit]) if hit else None,
                "peak_mb": median([res["peak_mb"] for res in results]),
                "peak_above_data_mb": median(
                    [res["peak_mb"] - res["loaded_mb"] for res in results]
                ),
            }
        )
    ref = summary[0]
    for row in summary:
        row["time_ratio"] = (
            row["seconds_to_target"] / ref["seconds_to_target"]
            if row["seconds_to_target"] is not None
            else None
        )
        row["memory_ratio"] = row["peak_mb"] / ref["peak_mb"]
        rows.append(row)
    print()
    print(
        f"{corpus['patients']:,} patients, {corpus['events']:,} events, {corpus['codes']} codes, "
        f"{raw_pairs:,} ordered window pairs per epoch; target = gensim's final precision@10 "
        f"(median {median([r['target'] for r in runs['skmed2vec']]):.3f}); "
        f"medians of {args.rounds} alternating rounds"
    )
    print(
        table(
            rows,
            [
                ("method", "method", ""),
                ("pairs_per_s", "pairs/s", ",.0f"),
                ("seconds_full", f"s for {args.epochs} epochs", ".1f"),
                ("precision_full", f"P@10 after {args.epochs}", ".3f"),
                ("epochs_to_target", "epochs to target", ".0f"),
                ("seconds_to_target", "s to target", ".1f"),
                ("time_ratio", "time / gensim", ".2f"),
                ("peak_mb", "peak RSS MB", ".0f"),
                ("peak_above_data_mb", "peak above data MB", ".0f"),
                ("memory_ratio", "RSS / gensim", ".2f"),
            ],
        )
    )
    write_results(args.name, {"corpus": corpus, "summary": rows, "runs": runs})


if __name__ == "__main__":
    main()
