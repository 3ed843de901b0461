import numpy as np
import pytest

from skmed2vec import CodeVocabulary, as_timelines

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


def test_fit_transform_maps_pruned_codes_to_unknown_in_every_mode():
    for mode in ("unknown", "ignore", "error"):
        out = CodeVocabulary(min_frequency=2, handle_unknown=mode).fit_transform(X)
        assert out.n_events == 8
        assert (out.decoded_codes() == "<UNK>").sum() == 5


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
