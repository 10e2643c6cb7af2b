"""The lexical leg: BM25 (bm25s) over stemmed, accent-folded words.

>>> lexical = LexicalIndex.build(["Les abeilles font du miel.", "Le chat dort."], lang="fr")
>>> int(lexical.scores("abeille").argmax())
0
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import bm25s
import numpy as np
import numpy.typing as npt
import Stemmer
from bm25s import stopwords as bm25s_stopwords

__all__ = ["LexicalIndex", "QueryTerms", "tokenize"]

FORMAT_VERSION = 2

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


@dataclass(frozen=True, slots=True)
class QueryTerms:
    """A question as the lexical index sees it."""

    tokens: tuple[str, ...]  # its words, stemmed as each language of the collection would
    coverage: float  # share of its words the collection uses at all (0 when it has none)


class LexicalIndex:
    """BM25 over a fixed list of passages; scores come back in passage order.

    Each passage is stemmed in its own article's language, so a collection that mixes
    French and English articles matches each in its own words.
    """

    def __init__(self, retriever: bm25s.BM25, langs: tuple[str, ...], size: int) -> None:
        self._retriever = retriever
        self.langs = langs or ("fr",)  # the collection's languages, most text first
        self.size = size
        self._vocab: dict[str, int] = dict(getattr(retriever, "vocab_dict", {}) or {})

    @property
    def lang(self) -> str:
        """The collection's main language."""
        return self.langs[0]

    @classmethod
    def build(cls, texts: list[str], langs: str | list[str] = "fr") -> LexicalIndex:
        """Index ``texts``, each in its language (``langs``: one per text, or one for all).

        BM25 Lucene variant, k1=1.2, b=0.75 (flat on PIAF dev between 0.9 and 2, 0.4 and 0.9).
        """
        per_text = [langs] * len(texts) if isinstance(langs, str) else list(langs)
        if len(per_text) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(per_text)} languages")
        weight: dict[str, int] = {}
        for text, lang in zip(texts, per_text, strict=True):
            weight[lang] = weight.get(lang, 0) + len(text)
        order = tuple(sorted(weight, key=lambda lang: -weight[lang]))
        if isinstance(langs, str):
            order = (langs,)
        retriever = bm25s.BM25(k1=1.2, b=0.75)
        # bm25s needs one token per document; "" never comes out of ``tokenize``.
        corpus = [tokenize(t, lang) or [""] for t, lang in zip(texts, per_text, strict=True)]
        if texts:
            retriever.index(corpus, show_progress=False)
        return cls(retriever, order, len(texts))

    def speaks(self, lang: str) -> bool:
        """True when some articles are in ``lang``: its words can be matched as they are."""
        return lang in self.langs

    def analyse(self, query: str, query_lang: str | None = None) -> QueryTerms:
        """The question's words, stemmed in every language of the collection.

        Stop words of the question's own language are dropped too ("the" in an English
        question about French articles).
        """
        tokens: dict[str, None] = {}
        words = known = 0
        for word in dict.fromkeys(_WORD.findall(query.lower())):
            if len(word) < 2:
                continue
            stems = []
            for lang in self.langs:
                stems.extend(tokenize(word, lang, (query_lang,) if query_lang else ()))
            if not stems:
                continue  # a stop word in every language
            words += 1
            known += any(stem in self._vocab for stem in stems)
            tokens.update(dict.fromkeys(stems))
        return QueryTerms(tuple(tokens), known / words if words else 0.0)

    def query_tokens(self, query: str, query_lang: str | None = None) -> list[str]:
        """The question's words as the index knows them."""
        return list(self.analyse(query, query_lang).tokens)

    def scores(self, query: str, query_lang: str | None = None) -> npt.NDArray[np.float32]:
        """BM25 score of every passage (zeros when no word of the query is known)."""
        return self.scores_for_tokens(self.query_tokens(query, query_lang))

    def scores_for_tokens(self, tokens: Sequence[str]) -> npt.NDArray[np.float32]:
        known = [t for t in tokens if t in self._vocab]
        if not known or self.size == 0:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._retriever.get_scores(known), dtype=np.float32)

    def save(self, folder: Path) -> None:
        """Plain arrays and JSON (bm25s' own format), never pickle."""
        folder.mkdir(parents=True, exist_ok=True)
        if self.size:
            self._retriever.save(str(folder), show_progress=False)
        meta = {"format_version": FORMAT_VERSION, "langs": list(self.langs), "size": self.size}
        (folder / "lexical.json").write_text(json.dumps(meta), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        meta = json.loads((folder / "lexical.json").read_text(encoding="utf-8"))
        if meta.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"unsupported lexical index format {meta.get('format_version')!r}")
        retriever = bm25s.BM25.load(str(folder)) if meta["size"] else bm25s.BM25()
        return cls(retriever, tuple(meta["langs"]), int(meta["size"]))
