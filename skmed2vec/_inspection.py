"""Inspecting fitted code vectors: similarities, neighbours, frames and exports."""

from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from ._base import UNKNOWN
from ._export import save_vectors
from ._vectors import read_only, row_norms

__all__ = ["CodeVectorsMixin"]


class CodeVectorsMixin:
    """Methods of an estimator with fitted ``codes_``, ``vocabulary_``,
    ``code_vectors_`` and ``code_counts_``."""

    def _row(self, code):
        check_is_fitted(self, "code_vectors_")
        if not isinstance(code, str):
            raise TypeError(f"code must be a code string; got {type(code).__name__}.")
        if code not in self.vocabulary_:
            raise KeyError(f"code {code!r} is not in the vocabulary ({len(self.codes_)} codes).")
        return self.vocabulary_[code]

    def _norms(self):
        """Row norms of ``code_vectors_``, cached per read-only table (as gensim does)."""
        cached = self.__dict__.get("_norms_cache")
        if cached is None or cached[0] is not self.code_vectors_ or cached[0].flags.writeable:
            cached = (self.code_vectors_, row_norms(self.code_vectors_))
            self._norms_cache = cached
        return cached[1]

    def _cosines(self, row):
        """Cosine of every code's vector with row ``row``'s; zero vectors give 0."""
        norms = self._norms()
        dots = self.code_vectors_ @ self.code_vectors_[row].astype(np.float64)
        scale = norms * norms[row]
        return np.divide(dots, scale, out=np.zeros_like(dots), where=scale > 0)

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_norms_cache", None)  # derived; rebuilt on first use
        return state

    def __setstate__(self, state):
        super().__setstate__(state)  # loaded arrays are writeable: read-only again
        for name in {"code_vectors_", "context_vectors_"} & set(self.__dict__):
            read_only(self.__dict__[name])

    def similarity(self, code_a, code_b):
        """Cosine similarity of two codes' vectors (0 where a vector is zero).

        Parameters
        ----------
        code_a, code_b : str
            Codes of ``codes_``.

        Returns
        -------
        float

        Raises
        ------
        KeyError
            If a code is not in the vocabulary.
        """
        row_a, row_b = self._row(code_a), self._row(code_b)
        return float(self._cosines(row_a)[row_b])

    def most_similar(self, code, topn=10):
        """The ``topn`` codes with the highest cosine similarity to ``code``.

        Parameters
        ----------
        code : str
            A code of ``codes_`` (``"<UNK>"`` included).
        topn : int, default=10
            How many codes to return (at most all the others).

        Returns
        -------
        list of (str, float)
            Codes and cosines, highest first; ``code`` itself and ``"<UNK>"``
            are left out, and ties go to the code first in ``codes_``.

        Raises
        ------
        KeyError
            If ``code`` is not in the vocabulary.
        """
        if not isinstance(topn, Integral) or isinstance(topn, bool) or topn < 0:
            raise ValueError(f"topn must be a non-negative integer; got {topn!r}.")
        row = self._row(code)
        cosines = self._cosines(row)
        left_out = {row, self.vocabulary_[UNKNOWN]}
        cosines[list(left_out)] = -np.inf
        topn = min(int(topn), len(cosines) - len(left_out))
        if topn == 0:
            return []
        candidates = np.flatnonzero(cosines >= -np.partition(-cosines, topn - 1)[topn - 1])
        best = candidates[np.argsort(-cosines[candidates], kind="stable")][:topn]
        return [(str(self.codes_[i]), float(cosines[i])) for i in best]

    def to_frame(self):
        """The code vectors as a DataFrame indexed by code.

        Returns
        -------
        pandas.DataFrame of shape (n_codes, embed_dim)
        """
        check_is_fitted(self, "code_vectors_")
        return pd.DataFrame(self.code_vectors_, index=pd.Index(self.codes_, name="code"))

    def save_word2vec_format(self, path, *, binary=False, escape=True):
        """Write the code vectors in word2vec text or binary format, atomically.

        The file reads back with gensim's
        ``KeyedVectors.load_word2vec_format(path, binary=binary)`` and with
        :func:`skmed2vec.load_word2vec_format`. It is written to a temporary file
        in the same folder and renamed, so an interrupted save never leaves a
        truncated file.

        Parameters
        ----------
        path : str or path-like
        binary : bool, default=False
            The word2vec C tool's binary format instead of text.
        escape : bool, default=True
            Percent-escape ``%`` and whitespace in codes (``"aspirin 81 MG"`` is
            written ``aspirin%2081%20MG``), which :func:`skmed2vec.load_word2vec_format`
            undoes; with ``False`` a code containing whitespace is an error.
        """
        self.export(path, format="word2vec-binary" if binary else "word2vec", escape=escape)

    def export(self, path, *, format="word2vec", groups=None, descriptions=None, escape=True):
        """Write the code vectors, with their training counts, for other tools.

        Parameters
        ----------
        path : str or path-like
            The file; for ``format="projector"`` a folder that receives
            ``vectors.tsv`` and ``metadata.tsv``.
        format : {"word2vec", "word2vec-binary", "safetensors", "parquet", "projector"}, \
default="word2vec"
            See :func:`skmed2vec.save_vectors`.
        groups, descriptions : dict of str to str, default=None
            Per-code labels written as metadata (safetensors, parquet, projector).
        escape : bool, default=True
            Percent-escape ``%`` and whitespace in word2vec codes.

        Returns
        -------
        list of pathlib.Path
            The files written.
        """
        check_is_fitted(self, "code_vectors_")
        return save_vectors(
            path,
            self.codes_,
            self.code_vectors_,
            format=format,
            counts=self.code_counts_,
            groups=groups,
            descriptions=descriptions,
            escape=escape,
        )
