"""Time to quality, throughput and memory: skmed2vec against gensim's Word2Vec.

Corpora: ``synth_corpus.py`` (``--corpus-tool``; by default
``../shared/tools/synth_corpus.py`` beside the repository, the generator
shipped with the shared data) with ``--codes`` vocabularies (default 20,000
and 50,000) and ``--patients`` patients (default 30,000): Zipf code
frequencies, disease modules of 20 codes, background noise. The first 80% of
the patients are the training set; the corpus's modules are the ground truth
of neighbour precision@10 (codes of one module are related).

Methods (each in its own subprocess, so peak memory does not mix; the order
alternates from round to round, so that changing machine load hits both
alike; ``os.getloadavg()`` is recorded around every run):

- ``gensim``: ``Word2Vec(sg=1, vector_size=128, window=5, negative=5,
  workers=2, min_count=1)``, its other settings default (``sample=1e-3``),
  on the codes as string tokens; ``gensim-sample0``: the same with
  ``sample=0``. One ``train`` call per epoch with gensim's own linear
  learning-rate decay over ``--epochs``; the cumulative time counts
  ``build_vocab`` and the epochs, not the evaluation between them.
- ``skmed2vec-list``: ``TemporalMed2VecEmbedder`` at its defaults (dim 128,
  window 5, 5 negatives) with ``n_jobs=2`` (gensim's ``workers=2``) on a
  list of ``(day, code string)`` lists;
  ``skmed2vec-table``: the same on a pandas event table (``subject_id``,
  ``time`` in days, ``code`` strings) through ``events_to_timelines``. Each is
  fitted with ``epochs=1, 2, ...`` up to ``--skmed2vec-epochs`` (the same
  seed, so each fit is a prefix of the next) and a fit's time is the whole of
  it: parsing, vocabulary, pair sums and training. Both libraries are
  imported before any timing (torch included, which ``fit`` would otherwise
  import on first use).

Reported per method and corpus:

- the per-epoch curve (cumulative seconds, precision@10) of every round;
- time to target: the target is a gensim variant's precision after its last
  epoch; for each method, the first epoch (gensim) or fit (skmed2vec) whose
  precision reaches it, with its cumulative time; the ratio to that gensim
  variant's own time to its target;
- distinct rows/s of the trainer: distinct (target, context) rows per epoch
  divided by the epoch's training time (as ``verbose`` prints it); events/s
  of input parsing (``as_timelines`` on the list, ``events_to_timelines`` on
  the table); the corpus's distinct-pair ratio (distinct ordered pairs /
  ordered window pairs);
- peak RSS of the process during training (the kernel's high-water mark,
  reset before each timed segment; the evaluation between epochs excluded)
  and the RSS once the input was built.

Run: ``python benchmarks/bench_speed.py [--rounds 2 1] [--patients 30000]
[--codes 20000 50000] [--skmed2vec-epochs 2] [--corpus-tool PATH]``.
"""

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import PeakRSS, capture_epoch_lines, epoch_rate, median, rss_mb, table, write_results  # noqa: E402

WINDOW, NEGATIVE, DIM, GENSIM_WORKERS = 5, 5, 128, 2
CORPUS_TOOL = Path(__file__).resolve().parents[2] / "shared" / "tools" / "synth_corpus.py"
METHODS = ("gensim", "gensim-sample0", "skmed2vec-list", "skmed2vec-table")


