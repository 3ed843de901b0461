"""The PyTorch core: model, losses and optimiser (no scikit-learn here)."""

from ._losses import (
    negative_sampling_gradient,
    negative_sampling_loss,
    split_negative_sampling_gradient,
    temporal_softmax_loss,
)
from ._model import TemporalMed2Vec
from ._optim import RowwiseAdagrad

__all__ = [
    "RowwiseAdagrad",
    "TemporalMed2Vec",
    "negative_sampling_gradient",
    "negative_sampling_loss",
    "split_negative_sampling_gradient",
    "temporal_softmax_loss",
]
