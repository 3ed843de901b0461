"""Tests of context pairs: windows, temporal weights, aggregation and chunks."""

import copy
import tempfile

import numpy as np
import pytest

from skmed2vec._chunks import iter_chunks
from skmed2vec._pairs import (
    PairTotals,
    aggregate_pairs,
    window_contexts,
    window_pairs,
    window_weights,
)
from skmed2vec._weights import temporal_weight

# Two patients: codes 1, 2, 3 at days 0, 1, 10; codes 4, 5 at days 0, 100.
CODES = np.array([1, 2, 3, 4, 5])
TIMES = np.array([0.0, 1.0, 10.0, 0.0, 100.0])
LENGTHS = np.array([3, 2])


def _as_set(left, right, gaps):
    return {(int(a), int(b), float(g)) for a, b, g in zip(left, right, gaps, strict=True)}


def test_window_pairs_exact_and_within_patients():
    left, right, gaps = window_pairs(CODES, TIMES, LENGTHS, window=5)
    assert len(left) == 4
    assert _as_set(left, right, gaps) == {
        (1, 2, 1.0),
        (2, 3, 9.0),
        (1, 3, 10.0),
        (4, 5, 100.0),
    }
    # Nothing pairs the last event of patient 0 with the first of patient 1.
    assert (3, 4) not in set(zip(left.tolist(), right.tolist(), strict=True))
    assert gaps.dtype == np.float64 and (gaps >= 0).all()


def test_window_pairs_window_and_max_gap():
    left, right, gaps = window_pairs(CODES, TIMES, LENGTHS, window=1)
    assert _as_set(left, right, gaps) == {(1, 2, 1.0), (2, 3, 9.0), (4, 5, 100.0)}
    left, right, gaps = window_pairs(CODES, TIMES, LENGTHS, window=5, max_gap=9.0)
    assert _as_set(left, right, gaps) == {(1, 2, 1.0), (2, 3, 9.0)}
    assert (gaps <= 9.0).all()


def test_window_pairs_empty_inputs():
    for codes, times, lengths in [
        (np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64)),
        (np.array([3]), np.array([0.0]), np.array([1])),
    ]:
        left, right, gaps = window_pairs(codes, times, lengths, window=3)
        assert left.size == right.size == gaps.size == 0


def test_aggregate_pairs_sums_duplicates_both_directions():
    left = np.array([1, 1, 2, 3])
    right = np.array([2, 2, 1, 3])
    weights = np.array([0.5, 0.25, 1.0, 2.0])
    targets, contexts, totals = aggregate_pairs(left, right, weights, n_codes=4)
    got = {(int(t), int(c)): float(w) for t, c, w in zip(targets, contexts, totals, strict=True)}
    # (1, 2) twice plus (2, 1) reversed; the self pair (3, 3) counts both ways.
    assert got == {(1, 2): 1.75, (2, 1): 1.75, (3, 3): 4.0}
    assert targets.dtype == contexts.dtype == np.int32


def test_aggregate_pairs_drops_zero_weights_and_empty():
    targets, contexts, totals = aggregate_pairs(
        np.array([1, 2]), np.array([2, 3]), np.array([0.0, 1.0]), n_codes=4
    )
    assert sorted(zip(targets.tolist(), contexts.tolist(), strict=True)) == [(2, 3), (3, 2)]
    assert (totals > 0).all()
    empty = np.zeros(0, np.int64)
    targets, contexts, totals = aggregate_pairs(empty, empty, np.zeros(0), n_codes=4)
    assert targets.size == contexts.size == totals.size == 0


