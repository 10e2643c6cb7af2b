"""The storage seam: what the index needs from a store, whichever database holds it.

Modelled on Haystack's ``DocumentStore`` protocol: a small set of typed operations that two
backends implement alike and one test suite checks (``tests/index/stores/test_stores.py``):

- ``EmbeddedStore`` (``index.stores.embedded``): SQLite + FAISS in ``DATA_DIR``, no server;
- ``PostgresStore`` (``index.stores.postgres``): PostgreSQL + pgvector, shared by every bot
  process that has the same ``DATABASE_URL``.

A store holds articles, their passages (offsets into the article text, a vector) and each
passage's sentences (offsets, a vector), plus a cache of vectors by content hash. Every write
is atomic: readers see an article with all its passages or not at all, and a killed write
leaves the previous state. Search (``index.retrieval.search``) talks to stores through this protocol
only.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from index.errors import IndexFailure
from index.models import Article, ArticleSummary
from index.retrieval.lexical import coverage, names_coverage, question_stems

__all__ = [
    "LEXICAL_MAX_DF",
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
    "check_dimensions",
    "pack_vectors",
    "query_terms",
    "unpack_vector",
    "unpack_vectors",
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
    background: Matrix  # vectors of ``index.retrieval.background.BACKGROUND_PASSAGES``


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

    @classmethod
    def stored(
        cls,
        start: int,
        end: int,
        vector: Vector,
        lexical: str,
        spans: Iterable[Sequence[int]],
        sentence_vectors: Matrix,
    ) -> PassageRecord:
        """A passage as a store reads it back: its sentences' spans and vectors side by side."""
        sentences = tuple(
            SentenceRecord(int(s), int(e), v)
            for (s, e), v in zip(spans, sentence_vectors, strict=True)
        )
        return cls(start, end, vector, lexical, sentences)


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
    # How many passages hold each of ``tokens``, summed: a bound on the passages the lexical
    # query matches (None: not counted).
    postings: int | None = None


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
    # Their sentences when the store read them with the passages (one query fewer per
    # question); None: ask ``IndexStore.sentences``.
    sentences: Sentences | None = None

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

    @classmethod
    def of(
        cls,
        rows: Sequence[tuple[int, str, int, int, Vector]],
        lexical: Mapping[int, float],
        dim: int,
        sentences: Sentences | None = None,
    ) -> Candidates:
        """Candidates from (id, article id, start, end, vector) rows in id order; a passage
        missing from ``lexical`` scores 0 there. ``sentences``: those of the same passages in
        the same order, when read with them."""
        if not rows:
            return cls.none(dim)
        ids = np.array([r[0] for r in rows], np.int64)
        return cls(
            ids=ids,
            article_ids=tuple(r[1] for r in rows),
            starts=np.array([r[2] for r in rows], np.int64),
            ends=np.array([r[3] for r in rows], np.int64),
            vectors=np.vstack([r[4] for r in rows]),
            lexical=np.array([lexical.get(int(i), 0.0) for i in ids], np.float32),
            sentences=sentences,
        )


# A passage's sentence spans as a store read them: JSON text (``[[start, end], ...]``, SQLite)
# or the pairs themselves (PostgreSQL's JSONB, decoded by the driver).
StoredSpans = str | Iterable[Sequence[int]]


