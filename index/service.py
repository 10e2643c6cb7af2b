"""The one object the bot (and the CLI) talk to: ask, build, add, remove, stats.

INTERFACE STUB — being implemented; signatures are the contract.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from index.models import Answer, Article, LoadProblem, Quote
from index.settings import IndexSettings

__all__ = ["BuildReport", "IndexService", "IndexStats", "ProgressCallback"]

# progress(stage, done, total): stage is "load", "embed" or "write".
ProgressCallback = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class BuildReport:
    articles: int
    chunks: int
    embedded: int  # chunks/sentences actually embedded (0 when nothing changed)
    reused: int  # vectors taken from the cache
    seconds: float
    problems: tuple[LoadProblem, ...]


@dataclass(frozen=True, slots=True)
class IndexStats:
    articles: int
    chunks: int
    model: str
    dimension: int
    index_bytes: int
    built_at: str | None  # ISO 8601 UTC of the live index, None when there is none


class IndexService:
    """Thread-safe facade over the live index. Blocking methods: call them off the event loop.

    >>> service = IndexService(IndexSettings())
    >>> service.ensure_built()
    >>> service.ask("Qui est Tokaïev ?").quotes[0].title
    """

    def __init__(self, settings: IndexSettings) -> None: ...

    def ensure_built(self, progress: ProgressCallback | None = None) -> BuildReport | None:
        """Build from SEEDS_DIR when no index exists; None when one was already there."""
        ...

    def rebuild(self, progress: ProgressCallback | None = None) -> BuildReport:
        """Rebuild from SEEDS_DIR (unchanged chunks reuse their vectors) and swap it in."""
        ...

    def ask(self, question: str, k: int | None = None, offset: int = 0) -> Answer:
        """Best quotes for a question; ``Answer.quotes`` empty when the articles do not answer."""
        ...

    def add_file(self, path: Path) -> tuple[Article, int]:
        """Index one article file that is already in SEEDS_DIR; returns it and its chunk count.

        Raises ``index.errors.ArticleLoadError`` when the file is not a usable article.
        """
        ...

    def remove(self, article_id: str) -> Article:
        """Drop one article from the index (the caller moves its file away). KeyError if unknown."""
        ...

    def articles(self) -> list[Article]:
        """The indexed articles, sorted by title."""
        ...

    def article(self, article_id: str) -> Article | None: ...

    def context(self, quote: Quote, chars: int = 1200) -> Quote:
        """The paragraph(s) around a quote, as a wider verbatim Quote of the same article."""
        ...

    def stats(self) -> IndexStats: ...

    @property
    def building(self) -> bool:
        """True while a rebuild/add/remove is running."""
        ...
