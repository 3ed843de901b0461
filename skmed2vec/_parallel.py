"""Counting passes over chunks of patients in parallel through joblib (Dask included)."""

from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from sklearn import config_context, get_config
from sklearn.utils._param_validation import HasMethods, Interval, validate_params

from ._chunks import iter_chunks
from ._counting import (
    CodeCounts,
    PairCounts,
    code_chunk_counts,
    pair_chunk_counts,
)
from ._key_sums import tree
from ._normalization import normalization_of
from ._progress import progress
from ._timelines import Timelines, as_timelines
from ._validation import N_JOBS

__all__ = ["count_codes", "count_pairs", "merge_streaming", "run_chunks"]

_CHUNK_EVENTS = 250_000


def run_chunks(function, tasks, n_jobs):
    """``function(*task)`` for each task through ``joblib.Parallel``, results in task order.

    Threads are preferred: the chunk functions spend their time in numpy
    sorts and sums, which release the GIL, and threads start without the
    cost of worker processes and of copying the chunks to them.

    Under ``joblib.parallel_backend("dask")`` the tasks run on the cluster's
    workers; ``n_jobs=None`` then uses them all.

    No more workers start than there are tasks (as scikit-learn's ensembles
    do): ``n_jobs=64`` on five chunks runs five threads, not 64. Each task runs
    in the caller's scikit-learn configuration (``working_memory``, the memory
    budget of counts merged in a task), which new threads and processes would
    not have; scikit-learn's own ``Parallel`` does this too, but rewrites the
    process's warning filters from every thread.
    """
    tasks = list(tasks)
    n_jobs = min(effective_n_jobs(n_jobs), len(tasks))
    if n_jobs <= 1:
        return (function(*task) for task in tasks)
    task = _InConfig(function, get_config())
    try:
        parallel = Parallel(n_jobs=n_jobs, return_as="generator", prefer="threads")
    except ValueError as error:
        if "return_as" not in str(error):
            raise
        # joblib's "multiprocessing" backend returns lists only: every result at once.
        parallel = Parallel(n_jobs=n_jobs, prefer="threads")
    return parallel(delayed(task)(*t) for t in tasks)


class _InConfig:
    """``function`` run in the scikit-learn configuration ``config`` (picklable, and
    named after ``function`` for joblib's and Dask's task names)."""

    def __init__(self, function, config):
        self.function, self.config = function, config
        self.__name__ = getattr(function, "__name__", type(function).__name__)

    def __call__(self, *args):
        with config_context(**self.config):
            return self.function(*args)


def merge_streaming(results, merge, each=None):
    """Merge results made for this merge as they arrive, as a balanced tree.

    :func:`~skmed2vec._key_sums.tree` with ``owned=True``: if anything stops
    the merge, the temporary files of every result held are removed at once,
    and ``results`` is closed (joblib stops dispatching the remaining tasks).
    ``each`` turns a result into what is merged.
    """

    def items():
        try:
            for result in results:
                yield result if each is None else each(result)
        finally:
            if hasattr(results, "close"):
                results.close()

    return tree(items(), merge, owned=True)


def group_counts(event_group, patient, n_groups, n_patients, *, n_jobs=None, chunk_events=None):
    """Events and patients per group index, counted over chunks of patients in parallel.

    ``patient`` (in ``range(n_patients)``) gives each event's patient; a
    patient's events all go to the same chunk.
    """
    if patient.size and (patient[1:] < patient[:-1]).any():
        order = np.argsort(patient, kind="stable")
        event_group, patient = event_group[order], patient[order]
    offsets = np.concatenate([[0], np.cumsum(np.bincount(patient, minlength=n_patients))])
    tasks = (
        (event_group[offsets[a] : offsets[b]], patient[offsets[a] : offsets[b]], n_groups)
        for a, b in iter_chunks(offsets, chunk_events or _CHUNK_EVENTS)
    )
    results = run_chunks(code_chunk_counts, tasks, n_jobs)
    total = merge_streaming(results, lambda a, b: (a[0] + b[0], a[1] + b[1]))
    if total is None:
        empty = np.zeros(n_groups, dtype=np.int64)
        return empty, empty.copy()
    return total


