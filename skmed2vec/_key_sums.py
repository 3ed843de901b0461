"""Exact integer sums over sorted int64 keys: summing, merging, in memory or on disk.

Counts are sorted distinct keys with int64 values. Merged counts above a
quarter of the memory budget (:func:`skmed2vec._scratch.memory_budget`) are
merged block by block into memory-mapped temporary files.
"""

import numpy as np
import pandas as pd

from . import _scratch

__all__ = [
    "KEY_BYTES",
    "bin_totals",
    "counts_budget",
    "merge_block",
    "merge_counts_arrays",
    "sum_by_key",
    "tree",
]

#: ``np.bincount`` sums float64 exactly below 2**53: with ``_SPLIT_BITS``-bit
#: halves, up to 2**(53 - 26) = 134M pairs per call.
_SPLIT_BITS = 26
_MAX_PAIRS_PER_SUM = 1 << (53 - _SPLIT_BITS)
_DENSE_KEYS = 1 << 22
KEY_BYTES = 16  # int64 key and int64 value
#: Keys taken from each side at once when a merge goes to disk (None: from the budget).
_MERGE_BLOCK = None


def counts_budget():
    """Bytes of keys and values a merged count holds in memory (a quarter of the budget)."""
    return _scratch.memory_budget() // 4


def merge_block():
    """Keys per side and block of an on-disk merge: one per 128 bytes of :func:`counts_budget`.

    A block's temporaries stay within the counts' share (13.7 MB measured for a
    16 MB share, merging two 3M-key counts), and at least 65,536 keys a block.
    """
    return _MERGE_BLOCK or max(1 << 16, counts_budget() // 128)


def sum_by_key(keys, units=None):
    """Sorted distinct ``keys`` and the exact int64 sum of their ``units`` (1 each if None).

    Sums run through ``np.bincount`` on two 26-bit halves of the units, each
    summed exactly in float64; keys with a zero sum are dropped.
    """
    keys = np.asarray(keys, dtype=np.int64)
    if keys.size > _MAX_PAIRS_PER_SUM:
        parts = [
            sum_by_key(keys[i : i + _MAX_PAIRS_PER_SUM], _slice(units, i))
            for i in range(0, keys.size, _MAX_PAIRS_PER_SUM)
        ]
        return tree(parts, lambda a, b: _merge_sorted(*a, *b))
    if keys.size == 0:
        return keys, np.zeros(0, dtype=np.int64)
    if int(keys.max()) < _DENSE_KEYS:
        index, distinct = keys, None
        n = int(keys.max()) + 1
    else:
        index, distinct = pd.factorize(keys, sort=False)
        distinct = np.asarray(distinct, dtype=np.int64)
        n = distinct.size
    if units is None:
        sums = np.bincount(index, minlength=n).astype(np.int64)
    else:
        high, low = np.divmod(np.asarray(units, dtype=np.int64), 1 << _SPLIT_BITS)
        sums = np.bincount(index, weights=high, minlength=n).astype(np.int64) << _SPLIT_BITS
        sums += np.bincount(index, weights=low, minlength=n).astype(np.int64)
    if distinct is None:
        found = np.flatnonzero(sums)
        return found.astype(np.int64), sums[found]
    order = np.argsort(distinct)
    distinct, sums = distinct[order], sums[order]
    positive = sums != 0
    return distinct[positive], sums[positive]


def _slice(units, start):
    return None if units is None else units[start : start + _MAX_PAIRS_PER_SUM]


def _merge_sorted(keys, values, new_keys, new_values):
    """Union of two sorted distinct key sets, adding the int64 values of shared keys."""
    if keys.size < new_keys.size:
        keys, values, new_keys, new_values = new_keys, new_values, keys, values
    if new_keys.size == 0:
        return keys, values
    if (
        values.size
        and new_values.size
        and int(values.max()) > np.iinfo(np.int64).max - int(new_values.max())
    ):
        raise OverflowError("a pair total exceeds the int64 range; count fewer events per total.")
    position = np.searchsorted(keys, new_keys)
    found = position < keys.size
    found[found] = keys[position[found]] == new_keys[found]
    values = values.copy()
    values[position[found]] += new_values[found]
    fresh = ~found
    return (
        np.insert(keys, position[fresh], new_keys[fresh]),
        np.insert(values, position[fresh], new_values[fresh]),
    )


def merge_counts_arrays(keys, values, new_keys, new_values):
    """:func:`_merge_sorted`, in memory or, above :func:`counts_budget`, on disk.

    Returns the merged keys and values and the :class:`~skmed2vec._scratch.ScratchFolder`
    holding them (None in memory). On disk, the merge runs block by block
    (at most :func:`merge_block` keys of each side at once), so its memory
    does not grow with the counts.
    """
    n = keys.size + new_keys.size
    if n * KEY_BYTES <= counts_budget():
        return (*_merge_sorted(keys, values, new_keys, new_values), None)
    folder = _scratch.ScratchFolder("the pair counts", n * KEY_BYTES)
    block = merge_block()
    try:
        out_keys = folder.array("keys", np.int64, n)
        out_values = folder.array("values", np.int64, n)
        at = i = j = 0
        while i < keys.size or j < new_keys.size:
            # Up to the smaller of the two sides' keys one block ahead.
            ahead = [side[k + block] for side, k in ((keys, i), (new_keys, j))
                     if k + block < side.size]  # fmt: skip
            if ahead:
                bound = min(ahead)
                i_stop, j_stop = np.searchsorted(keys, bound), np.searchsorted(new_keys, bound)
            else:
                i_stop, j_stop = keys.size, new_keys.size
            part_keys, part_values = _merge_sorted(
                np.asarray(keys[i:i_stop]),
                np.asarray(values[i:i_stop]),
                np.asarray(new_keys[j:j_stop]),
                np.asarray(new_values[j:j_stop]),
            )
            out_keys[at : at + part_keys.size] = part_keys
            out_values[at : at + part_keys.size] = part_values
            at, i, j = at + part_keys.size, int(i_stop), int(j_stop)
    except BaseException:
        folder.close()
        raise
    return out_keys[:at], out_values[:at], folder


def tree(items, merge, *, owned=False):
    """Merge ``items`` as they come, as a balanced tree (at most log2(n) held at once).

    Items are taken one at a time (a generator of counts loaded from files is
    never held whole), and equal levels are merged, so the result does not
    depend on how many items there are. If anything stops the merge, the
    temporary files of the partial results held (counts merged on disk) are
    removed at once, not when a kept traceback lets them go; the items given
    are left alone unless they are ``owned`` (made for this merge), and an
    iterator that can be closed is closed.

    Returns None when there is no item.
    """
    stack, made = [], set()  # (level, item); ids of the partial sums held
    item = left = None

    def merged(a, b):
        result = merge(a, b)
        made.difference_update((id(a), id(b)))
        made.add(id(result))
        return result

    try:
        for item in items:
            level = 0
            while stack and stack[-1][0] == level:
                left = stack.pop()[1]
                item, left = merged(left, item), None
                level += 1
            stack.append((level, item))
        if not stack:
            return None
        item = stack.pop()[1]
        while stack:
            left = stack.pop()[1]
            item, left = merged(left, item), None
        return item
    except BaseException:
        if hasattr(items, "close"):
            items.close()  # joblib stops dispatching the remaining tasks
        for held in [item, left, *(held for _, held in stack)]:
            if owned or id(held) in made:
                _scratch.release(held)
        raise


def bin_totals(keys, counts, bin_weights, n_bins):
    """Per-bin counts summed into one weight per pair, block by block.

    ``keys`` are ``pair * n_bins + bin``, sorted; each block ends on a pair
    boundary; ``bin_weights`` is the weight of each bin. Returns the pairs with a
    positive total, their totals (float64) and the
    :class:`~skmed2vec._scratch.ScratchFolder` holding them when they are above
    :func:`counts_budget` (else None).
    """
    n, block = keys.size, merge_block()
    folder = None
    if n * KEY_BYTES > counts_budget():
        folder = _scratch.ScratchFolder("the pair totals", n * KEY_BYTES)
    try:
        if folder is None:
            out_keys, out_totals = np.empty(n, np.int64), np.empty(n)
        else:
            out_keys, out_totals = (
                folder.array("keys", np.int64, n),
                folder.array("totals", float, n),
            )
        at = _sum_bins(keys, counts, bin_weights, n_bins, block, out_keys, out_totals)
    except BaseException:
        if folder is not None:
            folder.close()  # no file left behind, whatever stopped the sums
        raise
    if folder is None:
        return out_keys[:at].copy(), out_totals[:at].copy(), None
    return out_keys[:at], out_totals[:at], folder


def _sum_bins(keys, counts, bin_weights, n_bins, block, out_keys, out_totals):
    """Fill :func:`bin_totals`' outputs block by block; return how many pairs."""
    n = keys.size
    at = lo = 0
    while lo < n:
        hi = min(lo + block, n)
        if hi < n:  # extend to the end of the last pair's bins
            hi = int(np.searchsorted(keys, (int(keys[hi - 1]) // n_bins + 1) * n_bins))
        pairs, bins = np.divmod(np.asarray(keys[lo:hi]), n_bins)
        weights = np.asarray(counts[lo:hi]) * bin_weights[bins]
        starts = np.flatnonzero(np.concatenate([[True], pairs[1:] != pairs[:-1]]))
        totals = np.add.reduceat(weights, starts)
        positive = totals > 0
        stop = at + int(np.count_nonzero(positive))
        out_keys[at:stop], out_totals[at:stop] = pairs[starts][positive], totals[positive]
        at, lo = stop, hi
    return at
