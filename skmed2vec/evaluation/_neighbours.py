"""Neighbour precision: do a code's nearest neighbours share its group?"""

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import Interval

from .._validation import validate_params
from ._bootstrap import INTERVAL_PARAMS, mean_interval
from ._vectors import block_rows, known_codes, top_k

__all__ = ["NeighbourPrecisionResult", "neighbour_precision"]

logger = logging.getLogger(__name__)

_N_FREQUENCY_BINS = 10


@dataclass(frozen=True)
class NeighbourPrecisionResult:
    """Result of :func:`neighbour_precision`.

    Attributes
    ----------
    precision : float
        Mean over query codes of the share of their ``k`` nearest neighbours that
        share at least one group with the query.
    baseline : float
        The same share for frequency-matched random neighbours.
    n_queries : int
        Number of query codes that were scored.
    k : int
        Number of neighbours per query.
    query_codes : ndarray of str
        The query codes.
    query_precision : ndarray of float
        Each query's share of same-group neighbours (``precision`` is their
        mean).
    """

    precision: float
    baseline: float
    n_queries: int
    k: int
    query_codes: np.ndarray = field(repr=False, compare=False, default=None)
    query_precision: np.ndarray = field(repr=False, compare=False, default=None)

    @validate_params(INTERVAL_PARAMS)
    def interval(self, confidence=0.95, n_bootstrap=1000, random_state=0):
        """Percentile bootstrap interval of ``precision`` over the query codes.

        It measures how much the precision depends on which codes happen to
        be queries; the uncertainty from training (seeds) comes on top.

        Parameters
        ----------
        confidence : float, default=0.95
            Coverage of the interval, in (0, 1).
        n_bootstrap : int, default=1000
            Bootstrap resamples.
        random_state : int, RandomState instance or None, default=0
            Seed of the resampling; the default makes the interval repeatable.

        Returns
        -------
        (low, high) : tuple of float
        """
        return mean_interval(self.query_precision, confidence, n_bootstrap, random_state)

    @validate_params({**INTERVAL_PARAMS, "other": "no_validation"})
    def difference(self, other, confidence=0.95, n_bootstrap=1000, random_state=0):
        """Paired difference ``self - other`` over the query codes both scored.

        Two embeddings of the same codes are compared query by query, which
        removes the spread between queries that :meth:`interval` includes: an
        interval of the difference that excludes 0 means one embedding places
        related codes together more often than the other.

        Parameters
        ----------
        other : NeighbourPrecisionResult
            Computed with the same ``k`` and grouping.
        confidence, n_bootstrap, random_state
            As in :meth:`interval`.

        Returns
        -------
        difference : float
            Mean over the shared queries of the per-query precision difference.
        (low, high) : tuple of float
            Percentile bootstrap interval of ``difference`` over those queries.
        """
        if not isinstance(other, NeighbourPrecisionResult) or other.k != self.k:
            raise ValueError(
                f"other must be a NeighbourPrecisionResult computed with the same k ({self.k})"
            )
        shared, mine, theirs = np.intersect1d(
            self.query_codes, other.query_codes, assume_unique=True, return_indices=True
        )
        if shared.size == 0:
            raise ValueError("the two results have no query code in common")
        diff = self.query_precision[mine] - other.query_precision[theirs]
        return float(diff.mean()), mean_interval(diff, confidence, n_bootstrap, random_state)


@dataclass(frozen=True)
class _Membership:
    """Sparse code -> groups membership over candidate positions ``0..n_codes-1``."""

    indptr: np.ndarray  # groups of code i are groups[indptr[i]:indptr[i + 1]]
    groups: np.ndarray
    keys: np.ndarray  # sorted ``code * n_groups + group``, for membership look-ups
    n_groups: int

    def shares_group(self, a, b):
        """Whether codes ``a[i]`` and ``b[i]`` have at least one group in common."""
        starts = self.indptr[a]
        lengths = self.indptr[a + 1] - starts
        pair = np.repeat(np.arange(a.size), lengths)
        offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        probe = b[pair] * self.n_groups + self.groups[np.repeat(starts, lengths) + offsets]
        where = np.minimum(np.searchsorted(self.keys, probe), self.keys.size - 1)
        hit = self.keys[where] == probe
        return np.bincount(pair[hit], minlength=a.size) > 0


