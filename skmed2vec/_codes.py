"""Code strings: system prefixes and hierarchical grouping rules."""

import re

__all__ = ["split_system", "join_system", "icd10_category", "icd10_subcategory"]

# MEDS writes "ICD10CM//E119"; most other sources write "ICD10:E11.9".
_SYSTEM_RE = re.compile(r"^(?P<system>[A-Za-z][A-Za-z0-9_\-]*)(?P<sep>//|:)(?P<code>.+)$")
_ICD10_SYSTEM_RE = re.compile(r"^ICD-?10", re.IGNORECASE)


def split_system(code):
    """Split ``"SYS:CODE"`` or ``"SYS//CODE"`` into ``(system, separator, code)``.

    A bare code gives ``(None, None, code)``.

    Examples
    --------
    >>> split_system("ICD10CM//E119")
    ('ICD10CM', '//', 'E119')
    >>> split_system("E11.9")
    (None, None, 'E11.9')
    """
    match = _SYSTEM_RE.match(code)
    if match is None:
        return None, None, code
    return match["system"], match["sep"], match["code"]


def join_system(system, separator, code):
    """Inverse of :func:`split_system`."""
    return code if system is None else f"{system}{separator}{code}"


def is_icd10(system):
    """Whether the ICD-10 grouping rules apply to codes of ``system``.

    Bare codes (no system) are taken as ICD-10, as are systems named
    ``ICD10``, ``ICD-10``, ``ICD10CM``, ``ICD10PCS`` and the like.
    """
    return system is None or bool(_ICD10_SYSTEM_RE.match(system))


def icd10_category(code):
    """ICD-10 category (first three characters): ``E11.65`` and ``E1165`` give ``E11``.

    Examples
    --------
    >>> icd10_category("E11.65"), icd10_category("E1165"), icd10_category("I10")
    ('E11', 'E11', 'I10')
    """
    return code.replace(".", "")[:3]


def icd10_subcategory(code):
    """ICD-10 subcategory, dotted: ``E11.65`` and ``E1165`` give ``E11.6``.

    Examples
    --------
    >>> icd10_subcategory("E11.65"), icd10_subcategory("E1165"), icd10_subcategory("I10")
    ('E11.6', 'E11.6', 'I10')
    """
    plain = code.replace(".", "")
    return plain if len(plain) <= 3 else f"{plain[:3]}.{plain[3]}"


ICD10_RULES = {"icd10_category": icd10_category, "icd10_subcategory": icd10_subcategory}


def parents(code):
    """Ever shorter ancestors of a code (within its system), nearest first.

    The code part loses one character at a time (dots ignored) down to three
    characters, the ICD category level; the system prefix and the dotted or
    undotted form are kept.

    Examples
    --------
    >>> parents("ICD10:E11.65")
    ['ICD10:E11.6', 'ICD10:E11']
    """
    system, sep, part = split_system(code)
    plain = part.replace(".", "")
    dotted = "." in part
    return [
        join_system(system, sep, f"{plain[:3]}.{plain[3:n]}" if dotted and n > 3 else plain[:n])
        for n in range(len(plain) - 1, 2, -1)
    ]
