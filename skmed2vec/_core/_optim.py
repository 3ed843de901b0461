"""Row-wise Adagrad for sparse embedding gradients."""

import torch

__all__ = ["RowwiseAdagrad"]


class RowwiseAdagrad:
    """Adagrad with one accumulator per table row, for sparse gradients.

    Each row's step is its summed gradient divided by the square root of the
    accumulated mean squared gradient of that row. This scales every row's
    update by its own history, so rows hit by many pairs in one batch do not
    overshoot, and the state costs one float per row rather than a dense
    moment per parameter. Only the rows present in a batch are read and
    written.

    It has the ``step``/``zero_grad`` interface of ``torch.optim`` optimisers
    without deriving from ``torch.optim.Optimizer``, whose constructor
    imports torch's compiler stack (about 1 s and 70 MB on first use) that a
    hand-written sparse update never needs.

    Parameters
    ----------
    params : iterable of Tensors
        2-D parameters with sparse gradients.
    lr : float, default=0.05
    eps : float, default=1e-10

    Attributes
    ----------
    params : list of Tensor
    state : dict
        Per parameter, ``{"sum": Tensor of shape (n_rows,)}`` once stepped.

    Examples
    --------
    >>> import torch
    >>> table = torch.nn.Embedding(4, 2, sparse=True)
    >>> optimizer = RowwiseAdagrad(table.parameters(), lr=0.1)
    >>> before = table.weight.detach().clone()
    >>> table(torch.tensor([1])).sum().backward()
    >>> optimizer.step()
    >>> changed = (table.weight != before).any(dim=1)
    >>> changed.tolist()
    [False, True, False, False]
    """

    def __init__(self, params, lr=0.05, eps=1e-10):
        if not 0 < lr < float("inf"):
            raise ValueError(f"lr must be positive and finite; got {lr}.")
        if not 0 < eps < float("inf"):
            # With eps=0 a row whose gradient is 0 would take 0 * rsqrt(0) = NaN.
            raise ValueError(f"eps must be positive and finite; got {eps}.")
        self.params = list(params)
        self.lr = lr
        self.eps = eps
        self.state = {}

    def zero_grad(self, set_to_none=True):
        """Drop (or zero) the gradients of the parameters."""
        for param in self.params:
            if param.grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                param.grad.zero_()

    def _sum(self, param):
        state = self.state.setdefault(param, {})
        if "sum" not in state:
            state["sum"] = param.new_zeros(param.shape[0])
        return state["sum"]

    @torch.no_grad()
    def step_rows(self, param, rows, grads):
        """Update ``param`` from per-occurrence row gradients, without autograd.

        ``grads[i]`` is a gradient for row ``rows[i]``; rows that occur several
        times are summed first, so the step equals :meth:`step` on the
        equivalent sparse gradient.

        Parameters
        ----------
        param : Tensor of shape (n_rows, dim)
            One of the optimiser's parameters.
        rows : LongTensor of shape (n,)
        grads : Tensor of shape (n, dim)
        """
        distinct, inverse = torch.unique(rows, return_inverse=True)
        summed = grads.new_zeros(len(distinct), grads.shape[1]).index_add_(0, inverse, grads)
        self._apply(param, distinct, summed)

    def _apply(self, param, rows, values):
        mean_square = torch.linalg.vector_norm(values, dim=1).square_().div_(values.shape[1])
        acc = self._sum(param).index_add_(0, rows, mean_square)
        scale = acc.index_select(0, rows).add_(self.eps).rsqrt_().mul_(-self.lr)
        param.data.index_add_(0, rows, values.mul_(scale.unsqueeze(1)))

    @torch.no_grad()
    def step(self):
        """Update the rows that have gradients."""
        for param in self.params:
            if param.grad is None:
                continue
            grad = param.grad
            if grad.is_sparse:
                grad = grad.coalesce()
                rows, values = grad.indices()[0], grad.values()
            else:
                rows = torch.arange(param.shape[0], device=param.device)
                values = grad
            self._apply(param, rows, values.clone())
