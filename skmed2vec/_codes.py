"""Code strings: system prefixes and the ICD grouping rules."""

import re

__all__ = [
    "split_system",
    "join_system",
    "icd_version",
    "icd10_category",
    "icd10_subcategory",
    "icd9_category",
]

# A system name, then its separator: "ICD10CM//E119" (MEDS), "ICD10:E11.9",
# "SNOMED/195662009" (OMOP vocabulary_id/concept_code, as OMOP-to-MEDS tools
# write it; vocabulary ids may hold spaces, "RxNorm Extension/OMOP123").
_SYSTEM_RE = re.compile(
    r"^(?P<system>[A-Za-z][A-Za-z0-9_\-]*(?: [A-Za-z0-9_\-]+)*)(?P<sep>//|:|/)(?P<code>.+)$"
)
# MIMIC-IV MEDS codes carry the ICD version as two more parts of the system:
# "DIAGNOSIS//ICD//10//E1165", "PROCEDURE//ICD//9//3893".
_VERSIONED_RE = re.compile(r"^(?P<system>ICD//(?:9|10))//(?P<code>.+)$", re.IGNORECASE)

# Diagnosis systems only: ICD-10-PCS and ICD-9 procedure codes have other structures.
_ICD10_SYSTEM_RE = re.compile(
    r"^(?:ICD-?10(?:-?(?:CM|GM|CA|AM|CN))?|DIAGNOSIS//ICD//10)$", re.IGNORECASE
)
_ICD9_SYSTEM_RE = re.compile(r"^(?:ICD-?9(?:-?CM)?|DIAGNOSIS//ICD//9)$", re.IGNORECASE)
# Shapes of bare codes: ICD-10 (letter, digit, character, optional extension),
# ICD-9-CM (3 digits, V + 2 digits or E + 3 digits, optional decimals).
_ICD10_SHAPE = re.compile(r"^[A-Z][0-9][0-9A-Z](?:\.?[0-9A-Z]{1,4})?$", re.IGNORECASE)
_ICD9_SHAPE = re.compile(
    r"^(?:[0-9]{3}(?:\.?[0-9]{1,2})?|V[0-9]{2}(?:\.?[0-9]{1,2})?|E[0-9]{3}(?:\.?[0-9])?)$",
    re.IGNORECASE,
)


def split_system(code):
    """Split a code into ``(system, separator, code)``; bare codes give ``(None, None, code)``.

    Understood forms: ``"ICD10CM//E119"`` (MEDS), ``"ICD10:E11.9"``,
    ``"SNOMED/195662009"`` (OMOP ``vocabulary_id/concept_code``) and the
    MIMIC-IV MEDS codes, whose system includes the ICD version
    (``"DIAGNOSIS//ICD//10//E1165"`` has system ``"DIAGNOSIS//ICD//10"``).
    :func:`join_system` rebuilds the original string exactly.

    Examples
    --------
    >>> split_system("ICD10CM//E119")
    ('ICD10CM', '//', 'E119')
    >>> split_system("SNOMED/195662009")
    ('SNOMED', '/', '195662009')
    >>> split_system("DIAGNOSIS//ICD//10//E1165")
    ('DIAGNOSIS//ICD//10', '//', 'E1165')
    >>> split_system("LAB//50912//mg/dL")
    ('LAB', '//', '50912//mg/dL')
    >>> split_system("E11.9")
    (None, None, 'E11.9')
    """
    match = _SYSTEM_RE.match(code)
    if match is None:
        return None, None, code
    system, sep, part = match["system"], match["sep"], match["code"]
    if sep == "//":
        versioned = _VERSIONED_RE.match(part)
        if versioned is not None:
            return f"{system}//{versioned['system']}", sep, versioned["code"]
    return system, sep, part


def join_system(system, separator, code):
    """Inverse of :func:`split_system`."""
    return code if system is None else f"{system}{separator}{code}"


