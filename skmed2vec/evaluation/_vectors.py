"""Embeddings in any supported form as (vectors, codes, counts); similarity blocks."""

import logging

import numpy as np
import pandas as pd

from .._base import UNKNOWN
from .._codes import split_system
from .._vectors import unit_rows

__all__ = [
    "as_keyed_vectors",
    "block_rows",
    "code_systems",
    "known_codes",
    "present_pairs",
    "top_k",
]

logger = logging.getLogger(__name__)

# Upper bound on the number of cells of one block of similarities (or bootstrap
# weights), so that memory stays bounded whatever the vocabulary size.
BLOCK_ELEMENTS = 2**23
_MAX_BLOCK_ROWS = 1024
_EMBEDDINGS_ACCEPTED = (
    "a fitted skmed2vec embedder (with codes_ and code_vectors_), a gensim KeyedVectors "
    "or Word2Vec model, a pandas DataFrame indexed by code, or a tuple "
    "(vectors, codes) or (vectors, codes, counts)"
)


def _as_float_matrix(vectors):
    try:
        vectors = np.asarray(vectors)
        if vectors.dtype not in (np.float32, np.float64):
            vectors = vectors.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"embeddings: vectors must be numeric, got an array of dtype "
            f"{getattr(vectors, 'dtype', type(vectors).__name__)}"
        ) from exc
    if vectors.ndim != 2 or vectors.shape[0] == 0 or vectors.shape[1] == 0:
        raise ValueError(
            f"embeddings: vectors must be a non-empty 2-D array (n_codes, n_dims), "
            f"got shape {vectors.shape}"
        )
    if not np.isfinite(vectors).all():
        raise ValueError("embeddings: vectors must be finite, got NaN or infinite values")
    return vectors


def as_keyed_vectors(embeddings):
    """Return ``(vectors, codes, counts)`` from any supported embeddings object.

    Parameters
    ----------
    embeddings : object
        A fitted skmed2vec embedder (``codes_``, ``code_vectors_`` and optionally
        ``code_counts_``), a gensim ``KeyedVectors`` or ``Word2Vec`` model, a
        pandas DataFrame indexed by code, or a tuple ``(vectors, codes)`` or
        ``(vectors, codes, counts)``.

    Returns
    -------
    vectors : ndarray of shape (n_codes, n_dims)
        float32 or float64 vectors, one row per code.
    codes : ndarray of str of shape (n_codes,)
        The code of each row.
    counts : ndarray of shape (n_codes,) or None
        Training occurrences per code, when known. The counts gensim makes
        up for a word2vec file (``n, n - 1, ..., 1`` in file order) are
        not known counts: None.
    """
    counts = None
    if hasattr(embeddings, "codes_") and hasattr(embeddings, "code_vectors_"):
        vectors, codes = embeddings.code_vectors_, embeddings.codes_
        counts = getattr(embeddings, "code_counts_", None)
    elif hasattr(embeddings, "wv") and hasattr(embeddings.wv, "index_to_key"):
        return as_keyed_vectors(embeddings.wv)
    elif hasattr(embeddings, "vectors") and hasattr(embeddings, "index_to_key"):
        vectors, codes = embeddings.vectors, list(embeddings.index_to_key)
        if hasattr(embeddings, "get_vecattr"):
            try:
                counts = np.array([embeddings.get_vecattr(key, "count") for key in codes])
            except (KeyError, AttributeError, TypeError, ValueError):
                counts = None
            # A word2vec file has no counts: gensim makes them up as n, n - 1, ..., 1.
            if counts is not None and np.array_equal(counts, np.arange(len(codes), 0, -1)):
                counts = None
    elif isinstance(embeddings, pd.DataFrame):
        vectors, codes = embeddings.to_numpy(), embeddings.index
    elif isinstance(embeddings, tuple) and len(embeddings) in (2, 3):
        vectors, codes = embeddings[0], embeddings[1]
        counts = embeddings[2] if len(embeddings) == 3 else None
    else:
        raise TypeError(
            f"embeddings must be {_EMBEDDINGS_ACCEPTED}; got {type(embeddings).__name__}"
        )

    vectors = _as_float_matrix(vectors)
    codes = np.asarray(codes, dtype=object).astype(str)
    if codes.shape != (vectors.shape[0],):
        raise ValueError(
            f"embeddings: codes must be 1-D with one code per vector row "
            f"({vectors.shape[0]}), got shape {codes.shape}"
        )
    index = pd.Index(codes)
    if not index.is_unique:
        duplicated = index[index.duplicated()].unique()[:5].tolist()
        raise ValueError(f"embeddings: codes must be unique, got duplicates {duplicated}")
    if counts is not None:
        counts = np.asarray(counts)
        if counts.shape != (vectors.shape[0],) or not np.issubdtype(counts.dtype, np.number):
            raise ValueError(
                f"embeddings: counts must be a numeric 1-D array with one count per "
                f"code ({vectors.shape[0]}), got shape {counts.shape} and dtype {counts.dtype}"
            )
    return vectors, codes, counts


