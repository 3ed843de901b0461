"""Atomic file writes: a temporary file in the same folder, then a rename."""

import os
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_open", "atomic_write_bytes", "atomic_write_text"]


@contextmanager
def atomic_open(path, mode="wb", encoding=None):
    """Open a temporary file beside ``path``; on success it replaces ``path``.

    Readers see the old file or the whole new one, never a truncated file: if the
    block raises, the temporary file is removed and ``path`` is left as it was.
    The new file has the mode of the file it replaces, or else the mode a plain
    ``open`` would give it under the umask.
    """
    if mode not in {"w", "wb"}:
        raise ValueError(f"mode must be 'w' or 'wb', got {mode!r}.")
    path = Path(path)
    if not path.parent.is_dir():
        problem = "is not a folder" if path.parent.exists() else "does not exist"
        raise FileNotFoundError(f"cannot write {path}: {path.parent} {problem}.")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp makes the file private (0600); give it the mode open() would:
        # the replaced file's, or the default under the umask for a new one.
        try:
            file_mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            file_mode = 0o666 & ~_umask()
        os.chmod(tmp, file_mode)
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


def _umask():
    """The process's umask, read without changing it where the system allows."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)  # elsewhere: set and restore at once
    os.umask(mask)
    return mask


def atomic_write_text(path, text, encoding="utf-8"):
    """Write ``text`` to ``path`` so that readers see the old file or the whole new one."""
    with atomic_open(path, "w", encoding=encoding) as handle:
        handle.write(text)


def atomic_write_bytes(path, data):
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one."""
    with atomic_open(path, "wb") as handle:
        handle.write(data)
