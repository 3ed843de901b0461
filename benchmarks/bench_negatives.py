"""What ``negative`` buys: time per epoch against quality, on large and small data.

Each batch is scored against ``negative * 32`` shared negatives (section 1 of
``docs/benchmarks.md``): three matrix products per step grow with it, and so
does the signal each step carries. This measures, for ``negative`` in 5 (the
default, 160 shared negatives), 3 and 2:

- ``corpus``: on ``synth_corpus`` corpora (30,000 patients, 20,000 and
  50,000 codes; the first 24,000 patients train, as in ``bench_speed.py``),
  module precision@10 after one- and two-epoch fits (seed 0, code strings in,
  2 threads), and the trainer's distinct rows/s: one epoch over the same
  500,000 of the corpus's distinct rows (encoded by the vocabulary, so in
  its frequency order) from a fresh model, on 2 threads, the values of
  ``negative`` alternating within each of 7 rounds (median and range);
- ``synthea``: the Synthea Ohio extract at the defaults otherwise (5 epochs):
  module precision@10 and drug -> indication recall@10 per seed, paired
  against ``negative=5`` (mean difference, 95% normal interval over seeds);
- ``cohort``: a 600-patient planted cohort (``make_cohort(600)``, 108
  codes), the defaults otherwise: the label-free ``score`` per seed, paired
  against ``negative=5``, and an untrained reference (``learning_rate=1e-6``).

Run: ``python benchmarks/bench_negatives.py [--rounds 7] [--seeds 10]
[--corpus-tool PATH] [--data PATH]``.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import SHARED_DATA, median, table, write_results  # noqa: E402
from bench_speed import CORPUS_TOOL, _training_corpus, load_tool  # noqa: E402

NEGATIVES = (5, 3, 2)


def paired(values, reference):
    """Mean of ``values - reference`` and its 95% normal interval over the pairs."""
    d = np.asarray(values) - np.asarray(reference)
    half = 1.96 * d.std(ddof=1) / np.sqrt(len(d))
    return {"difference": float(d.mean()), "ci": [float(d.mean() - half), float(d.mean() + half)]}


def corpus_part(args):
    from skmed2vec import CodeVocabulary, TemporalMed2VecEmbedder, count_pairs
    from skmed2vec._core._training import SHARED_POOL
    from skmed2vec._timelines import Timelines
    from skmed2vec.evaluation import neighbour_precision

    tool = load_tool(args.corpus_tool)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n_codes in args.codes:
            path = Path(tmp) / f"corpus_{n_codes}.npz"
            corpus = tool.make_corpus(n_patients=args.patients, vocab_size=n_codes, seed=0)
            tool.save(corpus, str(path))
            del corpus
            offsets, codes, days, groups = _training_corpus(path)
            names = np.asarray([f"C{i}" for i in range(len(groups))], dtype=object)
            X = Timelines(names[codes], days.astype(np.float64), offsets)
            # Precision per epoch: deterministic, one fit per setting.
            quality = []
            for negative in NEGATIVES:
                row = {"negative": negative, "pool": negative * SHARED_POOL}
                for epochs in (1, 2):
                    embedder = TemporalMed2VecEmbedder(
                        negative=negative, epochs=epochs, n_jobs=2, random_state=0
                    ).fit(X)
                    row[f"p_{epochs}"] = neighbour_precision(embedder, groups).precision
                quality.append(row)
            # Training speed: epochs over the same rows, the settings alternating
            # within each round, so that this machine's drift hits all of them.
            encoded = CodeVocabulary().fit_transform(X)
            counts = count_pairs(encoded, window=5, time_decay=0.0)
            targets, contexts, weights = counts.pair_weights()
            pick = np.random.default_rng(0).choice(len(targets), args.rows, replace=False)
            rates = {negative: [] for negative in NEGATIVES}
            for r in range(args.rounds):
                for negative in NEGATIVES if r % 2 == 0 else NEGATIVES[::-1]:
                    rates[negative].append(
                        _epoch_rate(encoded, targets[pick], contexts[pick], weights[pick], negative)
                    )
            for row in quality:
                runs = rates[row["negative"]]
                row["rows_per_s"], row["low"], row["high"] = median(runs), min(runs), max(runs)
            results[str(n_codes)] = {
                "distinct_rows": len(targets), "timed_rows": args.rows,
                "summary": quality, "rates": {str(k): v for k, v in rates.items()},
            }  # fmt: skip
            print(f"\n{n_codes:,} codes, {len(targets):,} distinct rows; {args.rounds} rounds")
            print(
                table(
                    quality,
                    [
                        ("negative", "negative", ""),
                        ("pool", "shared negatives", ""),
                        ("p_1", "P@10, 1 epoch", ".3f"),
                        ("p_2", "P@10, 2 epochs", ".3f"),
                        ("rows_per_s", "distinct rows/s (median)", ",.0f"),
                        ("low", "lowest", ",.0f"),
                        ("high", "highest", ",.0f"),
                    ],
                )  # fmt: skip
            )
    return results


def _epoch_rate(encoded, targets, contexts, weights, negative):
    """Distinct rows/s of one epoch over the rows, from a fresh model, on 2 threads."""
    import torch

    from skmed2vec._core import RowwiseAdagrad, TemporalMed2Vec
    from skmed2vec._core._training import negative_cdf, run_epoch, torch_threads

    n_codes = len(encoded.code_names)
    generator = torch.Generator().manual_seed(0)
    model = TemporalMed2Vec(n_codes, 128, generator=generator)
    optimizer = RowwiseAdagrad(model.parameters(), lr=0.2)
    data = {
        "targets": torch.from_numpy(targets.astype(np.int32)),
        "contexts": torch.from_numpy(contexts.astype(np.int32)),
        "weights": torch.from_numpy(weights.astype(np.float32)),
    }
    cdf = negative_cdf(np.bincount(encoded.codes, minlength=n_codes))
    with torch_threads(2):
        start = time.perf_counter()
        run_epoch(
            model, optimizer, data, objective="negative_sampling", batch_size=1024,
            negative=negative, cdf=cdf, generator=generator,
        )  # fmt: skip
        seconds = time.perf_counter() - start
    return len(targets) / seconds


def synthea_part(args):
    from skmed2vec import TemporalMed2VecEmbedder, events_to_timelines
    from skmed2vec.datasets import (
        load_synthea_events,
        load_synthea_indications,
        load_synthea_modules,
    )
    from skmed2vec.evaluation import neighbour_precision, recall_at_k

    synthea = args.data / "synthea-ohio-10k"
    X, _ = events_to_timelines(load_synthea_events(synthea))
    modules = load_synthea_modules(args.data / "synthea-modules")
    indications = load_synthea_indications(synthea)[["drug", "indication"]]
    values = {negative: {"precision": [], "recall": []} for negative in NEGATIVES}
    for seed in range(args.seeds):
        for negative in NEGATIVES:
            embedder = TemporalMed2VecEmbedder(negative=negative, random_state=seed).fit(X)
            values[negative]["precision"].append(neighbour_precision(embedder, modules).precision)
            values[negative]["recall"].append(recall_at_k(embedder, indications).recall)
    summary = []
    for negative in NEGATIVES:
        row = {"negative": negative}
        for metric in ("precision", "recall"):
            row[metric] = median(values[negative][metric])
            row[f"{metric}_vs_5"] = paired(values[negative][metric], values[5][metric])
        summary.append(row)
    print(
        table(
            [{**r, "dp": _fmt(r["precision_vs_5"]), "dr": _fmt(r["recall_vs_5"])} for r in summary],
            [
                ("negative", "negative", ""),
                ("precision", "P@10 (median)", ".3f"),
                ("dp", "minus negative=5", ""),
                ("recall", "R@10 (median)", ".3f"),
                ("dr", "minus negative=5", ""),
            ],
        )  # fmt: skip
    )
    return {"summary": summary, "values": {str(k): v for k, v in values.items()}}


def cohort_part(args):
    from skmed2vec import TemporalMed2VecEmbedder
    from skmed2vec.datasets import make_cohort

    X = make_cohort(600, random_state=0).X
    scores = {negative: [] for negative in NEGATIVES}
    untrained = []
    for seed in range(args.seeds):
        for negative in NEGATIVES:
            fitted = TemporalMed2VecEmbedder(negative=negative, random_state=seed).fit(X)
            scores[negative].append(fitted.score(X))
        reference = TemporalMed2VecEmbedder(epochs=1, learning_rate=1e-6, random_state=seed)
        untrained.append(reference.fit(X).score(X))
    summary = [
        {"negative": negative, "score": median(scores[negative]),
         "vs_5": paired(scores[negative], scores[5])}
        for negative in NEGATIVES
    ]  # fmt: skip
    summary.append({"negative": "untrained", "score": median(untrained)})
    print(
        table(
            [{**r, "d": _fmt(r["vs_5"]) if "vs_5" in r else ""} for r in summary],
            [
                ("negative", "negative", ""),
                ("score", "score (median)", ".3f"),
                ("d", "minus negative=5", ""),
            ],
        )  # fmt: skip
    )
    return {"summary": summary, "scores": {str(k): v for k, v in scores.items()},
            "untrained": untrained}  # fmt: skip


def _fmt(result):
    low, high = result["ci"]
    return f"{result['difference']:+.3f} [{low:+.3f}, {high:+.3f}]"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", nargs="+", default=["corpus", "synthea", "cohort"])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--rows", type=int, default=500_000, help="rows per timed epoch")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--patients", type=int, default=30_000)
    parser.add_argument("--codes", type=int, nargs="+", default=[20_000, 50_000])
    parser.add_argument("--corpus-tool", default=str(CORPUS_TOOL), help="path of synth_corpus.py")
    parser.add_argument("--data", type=Path, default=SHARED_DATA, help="folder of the Synthea data")
    args = parser.parse_args()
    import skmed2vec._trainer  # noqa: F401  (torch imported before any timing)

    payload = {"args": {k: str(v) for k, v in vars(args).items()}}
    parts = {"corpus": corpus_part, "synthea": synthea_part, "cohort": cohort_part}
    for name in args.parts:
        print(f"\n## {name}", flush=True)
        payload[name] = parts[name](args)
        write_results("bench_negatives", payload)


if __name__ == "__main__":
    main()
