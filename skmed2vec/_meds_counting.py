"""Counting a MEDS folder where its shards are: one task per parquet shard, results merged."""

import multiprocessing
from numbers import Integral, Real
from pathlib import Path

import numpy as np
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions, validate_params

from ._parallel import _CHUNK_EVENTS, count_codes, count_pairs, merge_streaming, run_chunks
from ._validation import N_JOBS

__all__ = ["count_meds_codes", "count_meds_pairs", "meds_shards"]

_COLUMNS = ["subject_id", "time", "code"]
_PATH = [str, Path]


def meds_shards(root):
    """The parquet shards of a MEDS folder (``data/**/*.parquet``), sorted.

    Raises
    ------
    FileNotFoundError
        If ``root`` has no ``data/`` folder or it holds no shard.
    """
    data = Path(root) / "data"
    if not data.is_dir():
        raise FileNotFoundError(
            f"no data/ folder in {root}: pass the root folder of a MEDS dataset "
            "(data/**/*.parquet)."
        )
    files = sorted(data.rglob("*.parquet"))
    if not files:
        raise FileNotFoundError(f"no parquet shard under {data}.")
    return files


def read_shard(path, static_events="first", split=None, root=None):
    """Timelines of one MEDS shard: its subjects (of ``split``, if given), all their events."""
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    from ._inputs import events_to_timelines
    from .datasets._meds import check_split_ids, split_subjects

    schema = pq.read_schema(path)
    missing = [c for c in _COLUMNS if c not in schema.names]
    if missing:
        raise ValueError(
            f"{path} has no {missing[0]!r} column, which MEDS requires; its columns are "
            f"{schema.names}."
        )
    filter_ = None
    if split is not None:
        # Read where the shard is read: a task carries a name, not the ids.
        subjects = split_subjects(root, split)
        check_split_ids(subjects, schema.field("subject_id").type, Path(root), path)
        filter_ = ds.field("subject_id").isin(subjects)
    table = ds.dataset(path, format="parquet").to_table(columns=_COLUMNS, filter=filter_)
    events = table.to_pandas()
    X = events_to_timelines(events, static_events=static_events)[0]
    return X, bool(events["time"].notna().any())


def _shard_codes(path, vocabulary, static_events, split, root):
    X, _ = read_shard(path, static_events, split, root)
    return count_codes(X, vocabulary=vocabulary), X.subject_ids


def _encode_as_in_fit(vocabulary, X):
    """Encode ``X`` as ``fit_transform`` does.

    ``transform`` would refuse codes pruned by the thresholds under
    ``handle_unknown="error"`` (the vocabulary does not store them, so it
    cannot tell them from unseen ones); ``fit_transform`` maps them to
    ``<UNK>``, and the count must not fail on training codes.
    """
    return vocabulary._encode(X, *vocabulary._grouped(X.codes), training=True)


def _shard_pairs(
    path, vocabulary, static_events, split, root, window, time_decay, max_gap, chunk_events
):
    X, timed = read_shard(path, static_events, split, root)
    counts = count_pairs(
        _encode_as_in_fit(vocabulary, X),
        window=window,
        time_decay=time_decay,
        max_gap=max_gap,
        chunk_events=chunk_events,
    )
    if not timed:  # static rows only: no time kind to disagree with the other shards'
        counts.time_kind = None
    if multiprocessing.parent_process() is not None:
        # A worker process: joblib's process backends send a memory-mapped array
        # back by its file name, and the file goes with this process's counts.
        counts = counts._in_memory()
    return counts, X.subject_ids


def _check_split(root, split):
    """Refuse, before any task runs, a split the folder does not have."""
    if split is not None:
        from .datasets._meds import split_subjects

        split_subjects(root, split)


def _merge_shards(results, paths):
    """Add the shards' counts up, refusing a subject found in two shards.

    A subject split across shards would lose the pairs that span the split and
    be counted as two patients. The check sorts all subject ids once, at the
    end (8 bytes per subject).
    """
    subjects, shard = [], []

    def recorded(item):
        result, ids = item
        shard.append(np.full(len(ids), len(subjects)))
        subjects.append(np.asarray(ids))
        return result

    total = merge_streaming(results, lambda a, b: a + b, each=recorded)
    if subjects:
        ids, owner = np.concatenate(subjects), np.concatenate(shard)
        order = np.argsort(ids, kind="stable")
        repeated = np.flatnonzero(ids[order][1:] == ids[order][:-1])
        if repeated.size:
            first, second = order[repeated[0]], order[repeated[0] + 1]
            del total  # its files go now, not with a kept traceback
            raise ValueError(
                f"subject {ids[first].tolist()!r} has events in two shards, "
                f"{paths[owner[first]]} and {paths[owner[second]]}; MEDS keeps each "
                "subject in one shard, and the pairs that span a split would be lost. "
                "Rewrite the folder so that it does, or read it whole with read_meds."
            )
    return total


