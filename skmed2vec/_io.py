"""Atomic file writes: a temporary file in the same folder, then a rename."""

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_open", "atomic_write_bytes", "atomic_write_text"]


@contextmanager
def atomic_open(path, mode="wb", encoding=None):
    """Open a temporary file beside ``path``; on success it replaces ``path``.

    Readers see the old file or the whole new one, never a truncated file: if the
    block raises, the temporary file is removed and ``path`` is left as it was.
    """
    if mode not in {"w", "wb"}:
        raise ValueError(f"mode must be 'w' or 'wb', got {mode!r}.")
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        text = mode == "w"
        with os.fdopen(
            fd, mode, encoding=encoding if text else None, newline="\n" if text else None
        ) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path, text, encoding="utf-8"):
    """Write ``text`` to ``path`` so that readers see the old file or the whole new one."""
    with atomic_open(path, "w", encoding=encoding) as handle:
        handle.write(text)


def atomic_write_bytes(path, data):
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one."""
    with atomic_open(path, "wb") as handle:
        handle.write(data)