@dataclass(frozen=True, slots=True)
class Sentences:
    """The sentences of some passages: passage i's are rows ``ptr[i]:ptr[i+1]``, their spans
    ``spans_of(i)``.

    The spans stay as the store read them until asked for: a search quotes a few of its
    candidates only, and decoding every candidate's spans cost more than scoring them.
    """

    stored_spans: tuple[StoredSpans, ...]  # per passage
    vectors: Matrix
    ptr: npt.NDArray[np.int64]

    def spans_of(self, i: int) -> tuple[Span, ...]:
        """The spans of the ``i``-th passage's sentences, in the article's text."""
        return tuple((int(s), int(e)) for s, e in _pairs(self.stored_spans[i]))

    @property
    def spans(self) -> tuple[tuple[Span, ...], ...]:
        """Every passage's sentence spans (``spans_of`` of each)."""
        return tuple(self.spans_of(i) for i in range(len(self.stored_spans)))

    @classmethod
    def gather(
        cls,
        passage_ids: Sequence[int],
        found: Mapping[int, tuple[StoredSpans, bytes]],
        dim: int,
    ) -> Sentences:
        """The sentences of ``passage_ids``, in that order, from what a store read of each:
        its sentences' spans and their vectors end to end (none for a passage not found).

        >>> two = pack_vectors([np.ones(2, np.float32), np.zeros(2, np.float32)])
        >>> found = Sentences.gather([7, 9, 8], {7: ("[[0, 4], [5, 9]]", two), 8: ([[1, 2]],
        ...     pack_vectors([np.ones(2, np.float32)]))}, 2)
        >>> found.ptr.tolist(), found.spans
        ([0, 2, 2, 3], (((0, 4), (5, 9)), (), ((1, 2),)))
        """
        missing: tuple[StoredSpans, bytes] = ((), b"")
        rows = [found.get(int(passage_id), missing) for passage_id in passage_ids]
        return cls.of([r[0] for r in rows], [r[1] for r in rows], dim)

    @classmethod
    def of(cls, spans: Sequence[StoredSpans], vectors: Sequence[bytes], dim: int) -> Sentences:
        """The sentences of passages whose spans and vectors (end to end, as ``pack_vectors``
        made them) a store read: ``spans[i]`` and ``vectors[i]`` are the i-th passage's."""
        row = 4 * dim  # bytes of one float32 vector
        # One vector per sentence, written together: the counts need no decoding.
        counts = (
            [len(blob) // row for blob in vectors]
            if row
            else [len(tuple(_pairs(stored))) for stored in spans]
        )
        ptr = np.zeros(len(counts) + 1, np.int64)
        np.cumsum(counts, out=ptr[1:])
        return cls(tuple(spans), unpack_vectors(b"".join(vectors), dim), ptr)


def _pairs(stored: StoredSpans) -> Iterable[Sequence[int]]:
    return json.loads(stored) if isinstance(stored, str) else stored


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

    def summaries(self, filters: Filters | None = None) -> list[ArticleSummary]:
        """Every article without its text (those ``filters`` let through), in no particular
        order: one query, no text read."""
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


def pack_vectors(vectors: Iterable[Vector]) -> bytes:
    """Vectors end to end as float32 bytes, as both stores keep them in a BLOB or BYTEA."""
    return b"".join(np.asarray(v, np.float32).tobytes() for v in vectors)


def unpack_vector(blob: bytes) -> Vector:
    """One vector from ``pack_vectors``' bytes."""
    return np.frombuffer(blob, np.float32)


def unpack_vectors(blob: bytes, dim: int) -> Matrix:
    """Vectors of dimension ``dim`` from ``pack_vectors``' bytes (none when ``dim`` is 0)."""
    if not dim:
        return np.zeros((0, 0), np.float32)
    return np.frombuffer(blob, np.float32).reshape(-1, dim)


def check_dimensions(article: Article, passages: Sequence[PassageRecord], dim: int) -> None:
    """Raise ``IndexFailure`` unless every vector of ``passages`` is of dimension ``dim``."""
    for passage in passages:
        if passage.vector.shape != (dim,) or any(
            s.vector.shape != (dim,) for s in passage.sentences
        ):
            raise IndexFailure(f"a vector of {article.id!r} is not of dimension {dim}")


def query_terms(
    question: str,
    question_lang: str,
    languages: Sequence[str],
    frequencies: Callable[[tuple[str, ...]], Mapping[str, int]],
) -> QueryTerms:
    """``IndexStore.analyse`` for a store whose lexical leg indexes ``index.retrieval.lexical``'s
    stems: the question's stems in the collection's ``languages``, but those ``frequencies`` (a
    stem's passages, as the store counts them) finds in over ``LEXICAL_MAX_DF`` passages."""
    stems = question_stems(question, question_lang, languages)
    tokens = tuple(dict.fromkeys(stem for word in stems for stem in word))
    df = frequencies(tokens)
    kept = tuple(t for t in tokens if df.get(t, 0) <= LEXICAL_MAX_DF)
    return QueryTerms(
        kept,
        coverage(stems, df.keys()),
        names_coverage=names_coverage(question, question_lang, languages, df.keys()),
        postings=sum(df.get(t, 0) for t in kept),
    )
