"""index.chat.smalltalk: greetings, thanks and goodbyes told from questions, in five languages."""

from __future__ import annotations

import pytest

from index.chat.smalltalk import SmallTalk, small_talk


@pytest.mark.parametrize(
    ("text", "kind", "lang"),
    [
        ("bonjour", "greeting", "fr"),
        ("Bonsoir à tous !", "greeting", "fr"),
        ("Salut", "greeting", "fr"),
        ("merci !", "thanks", "fr"),
        ("Merci beaucoup 🙏", "thanks", "fr"),
        ("Bonne journée !", "bye", "fr"),
        ("hi", "greeting", "en"),
        ("Hello there", "greeting", "en"),
        ("thanks!", "thanks", "en"),
        ("Thank you very much", "thanks", "en"),
        ("hola", "greeting", "es"),
        ("¡Buenos días!", "greeting", "es"),
        ("Muchas gracias", "thanks", "es"),
        ("hallo", "greeting", "de"),
        ("Grüß Gott", "greeting", "de"),
        ("Danke schön!", "thanks", "de"),
        ("ciao", "greeting", "it"),
        ("Grazie mille", "thanks", "it"),
        ("@articles_bot bonjour", "greeting", "fr"),  # a group's mention aside
    ],
)
def test_small_talk_is_told_with_its_language(text: str, kind: str, lang: str) -> None:
    assert small_talk(text) == SmallTalk(kind, lang)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    [
        "Bonjour, qui est Ablyazov ?",
        "Merci de me dire qui dirige la mission",
        "Hallo, wer ist Ablyazov?",
        "Who is Ablyazov?",
        "morts ?",
        "Et lui ?",
        "ok",
        "",
        "🙏",
        "hi hi hi hi hi hi hi",  # past six words: not a greeting any more
    ],
)
def test_questions_and_the_rest_are_no_small_talk(text: str) -> None:
    assert small_talk(text) is None