def _grouping_members(grouping, codes):
    """Embedding row and group id of every (code, group) membership of ``grouping``."""
    if isinstance(grouping, pd.DataFrame):
        if grouping.shape[1] != 2:
            raise ValueError(
                f"grouping: a DataFrame must have exactly two columns (code, group), "
                f"got {grouping.shape[1]} columns {list(grouping.columns)}"
            )
        series = pd.Series(grouping.iloc[:, 1].to_numpy(), index=grouping.iloc[:, 0].to_numpy())
    elif isinstance(grouping, pd.Series):
        series = grouping
    elif isinstance(grouping, Mapping):
        series = pd.Series(
            list(grouping.values()),
            index=pd.Index(list(grouping.keys()), dtype=object),
            dtype=object,
        )
    else:
        raise TypeError(
            "grouping must be a mapping code -> group (or iterable of groups), a pandas "
            f"Series indexed by code or a two-column DataFrame (code, group); got "
            f"{type(grouping).__name__}"
        )
    series = series.explode().dropna()
    rows = pd.Index(codes).get_indexer(np.asarray(series.index, dtype=object).astype(str))
    known = rows >= 0
    group_ids, _ = pd.factorize(series.to_numpy(dtype=object)[known])
    return rows[known], group_ids


def _membership(rows, group_ids):
    """Candidate rows (sorted) and their :class:`_Membership`."""
    candidates, position = np.unique(rows, return_inverse=True)
    n_groups = int(group_ids.max()) + 1
    keys = np.unique(position.astype(np.int64) * n_groups + group_ids)
    position, groups = keys // n_groups, keys % n_groups
    indptr = np.concatenate([[0], np.cumsum(np.bincount(position, minlength=candidates.size))])
    return candidates, _Membership(indptr, groups, keys, n_groups)


