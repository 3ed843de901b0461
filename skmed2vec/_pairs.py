"""Context pairs from timelines: windows, temporal weights and aggregation."""

import numpy as np

__all__ = [
    "aggregate_pairs",
    "iter_chunks",
    "temporal_weight",
    "window_contexts",
    "window_pairs",
]


def temporal_weight(gaps, time_decay):
    """Weight of events ``gaps`` days apart: ``exp(-time_decay * |gap|)``.

    Underflows to 0 for huge gaps; never NaN for finite input.
    """
    return np.exp(-float(time_decay) * np.abs(gaps))


def iter_chunks(offsets, max_events):
    """Yield ``(first, stop)`` patient ranges holding at most ``max_events`` events.

    A patient with more events than ``max_events`` gets a chunk of its own.
    """
    n = len(offsets) - 1
    first = 0
    while first < n:
        stop = int(np.searchsorted(offsets, offsets[first] + max_events, side="right")) - 1
        stop = min(max(stop, first + 1), n)
        yield first, stop
        first = stop


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


def aggregate_pairs(left, right, weights, n_codes):
    """Sum the weights of identical ordered pairs, both directions included.

    Returns
    -------
    targets, contexts : ndarray of int64
        Distinct ``(target, context)`` pairs with a positive total weight.
    totals : ndarray of float64
        Summed weight of each pair.
    """
    keys = np.concatenate([left * n_codes + right, right * n_codes + left])
    distinct, inverse = np.unique(keys, return_inverse=True)
    totals = np.bincount(inverse, weights=np.concatenate([weights, weights]))
    positive = totals > 0
    distinct, totals = distinct[positive], totals[positive]
    return distinct // n_codes, distinct % n_codes, totals


def window_contexts(codes, times, lengths, window, max_gap=None):
    """Each event's context window as a padded matrix.

    Returns
    -------
    contexts : ndarray of int64 of shape (n_events, 2 * window)
        Codes of the ``window`` events before and after; 0 where padded.
    deltas : ndarray of float64 of shape (n_events, 2 * window)
        Days between the event and each context (0 where padded).
    mask : ndarray of bool of shape (n_events, 2 * window)
        True for real contexts.
    """
    n = len(codes)
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