@validate_params(
    {
        "root": _PATH,
        "vocabulary": [None, HasMethods(["fit_counts"])],
        "split": [str, list, tuple, None],
        "static_events": [StrOptions({"first", "drop", "error"})],
        "n_jobs": N_JOBS,
    },
    prefer_skip_nested_validation=True,
)
def count_meds_codes(root, *, vocabulary=None, split=None, static_events="first", n_jobs=None):
    """Count the codes of each shard of a MEDS folder on a worker, and add the counts up.

    Each task receives a shard's path, not its data, and returns its
    :class:`~skmed2vec.CodeCounts`; the results are merged as they arrive, so
    the caller holds the merged counts and never the events. Under
    ``joblib.parallel_backend("dask")`` the tasks run on the cluster's
    workers, which must see the folder at the same path.

    Parameters
    ----------
    root : str or path-like
        MEDS folder (``data/**/*.parquet`` with ``subject_id``, ``time``,
        ``code``); MEDS keeps each subject in one shard, and a subject found
        in two raises a ValueError.
    vocabulary : CodeVocabulary, default=None
        Its ``system`` and ``grouping`` normalise the codes.
    split : str or list of str, default=None
        Count only the subjects of these splits of
        ``metadata/subject_splits.parquet`` (``"train"``: no held-out subject
        in the vocabulary), as :func:`~skmed2vec.read_meds` reads them; None
        counts every subject.
    static_events : {"first", "drop", "error"}, default="first"
        Rows without a time, as :func:`~skmed2vec.events_to_timelines` treats them.
    n_jobs : int, default=None
        Shards counted in parallel through joblib.

    Returns
    -------
    CodeCounts
        Equal to :func:`~skmed2vec.count_codes` of the whole folder read at once.
    """
    from ._vocabulary import CodeVocabulary

    vocabulary = CodeVocabulary() if vocabulary is None else vocabulary
    paths = meds_shards(root)
    _check_split(root, split)
    tasks = [(path, vocabulary, static_events, split, root) for path in paths]
    return _merge_shards(run_chunks(_shard_codes, tasks, n_jobs), paths)


@validate_params(
    {
        "root": _PATH,
        "vocabulary": [HasMethods(["fit_counts"])],
        "window": [Interval(Integral, 1, None, closed="left")],
        "time_decay": [Interval(Real, 0, None, closed="left"), None],
        "max_gap": [Interval(Real, 0, None, closed="left"), None],
        "split": [str, list, tuple, None],
        "static_events": [StrOptions({"first", "drop", "error"})],
        "n_jobs": N_JOBS,
        "chunk_events": [Interval(Integral, 1, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def count_meds_pairs(
    root,
    vocabulary,
    *,
    window=5,
    time_decay=0.0,
    max_gap=None,
    split=None,
    static_events="first",
    n_jobs=None,
    chunk_events=_CHUNK_EVENTS,
):
    """Sum the pair weights of each shard of a MEDS folder on a worker, and add them up.

    Each task receives a shard's path, encodes the shard with the fitted
    ``vocabulary`` as its ``fit_transform`` does (codes pruned by its
    thresholds are not refused, even with ``handle_unknown="error"``) and
    returns its
    :class:`~skmed2vec.PairCounts`; the caller
    merges them as they arrive and holds only the merged totals.
    :meth:`TemporalMed2VecEmbedder.fit_counts` trains from the result and
    gives the vectors :meth:`TemporalMed2VecEmbedder.fit` gives on the whole
    folder read at once.

    Parameters
    ----------
    root : str or path-like
        MEDS folder.
    vocabulary : CodeVocabulary
        Fitted, e.g. with ``fit_counts(count_meds_codes(root, ...))``.
    window, time_decay, max_gap : see :func:`~skmed2vec.count_pairs`
    split : str or list of str, default=None
        Count only the subjects of these splits, as in :func:`count_meds_codes`.
    static_events : {"first", "drop", "error"}, default="first"
    n_jobs : int, default=None
        Shards counted in parallel through joblib.
    chunk_events : int, default=250_000
        Events whose pairs are generated at once within a shard.

    Returns
    -------
    PairCounts

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skmed2vec import (CodeVocabulary, TemporalMed2VecEmbedder, count_meds_codes,
    ...                        count_meds_pairs)
    >>> from skmed2vec.datasets import make_cohort
    >>> root = Path(tempfile.mkdtemp())
    >>> (root / "data").mkdir()
    >>> events = make_cohort(60, random_state=0).events
    >>> for i, part in enumerate([events[events.subject_id < 30], events[events.subject_id >= 30]]):
    ...     part.to_parquet(root / "data" / f"{i}.parquet")
    >>> vocabulary = CodeVocabulary(min_subjects=2).fit_counts(count_meds_codes(root))
    >>> embedder = TemporalMed2VecEmbedder(embed_dim=8, epochs=1, random_state=0)
    >>> embedder.fit_counts(count_meds_pairs(root, vocabulary)).code_vectors_.shape[1]
    8
    """
    if not hasattr(vocabulary, "vocabulary_"):
        raise ValueError(
            "vocabulary must be fitted (e.g. vocabulary.fit_counts(count_meds_codes(root))) "
            "before the pairs are counted."
        )
    paths = meds_shards(root)
    _check_split(root, split)
    tasks = [
        (path, vocabulary, static_events, split, root, window, time_decay, max_gap, chunk_events)
        for path in paths
    ]
    return _merge_shards(run_chunks(_shard_pairs, tasks, n_jobs), paths)
