"""The distinct training rows of a fit, in memory or memory-mapped from a temporary file."""

import numpy as np

from . import _scratch
from ._scratch import ScratchFolder

__all__ = ["TrainingRows"]

_ROW_BYTES = 12  # int32 target, int32 context, float32 weight
_COPY_ROWS = 1 << 22  # rows converted at once (bounds the temporaries)


class TrainingRows:
    """Distinct ``(target, context)`` rows with their float32 summed weights.

    Rows whose weight is 0 in float32 (sums too small to train anything) are
    dropped. The rows are converted chunk by chunk: from the arrays given, or
    from chunks as they are made (:meth:`from_chunks`), so the float64 table of
    all rows need never exist.

    Parameters
    ----------
    targets, contexts : ndarray of int of shape (n,)
    weights : ndarray of float of shape (n,)
    budget : int, default=None
        Bytes held in memory (12 per row before dropping zero weights);
        above it the rows go to a temporary file
        (``tempfile``'s folder: set ``TMPDIR`` to move it). None means
        scikit-learn's ``working_memory`` (:func:`skmed2vec._scratch.memory_budget`).

    Attributes
    ----------
    targets, contexts : ndarray of int32
    weights : ndarray of float32
    on_disk : bool
        Whether the arrays are memory-mapped from a temporary file, which
        :meth:`close` (or the end of a ``with`` block) removes.

    Examples
    --------
    >>> import numpy as np
    >>> rows = TrainingRows(np.array([0, 1, 2]), np.array([1, 0, 0]), np.array([2.0, 1e-50, 0.5]))
    >>> len(rows), rows.weights.tolist(), rows.on_disk
    (2, [2.0, 0.5], False)
    >>> with TrainingRows(np.array([0, 1]), np.array([1, 0]), np.ones(2), budget=0) as rows:
    ...     rows.on_disk, rows.targets.tolist()
    (True, [0, 1])
    """

    def __init__(self, targets, contexts, weights, *, budget=None):
        chunks = (
            (
                targets[lo : lo + _COPY_ROWS],
                contexts[lo : lo + _COPY_ROWS],
                weights[lo : lo + _COPY_ROWS],
            )
            for lo in range(0, len(targets), _COPY_ROWS)
        )
        self._fill(len(targets), chunks, budget)

    @classmethod
    def from_chunks(cls, n_rows, chunks, *, budget=None):
        """Rows from ``(targets, contexts, weights)`` chunks (``PairCounts.pair_weight_chunks``).

        Parameters
        ----------
        n_rows : int
            Rows in all the chunks (before dropping zero weights).
        chunks : iterable of (ndarray, ndarray, ndarray)
        budget : int, default=None
            As for the constructor.

        Returns
        -------
        TrainingRows
        """
        rows = cls.__new__(cls)
        rows._fill(n_rows, chunks, budget)
        return rows

    def _fill(self, n_rows, chunks, budget):
        budget = _scratch.memory_budget() if budget is None else budget
        self._folder = None
        self.on_disk = n_rows * _ROW_BYTES > budget
        if self.on_disk:
            self._folder = ScratchFolder("the training rows", n_rows * _ROW_BYTES)

            def allocate(name, dtype):
                return self._folder.array(name, dtype, n_rows)
        else:

            def allocate(name, dtype):
                return np.empty(n_rows, dtype=dtype)

        try:
            self._allocate_and_copy(n_rows, chunks, allocate)
        except BaseException:
            self.close()  # no file is left behind, whatever stopped the copy
            raise

    def _allocate_and_copy(self, n_rows, chunks, allocate):
        targets = allocate("targets", np.int32)
        contexts = allocate("contexts", np.int32)
        weights = allocate("weights", np.float32)
        at = 0
        for chunk_targets, chunk_contexts, chunk_weights in chunks:
            part = np.asarray(chunk_weights).astype(np.float32)
            keep = part != 0
            stop = at + int(np.count_nonzero(keep))
            targets[at:stop] = np.asarray(chunk_targets)[keep]
            contexts[at:stop] = np.asarray(chunk_contexts)[keep]
            weights[at:stop] = part[keep]
            at = stop
        if at < n_rows and not self.on_disk:
            # Rows were dropped: keep exact-size arrays, not views of larger ones.
            targets, contexts, weights = (
                targets[:at].copy(),
                contexts[:at].copy(),
                weights[:at].copy(),
            )
        self.targets, self.contexts, self.weights = targets[:at], contexts[:at], weights[:at]

    def __len__(self):
        return len(self.targets)

    def close(self):
        """Drop the arrays, and the temporary file if they were on disk."""
        self.targets = self.contexts = self.weights = None
        if self._folder is not None:
            self._folder.close()
            self._folder = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
