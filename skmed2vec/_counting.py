"""Mergeable counts of the two passes of ``fit``: codes per shard, pair weights per shard.

Both passes are sums over patients, so any split of the patients (chunks,
processes, cluster workers, MEDS shards) can be counted separately and the
results added. Every stored number is an integer, so the sums are exact and
the merge is associative and commutative: the same totals, and so the same
vectors, whatever the split and the merge order.
"""

import numpy as np

from ._features import code_document_counts, smoothed_idf
from ._key_sums import bin_totals, merge_counts_arrays, sum_by_key, tree
from ._pairs import _both_directions, _unordered_keys, both_direction_chunks, window_pairs
from ._scratch import ClosingChunks
from ._weights import temporal_weight

__all__ = [
    "CodeCounts",
    "GAP_BINS_PER_OCTAVE",
    "PairCounts",
    "WEIGHT_UNIT",
    "bin_gaps",
    "gap_bins",
    "merge_counts",
]

#: Pair weights are summed as integers in units of 2**-32: exact in any order.
#: A weight is at most 1 (2**32 units), so a pair total overflows int64 only
#: past 2**31 co-occurrences.
WEIGHT_UNIT = 2.0**-32
_UNIT_BITS = 32

#: Time-gap bins: gap 0 has bin 0; a gap ``g > 0`` days has the bin of
#: ``round(16 * log2(g))``, clipped to 2**-11 days (42 s) .. 2**20 days.
GAP_BINS_PER_OCTAVE = 16
_MIN_OCTAVE, _MAX_OCTAVE = -11, 20
_N_BINS = 2 + (_MAX_OCTAVE - _MIN_OCTAVE) * GAP_BINS_PER_OCTAVE

_FORMAT = 1


def gap_bins(gaps):
    """Bin of each time gap (days): 0 for no gap, else ``round(16 * log2(gap))`` shifted.

    Parameters
    ----------
    gaps : array-like of float
        Non-negative gaps in days.

    Returns
    -------
    ndarray of int64
    """
    gaps = np.asarray(gaps, dtype=np.float64)
    bins = np.zeros(gaps.shape, dtype=np.int64)
    positive = gaps > 0
    with np.errstate(divide="ignore"):
        octave = np.rint(GAP_BINS_PER_OCTAVE * np.log2(gaps[positive])).astype(np.int64)
    low, high = _MIN_OCTAVE * GAP_BINS_PER_OCTAVE, _MAX_OCTAVE * GAP_BINS_PER_OCTAVE
    bins[positive] = np.clip(octave, low, high) - low + 1
    return bins


def bin_gaps():
    """Representative gap (days) of each bin: 0, then ``2 ** (k / 16)``.

    A gap ``g`` lies within a factor ``2 ** (1 / 32)`` (2.2%) of its bin's
    representative, so ``exp(-time_decay * g)`` is off by at most that
    relative factor to the power ``time_decay * g``, and by at most
    ``(2 ** (1 / 32) - 1) / e = 0.8%`` of the largest weight in absolute terms,
    whatever ``time_decay`` is (gaps beyond the clipped range excepted).

    Returns
    -------
    ndarray of float64 of shape (n_bins,)
    """
    k = np.arange(_MIN_OCTAVE * GAP_BINS_PER_OCTAVE, _MAX_OCTAVE * GAP_BINS_PER_OCTAVE + 1)
    return np.concatenate([[0.0], 2.0 ** (k / GAP_BINS_PER_OCTAVE)])


def _to_units(weights):
    """Weights in [0, 1] as int64 multiples of ``WEIGHT_UNIT`` (round to nearest)."""
    return np.rint(np.ldexp(weights, _UNIT_BITS)).astype(np.int64)


class _Weights:
    """Weight units read as float64 weights slice by slice, without a full-size copy."""

    def __init__(self, values):
        self.values = values

    def __getitem__(self, index):
        return np.ldexp(self.values[index].astype(np.float64), -_UNIT_BITS)


