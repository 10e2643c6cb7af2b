"""Tests of index.ingest.lang: questions and articles get the right ISO 639-1 code."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.ingest.lang import LANGUAGES, _identifier, detect_language, sure_language

SEED = Path(__file__).resolve().parents[3] / "seeds" / "000_7774940a137d78f0.txt"


@pytest.mark.parametrize(
    ("question", "lang"),
    [
        ("Combien d'espèces d'abeilles existe-t-il ?", "fr"),
        ("How many bee species are there?", "en"),
        ("Wie viele Bienenarten gibt es?", "de"),
        ("¿Cuántas especies de abejas hay?", "es"),
        ("Qui est Tokaïev ?", "fr"),
        ("Que dit Poutine ?", "fr"),
        ("Et la Russie ?", "fr"),
        ("combien de soldats russes", "fr"),
        ("Who is Tokayev?", "en"),
        ("Are bees endangered?", "en"),  # raw langid says Dutch: the fr/en prior fixes it
        ("Is it safe?", "en"),
        ("Was sagt Putin?", "de"),
        ("Quante specie di api ci sono?", "it"),
        ("Quantas espécies de abelhas existem?", "pt"),
        ("Hoeveel bijensoorten zijn er?", "nl"),
        ("Сколько видов пчёл существует?", "ru"),
        ("Скільки видів бджіл існує?", "uk"),
        ("有多少种蜜蜂？", "zh"),
    ],
)
def test_short_questions(question: str, lang: str) -> None:
    assert detect_language(question) == lang


def test_prior_flips_a_close_call_to_english() -> None:
    ranked = dict(_identifier().rank("Are bees endangered?"))
    assert ranked["nl"] > ranked["en"]  # why the prior exists
    assert detect_language("Are bees endangered?") == "en"


def test_too_few_words_gives_the_default() -> None:
    assert detect_language("prix uranium") == "fr"
    assert detect_language("prix uranium", default="en") == "en"
    assert detect_language("") == "fr"
    assert detect_language("42 ? !") == "fr"


def test_seed_article_is_french() -> None:
    assert detect_language(SEED.read_text(encoding="utf-8")) == "fr"


def test_english_paragraph() -> None:
    text = "Bees are flying insects closely related to wasps and ants, known for pollination."
    assert detect_language(text) == "en"


def test_results_stay_within_the_restricted_set() -> None:
    assert set(_identifier().labels) == set(LANGUAGES)
    # Catalan is not in the set, so this falls back on a neighbour instead of 'ca'.
    assert detect_language("Quantes espècies d'abelles hi ha al món?") in LANGUAGES


def test_identifier_is_built_once() -> None:
    assert _identifier() is _identifier()


@pytest.mark.parametrize(
    ("question", "sure"),
    [
        ("¿Quién es Ablyazov?", "es"),
        ("Chi è Ablyazov?", "it"),
        ("Wer ist Ablyazov?", "de"),
        ("Et à Almaty ?", "fr"),
        ("Almaty ?", None),  # one word: a name, in no language
        ("merci !", None),
        ("Et sa dette ?", None),  # langid says Norwegian, not one of ``among``
        ("Qui est Ablyazov ?", None),  # French 0.38: unsure, the reader's language decides
        ("Quantas espécies de abelhas existem?", None),  # Portuguese, not among them
    ],
)
def test_sure_language_of_a_question(question: str, sure: str | None) -> None:
    assert sure_language(question, ("fr", "en", "es", "de", "it")) == sure


def test_sure_language_is_only_among_the_languages_given() -> None:
    assert sure_language("Quantas espécies de abelhas existem?", ("pt",)) == "pt"
    assert sure_language("¿Quién es Ablyazov?", ("fr", "en")) is None
