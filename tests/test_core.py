"""Tests of the PyTorch core: model, losses, optimiser and one training step."""

import math
import subprocess
import sys

import numpy as np
import pytest
import torch

from skmed2vec._core import (
    RowwiseAdagrad,
    TemporalMed2Vec,
    negative_sampling_gradient,
    negative_sampling_loss,
    split_negative_sampling_gradient,
    temporal_softmax_loss,
)
from skmed2vec._core._training import (
    SHARED_POOL,
    _draw,
    _negative_sampling_step,
    negative_cdf,
)
from skmed2vec._weights import temporal_weight


def _model(n_codes=12, dim=4, seed=0):
    model = TemporalMed2Vec(n_codes, dim, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():  # non-zero context vectors, so scores are not all 0
        model.context.weight.normal_(generator=torch.Generator().manual_seed(seed + 1))
    return model


# -- model ---------------------------------------------------------------------
def test_forward_and_lookup_scores():
    model = _model()
    targets = torch.tensor([1, 2, 3])
    contexts = torch.tensor([[4, 5], [6, 7], [8, 0]])
    scores = model(targets, contexts)
    assert scores.shape == (3, 2)
    u, v = model.target.weight, model.context.weight
    for b in range(3):
        for c in range(2):
            manual = torch.dot(u[targets[b]], v[contexts[b, c]])
            torch.testing.assert_close(scores[b, c], manual)
    target_vectors, context_vectors = model.lookup(targets, contexts)
    assert target_vectors.shape == (3, 4) and context_vectors.shape == (3, 2, 4)
    assert not target_vectors.requires_grad
    torch.testing.assert_close(model.score(target_vectors, context_vectors), scores.detach())


def test_initial_values():
    model = TemporalMed2Vec(50, 8)
    assert model.target.weight.abs().max() <= 0.5 / 8
    assert (model.context.weight == 0).all()
    assert model.target.sparse and model.context.sparse


# -- losses --------------------------------------------------------------------
def test_losses_finite_when_weights_underflow():
    model = _model()
    targets = torch.tensor([1, 2])
    contexts = torch.tensor([[3, 4, 7, 8], [5, 6, 7, 8]])
    weights = torch.from_numpy(temporal_weight(np.full((2, 2), 1e5), 1e3)).float()
    assert (weights == 0).all()
    scores = model(targets, contexts)
    mask = torch.tensor([[True, False], [False, False]])
    for loss_fn, s in [(negative_sampling_loss, scores), (temporal_softmax_loss, scores[:, :2])]:
        for m in [None, mask, torch.zeros(2, 2, dtype=torch.bool)]:
            loss = loss_fn(s, weights, m)
            assert torch.isfinite(loss), (loss_fn.__name__, m)
            loss.backward(retain_graph=True)
            for p in model.parameters():
                assert torch.isfinite(p.grad.coalesce().values()).all()
            model.zero_grad(set_to_none=True)
    loss, grad = negative_sampling_gradient(scores.detach(), weights)
    assert loss.item() == 0.0 and (grad == 0).all()


def test_losses_finite_with_fully_masked_rows():
    scores = torch.tensor([[3.0, -2.0, 1.0], [50.0, -50.0, 0.5]])
    weights = torch.ones(2, 2)
    mask = torch.tensor([[True, True], [False, False]])
    assert torch.isfinite(temporal_softmax_loss(scores[:, :2], weights, mask))
    assert torch.isfinite(negative_sampling_loss(scores, weights, mask))
    # A masked row contributes nothing.
    torch.testing.assert_close(
        negative_sampling_loss(scores, weights, mask),
        negative_sampling_loss(scores[:1], weights[:1], mask[:1]),
    )


@pytest.mark.parametrize("n_pos", [1, 2])
@pytest.mark.parametrize("negative_weight", [1.0, 0.25])
def test_negative_sampling_gradient_is_the_autograd_gradient(n_pos, negative_weight):
    g = torch.Generator().manual_seed(0)
    scores = (torch.randn(6, n_pos + 4, generator=g) * 8).requires_grad_()
    weights = torch.rand(6, n_pos, generator=g) * 3
    reference = negative_sampling_loss(scores, weights, negative_weight=negative_weight)
    (reference * weights.numel()).backward()  # the closed form is the unnormalised sum
    loss, grad = negative_sampling_gradient(scores.detach(), weights, negative_weight)
    torch.testing.assert_close(loss, reference.detach() * weights.numel())
    torch.testing.assert_close(grad, scores.grad)
    # Saturated scores: finite loss and gradient, no NaN from exp overflow.
    loss, grad = negative_sampling_gradient(torch.tensor([[-200.0, 200.0]]), torch.ones(1, 1))
    assert torch.isfinite(loss) and torch.isfinite(grad).all()
    assert loss.item() == pytest.approx(400.0)
    # The split form takes the blocks apart and gives the same numbers, bit for bit.
    scores = scores.detach()
    loss, grad = negative_sampling_gradient(scores, weights, negative_weight)
    split_loss, positive, negative = split_negative_sampling_gradient(
        scores[:, :n_pos].contiguous(), scores[:, n_pos:].contiguous(), weights, negative_weight
    )
    assert torch.equal(split_loss, loss)
    assert torch.equal(torch.cat([positive, negative], dim=1), grad)


def test_negative_sampling_loss_by_hand():
    scores = torch.tensor([[2.0, -1.0, 0.5, -3.0], [0.0, 1.0, 2.0, 1.0]])
    weights = torch.tensor([[1.0, 0.5], [0.25, 0.0]])

    def nls(x):  # -log sigmoid(x)
        return math.log1p(math.exp(-x))

    row0 = 1.0 * nls(2.0) + 0.5 * nls(-1.0) + 1.5 * (nls(-0.5) + nls(3.0))
    row1 = 0.25 * nls(0.0) + 0.0 * nls(1.0) + 0.25 * (nls(-2.0) + nls(-1.0))
    expected = (row0 + row1) / 4  # four positive slots
    got = negative_sampling_loss(scores, weights)
    assert abs(got.item() - expected) < 1e-6
    # With a mask: padding drops out of the sum and of the normaliser.
    mask = torch.tensor([[True, False], [True, True]])
    row0 = 1.0 * nls(2.0) + 1.0 * (nls(-0.5) + nls(3.0))
    expected = (row0 + row1) / 3
    assert abs(negative_sampling_loss(scores, weights, mask).item() - expected) < 1e-6


def test_temporal_softmax_loss_by_hand():
    scores = torch.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 5.0]])
    weights = torch.tensor([[1.0, 0.5, 0.0], [2.0, 1.0, 1.0]])
    mask = torch.tensor([[True, True, True], [True, True, False]])

    def log_softmax(row, keep):
        norm = math.log(sum(math.exp(s) for s, k in zip(row, keep, strict=True) if k))
        return [s - norm for s in row]

    lp0 = log_softmax([1.0, 2.0, 3.0], [1, 1, 1])
    lp1 = log_softmax([0.0, 0.0, 5.0], [1, 1, 0])
    expected = -(1.0 * lp0[0] + 0.5 * lp0[1] + 2.0 * lp1[0] + 1.0 * lp1[1]) / 5
    got = temporal_softmax_loss(scores, weights, mask)
    assert abs(got.item() - expected) < 1e-6
    lp_all = log_softmax([0.0, 0.0, 5.0], [1, 1, 1])
    expected_unmasked = (
        -(
            1.0 * lp0[0]
            + 0.5 * lp0[1]
            + sum(w * lp for w, lp in zip([2.0, 1.0, 1.0], lp_all, strict=True))
        )
        / 6
    )
    assert abs(temporal_softmax_loss(scores, weights).item() - expected_unmasked) < 1e-6


