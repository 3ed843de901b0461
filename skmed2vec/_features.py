"""Patient feature rows: aggregation of code vectors over a timeline."""

import numpy as np
import scipy.sparse as sp

from ._chunks import iter_chunks
from ._weights import temporal_weight

__all__ = ["AGGREGATIONS", "patient_features"]

#: Ways to turn a patient's code vectors into one row.
AGGREGATIONS = ("recency", "mean", "max")

_CHUNK_EVENTS = 200_000


def _weighted_means(vectors, codes, weights, lengths):
    """Per-patient weighted mean as a sparse (patients x codes) product."""
    n = len(lengths)
    patient = np.repeat(np.arange(n), lengths)
    mix = sp.csr_matrix((weights, (patient, codes)), shape=(n, vectors.shape[0]))
    totals = np.bincount(patient, weights=weights, minlength=n)
    sums = np.asarray(mix @ vectors, dtype=np.float64)
    np.divide(sums, totals[:, None], out=sums, where=totals[:, None] > 0)
    return sums


def _maxima(vectors, codes, offsets):
    out = np.zeros((len(offsets) - 1, vectors.shape[1]), dtype=vectors.dtype)
    for first, stop in iter_chunks(offsets, _CHUNK_EVENTS):
        starts = offsets[first:stop]
        nonempty = np.diff(offsets[first : stop + 1]) > 0
        rows = vectors[codes[offsets[first] : offsets[stop]]]
        if rows.size:
            reduced = np.maximum.reduceat(rows, starts[nonempty] - offsets[first], axis=0)
            out[first:stop][nonempty] = reduced
    return out


def patient_features(vectors, X, time_decay, aggregations):
    """One row per patient from the vectors of its codes.

    Parameters
    ----------
    vectors : ndarray of shape (n_codes, embed_dim)
    X : Timelines
        Encoded timelines, already cut at their prediction times.
    time_decay : float
        Decay per day of the ``"recency"`` weights.
    aggregations : sequence of {"recency", "mean", "max"}
        Blocks to concatenate, in order.

    Returns
    -------
    ndarray of float32 of shape (n_patients, embed_dim * len(aggregations))
        Empty timelines give rows of zeros.

    Notes
    -----
    ``"recency"`` is the mean weighted by ``exp(-time_decay * (T - t))``,
    with ``T`` the prediction time. The weights are computed relative to the
    patient's last event: the constant factor cancels in the mean and no
    patient's weights can all underflow to zero.
    """
    lengths = X.lengths
    blocks = []
    for aggregation in aggregations:
        if aggregation == "max":
            blocks.append(_maxima(vectors, X.codes, X.offsets))
            continue
        if aggregation == "recency":
            last = np.repeat(X.times[np.maximum(X.offsets[1:] - 1, 0)], lengths)
            weights = temporal_weight(last - X.times, time_decay)
        else:
            weights = np.ones(X.n_events)
        blocks.append(_weighted_means(vectors, X.codes, weights, lengths))
    return np.hstack(blocks).astype(np.float32, copy=False)
