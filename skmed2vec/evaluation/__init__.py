"""Evaluation of medical code embeddings: neighbours, known relationships, downstream AUC.

Torch-free: it reads vectors from a fitted embedder, a gensim model, a DataFrame or
plain arrays.
"""

from ._downstream import CrossValidatedAUCResult, cross_validated_auc
from ._icd import ICD10_LEVELS, icd10_grouping
from ._neighbours import NeighbourPrecisionResult, neighbour_precision
from ._relationships import (
    RecallAtKResult,
    RelationshipPowerResult,
    recall_at_k,
    relationship_power,
)

__all__ = [
    "ICD10_LEVELS",
    "CrossValidatedAUCResult",
    "NeighbourPrecisionResult",
    "RecallAtKResult",
    "RelationshipPowerResult",
    "cross_validated_auc",
    "icd10_grouping",
    "neighbour_precision",
    "recall_at_k",
    "relationship_power",
]
