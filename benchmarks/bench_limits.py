"""What this machine allows the trainer and the process: matrix-product rates and import memory.

Two limits bound the speed and memory targets, whatever the code around them:

- *matrix products*: the training step's three products with the shared
  negatives (scores, and the two gradients) cost ``3 * pool * embed_dim``
  multiply-adds per distinct row (61,440 at the defaults: 160 negatives,
  dim 128). ``torch.mm`` is timed at the step's shapes and on a large square
  product, float32 and bfloat16, on 1 and 2 threads; the rows/s they allow is
  the multiply-add rate divided by the cost per row.
- *import memory*: the resident memory (``VmRSS``) of a fresh interpreter after
  each import, in the order a fit needs them, each in its own process.

Run by hand (never by the test suite)::

    python benchmarks/bench_limits.py --repeats 5
"""

import argparse
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import median, table, write_results  # noqa: E402

DIM, POOL, BATCH = 128, 160, 1024
SHAPES = {
    "scores (batch x dim) @ (dim x pool)": (BATCH, DIM, POOL),
    "negatives' gradient (pool x batch) @ (batch x dim)": (POOL, BATCH, DIM),
    "targets' gradient (batch x pool) @ (pool x dim)": (BATCH, POOL, DIM),
    "square 2048": (2048, 2048, 2048),
}
IMPORTS = {
    "python": "",
    "numpy": "import numpy",
    "gensim": "import gensim",
    "skmed2vec (scikit-learn, pandas, scipy)": "import skmed2vec",
    "skmed2vec and torch": "import skmed2vec, torch",
}


def multiply_add_rate(torch, shape, dtype, seconds=0.5):
    m, k, n = shape
    a, b = torch.randn(m, k).to(dtype), torch.randn(k, n).to(dtype)
    for _ in range(3):
        a @ b
    reps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        a @ b
        reps += 1
    return m * k * n * reps / (time.perf_counter() - start)


def resident_mb(statement):
    code = (
        f"{statement}\n"
        "import re\n"
        "print(int(re.search(r'VmRSS:\\s+(\\d+)', open('/proc/self/status').read()).group(1)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(done.stdout.split()[-1]) / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    import torch

    rates = []
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for dtype in (torch.float32, torch.bfloat16):
            for name, shape in SHAPES.items():
                runs = [multiply_add_rate(torch, shape, dtype) for _ in range(args.repeats)]
                rates.append(
                    {
                        "threads": threads,
                        "dtype": str(dtype).replace("torch.", ""),
                        "product": name,
                        "shape": shape,
                        "g_multiply_adds_per_s": [r / 1e9 for r in runs],
                    }
                )
    per_row = 3 * POOL * DIM
    memory = {
        name: [resident_mb(statement) for _ in range(args.repeats)]
        for name, statement in IMPORTS.items()
    }
    rows = []
    for r in rates:
        g = r["g_multiply_adds_per_s"]
        square = r["product"].startswith("square")
        rows.append(
            {
                "threads": r["threads"],
                "dtype": r["dtype"],
                "product": r["product"],
                "rate": f"{median(g):.1f} [{min(g):.1f}, {max(g):.1f}]",
                "bound": "" if square else f"{median(g) * 1e9 / per_row:,.0f}",
            }
        )
    print(
        table(
            rows,
            [
                ("threads", "threads", ""),
                ("dtype", "dtype", ""),
                ("product", "product", ""),
                ("rate", "G multiply-adds/s (median [range])", ""),
                ("bound", "rows/s if all three ran at it", ""),
            ],
        )
    )
    print(f"\nmultiply-adds per distinct row in the step's products: {per_row:,}\n")
    resident = [
        {"name": n, "mb": f"{median(v):.0f} [{min(v):.0f}, {max(v):.0f}]"}
        for n, v in memory.items()
    ]
    print(
        table(
            resident,
            [("name", "after importing", ""), ("mb", "resident MB (median [range])", "")],
        )
    )
    write_results(
        "bench_limits",
        {
            "settings": {"dim": DIM, "pool": POOL, "batch": BATCH, "repeats": args.repeats},
            "multiply_adds_per_row": per_row,
            "rates": rates,
            "resident_mb_after_imports": memory,
            "torch": torch.__version__,
        },
    )


if __name__ == "__main__":
    main()
