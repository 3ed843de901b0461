"""A million patients on one machine: counting a sharded MEDS folder, merging, training, gensim.

Phases, each run in its own subprocess so its peak memory is its own:

``sharded``
    The count-where-the-shards-are pipeline on a MEDS folder:
    ``count_meds_codes`` (pass 1, one joblib task per shard) ->
    ``CodeVocabulary.fit_counts`` -> per-shard ``count_meds_pairs`` tasks
    (pass 2) -> ``merge_counts`` -> ``TemporalMed2VecEmbedder.fit_counts``.
    Reported: wall time of each step, the per-worker counting throughput
    (events/s of one shard task, measured in-process on ``--rate-shards``
    shards, read + count), the merge cost, the training time, and the peak
    RSS of the whole process tree (the client and its joblib workers,
    sampled every 0.2 s) and of the client alone.
``in_memory``
    ``read_meds`` + ``events_to_timelines`` + ``CodeVocabulary`` +
    ``TemporalMed2VecEmbedder.fit`` on the whole folder in one process.
``rates``
    Per-worker rates in CPU time on one or two shards (pass 1, pass 2, a
    merge of two shards, one training epoch on their merged pairs): on a
    machine shared with other jobs, wall times also count the waits.
``gensim``
    gensim ``Word2Vec`` (skip-gram, negative sampling, the same window,
    dimension, epochs and ``--jobs`` worker threads) on the same events, one
    sentence of codes per patient.

Data: ``python benchmarks/make_meds_corpus.py --patients 1000000 --vocab 50000
--shards 16 --out /tmp/meds_1m`` (the synthetic corpus of
``../shared/tools/synth_corpus.py``; write it outside the repository), then
``nice -n 10 python benchmarks/bench_distributed.py --data /tmp/meds_1m``.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write_results  # noqa: E402


class TreeRSS:
    """Peak summed RSS of this process and its children, sampled in a thread."""

    def __init__(self, interval=0.2):
        import psutil

        self.process, self.interval, self.peak = psutil.Process(), interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self):
        total = 0
        for proc in [self.process, *self.process.children(recursive=True)]:
            try:
                total += proc.memory_info().rss
            except Exception:  # a child that just ended
                pass
        self.peak = max(self.peak, total)

    def _run(self):
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._sample()

    @property
    def peak_mb(self):
        return round(self.peak / 2**20)


def client_peak_mb():
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def cpu_seconds():
    """CPU time of this process and its ended children: on a shared machine, the
    work done, where the wall time also counts the waits for a core."""
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return sum(u.ru_utime + u.ru_stime for u in usage)


def phase_sharded(args):
    from skmed2vec import (
        CodeVocabulary,
        TemporalMed2VecEmbedder,
        merge_counts,
    )
    from skmed2vec._meds_counting import (
        _shard_codes,
        _shard_pairs,
        count_meds_codes,
        meds_shards,
    )
    from skmed2vec._parallel import run_chunks

    shards = meds_shards(args.data)
    embedder = TemporalMed2VecEmbedder(
        embed_dim=args.dim, epochs=args.epochs, time_decay=args.time_decay, random_state=0
    )
    vocabulary = CodeVocabulary(min_subjects=args.min_subjects)
    out = {"shards": len(shards), "jobs": args.jobs}
    with TreeRSS() as tree:
        # Per-worker rate: one shard task at a time in this process (pass 2's
        # after training, as it needs the vocabulary); not in the timed pipeline.
        rate_codes, rate_pairs = [], []
        for path in shards[: args.rate_shards]:
            t = time.perf_counter()
            counts = _shard_codes(path, vocabulary, "first")
            rate_codes.append(counts.n_events / (time.perf_counter() - t))
        start = t = time.perf_counter()
        code_counts = count_meds_codes(args.data, vocabulary=vocabulary, n_jobs=args.jobs)
        out["pass1_seconds"] = time.perf_counter() - t
        out["events"] = code_counts.n_events
        out["patients"] = code_counts.n_subjects
        t = time.perf_counter()
        vocabulary.fit_counts(code_counts)
        out["vocabulary_seconds"] = time.perf_counter() - t
        out["codes"] = len(vocabulary.codes_)
        settings = ("first", embedder.window, embedder.time_decay, embedder.max_gap, 500_000)
        t = time.perf_counter()
        tasks = [(path, vocabulary, *settings) for path in shards]
        parts = list(run_chunks(_shard_pairs, tasks, args.jobs))
        out["pass2_seconds"] = time.perf_counter() - t
        out["shard_pair_keys"] = [int(p.keys.size) for p in parts]
        t = time.perf_counter()
        total = merge_counts(parts)
        out["merge_seconds"] = time.perf_counter() - t
        del parts
        out["distinct_unordered_pairs"] = int(total.keys.size)
        t, cpu = time.perf_counter(), cpu_seconds()
        embedder.fit_counts(total)
        out["train_seconds"] = time.perf_counter() - t
        out["train_cpu_seconds"] = cpu_seconds() - cpu
        out["training_rows"] = 2 * int(total.keys.size)  # at most; self pairs once
        out["loss_curve"] = embedder.loss_curve_
        out["end_to_end_seconds"] = time.perf_counter() - start
        del total, embedder
        for path in shards[: args.rate_shards]:
            t = time.perf_counter()
            part = _shard_pairs(path, vocabulary, *settings)
            rate_pairs.append(int(part.code_counts.sum()) / (time.perf_counter() - t))
    out["rate_pass1_events_per_s"] = rate_codes
    out["rate_pass2_events_per_s"] = rate_pairs
    out["peak_rss_tree_mb"] = tree.peak_mb
    out["peak_rss_client_mb"] = client_peak_mb()
    return out


def phase_in_memory(args):
    from skmed2vec import CodeVocabulary, TemporalMed2VecEmbedder, events_to_timelines, read_meds

    out = {}
    start = time.perf_counter()
    events = read_meds(args.data)
    X, _ = events_to_timelines(events)
    del events
    out["read_seconds"] = time.perf_counter() - start
    t = time.perf_counter()
    encoded = CodeVocabulary(min_subjects=args.min_subjects).fit_transform(X)
    del X
    out["vocabulary_seconds"] = time.perf_counter() - t
    t, cpu = time.perf_counter(), cpu_seconds()
    embedder = TemporalMed2VecEmbedder(
        embed_dim=args.dim, epochs=args.epochs, time_decay=args.time_decay, random_state=0
    )
    embedder.fit(encoded)
    out["fit_seconds"] = time.perf_counter() - t
    out["fit_cpu_seconds"] = cpu_seconds() - cpu
    out["end_to_end_seconds"] = time.perf_counter() - start
    out["peak_rss_mb"] = client_peak_mb()
    out["cpu_seconds"] = cpu_seconds()
    return out


def phase_gensim(args):
    import numpy as np
    import pyarrow.parquet as pq
    from gensim.models import Word2Vec

    from skmed2vec._meds_counting import meds_shards

    out = {}
    start = time.perf_counter()
    sentences = []
    for path in meds_shards(args.data):
        table = pq.read_table(path, columns=["subject_id", "time", "code"]).to_pandas()
        table = table.sort_values(["subject_id", "time", "code"], kind="stable")
        codes = table["code"].to_numpy(dtype=object)
        bounds = np.flatnonzero(np.diff(table["subject_id"].to_numpy())) + 1
        sentences.extend(part.tolist() for part in np.split(codes, bounds))
    out["read_seconds"] = time.perf_counter() - start
    t, cpu = time.perf_counter(), cpu_seconds()
    Word2Vec(
        sentences,
        vector_size=args.dim,
        window=5,
        min_count=args.min_subjects,
        sg=1,
        negative=5,
        workers=args.jobs,
        epochs=args.epochs,
        seed=0,
    )
    out["train_seconds"] = time.perf_counter() - t
    out["train_cpu_seconds"] = cpu_seconds() - cpu
    out["end_to_end_seconds"] = time.perf_counter() - start
    out["events"] = sum(len(s) for s in sentences)
    out["peak_rss_mb"] = client_peak_mb()
    out["cpu_seconds"] = cpu_seconds()
    return out


def phase_rates(args):
    """Per-worker rates in CPU time, one shard task at a time (immune to waits for a core)."""
    from skmed2vec import CodeVocabulary, TemporalMed2VecEmbedder
    from skmed2vec._meds_counting import _shard_codes, _shard_pairs, meds_shards

    shards = meds_shards(args.data)[:2]
    decay = args.time_decay

    def timed(function, *a):
        wall, cpu = time.perf_counter(), time.process_time()
        result = function(*a)
        return result, time.perf_counter() - wall, time.process_time() - cpu

    vocabulary = CodeVocabulary()
    codes, wall, cpu = timed(_shard_codes, shards[0], vocabulary, "first")
    out = {"pass1": {"events": codes.n_events, "wall": wall, "cpu": cpu}}
    vocabulary.fit_counts(codes)
    settings = ("first", 5, decay, None, 500_000)
    a, wall, cpu = timed(_shard_pairs, shards[0], vocabulary, *settings)
    out["pass2"] = {"events": int(a.code_counts.sum()), "wall": wall, "cpu": cpu}
    b = _shard_pairs(shards[1], vocabulary, *settings)
    merged, wall, cpu = timed(lambda x, y: x + y, a, b)
    out["merge"] = {"keys_in": int(a.keys.size + b.keys.size), "keys_out": int(merged.keys.size),
                    "wall": wall, "cpu": cpu}  # fmt: skip
    del a, b
    embedder = TemporalMed2VecEmbedder(embed_dim=args.dim, epochs=1, time_decay=decay)
    _, wall, cpu = timed(embedder.set_params(random_state=0).fit_counts, merged)
    out["train_one_epoch"] = {"rows": 2 * int(merged.keys.size), "wall": wall, "cpu": cpu}
    return out


PHASES = {
    "rates": phase_rates,
    "sharded": phase_sharded,
    "in_memory": phase_in_memory,
    "gensim": phase_gensim,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="MEDS folder (make_meds_corpus.py)")
    parser.add_argument("--phases", default="sharded,gensim,in_memory")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--min-subjects", type=int, default=1)
    parser.add_argument("--rate-shards", type=int, default=2)
    parser.add_argument("--time-decay", type=float, default=0.01)
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--out", default="bench_distributed", help="results/<out>.json")
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(PHASES[args.phase](args)))
        return
    corpus = Path(args.data) / "corpus.json"
    results = {
        "corpus": json.loads(corpus.read_text()) if corpus.exists() else None,
        "settings": {k: v for k, v in vars(args).items() if k not in ("phase", "out")},
    }
    for phase in args.phases.split(","):
        print(f"-- {phase}", flush=True)
        command = [sys.executable, __file__, "--phase", phase, *sys.argv[1:]]
        # The phases import the skmed2vec of this checkout.
        root = str(Path(__file__).resolve().parents[1])
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]),
        }
        done = subprocess.run(command, capture_output=True, text=True, env=env)
        sys.stderr.write(done.stderr[-3000:])
        if done.returncode:
            results[phase] = {"error": done.stderr.strip().splitlines()[-1:]}
        else:
            results[phase] = json.loads(done.stdout.strip().splitlines()[-1])
        results[phase]["load_average"] = os.getloadavg()
        print(json.dumps(results[phase]), flush=True)
        write_results(args.out, results)


if __name__ == "__main__":
    main()
