import numpy as np
import pytest
from helpers import BASE, Y
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from skmed2vec import BagOfCodes, CodeVocabulary, TemporalMed2VecEmbedder, as_timelines

X = [
    [(0, "E11.65"), (1, "E1165"), (2, "I10"), (3, "I10")],
    [(0, "E11.9"), (5, "J45"), (6, "I10")],
    [(0, "Z99")],
]


def test_vocabulary_index_order_and_counts():
    vocab = CodeVocabulary().fit(X)
    assert vocab.codes_[0] == "<UNK>"
    assert vocab.vocabulary_["<UNK>"] == 0
    assert vocab.codes_[1] == "I10"  # most frequent first
    assert vocab.code_counts_[vocab.vocabulary_["I10"]] == 3
    assert vocab.subject_counts_[vocab.vocabulary_["I10"]] == 2
    assert vocab.code_counts_.sum() == 8
    assert vocab.coverage_ == 1.0


@pytest.mark.parametrize(
    "params, kept",
    [
        ({"min_frequency": 2}, {"I10"}),
        ({"min_frequency": 0.3}, {"I10"}),  # 0.3 * 8 events -> at least 3
        ({"min_subjects": 2}, {"I10"}),
        ({"min_subjects": 0.5}, {"I10"}),
        ({"max_codes": 2}, {"I10", "E11.65"}),
    ],
)
def test_thresholds(params, kept):
    vocab = CodeVocabulary(**params).fit(X)
    assert set(vocab.codes_[1:]) == kept
    pruned_events = 8 - sum(vocab.code_counts_[vocab.vocabulary_[c]] for c in kept)
    assert vocab.code_counts_[0] == pruned_events
    assert vocab.coverage_ == pytest.approx(1 - pruned_events / 8)


def test_share_thresholds_keep_codes_exactly_at_the_share():
    # 0.07 * 100 and 0.14 * 100 are a hair above 7 and 14 in floating point.
    patients = [[(0, "COMMON")] + ([(1, "RARE")] if i < 7 else []) for i in range(100)]
    vocab = CodeVocabulary(min_subjects=0.07).fit(patients)
    assert vocab.codes_.tolist() == ["<UNK>", "COMMON", "RARE"]
    assert vocab.subject_counts_.tolist() == [0, 100, 7]
    assert CodeVocabulary(min_subjects=0.08).fit(patients).codes_.tolist() == ["<UNK>", "COMMON"]
    events = [[(i, "B" if i < 14 else "A") for i in range(100)]]
    vocab = CodeVocabulary(min_frequency=0.14).fit(events)
    assert vocab.codes_.tolist() == ["<UNK>", "A", "B"]
    assert vocab.code_counts_.tolist() == [0, 86, 14]
    assert CodeVocabulary(min_frequency=0.15).fit(events).codes_.tolist() == ["<UNK>", "A"]


def test_pruning_everything_is_a_clear_error():
    with pytest.raises(ValueError, match="min_frequency=100.*no code is left"):
        CodeVocabulary(min_frequency=100).fit(X)


@pytest.mark.parametrize(
    "grouping, expected",
    [
        ("icd10_category", {"E11", "I10", "J45", "Z99"}),
        ("icd10_subcategory", {"E11.6", "E11.9", "I10", "J45", "Z99"}),
        ({"I10": "HTN"}, {"E11.65", "E1165", "E11.9", "HTN", "J45", "Z99"}),
        (lambda code: code[0], {"E", "I", "J", "Z"}),
    ],
)
def test_grouping(grouping, expected):
    vocab = CodeVocabulary(grouping=grouping).fit(X)
    assert set(vocab.codes_[1:]) == expected


def test_grouping_acts_on_code_part_per_system():
    data = [[(0, "ICD10CM//E119"), (1, "ICD10:E11.65"), (2, "LOINC:4548-4"), (3, "E11.2")]]
    vocab = CodeVocabulary(grouping="icd10_category").fit(data)
    assert set(vocab.codes_[1:]) == {"ICD10CM//E11", "ICD10:E11", "LOINC:4548-4", "E11"}


def test_default_system_prefix():
    data = [[(0, "E11.9"), (1, "LOINC:4548-4")]]
    assert set(CodeVocabulary(system="ICD10CM").fit(data).codes_[1:]) == {
        "ICD10CM:E11.9",
        "LOINC:4548-4",
    }
    assert (
        "ICD10CM//E11"
        in CodeVocabulary(system="ICD10CM//", grouping="icd10_category").fit(data).vocabulary_
    )