class CodeCounts:
    """Events and patients per (normalised) code in a set of patients; add shards up.

    The first pass of :class:`CodeVocabulary`: what ``fit`` counts before it
    prunes. Counts of disjoint sets of patients (MEDS shards, chunks of a
    table, partitions of a Spark or Dask frame) add up exactly with ``+`` or
    :func:`merge_counts`; :meth:`CodeVocabulary.fit_counts` learns the
    vocabulary from the total. Make them with :func:`count_codes`.

    Parameters
    ----------
    codes : array-like of str
        Distinct normalised codes.
    event_counts, subject_counts : array-like of int
        Events and distinct patients of each code.
    n_subjects : int
        Patients counted (with or without events).
    normalization : dict of str to str
        The ``system`` and ``grouping`` the codes were normalised with;
        counts with different normalisations refuse to merge.

    Attributes
    ----------
    n_events : int
        Events counted.

    Examples
    --------
    >>> from skmed2vec import CodeVocabulary, count_codes
    >>> part_a = count_codes([[(0, "E11.9"), (1, "I10")]])
    >>> part_b = count_codes([[(0, "I10")], [(3, "I10"), (4, "J45")]])
    >>> total = part_a + part_b
    >>> dict(zip(total.codes.tolist(), total.event_counts.tolist()))
    {'E11.9': 1, 'I10': 3, 'J45': 1}
    >>> CodeVocabulary(min_frequency=2).fit_counts(total).codes_.tolist()
    ['<UNK>', 'I10']
    """

    def __init__(self, codes, event_counts, subject_counts, n_subjects, normalization):
        codes = np.asarray(codes, dtype=str)
        order = np.argsort(codes, kind="stable")
        self.codes = codes[order]
        self.event_counts = np.asarray(event_counts, dtype=np.int64)[order]
        self.subject_counts = np.asarray(subject_counts, dtype=np.int64)[order]
        self.n_subjects = int(n_subjects)
        self.normalization = dict(normalization)
        if not (self.codes.shape == self.event_counts.shape == self.subject_counts.shape):
            raise ValueError("codes, event_counts and subject_counts must have the same length.")
        if self.codes.size and (self.codes[1:] == self.codes[:-1]).any():
            raise ValueError("codes must be distinct.")

    @property
    def n_events(self):
        return int(self.event_counts.sum())

    def __add__(self, other):
        if not isinstance(other, CodeCounts):
            return NotImplemented
        if other.normalization != self.normalization:
            raise ValueError(
                f"cannot add code counts normalised with {other.normalization} to counts "
                f"normalised with {self.normalization}; count every shard with the same "
                "CodeVocabulary settings."
            )
        codes = np.union1d(self.codes, other.codes)
        events = np.zeros(codes.size, dtype=np.int64)
        subjects = np.zeros(codes.size, dtype=np.int64)
        for part in (self, other):
            at = np.searchsorted(codes, part.codes)
            events[at] += part.event_counts
            subjects[at] += part.subject_counts
        return CodeCounts(
            codes, events, subjects, self.n_subjects + other.n_subjects, self.normalization
        )

    def __eq__(self, other):
        return (
            isinstance(other, CodeCounts)
            and np.array_equal(self.codes, other.codes)
            and np.array_equal(self.event_counts, other.event_counts)
            and np.array_equal(self.subject_counts, other.subject_counts)
            and self.n_subjects == other.n_subjects
            and self.normalization == other.normalization
        )

    __hash__ = None

    def __repr__(self):
        return (
            f"CodeCounts(n_codes={self.codes.size}, n_events={self.n_events}, "
            f"n_subjects={self.n_subjects})"
        )

    def save(self, path):
        """Write the counts to a ``.npz`` file (no pickled objects).

        Parameters
        ----------
        path : str or path-like
        """
        np.savez_compressed(
            path,
            kind=np.asarray("CodeCounts"),
            format=np.asarray(_FORMAT),
            codes=self.codes,
            event_counts=self.event_counts,
            subject_counts=self.subject_counts,
            n_subjects=np.asarray(self.n_subjects),
            normalization=np.asarray(sorted(self.normalization.items()), dtype=str),
        )

    @classmethod
    def load(cls, path):
        """Read counts written by :meth:`save`.

        Parameters
        ----------
        path : str or path-like
        """
        with np.load(path, allow_pickle=False) as data:
            _check_kind(data, "CodeCounts", path)
            return cls(
                data["codes"],
                data["event_counts"],
                data["subject_counts"],
                int(data["n_subjects"]),
                {str(k): str(v) for k, v in data["normalization"].reshape(-1, 2)},
            )


