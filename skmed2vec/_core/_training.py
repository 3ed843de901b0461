"""One training epoch over prepared rows of targets, contexts and weights."""

from contextlib import contextmanager

import torch

from ._losses import split_negative_sampling_gradient, temporal_softmax_loss

__all__ = ["negative_cdf", "run_epoch", "torch_threads"]

#: Shared negatives drawn per batch for each of the `negative` per positive.
SHARED_POOL = 32

#: Batches gathered from the shuffled rows at once.
_GATHER_BATCHES = 64


@contextmanager
def torch_threads(threads):
    """Run torch's CPU kernels on ``threads`` threads for the duration of the block.

    The previous setting is restored afterwards. The step's matrix products
    split their outputs between threads, not their sums, so the vectors are
    the same for every thread count (tested); the count changes the speed.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def negative_cdf(counts, power=0.75):
    """Cumulative unigram**power distribution, for O(log V) negative draws."""
    probs = torch.as_tensor(counts, dtype=torch.float64).clamp(min=0) ** power
    if probs.sum() <= 0:
        probs = torch.ones_like(probs)
    cdf = torch.cumsum(probs / probs.sum(), dim=0)
    cdf[-1] = 1.0
    return cdf


def _draw(cdf, shape, generator):
    uniform = torch.rand(shape, generator=generator, dtype=torch.float64)
    return torch.searchsorted(cdf, uniform, right=True).clamp_(max=len(cdf) - 1)


def run_epoch(model, optimizer, data, *, objective, batch_size, negative, cdf, generator):
    """Shuffle ``data`` and take one optimiser step per batch.

    Parameters
    ----------
    model : TemporalMed2Vec
    optimizer : RowwiseAdagrad
    data : dict of Tensor
        ``targets`` (n,), ``contexts`` and ``weights``: for
        ``"negative_sampling"`` of shape (n,) (one summed pair per row), for
        ``"softmax"`` of shape (n, C) with a ``mask`` (n, C).
    objective : {"negative_sampling", "softmax"}
    batch_size, negative : int
    cdf : Tensor
        Negative-sampling distribution from :func:`negative_cdf`.
    generator : torch.Generator
        Drives the shuffling and the negatives.

    Returns
    -------
    float
        The epoch's summed loss divided by its summed weight (the loss per
        unit of pair weight, whatever the size of the sums).

    Raises
    ------
    FloatingPointError
        If a loss is not finite (training diverged).
    """
    device = model.target.weight.device
    n = len(data["targets"])
    # int32 indices when they fit: half the memory of a shuffle of int64 (same order).
    dtype = torch.int32 if n < 2**31 else torch.int64
    order = torch.randperm(n, generator=generator, dtype=dtype)
    total_loss = 0.0
    for start in range(0, n, batch_size):
        if start % (batch_size * _GATHER_BATCHES) == 0:
            # One gather per array for the next batches, which are then slices.
            rows = order[start : start + batch_size * _GATHER_BATCHES]
            block = {name: values.index_select(0, rows) for name, values in data.items()}
        offset = start % (batch_size * _GATHER_BATCHES)
        batch = {
            name: values[offset : offset + batch_size].to(device) for name, values in block.items()
        }
        if objective == "softmax":
            loss = _softmax_step(model, optimizer, batch)
        else:
            loss = _negative_sampling_step(model, optimizer, batch, negative, cdf, generator)
        if not torch.isfinite(loss):
            raise FloatingPointError(
                f"training diverged (loss {loss.item()}); lower learning_rate."
            )
        total_loss += loss.item()
    total_weight = data["weights"].sum().item()
    return total_loss / total_weight if total_weight > 0 else 0.0


def _negative_sampling_step(model, optimizer, batch, negative, cdf, generator):
    """One step with hand-written gradients; returns the batch's summed loss.

    Each row's positive context is scored through the model's einsum, the
    batch's shared negatives (``negative * SHARED_POOL`` draws, each weighted
    ``1 / SHARED_POOL``) by one matrix product. The closed-form gradients go
    straight to the optimiser's row updates: no autograd graph, no sparse
    gradient tensors and no coalescing of a (batch x pool) gradient. The
    context table takes two row updates, the positives' then the negatives'.
    """
    targets = batch["targets"].long()
    contexts = batch["contexts"].long()
    weights = batch["weights"].unsqueeze(1)
    pool = negative * SHARED_POOL
    target_vectors, context_vectors = model.lookup(targets, contexts.unsqueeze(1))
    positive_scores = model.score(target_vectors, context_vectors)
    context_vectors = context_vectors.squeeze(1)
    if pool:
        drawn = _draw(cdf, pool, generator).to(contexts.device)
        negative_vectors = model.context.weight.detach().index_select(0, drawn)
        negative_scores = target_vectors @ negative_vectors.T
    else:
        negative_scores = positive_scores.new_zeros(len(targets), 0)
    loss, positive, negative_grad = split_negative_sampling_gradient(
        positive_scores, negative_scores, weights, 1.0 / SHARED_POOL
    )
    grad_target = positive * context_vectors
    grad_context = positive * target_vectors
    if pool:
        grad_target.addmm_(negative_grad, negative_vectors)
        grad_negative = negative_grad.T @ target_vectors
    optimizer.step_rows(model.target.weight, targets, grad_target)
    optimizer.step_rows(model.context.weight, contexts, grad_context)
    if pool:
        optimizer.step_rows(model.context.weight, drawn, grad_negative)
    return loss


def _softmax_step(model, optimizer, batch):
    """One autograd step of the softmax objective; returns the batch's summed loss."""
    scores = model(batch["targets"].long(), batch["contexts"].long())
    weights, mask = batch["weights"], batch["mask"]
    loss = temporal_softmax_loss(scores, weights, mask)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    # The loss is a mean over real contexts; the epoch reports it per unit weight.
    return loss.detach() * mask.sum().clamp(min=1)
