"""The saved index: FAISS vectors, SQLite metadata, a BM25 index and a JSON manifest.

Each build goes into a fresh folder under ``DATA_DIR/builds/``; the symlink
``DATA_DIR/current`` is switched to it with one atomic rename, so a crash mid-build
leaves the previous index serving. Vectors are cached by content hash in
``DATA_DIR/embeddings.sqlite``: a passage whose text has not changed is never
embedded twice.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

from index.background import BACKGROUND_PASSAGES
from index.chunk import chunk_article
from index.embed import Embedder
from index.errors import IndexFailure, IndexMissingError, ModelMismatchError
from index.lexical import LexicalIndex
from index.models import Article, Chunk

__all__ = [
    "FORMAT_VERSION",
    "BuildParams",
    "BuildResult",
    "EmbeddingCache",
    "IndexData",
    "Manifest",
    "build_index",
    "index_exists",
    "open_index",
]

FORMAT_VERSION = 1
REFERENCE_SAMPLE = 1000
CURRENT = "current"
BUILDS = "builds"

Progress = Callable[[str, int, int], None]
Vectors = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class BuildParams:
    """Everything besides the articles that decides what a build contains."""

    model_id: str
    chunk_max_chars: int = 700
    chunk_overlap: int = 1
    faiss_factory: str = "Flat"
    batch_size: int = 16


@dataclass(frozen=True, slots=True)
class Manifest:
    """What an index was built from; loading checks it against the settings."""

    format_version: int
    model_id: str
    dim: int
    chunk_max_chars: int
    chunk_overlap: int
    faiss_factory: str
    lexical_lang: str
    articles: dict[str, str]  # article id -> sha256
    chunks: int
    sentences: int
    built_at: str
    build_seconds: float

    @classmethod
    def read(cls, path: Path) -> Manifest:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            version = data.get("format_version")
        except (OSError, ValueError, AttributeError) as exc:
            raise ModelMismatchError(f"the manifest {path} is unreadable ({exc}): reindex") from exc
        if version != FORMAT_VERSION:
            raise ModelMismatchError(
                f"the index in {path.parent} has format {version!r}, "
                f"this version reads {FORMAT_VERSION}: reindex"
            )
        try:
            return cls(**data)
        except TypeError as exc:
            raise ModelMismatchError(f"the manifest {path} is incomplete ({exc}): reindex") from exc


@dataclass(frozen=True, slots=True)
class BuildResult:
    data: IndexData
    embedded: int
    reused: int
    seconds: float


class IndexData:
    """A loaded, read-only index: articles, chunks, vectors and the lexical index."""

    def __init__(
        self,
        path: Path,
        manifest: Manifest,
        articles: dict[str, Article],
        chunks: list[Chunk],
        faiss_index: Any,
        chunk_vectors: Vectors,
        sentence_vectors: Vectors,
        sentence_ptr: npt.NDArray[np.int64],
        lexical: LexicalIndex,
        background_vectors: Vectors,
    ) -> None:
        self.path = path
        self.manifest = manifest
        self.articles = articles
        self.chunks = chunks
        self.faiss_index = faiss_index  # over the chunk vectors, row i = chunks[i]
        # The exact vectors too: an approximate FAISS index cannot give them back.
        self.chunk_vectors = chunk_vectors
        self.sentence_vectors = sentence_vectors
        self.sentence_ptr = sentence_ptr  # chunk i's sentences: rows ptr[i]:ptr[i+1]
        self.lexical = lexical
        # What a question's similarity to unrelated text looks like: the background
        # passages plus a spread-out sample of the collection (search.answer_score).
        step = max(1, len(chunk_vectors) // REFERENCE_SAMPLE)
        self.reference_vectors = np.vstack([background_vectors, chunk_vectors[::step]]).astype(
            np.float32
        )

    def size_bytes(self) -> int:
        return sum(f.stat().st_size for f in self.path.rglob("*") if f.is_file())


class EmbeddingCache:
    """Vectors by sha256(model id, text) in SQLite, so unchanged text is never re-embedded."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=30, check_same_thread=False)
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB)")
        self._db.commit()

    @staticmethod
    def key(model_id: str, text: str) -> str:
        return hashlib.sha256(f"{model_id}\x00{text}".encode()).hexdigest()

    def get_many(self, keys: list[str], dim: int) -> dict[str, Vectors]:
        found: dict[str, Vectors] = {}
        for i in range(0, len(keys), 500):
            batch = keys[i : i + 500]
            marks = ",".join("?" * len(batch))
            rows = self._db.execute(
                f"SELECT key, vector FROM vectors WHERE key IN ({marks})", batch
            ).fetchall()
            for key, blob in rows:
                vector = np.frombuffer(blob, dtype=np.float32)
                if vector.shape == (dim,):
                    found[key] = vector
        return found

    def put_many(self, items: Iterable[tuple[str, Vectors]]) -> None:
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO vectors (key, vector) VALUES (?, ?)",
                [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items],
            )

    def close(self) -> None:
        self._db.close()