@pytest.mark.parametrize("n_codes", [5, 70_000])
def test_aggregate_pairs_matches_a_dictionary(n_codes):
    # Small vocabularies and vocabularies whose pair keys are large agree.
    rng = np.random.default_rng(0)
    left = rng.integers(0, 5, 300) * (n_codes // 5)
    right = rng.integers(0, 5, 300) * (n_codes // 5)
    weights = rng.random(300)
    expected = {}
    for a, b, w in zip(left.tolist(), right.tolist(), weights.tolist(), strict=True):
        expected[a, b] = expected.get((a, b), 0.0) + w
        expected[b, a] = expected.get((b, a), 0.0) + w
    targets, contexts, totals = aggregate_pairs(left, right, weights, n_codes)
    got = {(int(t), int(c)): float(w) for t, c, w in zip(targets, contexts, totals, strict=True)}
    assert got.keys() == expected.keys()
    np.testing.assert_allclose([got[k] for k in expected], list(expected.values()))


def test_window_contexts_padding_and_mask():
    contexts, deltas, mask = window_contexts(CODES, TIMES, LENGTHS, window=2)
    assert contexts.shape == deltas.shape == mask.shape == (5, 4)
    # Event 0 (code 1, patient 0): no earlier context, then codes 2 and 3.
    np.testing.assert_array_equal(mask[0], [False, False, True, True])
    np.testing.assert_array_equal(contexts[0], [0, 0, 2, 3])
    np.testing.assert_array_equal(deltas[0], [0.0, 0.0, 1.0, 10.0])
    # Event 3 (code 4) starts patient 1: patient 0's events are not context.
    np.testing.assert_array_equal(mask[3], [False, False, True, False])
    np.testing.assert_array_equal(contexts[3], [0, 0, 5, 0])
    np.testing.assert_array_equal(deltas[4], [0.0, -100.0, 0.0, 0.0])
    assert (contexts[~mask] == 0).all() and (deltas[~mask] == 0).all()
    _, _, mask = window_contexts(CODES, TIMES, LENGTHS, window=2, max_gap=5.0)
    assert mask.sum() == 2  # only 1 <-> 2 is within 5 days


def test_iter_chunks_bounds():
    lengths = np.array([3, 1, 10, 2, 2, 0, 4])
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    chunks = list(iter_chunks(offsets, max_events=5))
    # Contiguous cover of all patients, in order.
    assert chunks[0][0] == 0 and chunks[-1][1] == len(lengths)
    assert all(a[1] == b[0] for a, b in zip(chunks, chunks[1:], strict=False))
    for first, stop in chunks:
        assert stop > first
        events = offsets[stop] - offsets[first]
        # At most max_events, unless a single patient alone has more.
        assert events <= 5 or stop - first == 1
    assert (2, 3) in chunks  # the 10-event patient is alone
    assert list(iter_chunks(np.array([0]), 5)) == []


def test_temporal_weight_finite():
    gaps = np.array([0.0, 1.0, -2.0, 1e5, 1e300])
    for decay in [0.0, 0.01, 1e3]:
        weights = temporal_weight(gaps, decay)
        assert np.isfinite(weights).all()
        assert ((weights >= 0) & (weights <= 1)).all()
    np.testing.assert_allclose(temporal_weight(gaps[:3], 0.5), np.exp(-0.5 * np.abs(gaps[:3])))
    assert temporal_weight(np.array([1e5]), 1e3)[0] == 0.0


def _random_timelines(n_patients=40, n_codes=30, seed=0):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, 12, n_patients)
    codes = rng.integers(0, n_codes, lengths.sum())
    times = np.concatenate([np.sort(rng.integers(0, 400, n)).astype(float) for n in lengths])
    return codes, times, lengths


@pytest.mark.parametrize("max_gap", [None, 30.0])
def test_window_weights_match_window_pairs(max_gap):
    codes, times, lengths = _random_timelines()
    left, right, gaps = window_pairs(codes, times, lengths, 4, max_gap)
    expected = aggregate_pairs(left, right, temporal_weight(gaps, 0.02), 30)
    parts = list(window_weights(codes, times, lengths, 4, 0.02, max_gap))
    got = aggregate_pairs(*(np.concatenate(p) for p in zip(*parts, strict=True)), 30)
    for a, b in zip(expected, got, strict=True):
        np.testing.assert_allclose(a, b)


@pytest.mark.parametrize("n_codes", [30, 3000])  # dense sums, then hashed sums
def test_pair_totals_over_chunks_equal_one_aggregate(n_codes):
    codes, times, lengths = _random_timelines(n_codes=n_codes)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    totals = PairTotals(n_codes)
    for first, stop in iter_chunks(offsets, 50):
        a, b = offsets[first], offsets[stop]
        for left, right, weights in window_weights(
            codes[a:b], times[a:b], lengths[first:stop], 3, 0.01
        ):
            assert totals.add(left, right, weights)
    left, right, gaps = window_pairs(codes, times, lengths, 3)
    expected = aggregate_pairs(left, right, temporal_weight(gaps, 0.01), n_codes)
    got = totals.result()
    order_e = np.lexsort((expected[1], expected[0]))
    order_g = np.lexsort((got[1], got[0]))
    for e, g in zip(expected, got, strict=True):
        np.testing.assert_allclose(e[order_e], g[order_g])


def test_pair_totals_gives_up_over_max_pairs():
    totals = PairTotals(5000, max_pairs=4)
    assert totals.add(np.array([1, 2]), np.array([2, 3]), np.ones(2))  # 4 ordered pairs
    assert not totals.add(np.array([7]), np.array([9]), np.ones(1))
    assert totals.overflowed and not totals.add(np.array([1]), np.array([2]), np.ones(1))


def test_fit_streams_chunks_when_pairs_exceed_the_cache(monkeypatch):
    from skmed2vec import TemporalMed2VecEmbedder, _pairs, _trainer
    from skmed2vec.datasets import make_cohort
    from skmed2vec.evaluation import neighbour_precision

    cohort = make_cohort(600, n_groups=30, codes_per_group=10, random_state=0)
    train, test = cohort.X[np.arange(450)], cohort.X[np.arange(450, 600)]
    params = dict(embed_dim=16, time_decay=0.01, epochs=3, chunk_events=2000, random_state=0)
    cached = TemporalMed2VecEmbedder(**params).fit(train)
    one_chunk = TemporalMed2VecEmbedder(**{**params, "chunk_events": 10**6}).fit(train)
    # fit sums pair weights as integers: the chunk size changes nothing.
    np.testing.assert_array_equal(cached.code_vectors_, one_chunk.code_vectors_)

    # The trainer, given timelines rather than summed pairs, streams the chunks.
    calls = []
    real = _trainer._training_data
    monkeypatch.setattr(_trainer, "_training_data", lambda *a: calls.append(1) or real(*a))
    monkeypatch.setattr(_trainer, "MAX_CACHED_PAIRS", 1)
    monkeypatch.setattr(_pairs, "_DENSE_CELLS", 1)
    encoded = cached.code_vocabulary_.transform(train)
    settings = _trainer.Settings(
        embed_dim=16, time_decay=cached.time_decay, window=5, max_gap=None,
        objective="negative_sampling", negative=5, epochs=3, batch_size=1024,
        learning_rate=0.2, chunk_events=2000, device=_trainer.resolve_device("cpu"), threads=1,
    )  # fmt: skip
    vectors, context, losses = _trainer.train(
        encoded, cached.code_counts_, settings, seed=0, report=lambda message: None
    )
    streamed = copy.deepcopy(cached)
    streamed.code_vectors_, streamed.context_vectors_, streamed.loss_curve_ = (
        vectors, context, losses
    )  # fmt: skip
    n_chunks = len(list(iter_chunks(train.offsets, 2000)))
    assert n_chunks > 5 and len(calls) == 1 + 3 * n_chunks  # gave up, then every epoch
    assert not np.array_equal(streamed.code_vectors_, cached.code_vectors_)
    # Same quality: held-out score and neighbour precision within the spread of
    # seeds (about 0.02 for both on this cohort), losses on the same scale.
    assert abs(streamed.score(test) - cached.score(test)) < 0.03
    precision = [neighbour_precision(m, cohort.groups, k=5).precision for m in (cached, streamed)]
    assert min(precision) > 0.9 and abs(precision[0] - precision[1]) < 0.05
    ratio = np.array(streamed.loss_curve_) / np.array(cached.loss_curve_)
    assert ((ratio > 0.6) & (ratio < 1.5)).all()
    assert streamed.loss_curve_[-1] < streamed.loss_curve_[0]


def _settings(**changes):
    from skmed2vec import _trainer

    params = dict(
        embed_dim=4, time_decay=1.0, window=2, max_gap=None, objective="negative_sampling",
        negative=5, epochs=1, batch_size=8, learning_rate=0.2, chunk_events=10**6,
        device=_trainer.resolve_device("cpu"), threads=1,
    )  # fmt: skip
    return _trainer.Settings(**{**params, **changes})


def _encoded(codes, times, lengths):
    from skmed2vec._timelines import Timelines

    offsets = np.concatenate([[0], np.cumsum(lengths)])
    names = [f"c{i}" for i in range(max(codes) + 1)]
    return Timelines(np.array(codes), np.array(times, float), offsets, code_names=names)


def test_training_rows_drop_sums_that_are_zero_in_float32():
    from skmed2vec import _trainer

    # Gaps of 1 and 120 days at decay 1: exp(-120) is positive in float64 but 0 in float32.
    X = _encoded([1, 2, 3, 4], [0.0, 1.0, 0.0, 120.0], [2, 2])
    data = _trainer._training_data(X, [(0, 2)], _settings(window=1))
    pairs = set(zip(data["targets"].tolist(), data["contexts"].tolist(), strict=True))
    assert pairs == {(1, 2), (2, 1)}
    assert data["targets"].shape == data["contexts"].shape == data["weights"].shape == (2,)
    np.testing.assert_allclose(data["weights"].numpy(), np.exp(-1.0), rtol=1e-6)


def test_softmax_rows_weigh_contexts_with_temporal_weight():
    from skmed2vec import _trainer

    X = _encoded([1, 2, 3], [0.0, 2.0, 5.0], [3])
    data = _trainer._training_data(X, [(0, 1)], _settings(objective="softmax", time_decay=0.5))
    contexts, deltas, mask = window_contexts(X.codes, X.times, X.lengths, 2)
    expected = np.where(mask, temporal_weight(deltas, 0.5), 0.0).astype(np.float32)
    np.testing.assert_array_equal(data["weights"].numpy(), expected)
    np.testing.assert_array_equal(data["mask"].numpy(), mask)


def test_rows_above_the_memory_budget_train_from_a_temporary_file(cohort, monkeypatch, tmp_path):
    from skmed2vec import TemporalMed2VecEmbedder, _rows, _scratch

    params = dict(embed_dim=16, epochs=2, random_state=0)
    in_memory = TemporalMed2VecEmbedder(**params).fit(cohort.X)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR
    monkeypatch.setattr(_scratch, "MEMORY_BUDGET", 0)
    made = []
    real = _rows.TrainingRows._fill

    def recording(self, *args, **kwargs):
        real(self, *args, **kwargs)
        made.append((self.on_disk, isinstance(self.targets, np.memmap), list(tmp_path.iterdir())))

    monkeypatch.setattr(_rows.TrainingRows, "_fill", recording)
    on_disk = TemporalMed2VecEmbedder(**params).fit(cohort.X)
    assert made and made[0][:2] == (True, True) and made[0][2]  # a file while training
    assert list(tmp_path.iterdir()) == []  # removed after fit
    np.testing.assert_array_equal(on_disk.code_vectors_, in_memory.code_vectors_)
    assert on_disk.loss_curve_ == in_memory.loss_curve_


def test_rows_on_disk_leave_no_file_when_the_copy_fails_and_name_an_unusable_folder(
    cohort, tmp_path, monkeypatch
):
    import tempfile

    from skmed2vec import _rows, _scratch

    monkeypatch.setattr(_scratch, "MEMORY_BUDGET", 0)
    monkeypatch.setattr(tempfile, "tempdir", None)
    monkeypatch.setenv("TMPDIR", str(tmp_path))

    def chunks():
        yield np.array([1, 2]), np.array([2, 1]), np.array([1.0, 1.0])
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _rows.TrainingRows.from_chunks(2, chunks())
    assert list(tmp_path.iterdir()) == []  # removed at once, not when the traceback goes
    missing = tmp_path / "no-such-folder"
    monkeypatch.setenv("TMPDIR", str(missing))
    with pytest.raises(OSError, match=f"the folder {missing} cannot hold it.*set TMPDIR"):
        _rows.TrainingRows.from_chunks(2, iter([]))
