"""Evaluation of medical code embeddings: neighbours, known relationships, downstream AUC."""

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from ._icd import icd10_grouping

__all__ = [
    "CrossValidatedAUCResult",
    "NeighbourPrecisionResult",
    "RecallAtKResult",
    "RelationshipPowerResult",
    "cross_validated_auc",
    "icd10_grouping",
    "neighbour_precision",
    "recall_at_k",
    "relationship_power",
]

logger = logging.getLogger(__name__)

_UNKNOWN_CODE = "<UNK>"
# Upper bound on the number of cells of one block of similarities (or bootstrap
# weights), so that memory stays bounded whatever the vocabulary size.
_BLOCK_ELEMENTS = 2**23
_MAX_BLOCK_ROWS = 1024
_N_FREQUENCY_BINS = 10
_EMBEDDINGS_ACCEPTED = (
    "a fitted skmed2vec embedder (with codes_ and code_vectors_), a gensim KeyedVectors "
    "or Word2Vec model, a pandas DataFrame indexed by code, or a tuple "
    "(vectors, codes) or (vectors, codes, counts)"
)


# --------------------------------------------------------------------------- results


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

    def interval(self, confidence=0.95, n_bootstrap=1000, random_state=0):
        """Percentile bootstrap interval of ``precision`` over the query codes.

        It measures how much the precision depends on which codes happen to
        be queries; the uncertainty from training (seeds) comes on top.

        Returns
        -------
        (low, high) : tuple of float
        """
        return _mean_interval(self.query_precision, confidence, n_bootstrap, random_state)

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
                "other must be a NeighbourPrecisionResult computed with the same k "
                f"({self.k})"
            )
        shared, mine, theirs = np.intersect1d(
            self.query_codes, other.query_codes, assume_unique=True, return_indices=True
        )
        if shared.size == 0:
            raise ValueError("the two results have no query code in common")
        diff = self.query_precision[mine] - other.query_precision[theirs]
        return float(diff.mean()), _mean_interval(diff, confidence, n_bootstrap, random_state)


@dataclass(frozen=True)
class RelationshipPowerResult:
    """Result of :func:`relationship_power`.

    Attributes
    ----------
    power : float
        Share of the tested pairs whose cosine exceeds the null threshold.
    n_pairs : int
        Number of pairs with both codes in the embeddings (the tested pairs).
    n_missing : int
        Number of pairs with at least one code missing from the embeddings.
    alpha : float
        Significance level of the test.
    thresholds : dict
        ``(system_a, system_b) -> threshold``: the ``1 - alpha`` quantile of the
        null cosines for each combination of code systems, keyed with the two
        systems in sorted order.
    pairs : pandas.DataFrame
        One row per tested pair, with columns ``code_a``, ``code_b``,
        ``system_a``, ``system_b``, ``cosine``, ``threshold`` and ``detected``.
    """

    power: float
    n_pairs: int
    n_missing: int
    alpha: float
    thresholds: dict = field(repr=False)
    pairs: pd.DataFrame = field(repr=False)


@dataclass(frozen=True)
class RecallAtKResult:
    """Result of :func:`recall_at_k`.

    Attributes
    ----------
    recall : float
        Share of the tested pairs whose target is among the query's ``k`` nearest
        neighbours.
    n_pairs : int
        Number of pairs with both codes in the embeddings (the tested pairs).
    n_missing : int
        Number of pairs with at least one code missing from the embeddings.
    k : int
        Number of neighbours per query.
    hits : ndarray of bool
        For each tested pair, in the order given, whether its target was found
        (``recall`` is their mean).
    """

    recall: float
    n_pairs: int
    n_missing: int
    k: int
    hits: np.ndarray = field(repr=False, compare=False, default=None)

    def interval(self, confidence=0.95, n_bootstrap=1000, random_state=0):
        """Percentile bootstrap interval of ``recall`` over the tested pairs.

        Returns
        -------
        (low, high) : tuple of float
        """
        return _mean_interval(self.hits, confidence, n_bootstrap, random_state)


