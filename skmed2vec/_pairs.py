"""Context pairs from timelines: windows, temporal weights and aggregation."""

import numpy as np

from ._weights import temporal_weight

__all__ = [
    "MAX_CACHED_PAIRS",
    "PairTotals",
    "aggregate_pairs",
    "window_contexts",
    "window_pairs",
    "window_weights",
]

#: Vocabularies with at most this many ``n_codes ** 2`` cells sum pair weights
#: in a dense array (32 MB): one pass, no sort and no hash.
_DENSE_CELLS = 1 << 22

#: Distinct ordered pairs held in memory across epochs: at most 240 MB as
#: int32 codes and float32 weights (counting them peaks at 8 bytes more per
#: pair). Corpora with more are streamed chunk by chunk, every epoch.
MAX_CACHED_PAIRS = 20_000_000

#: Keys turned into directed rows at once.
_DIRECTION_CHUNK = 1 << 20


def window_pairs(codes, times, lengths, window, max_gap=None):
    """Pairs of events at most ``window`` positions apart in the same timeline.

    Each unordered pair is listed once, the earlier event first.

    Parameters
    ----------
    codes, times : ndarray of shape (n_events,)
        Events sorted by patient then time.
    lengths : ndarray of shape (n_patients,)
        Events per patient.
    window : int
        Events on each side that count as context.
    max_gap : float, default=None
        Pairs more than this many days apart are dropped.

    Returns
    -------
    left, right : ndarray
        Codes of the earlier and later event of each pair.
    gaps : ndarray of float64
        Days between them (>= 0).
    """
    patient = np.repeat(np.arange(len(lengths)), lengths)
    left, right, gaps = [], [], []
    n = len(codes)
    for offset in range(1, min(window, max(n - 1, 0)) + 1):
        valid = patient[offset:] == patient[:-offset]
        gap = times[offset:] - times[:-offset]
        if max_gap is not None:
            valid &= gap <= max_gap
        first = np.flatnonzero(valid)
        left.append(codes[first])
        right.append(codes[first + offset])
        gaps.append(gap[first])
    if not left:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    return np.concatenate(left), np.concatenate(right), np.concatenate(gaps)


def window_weights(codes, times, lengths, window, time_decay, max_gap=None):
    """Weighted pairs of events at most ``window`` positions apart, one offset at a time.

    The same pairs as :func:`window_pairs` with their :func:`temporal_weight`,
    without copying: each offset yields views of ``codes`` and a weight array
    that is 0 for pairs spanning two patients or more than ``max_gap`` days,
    which is what summing pair weights needs (zero totals are dropped).

    Yields
    ------
    left, right : ndarray
        Codes of the earlier and later event (views of ``codes``).
    weights : ndarray of float64
    """
    n = len(codes)
    lengths = np.asarray(lengths, dtype=np.int64)
    position = np.arange(n) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    for offset in range(1, min(window, max(n - 1, 0)) + 1):
        gaps = times[offset:] - times[:-offset]
        weights = temporal_weight(gaps, time_decay)
        weights[position[offset:] < offset] = 0.0
        if max_gap is not None:
            weights[gaps > max_gap] = 0.0
        yield codes[:-offset], codes[offset:], weights


def _sum_by_key(keys, weights, n_cells):
    """Distinct ``keys`` (sorted) with a positive summed weight, and the sums.

    Small key spaces are summed by a dense ``bincount``; large ones by a hash
    (``pandas.factorize``), then only the distinct keys are sorted.
    """
    if n_cells <= _DENSE_CELLS:
        totals = np.bincount(keys, weights=weights, minlength=n_cells)
        distinct = np.flatnonzero(totals > 0)
        return distinct, totals[distinct]
    import pandas as pd

    codes, distinct = pd.factorize(keys, sort=False)
    totals = np.bincount(codes, weights=weights, minlength=len(distinct))
    order = np.argsort(distinct)
    distinct, totals = np.asarray(distinct)[order], totals[order]
    positive = totals > 0
    return distinct[positive], totals[positive]