# -- optimiser and one step ----------------------------------------------------
def _autograd_step(n_codes=1000, dim=8, batch=16, n_negative=5, seed=0):
    model = _model(n_codes, dim, seed=seed)
    optimizer = RowwiseAdagrad(model.parameters(), lr=0.1)
    g = torch.Generator().manual_seed(seed)
    targets = torch.randint(0, n_codes, (batch,), generator=g)
    contexts = torch.randint(0, n_codes, (batch, 1), generator=g)
    negatives = torch.randint(0, n_codes, (n_negative,), generator=g)
    weights = torch.rand(batch, 1, generator=g)
    scores = model(targets, torch.cat([contexts, negatives.expand(batch, -1)], dim=1))
    loss = negative_sampling_loss(scores, weights)
    loss.backward()
    return model, optimizer, targets, contexts, negatives


def test_rowwise_adagrad_touches_only_batch_rows():
    model, optimizer, targets, contexts, negatives = _autograd_step()
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    optimizer.step()
    touched = {
        "target.weight": set(targets.tolist()),
        "context.weight": set(contexts.ravel().tolist()) | set(negatives.tolist()),
    }
    for name, param in model.named_parameters():
        rows = torch.tensor(sorted(touched[name]))
        others = torch.ones(param.shape[0], dtype=torch.bool)
        others[rows] = False
        assert torch.equal(param.detach()[others], before[name][others])  # bit-identical
        assert not torch.equal(param.detach()[rows], before[name][rows])
        state = optimizer.state[param]["sum"]
        assert state.shape == (param.shape[0],)  # one float per row
        assert (state[others] == 0).all() and (state[rows] > 0).all()