@validate_params(
    {
        "X": ["array-like", Timelines],
        "vocabulary": [None, HasMethods(["fit_counts"])],
        "n_jobs": N_JOBS,
        "chunk_events": [Interval(Integral, 1, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def count_codes(X, *, vocabulary=None, n_jobs=None, chunk_events=_CHUNK_EVENTS):
    """Count events and patients per normalised code: the vocabulary's first pass.

    Counts of disjoint sets of patients add up (``+`` or
    :func:`merge_counts`); :meth:`CodeVocabulary.fit_counts` learns the same
    vocabulary from the total as :meth:`CodeVocabulary.fit` on all the patients.

    Parameters
    ----------
    X : sequence of timelines, pandas.Series or Timelines
        Patient timelines; events after a patient's prediction time are not counted.
    vocabulary : CodeVocabulary, default=None
        Its ``system`` and ``grouping`` normalise the codes (fitted or not);
        the default normalises nothing.
    n_jobs : int, default=None
        Chunks of patients counted in parallel through joblib (``-1``: all
        cores; under ``joblib.parallel_backend("dask")``, the cluster).
    chunk_events : int, default=250_000
        Events per chunk.

    Returns
    -------
    CodeCounts

    Examples
    --------
    >>> from skmed2vec import CodeVocabulary, count_codes
    >>> counts = count_codes([[(0, "E11.65"), (1, "E1165")]],
    ...                      vocabulary=CodeVocabulary(grouping="icd10_category"))
    >>> counts.codes.tolist(), counts.event_counts.tolist(), counts.subject_counts.tolist()
    (['E11'], [2], [1])
    """
    from ._vocabulary import CodeVocabulary, _raw

    if vocabulary is None:
        vocabulary = CodeVocabulary()
    if not isinstance(vocabulary, CodeVocabulary):
        raise TypeError(f"vocabulary must be a CodeVocabulary; got {type(vocabulary).__name__}.")
    X = _raw(as_timelines(X))
    groups, event_group = vocabulary._grouped(X.codes)
    # Several samples (prediction times) of one subject count once as a patient.
    patient = X.subject_codes()[X.patient_ids()]
    on_time = X.before_prediction()
    if on_time is not None:
        event_group, patient = event_group[on_time], patient[on_time]
    n_subjects = X.n_subjects
    events, subjects = group_counts(
        event_group, patient, len(groups), n_subjects, n_jobs=n_jobs, chunk_events=chunk_events
    )
    return counts_from_groups(groups, events, subjects, n_subjects, vocabulary)


def counts_from_groups(groups, events, subjects, n_subjects, vocabulary):
    """:class:`CodeCounts` of the groups seen at least once."""
    seen = events > 0
    return CodeCounts(
        np.asarray(groups, dtype=str)[seen],
        events[seen],
        subjects[seen],
        n_subjects,
        normalization_of(vocabulary),
    )


@validate_params(
    {
        "X": ["array-like", Timelines],
        "window": [Interval(Integral, 1, None, closed="left")],
        "time_decay": [Interval(Real, 0, None, closed="left"), None],
        "max_gap": [Interval(Real, 0, None, closed="left"), None],
        "n_jobs": N_JOBS,
        "chunk_events": [Interval(Integral, 1, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def count_pairs(
    X,
    *,
    window=5,
    time_decay=0.0,
    max_gap=None,
    n_jobs=None,
    chunk_events=_CHUNK_EVENTS,
    verbose=0,
):
    """Sum the time weights of code pairs: the embedder's second pass.

    Counts of disjoint sets of patients add up exactly (``+`` or
    :func:`merge_counts`); :meth:`TemporalMed2VecEmbedder.fit_counts` trains
    from the total and gives the vectors :meth:`TemporalMed2VecEmbedder.fit`
    gives on all the patients, with the same ``random_state``.

    Parameters
    ----------
    X : Timelines
        Encoded timelines (the output of a fitted :class:`CodeVocabulary`);
        events after a patient's prediction time are not counted.
    window : int, default=5
    time_decay : float or None, default=0.0
        The decay of the weights, or None to keep counts per time-gap bin
        (the weights for any decay then come from the same counts).
    max_gap : float, default=None
        As for :class:`TemporalMed2VecEmbedder`: each must match the
        embedder that trains from the counts.
    n_jobs : int, default=None
        Chunks of patients counted in parallel through joblib (``-1``: all
        cores; under ``joblib.parallel_backend("dask")``, the cluster).
    chunk_events : int, default=250_000
        Events per chunk; bounds each task's memory.
    verbose : int, default=0
        Show a progress bar over the chunks (see :class:`TemporalMed2VecEmbedder`).

    Returns
    -------
    PairCounts
        Its keys and values are memory-mapped from a temporary file (removed
        when the counts are collected) when they exceed a quarter of
        scikit-learn's ``working_memory`` (``sklearn.set_config``).

    Examples
    --------
    >>> from skmed2vec import CodeVocabulary, count_pairs
    >>> X = CodeVocabulary().fit_transform([[(0, "E11.9"), (1, "I10"), (1, "J45")]])
    >>> counts = count_pairs(X, window=1, time_decay=0.0)
    >>> targets, contexts, weights = counts.pair_weights()
    >>> X.code_names[targets].tolist(), X.code_names[contexts].tolist(), weights.tolist()
    (['E11.9', 'I10', 'I10', 'J45'], ['I10', 'J45', 'E11.9', 'I10'], [1.0, 1.0, 1.0, 1.0])
    """
    X = as_timelines(X)
    if not X.is_encoded:
        raise ValueError(
            "X must be encoded timelines (the output of a fitted CodeVocabulary); "
            "pass it through CodeVocabulary().fit_transform first."
        )
    X = X.up_to_prediction()
    n_codes = len(X.code_names)
    chunks = list(iter_chunks(X.offsets, chunk_events))
    tasks = (
        (
            X.codes[X.offsets[a] : X.offsets[b]],
            X.times[X.offsets[a] : X.offsets[b]],
            np.diff(X.offsets[a : b + 1]),
            n_codes,
            window,
            max_gap,
            time_decay,
        )
        for a, b in chunks
    )
    results = progress(
        run_chunks(pair_chunk_counts, tasks, n_jobs),
        "counting pairs",
        total=len(chunks),
        verbose=verbose,
        unit="chunk",
    )

    def as_counts(result):
        keys, values, code_counts, code_documents, n_documents = result
        return PairCounts(
            X.code_names,
            code_counts,
            0,
            window=window,
            max_gap=max_gap,
            time_decay=time_decay,
            time_kind=None,
            keys=keys,
            values=values,
            code_documents=code_documents,
            n_documents=n_documents,
        )

    total = merge_streaming(results, lambda a, b: a + b, each=as_counts)
    if total is None:
        empty = np.zeros(0, np.int64)
        total = as_counts((empty, empty, np.zeros(n_codes), np.zeros(n_codes), 0))
    total.n_subjects = X.n_subjects
    total.time_kind = X.time_kind if X.n_events else None
    return total
