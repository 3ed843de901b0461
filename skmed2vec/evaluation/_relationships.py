"""Known relationships between codes: recall at k and the cui2vec power test."""

from dataclasses import dataclass, field
from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import Interval, RealNotInt

from .._validation import validate_params
from ._bootstrap import INTERVAL_PARAMS, mean_interval
from ._vectors import block_rows, code_systems, known_codes, present_pairs, top_k

__all__ = ["RecallAtKResult", "RelationshipPowerResult", "recall_at_k", "relationship_power"]


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

    @validate_params(INTERVAL_PARAMS)
    def interval(self, confidence=0.95, n_bootstrap=1000, random_state=0):
        """Percentile bootstrap interval of ``recall`` over the tested pairs.

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
        return mean_interval(self.hits, confidence, n_bootstrap, random_state)


@validate_params(
    {
        "embeddings": "no_validation",
        "pairs": "no_validation",
        "k": [Interval(Integral, 1, None, closed="left")],
        "same_system": ["boolean"],
        "system_of": [callable, None],
    }
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
        DataFrame. Pairs with a code missing from the embeddings (or with an
        all-zero vector: no training events) are counted in ``n_missing`` and
        not tested.
    k : int, default=10
        Number of neighbours.
    same_system : bool, default=False
        Rank only candidates of the target's code system.
    system_of : callable or None, default=None
        Code -> system. By default the system prefix as the vocabulary reads it
        (``"ICD10CM"`` for ``"ICD10CM:E11.9"`` or ``"ICD10CM//E119"``), or ``""``.

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
    unit, codes, _ = known_codes(embeddings)
    query, target, n_missing = present_pairs(codes, pairs)
    n_codes = codes.size

    if same_system:
        systems, _ = code_systems(codes, system_of)
        target_system = systems[target]
    else:
        target_system = np.zeros(target.size, dtype=np.intp)
    # One ranking per distinct (query, target system); pairs sorted by it.
    key, inverse = np.unique(np.stack([query, target_system], axis=1), axis=0, return_inverse=True)
    inverse = inverse.ravel()
    order = np.argsort(inverse, kind="stable")
    inverse, target = inverse[order], target[order]

    found = np.empty(target.size, dtype=bool)
    block = block_rows(n_codes)
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
            kth = top_k(similarity, k + 1)[1][:, k]
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


def _row_cosines(unit, a, b):
    return np.einsum("ij,ij->i", unit[a], unit[b])


@validate_params(
    {
        "embeddings": "no_validation",
        "pairs": "no_validation",
        "n_null": [Interval(Integral, 1, None, closed="left")],
        "alpha": [Interval(RealNotInt, 0, 1, closed="neither")],
        "system_of": [callable, None],
        "random_state": "no_validation",
    }
)
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
        with a code missing from the embeddings (or with an all-zero vector) are
        counted in ``n_missing``.
    n_null : int, default=10_000
        Number of random pairs in the null distribution of each system combination.
    alpha : float, default=0.05
        Significance level, strictly between 0 and 1.
    system_of : callable or None, default=None
        Code -> system. By default the system prefix as the vocabulary reads it
        (``"ICD10CM"`` for ``"ICD10CM:E11.9"`` or ``"ICD10CM//E119"``), or ``""``.
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
    alpha = float(alpha)
    unit, codes, _ = known_codes(embeddings)
    row_a, row_b, n_missing = present_pairs(codes, pairs)
    systems, system_names = code_systems(codes, system_of)
    # System ids are numbered in sorted order of name: (low, high) is sorted by name.
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
