"""Write a synthetic corpus as a sharded MEDS folder (``data/*.parquet``) for the scale benchmarks.

The corpus comes from ``synth_corpus.py`` (``../shared/tools`` beside the
repository): Zipf code frequencies in disease modules, visits on whole days.
Each shard holds whole patients (as MEDS requires), sorted by subject and
time, with the MEDS columns ``subject_id`` (int64), ``time`` (timestamp[us])
and ``code`` (string, ``"SYN//C01234"``).

Run: ``python benchmarks/make_meds_corpus.py --patients 1000000 --vocab 50000
--shards 16 --out /tmp/meds_1m`` (write it outside the repository).
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

# ``../shared/tools`` beside the repository (from a git worktree, one level further up).
TOOLS = next(
    (
        p / "shared" / "tools"
        for p in Path(__file__).resolve().parents[1:4]
        if (p / "shared" / "tools" / "synth_corpus.py").exists()
    ),
    Path(__file__).resolve().parents[2] / "shared" / "tools",
)


def write_meds(corpus, out, n_shards, prefix="SYN//C"):
    """Write ``corpus`` (offsets, codes, days) as ``n_shards`` parquet shards under ``out/data``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    offsets, codes, days = corpus["offsets"], corpus["codes"], corpus["days"]
    n_patients = len(offsets) - 1
    width = len(str(int(codes.max())))
    names = np.asarray([f"{prefix}{i:0{width}d}" for i in range(int(codes.max()) + 1)])
    data = Path(out) / "data"
    data.mkdir(parents=True, exist_ok=True)
    bounds = np.linspace(0, n_patients, n_shards + 1).astype(np.int64)
    epoch = np.datetime64("2010-01-01", "us")
    for shard, (first, stop) in enumerate(zip(bounds[:-1], bounds[1:])):
        lo, hi = offsets[first], offsets[stop]
        lengths = np.diff(offsets[first : stop + 1])
        subject = np.repeat(np.arange(first, stop, dtype=np.int64), lengths)
        times = epoch + days[lo:hi].astype("timedelta64[D]").astype("timedelta64[us]")
        table = pa.table(
            {
                "subject_id": pa.array(subject),
                "time": pa.array(times, type=pa.timestamp("us")),
                "code": pa.DictionaryArray.from_arrays(
                    pa.array(codes[lo:hi], type=pa.int32()), pa.array(names)
                ).cast(pa.string()),
            }
        )
        pq.write_table(table, data / f"{shard}.parquet", row_group_size=1 << 20)
    return int(offsets[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1_000_000)
    parser.add_argument("--vocab", type=int, default=50_000)
    parser.add_argument("--shards", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    sys.path.insert(0, str(TOOLS))
    from synth_corpus import make_corpus

    start = time.perf_counter()
    corpus = make_corpus(n_patients=args.patients, vocab_size=args.vocab, seed=args.seed)
    generated = time.perf_counter() - start
    n_events = write_meds(corpus, args.out, args.shards)
    info = {
        "patients": args.patients,
        "vocab": args.vocab,
        "shards": args.shards,
        "events": n_events,
        "seed": args.seed,
        "generate_seconds": round(generated, 1),
        "write_seconds": round(time.perf_counter() - start - generated, 1),
    }
    (Path(args.out) / "corpus.json").write_text(json.dumps(info, indent=1))
    print(json.dumps(info))


if __name__ == "__main__":
    main()