def _merge_sorted(keys, totals, new_keys, new_totals):
    """Merge two sets of distinct sorted keys, summing the totals of shared keys.

    The held keys are looked up with a binary search and the new ones
    inserted: no hash table and no copy beyond the merged arrays. ``totals``
    is updated in place.
    """
    position = np.searchsorted(keys, new_keys)
    found = position < keys.size
    found[found] = keys[position[found]] == new_keys[found]
    totals[position[found]] += new_totals[found]
    fresh = ~found
    return (
        np.insert(keys, position[fresh], new_keys[fresh]),
        np.insert(totals, position[fresh], new_totals[fresh]),
    )


def _unordered_keys(left, right, n_codes):
    """``min * n_codes + max`` of each pair: one key per unordered pair."""
    left = np.asarray(left, dtype=np.int64)
    right = np.asarray(right, dtype=np.int64)
    return np.minimum(left, right) * n_codes + np.maximum(left, right)


def _both_directions(keys, totals, n_codes):
    """Ordered ``(target, context, total)`` from unordered keys.

    ``(a, b)`` gives ``a -> b`` and ``b -> a``; a self pair ``(a, a)`` gives
    ``a -> a`` once with twice the weight, as it is its own reverse. Codes
    come out as int32 (vocabularies are far below 2**31 codes), written
    straight into the outputs.
    """
    n_rows, chunks = both_direction_chunks(keys, totals, n_codes)
    targets = np.empty(n_rows, dtype=np.int32)
    contexts = np.empty(n_rows, dtype=np.int32)
    weights = np.empty(n_rows, dtype=np.float64)
    at = 0
    for chunk_targets, chunk_contexts, chunk_weights in chunks:
        stop = at + chunk_targets.size
        targets[at:stop], contexts[at:stop], weights[at:stop] = (
            chunk_targets, chunk_contexts, chunk_weights
        )  # fmt: skip
        at = stop
    return targets, contexts, weights


def both_direction_chunks(keys, totals, n_codes, chunk_keys=_DIRECTION_CHUNK):
    """The rows of :func:`_both_directions`, in its order, a few million at a time.

    Returns the number of rows and an iterator of ``(targets, contexts,
    weights)`` chunks: first every key's ``low -> high`` row (a self pair's
    weight doubled), then the ``high -> low`` rows of the keys that are not
    self pairs. A consumer that converts each chunk never holds the whole
    float64 table.
    """

    def split(lo):
        low, high = np.divmod(keys[lo : lo + chunk_keys], n_codes)
        return low, high, low != high, totals[lo : lo + chunk_keys]

    starts = range(0, keys.size, chunk_keys)

    def mirrored(lo):  # keys that are not self pairs (their totals are not read)
        low, high = np.divmod(keys[lo : lo + chunk_keys], n_codes)
        return int(np.count_nonzero(low != high))

    n_mirrored = sum(mirrored(lo) for lo in starts)

    def chunks():
        for lo in starts:
            low, high, mirrored, total = split(lo)
            yield low.astype(np.int32), high.astype(np.int32), total * np.where(mirrored, 1.0, 2.0)
        for lo in starts:
            low, high, mirrored, total = split(lo)
            yield high[mirrored].astype(np.int32), low[mirrored].astype(np.int32), total[mirrored]

    return keys.size + n_mirrored, chunks()


def aggregate_pairs(left, right, weights, n_codes):
    """Sum the weights of identical ordered pairs, both directions included.

    Each pair ``(a, b)`` counts for ``a -> b`` and for ``b -> a``. The sums
    run over unordered pairs (half the keys) in a dense array for small
    vocabularies and a hash table otherwise; nothing sorts the pairs.

    Returns
    -------
    targets, contexts : ndarray of int32
        Distinct ``(target, context)`` pairs with a positive total weight.
    totals : ndarray of float64
        Summed weight of each pair.
    """
    totals = PairTotals(n_codes)
    totals.add(left, right, weights)
    return totals.result()