def passage_text(article: Article, chunk: Chunk) -> str:
    """What is embedded for a chunk: the title gives the passage its subject."""
    return f"{article.title}\n{chunk.text}"


def _embed_with_cache(
    texts: list[str],
    embedder: Embedder,
    cache: EmbeddingCache,
    batch_size: int,
    progress: Progress | None,
) -> tuple[Vectors, int]:
    """Vectors for ``texts`` in order, embedding only those the cache lacks."""
    keys = [EmbeddingCache.key(embedder.model_id, t) for t in texts]
    known = cache.get_many(list(dict.fromkeys(keys)), embedder.dim)
    missing = list(dict.fromkeys(k for k in keys if k not in known))
    text_of = dict(zip(keys, texts, strict=True))
    done = 0
    if progress:
        progress("embed", 0, len(missing))
    for i in range(0, len(missing), batch_size):
        batch = missing[i : i + batch_size]
        vectors = embedder.embed_passages([text_of[k] for k in batch])
        fresh = list(zip(batch, vectors, strict=True))
        cache.put_many(fresh)  # committed per batch: a killed build keeps its work
        known.update(fresh)
        done += len(batch)
        if progress:
            progress("embed", done, len(missing))
    matrix = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    for row, key in enumerate(keys):
        matrix[row] = known[key]
    return matrix, len(missing)


def _faiss_index(vectors: Vectors, factory: str) -> Any:
    dim = vectors.shape[1]
    try:
        index = faiss.index_factory(dim, factory, faiss.METRIC_INNER_PRODUCT)
    except RuntimeError as exc:
        raise IndexFailure(
            f"FAISS_FACTORY {factory!r} is not a valid index-factory string"
        ) from exc
    if not index.is_trained:
        if len(vectors) < 2:
            raise IndexFailure(f"FAISS_FACTORY {factory!r} needs training vectors; use 'Flat'")
        try:
            index.train(vectors)
        except RuntimeError as exc:
            raise IndexFailure(
                f"FAISS_FACTORY {factory!r} cannot be trained on {len(vectors)} passages: "
                f"use 'Flat' for small collections ({exc})"
            ) from exc
    if len(vectors):
        index.add(vectors)
    return index


