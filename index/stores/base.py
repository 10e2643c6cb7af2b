"""The storage seam: what the index needs from a store, whichever database holds it.

Modelled on Haystack's ``DocumentStore`` protocol: a small set of typed operations that two
backends implement alike and one test suite checks (``tests/test_stores.py``):

- ``EmbeddedStore`` (``index.stores.embedded``): SQLite + FAISS in ``DATA_DIR``, no server;
- ``PostgresStore`` (``index.stores.postgres``): PostgreSQL + pgvector, shared by every bot
  process that has the same ``DATABASE_URL``.

A store holds articles, their passages (offsets into the article text, a vector) and each
passage's sentences (offsets, a vector), plus a cache of vectors by content hash. Every write
is atomic: readers see an article with all its passages or not at all, and a killed write
leaves the previous state. Search (``index.search``) talks to stores through this protocol only.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from index.models import Article, ArticleSummary

__all__ = [
    "LEXICAL_MAX_DF",
    "SUMMARY_COLUMNS",
    "ArticleSource",
    "Candidates",
    "Filters",
    "IndexStore",
    "Matrix",
    "PassageRecord",
    "QueryTerms",
    "Reset",
    "SentenceRecord",
    "Sentences",
    "StoreCounts",
    "StoreMeta",
    "Vector",
    "article_fields",
    "article_filter_ids",
    "article_from_values",
    "passes",
    "summary_from_values",
]

Vector = npt.NDArray[np.float32]  # (dim,), L2-normalised
Matrix = npt.NDArray[np.float32]  # (n, dim), rows L2-normalised
Span = tuple[int, int]

# A question's word found in more passages than this is left out of the lexical query (it still
# counts as known): its postings cost most of a query at a million passages (BM25 over them took
# 114 ms of 153), and its idf is small there. No collection of up to this many passages changes.
LEXICAL_MAX_DF = 20_000


@dataclass(frozen=True, slots=True)
class StoreMeta:
    """What the stored vectors were made with: a store serves only a matching embedder."""

    model_id: str
    dim: int
    chunk_max_chars: int
    chunk_overlap: int

    def to_json(self) -> str:
        return json.dumps(
            {
                "model_id": self.model_id,
                "dim": self.dim,
                "chunk_max_chars": self.chunk_max_chars,
                "chunk_overlap": self.chunk_overlap,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> StoreMeta:
        data = json.loads(text)
        return cls(
            model_id=str(data["model_id"]),
            dim=int(data["dim"]),
            chunk_max_chars=int(data["chunk_max_chars"]),
            chunk_overlap=int(data["chunk_overlap"]),
        )


@dataclass(frozen=True, slots=True)
class Reset:
    """A store emptied for another model: its meta and the background passages' vectors."""

    meta: StoreMeta
    background: Matrix  # vectors of ``index.background.BACKGROUND_PASSAGES``


@dataclass(frozen=True, slots=True)
class SentenceRecord:
    """A sentence of a passage: offsets into the article text, and its vector."""

    start: int
    end: int
    vector: Vector


@dataclass(frozen=True, slots=True)
class PassageRecord:
    """A passage as written: offsets into the article text, its vector, its sentences in order.

    ``lexical`` is the text the lexical leg indexes (the title and the passage).
    """

    start: int
    end: int
    vector: Vector
    lexical: str
    sentences: tuple[SentenceRecord, ...]


@dataclass(frozen=True, slots=True)
class ArticleSource:
    """Where a stored article came from, so a sync can skip files that did not change."""

    article_id: str
    sha256: str  # of the cleaned article (text and title)
    source_path: str | None
    source_sha256: str | None  # of the file's bytes


