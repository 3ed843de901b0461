"""Mergeable counts: code and pair counts per shard, exact merges, training from the total."""

import numpy as np
import pytest

from skmed2vec import (
    CodeCounts,
    CodeVocabulary,
    PairCounts,
    TemporalMed2VecEmbedder,
    bin_gaps,
    count_codes,
    count_pairs,
    gap_bins,
    merge_counts,
)
from skmed2vec.datasets import make_cohort

PARAMS = dict(embed_dim=8, epochs=2, random_state=0)


@pytest.fixture(scope="module")
def data():
    return make_cohort(240, random_state=1).X


def shards(X, n):
    bounds = np.linspace(0, len(X), n + 1).astype(int)
    return [X[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


def test_sharded_counts_train_bit_identical_vectors(data):
    vocabulary = CodeVocabulary(min_subjects=3, grouping="icd10_category")
    whole_vocab = vocabulary.fit(data)
    parts = shards(data, 4)
    code_counts = merge_counts(count_codes(p, vocabulary=vocabulary) for p in parts)
    assert code_counts == count_codes(data, vocabulary=vocabulary)
    sharded_vocab = CodeVocabulary(min_subjects=3, grouping="icd10_category").fit_counts(
        code_counts
    )
    np.testing.assert_array_equal(sharded_vocab.codes_, whole_vocab.codes_)
    np.testing.assert_array_equal(sharded_vocab.code_counts_, whole_vocab.code_counts_)
    np.testing.assert_array_equal(
        sharded_vocab.subject_counts_[1:], whole_vocab.subject_counts_[1:]
    )
    # From counts, <UNK>'s patient count is an upper bound of the exact one.
    assert sharded_vocab.subject_counts_[0] >= whole_vocab.subject_counts_[0]
    assert sharded_vocab.coverage_ == whole_vocab.coverage_

    encoded = [sharded_vocab.transform(p) for p in parts]
    pair_counts = merge_counts(count_pairs(e, window=3, time_decay=0.02) for e in encoded)
    embedder = TemporalMed2VecEmbedder(window=3, time_decay=0.02, **PARAMS)
    from_counts = embedder.fit_counts(pair_counts).code_vectors_.copy()
    fitted = embedder.fit(whole_vocab.transform(data))
    np.testing.assert_array_equal(from_counts, fitted.code_vectors_)
    np.testing.assert_array_equal(embedder.code_counts_, pair_counts.code_counts)


def test_merge_is_exact_in_any_order(data):
    X = CodeVocabulary().fit_transform(data)
    parts = [count_pairs(p, time_decay=0.05) for p in shards(X, 5)]
    whole = count_pairs(X, time_decay=0.05)
    assert merge_counts(parts) == whole
    assert merge_counts(parts[::-1]) == whole
    left_first = (((parts[0] + parts[1]) + parts[2]) + parts[3]) + parts[4]
    assert left_first == parts[4] + (parts[3] + (parts[2] + (parts[1] + parts[0])))
    assert whole.n_subjects == len(X) and whole.time_kind == X.time_kind
    assert whole.code_counts.sum() == X.up_to_prediction().n_events  # later events ignored


def test_save_and_load_round_trip(data, tmp_path):
    codes = count_codes(data, vocabulary=CodeVocabulary(system="ICD10CM"))
    codes.save(tmp_path / "codes.npz")
    assert CodeCounts.load(tmp_path / "codes.npz") == codes
    X = CodeVocabulary().fit_transform(data)
    for decay in (0.01, None):
        pairs = count_pairs(X, time_decay=decay, max_gap=400)
        pairs.save(tmp_path / "pairs.npz")
        assert PairCounts.load(tmp_path / "pairs.npz") == pairs
    with pytest.raises(ValueError, match="holds CodeCounts, not PairCounts"):
        PairCounts.load(tmp_path / "codes.npz")


def test_mismatched_counts_are_refused(data):
    X = CodeVocabulary().fit_transform(data)
    other = CodeVocabulary(min_frequency=50).fit_transform(data)
    a = count_pairs(X[:100])
    with pytest.raises(ValueError, match="different vocabularies"):
        a + count_pairs(other[100:])
    with pytest.raises(ValueError, match="same settings"):
        a + count_pairs(X[100:], window=2)
    with pytest.raises(ValueError, match="normalised with"):
        count_codes(data[:100]) + count_codes(
            data[100:], vocabulary=CodeVocabulary(grouping="icd10_category")
        )
    with pytest.raises(ValueError, match="normalises with"):
        CodeVocabulary(system="ICD10").fit_counts(count_codes(data))
    with pytest.raises(TypeError, match="counts must be CodeCounts"):
        CodeVocabulary().fit_counts(a)
    with pytest.raises(ValueError, match="window=5 but this embedder has window=3"):
        TemporalMed2VecEmbedder(window=3).fit_counts(a)
    with pytest.raises(ValueError, match="made with time_decay=0.0"):
        TemporalMed2VecEmbedder(time_decay=0.1).fit_counts(a)
    with pytest.raises(ValueError, match="pass a time_decay"):
        count_pairs(X, time_decay=None).pair_weights()
    with pytest.raises(ValueError, match="encoded timelines"):
        count_pairs(data)
    with pytest.raises(ValueError, match="nothing to merge"):
        merge_counts([])


def test_gap_bins_bound_the_weight_error(data):
    X = CodeVocabulary().fit_transform(data)
    binned = count_pairs(X, time_decay=None)

    def by_pair(targets, contexts, weights):
        keys = targets.astype(np.int64) * 1000 + contexts
        order = np.argsort(keys)
        return keys[order], weights[order]

    keys, n_pairs = by_pair(*binned.pair_weights(time_decay=0.0))
    assert (n_pairs == np.rint(n_pairs)).all() and n_pairs.min() >= 1
    for decay in (0.0, 0.003, 0.03, 0.3):
        exact_keys, exact = by_pair(*count_pairs(X, time_decay=decay).pair_weights())
        approx_keys, approx = by_pair(*binned.pair_weights(decay))
        # A pair whose exact total rounds to 0 units is absent from the exact counts.
        assert np.isin(exact_keys, approx_keys).all()
        assert (approx[~np.isin(approx_keys, exact_keys)] < 1e-6).all()
        at = np.searchsorted(approx_keys, exact_keys)
        counts = n_pairs[np.searchsorted(keys, exact_keys)]
        # Each weight is off by at most (2**(1/32) - 1) / e of the largest weight.
        assert (np.abs(exact - approx[at]) <= 0.0082 * counts + 1e-6).all()
    gaps = np.array([0.0, 1.0, 2.0, 3.0, 45.0, 1e-9, 1e9])
    representative = bin_gaps()[gap_bins(gaps)]
    np.testing.assert_array_equal(representative[:3], [0.0, 1.0, 2.0])
    assert (np.abs(np.log2(representative[3:5] / gaps[3:5])) <= 1 / 32).all()
    assert representative[5] == 2.0**-11 and representative[6] == 2.0**20


def test_n_jobs_gives_identical_results(data):
    params = dict(PARAMS, chunk_events=1500)
    one = TemporalMed2VecEmbedder(n_jobs=1, **params).fit(data)
    two = TemporalMed2VecEmbedder(n_jobs=2, **params).fit(data)
    np.testing.assert_array_equal(one.code_vectors_, two.code_vectors_)
    vocab = CodeVocabulary(min_subjects=2, n_jobs=2).fit(data)
    np.testing.assert_array_equal(vocab.codes_, one.code_vocabulary_.codes_[: len(vocab.codes_)])
    reference = CodeVocabulary(min_subjects=2).fit(data)
    np.testing.assert_array_equal(vocab.codes_, reference.codes_)
    np.testing.assert_array_equal(vocab.subject_counts_, reference.subject_counts_)
    codes_two = count_codes(data, n_jobs=2, chunk_events=1000)
    assert codes_two == count_codes(data)


def test_no_more_counting_threads_than_chunks(data, monkeypatch):
    import threading

    from skmed2vec import _parallel

    seen = []

    def counted(*task):
        seen.append(threading.active_count())
        return task[0]

    before = threading.active_count()
    results = list(_parallel.run_chunks(counted, [(i,) for i in range(3)], n_jobs=64))
    assert results == [0, 1, 2]
    # Three workers and the thread pool's three handlers; uncapped, 64 workers would start.
    assert max(seen) <= before + 6
    # And end to end: far more jobs than chunks gives the same counts.
    assert count_codes(data, n_jobs=64, chunk_events=2000) == count_codes(data)


@pytest.mark.parametrize(
    "call",
    [
        lambda X: TemporalMed2VecEmbedder(n_jobs=0).fit(X),
        lambda X: CodeVocabulary(n_jobs=0).fit(X),
        lambda X: count_codes(X, n_jobs=0),
        lambda X: count_pairs(X, n_jobs=0),
    ],
)
def test_zero_jobs_is_refused_whatever_the_size(call):
    # joblib itself refuses 0 only once there are several chunks.
    from sklearn.utils._param_validation import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="'n_jobs' parameter"):
        call([[(0, "A"), (1, "B")]])


def test_memory_counts_each_training_set_once(data, tmp_path, monkeypatch):
    from sklearn.model_selection import GridSearchCV

    from skmed2vec import _parallel

    calls = []
    original = _parallel.count_pairs

    def counting(*args, **kwargs):
        calls.append(kwargs["time_decay"])
        return original(*args, **kwargs)

    monkeypatch.setattr(_parallel, "count_pairs", counting)
    embedder = TemporalMed2VecEmbedder(memory=str(tmp_path), epochs=1, random_state=0)
    grid = {"time_decay": [0.0, 0.01, 0.1], "embed_dim": [4, 8]}
    search = GridSearchCV(embedder, grid, cv=3).fit(data)
    assert calls == [None] * 4  # three folds and the refit, not 3 * 6 + 1
    assert search.best_estimator_.memory == str(tmp_path)
    # The cached counts are the binned ones: the same vectors as counting afresh.
    fresh = TemporalMed2VecEmbedder(epochs=1, random_state=0, **search.best_params_)
    expected = fresh.fit_counts(count_pairs(CodeVocabulary().fit_transform(data), time_decay=None))
    np.testing.assert_array_equal(search.best_estimator_.code_vectors_, expected.code_vectors_)


def test_cached_counts_are_read_back_memory_mapped(data, tmp_path):
    # A cache hit loaded the counts whole, whatever the memory budget.
    embedder = TemporalMed2VecEmbedder(memory=str(tmp_path), epochs=1, random_state=0)
    X = CodeVocabulary().fit_transform(data)
    first, hit = embedder._count_pairs(X), embedder._count_pairs(X)
    assert first == hit
    assert isinstance(hit.keys.base, np.memmap) or isinstance(hit.keys, np.memmap)


@pytest.mark.parametrize("time_decay, decay", [(0.0, None), (None, 3.0), (None, 30.0)])
def test_pair_weight_chunks_are_pair_weights_in_pieces(time_decay, decay):
    from skmed2vec import _pairs
    from skmed2vec._rows import TrainingRows

    X = CodeVocabulary().fit_transform(make_cohort(80, random_state=0).X)
    counts = count_pairs(X, window=3, time_decay=time_decay)
    whole = counts.pair_weights(decay)
    # Chunks of 97 keys: many chunks.
    keys, totals, _ = counts._totals(decay)
    n_rows, chunks = _pairs.both_direction_chunks(keys, totals, counts.n_codes, 97)
    pieces = [np.concatenate(part) for part in zip(*chunks, strict=True)]
    assert n_rows == len(whole[0])
    for piece, array in zip(pieces, whole, strict=True):
        np.testing.assert_array_equal(piece, array)
        assert piece.dtype == array.dtype
    from_chunks = TrainingRows.from_chunks(*counts.pair_weight_chunks(decay))
    direct = TrainingRows(*whole)
    for name in ("targets", "contexts", "weights"):
        np.testing.assert_array_equal(getattr(from_chunks, name), getattr(direct, name))
    if decay == 30.0:  # gaps of days underflow float32 at decay 30: rows dropped
        assert 0 < len(direct) < n_rows


def test_counts_of_different_grouping_functions_do_not_add(data):
    def shorten(n):
        return lambda code: code[:n]

    three = count_codes(data, vocabulary=CodeVocabulary(grouping=shorten(3)))
    one = count_codes(data, vocabulary=CodeVocabulary(grouping=shorten(1)))
    with pytest.raises(ValueError, match="cannot add code counts normalised with"):
        three + one
    again = count_codes(data, vocabulary=CodeVocabulary(grouping=shorten(3)))
    assert (three + again).n_events == 2 * three.n_events


def test_a_grouping_function_has_the_same_key_in_every_process():
    import subprocess
    import sys

    script = (
        "from skmed2vec._normalization import _callable_key\n"
        "def group(code):\n"
        "    return ''.join(c for c in code if c != '.')[:3]\n"
        "print(_callable_key(group))\n"
    )
    keys = {
        subprocess.run([sys.executable, "-c", script], capture_output=True, text=True).stdout
        for _ in range(2)
    }
    assert len(keys) == 1 and keys.pop().startswith("group:")


@pytest.mark.parametrize("time_decay", [0.01, None])
def test_counts_above_their_budget_merge_on_disk_with_the_same_result(
    data, tmp_path, monkeypatch, time_decay
):
    import pickle
    import tempfile

    from skmed2vec import _key_sums, _scratch

    X = CodeVocabulary().fit_transform(data)
    in_memory = count_pairs(X, time_decay=time_decay, chunk_events=500)
    monkeypatch.setattr(tempfile, "tempdir", None)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(_scratch, "MEMORY_BUDGET", 0)
    monkeypatch.setattr(_key_sums, "_MERGE_BLOCK", 7)  # many blocks per merge
    on_disk = count_pairs(X, time_decay=time_decay, chunk_events=500)
    assert on_disk._scratch is not None and list(tmp_path.iterdir())
    assert on_disk == in_memory
    decay = 0.01 if time_decay is None else None
    for a, b in zip(on_disk.pair_weights(decay), in_memory.pair_weights(decay)):
        np.testing.assert_array_equal(a, b)
    assert pickle.loads(pickle.dumps(on_disk)) == in_memory  # the folder is not pickled
    del on_disk, in_memory  # (per-bin totals of either went to disk too)
    assert list(tmp_path.iterdir()) == []  # removed with the counts


def test_merge_on_disk_blocks_any_overlap(monkeypatch):
    from skmed2vec import _key_sums, _scratch

    monkeypatch.setattr(_scratch, "MEMORY_BUDGET", 0)
    monkeypatch.setattr(_key_sums, "_MERGE_BLOCK", 3)
    rng = np.random.default_rng(0)
    sides = [
        (np.arange(10), np.arange(100, 110)),  # one after the other
        (np.arange(0, 40, 2), np.arange(1, 41, 2)),  # interleaved
        (np.arange(20), np.arange(5, 8)),  # one inside the other
        (np.zeros(0, np.int64), np.arange(5)),  # one empty
        *[tuple(np.unique(rng.integers(0, 60, n)) for n in (30, 25)) for _ in range(5)],
    ]
    for a, b in sides:
        va, vb = rng.integers(1, 9, a.size), rng.integers(1, 9, b.size)
        keys, values, folder = _key_sums.merge_counts_arrays(a, va, b, vb)
        assert folder is not None
        expected = np.union1d(a, b)
        totals = np.zeros(expected.size, np.int64)
        np.add.at(totals, np.searchsorted(expected, a), va)
        np.add.at(totals, np.searchsorted(expected, b), vb)
        np.testing.assert_array_equal(keys, expected)
        np.testing.assert_array_equal(values, totals)
        folder.close()


def test_fit_with_counts_and_rows_on_disk_gives_the_same_vectors(data, monkeypatch, tmp_path):
    import tempfile

    from skmed2vec import _scratch

    expected = TemporalMed2VecEmbedder(**PARAMS).fit(data).code_vectors_
    monkeypatch.setattr(tempfile, "tempdir", None)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(_scratch, "MEMORY_BUDGET", 0)
    fitted = TemporalMed2VecEmbedder(**PARAMS, chunk_events=500).fit(data)
    np.testing.assert_array_equal(fitted.code_vectors_, expected)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("where", ["totals", "rows"])
def test_an_interrupt_while_building_rows_removes_the_counts_files(
    data, monkeypatch, tmp_path, where
):
    # The counts' files stayed while a kept traceback (as IPython keeps one) held
    # the frames that summed their totals.
    import tempfile

    from skmed2vec import _counting, _rows, _scratch

    monkeypatch.setattr(tempfile, "tempdir", None)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(_scratch, "MEMORY_BUDGET", 0)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    if where == "totals":
        monkeypatch.setattr(_counting, "both_direction_chunks", interrupted)
    else:
        monkeypatch.setattr(_rows.TrainingRows, "from_chunks", interrupted)
    kept = None
    try:
        TemporalMed2VecEmbedder(**PARAMS, chunk_events=500).fit(data)
    except KeyboardInterrupt as error:
        kept = error.__traceback__
    assert kept is not None
    assert list(tmp_path.iterdir()) == []


def test_scikit_learn_working_memory_sets_the_budget(data, monkeypatch, tmp_path):
    import tempfile

    from sklearn import config_context

    from skmed2vec._rows import TrainingRows

    X = CodeVocabulary().fit_transform(data)
    monkeypatch.setattr(tempfile, "tempdir", None)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    assert count_pairs(X, chunk_events=500)._scratch is None  # 1024 MiB by default
    with config_context(working_memory=1e-4):  # about 100 bytes
        counts = count_pairs(X, chunk_events=500)
        with TrainingRows.from_chunks(*counts.pair_weight_chunks()) as rows:
            assert counts._scratch is not None and rows.on_disk


def test_binned_counts_without_pairs_give_empty_weights_and_fit_with_memory(tmp_path):
    X = CodeVocabulary().fit_transform([[(0, "A")], [(5, "B")]])  # no pair at all
    counts = count_pairs(X, time_decay=None)
    assert [a.size for a in counts.pair_weights(0.01)] == [0, 0, 0]
    with pytest.warns(UserWarning, match="no pair of events has a positive weight"):
        fitted = TemporalMed2VecEmbedder(**PARAMS, memory=str(tmp_path)).fit(X)
    assert np.isnan(fitted.loss_curve_).all()


def test_no_file_outlives_a_failed_fit_or_a_call(data, monkeypatch, tmp_path):
    # A kept traceback (as Jupyter keeps the last one) held the counts' files.
    import tempfile

    from sklearn import config_context

    from skmed2vec import _key_sums, _rows, _scratch

    monkeypatch.setattr(tempfile, "tempdir", None)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    X = CodeVocabulary().fit_transform(data)

    def interrupted(self, *args):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch, config_context(working_memory=1e-4):
        patch.setattr(_rows.TrainingRows, "_allocate_and_copy", interrupted)
        with pytest.raises(KeyboardInterrupt) as failure:
            TemporalMed2VecEmbedder(**PARAMS, chunk_events=500).fit(X)
    kept = failure.value.__traceback__  # noqa: F841 (kept on purpose)
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setattr(_scratch, "MEMORY_BUDGET", 0)
    binned = count_pairs(X, time_decay=None, chunk_events=500)
    n_folders = len(list(tmp_path.iterdir()))  # the counts' own
    binned.pair_weights(0.01)
    rows, chunks = binned.pair_weight_chunks(0.01)
    assert sum(len(c[0]) for c in chunks) == rows
    assert len(list(tmp_path.iterdir())) == n_folders  # the totals' folders went
    with monkeypatch.context() as patch:
        patch.setattr(_rows.TrainingRows, "_allocate_and_copy", interrupted)
        with pytest.raises(KeyboardInterrupt) as failure:
            TemporalMed2VecEmbedder(**PARAMS, time_decay=0.01).fit_counts(binned)
    kept = failure.value.__traceback__  # noqa: F841
    assert len(list(tmp_path.iterdir())) == n_folders  # the totals' too

    class Interrupting:
        def __getitem__(self, index):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _key_sums.bin_totals(np.arange(10), np.ones(10, np.int64), Interrupting(), 4)
    assert len(list(tmp_path.iterdir())) == n_folders


def test_counting_threads_see_the_callers_budget_and_failures_leave_no_file(monkeypatch, tmp_path):
    # Worker threads started with scikit-learn's default configuration, so shards
    # merged in them ignored working_memory; a failing merge kept its partial files.
    import errno
    import tempfile

    from sklearn import config_context

    from skmed2vec import _parallel, _scratch

    with config_context(working_memory=3):
        seen = list(_parallel.run_chunks(_scratch.memory_budget, [()] * 4, n_jobs=2))
    assert seen == [3 * 2**20] * 4
    monkeypatch.setattr(tempfile, "tempdir", None)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(_scratch, "MEMORY_BUDGET", 0)
    X = CodeVocabulary().fit_transform(make_cohort(60, random_state=0).X)
    parts = [count_pairs(part, chunk_events=200) for part in shards(X, 3)]
    assert list(tmp_path.iterdir())  # the parts' own files

    def failing(a, b):
        if b is parts[-1]:
            raise KeyboardInterrupt
        return a + b

    before = {p.name for p in tmp_path.iterdir()}
    with pytest.raises(KeyboardInterrupt) as failure:
        _parallel.merge_streaming(iter(parts), failing)
    kept = failure.value.__traceback__  # noqa: F841 (as Jupyter keeps it)
    assert {p.name for p in tmp_path.iterdir()} <= before  # the merged partial's went

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np.lib.format, "open_memmap", full)
    with pytest.raises(OSError, match="no space for the temporary file of the pair counts in"):
        parts[0] + parts[1]