def build_index(
    data_dir: Path,
    articles: list[Article],
    embedder: Embedder,
    params: BuildParams,
    previous: IndexData | None = None,
    progress: Progress | None = None,
) -> BuildResult:
    """Build an index of ``articles`` and switch ``DATA_DIR/current`` to it.

    Chunks of articles whose hash matches ``previous`` are taken from it unchanged.
    """
    started = time.perf_counter()
    data_dir.mkdir(parents=True, exist_ok=True)
    articles = sorted(articles, key=lambda a: a.id)
    reuse_chunks = previous is not None and (
        previous.manifest.chunk_max_chars == params.chunk_max_chars
        and previous.manifest.chunk_overlap == params.chunk_overlap
    )
    chunks: list[Chunk] = []
    for n, article in enumerate(articles, 1):
        old = previous.articles.get(article.id) if previous and reuse_chunks else None
        if previous is not None and old is not None and old.sha256 == article.sha256:
            chunks.extend(c for c in previous.chunks if c.article_id == article.id)
        else:
            chunks.extend(chunk_article(article, params.chunk_max_chars, params.chunk_overlap))
        if progress:
            progress("chunk", n, len(articles))
    by_id = {a.id: a for a in articles}

    cache = EmbeddingCache(data_dir / "embeddings.sqlite")
    try:
        sentence_texts = [by_id[c.article_id].text[s:e] for c in chunks for s, e in c.sentences]
        all_texts = [
            *(passage_text(by_id[c.article_id], c) for c in chunks),
            *sentence_texts,
            *BACKGROUND_PASSAGES,
        ]
        matrix, embedded = _embed_with_cache(
            all_texts, embedder, cache, params.batch_size, progress
        )
    finally:
        cache.close()
    n_sentences = len(sentence_texts)
    chunk_vectors = matrix[: len(chunks)]
    sentence_vectors = matrix[len(chunks) : len(chunks) + n_sentences]
    background_vectors = matrix[len(chunks) + n_sentences :]
    sentence_ptr = np.zeros(len(chunks) + 1, dtype=np.int64)
    sentence_ptr[1:] = np.cumsum([len(c.sentences) for c in chunks])

    if progress:
        progress("write", 0, 1)
    # Each passage stemmed in its article's language; the collection's main language
    # (the lexical index's first) is also the manifest's.
    lexical = LexicalIndex.build(
        [f"{by_id[c.article_id].title}\n{c.text}" for c in chunks],
        [by_id[c.article_id].lang for c in chunks],
    )
    manifest = Manifest(
        format_version=FORMAT_VERSION,
        model_id=embedder.model_id,
        dim=embedder.dim,
        chunk_max_chars=params.chunk_max_chars,
        chunk_overlap=params.chunk_overlap,
        faiss_factory=params.faiss_factory,
        lexical_lang=lexical.lang,
        articles={a.id: a.sha256 for a in articles},
        chunks=len(chunks),
        sentences=len(sentence_texts),
        built_at=datetime.now(UTC).isoformat(timespec="seconds"),
        build_seconds=round(time.perf_counter() - started, 3),
    )
    builds = data_dir / BUILDS
    builds.mkdir(exist_ok=True)
    name = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    staging = builds / f"{name}.partial"
    staging.mkdir()
    try:
        faiss.write_index(
            _faiss_index(chunk_vectors, params.faiss_factory), str(staging / "vectors.faiss")
        )
        np.save(staging / "chunks.npy", chunk_vectors)
        np.save(staging / "sentences.npy", sentence_vectors)
        np.save(staging / "sentence_ptr.npy", sentence_ptr)
        np.save(staging / "background.npy", background_vectors)
        lexical.save(staging / "lexical")
        _write_sqlite(staging / "store.sqlite", articles, chunks)
        (staging / "manifest.json").write_text(
            json.dumps(asdict(manifest), ensure_ascii=False, indent=1), encoding="utf-8"
        )
        final = builds / name
        staging.rename(final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    replaced = _switch_current(data_dir, final)
    _prune_builds(data_dir, keep={final.name, replaced})
    # Read back what was written: what serves is exactly what a restart would load.
    data = _load(final, manifest)
    if progress:
        progress("write", 1, 1)
    return BuildResult(data, embedded, len(all_texts) - embedded, time.perf_counter() - started)


def _write_sqlite(path: Path, articles: list[Article], chunks: list[Chunk]) -> None:
    db = sqlite3.connect(path)
    try:
        with db:
            db.execute(
                "CREATE TABLE articles (id TEXT PRIMARY KEY, title TEXT, text TEXT, sha256 TEXT,"
                " lang TEXT, url TEXT, date TEXT, source_path TEXT)"
            )
            db.execute(
                "CREATE TABLE chunks (row INTEGER PRIMARY KEY, article_id TEXT, start INTEGER,"
                ' "end" INTEGER, sentences TEXT)'
            )
            db.executemany(
                "INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (a.id, a.title, a.text, a.sha256, a.lang, a.url, a.date, a.source_path)
                    for a in articles
                ],
            )
            db.executemany(
                "INSERT INTO chunks VALUES (?, ?, ?, ?, ?)",
                [
                    (i, c.article_id, c.start, c.end, json.dumps(c.sentences))
                    for i, c in enumerate(chunks)
                ],
            )
    finally:
        db.close()


