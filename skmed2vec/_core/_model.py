"""TemporalMed2Vec: code and context tables scored by a time-weighted skip-gram."""

import torch
from torch import nn

__all__ = ["TemporalMed2Vec"]


class TemporalMed2Vec(nn.Module):
    """Skip-gram tables for medical codes with temporal weights.

    The module only scores; the objectives are plain functions in
    :mod:`skmed2vec._core._losses`. Both tables use sparse gradients, so an
    update touches only the rows of its batch.

    Parameters
    ----------
    n_codes : int
        Vocabulary size.
    embed_dim : int
        Vector length.
    time_decay : float, default=0.01
        Decay per day: a pair ``dt`` days apart weighs ``exp(-time_decay * |dt|)``.
    generator : torch.Generator, default=None
        Source of the initial values, for reproducible runs.

    Examples
    --------
    >>> import torch
    >>> model = TemporalMed2Vec(10, 4, time_decay=0.1)
    >>> scores, weights = model(torch.tensor([1, 2]), torch.tensor([[3, 4], [5, 0]]),
    ...                         torch.tensor([[0.0, 10.0], [1.0, 0.0]]))
    >>> scores.shape, weights[0].tolist()
    (torch.Size([2, 2]), [1.0, 0.3678794503211975])
    """

    def __init__(self, n_codes, embed_dim, *, time_decay=0.01, generator=None):
        super().__init__()
        self.time_decay = float(time_decay)
        self.target = nn.Embedding(n_codes, embed_dim, sparse=True)
        self.context = nn.Embedding(n_codes, embed_dim, sparse=True)
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

    def temporal_weights(self, time_deltas):
        """``exp(-time_decay * |dt|)``; underflows to 0, never to NaN."""
        return torch.exp(-self.time_decay * time_deltas.abs())

    def forward(self, target_codes, context_codes, time_deltas=None, negative_codes=None):
        """Score targets against their contexts and weigh the pairs by time.

        Parameters
        ----------
        target_codes : LongTensor of shape (B,)
        context_codes : LongTensor of shape (B, C)
        time_deltas : Tensor of shape (B, C), default=None
            Days between each target and context; None when the caller
            brings its own (e.g. pre-aggregated) weights.
        negative_codes : LongTensor of shape (K,), default=None
            Negatives shared by the whole batch; their scores are appended as
            ``K`` more columns, computed as one matrix product.

        Returns
        -------
        scores : Tensor of shape (B, C) or (B, C + K)
        weights : Tensor of shape (B, C), or None without ``time_deltas``
        """
        target = self.target(target_codes)
        scores = self.score(target, self.context(context_codes))
        if negative_codes is not None:
            negatives = self.context(negative_codes)
            scores = torch.cat([scores, target @ negatives.T], dim=1)
        weights = None if time_deltas is None else self.temporal_weights(time_deltas)
        return scores, weights
