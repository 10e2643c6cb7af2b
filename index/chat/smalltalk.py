"""Greetings, thanks and goodbyes, without a language model: "bonjour", "merci !", "danke".

A message made only of a few such words (punctuation, emoji and a mention aside) is small talk:
the chat answers it with a line of its own in the reader's language, never searches it, never
records it as a gap and never takes it as a follow-up. The words are short lists per language
(the languages of the evaluation sets); a message with any other word is a question.

>>> small_talk("Bonjour !")
SmallTalk(kind='greeting', lang='fr')
>>> small_talk("merci beaucoup 🙏")
SmallTalk(kind='thanks', lang='fr')
>>> small_talk("Vielen Dank!"), small_talk("¡Hola!"), small_talk("grazie mille")
(SmallTalk(kind='thanks', lang='de'), SmallTalk(kind='greeting', lang='es'), SmallTalk(kind='thanks', lang='it'))
>>> small_talk("Bonjour, qui est Ablyazov ?") is None, small_talk("Merci de me dire qui dirige") is None
(True, True)
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

__all__ = ["SMALL_TALK_LANGUAGES", "SmallTalk", "small_talk"]

SmallTalkKind = Literal["greeting", "thanks", "bye"]

# The words that make a message small talk, by language and kind, accents folded. A phrase of
# several words counts as one ("thank you", "buenos dias").
_PHRASES: dict[str, dict[SmallTalkKind, tuple[str, ...]]] = {
    "fr": {
        "greeting": ("bonjour", "bonsoir", "salut", "coucou", "rebonjour"),
        "thanks": ("merci", "remerciements", "je vous remercie", "je te remercie"),
        "bye": ("au revoir", "a bientot", "bonne journee", "bonne soiree", "bonne nuit", "a plus"),
    },
    "en": {
        "greeting": (
            "hello",
            "hi",
            "hey",
            "good morning",
            "good afternoon",
            "good evening",
            "greetings",
            "howdy",
        ),
        "thanks": ("thanks", "thank you", "thx", "ty", "cheers"),
        "bye": ("bye", "goodbye", "good bye", "see you", "good night"),
    },
    "es": {
        "greeting": ("hola", "buenos dias", "buenas tardes", "buenas noches", "buenas"),
        "thanks": ("gracias", "muchas gracias", "mil gracias"),
        "bye": ("adios", "hasta luego", "hasta pronto", "chao"),
    },
    "de": {
        "greeting": (
            "hallo",
            "guten morgen",
            "guten tag",
            "guten abend",
            "servus",
            "moin",
            "gruss gott",
            "gruezi",
        ),
        "thanks": ("danke", "danke schon", "vielen dank", "besten dank", "dankeschon"),
        "bye": ("tschuss", "auf wiedersehen", "bis bald", "gute nacht"),
    },
    "it": {
        "greeting": ("ciao", "buongiorno", "buonasera", "salve"),
        "thanks": ("grazie", "grazie mille", "ti ringrazio"),
        "bye": ("arrivederci", "a presto", "buonanotte"),
    },
}
SMALL_TALK_LANGUAGES = tuple(_PHRASES)

# Words that may stand beside a greeting or thanks without making it a question: "merci
# beaucoup", "hi there", "bonjour à tous", "thanks a lot", "hallo zusammen".
_COURTESY = frozenset(
    [
        "beaucoup",
        "bien",
        "infiniment",
        "mille",
        "encore",
        "a",
        "tous",
        "toutes",
        "vous",
        "toi",
        "le",
        "la",
        "bot",
        "robot",
        "madame",
        "monsieur",
        "there",
        "all",
        "everyone",
        "again",
        "very",
        "much",
        "lot",
        "so",
        "bot",
        "folks",
        "guys",
        "team",
        "a",
        "todos",
        "todas",
        "tu",
        "usted",
        "amigo",
        "zusammen",
        "allerseits",
        "sehr",
        "schon",
        "nochmal",
        "a",
        "tutti",
        "molte",
        "tante",
        "di",
        "cuore",
        "ok",
        "okay",
        "super",
        "parfait",
        "top",
        "great",
    ]
)
MAX_WORDS = 6
_WORD = re.compile(r"[^\W\d_]+")
_MENTION = re.compile(r"@\w+")


@dataclass(frozen=True, slots=True)
class SmallTalk:
    kind: SmallTalkKind
    lang: str


def _folded_words(text: str) -> list[str]:
    """Lower-case words without accents ("Grüß Gott!" -> ["gruss", "gott"])."""
    folded = unicodedata.normalize("NFKD", text.casefold().replace("ß", "ss"))
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    return _WORD.findall(plain)


def _phrase_index() -> dict[tuple[str, ...], SmallTalk]:
    index: dict[tuple[str, ...], SmallTalk] = {}
    for lang, kinds in _PHRASES.items():
        for kind, phrases in kinds.items():
            for phrase in phrases:
                index.setdefault(tuple(phrase.split()), SmallTalk(kind, lang))
    return index


_INDEX = _phrase_index()
_LONGEST = max(len(words) for words in _INDEX)


def small_talk(text: str) -> SmallTalk | None:
    """What ``text`` is when it is only a greeting, thanks or goodbye; None for a question.

    The first phrase found decides the kind and the language ("Bonjour, merci !" greets).
    """
    words = _folded_words(_MENTION.sub(" ", text))
    if not words or len(words) > MAX_WORDS:
        return None
    found: SmallTalk | None = None
    i = 0
    while i < len(words):
        for size in range(min(_LONGEST, len(words) - i), 0, -1):
            match = _INDEX.get(tuple(words[i : i + size]))
            if match is not None:
                found = found or match
                i += size
                break
        else:
            if words[i] not in _COURTESY:
                return None  # a word of a question
            i += 1
    return found
