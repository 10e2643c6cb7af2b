"""The lexical leg: BM25 (bm25s) over stemmed, accent-folded words.

>>> lexical = LexicalIndex.build(["Les abeilles font du miel.", "Le chat dort."], lang="fr")
>>> int(lexical.scores("abeille").argmax())
0
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import bm25s
import numpy as np
import numpy.typing as npt
import Stemmer
from bm25s import stopwords as bm25s_stopwords

__all__ = ["LexicalIndex", "tokenize"]

FORMAT_VERSION = 1

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


class LexicalIndex:
    """BM25 over a fixed list of passages; scores come back in passage order."""

    def __init__(self, retriever: bm25s.BM25, lang: str, size: int) -> None:
        self._retriever = retriever
        self.lang = lang
        self.size = size
        self._vocab: dict[str, int] = dict(getattr(retriever, "vocab_dict", {}) or {})

    @classmethod
    def build(cls, texts: list[str], lang: str = "fr") -> LexicalIndex:
        """Index ``texts`` (BM25 Lucene variant, k1=1.2, b=0.75)."""
        retriever = bm25s.BM25(k1=1.2, b=0.75)
        # bm25s needs one token per document; "" never comes out of ``tokenize``.
        corpus = [tokenize(t, lang) or [""] for t in texts]
        if texts:
            retriever.index(corpus, show_progress=False)
        return cls(retriever, lang, len(texts))

    def query_tokens(self, query: str, query_lang: str | None = None) -> list[str]:
        """The query's words as the index knows them (stop words of both languages removed)."""
        stop_langs = (query_lang,) if query_lang and query_lang != self.lang else ()
        return tokenize(query, self.lang, stop_langs)

    def coverage(self, tokens: list[str]) -> float:
        """Share of the query's words that occur in the collection at all."""
        if not tokens:
            return 0.0
        return sum(1 for t in tokens if t in self._vocab) / len(tokens)

    def scores(self, query: str, query_lang: str | None = None) -> npt.NDArray[np.float32]:
        """BM25 score of every passage (zeros when no word of the query is known)."""
        return self.scores_for_tokens(self.query_tokens(query, query_lang))

    def scores_for_tokens(self, tokens: list[str]) -> npt.NDArray[np.float32]:
        known = [t for t in tokens if t in self._vocab]
        if not known or self.size == 0:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._retriever.get_scores(known), dtype=np.float32)

    def save(self, folder: Path) -> None:
        """Plain arrays and JSON (bm25s' own format), never pickle."""
        folder.mkdir(parents=True, exist_ok=True)
        if self.size:
            self._retriever.save(str(folder), show_progress=False)
        meta = {"format_version": FORMAT_VERSION, "lang": self.lang, "size": self.size}
        (folder / "lexical.json").write_text(json.dumps(meta), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        meta = json.loads((folder / "lexical.json").read_text(encoding="utf-8"))
        if meta.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"unsupported lexical index format {meta.get('format_version')!r}")
        retriever = bm25s.BM25.load(str(folder)) if meta["size"] else bm25s.BM25()
        return cls(retriever, meta["lang"], int(meta["size"]))