def _frequency_bins(counts, n_codes, k):
    """Equal-size bins of codes ranked by training count (one bin if counts are unknown)."""
    if counts is None:
        return np.zeros(n_codes, dtype=np.intp)
    # Bins of at least k + 1 codes, so a query always has k other codes to draw from.
    n_bins = max(1, min(_N_FREQUENCY_BINS, n_codes // (k + 1)))
    bins = np.empty(n_codes, dtype=np.intp)
    bins[np.argsort(counts, kind="stable")] = np.arange(n_codes) * n_bins // n_codes
    return bins


@validate_params(
    {
        "embeddings": "no_validation",
        "grouping": "no_validation",
        "k": [Interval(Integral, 1, None, closed="left")],
        "n_baseline": [Interval(Integral, 1, None, closed="left")],
        "random_state": "no_validation",
    }
)
def neighbour_precision(embeddings, grouping, *, k=10, n_baseline=20, random_state=0):
    """Share of nearest neighbours that belong to the same group as the query code.

    For every code present in both ``embeddings`` and ``grouping`` whose group
    has at least one other such code, take its ``k`` nearest neighbours by cosine
    among those codes and count the share that shares at least one group with it
    (ties in cosine go to the code that comes first in ``embeddings``). The
    baseline is the same share for ``k`` random codes of similar training frequency
    (the same frequency decile, or fewer, larger bins when there are under
    ``10 * (k + 1)`` codes; uniform when counts are unknown), averaged over
    ``n_baseline`` draws, so that a precision well above the baseline means the
    embedding places related codes together beyond what frequency explains.

    Parameters
    ----------
    embeddings : object
        A fitted skmed2vec embedder, a gensim ``KeyedVectors`` or ``Word2Vec``
        model, a pandas DataFrame indexed by code, or a tuple ``(vectors, codes)``
        or ``(vectors, codes, counts)``. The ``"<UNK>"`` token and codes with
        an all-zero vector (no training events) are ignored, as codes missing
        from the embeddings are. gensim's made-up counts of a word2vec file
        are not used: the baseline is then uniform.
    grouping : mapping, pandas.Series or pandas.DataFrame
        Code -> group, or code -> iterable of groups (a code may belong to several
        groups); a Series indexed by code; or a two-column DataFrame (code, group).
    k : int, default=10
        Number of neighbours per query code.
    n_baseline : int, default=20
        Number of random neighbour sets drawn per query for the baseline.
    random_state : int, numpy.random.Generator or None, default=0
        Seed of the baseline draws.

    Returns
    -------
    NeighbourPrecisionResult
        Frozen dataclass with ``precision``, ``baseline``, ``n_queries``, ``k``
        and the per-query values; ``interval()`` gives a bootstrap confidence
        interval of ``precision`` and ``difference(other)`` a paired one of the
        difference with another embedding's result.

    Examples
    --------
    >>> import numpy as np
    >>> from skmed2vec.evaluation import neighbour_precision
    >>> vectors = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    >>> codes = ["ICD10CM:E11.9", "ICD10CM:E11.65", "ICD10CM:I10", "ICD10CM:I11.9"]
    >>> grouping = {
    ...     "ICD10CM:E11.9": "diabetes",
    ...     "ICD10CM:E11.65": "diabetes",
    ...     "ICD10CM:I10": "hypertension",
    ...     "ICD10CM:I11.9": {"hypertension", "heart"},
    ... }
    >>> result = neighbour_precision((vectors, codes), grouping, k=1)
    >>> result.precision, result.n_queries
    (1.0, 4)
    >>> result.baseline < result.precision
    True
    >>> result.interval()
    (1.0, 1.0)
    """
    unit, codes, counts = known_codes(embeddings)
    rows, group_ids = _grouping_members(grouping, codes)
    if rows.size == 0:
        raise ValueError(
            f"grouping: no code of grouping has a vector in embeddings (embedding codes "
            f"look like {codes[:3].tolist()})"
        )
    candidates, membership = _membership(rows, group_ids)
    n_codes = candidates.size
    if k >= n_codes:
        raise ValueError(
            f"k must be smaller than the number of codes found in both embeddings and "
            f"grouping ({n_codes}), got {k}"
        )
    unit = unit[candidates]
    counts = None if counts is None else counts[candidates]

    # A query needs another code in one of its groups, or it cannot score above 0.
    group_size = np.bincount(membership.groups, minlength=membership.n_groups)
    largest_group = np.maximum.reduceat(group_size[membership.groups], membership.indptr[:-1])
    queries = np.flatnonzero(largest_group >= 2)
    if queries.size == 0:
        raise ValueError("grouping: no group has two or more codes with a vector in embeddings")
    logger.info("neighbour_precision: %d of %d codes are queries", queries.size, n_codes)

    bins = _frequency_bins(counts, n_codes, k)
    bin_members = np.argsort(bins, kind="stable")
    bin_size = np.bincount(bins)
    bin_start = np.concatenate([[0], np.cumsum(bin_size)[:-1]])
    position_in_bin = np.empty(n_codes, dtype=np.intp)
    position_in_bin[bin_members] = np.arange(n_codes) - bin_start[bins[bin_members]]

    rng = np.random.default_rng(random_state)
    precision = np.empty(queries.size)
    baseline = np.empty(queries.size)
    n_draws = k * n_baseline
    block = block_rows(max(n_codes, n_draws))
    for start in range(0, queries.size, block):
        query = queries[start : start + block]
        local = np.arange(query.size)
        similarity = unit[query] @ unit.T
        similarity[local, query] = -np.inf
        neighbours, _ = top_k(similarity, k)
        shared = membership.shares_group(np.repeat(query, k), neighbours.ravel())
        precision[start : start + query.size] = shared.reshape(-1, k).mean(axis=1)

        # Random codes of the query's bin other than the query: draw among the
        # bin's other members, then skip over the query's own position.
        query_bin = bins[query]
        draw = rng.integers(0, bin_size[query_bin][:, None] - 1, size=(query.size, n_draws))
        draw += draw >= position_in_bin[query][:, None]
        random_codes = bin_members[bin_start[query_bin][:, None] + draw]
        shared = membership.shares_group(np.repeat(query, n_draws), random_codes.ravel())
        baseline[start : start + query.size] = shared.reshape(-1, n_draws).mean(axis=1)

    return NeighbourPrecisionResult(
        precision=float(precision.mean()),
        baseline=float(baseline.mean()),
        n_queries=int(queries.size),
        k=k,
        query_codes=codes[candidates[queries]],
        query_precision=precision,
    )