def _switch_current(data_dir: Path, target: Path) -> str:
    """Point ``current`` at ``target``; returns the name of the build it pointed at before."""
    link = data_dir / CURRENT
    previous = Path(os.readlink(link)).name if link.is_symlink() else ""
    temp = data_dir / f".{CURRENT}-{uuid.uuid4().hex[:8]}"
    os.symlink(Path(BUILDS) / target.name, temp)
    os.replace(temp, link)  # atomic on POSIX: readers see the old or the new build
    return previous


def _prune_builds(data_dir: Path, keep: set[str]) -> None:
    """Remove every other build; the one just replaced stays for readers still on it.

    A half-written build is left alone for a day: another process may be writing it;
    after that it is the remains of a killed build.
    """
    for folder in (data_dir / BUILDS).iterdir():
        stale = time.time() - folder.stat().st_mtime > 86_400
        if folder.name not in keep and (stale or not folder.name.endswith(".partial")):
            shutil.rmtree(folder, ignore_errors=True)


def index_exists(data_dir: Path) -> bool:
    """True when ``data_dir`` has a live index (of any model or format)."""
    return (data_dir / CURRENT / "manifest.json").exists()


def open_index(data_dir: Path, model_id: str | None = None) -> IndexData:
    """Load the live index; refuse one built with another model (``model_id``)."""
    link = data_dir / CURRENT
    if not index_exists(data_dir):
        raise IndexMissingError(f"no index in {data_dir}: build one with 'python -m index build'")
    path = link.resolve()
    manifest = Manifest.read(path / "manifest.json")
    if model_id is not None and manifest.model_id != model_id:
        raise ModelMismatchError(
            f"the index was built with {manifest.model_id!r} but EMBEDDING_MODEL gives "
            f"{model_id!r}: reindex (python -m index build, or /reindex)"
        )
    try:
        return _load(path, manifest)
    except (OSError, ValueError, KeyError, RuntimeError, sqlite3.Error) as exc:
        raise ModelMismatchError(
            f"the index in {path} is damaged or from another version ({exc}): reindex"
        ) from exc


def _load(path: Path, manifest: Manifest) -> IndexData:
    db = sqlite3.connect(f"file:{path / 'store.sqlite'}?mode=ro", uri=True)
    try:
        articles = {
            row[0]: Article(
                id=row[0],
                title=row[1],
                text=row[2],
                sha256=row[3],
                lang=row[4],
                url=row[5],
                date=row[6],
                source_path=row[7],
            )
            for row in db.execute(
                "SELECT id, title, text, sha256, lang, url, date, source_path FROM articles"
            )
        }
        chunks = [
            Chunk(
                article_id=aid,
                start=start,
                end=end,
                text=articles[aid].text[start:end],
                sentences=tuple((int(s), int(e)) for s, e in json.loads(sentences)),
            )
            for aid, start, end, sentences in db.execute(
                'SELECT article_id, start, "end", sentences FROM chunks ORDER BY row'
            )
        ]
    finally:
        db.close()
    faiss_index = faiss.read_index(str(path / "vectors.faiss"))
    chunk_vectors = np.load(path / "chunks.npy")
    sentence_vectors = np.load(path / "sentences.npy")
    sentence_ptr = np.load(path / "sentence_ptr.npy")
    lexical = LexicalIndex.load(path / "lexical")
    background_vectors = np.load(path / "background.npy")
    if faiss_index.ntotal != len(chunks) or len(sentence_ptr) != len(chunks) + 1:
        raise ModelMismatchError(f"the index in {path} is inconsistent with its manifest: reindex")
    return IndexData(
        path,
        manifest,
        articles,
        chunks,
        faiss_index,
        chunk_vectors,
        sentence_vectors,
        sentence_ptr,
        lexical,
        background_vectors,
    )
