"""TemporalMed2Vec: code and context tables scored by a skip-gram dot product."""

import torch
from torch import nn

__all__ = ["TemporalMed2Vec"]


class TemporalMed2Vec(nn.Module):
    """Skip-gram tables for medical codes.

    The module only looks up vectors and scores them; the objectives are
    plain functions in :mod:`skmed2vec._core._losses` and the temporal
    weights of the pairs are computed once, by the caller, with
    :func:`skmed2vec._weights.temporal_weight`. Both tables use sparse
    gradients, so an autograd update touches only the rows of its batch.

    Parameters
    ----------
    n_codes : int
        Vocabulary size.
    embed_dim : int
        Vector length.
    generator : torch.Generator, default=None
        Source of the initial values, for reproducible runs.
    tables : tuple of two Tensors of shape (n_codes, embed_dim), default=None
        Storage for the code and the context table (e.g. numpy arrays through
        ``torch.from_numpy``, which then hold the trained vectors without a
        copy); their values are overwritten by the initial ones.

    Examples
    --------
    >>> import torch
    >>> model = TemporalMed2Vec(10, 4)
    >>> scores = model(torch.tensor([1, 2]), torch.tensor([[3, 4, 5], [5, 0, 1]]))
    >>> scores.shape
    torch.Size([2, 3])
    """

    def __init__(self, n_codes, embed_dim, *, generator=None, tables=None):
        super().__init__()
        target, context = (None, None) if tables is None else tables
        self.target = nn.Embedding(n_codes, embed_dim, sparse=True, _weight=target)
        self.context = nn.Embedding(n_codes, embed_dim, sparse=True, _weight=context)
        self.reset_parameters(generator)

    @torch.no_grad()
    def reset_parameters(self, generator=None):
        """Code vectors uniform in +-0.5/embed_dim, context vectors zero (as word2vec)."""
        dim = self.target.embedding_dim
        self.target.weight.uniform_(-0.5 / dim, 0.5 / dim, generator=generator)
        self.context.weight.zero_()

    @staticmethod
    def score(target_vectors, context_vectors):
        """Dot products of each target with its contexts: (B, E), (B, C, E) -> (B, C)."""
        return torch.einsum("be,bce->bc", target_vectors, context_vectors)

    def lookup(self, target_codes, context_codes):
        """The vectors of a batch, outside autograd: ``(B, E)`` and ``(B, C, E)``.

        For hand-written gradients (see :func:`skmed2vec._core._training.run_epoch`):
        one ``index_select`` per table, no sparse-gradient bookkeeping.
        """
        target = self.target.weight.detach().index_select(0, target_codes)
        context = self.context.weight.detach().index_select(0, context_codes.reshape(-1))
        return target, context.view(*context_codes.shape, -1)

    def forward(self, target_codes, context_codes):
        """Score targets against their contexts (through autograd).

        Parameters
        ----------
        target_codes : LongTensor of shape (B,)
        context_codes : LongTensor of shape (B, C)

        Returns
        -------
        scores : Tensor of shape (B, C)
        """
        return self.score(self.target(target_codes), self.context(context_codes))
