"""The embedded store: SQLite for everything that is kept, FAISS in memory for the dense leg.

No server. ``DATA_DIR/index.sqlite`` (WAL) holds the articles, passages and sentences with their
vectors, and an FTS5 table of each passage's stems for the lexical leg (BM25). Every write is
one SQLite transaction, so a killed change leaves the previous state, and costs the size of
what it changes: nothing is rebuilt.

The dense leg is a FAISS index in each process, keyed by passage id: exact (``IndexFlatIP``)
up to ``approximate_above`` passages, then IVF (``IndexIVFFlat``, its lists probed by
``nprobe``). A process's own writes update it in place; another process's (the command line
beside the bot) are caught up on the next question, through the ``generation`` counter that
every write increments and the log of removed passages.

>>> store = EmbeddedStore(Path("data"))  # doctest: +SKIP
>>> store.counts().passages  # doctest: +SKIP
10
"""

from __future__ import annotations

import json
import math
import sqlite3
import threading
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

from index.errors import IndexFailure, ModelMismatchError
from index.lexical import coverage, question_stems
from index.models import Article
from index.stores.base import (
    SCHEMA_VERSION,
    ArticleSource,
    Candidates,
    Filters,
    Matrix,
    PassageRecord,
    QueryTerms,
    Reset,
    SentenceRecord,
    Sentences,
    StoreCounts,
    StoreMeta,
    Vector,
)

__all__ = ["DEFAULT_APPROXIMATE_ABOVE", "EmbeddedStore"]

# FAISS's SWIG classes take keyword arguments its type stubs do not declare.
_faiss: Any = faiss

DATABASE = "index.sqlite"
CACHE = "embeddings.sqlite"
DEFAULT_APPROXIMATE_ABOVE = 250_000
REFERENCE_SAMPLE = 1000
# A filter that lets fewer passages through than this is searched exactly, whatever the index:
# an IVF's probed lists may hold none of them.
EXACT_FILTERED = 50_000
_BATCH = 500  # ids per "IN (...)" query
REMOVED_LOG_GENERATIONS = 10_000  # how far back another process can catch up change by change

