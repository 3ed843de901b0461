"""Code strings: system prefixes of every source form, and the ICD grouping rules."""

import pytest

from skmed2vec import CodeVocabulary
from skmed2vec._codes import (
    group_code,
    icd9_category,
    icd_version,
    join_system,
    parents,
    split_system,
)

FORMS = [
    ("ICD10CM//E119", ("ICD10CM", "//", "E119")),
    ("ICD10:E11.9", ("ICD10", ":", "E11.9")),
    ("LOINC:4548-4", ("LOINC", ":", "4548-4")),
    ("SNOMED/195662009", ("SNOMED", "/", "195662009")),
    ("RxNorm/1049630", ("RxNorm", "/", "1049630")),
    ("LOINC/4548-4", ("LOINC", "/", "4548-4")),
    ("RxNorm Extension/OMOP4873", ("RxNorm Extension", "/", "OMOP4873")),
    ("DIAGNOSIS//ICD//10//E1165", ("DIAGNOSIS//ICD//10", "//", "E1165")),
    ("DIAGNOSIS//ICD//9//25000", ("DIAGNOSIS//ICD//9", "//", "25000")),
    ("PROCEDURE//ICD//9//3893", ("PROCEDURE//ICD//9", "//", "3893")),
    ("LAB//50912//mg/dL", ("LAB", "//", "50912//mg/dL")),
    ("MEDICATION//NDC//00074306590", ("MEDICATION", "//", "NDC//00074306590")),
    ("E11.65", (None, None, "E11.65")),
    ("157141000119108", (None, None, "157141000119108")),
]


@pytest.mark.parametrize(("code", "parts"), FORMS, ids=[c for c, _ in FORMS])
def test_every_form_splits_into_system_and_code_and_back_without_loss(code, parts):
    assert split_system(code) == parts
    assert join_system(*split_system(code)) == code


@pytest.mark.parametrize(
    ("code", "version"),
    [
        ("ICD10CM//E1165", 10),
        ("ICD-10:E11.65", 10),
        ("DIAGNOSIS//ICD//10//E1165", 10),
        ("E11.65", 10),
        ("ICD9CM/250.01", 9),
        ("DIAGNOSIS//ICD//9//25001", 9),
        ("250.01", 9),
        ("V45.81", 10),  # a V code has both shapes; bare codes try ICD-10 first
        ("E880.1", 9),
        ("ICD10PCS//0DTJ4ZZ", None),
        ("PROCEDURE//ICD//10//0DTJ4ZZ", None),
        ("PROCEDURE//ICD//9//3893", None),
        ("SNOMED/195662009", None),
        ("15777000", None),
        ("LAB//50912//mg/dL", None),
    ],
)
def test_icd_version_by_system_or_shape(code, version):
    assert icd_version(*split_system(code)[::2]) == version


@pytest.mark.parametrize(
    ("rule", "code", "group"),
    [
        ("icd10_category", "15777000", "15777000"),
        ("icd10_category", "157141000119108", "157141000119108"),
        ("icd10_category", "SNOMED/195662009", "SNOMED/195662009"),
        ("icd10_category", "SNOMED:195662009", "SNOMED:195662009"),
        ("icd10_category", "LOINC/4548-4", "LOINC/4548-4"),
        ("icd10_category", "LAB//50912//mg/dL", "LAB//50912//mg/dL"),
        ("icd10_category", "DIAGNOSIS//ICD//10//E1165", "DIAGNOSIS//ICD//10//E11"),
        ("icd10_category", "DIAGNOSIS//ICD//9//25001", "DIAGNOSIS//ICD//9//25001"),
        ("icd10_category", "E11.65", "E11"),
        ("icd10_subcategory", "ICD10CM//E1165", "ICD10CM//E11.6"),
        ("icd9_category", "DIAGNOSIS//ICD//9//25001", "DIAGNOSIS//ICD//9//250"),
        ("icd9_category", "ICD9CM:V45.81", "ICD9CM:V45"),
        ("icd9_category", "E880.1", "E880"),
        ("icd9_category", "250.01", "250"),
        ("icd9_category", "ICD10CM//E1165", "ICD10CM//E1165"),
        ("icd9_category", "15777000", "15777000"),
        ("icd9_category", "PROCEDURE//ICD//9//3893", "PROCEDURE//ICD//9//3893"),
        ("icd_category", "DIAGNOSIS//ICD//9//25001", "DIAGNOSIS//ICD//9//250"),
        ("icd_category", "DIAGNOSIS//ICD//10//E1165", "DIAGNOSIS//ICD//10//E11"),
        ("icd_category", "SNOMED/15777000", "SNOMED/15777000"),
    ],
)
def test_icd_grouping_touches_only_icd_codes(rule, code, group):
    assert group_code(rule, code) == group


def test_icd9_categories():
    assert [icd9_category(c) for c in ("001.1", "0011", "V01.7", "E000.0")] == [
        "001",
        "001",
        "V01",
        "E000",
    ]


