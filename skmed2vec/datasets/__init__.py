"""Data in: a planted synthetic cohort, Synthea CSV loaders, and MEDS, OMOP and MIMIC-IV readers."""

from ._cohort import make_cohort
from ._meds import read_meds, read_meds_codes
from ._mimic import read_mimic_iv
from ._omop import read_omop, read_omop_ancestors
from ._synthea import (
    load_synthea_events,
    load_synthea_indications,
    load_synthea_modules,
    load_synthea_patients,
)

__all__ = [
    "load_synthea_events",
    "load_synthea_indications",
    "load_synthea_modules",
    "load_synthea_patients",
    "make_cohort",
    "read_meds",
    "read_meds_codes",
    "read_mimic_iv",
    "read_omop",
    "read_omop_ancestors",
]