def load_tool(path):
    """The ``synth_corpus`` module from its path (it is not copied here)."""
    if not Path(path).is_file():
        raise SystemExit(f"no corpus generator at {path}; pass --corpus-tool PATH/synth_corpus.py")
    spec = importlib.util.spec_from_file_location("synth_corpus", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- workers (run in subprocesses) ---------------------------------------------
def _training_corpus(path):
    """Training patients' (offsets, codes, days) and the module of each code name."""
    data = np.load(path)
    offsets, codes, days = data["offsets"], data["codes"], data["days"]
    n_train = int(0.8 * (len(offsets) - 1))
    stop = offsets[n_train]
    groups = {f"C{i}": int(m) for i, m in enumerate(data["module_of"])}
    return offsets[: n_train + 1], codes[:stop], days[:stop], groups


class _Segments:
    """Peak RSS over several timed segments (the evaluation between them excluded)."""

    def __init__(self):
        self.peak, self.seconds = 0.0, 0.0

    def __enter__(self):
        self._peak = PeakRSS().__enter__()
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds += time.perf_counter() - self._start
        self._peak.__exit__(*exc)
        self.peak = max(self.peak, self._peak.peak)


def worker_gensim(data_path, epochs, seed, sample=None):
    from gensim.models import Word2Vec

    from skmed2vec.evaluation import neighbour_precision

    offsets, codes, _, groups = _training_corpus(data_path)
    names = [f"C{i}" for i in range(len(groups))]  # shared str objects
    codes = codes.tolist()
    sentences = [[names[c] for c in codes[a:b]] for a, b in zip(offsets[:-1], offsets[1:])]
    del codes
    loaded = rss_mb()
    extra = {} if sample is None else {"sample": sample}
    segments, curve = _Segments(), []
    with segments:
        model = Word2Vec(
            vector_size=DIM, window=WINDOW, negative=NEGATIVE, sg=1, workers=GENSIM_WORKERS,
            min_count=1, seed=seed, epochs=epochs, **extra,
        )  # fmt: skip
        model.build_vocab(sentences)
    alpha, min_alpha = model.alpha, model.min_alpha
    for epoch in range(epochs):
        with segments:
            # gensim's own linear decay over `epochs`, one epoch per call.
            model.train(
                sentences,
                total_examples=len(sentences),
                epochs=1,
                start_alpha=alpha - (alpha - min_alpha) * epoch / epochs,
                end_alpha=alpha - (alpha - min_alpha) * (epoch + 1) / epochs,
            )
        precision = neighbour_precision(model, groups).precision
        curve.append({"epoch": epoch + 1, "seconds": segments.seconds, "precision": precision})
    assert "torch" not in sys.modules
    return {"curve": curve, "loaded_mb": loaded, "peak_mb": segments.peak}


def worker_gensim_sample0(data_path, epochs, seed):
    return worker_gensim(data_path, epochs, seed, sample=0)


def worker_skmed2vec(data_path, epochs, seed, form):
    import pandas as pd

    # Imported before any timing, as gensim is: fit would import torch on
    # first use, and only the first fit would pay for it.
    import skmed2vec._trainer  # noqa: F401
    from skmed2vec import TemporalMed2VecEmbedder, as_timelines, events_to_timelines
    from skmed2vec.evaluation import neighbour_precision

    offsets, codes, days, groups = _training_corpus(data_path)
    names = np.asarray([f"C{i}" for i in range(len(groups))], dtype=object)
    if form == "list":
        name_list, codes, days = names.tolist(), codes.tolist(), days.tolist()
        X = [
            [(days[i], name_list[codes[i]]) for i in range(a, b)]
            for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist())
        ]

        def parse():
            return as_timelines(X)
    else:
        X = pd.DataFrame(
            {
                "subject_id": np.repeat(np.arange(len(offsets) - 1), np.diff(offsets)),
                "time": days,
                "code": names[codes],
            }
        )

        def parse():
            return events_to_timelines(X)[0]

    del codes, days
    n_events = int(offsets[-1])
    loaded = rss_mb()
    start = time.perf_counter()
    parse()
    parse_seconds = time.perf_counter() - start
    segments, curve = _Segments(), []
    for n_epochs in range(1, epochs + 1):
        messages = []
        embedder = TemporalMed2VecEmbedder(
            embed_dim=DIM, window=WINDOW, negative=NEGATIVE, epochs=n_epochs, random_state=seed,
            n_jobs=GENSIM_WORKERS,
        )  # fmt: skip
        capture_epoch_lines(messages)
        fit_segment = _Segments()
        with fit_segment:
            embedder.fit(parse())
        segments.peak = max(segments.peak, fit_segment.peak)
        rates = [epoch_rate(m) for m in messages]
        precision = neighbour_precision(embedder, groups).precision
        curve.append(
            {
                "epoch": n_epochs,
                "seconds": fit_segment.seconds,
                "precision": precision,
                "rows_per_s": rates,
                "loss": embedder.loss_curve_,
            }
        )
        del embedder
    return {
        "curve": curve,
        "loaded_mb": loaded,
        "peak_mb": segments.peak,
        "parse_seconds": parse_seconds,
        "events_per_s": n_events / parse_seconds,
    }