class PairCounts:
    """Summed time weights of code pairs in a set of patients; add shards up.

    The second pass of :class:`TemporalMed2VecEmbedder`: for every unordered
    pair of codes, the summed weight ``exp(-time_decay * gap)`` of the events
    at most ``window`` positions (and ``max_gap`` days) apart, plus the events
    per code. Weights are held as integers in units of ``WEIGHT_UNIT``
    (2**-32), so counts of disjoint sets of patients add up exactly with
    ``+`` or :func:`merge_counts`, in any order;
    :meth:`TemporalMed2VecEmbedder.fit_counts` trains from the total and gives
    the vectors ``fit`` gives on all the patients at once. Make them with
    :func:`count_pairs`.

    With ``time_decay=None`` the counts are kept per time-gap bin
    (:func:`gap_bins`) instead: the weights for any ``time_decay`` then come
    from one counting pass, each gap rounded to its bin's representative
    (within 2.2%, see :func:`bin_gaps`).

    Attributes
    ----------
    code_names : ndarray of str of shape (n_codes,)
        The vocabulary the codes index.
    code_counts : ndarray of int64 of shape (n_codes,)
        Events per code.
    n_subjects : int
        Patients counted.
    window : int
    max_gap : float or None
    time_decay : float or None
        None for counts per gap bin.
    time_kind : {"datetime", "days"} or None
        Kind of the event times (None when no event was counted).
    keys, values : ndarray of int64
        Sorted keys ``(low * n_codes + high) [* n_bins + bin]`` of the
        unordered pairs (``low <= high``) and their summed weight units (or,
        per bin, their counts).
    code_documents : ndarray of int64 of shape (n_codes,) or None
        Timelines (samples) holding each code, for the inverse document
        frequencies of ``code_weighting="idf"``; None in counts saved by an
        earlier version.
    n_documents : int or None
        Timelines with events.

    Examples
    --------
    >>> from skmed2vec import CodeVocabulary, TemporalMed2VecEmbedder, count_pairs
    >>> X = [[(0, "E11.9"), (2, "I10"), (30, "J45")], [(0, "E11.9"), (1, "I10")]] * 20
    >>> encoded = CodeVocabulary().fit_transform(X)
    >>> total = count_pairs(encoded[:20], window=2) + count_pairs(encoded[20:], window=2)
    >>> emb = TemporalMed2VecEmbedder(embed_dim=8, window=2, epochs=2, random_state=0)
    >>> a = emb.fit_counts(total).code_vectors_
    >>> b = emb.fit(encoded).code_vectors_
    >>> bool((a == b).all())
    True
    """

    _scratch = None  # the folder of on-disk keys and values

    def __init__(
        self,
        code_names,
        code_counts,
        n_subjects,
        *,
        window,
        max_gap,
        time_decay,
        time_kind,
        keys,
        values,
        code_documents=None,
        n_documents=None,
    ):
        self.code_names = np.asarray(code_names, dtype=str)
        self.code_counts = np.asarray(code_counts, dtype=np.int64)
        self.n_subjects = int(n_subjects)
        self.window = int(window)
        self.max_gap = None if max_gap is None else float(max_gap)
        self.time_decay = None if time_decay is None else float(time_decay)
        self.time_kind = time_kind
        self.keys = np.asarray(keys, dtype=np.int64)
        self.values = np.asarray(values, dtype=np.int64)
        if self.code_counts.shape != self.code_names.shape:
            raise ValueError("code_counts must have one count per code of code_names.")
        if self.keys.shape != self.values.shape:
            raise ValueError("keys and values must have the same length.")
        if (code_documents is None) != (n_documents is None):
            raise ValueError("code_documents and n_documents go together: pass both or neither.")
        self.code_documents = (
            None if code_documents is None else np.asarray(code_documents, dtype=np.int64)
        )
        self.n_documents = None if n_documents is None else int(n_documents)
        if self.code_documents is not None and self.code_documents.shape != self.code_names.shape:
            raise ValueError("code_documents must have one count per code of code_names.")

    @property
    def n_codes(self):
        return self.code_names.size

    def idf(self):
        """Smoothed idf of each code over the counted timelines; None without document counts."""
        documents = getattr(self, "code_documents", None)  # absent from older pickles
        return None if documents is None else smoothed_idf(documents, self.n_documents)

    @property
    def binned(self):
        """Whether the counts are kept per time-gap bin (``time_decay is None``)."""
        return self.time_decay is None

    def _settings(self):
        return {
            "window": self.window,
            "max_gap": self.max_gap,
            "time_decay": self.time_decay,
        }

    def __add__(self, other):
        if not isinstance(other, PairCounts):
            return NotImplemented
        if not np.array_equal(self.code_names, other.code_names):
            raise ValueError(
                "cannot add pair counts over different vocabularies; encode every shard "
                "with the same fitted CodeVocabulary."
            )
        if self._settings() != other._settings():
            raise ValueError(
                f"cannot add pair counts made with {other._settings()} to counts made "
                f"with {self._settings()}; count every shard with the same settings."
            )
        kinds = {self.time_kind, other.time_kind} - {None}
        if len(kinds) > 1:
            raise ValueError("cannot add pair counts of datetime times to counts of plain days.")
        keys, values, scratch = merge_counts_arrays(
            self.keys, self.values, other.keys, other.values
        )
        both = self.code_documents is not None and other.code_documents is not None
        total = PairCounts(
            self.code_names,
            self.code_counts + other.code_counts,
            self.n_subjects + other.n_subjects,
            **self._settings(),
            time_kind=next(iter(kinds), None),
            keys=keys,
            values=values,
            code_documents=self.code_documents + other.code_documents if both else None,
            n_documents=self.n_documents + other.n_documents if both else None,
        )
        total._scratch = scratch  # keeps the files of on-disk keys and values
        return total

    def __getstate__(self):
        # On-disk keys and values pickle as plain arrays (joblib.dump streams
        # them from their files); the folder stays here.
        state = self.__dict__.copy()
        state.pop("_scratch", None)
        return state

    def _in_memory(self):
        """These counts with every array in memory (a copy when they are on disk)."""
        if getattr(self, "_scratch", None) is None:
            return self
        copy = PairCounts.__new__(PairCounts)
        copy.__dict__.update(
            (name, np.array(value) if isinstance(value, np.ndarray) else value)
            for name, value in self.__getstate__().items()
        )
        return copy

    def __eq__(self, other):
        return (
            isinstance(other, PairCounts)
            and np.array_equal(self.code_names, other.code_names)
            and np.array_equal(self.code_counts, other.code_counts)
            and self.n_subjects == other.n_subjects
            and self._settings() == other._settings()
            and self.time_kind == other.time_kind
            and np.array_equal(self.keys, other.keys)
            and np.array_equal(self.values, other.values)
            and self.n_documents == other.n_documents
            and (
                self.code_documents is None
                if other.code_documents is None
                else np.array_equal(self.code_documents, other.code_documents)
            )
        )

    __hash__ = None

    def __repr__(self):
        kind = "per gap bin" if self.binned else f"time_decay={self.time_decay}"
        return (
            f"PairCounts(n_codes={self.n_codes}, n_keys={self.keys.size}, "
            f"n_events={int(self.code_counts.sum())}, {kind})"
        )

    def pair_weights(self, time_decay=None):
        """Directed ``(targets, contexts, weights)``: the training pairs and their totals.

        Each unordered pair gives both directions; a self pair gives one row
        with twice its weight. Rows come in the order of the sorted keys.

        Parameters
        ----------
        time_decay : float, default=None
            Required for binned counts (the weights' decay); otherwise it must
            be None or the decay the counts were made with.

        Returns
        -------
        targets, contexts : ndarray of int32
        weights : ndarray of float64
        """
        keys, totals, folder = self._totals(time_decay)
        try:
            return _both_directions(keys, totals, self.n_codes)
        finally:
            if folder is not None:
                folder.close()

    def pair_weight_chunks(self, time_decay=None):
        """:meth:`pair_weights` as ``(n_rows, iterator of chunks)``, in the same order.

        For consumers that convert the rows as they come (the float64 table
        of all directed rows is never built).

        Parameters
        ----------
        time_decay : float, default=None
            As for :meth:`pair_weights`.

        Returns
        -------
        n_rows : int
        chunks : iterator of (targets, contexts, weights)
            With a ``close()`` that removes the temporary files the chunks are
            read from (per-bin totals above the budget); reading them all does too.
        """
        keys, totals, folder = self._totals(time_decay)
        n_rows, chunks = both_direction_chunks(keys, totals, self.n_codes)
        return n_rows, ClosingChunks(chunks, folder)

    def _totals(self, time_decay):
        """Sorted unordered keys, their weight totals for ``time_decay``, and the
        folder holding them when they were written to disk (else None)."""
        if self.binned:
            if time_decay is None:
                raise ValueError("these pair counts are per gap bin; pass a time_decay.")
            return bin_totals(
                self.keys, self.values, temporal_weight(bin_gaps(), time_decay), _N_BINS
            )
        else:
            # Within float32 rounding: np.float32(0.01) is the 0.01 the counts used.
            if time_decay is not None and not np.isclose(
                float(time_decay), self.time_decay, rtol=1e-6, atol=0.0
            ):
                raise ValueError(
                    f"these pair counts were made with time_decay={self.time_decay}; got "
                    f"time_decay={time_decay!r}. Count with time_decay=None to tune it."
                )
        # Counts in memory: one conversion; on disk, slice by slice as rows are made.
        if self._scratch is not None:
            return self.keys, _Weights(self.values), None
        return self.keys, np.ldexp(self.values.astype(np.float64), -_UNIT_BITS), None

    def save(self, path):
        """Write the counts to a ``.npz`` file (no pickled objects).

        Parameters
        ----------
        path : str or path-like
        """
        np.savez_compressed(
            path,
            kind=np.asarray("PairCounts"),
            format=np.asarray(_FORMAT),
            code_names=self.code_names,
            code_counts=self.code_counts,
            n_subjects=np.asarray(self.n_subjects),
            window=np.asarray(self.window),
            max_gap=np.asarray(np.nan if self.max_gap is None else self.max_gap),
            time_decay=np.asarray(np.nan if self.time_decay is None else self.time_decay),
            time_kind=np.asarray("" if self.time_kind is None else self.time_kind),
            keys=self.keys,
            values=self.values,
            **(
                {}
                if self.code_documents is None
                else {
                    "code_documents": self.code_documents,
                    "n_documents": np.asarray(self.n_documents),
                }
            ),
        )

    @classmethod
    def load(cls, path):
        """Read counts written by :meth:`save`.

        Parameters
        ----------
        path : str or path-like
        """
        with np.load(path, allow_pickle=False) as data:
            _check_kind(data, "PairCounts", path)
            max_gap, decay = float(data["max_gap"]), float(data["time_decay"])
            return cls(
                data["code_names"],
                data["code_counts"],
                int(data["n_subjects"]),
                window=int(data["window"]),
                max_gap=None if np.isnan(max_gap) else max_gap,
                time_decay=None if np.isnan(decay) else decay,
                time_kind=str(data["time_kind"]) or None,
                keys=data["keys"],
                values=data["values"],
                code_documents=data["code_documents"] if "code_documents" in data else None,
                n_documents=int(data["n_documents"]) if "n_documents" in data else None,
            )


