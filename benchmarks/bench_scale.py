"""Scaling with the vocabulary: per-step time and memory, and transform throughput.

1. Per-step cost at vocabularies of 20,000 and 350,000 codes (dim 128): one
   optimiser step on a batch of 1,024 random (target, context) pairs with
   their shared negatives (``run_epoch``), as distinct rows/s, and the time
   of the step's three matrix products alone (the compute floor of a step),
   each vocabulary in its own
   subprocess. Reported: median milliseconds per step (3 repeats of 30
   steps), the RSS once the two tables and the optimiser state exist, the
   peak RSS while stepping and the difference (what a step costs above the
   tables), and the process's peak RSS.
2. An end-to-end ``fit`` (``--fit-epochs``, default 1) on a synthetic corpus
   with a 350,000-code vocabulary (Zipf code frequencies; its distinct pairs,
   about 10 million, are held across epochs), against gensim's ``Word2Vec``
   (skip-gram, dim 128, window 5, 5 negatives, 2 workers; skmed2vec with
   ``n_jobs=2``) at equal epochs on the same codes as string tokens,
   alternating, 2 rounds: wall time, distinct rows/s of the trainer and peak
   RSS.
3. ``transform`` throughput on ``make_cohort(100_000)`` (about 3.7 million
   events): from raw timelines (the vocabulary lookup of the code strings
   included) and from timelines already encoded by the fitted vocabulary.

Run: ``python benchmarks/bench_scale.py [--fit-events 1000000]``.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    PeakRSS,
    capture_epoch_lines,
    epoch_rate,
    max_rss_mb,
    median,
    rss_mb,
    table,
    write_results,
)

DIM, BATCH, STEPS, REPEATS = 128, 1024, 30, 3


def worker_steps(n_codes):
    import torch

    from skmed2vec._core import RowwiseAdagrad, TemporalMed2Vec
    from skmed2vec._core._training import SHARED_POOL, negative_cdf, run_epoch, torch_threads

    start_mb = rss_mb()
    generator = torch.Generator().manual_seed(0)
    model = TemporalMed2Vec(n_codes, DIM, generator=generator)
    optimizer = RowwiseAdagrad(model.parameters(), lr=0.2)
    counts = 1.0 / np.arange(1, n_codes + 1)
    cdf = negative_cdf(counts)
    n = BATCH * STEPS
    data = {
        "targets": torch.randint(0, n_codes, (n,), generator=generator, dtype=torch.int32),
        "contexts": torch.randint(0, n_codes, (n,), generator=generator, dtype=torch.int32),
        "weights": torch.rand(n, generator=generator),
    }
    kwargs = dict(
        objective="negative_sampling", batch_size=BATCH, negative=5, cdf=cdf, generator=generator
    )
    with torch_threads(1):
        # One step first: the optimiser state is created lazily.
        first = {k: v[:BATCH] for k, v in data.items()}
        run_epoch(model, optimizer, first, **kwargs)
        tables_mb = rss_mb()
        times = []
        with PeakRSS() as peak:
            for _ in range(REPEATS):
                start = time.perf_counter()
                run_epoch(model, optimizer, data, **kwargs)
                times.append((time.perf_counter() - start) / STEPS * 1e3)
        # The floor of a step: its three matrix products with the shared
        # negatives (scores, and the gradients of targets and negatives).
        u = torch.randn(BATCH, DIM, generator=generator)
        negatives = torch.randn(5 * SHARED_POOL, DIM, generator=generator)
        grad = torch.randn(BATCH, 5 * SHARED_POOL, generator=generator)
        gemm = []
        for _ in range(REPEATS):
            start = time.perf_counter()
            for _ in range(STEPS):
                u @ negatives.T, grad @ negatives, grad.T @ u
            gemm.append((time.perf_counter() - start) / STEPS * 1e3)
    table_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
    state_bytes = sum(s["sum"].numel() * s["sum"].element_size() for s in optimizer.state.values())
    return {
        "n_codes": n_codes,
        "ms_per_step": median(times),
        "rows_per_s": BATCH / median(times) * 1e3,
        "gemm_ms_per_step": median(gemm),
        "gemm_bound_rows_per_s": BATCH / median(gemm) * 1e3,
        "ms_per_step_all": times,
        "model_mb": (table_bytes + state_bytes) / 2**20,
        "rss_start_mb": start_mb,
        "rss_tables_mb": tables_mb,
        "rss_peak_mb": peak.peak,
        "step_above_tables_mb": peak.peak - tables_mb,
        "max_rss_mb": max_rss_mb(),
    }


def worker_fit(n_codes, n_events, epochs=1, method="skmed2vec"):
    from skmed2vec._timelines import Timelines

    rng = np.random.default_rng(0)
    lengths = rng.poisson(30, n_events // 30)
    n = int(lengths.sum())
    zipf = 1.0 / np.arange(1, n_codes + 1) ** 1.05
    codes = rng.choice(n_codes, size=n, p=zipf / zipf.sum())
    times = np.concatenate([np.sort(rng.integers(0, 3000, k)) for k in lengths]).astype(float)
    names = np.array([f"C{i}" for i in range(n_codes)], dtype=object)
    X = Timelines(
        codes, times, np.concatenate([[0], np.cumsum(lengths)]), code_names=names,
        presorted=True,
    )  # fmt: skip
    if method == "gensim":
        from gensim.models import Word2Vec

        tokens = names[codes].tolist()
        offsets = np.concatenate([[0], np.cumsum(lengths)]).tolist()
        sentences = [tokens[a:b] for a, b in zip(offsets[:-1], offsets[1:], strict=True)]
        del tokens, X
        loaded = rss_mb()
        with PeakRSS() as peak:
            start = time.perf_counter()
            Word2Vec(
                sentences, vector_size=DIM, window=5, negative=5, sg=1, workers=2,
                min_count=1, epochs=epochs, seed=0,
            )  # fmt: skip
            seconds = time.perf_counter() - start
        rows_per_s = None
    else:
        import skmed2vec._trainer  # noqa: F401  (torch, imported before timing as gensim is)
        from skmed2vec import TemporalMed2VecEmbedder

        loaded = rss_mb()
        messages = []
        embedder = TemporalMed2VecEmbedder(embed_dim=DIM, epochs=epochs, random_state=0, n_jobs=2)
        capture_epoch_lines(messages)
        with PeakRSS() as peak:
            start = time.perf_counter()
            embedder.fit(X)
            seconds = time.perf_counter() - start
        rows_per_s = median([epoch_rate(m) for m in messages])
    return {
        "method": method,
        "epochs": epochs,
        "rows_per_s": rows_per_s,
        "n_codes": n_codes,
        "events": n,
        "codes_seen": int(np.unique(codes).size),
        "seconds": seconds,
        "rss_loaded_mb": loaded,
        "rss_peak_mb": peak.peak,
        "fit_above_data_mb": peak.peak - loaded,
        "max_rss_mb": max_rss_mb(),
    }


def run_worker(*args):
    # The worker imports the skmed2vec of this checkout, not an installed one.
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run(
        [sys.executable, __file__, "--worker", *map(str, args)],
        capture_output=True, text=True, check=False, env=env,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def transform_throughput(repeats=3):
    from skmed2vec import TemporalMed2VecEmbedder
    from skmed2vec.datasets import make_cohort

    cohort = make_cohort(100_000, random_state=0)
    X = cohort.X
    embedder = TemporalMed2VecEmbedder(embed_dim=DIM, random_state=0).fit(X)
    encoded = embedder.code_vocabulary_.transform(X)
    rows = []
    for label, data in [("raw timelines (code strings)", X), ("encoded timelines", encoded)]:
        seconds = []
        for _ in range(repeats):
            start = time.perf_counter()
            features = embedder.transform(data)
            seconds.append(time.perf_counter() - start)
        rows.append(
            {
                "input": label,
                "events": X.n_events,
                "seconds": median(seconds),
                "events_per_s": X.n_events / median(seconds),
                "shape": list(features.shape),
            }
        )
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vocabularies", type=int, nargs="+", default=[20_000, 350_000])
    parser.add_argument("--fit-events", type=int, default=1_000_000)
    parser.add_argument("--fit-epochs", type=int, default=1)
    parser.add_argument("--fit-rounds", type=int, default=2)
    parser.add_argument("--worker", nargs="+")
    args = parser.parse_args()
    if args.worker:
        kind, *rest = args.worker
        if kind == "steps":
            result = worker_steps(int(rest[0]))
        else:
            result = worker_fit(*map(int, rest[:3]), method=rest[3])
        print(json.dumps(result))
        return

    steps = []
    for _ in range(REPEATS):  # alternate the vocabularies
        for n_codes in args.vocabularies:
            result = run_worker("steps", n_codes)
            steps.append(result)
            print(f"steps V={n_codes}: {result['ms_per_step']:.1f} ms", flush=True)
    step_rows = []
    for n_codes in args.vocabularies:
        mine = [r for r in steps if r["n_codes"] == n_codes]
        step_rows.append(
            {
                key: median([r[key] for r in mine])
                for key in (
                    "n_codes",
                    "ms_per_step",
                    "rows_per_s",
                    "gemm_ms_per_step",
                    "gemm_bound_rows_per_s",
                    "model_mb",
                    "rss_tables_mb",
                    "rss_peak_mb",
                    "step_above_tables_mb",
                    "max_rss_mb",
                )
            }  # fmt: skip
        )
    ratio = {
        "ms_per_step": step_rows[-1]["ms_per_step"] / step_rows[0]["ms_per_step"],
        "step_above_tables_mb": (
            step_rows[-1]["step_above_tables_mb"] / max(step_rows[0]["step_above_tables_mb"], 1e-9)
        ),
    }
    fit = []
    for r in range(args.fit_rounds if args.fit_events else 0):  # alternate the methods
        for method in ("skmed2vec", "gensim")[:: 1 if r % 2 == 0 else -1]:
            load = os.getloadavg()[0]
            result = run_worker(
                "fit", args.vocabularies[-1], args.fit_events, args.fit_epochs, method
            )
            result["loadavg_before"] = load
            fit.append(result)
            print(f"fit: {result}", flush=True)
    transform = transform_throughput()

    print()
    print(f"Per step: batch {BATCH}, dim {DIM}, medians over {REPEATS} x {STEPS} steps")
    print(
        table(
            step_rows,
            [
                ("n_codes", "vocabulary", ",.0f"),
                ("ms_per_step", "ms / step", ".1f"),
                ("rows_per_s", "distinct rows/s", ",.0f"),
                ("gemm_ms_per_step", "matrix products ms / step", ".2f"),
                ("gemm_bound_rows_per_s", "rows/s bound by them", ",.0f"),
                ("model_mb", "tables + state MB", ".0f"),
                ("rss_tables_mb", "RSS with tables MB", ".0f"),
                ("step_above_tables_mb", "step peak above tables MB", ".1f"),
                ("max_rss_mb", "process peak RSS MB", ".0f"),
            ],
        )
    )
    print(f"ratios last/first: {ratio}")
    if fit:
        print()
        print(
            table(
                fit,
                [
                    ("method", "method", ""),
                    ("n_codes", "vocabulary", ",.0f"),
                    ("codes_seen", "codes seen", ",.0f"),
                    ("events", "events", ",.0f"),
                    ("seconds", f"fit s ({args.fit_epochs} epochs)", ".1f"),
                    ("rows_per_s", "distinct rows/s", ",.0f"),
                    ("loadavg_before", "load", ".1f"),
                    ("rss_loaded_mb", "RSS with data MB", ".0f"),
                    ("fit_above_data_mb", "fit peak above data MB", ".0f"),
                    ("max_rss_mb", "process peak RSS MB", ".0f"),
                ],
            )
        )
    print()
    print(
        table(
            transform,
            [
                ("input", "transform input", ""),
                ("events", "events", ",.0f"),
                ("seconds", "s", ".2f"),
                ("events_per_s", "events/s", ",.0f"),
            ],
        )
    )
    write_results(
        "bench_scale",
        {
            "steps": step_rows,
            "step_runs": steps,
            "ratio": ratio,
            "fit": fit,
            "transform": transform,
        },
    )


if __name__ == "__main__":
    main()
