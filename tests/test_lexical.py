"""The BM25 leg: tokenisation, scoring, coverage and its saved form."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.lexical import LexicalIndex, tokenize

TEXTS = [
    "Les abeilles produisent du miel dans la ruche.",
    "Le volcan Etna est entré en éruption.",
    "Une abeille d'hiver peut vivre jusqu'à dix mois.",
]


def test_tokenize_stems_folds_and_drops_stop_words() -> None:
    assert tokenize("Les Abeilles d’Été", "fr") == ["abeil"]
    assert tokenize("L'éruption du volcan", "fr") == ["erupt", "volcan"]
    assert tokenize("How many bees are there?", "en") == ["mani", "bee"]
    assert tokenize("", "fr") == []
    assert tokenize("🐝 <b>x</b> **", "fr") == []


def test_unknown_language_is_not_stemmed() -> None:
    assert tokenize("Пчёлы делают мёд", "xx") == ["пчелы", "делают", "мед"]


def test_scores_rank_the_matching_passages() -> None:
    index = LexicalIndex.build(TEXTS, "fr")
    scores = index.scores("Combien de mois vit une abeille d’hiver ?")
    assert scores.argmax() == 2
    assert scores[1] == 0.0


def test_stop_words_of_the_question_language_do_not_match() -> None:
    index = LexicalIndex.build(["The Etna volcano", *TEXTS], "fr")
    assert index.query_tokens("the volcano", "en") == ["volcano"]


def test_coverage_is_the_share_of_known_words() -> None:
    index = LexicalIndex.build(TEXTS, "fr")
    assert index.analyse("abeille volcan").coverage == 1.0
    assert index.analyse("abeille zorglub").coverage == 0.5
    assert index.analyse("le la les").coverage == 0.0
    assert index.analyse("").tokens == ()


def test_a_mixed_collection_stems_each_article_in_its_language() -> None:
    texts = ["Les abeilles produisent du miel.", "The bees were flying over the flowers."]
    index = LexicalIndex.build(texts, ["fr", "en"])
    assert index.speaks("fr") and index.speaks("en") and not index.speaks("de")
    assert index.scores("flying bees", "en").argmax() == 1
    assert index.scores("Que produisent les abeilles ?", "fr").argmax() == 0
    assert index.analyse("flying bees", "en").coverage == 1.0


def test_languages_must_match_the_texts() -> None:
    with pytest.raises(ValueError, match="2 texts but 1 languages"):
        LexicalIndex.build(["a b", "c d"], ["fr"])


def test_no_known_word_scores_zero_everywhere() -> None:
    index = LexicalIndex.build(TEXTS, "fr")
    assert index.scores("zorglub quantique").tolist() == [0.0, 0.0, 0.0]


def test_save_and_load_give_the_same_scores(tmp_path: Path) -> None:
    index = LexicalIndex.build(TEXTS, "fr")
    index.save(tmp_path / "lex")
    loaded = LexicalIndex.load(tmp_path / "lex")
    assert loaded.scores("abeille miel").tolist() == pytest.approx(
        index.scores("abeille miel").tolist()
    )
    assert not list((tmp_path / "lex").glob("*.pkl"))


def test_an_empty_index_saves_and_scores(tmp_path: Path) -> None:
    index = LexicalIndex.build([], "fr")
    index.save(tmp_path / "lex")
    assert LexicalIndex.load(tmp_path / "lex").scores("abeille").tolist() == []


def test_a_foreign_format_is_refused(tmp_path: Path) -> None:
    index = LexicalIndex.build(TEXTS, "fr")
    index.save(tmp_path / "lex")
    (tmp_path / "lex" / "lexical.json").write_text(
        '{"format_version": 7, "langs": ["fr"], "size": 3}'
    )
    with pytest.raises(ValueError, match="unsupported lexical index format 7"):
        LexicalIndex.load(tmp_path / "lex")
