"""Patient feature rows: aggregation of code vectors over a timeline."""

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ._chunks import iter_chunks
from ._weights import temporal_weight

__all__ = [
    "AGGREGATIONS",
    "CODE_WEIGHTINGS",
    "code_document_counts",
    "code_weights_for",
    "inverse_document_frequency",
    "patient_features",
    "smoothed_idf",
]

#: Ways to turn a patient's code vectors into one row.
AGGREGATIONS = ("recency", "mean", "max")

#: Per-code weights of the ``"recency"`` and ``"mean"`` blocks.
CODE_WEIGHTINGS = ("idf",)

_CHUNK_EVENTS = 200_000


def code_document_counts(codes, lengths, n_codes):
    """Timelines (of consecutive ``lengths``) in which each code occurs."""
    timeline = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
    # Hashing (pd.unique), not sorting (np.unique): the keys need no order.
    keys = pd.unique(timeline * n_codes + codes)
    return np.bincount(keys % n_codes, minlength=n_codes).astype(np.int64)


def smoothed_idf(document_counts, n_documents):
    """``ln((1 + n) / (1 + df)) + 1``: scikit-learn's smoothed idf."""
    return np.log((1.0 + n_documents) / (1.0 + np.asarray(document_counts))) + 1.0


def inverse_document_frequency(X):
    """Smoothed idf of each code over the timelines of ``X`` that have events.

    ``X`` is encoded and cut at its prediction times; see :func:`smoothed_idf`.

    Examples
    --------
    >>> import numpy as np
    >>> from skmed2vec._timelines import Timelines
    >>> X = Timelines(np.array([0, 1, 0]), np.zeros(3), [0, 2, 3], code_names=["A", "B"])
    >>> np.round(inverse_document_frequency(X), 3).tolist()
    [1.0, 1.405]
    """
    n_codes = len(X.code_names)
    df = np.zeros(n_codes, dtype=np.int64)
    for first, stop in iter_chunks(X.offsets, _CHUNK_EVENTS):
        lo, hi = X.offsets[first], X.offsets[stop]
        df += code_document_counts(X.codes[lo:hi], np.diff(X.offsets[first : stop + 1]), n_codes)
    return smoothed_idf(df, int((X.lengths > 0).sum()))


def code_weights_for(weighting, idf):
    """Per-code factors of the mean blocks for ``code_weighting`` (None: none).

    ``idf`` is the fitted ``code_idf_`` (None for models fitted without it).
    """
    if weighting is None:
        return None
    if weighting not in CODE_WEIGHTINGS:
        raise ValueError(
            f"code_weighting must be one of {CODE_WEIGHTINGS} or None; got {weighting!r}."
        )
    if idf is None:
        raise ValueError(
            "code_weighting='idf' needs code_idf_, the codes' document frequencies over "
            "the training timelines; this embedder was fitted by an earlier version or "
            "with fit_counts on counts saved by one. Refit it (or recount), or set "
            "code_weighting=None."
        )
    return idf


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


def patient_features(vectors, X, time_decay, aggregations, code_weights=None):
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
    code_weights : ndarray of shape (n_codes,), default=None
        Factor on each event's weight in the ``"recency"`` and ``"mean"``
        blocks, by code (e.g. :func:`inverse_document_frequency`).

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
    if X.n_events == 0:  # every timeline empty (or cut by its prediction time)
        return np.zeros((len(X), vectors.shape[1] * len(aggregations)), dtype=np.float32)
    lengths = X.lengths
    blocks = []
    for aggregation in aggregations:
        if aggregation == "max":
            blocks.append(_maxima(vectors, X.codes, X.offsets))
            continue
        if aggregation == "recency":
            last = np.repeat(X.last_times(), lengths)
            weights = temporal_weight(last - X.times, time_decay)
        else:
            weights = np.ones(X.n_events)
        if code_weights is not None:
            weights = weights * code_weights[X.codes]
        blocks.append(_weighted_means(vectors, X.codes, weights, lengths))
    return np.hstack(blocks).astype(np.float32, copy=False)
