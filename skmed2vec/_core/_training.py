"""One training epoch over prepared batches of targets and contexts."""

from contextlib import contextmanager

import torch

from ._losses import negative_sampling_loss, temporal_softmax_loss

__all__ = ["negative_cdf", "run_epoch", "single_threaded"]

#: Shared negatives drawn per batch for each of the `negative` per positive.
SHARED_POOL = 32

LOSSES = {
    "negative_sampling": negative_sampling_loss,
    "softmax": temporal_softmax_loss,
}


@contextmanager
def single_threaded():
    """Run torch's CPU kernels on one thread for the duration of the block.

    Training steps are small (a few thousand rows): waking a second OpenMP
    thread for each elementwise kernel costs milliseconds on some machines,
    twenty times the work itself. One thread also makes the float sums, and
    so the vectors, the same whatever parallelism surrounds the fit.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
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


def _draw(cdf, k, generator):
    uniform = torch.rand(k, generator=generator, dtype=torch.float64)
    return torch.searchsorted(cdf, uniform, right=True).clamp_(max=len(cdf) - 1)


def run_epoch(model, optimizer, data, *, objective, batch_size, negative, cdf, generator):
    """Shuffle ``data`` and take one optimiser step per batch.

    Parameters
    ----------
    model : TemporalMed2Vec
    optimizer : torch.optim.Optimizer
    data : dict of Tensor
        ``targets`` (n,), ``contexts`` (n, C), and either ``deltas`` (n, C)
        (weights come from the model) or ``weights`` (n, C) (pre-aggregated);
        optionally ``mask`` (n, C).
    objective : {"negative_sampling", "softmax"}
    batch_size, negative : int
    cdf : Tensor
        Negative-sampling distribution from :func:`negative_cdf`.
    generator : torch.Generator
        Drives the shuffling and the negatives.

    Returns
    -------
    float
        Mean loss over the epoch's rows.

    Raises
    ------
    FloatingPointError
        If a loss is not finite (training diverged).
    """
    loss_fn = LOSSES[objective]
    device = model.target.weight.device
    n = len(data["targets"])
    order = torch.randperm(n, generator=generator)
    total = 0.0
    for start in range(0, n, batch_size):
        rows = order[start : start + batch_size]
        batch = {name: values[rows].to(device) for name, values in data.items()}
        negatives, extra = None, {}
        if objective == "negative_sampling" and negative > 0:
            # A larger shared pool, each draw weighted 1/SHARED_POOL: the same
            # expected objective as `negative` draws per positive, far less noise.
            negatives = _draw(cdf, negative * SHARED_POOL, generator).to(device)
            extra = {"negative_weight": 1.0 / SHARED_POOL}
        scores, weights = model(
            batch["targets"], batch["contexts"], batch.get("deltas"), negative_codes=negatives
        )
        if weights is None:
            weights = batch["weights"]
        loss = loss_fn(scores, weights, batch.get("mask"), **extra)
        if not torch.isfinite(loss):
            raise FloatingPointError(
                f"training diverged (loss {loss.item()}); lower learning_rate."
            )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(rows)
    return total / max(n, 1)
