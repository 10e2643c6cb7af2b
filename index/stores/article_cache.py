"""The articles a store read last, kept for the next questions while nothing is written.

Every answer reads the articles it quotes (their texts, for the quotes): ~12 on PIAF, 0.45 ms
a question on SQLite, most of it decoding rows; an article quoted once is often quoted again
(the next question about it). The cache is per store and per generation: any write, by this
process or another, empties it at the next read.

>>> cache = ArticleCache(max_chars=10)
>>> cache.put(1, [Article(id="a", title="A", text="12345", sha256="h")])
>>> sorted(cache.get(1, ["a", "b"])), sorted(cache.get(2, ["a"]))
(['a'], [])
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Collection, Iterable

from index.models import Article

__all__ = ["ARTICLES_CACHED_CHARS", "ArticleCache"]

# Characters of article text kept (the least recently used go first): a few MB.
ARTICLES_CACHED_CHARS = 2_000_000


class ArticleCache:
    """Articles by id as of one generation of a store, least recently used dropped first, up to
    ``max_chars`` characters of text. Thread-safe."""

    def __init__(self, max_chars: int = ARTICLES_CACHED_CHARS) -> None:
        self.max_chars = max_chars
        self._lock = threading.Lock()
        self._generation: int | None = None
        self._articles: OrderedDict[str, Article] = OrderedDict()
        self._chars = 0

    def get(self, generation: int, ids: Collection[str]) -> dict[str, Article]:
        """Those of ``ids`` held, as of ``generation`` (none when the store has changed since).

        Args:
            generation: The store's generation now, read before any row the caller reads next.
            ids: The articles wanted.

        Returns:
            The articles held, by id.
        """
        with self._lock:
            self._at(generation)
            found = {i: self._articles[i] for i in ids if i in self._articles}
            for article_id in found:
                self._articles.move_to_end(article_id)
            return found

    def put(self, generation: int, articles: Iterable[Article]) -> None:
        """Keep ``articles``, read at ``generation`` or later (``get``'s generation)."""
        with self._lock:
            self._at(generation)
            for article in articles:
                if len(article.text) > self.max_chars:
                    continue
                old = self._articles.pop(article.id, None)
                if old is not None:
                    self._chars -= len(old.text)
                self._articles[article.id] = article
                self._chars += len(article.text)
            while self._chars > self.max_chars:
                _, dropped = self._articles.popitem(last=False)
                self._chars -= len(dropped.text)

    def _at(self, generation: int) -> None:
        """Empty the cache when the store's generation is not the one it holds."""
        if generation != self._generation:
            self._articles.clear()
            self._chars = 0
            self._generation = generation