class PairTotals:
    """Summed weights of unordered code pairs, accumulated chunk after chunk.

    Memory is bounded by the distinct pairs seen (at most ``n_codes ** 2``),
    not by the events: each chunk's pairs are summed and merged, then freed.

    Parameters
    ----------
    n_codes : int
        Vocabulary size.
    max_pairs : int, default=None
        Give up (``add`` returns False and the totals are dropped) once more
        than this many distinct ordered pairs are held.

    Examples
    --------
    >>> import numpy as np
    >>> totals = PairTotals(4)
    >>> totals.add(np.array([1, 1]), np.array([2, 3]), np.array([0.5, 1.0]))
    True
    >>> totals.add(np.array([2]), np.array([1]), np.array([0.25]))
    True
    >>> targets, contexts, weights = totals.result()
    >>> sorted(zip(targets.tolist(), contexts.tolist(), weights.tolist()))
    [(1, 2, 0.75), (1, 3, 1.0), (2, 1, 0.75), (3, 1, 1.0)]
    """

    def __init__(self, n_codes, max_pairs=None):
        self.n_codes = int(n_codes)
        self.max_pairs = max_pairs
        self.n_cells = self.n_codes**2
        self._dense = np.zeros(self.n_cells) if self.n_cells <= _DENSE_CELLS else None
        self._keys = np.zeros(0, dtype=np.int64)
        self._totals = np.zeros(0)
        self.overflowed = False

    def add(self, left, right, weights):
        """Add pairs (zero weights allowed); return False once over ``max_pairs``."""
        if self.overflowed:
            return False
        keys = _unordered_keys(left, right, self.n_codes)
        weights = np.asarray(weights, dtype=np.float64)
        if self._dense is not None:
            self._dense += np.bincount(keys, weights=weights, minlength=self.n_cells)
            return True
        keys, totals = _sum_by_key(keys, weights, self.n_cells)
        self._keys, self._totals = _merge_sorted(self._keys, self._totals, keys, totals)
        if self.max_pairs is not None and 2 * self._keys.size > self.max_pairs:
            self.overflowed = True
            self._keys, self._totals = self._keys[:0], self._totals[:0]
            return False
        return True

    def result(self):
        """``(targets, contexts, totals)`` as :func:`aggregate_pairs` returns them."""
        if self._dense is not None:
            keys = np.flatnonzero(self._dense > 0)
            totals = self._dense[keys]
        else:
            keys, totals = self._keys, self._totals
        return _both_directions(keys, totals, self.n_codes)


def window_contexts(codes, times, lengths, window, max_gap=None):
    """Each event's context window as a padded matrix.

    Returns
    -------
    contexts : ndarray of int64 of shape (n_events, 2 * w)
        Codes of the ``w`` events before and after; 0 where padded. ``w`` is
        ``window``, or less when no timeline is that long (a window wider
        than every timeline would only add padding).
    deltas : ndarray of float64 of shape (n_events, 2 * w)
        Days between the event and each context (0 where padded).
    mask : ndarray of bool of shape (n_events, 2 * w)
        True for real contexts.
    """
    n = len(codes)
    window = max(1, min(window, int(np.max(lengths, initial=1)) - 1))
    patient = np.repeat(np.arange(len(lengths)), lengths)
    steps = np.concatenate([-np.arange(window, 0, -1), np.arange(1, window + 1)])
    position = np.arange(n)[:, None] + steps[None, :]
    inside = (position >= 0) & (position < n)
    position = np.where(inside, position, 0)
    mask = inside & (patient[position] == patient[:, None])
    deltas = np.where(mask, times[position] - times[:, None], 0.0)
    if max_gap is not None:
        mask &= np.abs(deltas) <= max_gap
        deltas = np.where(mask, deltas, 0.0)
    return np.where(mask, codes[position], 0), deltas, mask
