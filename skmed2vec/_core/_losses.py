"""Skip-gram objectives as plain functions of scores and temporal weights."""

import torch
import torch.nn.functional as F

__all__ = [
    "negative_sampling_gradient",
    "negative_sampling_loss",
    "split_negative_sampling_gradient",
    "temporal_softmax_loss",
]


def _normalizer(mask, like):
    count = like.new_tensor(like.shape[0] * like.shape[1]) if mask is None else mask.sum()
    return count.clamp(min=1)


def negative_sampling_loss(scores, weights, mask=None, negative_weight=1.0):
    """Time-weighted negative-sampling loss.

    The first ``P = weights.shape[1]`` columns of ``scores`` are positive
    contexts, the remaining ``K`` columns negatives (shared by the row's
    positives). Each positive term ``-log sigmoid(s)`` is weighted by its
    temporal weight; the negatives' ``-sum log sigmoid(-s_k)`` counts once per
    positive, i.e. weighted by the row's total positive weight, as if each
    positive had drawn its own K negatives.

    Parameters
    ----------
    scores : Tensor of shape (B, P + K)
    weights : Tensor of shape (B, P)
    mask : BoolTensor of shape (B, P), default=None
        False marks padding, which contributes nothing.
    negative_weight : float, default=1.0
        Factor on each negative's term. When K shared negatives stand in
        for k negatives per positive (word2vec's ``negative=k``), pass
        ``k / K``: the expected objective is word2vec's, with less variance.

    Returns
    -------
    Tensor
        Scalar: the weighted sum divided by the number of real positives
        (at least 1), so it is finite even when every weight is 0.

    Examples
    --------
    >>> import torch
    >>> scores = torch.tensor([[2.0, -1.0, -3.0]])
    >>> round(negative_sampling_loss(scores, torch.ones(1, 1)).item(), 4)
    0.4888
    """
    n_pos = weights.shape[1]
    positive_scores = scores[:, :n_pos]
    if mask is not None:
        # Selected out, not multiplied by 0: padding holding inf or NaN adds
        # nothing, to the loss or to the gradient.
        weights = weights.masked_fill(~mask, 0.0)
        positive_scores = positive_scores.masked_fill(~mask, 0.0)
    positive = -F.logsigmoid(positive_scores)
    negative = -F.logsigmoid(-scores[:, n_pos:]).sum(dim=1) * negative_weight
    total = (weights * positive).sum() + (weights.sum(dim=1) * negative).sum()
    return total / _normalizer(mask, weights)


def negative_sampling_gradient(scores, weights, negative_weight=1.0):
    """Summed negative-sampling loss and its gradient with respect to the scores.

    The closed form of :func:`negative_sampling_loss` without a mask and
    without the normaliser: ``d/ds [-w log sigmoid(s)] = -w sigmoid(-s)`` for
    a positive and ``W * negative_weight * sigmoid(s)`` for a negative of a
    row whose positives weigh ``W`` in total. Training uses it in place of
    autograd: no graph, no sparse gradients and no coalescing.

    Parameters
    ----------
    scores : Tensor of shape (B, P + K)
        Positives first, then the row's negatives.
    weights : Tensor of shape (B, P)
    negative_weight : float, default=1.0

    Returns
    -------
    loss : Tensor
        Scalar: the weighted sum over the batch.
    grad : Tensor of shape (B, P + K)
        Its gradient with respect to ``scores``.

    See Also
    --------
    split_negative_sampling_gradient : The same with the positives' and the
        negatives' scores in separate tensors.

    Examples
    --------
    >>> import torch
    >>> scores = torch.tensor([[2.0, -1.0, -3.0]])
    >>> loss, grad = negative_sampling_gradient(scores, torch.ones(1, 1))
    >>> round(loss.item(), 4), [round(g, 4) for g in grad[0].tolist()]
    (0.4888, [-0.1192, 0.2689, 0.0474])
    """
    n_pos = weights.shape[1]
    loss, positive, negative = split_negative_sampling_gradient(
        scores[:, :n_pos], scores[:, n_pos:], weights, negative_weight
    )
    return loss, torch.cat([positive, negative], dim=1)


def split_negative_sampling_gradient(
    positive_scores, negative_scores, weights, negative_weight=1.0
):
    """:func:`negative_sampling_gradient` with positives and negatives apart.

    Training scores each row's positive through the model's einsum and the
    shared negatives through one matrix product; taking the two blocks as
    they come saves joining them into one ``(B, P + K)`` tensor and slicing
    it again; the vectors are the same.

    Parameters
    ----------
    positive_scores : Tensor of shape (B, P)
    negative_scores : Tensor of shape (B, K)
    weights : Tensor of shape (B, P)
    negative_weight : float, default=1.0

    Returns
    -------
    loss : Tensor
        Scalar: the weighted sum over the batch.
    positive_grad : Tensor of shape (B, P)
    negative_grad : Tensor of shape (B, K)
        The loss's gradient with respect to each block of scores.

    Examples
    --------
    >>> import torch
    >>> loss, positive, negative = split_negative_sampling_gradient(
    ...     torch.tensor([[2.0]]), torch.tensor([[-1.0, -3.0]]), torch.ones(1, 1)
    ... )
    >>> round(loss.item(), 4), round(positive.item(), 4)
    (0.4888, -0.1192)
    >>> [round(g, 4) for g in negative[0].tolist()]
    [0.2689, 0.0474]
    """
    row_weight = weights.sum(dim=1, keepdim=True) * negative_weight
    # softplus(-s) = softplus(s) - s for the positives.
    loss = (weights * (F.softplus(positive_scores) - positive_scores)).sum()
    loss += (row_weight * F.softplus(negative_scores).sum(dim=1, keepdim=True)).sum()
    positive_grad = torch.sigmoid(positive_scores).sub_(1.0).mul_(weights)
    negative_grad = torch.sigmoid(negative_scores).mul_(row_weight)
    return loss, positive_grad, negative_grad


def temporal_softmax_loss(scores, weights, mask=None):
    """Cross-entropy of a softmax over each target's own contexts, weighted by time.

    Every row's contexts compete only with each other, so nothing in this
    loss pushes a code away from codes it never co-occurs with: unrelated
    codes are not separated. Prefer :func:`negative_sampling_loss`.

    Parameters
    ----------
    scores : Tensor of shape (B, C)
    weights : Tensor of shape (B, C)
    mask : BoolTensor of shape (B, C), default=None
        False marks padding; it gets no probability and no weight.

    Returns
    -------
    Tensor
        Scalar, finite even for rows that are all padding.

    Examples
    --------
    >>> import torch
    >>> round(temporal_softmax_loss(torch.zeros(1, 2), torch.ones(1, 2)).item(), 4)
    0.6931
    """
    if mask is not None:
        # A large finite fill, not -inf: an all-padding row stays finite (and
        # one float16 holds). Padding's weights are selected out, so inf or NaN
        # there adds nothing.
        scores = scores.masked_fill(~mask, max(-1e9, torch.finfo(scores.dtype).min / 2))
        weights = weights.masked_fill(~mask, 0.0)
    log_prob = torch.log_softmax(scores, dim=1)
    return -(weights * log_prob).sum() / _normalizer(mask, weights)