def icd_version(system, code):
    """ICD revision (10 or 9) whose diagnosis grouping rules apply to a code, else None.

    A code is ICD-10 (ICD-9-CM) when its system says so (``ICD10``,
    ``ICD10CM``, ``ICD-10``, ``DIAGNOSIS//ICD//10``; ``ICD9CM``,
    ``DIAGNOSIS//ICD//9``...) or, for a bare code, when its shape is that of
    an ICD-10 code (``E11.65``) or of an ICD-9-CM code (``250.00``, ``V45``,
    ``E880.1``). Procedure systems (ICD-10-PCS, ICD-9 procedures) and every
    other system give None.

    Examples
    --------
    >>> icd_version("ICD10CM", "E1165"), icd_version(None, "E11.65")
    (10, 10)
    >>> icd_version(None, "250.00"), icd_version("DIAGNOSIS//ICD//9", "25000")
    (9, 9)
    >>> icd_version("SNOMED", "15777000"), icd_version(None, "15777000")
    (None, None)
    """
    if system is None:
        if _ICD10_SHAPE.match(code):
            return 10
        return 9 if _ICD9_SHAPE.match(code) else None
    if _ICD10_SYSTEM_RE.match(system):
        return 10
    return 9 if _ICD9_SYSTEM_RE.match(system) else None


def is_icd10(system):
    """Whether ``system`` is an ICD-10 diagnosis system; bare codes (None) count as ICD-10."""
    return system is None or bool(_ICD10_SYSTEM_RE.match(system))


#: Markers after a code in ICD-10-GM and WHO data: secondary (!), manifestation (*),
#: aetiology (+, the dagger).
_MARKERS = "!*+\u2020"


def _written(code):
    """A code part without surrounding whitespace or trailing markers (``E10.91*``,
    ``U69.10!``), in its own case."""
    return code.strip().rstrip(_MARKERS).rstrip()


def _clean(code):
    """:func:`_written`, upper-case (ICD codes ignore case)."""
    return _written(code).upper()


def icd10_category(code):
    """ICD-10 category (first three characters): ``E11.65`` and ``E1165`` give ``E11``.

    The code is read without surrounding whitespace and in upper case; a
    code without the shape of an ICD-10 code is returned as it is.

    Examples
    --------
    >>> icd10_category("E11.65"), icd10_category("E1165"), icd10_category("I10")
    ('E11', 'E11', 'I10')
    >>> icd10_category(" e11.65"), icd10_category("15777000")
    ('E11', '15777000')
    """
    clean = _clean(code)
    if not _ICD10_SHAPE.match(clean):
        return code
    return clean.replace(".", "")[:3]


def icd10_subcategory(code):
    """ICD-10 subcategory, dotted: ``E11.65`` and ``E1165`` give ``E11.6``.

    The code is read without surrounding whitespace and in upper case; a
    code without the shape of an ICD-10 code is returned as it is.

    Examples
    --------
    >>> icd10_subcategory("E11.65"), icd10_subcategory("E1165"), icd10_subcategory("I10")
    ('E11.6', 'E11.6', 'I10')
    """
    clean = _clean(code)
    if not _ICD10_SHAPE.match(clean):
        return code
    plain = clean.replace(".", "")
    return plain if len(plain) <= 3 else f"{plain[:3]}.{plain[3]}"


def icd9_category(code):
    """ICD-9-CM category: three digits, ``V`` and two digits, or ``E`` and three digits.

    The code is read without surrounding whitespace and in upper case; a
    code without the shape of an ICD-9-CM code is returned as it is.

    Examples
    --------
    >>> icd9_category("250.01"), icd9_category("25001"), icd9_category("V45.81")
    ('250', '250', 'V45')
    >>> icd9_category("E880.1"), icd9_category("E8801"), icd9_category("e8801")
    ('E880', 'E880', 'E880')
    """
    clean = _clean(code)
    if not _ICD9_SHAPE.match(clean):
        return code
    plain = clean.replace(".", "")
    return plain[:4] if plain[:1] == "E" else plain[:3]


_SHAPES = {10: _ICD10_SHAPE, 9: _ICD9_SHAPE}


