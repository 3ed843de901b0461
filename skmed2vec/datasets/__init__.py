"""Data in: a planted synthetic cohort, Synthea CSV loaders, and MEDS, OMOP and MIMIC-IV readers."""

from ._cohort import make_cohort
from ._synthea import load_synthea_events, load_synthea_indications, load_synthea_modules

__all__ = [
    "load_synthea_events",
    "load_synthea_indications",
    "load_synthea_modules",
    "make_cohort",
]