def known_codes(embeddings):
    """Unit vectors, codes and counts of the codes ``embeddings`` holds information on.

    The unknown token and codes with an all-zero vector (an embedder's codes
    without training events) are left out, as codes missing from the
    embeddings are: a zero vector is at cosine 0 from every code, so its
    neighbours would be whichever codes come first.
    """
    vectors, codes, counts = as_keyed_vectors(embeddings)
    keep = (codes != UNKNOWN) & np.asarray(vectors != 0).any(axis=1)
    if not keep.all():
        vectors, codes = vectors[keep], codes[keep]
        counts = None if counts is None else counts[keep]
    if codes.size == 0:
        raise ValueError(f"embeddings: holds no code other than {UNKNOWN!r} with a non-zero vector")
    return unit_rows(vectors), codes, counts


def present_pairs(codes, pairs):
    """Rows of the pairs with both codes in ``codes``, and the number of the others."""
    if isinstance(pairs, pd.DataFrame):
        array = pairs.to_numpy(dtype=object)
    else:
        array = np.asarray(pairs if isinstance(pairs, np.ndarray) else list(pairs), dtype=object)
    if array.ndim != 2 or array.shape[1] != 2 or array.shape[0] == 0:
        raise ValueError(
            f"pairs must be a non-empty sequence of (code, code) pairs or a two-column "
            f"DataFrame, i.e. of shape (n_pairs, 2); got shape {array.shape}"
        )
    code_a, code_b = array[:, 0].astype(str), array[:, 1].astype(str)
    index = pd.Index(codes)
    row_a, row_b = index.get_indexer(code_a), index.get_indexer(code_b)
    present = (row_a >= 0) & (row_b >= 0)
    if not present.any():
        raise ValueError(
            f"pairs: no pair has both codes in embeddings (first pair {code_a[0]!r}, "
            f"{code_b[0]!r}; embedding codes look like {codes[:3].tolist()})"
        )
    n_missing = int((~present).sum())
    if n_missing:
        logger.info("%d of %d pairs have a code without a vector", n_missing, present.size)
    return row_a[present], row_b[present], n_missing


def _prefix_system(code):
    return split_system(code)[0] or ""


def code_systems(codes, system_of):
    """Code system of each code, as an integer id numbered in sorted order of name.

    Parameters
    ----------
    codes : array-like of str
        Codes.
    system_of : callable or None
        Code -> system name (converted to ``str``); None for the system
        prefix, ``""`` for codes without one.

    Returns
    -------
    ids : numpy.ndarray of int
        System id of each code, an index into ``names``.
    names : numpy.ndarray of object
        Distinct system names, sorted, so that ids compare as names do.
    """
    if system_of is None:
        system_of = _prefix_system
    distinct, inverse = np.unique(np.asarray(codes, dtype=object), return_inverse=True)
    systems = np.array([str(system_of(code)) for code in distinct], dtype=object)[inverse]
    ids, names = pd.factorize(systems, sort=True)
    return ids, np.asarray(names, dtype=object)


def block_rows(n_columns):
    return max(1, min(_MAX_BLOCK_ROWS, BLOCK_ELEMENTS // max(n_columns, 1)))


def top_k(similarity, k):
    """Columns and values of the ``k`` largest entries of each row, largest first.

    Ties are broken by column order. Requires ``k <= similarity.shape[1]``.
    """
    n_rows, n_columns = similarity.shape
    # The k-th largest of the maxima of disjoint chunks of a row is a lower bound
    # on the row's k-th largest entry; the entries above it are few, which makes
    # this several times faster than a partition of the whole row.
    n_chunks = min(n_columns, max(4 * k, 256))
    width = n_columns // n_chunks
    chunk_max = similarity[:, : n_chunks * width].reshape(n_rows, n_chunks, width).max(axis=2)
    bound = np.partition(chunk_max, n_chunks - k, axis=1)[:, n_chunks - k]
    rows, columns = np.nonzero(similarity >= bound[:, None])
    values = similarity[rows, columns]
    order = np.lexsort((-values, rows))
    rows, columns, values = rows[order], columns[order], values[order]
    rank = np.arange(rows.size) - np.searchsorted(rows, np.arange(n_rows))[rows]
    keep = rank < k
    return columns[keep].reshape(n_rows, k), values[keep].reshape(n_rows, k)