def test_transform_returns_encoded_timelines_with_vocabulary():
    vocab = CodeVocabulary().fit(X)
    out = vocab.transform(X)
    assert out.is_encoded
    assert np.array_equal(out.code_names, vocab.codes_)
    assert out.decoded_codes().tolist() == as_timelines(X).codes.tolist()
    assert out.lengths.tolist() == [4, 3, 1]


def test_handle_unknown_modes():
    new = [[(0, "I10"), (1, "NEW1"), (2, "NEW2")]]
    unknown = CodeVocabulary().fit(X).transform(new)
    assert unknown.codes.tolist()[1:] == [0, 0]
    ignored = CodeVocabulary(handle_unknown="ignore").fit(X).transform(new)
    assert ignored.decoded_codes().tolist() == ["I10"]
    with pytest.raises(
        ValueError, match=r"2 code\(s\) are not in the vocabulary: \['NEW1', 'NEW2'\]"
    ):
        CodeVocabulary(handle_unknown="error").fit(X).transform(new)


def assert_timelines_equal(a, b):
    assert a.offsets.tolist() == b.offsets.tolist()
    assert a.codes.tolist() == b.codes.tolist() and a.times.tolist() == b.times.tolist()
    assert a.code_names.tolist() == b.code_names.tolist()


def test_fit_transform_handles_pruned_codes_as_transform_does():
    for mode in ("unknown", "error"):
        out = CodeVocabulary(min_frequency=2, handle_unknown=mode).fit_transform(X)
        assert out.n_events == 8
        assert (out.decoded_codes() == "<UNK>").sum() == 5
    # "ignore" drops them at fit too: a model is fitted on the rows it is served.
    vocab = CodeVocabulary(min_frequency=2, handle_unknown="ignore")
    out = vocab.fit_transform(X)
    assert out.n_events == 3 and (out.decoded_codes() != "<UNK>").all()
    assert vocab.code_counts_.tolist() == [5, 3]  # what was pruned, still counted
    assert_timelines_equal(out, vocab.transform(X))
    # "error" cannot refuse codes it was trained on; transform cannot tell them.
    with pytest.raises(ValueError, match="not in the vocabulary"):
        CodeVocabulary(min_frequency=2, handle_unknown="error").fit(X).transform(X)


@pytest.mark.parametrize("mode", ["unknown", "ignore"])
@pytest.mark.parametrize("fallback", [False, True, {"E11.65": ["E11.6"]}])
def test_fit_transform_equals_fit_then_transform(mode, fallback):
    X = [
        [(0, "E11.65"), (1, "E11.6"), (2, "E11.6"), (3, "Q00")],
        [(0, "E11.6"), (1, "I10"), (2, "E11.69"), (2, "I10")],
    ]
    vocab = CodeVocabulary(min_frequency=2, handle_unknown=mode, fallback_to_parent=fallback)
    assert_timelines_equal(vocab.fit_transform(X), clone(vocab).fit(X).transform(X))
    pipe = make_pipeline(
        clone(vocab), TemporalMed2VecEmbedder(embed_dim=4, epochs=1, random_state=0)
    )
    np.testing.assert_array_equal(pipe.fit_transform(X), pipe.transform(X))


def test_fallback_to_parent():
    vocab = CodeVocabulary(grouping={"E11.65": "E11"}, fallback_to_parent=True).fit(X)
    out = vocab.transform([[(0, "E11.72"), (1, "E11.99"), (2, "I10.1"), (3, "Q00")]])
    assert out.decoded_codes().tolist() == ["E11", "E11.9", "I10", "<UNK>"]


def test_verbose_reports_coverage(capsys):
    CodeVocabulary(min_frequency=2, verbose=1).fit(X)
    assert "kept 1 of 6 codes, covering 37.5% of 8 training events" in capsys.readouterr().out


def test_set_output_pandas_passes_timelines_through():
    vocab = CodeVocabulary().set_output(transform="pandas").fit(X)
    assert vocab.transform(X).is_encoded