def test_step_rows_equals_the_sparse_step():
    rows = torch.tensor([3, 1, 3, 0, 3])
    grads = torch.randn(5, 4, generator=torch.Generator().manual_seed(0))
    dense = torch.nn.Parameter(torch.randn(6, 4, generator=torch.Generator().manual_seed(1)))
    sparse = torch.nn.Parameter(dense.detach().clone())
    by_rows, by_grad = RowwiseAdagrad([dense], lr=0.3), RowwiseAdagrad([sparse], lr=0.3)
    for _ in range(2):  # the second step sees the accumulated history
        by_rows.step_rows(dense, rows, grads)
        sparse.grad = torch.sparse_coo_tensor(rows[None], grads, (6, 4), check_invariants=True)
        by_grad.step()
    torch.testing.assert_close(dense.detach(), sparse.detach())
    torch.testing.assert_close(by_rows.state[dense]["sum"], by_grad.state[sparse]["sum"])
    assert (by_rows.state[dense]["sum"][[2, 4, 5]] == 0).all()


def _cdf_without(n_codes, excluded):
    counts = np.ones(n_codes)
    counts[excluded] = 0
    return negative_cdf(counts)


def test_hand_written_step_equals_the_autograd_step():
    n_codes, batch, pool = 50, 12, 5 * SHARED_POOL
    g = torch.Generator().manual_seed(3)
    targets = torch.randint(0, n_codes, (batch,), generator=g)
    contexts = torch.randint(0, 10, (batch,), generator=g)  # never drawn as negatives
    weights = torch.rand(batch, generator=g) * 4
    cdf = _cdf_without(n_codes, np.arange(10))
    batch_data = {"targets": targets, "contexts": contexts, "weights": weights}

    fast = _model(n_codes, 6)
    fast_opt = RowwiseAdagrad(fast.parameters(), lr=0.2)
    loss = _negative_sampling_step(
        fast, fast_opt, batch_data, 5, cdf, torch.Generator().manual_seed(9)
    )

    slow = _model(n_codes, 6)
    slow_opt = RowwiseAdagrad(slow.parameters(), lr=0.2)
    drawn = _draw(cdf, pool, torch.Generator().manual_seed(9))
    assert drawn.min() >= 10
    scores = slow(targets, torch.cat([contexts[:, None], drawn.expand(batch, -1)], dim=1))
    reference = negative_sampling_loss(scores, weights[:, None], negative_weight=1 / SHARED_POOL)
    (reference * batch).backward()  # the hand-written step takes the summed loss
    slow_opt.step()
    torch.testing.assert_close(loss, reference.detach() * batch)
    for a, b in zip(fast.parameters(), slow.parameters(), strict=True):
        torch.testing.assert_close(a.detach(), b.detach())


def test_step_touches_only_batch_and_negative_rows():
    # Per-step cost does not depend on the vocabulary: only the rows used by
    # the batch and its negatives are read and written.
    batch = 16
    for n_codes in [1000, 200_000]:
        model = _model(n_codes, 8)
        optimizer = RowwiseAdagrad(model.parameters(), lr=0.1)
        before = [p.detach().clone() for p in model.parameters()]
        g = torch.Generator().manual_seed(0)
        data = {
            "targets": torch.randint(0, n_codes, (batch,), generator=g),
            "contexts": torch.randint(0, n_codes, (batch,), generator=g),
            "weights": torch.rand(batch, generator=g),
        }
        cdf = negative_cdf(np.ones(n_codes))
        _negative_sampling_step(model, optimizer, data, 5, cdf, g)
        changed = [
            int((p.detach() != b).any(dim=1).sum())
            for p, b in zip(model.parameters(), before, strict=True)
        ]
        assert 0 < changed[0] <= batch
        assert 0 < changed[1] <= batch + 5 * SHARED_POOL


