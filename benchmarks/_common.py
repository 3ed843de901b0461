"""Helpers shared by the benchmark scripts: machine facts, memory, tables, JSON."""

import json
import os
import platform
import resource
import statistics
import threading
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def machine():
    """CPU count, CPU model, RAM and library versions of this machine."""
    model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info = {"nproc": os.cpu_count(), "cpu": model, "python": platform.python_version()}
    try:
        import psutil

        info["ram_gb"] = round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:
        pass
    for name in ("numpy", "torch", "gensim", "sklearn"):
        try:
            info[name] = __import__(name).__version__
        except ImportError:
            pass
    return info


def median(values):
    return float(statistics.median(values))


def rss_mb():
    """Resident memory of this process now, in MB."""
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def max_rss_mb():
    """Peak resident memory of this process so far (kernel high-water mark), in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _high_water_mb():
    """The kernel's peak RSS of this process (``VmHWM``), in MB."""
    text = Path("/proc/self/status").read_text()
    return int(text.split("VmHWM:", 1)[1].split()[0]) / 1024


def _reset_high_water():
    """Reset ``VmHWM`` to the current RSS (Linux >= 4.0); False where not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


class PeakRSS:
    """Peak RSS of this process within the block, in MB.

    On Linux the kernel's own high-water mark, reset on entry: exact, and no
    sampling thread competes with the measured code for the cores (a thread
    waking every few milliseconds stalls multi-threaded kernels on a 2-core
    machine). Elsewhere, a thread samples the RSS every ``interval`` seconds.
    """

    def __init__(self, interval=0.005):
        self.interval = interval
        self.peak = 0.0
        self._thread = None

    def __enter__(self):
        self.peak = rss_mb()
        if _reset_high_water():
            return self
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb())
            time.sleep(self.interval)

    def __exit__(self, *exc):
        if self._thread is None:
            self.peak = max(self.peak, _high_water_mb())
            return
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mb())


def capture_epoch_lines(messages):
    """Append the trainer's per-epoch lines (what ``verbose`` prints) to ``messages``."""
    from skmed2vec import _trainer

    train = getattr(_trainer.train, "__wrapped__", _trainer.train)

    def capturing(*args, report, **kwargs):
        def both(message=None, *more, **options):
            messages.append(message)
            return report(message, *more, **options)

        return train(*args, report=both, **kwargs)

    capturing.__wrapped__ = train
    _trainer.train = capturing


def epoch_rate(message):
    """Distinct rows/s from a trainer line such as ``epoch 1/5: loss 2.1, 61,234 rows/s``."""
    return float(message.split(", ")[-1].split()[0].replace(",", ""))


def table(rows, columns):
    """A Markdown table of ``rows`` (dicts) with ``columns`` as (key, header, format)."""
    lines = [
        "| " + " | ".join(header for _, header, _ in columns) + " |",
        "|" + "|".join("---" for _ in columns) + "|",
    ]
    for row in rows:
        cells = []
        for key, _, fmt in columns:
            value = row.get(key)
            cells.append("" if value is None else format(value, fmt) if fmt else str(value))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_results(name, payload):
    """Write ``payload`` (plus the machine facts) to ``results/<name>.json``."""
    RESULTS.mkdir(exist_ok=True)
    payload = {"benchmark": name, "machine": machine(), **payload}
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2, default=float) + "\n")
    print(f"wrote {path}")
    return path