def test_feature_names_out_are_the_codes_and_name_a_pipeline_without_its_model():
    vocab = CodeVocabulary().fit(X)
    names = vocab.get_feature_names_out()
    assert names.dtype == object
    assert names.tolist() == ["<UNK>", "I10", "E11.65", "E11.9", "E1165", "J45", "Z99"]
    assert names.tolist() == vocab.codes_.tolist()
    data = [[(0, "A"), (10, "B")], [(0, "A"), (100, "D")], [(1, "B")], [(2, "A")]]
    y = [0, 1, 0, 1]
    bag = make_pipeline(CodeVocabulary(), BagOfCodes(weighting="count"), LogisticRegression())
    bag.fit(data, y)
    assert bag[:-1].get_feature_names_out().tolist() == [
        "count_all_<UNK>",
        "count_all_A",
        "count_all_B",
        "count_all_D",
    ]
    assert bag[:-1].get_feature_names_out().tolist() == bag[-2].get_feature_names_out().tolist()
    embedded = pipeline(CodeVocabulary()).fit(data, y)
    assert embedded[:-1].get_feature_names_out().tolist() == [
        f"{agg}_{k}" for agg in ("recency", "mean") for k in range(4)
    ]
    assert (
        embedded[:-1].get_feature_names_out().tolist()
        == embedded[-2].get_feature_names_out().tolist()
    )


# -- parameters ----------------------------------------------------------------------


def pipeline(vocabulary):
    embedder = TemporalMed2VecEmbedder(embed_dim=4, epochs=1, random_state=0)
    return make_pipeline(vocabulary, embedder, LogisticRegression())


BAD_VOCABULARY_PARAMS = [
    ({"min_frequency": 0}, "min_frequency"),
    ({"min_frequency": 1.5}, "min_frequency"),
    ({"min_subjects": -1}, "min_subjects"),
    ({"min_subjects": 1.5}, "min_subjects"),
    ({"max_codes": 0}, "max_codes"),
    ({"max_codes": True}, "max_codes.*not a bool"),
    ({"min_frequency": True}, "min_frequency.*not a bool"),
    ({"handle_unknown": "drop"}, "handle_unknown"),
    ({"grouping": "icd9"}, "grouping"),
    ({"system": 10}, "system"),
]


@pytest.mark.parametrize(
    ("params", "name"),
    BAD_VOCABULARY_PARAMS,
    ids=[f"{k}={v!r}" for p, _ in BAD_VOCABULARY_PARAMS for k, v in p.items()],
)
def test_out_of_range_vocabulary_parameters_raise(params, name):
    with pytest.raises(ValueError, match=name):
        CodeVocabulary(**params).fit(BASE)
    with pytest.raises(ValueError, match=name):
        pipeline(CodeVocabulary(**params)).fit(BASE, Y)


@pytest.mark.parametrize(
    "params",
    [{"min_frequency": 100}, {"min_subjects": 13}, {"min_subjects": 1.0, "min_frequency": 0.5}],
)
def test_pruning_every_code_raises_naming_the_thresholds(params):
    with pytest.raises(ValueError, match="min_frequency=.*min_subjects=.*no code is left"):
        CodeVocabulary(**params).fit(BASE)
    with pytest.raises(ValueError, match="lower the thresholds"):
        pipeline(CodeVocabulary(**params)).fit(BASE, Y)


def test_a_grouping_that_returns_no_code_raises():
    with pytest.raises(ValueError, match="grouping returned None"):
        CodeVocabulary(grouping=lambda code: None).fit(BASE)


# -- code formats and groupings --------------------------------------------------------
def test_icd10_grouping_leaves_other_systems_unchanged():
    X = [
        [(0, "15777000"), (1, "157141000119108"), (2, "SNOMED/195662009")],
        [(0, "E11.65"), (1, "ICD10CM//E1165"), (2, "DIAGNOSIS//ICD//10//E1165")],
    ]
    vocab = CodeVocabulary(grouping="icd10_category").fit(X)
    assert sorted(vocab.codes_.tolist()[1:]) == [
        "157141000119108",
        "15777000",
        "DIAGNOSIS//ICD//10//E11",
        "E11",
        "ICD10CM//E11",
        "SNOMED/195662009",
    ]


def test_spaces_and_case_do_not_change_the_icd_groups():
    X = [
        [(0, "ICD10CM: E10.9"), (1, "ICD10CM: E11.65"), (2, "ICD10CM: E13.9")],
        [(0, "ICD10CM: E16.2"), (1, "ICD10CM:e11.9"), (2, "E11.9"), (3, "e1165")],
    ]
    vocab = CodeVocabulary(grouping="icd10_category").fit(X)
    assert dict(zip(vocab.codes_.tolist(), vocab.code_counts_.tolist())) == {
        "<UNK>": 0,
        "ICD10CM:E11": 2,
        "E11": 2,
        "ICD10CM:E10": 1,
        "ICD10CM:E13": 1,
        "ICD10CM:E16": 1,
    }


