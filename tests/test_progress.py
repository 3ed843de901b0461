"""Progress bars and messages follow ``verbose``; logs go to the ``skmed2vec`` logger."""

import logging

import pytest

from skmed2vec import CodeVocabulary, TemporalMed2VecEmbedder
from skmed2vec._progress import Progress, progress

X = [[(0, "E11.9"), (2, "I10"), (30, "J45")], [(0, "E11.9"), (1, "I10")]] * 10


def test_quiet_fit_prints_nothing_but_logs(capsys, caplog):
    with caplog.at_level(logging.INFO, logger="skmed2vec"):
        TemporalMed2VecEmbedder(embed_dim=4, epochs=3, random_state=0).fit(X)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    epochs = [r.getMessage() for r in caplog.records if "epoch" in r.getMessage()]
    assert [m.split(":")[0] for m in epochs] == ["epoch 1/3", "epoch 2/3", "epoch 3/3"]
    assert any(m.startswith("kept 3 of 3 codes") for m in caplog.messages)
    assert "counting window pairs of 50 events, 20 samples" in caplog.messages
    assert any(m.endswith(" distinct pairs") for m in caplog.messages)


def test_verbose_fit_draws_an_epoch_bar_and_prints_messages(capsys):
    pytest.importorskip("tqdm")
    TemporalMed2VecEmbedder(embed_dim=4, epochs=2, verbose=1, random_state=0).fit(X)
    captured = capsys.readouterr()
    assert "[TemporalMed2VecEmbedder] epoch 2/2: loss" in captured.out
    assert "[CodeVocabulary] kept" not in captured.out  # the default vocabulary is quiet
    assert "epochs:" in captured.err and "/2 [" in captured.err  # the bar, on stderr
    assert "counting pairs:" in captured.err  # and one over the pair-counting chunks


def test_quiet_fit_prints_nothing(capsys):
    TemporalMed2VecEmbedder(embed_dim=4, epochs=1, random_state=0).fit(X)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_progress_counts_steps_and_passes_items_through(capsys):
    with Progress(4, "work", verbose=1, name="Job") as bar:
        bar.step("first")
        bar.step(n=3)
    assert bar.n == 4
    assert "[Job] first" in capsys.readouterr().out
    assert list(progress(iter("abc"), "letters", verbose=0)) == ["a", "b", "c"]


def test_vocabulary_verbose(capsys):
    CodeVocabulary(verbose=1).fit(X)
    assert capsys.readouterr().out.startswith("[CodeVocabulary] kept 3 of 3 codes")
