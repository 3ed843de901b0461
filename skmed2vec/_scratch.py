"""Scratch arrays on disk: memory-mapped temporary files for data above a memory budget."""

import errno
import os
import tempfile
from pathlib import Path

import numpy as np

__all__ = [
    "MEMORY_BUDGET",
    "ClosingChunks",
    "ScratchFolder",
    "memory_budget",
    "release",
    "size_text",
]

#: Bytes that override :func:`memory_budget` (None: scikit-learn's ``working_memory``).
MEMORY_BUDGET = None


def memory_budget():
    """Bytes of training rows held in memory; pair counts get a quarter of it.

    scikit-learn's ``working_memory`` (MiB, default 1024), set with
    ``sklearn.set_config(working_memory=...)`` or ``sklearn.config_context``.
    Larger arrays are written to a temporary file and memory-mapped: the
    operating system pages them in as they are read and can drop them under
    pressure.
    """
    if MEMORY_BUDGET is not None:
        return MEMORY_BUDGET
    from sklearn import get_config

    return int(get_config()["working_memory"] * (1 << 20))


class ScratchFolder:
    """A temporary folder of memory-mapped arrays, removed by :meth:`close` or when collected.

    The folder is made in ``TMPDIR`` as set (not ``tempfile``'s silent fallback
    to another folder when ``TMPDIR`` cannot be written), and each array's disk
    space is claimed before it is written, so a full disk is an ``OSError``
    naming the folder rather than a ``SIGBUS`` halfway through.

    Parameters
    ----------
    what : str
        What the files hold, for messages (e.g. ``"the training rows"``).
    n_bytes : int
        Expected size, for messages.

    Examples
    --------
    >>> with ScratchFolder("an example", 80) as folder:
    ...     array = folder.array("values", np.float64, 10)
    ...     array[:] = 1.0
    ...     float(array.sum())
    10.0
    """

    def __init__(self, what, n_bytes):
        self.what = what
        where = tempfile.tempdir or os.environ.get("TMPDIR") or None
        where = None if where is None else os.path.abspath(where)
        try:
            self._folder = tempfile.TemporaryDirectory(
                prefix="skmed2vec-", dir=where, ignore_cleanup_errors=True
            )
        except OSError as error:
            raise OSError(
                f"{what} ({size_text(n_bytes)}) go to a temporary file, but the folder "
                f"{where or tempfile.gettempdir()} cannot hold it "
                f"({error.strerror or error}); set TMPDIR to a writable folder."
            ) from None
        self.path = Path(self._folder.name)

    def array(self, name, dtype, n):
        """A new memory-mapped array of ``n`` values, its disk space claimed."""
        path = self.path / f"{name}.npy"
        try:
            array = np.lib.format.open_memmap(path, mode="w+", dtype=dtype, shape=(n,))
        except OSError as error:  # a full disk fails already on the file's header
            _refuse_full_disk(error, path, self.what, n * np.dtype(dtype).itemsize)
            raise
        _reserve(path, self.what)
        return array

    def close(self):
        """Remove the folder and its files (mapped arrays stay readable on POSIX systems)."""
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def release(owner):
    """Remove the temporary files of ``owner`` (counts merged on disk) now, if it has any."""
    folder = getattr(owner, "_scratch", None)
    if folder is not None:
        folder.close()


def _reserve(path, what):
    """Claim the disk space of a memory-mapped file before writing into it.

    Writing into a mapping whose pages the disk cannot hold kills the process
    (SIGBUS) instead of raising; claimed up front, a full disk is an OSError
    naming the folder. Where the system cannot claim space, nothing is done.
    """
    if not hasattr(os, "posix_fallocate"):
        return
    n_bytes = os.path.getsize(path)
    with open(path, "r+b") as handle:
        try:
            os.posix_fallocate(handle.fileno(), 0, n_bytes)
        except OSError as error:
            _refuse_full_disk(error, path, what, n_bytes)
            # EOPNOTSUPP and the like: the file system cannot reserve; go on.


def _refuse_full_disk(error, path, what, n_bytes):
    """Raise a full disk's error naming the folder and the size; others are the caller's."""
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        raise OSError(
            error.errno,
            f"no space for the temporary file of {what} in {path.parent.parent} "
            f"(about {size_text(n_bytes)} needed); free space or set TMPDIR "
            "to a larger folder",
        ) from None


def size_text(n_bytes):
    """A size for messages: GiB, or MiB below one."""
    if n_bytes < 2**20:
        return f"{n_bytes / 2**10:.1f} KiB"
    return f"{n_bytes / 2**30:.2f} GiB" if n_bytes >= 2**30 else f"{n_bytes / 2**20:.1f} MiB"


class ClosingChunks:
    """Chunks of rows read from ``folder``'s arrays; the folder goes once they are
    read or :meth:`close` is called (a generator's ``finally`` would not run
    before it starts, nor while a kept traceback holds it)."""

    def __init__(self, chunks, folder):
        self._chunks, self._folder = iter(chunks), folder

    def __iter__(self):
        return self

    def __next__(self):
        try:
            return next(self._chunks)
        except StopIteration:
            self.close()
            raise

    def close(self):
        if self._folder is not None:
            self._folder.close()
        self._folder = None