def test_counting_threads_leave_the_callers_warning_filters_alone():
    # scikit-learn's Parallel rewrites the process's filters from every thread.
    import warnings

    from skmed2vec import _parallel

    with warnings.catch_warnings():
        for i in range(200):
            warnings.filterwarnings("ignore", message=f"filter {i}")
        before = list(warnings.filters)
        for _ in range(20):
            list(_parallel.run_chunks(len, [("ab",)] * 8, n_jobs=2))
        assert warnings.filters == before


def test_merge_counts_failing_removes_its_partials_and_leaves_the_inputs(monkeypatch, tmp_path):
    import tempfile

    from skmed2vec import _scratch

    monkeypatch.setattr(tempfile, "tempdir", None)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(_scratch, "MEMORY_BUDGET", 0)
    X = CodeVocabulary().fit_transform(make_cohort(60, random_state=0).X)
    parts = [count_pairs(part, chunk_events=200) for part in shards(X, 5)]
    before = {p.name for p in tmp_path.iterdir()}
    real = PairCounts.__add__

    def failing(self, other):  # at the second level, on two partial merges
        if not any(self is p or other is p for p in parts):
            raise KeyboardInterrupt
        return real(self, other)

    monkeypatch.setattr(PairCounts, "__add__", failing)
    with pytest.raises(KeyboardInterrupt) as failure:
        merge_counts(parts)
    kept = failure.value.__traceback__  # noqa: F841 (as Jupyter keeps it)
    assert {p.name for p in tmp_path.iterdir()} == before  # partials gone, inputs kept