def test_prefixes_keep_bare_numeric_codes_of_other_systems_out_of_icd_groups():
    X = [[(0, "OMOP/9201"), (1, "OMOP/9202"), (2, "RxNorm/6809"), (3, "25001"), (4, "250.00")]]
    vocab = CodeVocabulary(grouping="icd_category").fit(X)
    assert dict(zip(vocab.codes_.tolist(), vocab.code_counts_.tolist())) == {
        "<UNK>": 0,
        "250": 2,
        "OMOP/9201": 1,
        "OMOP/9202": 1,
        "RxNorm/6809": 1,
    }


def test_bare_icd9_e_codes_group_together_with_icd9_category():
    X = [[(0, "E880.1"), (1, "E8801"), (2, "250.01"), (3, "25001")]]
    icd9 = CodeVocabulary(grouping="icd9_category").fit(X)
    assert dict(zip(icd9.codes_.tolist(), icd9.code_counts_.tolist())) == {
        "<UNK>": 0,
        "250": 2,
        "E880": 2,
    }
    both = CodeVocabulary(grouping="icd_category").fit(X)  # E8801 is ICD-10 E88.01 first
    assert dict(zip(both.codes_.tolist(), both.code_counts_.tolist())) == {
        "<UNK>": 0,
        "250": 2,
        "E88": 1,
        "E880": 1,
    }


def test_icd9_grouping_for_mimic_codes():
    X = [[(0, "DIAGNOSIS//ICD//9//25001"), (1, "DIAGNOSIS//ICD//9//25060"), (2, "LAB//1//mg")]]
    vocab = CodeVocabulary(grouping="icd9_category").fit(X)
    assert dict(zip(vocab.codes_, vocab.code_counts_)) == {
        "<UNK>": 0,
        "DIAGNOSIS//ICD//9//250": 2,
        "LAB//1//mg": 1,
    }


def test_fallback_to_parent_uses_a_mapping_for_other_systems():
    X = [[(0, "SNOMED/1"), (1, "SNOMED/2")], [(0, "SNOMED/1")]]
    vocab = CodeVocabulary(
        min_subjects=2, fallback_to_parent={"SNOMED/9": ["SNOMED/8", "SNOMED/1"]}
    )
    vocab.fit(X)
    encoded = vocab.transform([[(0, "SNOMED/9"), (1, "SNOMED/7")]])
    assert encoded.decoded_codes().tolist() == ["SNOMED/1", "<UNK>"]
    # A SNOMED code has no parents by the ICD rule: cutting digits off would be wrong.
    rule = CodeVocabulary(fallback_to_parent=True).fit([[(0, "1577700")]])
    assert rule.transform([[(0, "15777000")]]).decoded_codes().tolist() == ["<UNK>"]


MEDS_PARENTS = {  # MEDS parent_codes: direct parents only
    "ICD10CM//E11651": ["ICD10CM//E1165"],
    "ICD10CM//E1165": ["ICD10CM//E116"],
    "ICD10CM//E116": ["ICD10CM//E11"],
    "ICD10CM//E11": [],
}


def test_fallback_to_parent_walks_direct_parents_up_to_the_nearest_in_the_vocabulary():
    new = [[(0, "ICD10CM//E11651"), (1, "ICD10CM//E1165"), (2, "ICD10CM//E116")]]
    top = CodeVocabulary(fallback_to_parent=MEDS_PARENTS).fit([[(0, "ICD10CM//E11")]])
    assert top.transform(new).decoded_codes().tolist() == ["ICD10CM//E11"] * 3
    X = [[(0, "ICD10CM//E11"), (1, "ICD10CM//E116")]]
    nearest = CodeVocabulary(fallback_to_parent=MEDS_PARENTS).fit(X)
    assert nearest.transform(new).decoded_codes().tolist() == ["ICD10CM//E116"] * 3
    # Breadth first: a parent in the vocabulary wins over a grandparent by another parent.
    dag = {"S/9": ["S/8", "S/7"], "S/8": ["S/1"], "S/7": [], "S/1": []}
    vocab = CodeVocabulary(fallback_to_parent=dag).fit([[(0, "S/1"), (1, "S/7")]])
    assert vocab.transform([[(0, "S/9")]]).decoded_codes().tolist() == ["S/7"]
    # Parents given as one string or as arrays (parquet lists), and cycles.
    odd = {"A": "B", "B": np.array(["C"]), "C": None, "X": ["Y"], "Y": ["X"]}
    vocab = CodeVocabulary(fallback_to_parent=odd).fit([[(0, "C")]])
    assert vocab.transform([[(0, "A"), (1, "X")]]).decoded_codes().tolist() == ["C", "<UNK>"]