@dataclass(frozen=True)
class CrossValidatedAUCResult:
    """Result of :func:`cross_validated_auc`.

    Attributes
    ----------
    auroc : float
        Area under the ROC curve of the out-of-fold probabilities.
    auroc_ci : tuple of float
        ``(low, high)`` percentile bootstrap confidence interval of ``auroc``.
    auprc : float
        Average precision (area under the precision-recall curve).
    auprc_ci : tuple of float
        ``(low, high)`` percentile bootstrap confidence interval of ``auprc``.
    n : int
        Number of samples.
    n_positive : int
        Number of samples of the positive class.
    confidence : float
        Confidence level of the intervals.
    """

    auroc: float
    auroc_ci: tuple
    auprc: float
    auprc_ci: tuple
    n: int
    n_positive: int
    confidence: float


# --------------------------------------------------------------------------- inputs


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


def _as_keyed_vectors(embeddings):
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
        Training occurrences per code, when known.
    """
    counts = None
    if hasattr(embeddings, "codes_") and hasattr(embeddings, "code_vectors_"):
        vectors, codes = embeddings.code_vectors_, embeddings.codes_
        counts = getattr(embeddings, "code_counts_", None)
    elif hasattr(embeddings, "wv") and hasattr(embeddings.wv, "index_to_key"):
        return _as_keyed_vectors(embeddings.wv)
    elif hasattr(embeddings, "vectors") and hasattr(embeddings, "index_to_key"):
        vectors, codes = embeddings.vectors, list(embeddings.index_to_key)
        if hasattr(embeddings, "get_vecattr"):
            try:
                counts = np.array([embeddings.get_vecattr(key, "count") for key in codes])
            except (KeyError, AttributeError, TypeError, ValueError):
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


def _known_codes(embeddings):
    """Unit vectors, codes and counts of ``embeddings`` without the unknown token."""
    vectors, codes, counts = _as_keyed_vectors(embeddings)
    keep = codes != _UNKNOWN_CODE
    if not keep.all():
        vectors, codes = vectors[keep], codes[keep]
        counts = None if counts is None else counts[keep]
    if codes.size == 0:
        raise ValueError(f"embeddings: holds no code other than {_UNKNOWN_CODE!r}")
    return _unit_rows(vectors), codes, counts


def _unit_rows(vectors):
    """Rows scaled to unit norm; all-zero rows stay zero so their cosines are 0."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)


def _present_pairs(codes, pairs):
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