def test_rowwise_adagrad_scales_by_row_history():
    param = torch.nn.Parameter(torch.zeros(3, 2))
    optimizer = RowwiseAdagrad([param], lr=1.0)
    param.grad = torch.sparse_coo_tensor(
        [[1, 1]], torch.tensor([[1.0, 3.0], [1.0, 1.0]]), (3, 2), check_invariants=True
    )
    optimizer.step()
    # Duplicate rows are summed first: grad (2, 4), mean square 10.
    torch.testing.assert_close(param.detach()[1], -torch.tensor([2.0, 4.0]) / math.sqrt(10.0))
    assert (param.detach()[[0, 2]] == 0).all()
    with torch.no_grad():
        param.zero_()
    param.grad = torch.tensor([[0.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    optimizer.step()  # dense gradients work too
    torch.testing.assert_close(param.detach()[1], -torch.ones(2) / math.sqrt(11.0))


def test_core_does_not_import_sklearn():
    # ``import skmed2vec`` loads the estimators, which need scikit-learn, so the
    # core is imported under an empty parent package: only its own imports run.
    code = (
        "import importlib.util, sys, types\n"
        "spec = importlib.util.find_spec('skmed2vec')\n"
        "parent = types.ModuleType('skmed2vec')\n"
        "parent.__path__ = list(spec.submodule_search_locations)\n"
        "sys.modules['skmed2vec'] = parent\n"
        "import skmed2vec._core, skmed2vec._core._training\n"
        "assert skmed2vec._core.TemporalMed2Vec is not None\n"
        "assert 'sklearn' not in sys.modules, sorted(m for m in sys.modules if 'sklearn' in m)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_forward_uses_einsum_score():
    # The positive scores are one batched dot product per (target, context).
    u = torch.randn(3, 5)
    v = torch.randn(3, 2, 5)
    torch.testing.assert_close(TemporalMed2Vec.score(u, v), (u[:, None, :] * v).sum(-1))


def test_rowwise_adagrad_zero_grad_drops_or_zeroes_gradients():
    model, optimizer, *_ = _autograd_step()
    optimizer.zero_grad(set_to_none=False)
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and not g.coalesce().values().any() for g in grads)
    optimizer.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    optimizer.step()  # nothing to update: a no-op, not an error
    assert optimizer.state == {}


def test_padding_adds_nothing_even_when_it_holds_inf_or_nan():
    scores = torch.tensor([[2.0, 0.0, -1.0, -3.0]])
    weights, mask = torch.tensor([[1.0, 0.0]]), torch.tensor([[True, False]])
    reference = negative_sampling_loss(scores[:, [0, 2, 3]], weights[:, :1])
    for pad_weight, pad_score in ((float("nan"), 0.0), (1.0, float("-inf"))):
        padded_scores = scores.clone()
        padded_scores[0, 1] = pad_score
        padded = negative_sampling_loss(padded_scores, torch.tensor([[1.0, pad_weight]]), mask=mask)
        torch.testing.assert_close(padded, reference)
    softmax = temporal_softmax_loss(
        torch.tensor([[0.0, float("nan")]]), torch.tensor([[1.0, float("inf")]]), mask
    )
    assert softmax.item() == 0.0
    half = temporal_softmax_loss(torch.zeros(1, 2, dtype=torch.float16), torch.ones(1, 2), mask)
    assert torch.isfinite(half)


@pytest.mark.parametrize("lr, eps", [(float("nan"), 1e-10), (float("inf"), 1e-10), (0.1, 0.0)])
def test_adagrad_refuses_rates_and_eps_that_would_give_nan(lr, eps):
    with pytest.raises(ValueError, match="must be positive and finite"):
        RowwiseAdagrad([torch.zeros(2, 2)], lr=lr, eps=eps)


def test_nan_padding_gives_no_nan_gradient():
    scores = torch.tensor([[2.0, float("nan"), -1.0, -3.0]], requires_grad=True)
    mask = torch.tensor([[True, False]])
    negative_sampling_loss(scores, torch.tensor([[1.0, 1.0]]), mask).backward()
    assert torch.isfinite(scores.grad).all() and scores.grad[0, 1] == 0
