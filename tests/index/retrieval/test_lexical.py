"""The lexical leg's words: tokenisation, stems in every language, coverage."""

from __future__ import annotations

from index.retrieval.lexical import coverage, passage_tokens, question_stems, tokenize


def test_tokenize_stems_folds_and_drops_stop_words() -> None:
    assert tokenize("Les Abeilles d’Été", "fr") == ["abeil"]
    assert tokenize("L'éruption du volcan", "fr") == ["erupt", "volcan"]
    assert tokenize("How many bees are there?", "en") == ["mani", "bee"]
    assert tokenize("", "fr") == []
    assert tokenize("🐝 <b>x</b> **", "fr") == []


def test_unknown_language_is_not_stemmed() -> None:
    assert tokenize("Пчёлы делают мёд", "xx") == ["пчелы", "делают", "мед"]


def test_passage_tokens_carry_the_title() -> None:
    assert passage_tokens("Les abeilles", "Une reine pond.", "fr") == "abeil rein pond"


def test_question_stems_in_every_language_of_the_collection() -> None:
    assert question_stems("flying bees", "en", ["fr", "en"]) == [
        ("flying", "fli"),
        ("be", "bee"),
    ]
    # Stop words of the question's own language go ("the"), as do words of one letter.
    assert question_stems("the volcano a", "en", ["fr"]) == [("volcano",)]
    assert question_stems("", "fr", ["fr"]) == []
    assert question_stems("le la les", "fr", ["fr"]) == []


def test_coverage_is_the_share_of_known_words() -> None:
    known = {"abeil", "volcan"}
    assert coverage(question_stems("abeille volcan", "fr", ["fr"]), known) == 1.0
    assert coverage(question_stems("abeille zorglub", "fr", ["fr"]), known) == 0.5
    assert coverage(question_stems("le la les", "fr", ["fr"]), known) == 0.0
