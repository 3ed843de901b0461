"""Norms and cosines of code vectors: one home for the unit-length arithmetic."""

import numpy as np

__all__ = ["read_only", "row_norms", "unit_rows"]


def read_only(array):
    """``array``, marked read-only: fitted vectors are not edited in place, so that
    what is derived from them once (the row norms of ``most_similar``) stays true.
    Copy them to change them."""
    array.flags.writeable = False
    return array


def row_norms(vectors):
    """Euclidean norm of each row, as float64."""
    return np.linalg.norm(np.asarray(vectors, dtype=np.float64), axis=1)


def unit_rows(vectors, norms=None):
    """Rows scaled to unit norm; all-zero rows stay zero so their cosines are 0.

    Parameters
    ----------
    vectors : ndarray of shape (n, dim)
    norms : ndarray of shape (n,), default=None
        Precomputed :func:`row_norms` of ``vectors``.

    Examples
    --------
    >>> import numpy as np
    >>> unit_rows(np.array([[3.0, 4.0], [0.0, 0.0]])).tolist()
    [[0.6, 0.8], [0.0, 0.0]]
    """
    norms = row_norms(vectors) if norms is None else norms
    norms = norms[:, None].astype(vectors.dtype, copy=False)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
