"""Input parsing speed: list-of-(time, code) timelines and event tables to ``Timelines``.

Corpus: ``synth_corpus.py`` (``--corpus-tool``; by default ``../shared/tools/synth_corpus.py``
beside the repository) with ``--patients`` patients and ``--codes`` codes; about 50 events
per patient. Three inputs of the same events: lists of ``(day number, code)`` tuples, lists
of ``(ISO date string, code)`` tuples, and a long event table (``subject_id``, ``time`` as
day numbers, ``code``). Each is parsed ``--rounds`` times; the median time is reported.

Run: ``python benchmarks/bench_parse.py [--patients 20000] [--codes 20000] [--rounds 3]``.
"""

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import median, table, write_results  # noqa: E402
from bench_speed import CORPUS_TOOL, load_tool  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=20000)
    parser.add_argument("--codes", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--corpus-tool", default=str(CORPUS_TOOL), help="path of synth_corpus.py")
    args = parser.parse_args(argv)

    from skmed2vec import as_timelines, events_to_timelines

    tool = load_tool(args.corpus_tool)
    corpus = tool.make_corpus(n_patients=args.patients, vocab_size=args.codes, seed=0)
    names = np.asarray([f"C{i}" for i in range(args.codes)], dtype=object)
    offsets = corpus["offsets"].tolist()
    codes, days = names[corpus["codes"]].tolist(), corpus["days"].tolist()
    base = dt.date(2000, 1, 1)
    iso = [(base + dt.timedelta(days=d)).isoformat() for d in days]
    spans = list(zip(offsets[:-1], offsets[1:]))
    inputs = {
        "list, day numbers": (as_timelines, [list(zip(days[a:b], codes[a:b])) for a, b in spans]),
        "list, ISO dates": (as_timelines, [list(zip(iso[a:b], codes[a:b])) for a, b in spans]),
        "event table, day numbers": (
            lambda X: events_to_timelines(X)[0],
            pd.DataFrame(
                {
                    "subject_id": np.repeat(np.arange(len(spans)), np.diff(offsets)),
                    "time": corpus["days"],
                    "code": names[corpus["codes"]],
                }
            ),
        ),
    }
    n_events = offsets[-1]
    rows = []
    for name, (parse, X) in inputs.items():
        seconds = []
        for _ in range(args.rounds):
            start = time.perf_counter()
            parse(X)
            seconds.append(time.perf_counter() - start)
        rows.append(
            {
                "input": name,
                "events": n_events,
                "seconds": median(seconds),
                "events_per_s": n_events / median(seconds),
            }
        )
        print(rows[-1], flush=True)
    print(
        table(
            rows,
            [
                ("input", "input", ""),
                ("events", "events", ","),
                ("seconds", "s (median)", ".2f"),
                ("events_per_s", "events/s", ",.0f"),
            ],
        )
    )
    write_results(
        "bench_parse",
        {
            "command": "python benchmarks/bench_parse.py " + " ".join(argv or sys.argv[1:]),
            "patients": args.patients,
            "codes": args.codes,
            "rounds": args.rounds,
            "rows": rows,
        },
    )


if __name__ == "__main__":
    main()
