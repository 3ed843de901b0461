"""Pair counting: time and memory by chunk size and thread count.

``count_pairs`` generates the window pairs of ``chunk_events`` events at a
time and merges each chunk's sums into the total; with ``n_jobs=2`` two chunks
are in flight at once. On a ``synth_corpus`` corpus (30,000 patients, 20,000
codes; the 24,000 training patients, encoded by a ``CodeVocabulary``), for
each (``n_jobs``, ``chunk_events``) setting: the seconds to count and to build
the training rows from them (as ``fit`` does), and the peak RSS above the RSS
before (the kernel's high-water mark). Each measurement runs in a fresh
process, the settings alternating within each round; medians over rounds.

Run: ``python benchmarks/bench_counting.py [--rounds 5] [--corpus-tool PATH]``.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import PeakRSS, median, rss_mb, table, write_results  # noqa: E402
from bench_speed import CORPUS_TOOL, _training_corpus, load_tool  # noqa: E402

SETTINGS = ((1, 250_000), (1, 125_000), (2, 250_000), (2, 125_000), (2, 62_500))


def worker(path, n_jobs, chunk_events):
    from skmed2vec import CodeVocabulary, count_pairs
    from skmed2vec._rows import TrainingRows
    from skmed2vec._timelines import Timelines

    offsets, codes, days, groups = _training_corpus(path)
    names = np.asarray([f"C{i}" for i in range(len(groups))], dtype=object)
    encoded = CodeVocabulary().fit_transform(Timelines(names[codes], days, offsets))
    del codes, days
    before = rss_mb()
    with PeakRSS() as peak:
        start = time.perf_counter()
        counts = count_pairs(
            encoded, window=5, time_decay=0.0, n_jobs=n_jobs, chunk_events=chunk_events
        )
        rows = TrainingRows.from_chunks(*counts.pair_weight_chunks(0.0))
        seconds = time.perf_counter() - start
    n_rows = len(rows)
    rows.close()
    return {"seconds": seconds, "above_mb": peak.peak - before, "rows": n_rows}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--patients", type=int, default=30_000)
    parser.add_argument("--codes", type=int, default=20_000)
    parser.add_argument("--corpus-tool", default=str(CORPUS_TOOL), help="path of synth_corpus.py")
    parser.add_argument("--worker", nargs=3, metavar=("PATH", "N_JOBS", "CHUNK_EVENTS"))
    args = parser.parse_args()
    if args.worker:
        path, n_jobs, chunk = args.worker
        print(json.dumps(worker(path, int(n_jobs), int(chunk))))
        return

    tool = load_tool(args.corpus_tool)
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
    runs = {setting: [] for setting in SETTINGS}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "corpus.npz"
        tool.save(
            tool.make_corpus(n_patients=args.patients, vocab_size=args.codes, seed=0), str(path)
        )
        for r in range(args.rounds):
            for n_jobs, chunk in SETTINGS if r % 2 == 0 else SETTINGS[::-1]:
                done = subprocess.run(
                    [sys.executable, __file__, "--worker", str(path), str(n_jobs), str(chunk)],
                    capture_output=True, text=True, check=True, env=env,
                )  # fmt: skip
                result = json.loads(done.stdout.strip().splitlines()[-1])
                runs[n_jobs, chunk].append(result)
                print(
                    f"round {r + 1}, n_jobs={n_jobs}, chunk_events={chunk:,}: "
                    f"{result['seconds']:.2f} s, +{result['above_mb']:.0f} MB",
                    flush=True,
                )
    summary = [
        {
            "n_jobs": n_jobs,
            "chunk_events": chunk,
            "seconds": median([x["seconds"] for x in mine]),
            "above_mb": median([x["above_mb"] for x in mine]),
            "above_mb_range": [min(x["above_mb"] for x in mine), max(x["above_mb"] for x in mine)],
            "rows": mine[0]["rows"],
        }
        for (n_jobs, chunk), mine in runs.items()
    ]
    print(
        table(
            summary,
            [
                ("n_jobs", "n_jobs", ""),
                ("chunk_events", "chunk_events", ","),
                ("seconds", "s (median)", ".2f"),
                ("above_mb", "peak MB above the encoded input (median)", ".0f"),
                ("above_mb_range", "range", ""),
                ("rows", "distinct rows", ","),
            ],
        )
    )
    write_results(
        "bench_counting",
        {
            "args": {k: str(v) for k, v in vars(args).items()},
            "summary": summary,
            "runs": {f"{n}, {c}": v for (n, c), v in runs.items()},
        },
    )


if __name__ == "__main__":
    main()
