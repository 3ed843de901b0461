"""Warm start: initial code vectors from other vectors, for the codes both know."""

import os

import numpy as np
import pandas as pd

from ._base import UNKNOWN
from ._export import escape_code
from ._warnings import warn_caller

__all__ = ["initial_rows"]

_ACCEPTED = (
    "a fitted TemporalMed2VecEmbedder (or a FrozenEstimator of one), a gensim "
    "KeyedVectors or Word2Vec model, a DataFrame indexed by code (e.g. to_frame()), "
    "a dict of code to vector, or the path of a vectors file (word2vec text or binary, "
    "safetensors, parquet)"
)


def _source_tables(source):
    """``(codes, vectors, context or None)`` of any accepted source."""
    if isinstance(source, (str, os.PathLike)):
        from ._export import load_vectors

        read = load_vectors(source)
        return list(read.codes), np.asarray(read.vectors), None
    if isinstance(source, pd.DataFrame):
        return [str(c) for c in source.index], source.to_numpy(dtype=np.float32), None
    if isinstance(source, dict):
        codes = [str(c) for c in source]
        rows = [np.asarray(v, dtype=np.float32).ravel() for v in source.values()]
        if len({r.shape for r in rows}) > 1:
            raise ValueError("initial_vectors: the dict's vectors must all have one length.")
        return codes, np.vstack(rows) if rows else np.zeros((0, 0), np.float32), None
    estimator = getattr(source, "estimator", None)  # FrozenEstimator
    if hasattr(source, "codes_") or hasattr(estimator, "codes_"):
        fitted = source if hasattr(source, "codes_") else estimator
        return list(fitted.codes_), fitted.code_vectors_, fitted.context_vectors_
    if hasattr(source, "embed_dim") and hasattr(source, "fit"):
        raise ValueError(
            "initial_vectors is an unfitted embedder (cloning, e.g. by GridSearchCV, "
            "drops fitted state): fit it first, and wrap it in "
            "sklearn.frozen.FrozenEstimator or pass its to_frame() to survive cloning."
        )
    keyed = getattr(source, "wv", source)  # gensim Word2Vec -> its KeyedVectors
    if hasattr(keyed, "index_to_key") and hasattr(keyed, "vectors"):
        return [str(c) for c in keyed.index_to_key], np.asarray(keyed.vectors), None
    raise TypeError(f"initial_vectors must be {_ACCEPTED}; got {type(source).__name__}.")


def initial_rows(source, codes, embed_dim):
    """Rows of ``codes`` that ``source`` has a vector for, and those vectors.

    Parameters
    ----------
    source : object
        See ``TemporalMed2VecEmbedder(initial_vectors=...)``.
    codes : ndarray of str of shape (n_codes,)
        The codes being trained; ``"<UNK>"`` is never copied.
    embed_dim : int

    Returns
    -------
    rows : ndarray of int64
    vectors : ndarray of float32 of shape (len(rows), embed_dim)
    context : ndarray of float32 of shape (len(rows), embed_dim) or None
        The source's context vectors, when it has them (a fitted embedder).
    """
    source_codes, vectors, context = _source_tables(source)
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[0] != len(source_codes):
        raise ValueError(
            f"initial_vectors must hold one vector per code; got {len(source_codes)} codes "
            f"and vectors of shape {vectors.shape}."
        )
    if len(source_codes) and vectors.shape[1] != embed_dim:
        raise ValueError(
            f"initial_vectors has {vectors.shape[1]}-dimensional vectors but embed_dim="
            f"{embed_dim}; set embed_dim to {vectors.shape[1]}."
        )
    if not np.isfinite(vectors).all():
        raise ValueError("initial_vectors holds NaN or infinite values.")
    repeated = pd.Index(source_codes)
    repeated = repeated[repeated.duplicated()].unique().tolist()
    if repeated:
        raise ValueError(f"initial_vectors: codes must be unique; got duplicates {repeated[:5]}.")
    position = {code: i for i, code in enumerate(source_codes) if code != UNKNOWN}
    pairs = []
    for row, code in enumerate(np.asarray(codes).tolist()):
        # Keys read from a word2vec file by another tool (gensim) keep the
        # file's percent-escaping of spaces and "%": match those too.
        found = position.get(code, position.get(escape_code(code)))
        if found is not None and code != UNKNOWN:
            pairs.append((row, found))
    if not pairs:
        warn_caller(
            "initial_vectors shares no code with the training codes; every vector starts at random."
        )
    rows = np.asarray([r for r, _ in pairs], dtype=np.int64)
    taken = np.asarray([s for _, s in pairs], dtype=np.int64)
    context_rows = None if context is None else np.asarray(context, dtype=np.float32)[taken]
    return rows, vectors[taken].reshape(len(taken), embed_dim), context_rows
