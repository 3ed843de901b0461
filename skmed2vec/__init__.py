"""Time-aware embeddings of medical codes for scikit-learn pipelines."""

from ._bag_of_codes import BagOfCodes
from ._embedder import TemporalMed2VecEmbedder
from ._timelines import Timelines, as_timelines, events_to_timelines
from ._vocabulary import CodeVocabulary

__all__ = [
    "BagOfCodes",
    "CodeVocabulary",
    "TemporalMed2Vec",
    "TemporalMed2VecEmbedder",
    "Timelines",
    "as_timelines",
    "events_to_timelines",
]
__version__ = "0.1.0"


def __getattr__(name):
    # The torch module is imported on first use: building features from a
    # fitted model never loads torch.
    if name == "TemporalMed2Vec":
        from ._core import TemporalMed2Vec

        return TemporalMed2Vec
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