def _check_kind(data, kind, path):
    found = str(data["kind"]) if "kind" in data else None
    if found != kind:
        raise ValueError(f"{path!s} holds {found or 'no counts'}, not {kind}.")
    if int(data["format"]) > _FORMAT:
        raise ValueError(
            f"{path!s} was written by a newer skmed2vec (format {int(data['format'])})."
        )


def merge_counts(counts):
    """Add up :class:`CodeCounts` or :class:`PairCounts` of disjoint sets of patients.

    The merge runs as a balanced tree of pairwise additions, taking the counts
    one at a time: a generator (``PairCounts.load(p) for p in paths``) is never
    held whole, at most log2(n) partial sums are. Integer sums make the result
    independent of the order and grouping.

    Parameters
    ----------
    counts : iterable of CodeCounts or of PairCounts

    Returns
    -------
    CodeCounts or PairCounts
    """
    total = tree(counts, lambda a, b: a + b)
    if total is None:
        raise ValueError("nothing to merge: counts is empty.")
    return total


# -- the per-chunk work, run in worker processes ---------------------------------
def code_chunk_counts(event_group, patient, n_groups):
    """Events and distinct patients per group index over one chunk of patients."""
    events = np.bincount(event_group, minlength=n_groups)
    keys = np.asarray(patient, dtype=np.int64) * n_groups + event_group
    keys = np.sort(keys)
    distinct = keys[np.concatenate([keys[:1] == keys[:1], keys[1:] != keys[:-1]])]
    subjects = np.bincount(distinct % n_groups, minlength=n_groups)
    return events.astype(np.int64), subjects.astype(np.int64)


def pair_chunk_counts(codes, times, lengths, n_codes, window, max_gap, time_decay):
    """One chunk's pair sums, code counts and document counts.

    Returns the sorted pair keys, their summed units (or per-bin counts), the
    events per code, the timelines holding each code and the timelines with
    events.
    """
    left, right, gaps = window_pairs(codes, times, lengths, window, max_gap)
    keys = _unordered_keys(left, right, n_codes)
    del left, right
    if time_decay is None:
        keys = keys * _N_BINS + gap_bins(gaps)
        units = None
    else:
        units = _to_units(temporal_weight(gaps, time_decay))
    del gaps
    keys, values = sum_by_key(keys, units)
    return (
        keys,
        values,
        np.bincount(codes, minlength=n_codes).astype(np.int64),
        code_document_counts(codes, lengths, n_codes),
        int((np.asarray(lengths) > 0).sum()),
    )