@dataclass(frozen=True, slots=True)
class Filters:
    """Which articles a query may draw passages from; a field left None does not filter.

    Filters apply inside the store's query (never to its results), so a narrow filter still
    yields a full page of candidates.
    """

    article_ids: frozenset[str] | None = None
    outlets: frozenset[str] | None = None
    feeds: frozenset[str] | None = None
    tags: frozenset[str] | None = None  # an article with any of these tags
    published_from: str | None = None  # ISO 8601, inclusive; articles without a date are out
    published_to: str | None = None  # ISO 8601, exclusive

    @property
    def empty(self) -> bool:
        return all(getattr(self, name) is None for name in self.__slots__)


@dataclass(frozen=True, slots=True)
class QueryTerms:
    """A question as the lexical leg sees it."""

    tokens: tuple[
        str, ...
    ]  # its words as the store indexes them, but the commonest (LEXICAL_MAX_DF)
    coverage: float  # share of its words the collection uses at all (0 when none)
    words: tuple[str, ...] = ()  # the words themselves (a store may analyse them its own way)
    # Share of its names and numbers (``lexical.question_names``) the collection uses; None
    # when it has none.
    names_coverage: float | None = None


@dataclass(frozen=True, slots=True)
class Candidates:
    """Passages proposed for a question by the dense leg, the lexical leg, or both.

    Parallel arrays, one entry per passage, ordered by ``ids`` (ascending).
    """

    ids: npt.NDArray[np.int64]  # store passage ids
    article_ids: tuple[str, ...]
    starts: npt.NDArray[np.int64]
    ends: npt.NDArray[np.int64]
    vectors: Matrix  # the passages' exact vectors
    lexical: npt.NDArray[np.float32]  # lexical score, higher is better, 0 when unmatched

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def none(cls, dim: int) -> Candidates:
        return cls(
            np.zeros(0, np.int64),
            (),
            np.zeros(0, np.int64),
            np.zeros(0, np.int64),
            np.zeros((0, dim), np.float32),
            np.zeros(0, np.float32),
        )


@dataclass(frozen=True, slots=True)
class Sentences:
    """The sentences of some passages: passage i's are rows ``ptr[i]:ptr[i+1]``."""

    spans: tuple[tuple[Span, ...], ...]  # per passage
    vectors: Matrix
    ptr: npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class StoreCounts:
    articles: int
    passages: int
    sentences: int
    bytes: int = 0  # on disk or in the database, as well as the store can tell
    updated_at: str | None = None  # ISO 8601 (UTC) of the last write
    generation: int = 0  # how many writes it has had: unchanged means nothing changed