_SCHEMA = [
    # Version 1.
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE articles (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        text TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        lang TEXT NOT NULL,
        url TEXT,
        date TEXT,
        source_path TEXT,
        source_sha256 TEXT,
        outlet TEXT,
        feed TEXT,
        tags TEXT NOT NULL DEFAULT '[]',
        published TEXT,
        chars INTEGER NOT NULL
    );
    CREATE TABLE passages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        article_id TEXT NOT NULL,
        start INTEGER NOT NULL,
        "end" INTEGER NOT NULL,
        vector BLOB NOT NULL,
        -- Its sentences, read together with it: [[start, end], ...] and their vectors end to end.
        sentence_spans TEXT NOT NULL,
        sentence_vectors BLOB NOT NULL,
        sentence_count INTEGER NOT NULL
    );
    CREATE INDEX passages_article ON passages (article_id);
    CREATE VIRTUAL TABLE lexical USING fts5 (tokens, tokenize = 'unicode61 remove_diacritics 0');
    CREATE VIRTUAL TABLE lexical_vocab USING fts5vocab (lexical, 'row');
    CREATE TABLE removed (generation INTEGER NOT NULL, passage_id INTEGER NOT NULL);
    CREATE INDEX removed_generation ON removed (generation);
    CREATE TABLE background (ord INTEGER PRIMARY KEY, vector BLOB NOT NULL);
    """,
]
assert len(_SCHEMA) == SCHEMA_VERSION


def _blob(vector: Vector) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def _vector(blob: bytes) -> Vector:
    return np.frombuffer(blob, dtype=np.float32)


def _vectors(blob: bytes, dim: int) -> Matrix:
    """Vectors of dimension ``dim`` stored end to end in one blob."""
    return np.frombuffer(blob, dtype=np.float32).reshape(-1, dim)


def _batches(items: Sequence[Any], size: int = _BATCH) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _marks(count: int) -> str:
    return ",".join("?" * count)


_ARTICLE_COLUMNS = (
    "id, title, text, sha256, lang, url, date, source_path, source_sha256, outlet, feed, tags,"
    " published"
)


def _article(row: sqlite3.Row | tuple[Any, ...]) -> Article:
    return Article(
        id=row[0],
        title=row[1],
        text=row[2],
        sha256=row[3],
        lang=row[4],
        url=row[5],
        date=row[6],
        source_path=row[7],
        source_sha256=row[8],
        outlet=row[9],
        feed=row[10],
        tags=tuple(json.loads(row[11])),
        published=row[12],
    )


def _filter_sql(filters: Filters) -> tuple[str, list[Any]]:
    """A condition on ``articles a`` that lets through what ``filters`` let through."""
    clauses: list[str] = []
    params: list[Any] = []
    for column, values in (
        ("a.id", filters.article_ids),
        ("a.outlet", filters.outlets),
        ("a.feed", filters.feeds),
    ):
        if values is not None:
            clauses.append(f"{column} IN ({_marks(len(values))})" if values else "0")
            params.extend(sorted(values))
    if filters.tags is not None:
        clauses.append(
            f"EXISTS (SELECT 1 FROM json_each(a.tags) WHERE value IN ({_marks(len(filters.tags))}))"
            if filters.tags
            else "0"
        )
        params.extend(sorted(filters.tags))
    if filters.published_from is not None:
        clauses.append("a.published >= ?")
        params.append(filters.published_from)
    if filters.published_to is not None:
        clauses.append("a.published < ?")
        params.append(filters.published_to)
    return " AND ".join(clauses) or "1", params


class _Dense:
    """The passage vectors in FAISS by passage id, and how far the database has been read."""

    def __init__(self, dim: int, approximate_above: int) -> None:
        self.dim = dim
        self.approximate_above = approximate_above
        self.index: Any = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        self.generation = -1  # the database generation this index reflects
        self.max_id = 0  # the largest passage id read
        self.nprobe = 1

    @property
    def approximate(self) -> bool:
        return isinstance(self.index, faiss.IndexIVF)

    @property
    def size(self) -> int:
        return int(self.index.ntotal)

    def add(self, ids: npt.NDArray[np.int64], vectors: Matrix) -> None:
        if len(ids):
            self.index.add_with_ids(np.ascontiguousarray(vectors, np.float32), ids)
            self.max_id = max(self.max_id, int(ids.max()))

    def remove(self, ids: npt.NDArray[np.int64]) -> None:
        if len(ids):
            self.index.remove_ids(np.ascontiguousarray(ids, np.int64))

    def ids(self) -> npt.NDArray[np.int64]:
        """Every passage id held, ascending."""
        if self.approximate:
            invlists = self.index.invlists
            parts = [
                faiss.rev_swig_ptr(invlists.get_ids(i), invlists.list_size(i)).copy()
                for i in range(self.index.nlist)
                if invlists.list_size(i)
            ]
            found = np.concatenate(parts) if parts else np.zeros(0, np.int64)
        else:
            found = faiss.vector_to_array(self.index.id_map)
        return np.sort(found.astype(np.int64))

    def search(
        self, query: Vector, k: int, allowed: npt.NDArray[np.int64] | None
    ) -> npt.NDArray[np.int64]:
        """The ids of the ``k`` nearest passages (among ``allowed`` when given)."""
        if self.size == 0 or k <= 0:
            return np.zeros(0, np.int64)
        x = np.ascontiguousarray(query.reshape(1, -1), np.float32)
        if allowed is not None:
            if len(allowed) == 0:
                return np.zeros(0, np.int64)
            if len(allowed) <= EXACT_FILTERED:
                vectors = self.index.reconstruct_batch(allowed)
                order = np.argsort(-(vectors @ query), kind="stable")[:k]
                return allowed[order]
            selector = faiss.IDSelectorBatch(allowed)
            if self.approximate:
                params: Any = _faiss.SearchParametersIVF(sel=selector, nprobe=self.nprobe)
            else:
                params = _faiss.SearchParameters(sel=selector)
            _, found = self.index.search(x, min(k, self.size), params=params)
        elif self.approximate:
            params = _faiss.SearchParametersIVF(nprobe=self.nprobe)
            _, found = self.index.search(x, min(k, self.size), params=params)
        else:
            _, found = self.index.search(x, min(k, self.size))
        return found[0][found[0] >= 0].astype(np.int64)

    def rebuilt(self, ids: npt.NDArray[np.int64], vectors: Matrix) -> _Dense:
        """A new index of these vectors: exact, or IVF above ``approximate_above``."""
        fresh = _Dense(self.dim, self.approximate_above)
        if len(ids) > self.approximate_above:
            nlist = int(min(65_536, max(16, 4 * math.sqrt(len(ids)))))
            quantizer = faiss.IndexFlatIP(self.dim)
            ivf = faiss.IndexIVFFlat(quantizer, self.dim, nlist, faiss.METRIC_INNER_PRODUCT)
            ivf.cp.max_points_per_centroid = 64  # train on a sample: minutes otherwise
            ivf.train(np.ascontiguousarray(vectors, np.float32))
            ivf.set_direct_map_type(_faiss.DirectMap.Hashtable)
            fresh.index = ivf
            fresh.nprobe = max(8, nlist // 16)
        fresh.add(ids, vectors)
        return fresh


class EmbeddedStore:
    """``IndexStore`` on SQLite and FAISS in ``DATA_DIR``. Thread-safe; one writer at a time."""

    def __init__(self, data_dir: Path, approximate_above: int = DEFAULT_APPROXIMATE_ABOVE) -> None:
        self.data_dir = data_dir
        self.path = data_dir / DATABASE
        self.approximate_above = approximate_above
        data_dir.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []  # every thread's, to close them all
        self._write_lock = threading.Lock()  # one writer (SQLite allows no more)
        self._dense_lock = threading.Lock()  # FAISS: searches never overlap an update
        self._dense: _Dense | None = None
        self._reference: tuple[int, Matrix] | None = None
        self._languages: tuple[int, tuple[str, ...]] | None = None
        self._migrate()

    # -- connections ---------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")  # WAL: durable at checkpoints, never corrupt
        db.execute("PRAGMA foreign_keys = OFF")
        return db

    @property
    def _db(self) -> sqlite3.Connection:
        """This thread's connection (SQLite connections are not shared between threads)."""
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = self._connect()
            self._connections.append(db)
        return db

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def _migrate(self) -> None:
        """Bring the schema up to ``SCHEMA_VERSION``, one version per transaction."""
        with self._write_lock, self._transaction() as db:
            exists = db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
            ).fetchone()
            version = 0
            if exists:
                row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
                version = int(row[0]) if row else 0
            if version > SCHEMA_VERSION:
                raise ModelMismatchError(
                    f"the index in {self.path} has schema {version}, this version reads up to "
                    f"{SCHEMA_VERSION}: upgrade the bot, or reindex into another DATA_DIR"
                )
            for script in _SCHEMA[version:]:
                for statement in script.split(";"):
                    if statement.strip():
                        db.execute(statement)
            if version < SCHEMA_VERSION:
                db.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)",
                    (str(SCHEMA_VERSION),),
                )
                db.execute("INSERT OR IGNORE INTO meta VALUES ('generation', '0')")

    def close(self) -> None:
        for db in self._connections:
            db.close()
        self._connections = []
        self._local = threading.local()
        self._dense = None

    # -- what it holds -------------------------------------------------------------------------

    @property
    def location(self) -> str:
        return str(self.path)

    def meta(self) -> StoreMeta | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'store'").fetchone()
        return StoreMeta.from_json(row[0]) if row else None

    def _generation(self) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        return int(row[0])

    def counts(self) -> StoreCounts:
        db = self._db
        articles = db.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
        passages = db.execute("SELECT COUNT(*) FROM passages").fetchone()[0]
        sentences = db.execute("SELECT COALESCE(SUM(sentence_count), 0) FROM passages").fetchone()[
            0
        ]
        size = sum(f.stat().st_size for f in self.data_dir.glob(f"{DATABASE}*") if f.is_file())
        row = db.execute("SELECT value FROM meta WHERE key = 'updated_at'").fetchone()
        updated = row[0] if row else None
        return StoreCounts(articles, passages, sentences, size, updated, self._generation())

    def languages(self) -> tuple[str, ...]:
        generation = self._generation()
        if self._languages is None or self._languages[0] != generation:
            rows = self._db.execute(
                "SELECT lang FROM articles GROUP BY lang ORDER BY SUM(chars) DESC, lang"
            ).fetchall()
            self._languages = (generation, tuple(r[0] for r in rows) or ("fr",))
        return self._languages[1]

    def article(self, article_id: str) -> Article | None:
        row = self._db.execute(
            f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE id = ?", (article_id,)
        ).fetchone()
        return _article(row) if row else None

    def articles(self, ids: Collection[str] | None = None) -> list[Article]:
        db = self._db
        if ids is None:
            return [_article(r) for r in db.execute(f"SELECT {_ARTICLE_COLUMNS} FROM articles")]
        found: list[Article] = []
        for batch in _batches(sorted(set(ids))):
            found.extend(
                _article(r)
                for r in db.execute(
                    f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE id IN ({_marks(len(batch))})",
                    list(batch),
                )
            )
        return found

    def sources(self) -> dict[str, ArticleSource]:
        rows = self._db.execute("SELECT id, sha256, source_path, source_sha256 FROM articles")
        return {r[0]: ArticleSource(r[0], r[1], r[2], r[3]) for r in rows}

    # -- writing -------------------------------------------------------------------------------

    def write(
        self,
        upserts: Iterable[tuple[Article, Sequence[PassageRecord]]],
        deletes: Collection[str] = (),
        *,
        reset: Reset | None = None,
    ) -> None:
        with self._write_lock:
            dense = self._caught_up()
            if reset is None and dense is None:
                raise IndexFailure("the store has no model yet: a first write must reset it")
            dim = reset.meta.dim if reset is not None else dense.dim  # type: ignore[union-attr]
            added: list[npt.NDArray[np.int64]] = []
            added_vectors: list[Matrix] = []
            removed: list[int] = []
            db = self._db
            # Readers (other connections) see the previous state until COMMIT: WAL.
            db.execute("BEGIN IMMEDIATE")
            try:
                generation = self._generation() + 1
                if reset is not None:
                    self._reset(db, reset)
                for article_id in deletes:
                    removed.extend(self._delete_article(db, article_id, generation))
                for article, passages in upserts:
                    removed.extend(self._delete_article(db, article.id, generation))
                    ids, vectors = self._insert_article(db, article, passages, dim)
                    added.append(ids)
                    added_vectors.append(vectors)
                db.execute("UPDATE meta SET value = ? WHERE key = 'generation'", (str(generation),))
                db.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('updated_at', ?)",
                    (datetime.now(UTC).isoformat(timespec="seconds"),),
                )
                self._prune_removed(db, generation)
                fresh = None
                if reset is not None:  # built before the swap, so readers never wait for it
                    fresh = _Dense(dim, self.approximate_above).rebuilt(
                        np.concatenate(added) if added else np.zeros(0, np.int64),
                        np.vstack(added_vectors)
                        if added_vectors
                        else np.zeros((0, dim), np.float32),
                    )
                # The commit and the dense index's update in one critical section: a reader
                # sees the old database and index, or the new ones.
                with self._dense_lock:
                    db.execute("COMMIT")
                    if fresh is not None:
                        dense = fresh
                    else:
                        assert dense is not None
                        dense.remove(np.asarray(removed, np.int64))
                        for ids, vectors in zip(added, added_vectors, strict=True):
                            dense.add(ids, vectors)
                    dense.generation = generation
                    self._dense = dense
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
            if not dense.approximate and dense.size > self.approximate_above:
                self._grow(dense)

    def _prune_removed(self, db: sqlite3.Connection, generation: int) -> None:
        """Keep the log of removals short; a process further behind reloads everything."""
        if generation % 100 == 0:
            oldest = generation - REMOVED_LOG_GENERATIONS
            db.execute("DELETE FROM removed WHERE generation < ?", (oldest,))
            db.execute("INSERT OR REPLACE INTO meta VALUES ('removed_since', ?)", (str(oldest),))

    def _reset(self, db: sqlite3.Connection, reset: Reset) -> None:
        for table in ("articles", "passages", "lexical", "removed", "background"):
            db.execute(f"DELETE FROM {table}")
        db.execute("INSERT OR REPLACE INTO meta VALUES ('store', ?)", (reset.meta.to_json(),))
        db.executemany(
            "INSERT INTO background VALUES (?, ?)",
            [(i, _blob(v)) for i, v in enumerate(reset.background)],
        )

    def _delete_article(
        self, db: sqlite3.Connection, article_id: str, generation: int
    ) -> list[int]:
        ids = [
            r[0] for r in db.execute("SELECT id FROM passages WHERE article_id = ?", (article_id,))
        ]
        for batch in _batches(ids):
            marks = _marks(len(batch))
            db.execute(f"DELETE FROM lexical WHERE rowid IN ({marks})", list(batch))
        db.execute("DELETE FROM passages WHERE article_id = ?", (article_id,))
        db.execute("DELETE FROM articles WHERE id = ?", (article_id,))
        db.executemany("INSERT INTO removed VALUES (?, ?)", [(generation, i) for i in ids])
        return ids

    def _insert_article(
        self,
        db: sqlite3.Connection,
        article: Article,
        passages: Sequence[PassageRecord],
        dim: int,
    ) -> tuple[npt.NDArray[np.int64], Matrix]:
        db.execute(
            f"INSERT INTO articles ({_ARTICLE_COLUMNS}, chars) VALUES ({_marks(14)})",
            (
                article.id,
                article.title,
                article.text,
                article.sha256,
                article.lang,
                article.url,
                article.date,
                article.source_path,
                article.source_sha256,
                article.outlet,
                article.feed,
                json.dumps(list(article.tags), ensure_ascii=False),
                article.published,
                len(article.text),
            ),
        )
        ids = np.zeros(len(passages), np.int64)
        vectors = np.zeros((len(passages), dim), np.float32)
        for n, passage in enumerate(passages):
            if passage.vector.shape != (dim,) or any(
                s.vector.shape != (dim,) for s in passage.sentences
            ):
                raise IndexFailure(f"a vector of {article.id!r} is not of dimension {dim}")
            cursor = db.execute(
                'INSERT INTO passages (article_id, start, "end", vector, sentence_spans,'
                " sentence_vectors, sentence_count) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    article.id,
                    passage.start,
                    passage.end,
                    _blob(passage.vector),
                    json.dumps([[x.start, x.end] for x in passage.sentences]),
                    b"".join(_blob(x.vector) for x in passage.sentences),
                    len(passage.sentences),
                ),
            )
            passage_id = int(cursor.lastrowid or 0)
            db.execute(
                "INSERT INTO lexical (rowid, tokens) VALUES (?, ?)", (passage_id, passage.lexical)
            )
            ids[n] = passage_id
            vectors[n] = passage.vector
        return ids, vectors

    def _grow(self, dense: _Dense) -> None:
        """Past ``approximate_above`` passages an exact index becomes IVF (under the write lock:
        writes wait, readers keep the exact index until the swap)."""
        ids = dense.ids()
        with self._dense_lock:
            vectors = dense.index.reconstruct_batch(ids)
        grown = dense.rebuilt(ids, vectors)
        with self._dense_lock:
            if self._dense is dense:
                grown.generation, grown.max_id = dense.generation, dense.max_id
                self._dense = grown

    # -- the dense index, caught up with the database -------------------------------------------

    def _caught_up(self) -> _Dense | None:
        """The dense index as of the database's current generation (None: no model yet)."""
        meta = self.meta()
        if meta is None:
            return None
        with self._dense_lock:
            generation = self._generation()
            dense = self._dense
            if dense is not None and dense.dim != meta.dim:
                dense = None
            if dense is not None and dense.generation < self._removed_since():
                dense = None  # too far behind: the log of removals no longer reaches back
            if dense is None:
                dense = self._load_dense(meta.dim)
            elif dense.generation != generation:
                self._catch_up(dense)
            dense.generation = generation
            self._dense = dense
            return dense

    def _removed_since(self) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'removed_since'").fetchone()
        return int(row[0]) if row else 0

    def _load_dense(self, dim: int) -> _Dense:
        db = self._db
        count = db.execute("SELECT COUNT(*) FROM passages").fetchone()[0]
        ids = np.zeros(count, np.int64)
        vectors = np.zeros((count, dim), np.float32)
        for n, (passage_id, blob) in enumerate(
            db.execute("SELECT id, vector FROM passages ORDER BY id")
        ):
            if n >= count:
                break
            ids[n] = passage_id
            vectors[n] = _vector(blob)
        dense = _Dense(dim, self.approximate_above).rebuilt(ids, vectors)
        row = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'passages'").fetchone()
        dense.max_id = max(dense.max_id, int(row[0]) if row else 0)
        return dense

    def _catch_up(self, dense: _Dense) -> None:
        """Apply what other processes wrote since ``dense.generation``."""
        db = self._db
        removed = np.array(
            [
                r[0]
                for r in db.execute(
                    "SELECT passage_id FROM removed WHERE generation > ?", (dense.generation,)
                )
            ],
            np.int64,
        )
        dense.remove(removed)
        rows = db.execute(
            "SELECT id, vector FROM passages WHERE id > ? ORDER BY id", (dense.max_id,)
        ).fetchall()
        if rows:
            dense.add(
                np.array([r[0] for r in rows], np.int64), np.vstack([_vector(r[1]) for r in rows])
            )

    def export(self) -> Iterator[tuple[Article, list[PassageRecord]]]:
        dim = self._dim()
        db = self._connect()  # its own connection: the caller may write elsewhere meanwhile
        try:
            for (article_id,) in db.execute("SELECT id FROM articles ORDER BY id").fetchall():
                row = db.execute(
                    f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE id = ?", (article_id,)
                ).fetchone()
                if row is None:
                    continue
                passages = [
                    PassageRecord(
                        start,
                        end,
                        _vector(blob),
                        tokens,
                        tuple(
                            SentenceRecord(s_start, s_end, vector)
                            for (s_start, s_end), vector in zip(
                                json.loads(spans), _vectors(sentence_blob, dim), strict=True
                            )
                        ),
                    )
                    for start, end, blob, tokens, spans, sentence_blob in db.execute(
                        'SELECT p.start, p."end", p.vector, l.tokens, p.sentence_spans,'
                        " p.sentence_vectors FROM passages p JOIN lexical l ON l.rowid = p.id"
                        " WHERE p.article_id = ? ORDER BY p.id",
                        (article_id,),
                    ).fetchall()
                ]
                yield _article(row), passages
        finally:
            db.close()

    def background(self) -> Matrix:
        rows = self._db.execute("SELECT vector FROM background ORDER BY ord").fetchall()
        if not rows:
            return np.zeros((0, self._dim()), np.float32)
        return np.vstack([_vector(r[0]) for r in rows])

    # -- the vector cache ----------------------------------------------------------------------

    @property
    def _cache(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "cache", None)
        if db is None:
            db = sqlite3.connect(self.data_dir / CACHE, timeout=60, check_same_thread=False)
            db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB)")
            db.commit()
            self._local.cache = db
            self._connections.append(db)
        return db

    def cached_vectors(self, keys: Sequence[str], dim: int) -> dict[str, Vector]:
        found: dict[str, Vector] = {}
        for batch in _batches(list(dict.fromkeys(keys))):
            rows = self._cache.execute(
                f"SELECT key, vector FROM vectors WHERE key IN ({_marks(len(batch))})", list(batch)
            )
            for key, blob in rows:
                vector = _vector(blob)
                if vector.shape == (dim,):
                    found[key] = vector
        return found

    def cache_vectors(self, items: Iterable[tuple[str, Vector]]) -> None:
        with self._cache as db:
            db.executemany(
                "INSERT OR REPLACE INTO vectors (key, vector) VALUES (?, ?)",
                [(key, _blob(vector)) for key, vector in items],
            )

    def export_cache(self) -> Iterator[tuple[str, Vector]]:
        db = sqlite3.connect(self.data_dir / CACHE, timeout=60)
        try:
            db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB)")
            for key, blob in db.execute("SELECT key, vector FROM vectors"):
                yield key, _vector(blob)
        finally:
            db.close()

    # -- reading for a question ----------------------------------------------------------------

    def analyse(self, question: str, question_lang: str) -> QueryTerms:
        stems = question_stems(question, question_lang, self.languages())
        tokens = tuple(dict.fromkeys(stem for word in stems for stem in word))
        known: set[str] = set()
        for batch in _batches(tokens):
            known.update(
                r[0]
                for r in self._db.execute(
                    f"SELECT term FROM lexical_vocab WHERE term IN ({_marks(len(batch))})",
                    list(batch),
                )
            )
        return QueryTerms(tokens, coverage(stems, known))

    def candidates(
        self,
        query: Vector,
        terms: QueryTerms | None,
        dense_k: int,
        lexical_k: int,
        filters: Filters | None = None,
    ) -> Candidates:
        dense = self._caught_up()
        if dense is None:
            return Candidates.none(len(query))
        allowed = self._allowed(filters) if filters is not None and not filters.empty else None
        with self._dense_lock:
            dense_ids = dense.search(query, dense_k, allowed)
        match = " OR ".join(f'"{t}"' for t in terms.tokens) if terms and terms.tokens else ""
        lexical: dict[int, float] = {}
        if match and lexical_k > 0:
            lexical = self._lexical_top(match, lexical_k, filters)
        ids = np.array(sorted(set(dense_ids.tolist()) | lexical.keys()), np.int64)
        if match:
            unscored = [int(i) for i in ids if int(i) not in lexical]
            lexical.update(self._lexical_of(match, unscored))
        return self._candidates(ids, lexical, dense.dim)

    def _allowed(self, filters: Filters) -> npt.NDArray[np.int64]:
        where, params = _filter_sql(filters)
        rows = self._db.execute(
            f"SELECT p.id FROM passages p JOIN articles a ON a.id = p.article_id WHERE {where}"
            " ORDER BY p.id",
            params,
        )
        return np.array([r[0] for r in rows], np.int64)

    def _lexical_top(self, match: str, k: int, filters: Filters | None) -> dict[int, float]:
        """The ``k`` best BM25 matches (FTS5's bm25 is negative: lower is better)."""
        sql = "SELECT rowid, -bm25(lexical) FROM lexical WHERE lexical MATCH ?"
        params: list[Any] = [match]
        if filters is not None and not filters.empty:
            where, extra = _filter_sql(filters)
            sql += (
                " AND rowid IN (SELECT p.id FROM passages p JOIN articles a"
                f" ON a.id = p.article_id WHERE {where})"
            )
            params.extend(extra)
        rows = self._db.execute(f"{sql} ORDER BY rank LIMIT ?", [*params, k])
        return {int(r[0]): float(r[1]) for r in rows if r[1] > 0}

    def _lexical_of(self, match: str, ids: list[int]) -> dict[int, float]:
        scores: dict[int, float] = {}
        for batch in _batches(ids):
            rows = self._db.execute(
                "SELECT rowid, -bm25(lexical) FROM lexical WHERE lexical MATCH ?"
                f" AND rowid IN ({_marks(len(batch))})",
                [match, *batch],
            )
            scores.update((int(r[0]), float(r[1])) for r in rows)
        return scores

    def _candidates(
        self, ids: npt.NDArray[np.int64], lexical: dict[int, float], dim: int
    ) -> Candidates:
        rows: dict[int, tuple[Any, ...]] = {}
        for batch in _batches(ids.tolist()):
            for row in self._db.execute(
                f'SELECT id, article_id, start, "end", vector FROM passages'
                f" WHERE id IN ({_marks(len(batch))})",
                list(batch),
            ):
                rows[int(row[0])] = row
        kept = np.array([i for i in ids.tolist() if i in rows], np.int64)  # gone meanwhile
        if not len(kept):
            return Candidates.none(dim)
        found = [rows[int(i)] for i in kept]
        return Candidates(
            ids=kept,
            article_ids=tuple(r[1] for r in found),
            starts=np.array([r[2] for r in found], np.int64),
            ends=np.array([r[3] for r in found], np.int64),
            vectors=np.vstack([_vector(r[4]) for r in found]),
            lexical=np.array([lexical.get(int(i), 0.0) for i in kept], np.float32),
        )

    def sentences(self, passage_ids: Sequence[int]) -> Sentences:
        found: dict[int, tuple[str, bytes]] = {}
        for batch in _batches(list(passage_ids)):
            for passage_id, stored_spans, blob in self._db.execute(
                "SELECT id, sentence_spans, sentence_vectors FROM passages"
                f" WHERE id IN ({_marks(len(batch))})",
                list(batch),
            ):
                found[int(passage_id)] = (stored_spans, blob)
        spans: list[tuple[tuple[int, int], ...]] = []
        blobs: list[bytes] = []
        ptr = np.zeros(len(passage_ids) + 1, np.int64)
        for n, passage_id in enumerate(passage_ids):
            passage_spans, blob = found.get(int(passage_id), ("[]", b""))
            spans.append(tuple((s, e) for s, e in json.loads(passage_spans)))
            blobs.append(blob)
            ptr[n + 1] = ptr[n] + len(spans[-1])
        return Sentences(tuple(spans), _vectors(b"".join(blobs), self._dim()), ptr)

    def _dim(self) -> int:
        meta = self.meta()
        return meta.dim if meta else 0

    def reference_vectors(self) -> Matrix:
        generation = self._generation()
        if self._reference is not None and self._reference[0] == generation:
            return self._reference[1]
        db = self._db
        ids = [r[0] for r in db.execute("SELECT id FROM passages ORDER BY id")]
        sample = ids[:: max(1, len(ids) // REFERENCE_SAMPLE)]
        vectors = list(self.background())
        for batch in _batches(sample):
            vectors.extend(
                _vector(r[0])
                for r in db.execute(
                    f"SELECT vector FROM passages WHERE id IN ({_marks(len(batch))}) ORDER BY id",
                    list(batch),
                )
            )
        matrix = np.vstack(vectors).astype(np.float32) if vectors else np.zeros((0, self._dim()))
        self._reference = (generation, matrix.astype(np.float32))
        return self._reference[1]
