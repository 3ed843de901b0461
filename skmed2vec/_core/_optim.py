"""Row-wise Adagrad for sparse embedding gradients."""

import torch

__all__ = ["RowwiseAdagrad"]


class RowwiseAdagrad(torch.optim.Optimizer):
    """Adagrad with one accumulator per table row, for sparse gradients.

    Each row's step is its summed gradient divided by the square root of the
    accumulated mean squared gradient of that row. This scales every row's
    update by its own history, so rows hit by many pairs in one batch do not
    overshoot, and the state costs one float per row rather than a dense
    moment per parameter. Only the rows present in a batch are read and
    written.

    Parameters
    ----------
    params : iterable of Tensors
        2-D parameters with sparse gradients.
    lr : float, default=0.05
    eps : float, default=1e-10
    """

    def __init__(self, params, lr=0.05, eps=1e-10):
        if lr <= 0:
            raise ValueError(f"lr must be positive; got {lr}.")
        super().__init__(params, {"lr": lr, "eps": eps})

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is None:
                    continue
                state = self.state[param]
                if "sum" not in state:
                    state["sum"] = param.new_zeros(param.shape[0])
                grad = param.grad
                if grad.is_sparse:
                    grad = grad.coalesce()
                    rows, values = grad.indices()[0], grad.values()
                else:
                    rows = torch.arange(param.shape[0], device=param.device)
                    values = grad
                acc = state["sum"].index_add_(0, rows, values.pow(2).mean(dim=1))
                scale = acc.index_select(0, rows).add_(group["eps"]).rsqrt_()
                param.index_add_(0, rows, values * scale.unsqueeze(1), alpha=-group["lr"])
        return None
