"""The lexical leg's words: stemmed, accent-folded, stop words out, in each text's language.

Stores index ``passage_tokens`` and score a question's ``question_stems`` with BM25; the
words are made here, the same for every store.

>>> tokenize("Les abeilles d’Amérique", "fr")
['abeil', 'amer']
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Sequence
from functools import lru_cache

import Stemmer
from bm25s import stopwords as bm25s_stopwords

__all__ = [
    "coverage",
    "names_coverage",
    "names_missing",
    "passage_tokens",
    "question_names",
    "question_stems",
    "tokenize",
]

_STEMMERS = {
    "fr": "french",
    "en": "english",
    "de": "german",
    "es": "spanish",
    "it": "italian",
    "pt": "portuguese",
    "nl": "dutch",
    "ru": "russian",
    "sv": "swedish",
    "da": "danish",
    "no": "norwegian",
    "tr": "turkish",
}
_STOPWORDS = {
    "fr": bm25s_stopwords.STOPWORDS_FRENCH,
    "en": bm25s_stopwords.STOPWORDS_EN_PLUS,
    "de": bm25s_stopwords.STOPWORDS_GERMAN,
    "es": bm25s_stopwords.STOPWORDS_SPANISH,
    "it": bm25s_stopwords.STOPWORDS_ITALIAN,
    "pt": bm25s_stopwords.STOPWORDS_PORTUGUESE,
    "nl": bm25s_stopwords.STOPWORDS_DUTCH,
    "ru": bm25s_stopwords.STOPWORDS_RUSSIAN,
}
# Elisions ("l'abeille", "qu’il") are split off so the noun is matched on its own.
_WORD = re.compile(r"\w+", re.UNICODE)


def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=32)
def _stemmer(lang: str) -> Stemmer.Stemmer | None:
    name = _STEMMERS.get(lang)
    return Stemmer.Stemmer(name) if name else None


@lru_cache(maxsize=32)
def _stopwords(langs: tuple[str, ...]) -> frozenset[str]:
    words: set[str] = set()
    for lang in langs:
        words.update(w.lower() for w in _STOPWORDS.get(lang, ()))
    return frozenset(words | {_fold(w) for w in words})


def tokenize(text: str, lang: str = "fr", stop_langs: tuple[str, ...] = ()) -> list[str]:
    """Lowercased words minus stop words, stemmed in ``lang``, accents folded.

    >>> tokenize("Les abeilles d’Amérique", "fr")
    ['abeil', 'amer']
    """
    stop = _stopwords((lang, *stop_langs))
    stemmer = _stemmer(lang)
    words = [w for w in _WORD.findall(text.lower()) if len(w) > 1 and w not in stop]
    stems = stemmer.stemWords(words) if stemmer else words
    return [_fold(s) for s in stems]


def passage_tokens(title: str, text: str, lang: str) -> str:
    """What the lexical leg indexes for a passage: its title and text, stemmed in its language."""
    return " ".join(tokenize(f"{title}\n{text}", lang))


def question_stems(
    question: str, question_lang: str | None, langs: Sequence[str]
) -> list[tuple[str, ...]]:
    """Each distinct word of the question (a stop word in every language left out), stemmed
    in every language of the collection: a French collection's "abeille" matches "abeilles".

    Stop words of the question's own language go too ("the" in an English question about
    French articles).

    >>> question_stems("Les abeilles et le miel", "fr", ["fr"])
    [('abeil',), ('miel',)]
    """
    stems: list[tuple[str, ...]] = []
    for word in dict.fromkeys(_WORD.findall(question.lower())):
        if len(word) < 2:
            continue
        found: dict[str, None] = {}
        for lang in langs:
            found.update(
                dict.fromkeys(tokenize(word, lang, (question_lang,) if question_lang else ()))
            )
        if found:
            stems.append(tuple(found))
    return stems


def coverage(stems: Sequence[tuple[str, ...]], known: Collection[str]) -> float:
    """The share of the question's words with a stem the collection uses (0 with no words)."""
    if not stems:
        return 0.0
    return sum(any(stem in known for stem in word) for word in stems) / len(stems)


# Languages that capitalise every noun: there a capital letter does not mark a name.
_NOUNS_CAPITALISED = frozenset({"de", "lb"})


def question_names(question: str, question_lang: str | None) -> list[str]:
    """The question's names and numbers: capitalised words past the first, words with a digit.

    A collection that never uses a name the question asks about ("Kilimandjaro") does not
    answer it, whatever the cosine; unlike a common word, a name has no synonym the
    articles could use instead ("morts" for "tués" is not a name).

    >>> question_names("En quelle année Jakob Böhme tombe-t-il malade ?", "fr")
    ['Jakob', 'Böhme']
    >>> question_names("Wie viele Zähne hat ein Erwachsener im Jahr 2020?", "de")
    ['2020']
    """
    capitals = question_lang not in _NOUNS_CAPITALISED
    names: list[str] = []
    first = True
    for match in _WORD.finditer(question):
        word = match.group()
        if any(c.isdigit() for c in word) or (capitals and not first and word[0].isupper()):
            names.append(word)
        first = False
    return list(dict.fromkeys(names))


def names_missing(names: Sequence[str], text: str) -> float:
    """The share of ``names`` that ``text`` never uses (as the start of a word, in any case).

    Applied to the article of the best passage: "Quelle est la population de l'Islande ?"
    finds the article on France's population paragraph; "Islande" is nowhere in it.

    >>> names_missing(["Islande", "2018"], "Au 1er janvier 2018, la population de la France")
    0.5
    >>> names_missing([], "anything")
    0.0
    """
    if not names:
        return 0.0
    folded = text.lower()  # once: a case-blind regex over a long article costs ~1 ms a name
    return sum(1 for name in names if not _starts_a_word(name.lower(), folded)) / len(names)


def _starts_a_word(word: str, text: str) -> bool:
    at = text.find(word)
    while at >= 0:
        if at == 0 or not text[at - 1].isalnum():
            return True
        at = text.find(word, at + 1)
    return False


def names_coverage(
    question: str, question_lang: str | None, langs: Sequence[str], known: Collection[str]
) -> float | None:
    """The share of the question's names the collection uses; None when it names nothing.

    >>> names_coverage("Où vit Jakob Zorglub ?", "fr", ["fr"], {"jakob"})
    0.5
    """
    stems = question_stems(" ".join(question_names(question, question_lang)), question_lang, langs)
    return coverage(stems, known) if stems else None