def test_parents_follow_the_icd_rules_only():
    assert parents("DIAGNOSIS//ICD//10//E1165") == [
        "DIAGNOSIS//ICD//10//E116",
        "DIAGNOSIS//ICD//10//E11",
    ]
    assert parents("ICD9CM:250.01") == ["ICD9CM:250.0", "ICD9CM:250"]
    assert parents("ICD9CM:E880.1") == ["ICD9CM:E880"]
    assert parents("15777000") == []
    assert parents("SNOMED/157141000119108") == []


SPACED = ["ICD10CM: E10.9", "ICD10CM: E11.65", "ICD10CM:  E13.9 ", "ICD10CM//\tE16.2"]


def test_whitespace_around_the_code_part_is_ignored_by_the_icd_rules():
    assert [group_code("icd10_category", c) for c in SPACED] == [
        "ICD10CM:E10",
        "ICD10CM:E11",
        "ICD10CM:E13",
        "ICD10CM//E16",
    ]
    for code in ["ICD10CM: E11.65", "ICD10CM:E11.65 ", " E11.65"]:
        assert group_code("icd10_subcategory", code) == group_code(
            "icd10_subcategory", code.replace(" ", "")
        )
    assert group_code("icd10_subcategory", "ICD10CM: E11.65") == "ICD10CM:E11.6"
    assert group_code("icd9_category", "DIAGNOSIS//ICD//9// 25001") == "DIAGNOSIS//ICD//9//250"
    assert parents("ICD10CM: E11.65") == ["ICD10CM:E11.6", "ICD10CM:E11"]


@pytest.mark.parametrize(
    ("rule", "code"),
    [
        ("icd10_category", "ICD10CM:E1 1.65"),
        ("icd10_category", "ICD10CM:12345"),
        ("icd10_category", "ICD10CM:E11.65.3"),
        ("icd10_subcategory", "ICD10CM//diabetes"),
        ("icd9_category", "ICD9CM:E11.65"),
        ("icd9_category", "DIAGNOSIS//ICD//9//2500011"),
        ("icd_category", "ICD10:250.01"),
    ],
)
def test_a_code_part_without_the_shape_of_its_system_is_left_as_it_is(rule, code):
    assert group_code(rule, code) == code
    assert parents(code) == []


def test_icd_rules_ignore_case_and_give_upper_case_groups():
    codes = ["E11.9", "e1165", "e11.65", " e11.2"]
    assert {group_code("icd10_category", c) for c in codes} == {"E11"}
    assert {group_code("icd_category", c) for c in codes} == {"E11"}
    assert group_code("icd10_subcategory", "e11.65") == "E11.6"
    # The system prefix stays as written; only the code part is upper-cased.
    assert group_code("icd10_category", "ICD10CM:e11.9") == "ICD10CM:E11"
    assert group_code("icd10_category", "icd10cm//e1165") == "icd10cm//E11"
    assert group_code("icd9_category", "v45.81") == "V45"
    assert group_code("icd9_category", "ICD9CM:e880.1") == "ICD9CM:E880"
    # Parents keep the case: they are looked up in a vocabulary that holds codes as written.
    assert parents("icd10cm//e1165") == ["icd10cm//e116", "icd10cm//e11"]
    vocabulary = CodeVocabulary(fallback_to_parent=True).fit([[(0, "ICD10CM:e11")]])
    assert vocabulary.transform([[(0, "ICD10CM:e11.65")]]).codes.tolist() == [1]


def test_bare_codes_with_an_icd_shape_are_taken_for_icd_codes_prefixed_ones_are_not():
    # A bare numeric code has the ICD-9-CM shape whatever its system; a prefix says which.
    assert group_code("icd_category", "25001") == "250"
    assert group_code("icd_category", "9201") == "920"
    assert group_code("icd9_category", "6809") == "680"
    for rule in ("icd_category", "icd9_category", "icd10_category"):
        for code in ("RxNorm/6809", "OMOP/9201", "OMOP/9203", "RxNorm:6809"):
            assert group_code(rule, code) == code
        assert parents("RxNorm/6809") == []


def test_bare_undotted_e_codes_are_icd10_unless_the_rule_says_icd9():
    # E8801 is ICD-10-CM E88.01 as well as ICD-9-CM E880.1.
    assert group_code("icd_category", "E8801") == "E88"
    assert group_code("icd_category", "E880.1") == "E880"
    assert group_code("icd9_category", "E8801") == "E880"
    assert group_code("icd9_category", "E880.1") == "E880"
    assert group_code("icd10_category", "E8801") == "E88"
    assert group_code("icd_category", "ICD9CM:E8801") == "ICD9CM:E880"
    assert parents("E8801") == ["E880", "E88"]
    assert parents("ICD9CM:E8801") == ["ICD9CM:E880"]


def test_icd10_gm_markers_do_not_hide_the_category():
    # German modification: secondary (!), manifestation (*) and aetiology (+) markers.
    assert group_code("icd10_category", "ICD10GM:U69.10!") == "ICD10GM:U69"
    assert group_code("icd10_subcategory", "E10.91*") == "E10.9"
    assert group_code("icd10_category", "E11.74+") == "E11"
    assert parents("G63.2*") == ["G63"]


def test_lower_case_icd9_e_codes_keep_their_four_character_category():
    assert parents("ICD9CM:e888.9") == ["ICD9CM:e888"]
    assert parents("ICD9CM:E888.9") == ["ICD9CM:E888"]
