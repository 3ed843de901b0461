"""Time-aware embeddings of medical codes for scikit-learn pipelines."""

from ._core import TemporalMed2Vec
from ._embedder import TemporalMed2VecEmbedder
from ._timelines import Timelines, as_timelines, events_to_timelines
from ._vocabulary import CodeVocabulary

__all__ = [
    "CodeVocabulary",
    "TemporalMed2Vec",
    "TemporalMed2VecEmbedder",
    "Timelines",
    "as_timelines",
    "events_to_timelines",
]
__version__ = "0.1.0"