def test_fallback_to_parent_with_complete_ancestor_lists_keeps_their_order():
    # OMOP-style: each code lists all its ancestors, nearest first.
    ancestors = {"S/9": ["S/8", "S/5", "S/1"], "S/8": ["S/5", "S/1"], "S/5": ["S/1"]}
    vocab = CodeVocabulary(fallback_to_parent=ancestors).fit([[(0, "S/1"), (1, "S/5")]])
    encoded = vocab.transform([[(0, "S/9"), (1, "S/8"), (2, "S/4")]])
    assert encoded.decoded_codes().tolist() == ["S/5", "S/5", "<UNK>"]


@pytest.mark.parametrize("fallback", [True, {"E11.65": ["E11.6"]}])
def test_fit_transform_falls_back_to_the_parent_for_pruned_codes(fallback):
    X = [[(0, "E11.65"), (1, "E11.6"), (2, "E11.6")], [(0, "E11.6"), (1, "I10"), (2, "E11.65")]]
    vocab = CodeVocabulary(min_frequency=3, fallback_to_parent=fallback)
    encoded = vocab.fit_transform(X)
    assert vocab.codes_.tolist() == ["<UNK>", "E11.6"]
    # code_counts_ counts what was pruned at index 0 ...
    assert vocab.code_counts_.tolist() == [3, 3]
    # ... and the pruned E11.65 trains its parent, as transform will encode it.
    assert encoded.codes.tolist() == [1, 1, 1, 1, 0, 1]
    assert vocab.transform(X).codes.tolist() == [1, 1, 1, 1, 0, 1]


def test_system_prefix_in_omop_style():
    vocab = CodeVocabulary(system="SNOMED/").fit([[(0, "195662009"), (1, "LOINC/4548-4")]])
    assert sorted(vocab.codes_.tolist()) == ["<UNK>", "LOINC/4548-4", "SNOMED/195662009"]


def test_proportions_are_floats_and_fit_transform_validates():
    # 1.0 is a share (every training event), 1 a count.
    with pytest.raises(ValueError, match="no code is left"):
        CodeVocabulary(min_frequency=1.0).fit(BASE)
    assert len(CodeVocabulary(min_frequency=1).fit(BASE).codes_) == 5
    with pytest.raises(ValueError, match="min_frequency"):
        CodeVocabulary(min_frequency=0).fit_transform(BASE)


def test_error_mode_ignores_codes_after_the_prediction_time():
    # A code seen only after the prediction time is never used: refusing it broke
    # predict on the training data and named a code of the patient's future.
    X = as_timelines(
        [[(0, "A"), (1, "B"), (10, "OUTCOME")], [(0, "A"), (2, "B")]], prediction_times=[5, 5]
    )
    vocab = CodeVocabulary(handle_unknown="error").fit(X)
    assert vocab.transform(X).up_to_prediction().decoded_codes().tolist() == list("ABAB")
    late = as_timelines([[(0, "A"), (9, "NEW")]], prediction_times=[5])
    assert vocab.transform(late).up_to_prediction().decoded_codes().tolist() == ["A"]
    pipe = make_pipeline(CodeVocabulary(handle_unknown="error"), BagOfCodes(), LogisticRegression())
    pipe.fit(X, [1, 0]).predict(X)
    with pytest.raises(ValueError, match=r"\['NEW'\]"):
        vocab.transform(as_timelines([[(0, "A"), (4, "NEW")]], prediction_times=[5]))


@pytest.mark.parametrize("group", ["", "  ", ["P"], None, 5])
def test_grouping_dict_values_must_be_non_empty_strings(group):
    # A list, None or a number failed deep inside with unrelated messages; "" made
    # an empty code.
    X = [[(0, "A"), (1, "B")], [(0, "A")]]
    with pytest.raises(ValueError, match=r"grouping maps .* for code 'A'; a group must be"):
        CodeVocabulary(grouping={"A": group}).fit(X)