def _check_integer(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_fraction(name, value):
    if isinstance(value, bool) or not isinstance(value, Real) or not 0 < value < 1:
        raise ValueError(f"{name} must be a number strictly between 0 and 1, got {value!r}")
    return float(value)


def _code_systems(codes, system_of):
    """Integer system id per code, and the system names."""
    if system_of is None:
        systems = pd.Series(codes, dtype=object).str.extract(r"^(.*?)(?::|//)", expand=False)
        systems = systems.fillna("").to_numpy(dtype=object)
    elif callable(system_of):
        systems = np.array([str(system_of(code)) for code in codes], dtype=object)
    else:
        raise ValueError(
            f"system_of must be None or a callable code -> system, got {type(system_of).__name__}"
        )
    ids, names = pd.factorize(systems)
    return ids, np.asarray(names, dtype=object)


# --------------------------------------------------------------------------- neighbours


def _block_rows(n_columns):
    return max(1, min(_MAX_BLOCK_ROWS, _BLOCK_ELEMENTS // max(n_columns, 1)))


def _top_k(similarity, k):
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
        or ``(vectors, codes, counts)``. The ``"<UNK>"`` token is ignored.
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
    k = _check_integer("k", k, 1)
    n_baseline = _check_integer("n_baseline", n_baseline, 1)
    unit, codes, counts = _known_codes(embeddings)
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
    block = _block_rows(max(n_codes, n_draws))
    for start in range(0, queries.size, block):
        query = queries[start : start + block]
        local = np.arange(query.size)
        similarity = unit[query] @ unit.T
        similarity[local, query] = -np.inf
        neighbours, _ = _top_k(similarity, k)
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


def recall_at_k(embeddings, pairs, *, k=10, same_system=False, system_of=None):
    """Share of known (query, target) pairs whose target is a k-nearest neighbour of the query.

    Neighbours are ranked by cosine among all codes except the query itself and
    ``"<UNK>"`` (or, with ``same_system=True``, among the codes of the target's
    code system). Ties count against the target: it is found only when fewer than
    ``k`` other candidates are at least as similar to the query.

    Parameters
    ----------
    embeddings : object
        A fitted skmed2vec embedder, a gensim ``KeyedVectors`` or ``Word2Vec``
        model, a pandas DataFrame indexed by code, or a tuple ``(vectors, codes)``
        or ``(vectors, codes, counts)``.
    pairs : sequence of (str, str) or pandas.DataFrame
        Known (query, target) pairs, e.g. drug -> indication, or a two-column
        DataFrame. Pairs with a code missing from the embeddings are counted in
        ``n_missing`` and not tested.
    k : int, default=10
        Number of neighbours.
    same_system : bool, default=False
        Rank only candidates of the target's code system.
    system_of : callable or None, default=None
        Code -> system. By default the system is the prefix before the first
        ``":"`` or ``"//"`` (``"ICD10CM"`` for ``"ICD10CM:E11.9"``), or ``""``.

    Returns
    -------
    RecallAtKResult
        Frozen dataclass with ``recall``, ``n_pairs``, ``n_missing``, ``k`` and
        the per-pair ``hits``; ``interval()`` gives a bootstrap confidence
        interval of ``recall``.

    Examples
    --------
    >>> import numpy as np
    >>> from skmed2vec.evaluation import recall_at_k
    >>> vectors = np.array([[1.0, 0.0], [0.9, 0.2], [0.0, 1.0], [-1.0, 0.1]])
    >>> codes = ["ATC:A10BA02", "ICD10CM:E11.9", "ATC:C09AA02", "ICD10CM:I10"]
    >>> pairs = [("ATC:A10BA02", "ICD10CM:E11.9"), ("ATC:C09AA02", "ICD10CM:I10"),
    ...          ("ATC:C09AA02", "ICD10CM:I99")]
    >>> result = recall_at_k((vectors, codes), pairs, k=1)
    >>> result.recall, result.n_pairs, result.n_missing
    (0.5, 2, 1)
    >>> result.hits.tolist()
    [True, False]
    """
    k = _check_integer("k", k, 1)
    unit, codes, _ = _known_codes(embeddings)
    query, target, n_missing = _present_pairs(codes, pairs)
    n_codes = codes.size

    if same_system:
        systems, _ = _code_systems(codes, system_of)
        target_system = systems[target]
    else:
        target_system = np.zeros(target.size, dtype=np.intp)
    # One ranking per distinct (query, target system); pairs sorted by it.
    key, inverse = np.unique(np.stack([query, target_system], axis=1), axis=0, return_inverse=True)
    inverse = inverse.ravel()
    order = np.argsort(inverse, kind="stable")
    inverse, target = inverse[order], target[order]

    found = np.empty(target.size, dtype=bool)
    block = _block_rows(n_codes)
    for start in range(0, key.shape[0], block):
        key_query, key_system = key[start : start + block, 0], key[start : start + block, 1]
        local = np.arange(key_query.size)
        similarity = unit[key_query] @ unit.T
        if same_system:
            similarity[systems[None, :] != key_system[:, None]] = -np.inf
        similarity[local, key_query] = -np.inf
        # The target is among the k nearest iff its similarity beats the
        # (k + 1)-th largest one: ties then count against it.
        if k < n_codes:
            kth = _top_k(similarity, k + 1)[1][:, k]
        else:
            kth = np.full(key_query.size, -np.inf)
        lo, hi = np.searchsorted(inverse, [start, start + key_query.size])
        pair_key = inverse[lo:hi] - start
        found[lo:hi] = similarity[pair_key, target[lo:hi]] > kth[pair_key]

    hits = np.empty_like(found)
    hits[order] = found
    return RecallAtKResult(
        recall=float(found.mean()), n_pairs=int(found.size), n_missing=n_missing, k=k, hits=hits
    )


# --------------------------------------------------------------------------- relationships


def _row_cosines(unit, a, b):
    return np.einsum("ij,ij->i", unit[a], unit[b])


def relationship_power(
    embeddings, pairs, *, n_null=10_000, alpha=0.05, system_of=None, random_state=0
):
    """Power of the embeddings to detect known relationships between codes.

    The known-relationship test of cui2vec (Beam et al., 2020). For each
    combination of code systems among the known pairs, cosines of ``n_null``
    random pairs of codes drawn from the same two systems form a bootstrap null
    distribution; a known pair is detected when its cosine exceeds the
    ``1 - alpha`` quantile of that null. The power is the share of detected pairs.

    Parameters
    ----------
    embeddings : object
        A fitted skmed2vec embedder, a gensim ``KeyedVectors`` or ``Word2Vec``
        model, a pandas DataFrame indexed by code, or a tuple ``(vectors, codes)``
        or ``(vectors, codes, counts)``.
    pairs : sequence of (str, str) or pandas.DataFrame
        Known related pairs (code_a, code_b), or a two-column DataFrame. Pairs
        with a code missing from the embeddings are counted in ``n_missing``.
    n_null : int, default=10_000
        Number of random pairs in the null distribution of each system combination.
    alpha : float, default=0.05
        Significance level, strictly between 0 and 1.
    system_of : callable or None, default=None
        Code -> system. By default the system is the prefix before the first
        ``":"`` or ``"//"`` (``"ICD10CM"`` for ``"ICD10CM:E11.9"``), or ``""``.
        The null of ``(system_a, system_b)`` is that of ``(system_b, system_a)``.
    random_state : int, numpy.random.Generator or None, default=0
        Seed of the null draws.

    Returns
    -------
    RelationshipPowerResult
        Frozen dataclass with ``power``, ``n_pairs``, ``n_missing``, ``alpha``,
        ``thresholds`` (per system combination) and ``pairs`` (per-pair cosines,
        thresholds and detections).

    Examples
    --------
    >>> import numpy as np
    >>> from skmed2vec.evaluation import relationship_power
    >>> rng = np.random.default_rng(0)
    >>> vectors = rng.normal(size=(40, 16))
    >>> codes = [f"ATC:D{i}" for i in range(20)] + [f"ICD10CM:C{i}" for i in range(20)]
    >>> vectors[20] = vectors[0]  # ATC:D0 and ICD10CM:C0 are related
    >>> vectors[21] = -vectors[1]
    >>> pairs = [("ATC:D0", "ICD10CM:C0"), ("ATC:D1", "ICD10CM:C1")]
    >>> result = relationship_power((vectors, codes), pairs, n_null=1000)
    >>> result.power, result.n_pairs
    (0.5, 2)
    >>> result.pairs["detected"].tolist()
    [True, False]
    """
    n_null = _check_integer("n_null", n_null, 1)
    alpha = _check_fraction("alpha", alpha)
    unit, codes, _ = _known_codes(embeddings)
    row_a, row_b, n_missing = _present_pairs(codes, pairs)
    systems, system_names = _code_systems(codes, system_of)
    low = np.minimum(systems[row_a], systems[row_b])
    high = np.maximum(systems[row_a], systems[row_b])
    combinations, combination_of_pair = np.unique(
        np.stack([low, high], axis=1), axis=0, return_inverse=True
    )

    by_system = np.argsort(systems, kind="stable")
    system_start = np.concatenate([[0], np.cumsum(np.bincount(systems))])
    rng = np.random.default_rng(random_state)
    thresholds = np.empty(combinations.shape[0])
    for i, (system_a, system_b) in enumerate(combinations):
        pool_a = by_system[system_start[system_a] : system_start[system_a + 1]]
        pool_b = by_system[system_start[system_b] : system_start[system_b + 1]]
        draw_a = rng.integers(0, pool_a.size, size=n_null)
        if system_a == system_b and pool_a.size > 1:
            # Never pair a code with itself: draw among the other codes of the pool.
            draw_b = rng.integers(0, pool_a.size - 1, size=n_null)
            draw_b += draw_b >= draw_a
        else:
            draw_b = rng.integers(0, pool_b.size, size=n_null)
        null = _row_cosines(unit, pool_a[draw_a], pool_b[draw_b])
        thresholds[i] = np.quantile(null, 1 - alpha)

    cosine = _row_cosines(unit, row_a, row_b)
    threshold = thresholds[combination_of_pair.ravel()]
    detected = cosine > threshold
    table = pd.DataFrame(
        {
            "code_a": codes[row_a],
            "code_b": codes[row_b],
            "system_a": system_names[systems[row_a]],
            "system_b": system_names[systems[row_b]],
            "cosine": cosine,
            "threshold": threshold,
            "detected": detected,
        }
    )
    return RelationshipPowerResult(
        power=float(detected.mean()),
        n_pairs=int(detected.size),
        n_missing=n_missing,
        alpha=alpha,
        thresholds={
            (system_names[a], system_names[b]): float(value)
            for (a, b), value in zip(combinations, thresholds, strict=True)
        },
        pairs=table,
    )


# --------------------------------------------------------------------------- downstream


def _bootstrap_scores(positive, scores, n_bootstrap, rng):
    """AUROC and average precision of ``n_bootstrap`` resamples of the samples.

    Each resample draws ``n`` sample indices with replacement; its metrics are
    computed from how often each sample was drawn, one tie group of scores at a
    time, which matches scikit-learn's metrics on the resampled arrays. Resamples
    with a single class are dropped.
    """
    n = scores.size
    order = np.argsort(-scores, kind="stable")
    positive = positive[order]
    tie_starts = np.flatnonzero(np.r_[True, np.diff(scores[order]) != 0])
    aurocs, auprcs = [], []
    chunk = max(1, _BLOCK_ELEMENTS // (8 * n))
    for start in range(0, n_bootstrap, chunk):
        size = min(chunk, n_bootstrap - start)
        drawn = rng.integers(0, n, size=(size, n)) + n * np.arange(size)[:, None]
        weight = np.bincount(drawn.ravel(), minlength=size * n).reshape(size, n)[:, order]
        # Per tie group, in decreasing score order: weight of positives and negatives.
        tp = np.add.reduceat(weight * positive, tie_starts, axis=1)
        fp = np.add.reduceat(weight * ~positive, tie_starts, axis=1)
        n_pos, n_neg = tp.sum(axis=1), fp.sum(axis=1)
        keep = (n_pos > 0) & (n_neg > 0)
        tp, fp, n_pos, n_neg = tp[keep], fp[keep], n_pos[keep], n_neg[keep]
        cum_tp, cum_fp = np.cumsum(tp, axis=1), np.cumsum(fp, axis=1)
        # A positive beats the negatives of lower score and ties half of its group's.
        beaten = n_neg[:, None] - cum_fp + 0.5 * fp
        aurocs.append((tp * beaten).sum(axis=1) / (n_pos * n_neg))
        precision = np.divide(
            cum_tp, cum_tp + cum_fp, out=np.zeros(cum_tp.shape), where=cum_tp + cum_fp > 0
        )
        auprcs.append((tp * precision).sum(axis=1) / n_pos)
    return np.concatenate(aurocs), np.concatenate(auprcs)


def _mean_interval(values, confidence, n_bootstrap, random_state):
    """Percentile bootstrap interval of the mean of ``values``."""
    confidence = _check_fraction("confidence", confidence)
    n_bootstrap = _check_integer("n_bootstrap", n_bootstrap, 1)
    values = np.asarray(values, dtype=float)
    rng = np.random.default_rng(random_state)
    means = np.empty(n_bootstrap)
    chunk = _block_rows(values.size)
    for start in range(0, n_bootstrap, chunk):
        size = min(chunk, n_bootstrap - start)
        draws = rng.integers(0, values.size, size=(size, values.size))
        means[start : start + size] = values[draws].mean(axis=1)
    return _percentile_interval(means, confidence)


def _percentile_interval(values, confidence):
    if values.size == 0:
        logger.warning("every bootstrap resample had a single class: the interval is NaN")
        return (float("nan"), float("nan"))
    low, high = np.quantile(values, [(1 - confidence) / 2, (1 + confidence) / 2])
    return (float(low), float(high))


def cross_validated_auc(
    estimator, X, y, *, cv=5, n_bootstrap=1000, confidence=0.95, random_state=0
):
    """Out-of-fold AUROC and AUPRC of a binary classifier, with bootstrap intervals.

    Out-of-fold probabilities come from
    :func:`sklearn.model_selection.cross_val_predict` with
    ``method="predict_proba"``; the positive class is the larger of the two labels
    of ``y`` (the second column of ``predict_proba``). Confidence intervals are
    percentile intervals over ``n_bootstrap`` resamples of the samples (patients),
    skipping resamples with a single class.

    Parameters
    ----------
    estimator : estimator object
        A scikit-learn classifier (or pipeline) with ``predict_proba``, e.g. a
        pipeline of a skmed2vec transformer and a logistic regression.
    X : array-like or sequence
        Samples, in any form ``estimator`` accepts and scikit-learn can index
        (e.g. a list of patient code sequences); passed on unchanged.
    y : array-like of shape (n_samples,)
        Binary labels.
    cv : int or cross-validation splitter, default=5
        Number of stratified, shuffled folds, or a splitter / iterable of splits.
    n_bootstrap : int, default=1000
        Number of bootstrap resamples.
    confidence : float, default=0.95
        Confidence level of the intervals, strictly between 0 and 1.
    random_state : int or None, default=0
        Seed of the fold shuffling and of the bootstrap.

    Returns
    -------
    CrossValidatedAUCResult
        Frozen dataclass with ``auroc``, ``auroc_ci``, ``auprc``, ``auprc_ci``,
        ``n``, ``n_positive`` and ``confidence``.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skmed2vec.evaluation import cross_validated_auc
    >>> X, y = make_classification(n_samples=100, random_state=0)
    >>> result = cross_validated_auc(LogisticRegression(), X, y, n_bootstrap=200)
    >>> result.auroc > 0.8, result.auroc_ci[0] <= result.auroc <= result.auroc_ci[1]
    (True, True)
    """
    n_bootstrap = _check_integer("n_bootstrap", n_bootstrap, 1)
    confidence = _check_fraction("confidence", confidence)
    y = np.asarray(y)
    classes = np.unique(y) if y.ndim == 1 else np.empty(0)
    if classes.size != 2:
        raise ValueError(
            f"y must be 1-D with exactly two classes, got shape {y.shape} and classes "
            f"{classes[:5].tolist()}"
        )
    if isinstance(cv, Integral) and not isinstance(cv, bool):
        cv = StratifiedKFold(
            n_splits=_check_integer("cv", cv, 2), shuffle=True, random_state=random_state
        )
    proba = cross_val_predict(estimator, X, y, cv=cv, method="predict_proba")[:, 1]
    positive = y == classes[1]

    rng = np.random.default_rng(random_state)
    boot_auroc, boot_auprc = _bootstrap_scores(positive, proba, n_bootstrap, rng)
    if boot_auroc.size < n_bootstrap:
        logger.info(
            "cross_validated_auc: %d of %d resamples had one class and were skipped",
            n_bootstrap - boot_auroc.size,
            n_bootstrap,
        )
    return CrossValidatedAUCResult(
        auroc=float(roc_auc_score(positive, proba)),
        auroc_ci=_percentile_interval(boot_auroc, confidence),
        auprc=float(average_precision_score(positive, proba)),
        auprc_ci=_percentile_interval(boot_auprc, confidence),
        n=int(y.size),
        n_positive=int(positive.sum()),
        confidence=confidence,
    )
