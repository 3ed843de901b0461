"""Pair counting within a memory budget: the counts on disk above it.

The budget is scikit-learn's ``working_memory`` (``sklearn.set_config``,
default 1024 MiB). ``count_pairs`` merges the chunks' pair sums as a balanced
tree; a merged count above a quarter of the budget (16 bytes per distinct
unordered pair) is merged block by block into a memory-mapped temporary file,
and the training rows (12 bytes per directed pair) go to disk above the whole
budget. This measures counting and building the training rows
(as ``fit`` does, with ``n_jobs=1``) on a ``synth_corpus`` corpus at the
default budget (1 GiB: everything in memory at this size) and at smaller ones,
each in a fresh process, the settings alternating between rounds:

- seconds;
- the peak of the process's anonymous memory above the encoded input
  (``RssAnon``, sampled every 10 ms): what the process itself must hold;
- the kernel's high-water mark of the whole RSS (``VmHWM``) above the input,
  which also counts the pages of the memory-mapped files that were touched
  (the kernel can drop those: they are on disk);
- optionally (``--cgroup-mb``, Linux cgroup v1, root), each setting once more
  inside a memory cgroup of that many MB: finished or killed.

Run: ``python benchmarks/bench_count_budget.py --patients 200000 --codes 50000``.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import PeakRSS, median, rss_mb, table, write_results  # noqa: E402
from bench_speed import CORPUS_TOOL, _training_corpus, load_tool  # noqa: E402

MIB = 1 << 20
BUDGETS_MIB = (1024, 256, 64)


def _status_mb(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


class _PeakAnon:
    """Peak ``RssAnon`` within the block, sampled by a thread every ``interval`` seconds."""

    def __init__(self, interval=0.01):
        self.interval, self.peak = interval, 0.0

    def __enter__(self):
        self._stop = threading.Event()

        def sample():
            while not self._stop.is_set():
                self.peak = max(self.peak, _status_mb("RssAnon"))
                time.sleep(self.interval)

        self._thread = threading.Thread(target=sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _status_mb("RssAnon"))


def worker(path, budget_mib):
    import sklearn

    from skmed2vec import CodeVocabulary, count_pairs
    from skmed2vec._rows import TrainingRows
    from skmed2vec._timelines import Timelines

    sklearn.set_config(working_memory=budget_mib)
    offsets, codes, days, groups = _training_corpus(path)
    names = np.asarray([f"C{i}" for i in range(len(groups))], dtype=object)
    encoded = CodeVocabulary().fit_transform(Timelines(names[codes], days, offsets))
    del codes, days, names
    before_rss, before_anon = rss_mb(), _status_mb("RssAnon")
    with PeakRSS() as peak, _PeakAnon() as anon:
        start = time.perf_counter()
        counts = count_pairs(encoded, window=5, time_decay=0.0, n_jobs=1)
        counts_on_disk = counts._scratch is not None
        n_keys = int(counts.keys.size)
        rows = TrainingRows.from_chunks(*counts.pair_weight_chunks(0.0))
        del counts
        seconds = time.perf_counter() - start
    result = {
        "seconds": seconds,
        "rss_before_mb": before_rss,
        "anon_above_mb": anon.peak - before_anon,
        "rss_above_mb": peak.peak - before_rss,
        "distinct_pairs": n_keys,
        "rows": len(rows),
        "counts_on_disk": counts_on_disk,
        "rows_on_disk": rows.on_disk,
        "events": int(encoded.n_events),
    }
    rows.close()
    return result


def _in_cgroup(command, env, limit_mb):
    """Run ``command`` in a fresh cgroup v1 memory group; True if it finished."""
    group = Path(f"/sys/fs/cgroup/memory/skmed2vec-bench-{os.getpid()}")
    group.mkdir()
    try:
        (group / "memory.limit_in_bytes").write_text(str(limit_mb * MIB))
        (group / "memory.memsw.limit_in_bytes").write_text(str(limit_mb * MIB))
        wrapped = [
            "sh", "-c", f'echo $$ > {group}/cgroup.procs && exec "$@"', "sh", *command
        ]  # fmt: skip
        done = subprocess.run(wrapped, capture_output=True, text=True, env=env)
        return done.returncode == 0
    finally:
        group.rmdir()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--patients", type=int, default=200_000)
    parser.add_argument("--codes", type=int, default=50_000)
    parser.add_argument("--budgets-mib", type=int, nargs="+", default=list(BUDGETS_MIB))
    parser.add_argument("--cgroup-mb", type=int, default=None)
    parser.add_argument("--corpus-tool", default=str(CORPUS_TOOL), help="path of synth_corpus.py")
    parser.add_argument("--worker", nargs=2, metavar=("PATH", "BUDGET_MIB"))
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker[0], int(args.worker[1]))))
        return

    tool = load_tool(args.corpus_tool)
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
    runs = {budget: [] for budget in args.budgets_mib}
    survived = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "corpus.npz"
        tool.save(
            tool.make_corpus(n_patients=args.patients, vocab_size=args.codes, seed=0), str(path)
        )
        for r in range(args.rounds):
            order = args.budgets_mib if r % 2 == 0 else args.budgets_mib[::-1]
            for budget in order:
                command = [sys.executable, __file__, "--worker", str(path), str(budget)]
                load = os.getloadavg()[0]
                done = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
                result = json.loads(done.stdout.strip().splitlines()[-1])
                result["load_before"] = load
                runs[budget].append(result)
                print(
                    f"round {r + 1}, budget {budget} MiB: {result['seconds']:.2f} s, "
                    f"anonymous +{result['anon_above_mb']:.0f} MB, "
                    f"RSS +{result['rss_above_mb']:.0f} MB, counts on disk "
                    f"{result['counts_on_disk']}, rows on disk {result['rows_on_disk']}",
                    flush=True,
                )
        if args.cgroup_mb:
            for budget in args.budgets_mib:
                command = [sys.executable, __file__, "--worker", str(path), str(budget)]
                survived[budget] = _in_cgroup(command, env, args.cgroup_mb)
                print(f"budget {budget} MiB in {args.cgroup_mb} MB: finished {survived[budget]}")
    summary = []
    for budget, mine in runs.items():
        summary.append(
            {
                "budget_mib": budget,
                "counts_on_disk": mine[0]["counts_on_disk"],
                "rows_on_disk": mine[0]["rows_on_disk"],
                "seconds": median([x["seconds"] for x in mine]),
                "seconds_range": [round(min(x["seconds"] for x in mine), 2),
                                  round(max(x["seconds"] for x in mine), 2)],
                "rss_before_mb": median([x["rss_before_mb"] for x in mine]),
                "anon_above_mb": median([x["anon_above_mb"] for x in mine]),
                "rss_above_mb": median([x["rss_above_mb"] for x in mine]),
                "finished_in_cgroup": survived.get(budget, ""),
            }
        )  # fmt: skip
    first = runs[args.budgets_mib[0]][0]
    print(
        f"{first['events']:,} events, {first['distinct_pairs']:,} distinct unordered pairs, "
        f"{first['rows']:,} training rows"
    )
    print(
        table(
            summary,
            [
                ("budget_mib", "working_memory MiB", ""),
                ("counts_on_disk", "counts on disk", ""),
                ("rows_on_disk", "rows on disk", ""),
                ("seconds", "s (median)", ".2f"),
                ("seconds_range", "range", ""),
                ("rss_before_mb", "RSS with the input MB", ".0f"),
                ("anon_above_mb", "anonymous peak MB above input", ".0f"),
                ("rss_above_mb", "RSS high-water MB above input", ".0f"),
                ("finished_in_cgroup", f"finished in {args.cgroup_mb} MB", ""),
            ],
        )
    )
    write_results(
        "bench_count_budget",
        {
            "args": {k: str(v) for k, v in vars(args).items()},
            "corpus": {k: first[k] for k in ("events", "distinct_pairs", "rows")},
            "summary": summary,
            "runs": {str(b): v for b, v in runs.items()},
        },
    )


if __name__ == "__main__":
    main()