def test_merge_counts_takes_a_generator_one_count_at_a_time(data):
    # It listed the generator first: every shard's counts were held at once.
    import weakref

    X = CodeVocabulary().fit_transform(data)
    parts = [X[i : i + 10] for i in range(0, 160, 10)]
    alive, most = [], 0

    def shards():
        nonlocal most
        for part in parts:
            counts = count_pairs(part, time_decay=0.0)
            alive.append(weakref.ref(counts))
            most = max(most, sum(ref() is not None for ref in alive))
            yield counts
            del counts

    total = merge_counts(shards())
    assert total == count_pairs(X[:160], time_decay=0.0)
    assert most <= 5  # log2(16) + 1, not 16


def test_joblibs_multiprocessing_backend_counts_as_threads_do(data):
    # It refuses generators of results: every parallel count failed with joblib's
    # "does not support return_as=generator".
    import joblib

    X = CodeVocabulary().fit_transform(data)
    expected = count_pairs(X, time_decay=0.0, chunk_events=500, n_jobs=2)
    with joblib.parallel_backend("multiprocessing"):
        counts = count_pairs(X, time_decay=0.0, chunk_events=500, n_jobs=2)
        codes = count_codes(data, n_jobs=2, chunk_events=500)
    assert counts == expected
    assert codes == count_codes(data, chunk_events=500)
