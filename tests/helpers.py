"""Helpers the test modules import: the shared data folder and the one embedder factory."""

import os
from pathlib import Path

from skmed2vec import TemporalMed2VecEmbedder

# ../shared/data beside the clone, or the folder named by SKMED2VEC_SHARED_DATA.
SHARED_DATA = Path(
    os.environ.get(
        "SKMED2VEC_SHARED_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data"
    )
)


def quick_embedder(**params):
    """An embedder quick enough for unit tests; ``params`` override the small defaults."""
    return TemporalMed2VecEmbedder(**{"embed_dim": 8, "epochs": 2, "random_state": 0, **params})
