"""Patient ranges of bounded size, so large corpora are processed piece by piece."""

import numpy as np

__all__ = ["iter_chunks"]


def iter_chunks(offsets, max_events):
    """Yield ``(first, stop)`` patient ranges holding at most ``max_events`` events.

    A patient with more events than ``max_events`` gets a chunk of its own.

    Examples
    --------
    >>> list(iter_chunks([0, 3, 5, 9, 10], 5))
    [(0, 2), (2, 4)]
    """
    n = len(offsets) - 1
    first = 0
    while first < n:
        stop = int(np.searchsorted(offsets, offsets[first] + max_events, side="right")) - 1
        stop = min(max(stop, first + 1), n)
        yield first, stop
        first = stop