@runtime_checkable
class IndexStore(Protocol):
    """Articles with their passages, sentences and vectors; the dense and lexical legs."""

    # -- what it holds ------------------------------------------------------------------------

    @property
    def location(self) -> str:
        """Where it lives, for messages: a path, or a database URL without its password."""
        ...

    def meta(self) -> StoreMeta | None:
        """What the vectors were made with; None for a store that was never written."""
        ...

    def counts(self) -> StoreCounts: ...

    def languages(self) -> tuple[str, ...]:
        """The articles' languages, the one with the most text first ("fr" when empty)."""
        ...

    def article(self, article_id: str) -> Article | None: ...

    def articles(self, ids: Collection[str] | None = None) -> list[Article]:
        """These articles (all when ``ids`` is None), in no particular order."""
        ...

    def sources(self) -> dict[str, ArticleSource]:
        """Every stored article's hashes and source file, by id (what a sync compares)."""
        ...

    def summaries(self) -> list[ArticleSummary]:
        """Every article without its text, in no particular order: one query, no text read."""
        ...

    # -- writing: each call is one transaction ------------------------------------------------

    def write(
        self,
        upserts: Iterable[tuple[Article, Sequence[PassageRecord]]],
        deletes: Collection[str] = (),
        *,
        reset: Reset | None = None,
    ) -> None:
        """One transaction: replace the ``upserts`` articles (with all their passages) and
        delete ``deletes``; with ``reset``, first empty the store and make it hold vectors of
        another model (a full rebuild). ``upserts`` may be a generator: a rebuild streams."""
        ...

    def export(self) -> Iterator[tuple[Article, list[PassageRecord]]]:
        """Every article with its passages and vectors, to copy this store into another."""
        ...

    def background(self) -> Matrix:
        """The background passages' vectors, as the last reset gave them."""
        ...

    # -- the vector cache ---------------------------------------------------------------------

    def cached_vectors(self, keys: Sequence[str], dim: int) -> dict[str, Vector]:
        """Vectors already made for these content hashes (those of the right dimension)."""
        ...

    def cache_vectors(self, items: Iterable[tuple[str, Vector]]) -> None:
        """Remember vectors by content hash (committed at once: a killed build keeps them)."""
        ...

    def export_cache(self) -> Iterator[tuple[str, Vector]]:
        """Every cached vector with its key, to copy the cache into another store."""
        ...

    # -- reading for a question ---------------------------------------------------------------

    def analyse(self, question: str, question_lang: str) -> QueryTerms:
        """The question's words as this store's lexical leg indexes them, and their coverage."""
        ...

    def candidates(
        self,
        query: Vector,
        terms: QueryTerms | None,
        dense_k: int,
        lexical_k: int,
        filters: Filters | None = None,
    ) -> Candidates:
        """The ``dense_k`` nearest passages and the ``lexical_k`` best lexical matches (none
        when ``terms`` is None), with the lexical score of every candidate."""
        ...

    def sentences(self, passage_ids: Sequence[int]) -> Sentences:
        """The sentences of these passages, with their vectors, in the order asked."""
        ...

    def reference_vectors(self) -> Matrix:
        """What unrelated text looks like to a question: the background vectors and a spread-out
        sample of up to 1,000 passage vectors (``search.answer_scores``)."""
        ...

    def close(self) -> None: ...


def article_fields(article: Article) -> list[Any]:
    """An article's fields in ``Article``'s order, which is every store's column order."""
    return [getattr(article, f.name) for f in fields(Article)]


def article_from_values(values: Sequence[Any], tags: Iterable[str]) -> Article:
    """An article from its fields in ``Article``'s order; ``tags`` as the store decoded them."""
    data = dict(zip((f.name for f in fields(Article)), values, strict=True))
    data["tags"] = tuple(tags)
    return Article(**data)


# ``ArticleSummary``'s fields as columns of every store's ``articles`` table.
SUMMARY_COLUMNS = "id, title, lang, url, date, outlet, feed, tags, published, chars"


def summary_from_values(values: Sequence[Any], tags: Iterable[str]) -> ArticleSummary:
    """A summary from the values of ``SUMMARY_COLUMNS``; ``tags`` as the store decoded them."""
    id_, title, lang, url, date, outlet, feed, _, published, chars = values
    return ArticleSummary(
        id_, title, lang, url, date, outlet, feed, tuple(tags), published, int(chars)
    )


def article_filter_ids(
    filters: Filters | None, articles: Mapping[str, Article]
) -> frozenset[str] | None:
    """The ids of the articles ``filters`` let through; None when nothing is filtered.

    The shared meaning of every field, for stores that filter in memory.
    """
    if filters is None or filters.empty:
        return None
    return frozenset(
        article_id for article_id, article in articles.items() if passes(filters, article)
    )


def passes(filters: Filters, article: Article | ArticleSummary) -> bool:
    """True when ``article`` is one ``filters`` let through."""
    if filters.article_ids is not None and article.id not in filters.article_ids:
        return False
    if filters.outlets is not None and article.outlet not in filters.outlets:
        return False
    if filters.feeds is not None and article.feed not in filters.feeds:
        return False
    if filters.tags is not None and not filters.tags.intersection(article.tags):
        return False
    published = article.published
    if filters.published_from is not None and (
        published is None or published < filters.published_from
    ):
        return False
    return not (
        filters.published_to is not None
        and (published is None or published >= filters.published_to)
    )
