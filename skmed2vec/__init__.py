"""Time-aware embeddings of medical codes for scikit-learn pipelines."""

from ._bag_of_codes import BagOfCodes
from ._embedder import TemporalMed2VecEmbedder
from ._export import (
    escape_code,
    load_vectors,
    load_word2vec_format,
    save_vectors,
    unescape_code,
)
from ._timelines import Timelines, as_timelines, events_to_timelines
from ._vocabulary import CodeVocabulary

__all__ = [
    "BagOfCodes",
    "CodeVocabulary",
    "TemporalMed2VecEmbedder",
    "Timelines",
    "as_timelines",
    "escape_code",
    "events_to_timelines",
    "load_vectors",
    "load_word2vec_format",
    "save_vectors",
    "unescape_code",
]
__version__ = "0.1.0"