def _icd_part(system, part, versions=(10, 9)):
    """ICD revision among ``versions`` of a code part, and the part cleaned; None if neither.

    A prefixed code is ICD by its system and must also have the shape of a
    code of that revision; a bare code is ICD by its shape alone, the
    revisions tried in the order of ``versions``.
    """
    clean = _clean(part)
    if system is None:
        version = next((v for v in versions if _SHAPES[v].match(clean)), None)
    else:
        version = icd_version(system, clean)
        if version not in versions or not _SHAPES[version].match(clean):
            version = None
    return version, clean


def _category_length(version, code):
    if version == 9 and code[:1] == "E":
        return 4
    return 3


#: Grouping rules by name: the ICD revisions each one applies to, and the rule.
ICD_RULES = {
    "icd10_category": ((10,), {10: icd10_category}),
    "icd10_subcategory": ((10,), {10: icd10_subcategory}),
    "icd9_category": ((9,), {9: icd9_category}),
    "icd_category": ((10, 9), {10: icd10_category, 9: icd9_category}),
}


def group_code(rule, code):
    """Apply the named ICD grouping ``rule`` to a full code; other codes pass unchanged.

    The rule acts on the code part, read without surrounding whitespace and
    in upper case (the system prefix and its separator are kept as written):
    ``"ICD10CM: e11.65"`` groups like ``"ICD10CM:E11.65"``. A prefixed code
    is grouped when its system is an ICD diagnosis system of the rule and its
    code part has the shape of a code of that revision; a bare code when it
    has that shape. With ``"icd_category"`` a bare code is grouped by the
    ICD-10 rule when it has an ICD-10 shape, else by the ICD-9-CM rule when
    it has that shape: an undotted bare ``E8801`` is taken for ICD-10
    ``E88.01`` (``E88``); ``"icd9_category"`` reads it as ICD-9-CM ``E880.1``
    (``E880``).

    Examples
    --------
    >>> group_code("icd10_category", "ICD10CM//E1165"), group_code("icd10_category", "15777000")
    ('ICD10CM//E11', '15777000')
    >>> group_code("icd10_category", "SNOMED/15777000")
    'SNOMED/15777000'
    >>> group_code("icd10_category", "ICD10CM: e11.65")
    'ICD10CM:E11'
    >>> group_code("icd9_category", "DIAGNOSIS//ICD//9//25001")
    'DIAGNOSIS//ICD//9//250'
    >>> group_code("icd_category", "E8801"), group_code("icd9_category", "E8801")
    ('E88', 'E880')
    """
    versions, rules = ICD_RULES[rule]
    system, sep, part = split_system(code)
    version, clean = _icd_part(system, part, versions)
    if version is None:
        return code
    return join_system(system, sep, rules[version](clean))


def parents(code):
    """Ever shorter ancestors of an ICD diagnosis code, nearest first; [] for other codes.

    The code part, read without surrounding whitespace or trailing markers,
    loses one character at a time (dots ignored) down to its category (three
    characters; four for ICD-9 ``E`` codes); the system prefix, the dotted or
    undotted form and the code's case are kept (a vocabulary holds codes as
    written). A code is an ICD diagnosis by its system and
    shape, or by its shape alone when bare (ICD-10 first, as with
    ``"icd_category"``). Codes that are not ICD diagnoses (SNOMED, LOINC...)
    have no parents by rule: their parents come from a mapping
    (``fallback_to_parent``).

    Examples
    --------
    >>> parents("ICD10:E11.65")
    ['ICD10:E11.6', 'ICD10:E11']
    >>> parents("ICD10CM: e1165")
    ['ICD10CM:e116', 'ICD10CM:e11']
    >>> parents("SNOMED/157141000119108")
    []
    """
    system, sep, part = split_system(code)
    version, clean = _icd_part(system, part)
    if version is None:
        return []
    # The parents keep the code's own case: a vocabulary holds codes as written.
    written = _written(part)
    plain = written.replace(".", "")
    dotted = "." in clean
    shortest = _category_length(version, clean.replace(".", ""))
    return [
        join_system(
            system,
            sep,
            f"{plain[:shortest]}.{plain[shortest:n]}" if dotted and n > shortest else plain[:n],
        )
        for n in range(len(plain) - 1, shortest - 1, -1)
    ]
