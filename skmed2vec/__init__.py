"""Time-aware embeddings of medical codes for scikit-learn pipelines."""

from ._bag_of_codes import BagOfCodes
from ._counting import CodeCounts, PairCounts, bin_gaps, gap_bins, merge_counts
from ._embedder import TemporalMed2VecEmbedder
from ._export import (
    escape_code,
    load_vectors,
    load_word2vec_format,
    save_vectors,
    unescape_code,
)
from ._meds_counting import count_meds_codes, count_meds_pairs
from ._parallel import count_codes, count_pairs
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
    "CodeCounts",
    "CodeVocabulary",
    "PairCounts",
    "TemporalMed2VecEmbedder",
    "Timelines",
    "as_timelines",
    "bin_gaps",
    "count_codes",
    "count_meds_codes",
    "count_meds_pairs",
    "count_pairs",
    "escape_code",
    "events_to_timelines",
    "gap_bins",
    "load_vectors",
    "load_word2vec_format",
    "merge_counts",
    "read_meds",
    "read_meds_codes",
    "read_mimic_iv",
    "read_omop",
    "read_omop_ancestors",
    "save_vectors",
    "unescape_code",
]
__version__ = "0.1.0"
