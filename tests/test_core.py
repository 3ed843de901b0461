"""Tests of the PyTorch core: model, losses, optimiser and one training step."""

import math
import subprocess
import sys

import torch

from skmed2vec._core import (
    RowwiseAdagrad,
    TemporalMed2Vec,
    negative_sampling_loss,
    temporal_softmax_loss,
)


def _model(n_codes=12, dim=4, time_decay=0.1, seed=0):
    model = TemporalMed2Vec(
        n_codes, dim, time_decay=time_decay, generator=torch.Generator().manual_seed(seed)
    )
    with torch.no_grad():  # non-zero context vectors, so scores are not all 0
        model.context.weight.normal_(generator=torch.Generator().manual_seed(seed + 1))
    return model


# -- model ---------------------------------------------------------------------
def test_forward_shapes_scores_and_weights():
    model = _model()
    targets = torch.tensor([1, 2, 3])
    contexts = torch.tensor([[4, 5], [6, 7], [8, 0]])
    deltas = torch.tensor([[0.0, -10.0], [2.5, 1.0], [100.0, 0.0]])
    scores, weights = model(targets, contexts, deltas)
    assert scores.shape == weights.shape == (3, 2)
    u, v = model.target.weight, model.context.weight
    for b in range(3):
        for c in range(2):
            manual = torch.dot(u[targets[b]], v[contexts[b, c]])
            torch.testing.assert_close(scores[b, c], manual)
    torch.testing.assert_close(weights, torch.exp(-0.1 * deltas.abs()))

    negatives = torch.tensor([9, 10, 11])
    with_neg, weights_neg = model(targets, contexts, deltas, negative_codes=negatives)
    assert with_neg.shape == (3, 5)
    torch.testing.assert_close(with_neg[:, :2], scores)
    torch.testing.assert_close(with_neg[:, 2:], u[targets] @ v[negatives].T)
    torch.testing.assert_close(weights_neg, weights)
    _, no_weights = model(targets, contexts)
    assert no_weights is None


def test_initial_values():
    model = TemporalMed2Vec(50, 8)
    assert model.target.weight.abs().max() <= 0.5 / 8
    assert (model.context.weight == 0).all()
    assert model.target.sparse and model.context.sparse


# -- losses --------------------------------------------------------------------
def test_losses_finite_when_weights_underflow():
    model = _model(time_decay=1e3)
    targets = torch.tensor([1, 2])
    contexts = torch.tensor([[3, 4], [5, 6]])
    deltas = torch.full((2, 2), 1e5)
    scores, weights = model(targets, contexts, deltas, negative_codes=torch.tensor([7, 8]))
    assert (weights == 0).all()
    mask = torch.tensor([[True, False], [False, False]])
    for loss_fn, s in [(negative_sampling_loss, scores), (temporal_softmax_loss, scores[:, :2])]:
        for m in [None, mask, torch.zeros(2, 2, dtype=torch.bool)]:
            loss = loss_fn(s, weights, m)
            assert torch.isfinite(loss), (loss_fn.__name__, m)
            loss.backward(retain_graph=True)
            for p in model.parameters():
                assert torch.isfinite(p.grad.coalesce().values()).all()
            model.zero_grad(set_to_none=True)


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
def _one_step(n_codes=1000, dim=8, batch=16, n_negative=5, seed=0):
    model = _model(n_codes, dim, seed=seed)
    optimizer = RowwiseAdagrad(model.parameters(), lr=0.1)
    g = torch.Generator().manual_seed(seed)
    targets = torch.randint(0, n_codes, (batch,), generator=g)
    contexts = torch.randint(0, n_codes, (batch, 1), generator=g)
    negatives = torch.randint(0, n_codes, (n_negative,), generator=g)
    weights = torch.rand(batch, 1, generator=g)
    scores, _ = model(targets, contexts, negative_codes=negatives)
    loss = negative_sampling_loss(scores, weights)
    loss.backward()
    return model, optimizer, targets, contexts, negatives


def test_rowwise_adagrad_touches_only_batch_rows():
    model, optimizer, targets, contexts, negatives = _one_step()
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


def test_step_gradient_is_sparse_and_bounded_by_batch():
    # Per-step cost does not depend on the vocabulary: the gradient has no
    # dense V x d part, only the rows used by the batch and its negatives.
    batch, n_negative = 16, 5
    for n_codes in [1000, 200_000]:
        model, _, _, _, _ = _one_step(n_codes=n_codes, batch=batch, n_negative=n_negative)
        for name, param in model.named_parameters():
            assert param.grad.is_sparse, name
            nnz_rows = param.grad.coalesce().indices().shape[1]
            assert nnz_rows <= batch + n_negative, (name, nnz_rows)


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
    model, optimizer, *_ = _one_step()
    optimizer.zero_grad(set_to_none=False)
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and not g.coalesce().values().any() for g in grads)
    optimizer.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    optimizer.step()  # nothing to update: a no-op, not an error
    assert optimizer.state == {}
