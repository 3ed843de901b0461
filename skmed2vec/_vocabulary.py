"""CodeVocabulary: learn which codes get their own index."""

from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    RealNotInt,
    StrOptions,
)
from sklearn.utils.validation import check_is_fitted

from ._base import UNKNOWN, TimelineEstimatorMixin
from ._codes import ICD_RULES, group_code, join_system, parents, split_system
from ._counting import CodeCounts
from ._normalization import normalization_of
from ._parallel import counts_from_groups, group_counts
from ._timelines import as_timelines
from ._validation import N_JOBS

__all__ = ["CodeVocabulary"]


class CodeVocabulary(
    TimelineEstimatorMixin, TransformerMixin, BaseEstimator, auto_wrap_output_keys=None
):
    """Learn the code vocabulary of patient timelines and encode codes as indices.

    Codes are normalised (default system prefix, then grouping), counted, and
    pruned: codes below the thresholds share the reserved unknown index 0
    (``"<UNK>"``). ``transform`` returns encoded :class:`~skmed2vec.Timelines`
    that carry the vocabulary, ready for :class:`TemporalMed2VecEmbedder`.

    Parameters
    ----------
    min_frequency : int or float, default=1
        Codes occurring fewer times are pruned. A float in (0, 1] is a share
        of all training events.
    min_subjects : int or float, default=1
        Codes seen in fewer distinct patients are pruned. A float in (0, 1] is
        a share of the training patients. This is the guard against
        publishing a code that identifies a handful of patients: with
        ``min_subjects=k`` no code seen in fewer than k patients is stored.
    max_codes : int, default=None
        Keep at most this many codes, the most frequent (ties by code).
    grouping : {"icd10_category", "icd10_subcategory", "icd9_category", \
"icd_category"}, dict or callable, default=None
        Map codes to coarser groups before counting. The ICD rules act on the
        code part of ICD diagnosis codes only, dotted or undotted: codes whose
        system is ICD-10 (``ICD10``, ``ICD10CM``, ``DIAGNOSIS//ICD//10``...) or
        ICD-9-CM (``ICD9CM``, ``DIAGNOSIS//ICD//9``...) and whose code part
        has the shape of a code of that revision, and bare codes with the
        shape of one. The code part is read without surrounding whitespace
        and in upper case, and the group is written in upper case after the
        system prefix as written: ``ICD10CM: e11.65`` and ``ICD10CM:E1165``
        both become ``ICD10CM:E11``. With ``"icd10_category"`` ``E11.65`` and
        ``E1165`` become ``E11``; with ``"icd10_subcategory"`` both become
        ``E11.6``; ``"icd9_category"`` gives the ICD-9-CM category (``250.01``
        -> ``250``, ``V45.81`` -> ``V45``, ``E880.1`` and ``E8801`` ->
        ``E880``); ``"icd_category"`` applies both, each to its own codes, and
        takes a bare code with both shapes for ICD-10: undotted ``E8801``
        becomes ``E88`` (ICD-10 ``E88.01``), dotted ``E880.1`` becomes
        ``E880``. Every other code (SNOMED, LOINC, procedures...) is left as
        it is. A bare code is recognised by its shape alone, so a bare code
        with the shape of an ICD code is taken for one whatever its system:
        bare ``9201`` (an OMOP visit concept id) becomes ICD-9-CM ``920`` and
        bare ``6809`` (RxNorm) becomes ``680``. Data that mixes bare numeric
        codes of other systems must give each system its prefix before
        grouping (``RxNorm/6809`` is left as it is): :func:`~skmed2vec.read_omop`
        and :func:`~skmed2vec.read_mimic_iv` write prefixed codes, and
        ``system`` prefixes bare codes that all come from one system. A dict
        maps full codes (with prefix) to groups, e.g. MEDS ``parent_codes`` or
        OMOP ancestors; codes missing from it are kept. A callable takes and
        returns a full code.
    system : str, default=None
        System prefix added to bare codes, e.g. ``"ICD10CM"`` turns ``E11.9``
        into ``ICD10CM:E11.9``; end it with ``"//"`` for MEDS style or ``"/"`` for
        OMOP style (``"SNOMED/"``). Codes that
        already carry a prefix (``SYS:CODE`` or ``SYS//CODE``) keep theirs.
    handle_unknown : {"unknown", "ignore", "error"}, default="unknown"
        What ``transform`` does with codes outside the vocabulary: map them
        to ``"<UNK>"``, drop their events, or raise a ValueError naming them
        (only codes of events up to the prediction times: later events are
        never used).
        Codes pruned at fit are not stored, so they too are outside the
        vocabulary, and ``fit_transform`` treats them as ``transform`` does,
        so that ``fit_transform(X)`` equals ``fit(X).transform(X)``; with
        ``"error"``, ``fit_transform`` maps them to ``"<UNK>"`` (they were
        seen), while ``transform`` refuses them.
    fallback_to_parent : bool or dict, default=False
        Before handling an unknown code, try its ancestors and use the nearest
        one in the vocabulary. ``True`` uses the ICD rule: the code part of an
        ICD diagnosis code cut one character at a time down to its category
        (``E11.65`` -> ``E11.6`` -> ``E11``); other codes have no ancestors by
        rule. A dict maps a code to its parent code, to a list of its direct
        parents (MEDS ``parent_codes``, from :func:`~skmed2vec.read_meds_codes`)
        or to a list of all its ancestors, nearest first
        (:func:`~skmed2vec.read_omop_ancestors`); the ICD rule is then not
        used. The mapping is walked breadth first, the code's entries, then
        theirs, and so on, so that the nearest ancestor in the vocabulary is
        found however many levels up it is. Used by ``transform`` and by
        ``fit_transform`` (for the pruned training codes, whose events then
        train their ancestor; ``code_counts_`` still counts them at index 0).
    n_jobs : int, default=None
        Chunks of patients counted in parallel through joblib (``-1``: all
        cores; under ``joblib.parallel_backend("dask")``, the cluster's
        workers). The vocabulary is the same for every value.
    verbose : int, default=0
        0 prints nothing; 1 or more prints how many codes were kept and what
        share of events they cover. The message always goes to the
        ``skmed2vec`` logger at INFO level.

    Attributes
    ----------
    vocabulary_ : dict of str to int
        Index of each code; ``vocabulary_["<UNK>"] == 0``.
    codes_ : ndarray of str of shape (n_codes,)
        Code of each index, by descending training frequency after ``<UNK>``.
    code_counts_ : ndarray of int64 of shape (n_codes,)
        Training events per index; index 0 counts the pruned codes' events
        (which ``fit_transform`` encodes as ``<UNK>``, their nearest ancestor
        in the vocabulary with ``fallback_to_parent``, or drops with
        ``handle_unknown="ignore"``).
    subject_counts_ : ndarray of int64 of shape (n_codes,)
        Training patients per index. After :meth:`fit_counts`, index 0 is
        the sum of the pruned codes' patient counts (capped at the number of
        patients): an upper bound, as a patient with two pruned codes is
        counted twice and the counts cannot tell.
    coverage_ : float
        Share of training events whose code kept its own index.

    See Also
    --------
    TemporalMed2VecEmbedder : Learns a vector per code from the encoded timelines.
    sklearn.feature_extraction.text.CountVectorizer : Its closest relative for text.

    Notes
    -----
    Only events up to each patient's prediction time are counted. Duplicate
    events count as often as they occur.

    Examples
    --------
    >>> from skmed2vec import CodeVocabulary
    >>> X = [[(0, "E11.65"), (1, "E1165"), (2, "I10")], [(0, "E11.9"), (5, "J45")]]
    >>> vocab = CodeVocabulary(grouping="icd10_category", min_frequency=2).fit(X)
    >>> vocab.codes_.tolist()
    ['<UNK>', 'E11']
    >>> vocab.transform([[(0, "E11.2"), (1, "Z99")]]).codes.tolist()
    [1, 0]
    """

    _parameter_constraints = {
        "min_frequency": [
            Interval(Integral, 1, None, closed="left"),
            Interval(RealNotInt, 0, 1, closed="right"),
        ],
        "min_subjects": [
            Interval(Integral, 1, None, closed="left"),
            Interval(RealNotInt, 0, 1, closed="right"),
        ],
        "max_codes": [Interval(Integral, 1, None, closed="left"), None],
        "grouping": [StrOptions(set(ICD_RULES)), dict, callable, None],
        "system": [str, None],
        "handle_unknown": [StrOptions({"unknown", "ignore", "error"})],
        "fallback_to_parent": ["boolean", dict],
        "n_jobs": N_JOBS,
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        min_frequency=1,
        min_subjects=1,
        max_codes=None,
        grouping=None,
        system=None,
        handle_unknown="unknown",
        fallback_to_parent=False,
        n_jobs=None,
        verbose=0,
    ):
        self.min_frequency = min_frequency
        self.min_subjects = min_subjects
        self.max_codes = max_codes
        self.grouping = grouping
        self.system = system
        self.handle_unknown = handle_unknown
        self.fallback_to_parent = fallback_to_parent
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _validate_params(self):
        super()._validate_params()
        if self.system is not None and not self.system.strip(" :/"):
            raise InvalidParameterError(
                f"The 'system' parameter of CodeVocabulary must name a system, such as "
                f"'ICD10CM' or 'ICD10CM//', or be None; got {self.system!r}."
            )

    # -- normalisation -------------------------------------------------------
    def _normalize(self, code):
        """Default system prefix, then grouping, for one distinct code."""
        system, sep, part = split_system(code)
        if system is None and self.system is not None:
            sep = next((s for s in ("//", ":", "/") if self.system.endswith(s)), None)
            if sep is not None:
                system = self.system[: -len(sep)]
            else:
                system, sep = self.system, ":"
        grouping = self.grouping
        code = join_system(system, sep, part)
        if isinstance(grouping, str):
            return group_code(grouping, code)
        if isinstance(grouping, dict):
            group = grouping.get(code, code)
        elif callable(grouping):
            group = grouping(code)
        else:
            return code
        if not isinstance(group, str) or not group.strip():
            given = "maps" if isinstance(grouping, dict) else "returned"
            raise ValueError(
                f"grouping {given} {group!r} for code {code!r}; a group must be a non-empty string."
            )
        return group

    def _grouped(self, codes):
        """Distinct normalised codes (sorted) and the position of each event's one.

        Normalisation runs once per distinct code, and no per-event array of
        strings is built.
        """
        inverse, distinct = pd.factorize(codes)
        normalized = np.asarray([self._normalize(c) for c in distinct], dtype=object)
        group_of, groups = pd.factorize(normalized, sort=True)
        return np.asarray(groups, dtype=object), group_of[inverse]

    # -- fit -----------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Learn the vocabulary from training timelines.

        Parameters
        ----------
        X : sequence of timelines, pandas.Series or Timelines
            See :func:`~skmed2vec.as_timelines`.
        y : None
            Ignored.

        Returns
        -------
        self : CodeVocabulary
        """
        self._fit(X)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None):
        """Fit, then encode ``X`` as :meth:`transform` would.

        Pruned training codes are handled as codes outside the vocabulary,
        except that ``handle_unknown="error"`` maps them to ``"<UNK>"``.

        Returns
        -------
        Timelines
            Encoded timelines carrying the vocabulary.
        """
        X, groups, event_group = self._fit(X)
        return self._encode(X, groups, event_group, training=True)

    def _fit(self, X):
        X = _raw(as_timelines(X))
        # Codes are grouped once for all events; only those up to the
        # prediction times are counted.
        groups, event_group = self._grouped(X.codes)
        # Patients are subjects: several samples (prediction times) of one
        # subject count once towards min_subjects.
        counted, patient = event_group, X.subject_codes()[X.patient_ids()]
        on_time = X.before_prediction()
        if on_time is not None:
            counted, patient = counted[on_time], patient[on_time]
        if counted.size == 0:
            raise ValueError(
                "X has no events (up to the prediction times) to learn a vocabulary from."
            )
        n_subjects = X.n_subjects
        events, subjects = group_counts(
            counted, patient, len(groups), n_subjects, n_jobs=self.n_jobs
        )
        kept = self._fit_counts(counts_from_groups(groups, events, subjects, n_subjects, self))
        # The subjects sharing <UNK>, exactly: those with an event of a pruned code.
        pruned = np.ones(len(groups), dtype=bool)
        pruned[np.searchsorted(groups.astype(str), kept)] = False
        on_unknown = np.zeros(n_subjects, dtype=bool)
        on_unknown[patient[pruned[counted]]] = True
        self.subject_counts_[0] = on_unknown.sum()
        return X, groups, event_group

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_counts(self, counts):
        """Learn the vocabulary from code counts, e.g. summed over MEDS shards.

        Gives the vocabulary :meth:`fit` learns from all the patients whose
        counts were added up (``subject_counts_[0]`` excepted, see Attributes).

        Parameters
        ----------
        counts : CodeCounts
            From :func:`~skmed2vec.count_codes` with this vocabulary's
            ``system`` and ``grouping``, or a sum of them.

        Returns
        -------
        self : CodeVocabulary
        """
        if not isinstance(counts, CodeCounts):
            raise TypeError(f"counts must be CodeCounts; got {type(counts).__name__}.")
        if counts.normalization != normalization_of(self):
            raise ValueError(
                f"counts were normalised with {counts.normalization}, but this vocabulary "
                f"normalises with {normalization_of(self)}; count with the same system "
                "and grouping."
            )
        if counts.n_events == 0:
            raise ValueError("counts hold no events to learn a vocabulary from.")
        self._fit_counts(counts)
        return self

    def _fit_counts(self, counts):
        """Prune and order the codes of ``counts``; return the kept codes."""
        groups, events, subjects = counts.codes, counts.event_counts, counts.subject_counts
        n_events = counts.n_events
        min_count = _threshold(self.min_frequency, n_events)
        min_subj = _threshold(self.min_subjects, counts.n_subjects)
        keep = (events >= min_count) & (subjects >= min_subj) & (groups != UNKNOWN)
        kept = np.flatnonzero(keep)
        kept = kept[np.argsort(-events[kept], kind="stable")]
        if self.max_codes is not None:
            kept = kept[: self.max_codes]
        if kept.size == 0:
            raise ValueError(
                f"After pruning with min_frequency={self.min_frequency!r}, "
                f"min_subjects={self.min_subjects!r}, max_codes={self.max_codes!r}, "
                f"no code is left of {groups.size}; lower the thresholds."
            )
        self.codes_ = np.asarray([UNKNOWN, *groups[kept]], dtype=str)
        self.vocabulary_ = {code: i for i, code in enumerate(self.codes_.tolist())}
        pruned = np.ones(groups.size, dtype=bool)
        pruned[kept] = False
        unknown_subjects = min(int(subjects[pruned].sum()), counts.n_subjects)
        self.code_counts_ = np.concatenate([[events[pruned].sum()], events[kept]]).astype(np.int64)
        self.subject_counts_ = np.concatenate([[unknown_subjects], subjects[kept]]).astype(np.int64)
        self.coverage_ = float(events[kept].sum() / n_events)
        self._report(
            f"kept {kept.size} of {groups.size} codes, covering "
            f"{100 * self.coverage_:.1f}% of {n_events} training events"
        )
        return groups[kept]

    # -- transform -----------------------------------------------------------
    def transform(self, X):
        """Encode timelines with the learned vocabulary.

        Parameters
        ----------
        X : sequence of timelines, pandas.Series or Timelines

        Returns
        -------
        Timelines
            Encoded timelines (``codes`` are indices into ``codes_``) with the
            same times, prediction times and index.
        """
        check_is_fitted(self, "vocabulary_")
        X = _raw(as_timelines(X))
        return self._encode(X, *self._grouped(X.codes), training=False)

    def _encode(self, X, distinct, inverse, training):
        index = np.fromiter(
            (self.vocabulary_.get(c, -1) for c in distinct), np.int64, len(distinct)
        )
        missing = index < 0
        # Pruned training codes are outside the vocabulary, as at transform, so
        # fit_transform(X) encodes X as fit(X).transform(X) does: no skew between
        # the rows a model is fitted on and those it is served. Only "error" differs:
        # pruned codes were seen, so fit_transform gives them <UNK>.
        if self.fallback_to_parent is not False and missing.any():
            ancestors = _ancestors(self.fallback_to_parent)
            vocabulary = self.vocabulary_
            for i in np.flatnonzero(missing):
                index[i] = next(
                    (vocabulary[p] for p in ancestors(distinct[i]) if p in vocabulary), -1
                )
            missing = index < 0
        if self.handle_unknown == "error" and not training and missing.any():
            # Only codes of usable events: later ones are never used, and naming
            # a code of a patient's future would leak it.
            on_time = X.before_prediction()
            if on_time is not None:
                used = np.zeros(len(distinct), dtype=bool)
                used[inverse[on_time]] = True
                index[missing & ~used] = 0
                missing &= used
        if self.handle_unknown == "unknown" or (training and self.handle_unknown == "error"):
            index[missing] = 0
        elif self.handle_unknown == "error" and missing.any():
            unseen = sorted(distinct[missing].tolist())
            raise ValueError(
                f"{len(unseen)} code(s) are not in the vocabulary: {unseen[:10]}"
                f"{' ...' if len(unseen) > 10 else ''}. Use handle_unknown='unknown' "
                "or 'ignore' to accept them."
            )
        codes = index[inverse]
        if self.handle_unknown == "ignore":
            kept = codes >= 0
            X, codes = X.select_events(kept), codes[kept]
        return X._replace(codes=codes, code_names=self.codes_)

    def set_output(self, *, transform=None):
        """Accept an output configuration; the output stays :class:`Timelines`.

        Encoded timelines are not a table, so this step passes them on
        unchanged whatever ``transform`` asks; the estimator that follows in
        the pipeline produces the table. Present so that
        ``Pipeline.set_output`` works.

        Returns
        -------
        self : CodeVocabulary
        """
        return self

    def get_feature_names_out(self, input_features=None):
        """Codes of the vocabulary, by index: the names of the encoded codes.

        The encoded timelines hold indices into these codes, so the step that
        follows (:class:`BagOfCodes`, :class:`TemporalMed2VecEmbedder`) can
        name its columns; present so that ``pipeline[:-1].get_feature_names_out()``
        works.

        Parameters
        ----------
        input_features : None
            Ignored: timelines have no input columns.

        Returns
        -------
        feature_names_out : ndarray of object of shape (n_codes,)
            ``codes_``, ``"<UNK>"`` first.
        """
        check_is_fitted(self, "codes_")
        return np.asarray(self.codes_, dtype=object)


def _ancestors(fallback):
    """Function giving the ancestors of a code, nearest first (an iterable)."""
    if not isinstance(fallback, dict):
        return parents

    def entries(code):
        found = fallback.get(code)
        if isinstance(found, str):
            return (found,)
        try:
            return tuple(found)
        except TypeError:  # None or a missing value: no parents
            return ()

    def walk(code):
        # Breadth first: the code's entries, then theirs..., each code once
        # (a cycle ends the walk). A complete ancestor list, nearest first,
        # is the first level, so walking on changes nothing before it.
        seen, level = {code}, [code]
        while level:
            following = []
            for child in level:
                for parent in entries(child):
                    if parent not in seen:
                        seen.add(parent)
                        following.append(parent)
                        yield parent
            level = following

    return walk


def _raw(X):
    """Timelines with code strings (decoding encoded input)."""
    if X.is_encoded:
        return X._replace(codes=X.decoded_codes().astype(object), code_names=None)
    return X


def _distinct(keys):
    """Sorted distinct values of an integer array.

    A plain sort and a comparison: for millions of keys, ten times faster
    than ``np.unique`` with numpy 2.4 and without its extra copies.
    """
    keys = np.sort(keys)
    return keys[np.concatenate([keys[:1] == keys[:1], keys[1:] != keys[:-1]])]


def _threshold(value, total):
    """A count threshold from an int count or a float share of ``total``.

    The product is rounded to 9 decimals before rounding up, so that a count
    exactly at the share passes: ``0.07 * 100`` is ``7.000000000000001`` in
    floating point, and 7 of 100 patients meet ``min_subjects=0.07``.
    """
    if isinstance(value, Integral):
        return int(value)
    return max(1, int(np.ceil(round(value * total, 9))))
