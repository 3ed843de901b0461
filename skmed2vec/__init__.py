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
from .datasets import (
    read_meds,
    read_meds_codes,
    read_mimic_iv,
    read_omop,
    read_omop_ancestors,
)

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
    "read_meds",
    "read_meds_codes",
    "read_mimic_iv",
    "read_omop",
    "read_omop_ancestors",
    "save_vectors",
    "unescape_code",
]
__version__ = "0.1.0"