def worker_skmed2vec_list(data_path, epochs, seed):
    return worker_skmed2vec(data_path, epochs, seed, "list")


def worker_skmed2vec_table(data_path, epochs, seed):
    return worker_skmed2vec(data_path, epochs, seed, "table")


WORKERS = {
    "gensim": worker_gensim,
    "gensim-sample0": worker_gensim_sample0,
    "skmed2vec-list": worker_skmed2vec_list,
    "skmed2vec-table": worker_skmed2vec_table,
}


def run_worker(method, data_path, epochs, seed):
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
    load_before = os.getloadavg()
    done = subprocess.run(
        [sys.executable, __file__, "--worker", method, "--data", str(data_path),
         "--epochs", str(epochs), "--seed", str(seed)],
        capture_output=True, text=True, check=False, env=env,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"{method} worker failed:\n{done.stderr}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["loadavg_before"], result["loadavg_after"] = load_before, os.getloadavg()
    return result


# -- driver --------------------------------------------------------------------
def describe(tool, corpus):
    """Sizes, and distinct ordered pairs against ordered window pairs (training patients)."""
    from skmed2vec._pairs import PairTotals, window_weights

    offsets, codes, days = corpus["offsets"], corpus["codes"], corpus["days"]
    n_train = int(0.8 * (len(offsets) - 1))
    stop = offsets[n_train]
    codes, days = codes[:stop], days[:stop].astype(np.float64)
    totals, window_pairs = PairTotals(corpus["vocab_size"]), 0
    for left, right, weights in window_weights(
        codes, days, np.diff(offsets[: n_train + 1]), WINDOW, 0.01
    ):
        totals.add(left, right, weights)
        window_pairs += 2 * int(np.count_nonzero(weights))
    distinct = len(totals.result()[0])
    return {
        "vocab_size": int(corpus["vocab_size"]),
        "train_patients": n_train,
        "train_events": int(stop),
        "codes_seen": int(np.count_nonzero(np.bincount(codes))),
        "ordered_window_pairs": window_pairs,
        "distinct_ordered_pairs": distinct,
        "distinct_ratio": distinct / window_pairs,
        "describe": tool.describe(corpus),
    }


def first_reaching(curve, target):
    reached = [c for c in curve if c["precision"] >= target - 1e-12]
    return reached[0] if reached else None


def summarise(runs):
    """Rows of the summary table for one corpus."""
    rows = []
    for method in METHODS:
        results = runs[method]
        row = {
            "method": method,
            "p_final": median([r["curve"][-1]["precision"] for r in results]),
            "s_final": median([r["curve"][-1]["seconds"] for r in results]),
            "peak_mb": median([r["peak_mb"] for r in results]),
            "loaded_mb": median([r["loaded_mb"] for r in results]),
            "curve": " ".join(
                f"{median([r['curve'][e]['precision'] for r in results]):.3f}"
                for e in range(len(results[0]["curve"]))
            ),
        }
        if method.startswith("skmed2vec"):
            rates = [rate for r in results for c in r["curve"] for rate in c["rows_per_s"]]
            row["rows_per_s"] = median(rates) if rates else None
            row["events_per_s"] = median([r["events_per_s"] for r in results])
        for reference in ("gensim", "gensim-sample0"):
            ratios, seconds = [], []
            for r, ref in zip(results, runs[reference], strict=True):
                target = ref["curve"][-1]["precision"]
                mine = first_reaching(r["curve"], target)
                theirs = first_reaching(ref["curve"], target)
                if mine is not None:
                    seconds.append(mine["seconds"])
                    ratios.append(mine["seconds"] / theirs["seconds"])
            key = "vs_" + reference.replace("-", "_")
            row[key + "_reached"] = f"{len(ratios)}/{len(results)}"
            row[key + "_ratio"] = median(ratios) if ratios else None
            row[key + "_s"] = median(seconds) if seconds else None
        rows.append(row)
    gensim_peak = next(r["peak_mb"] for r in rows if r["method"] == "gensim")
    for row in rows:
        row["memory_ratio"] = row["peak_mb"] / gensim_peak
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rounds", type=int, nargs="+", default=[2], help="rounds per corpus (the last repeats)"
    )
    parser.add_argument("--epochs", type=int, default=5, help="gensim's epochs")
    parser.add_argument(
        "--skmed2vec-epochs", type=int, default=3, help="skmed2vec fits with epochs=1..this"
    )
    parser.add_argument("--patients", type=int, default=30_000)
    parser.add_argument("--codes", type=int, nargs="+", default=[20_000, 50_000])
    parser.add_argument("--corpus-tool", default=str(CORPUS_TOOL), help="path of synth_corpus.py")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--name", default="bench_speed")
    parser.add_argument("--worker", choices=sorted(WORKERS))
    parser.add_argument("--data", help="worker only: the corpus .npz")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(WORKERS[args.worker](args.data, args.epochs, args.seed)))
        return

    tool = load_tool(args.corpus_tool)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for position, n_codes in enumerate(args.codes):
            n_rounds = args.rounds[min(position, len(args.rounds) - 1)]
            corpus = tool.make_corpus(n_patients=args.patients, vocab_size=n_codes, seed=0)
            facts = describe(tool, corpus)
            print(f"corpus {n_codes}: {facts}", flush=True)
            data_path = Path(tmp) / f"corpus_{n_codes}.npz"
            tool.save(corpus, str(data_path))
            del corpus
            runs = {method: [] for method in METHODS}
            for r in range(n_rounds):
                order = list(METHODS) if r % 2 == 0 else list(METHODS)[::-1]
                for method in order:
                    if method not in args.methods:
                        continue
                    epochs = args.epochs if method.startswith("gensim") else args.skmed2vec_epochs
                    result = run_worker(method, data_path, epochs, seed=r)
                    runs[method].append(result)
                    print(
                        f"{n_codes} codes, round {r + 1}, {method}: "
                        + ", ".join(
                            f"{c['seconds']:.1f}s P@10 {c['precision']:.3f}"
                            for c in result["curve"]
                        )
                        + f"; peak {result['peak_mb']:.0f} MB; load "
                        f"{result['loadavg_before'][0]:.1f}-{result['loadavg_after'][0]:.1f}",
                        flush=True,
                    )
            rows = summarise(runs) if set(args.methods) == set(METHODS) else []
            results[str(n_codes)] = {
                "corpus": facts, "rounds": n_rounds, "summary": rows, "runs": runs,
            }  # fmt: skip
            write_results(args.name, {"corpora": results})
            if rows:
                print(
                    f"\n{n_codes:,} codes, {facts['train_patients']:,} training patients, "
                    f"{facts['train_events']:,} events, {facts['distinct_ordered_pairs']:,} "
                    f"distinct ordered pairs ({facts['distinct_ratio']:.0%} of the "
                    f"{facts['ordered_window_pairs']:,} ordered window pairs); medians of "
                    f"{n_rounds} alternating rounds"
                )
                print(
                    table(
                        rows,
                        [
                            ("method", "method", ""),
                            ("curve", "P@10 by epoch", ""),
                            ("s_final", "s for all epochs", ".1f"),
                            ("vs_gensim_s", "s to gensim's P@10", ".1f"),
                            ("vs_gensim_ratio", "/ gensim", ".2f"),
                            ("vs_gensim_sample0_s", "s to gensim-sample0's P@10", ".1f"),
                            ("vs_gensim_sample0_ratio", "/ gensim-sample0", ".2f"),
                            ("rows_per_s", "distinct rows/s", ",.0f"),
                            ("events_per_s", "parse events/s", ",.0f"),
                            ("peak_mb", "peak RSS MB", ".0f"),
                            ("memory_ratio", "RSS / gensim", ".2f"),
                        ],
                    )
                )


if __name__ == "__main__":
    main()
