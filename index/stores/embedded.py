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
import sqlite3
import threading
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt

from index.errors import IndexFailure
from index.models import Article, ArticleSummary
from index.stores import fts
from index.stores.article_cache import ArticleCache
from index.stores.base import (
    ArticleSource,
    Candidates,
    Filters,
    Matrix,
    PassageRecord,
    QueryTerms,
    Reset,
    Sentences,
    StoreCounts,
    StoreMeta,
    Vector,
    check_dimensions,
    pack_vectors,
    query_terms,
    unpack_vector,
    unpack_vectors,
)
from index.stores.dense import DenseIndex, catch_up, load_dense
from index.stores.sql import (
    ARTICLE_COLUMNS,
    EVERYTHING,
    SQLITE,
    SUMMARY_COLUMNS,
    article_from_row,
    article_row,
    filter_sql,
    insert_article,
    summary_from_row,
)
from index.stores.sqlite import batches, export_articles, immediate, migrate
from index.stores.vector_cache import SqliteVectorCache

__all__ = ["DEFAULT_APPROXIMATE_ABOVE", "EmbeddedStore"]

DATABASE = "index.sqlite"
CACHE = "embeddings.sqlite"
DEFAULT_APPROXIMATE_ABOVE = 250_000
REFERENCE_SAMPLE = 1000
REMOVED_LOG_GENERATIONS = 10_000  # how far back another process can catch up change by change


class EmbeddedStore:
    """``IndexStore`` on SQLite and FAISS in ``DATA_DIR``. Thread-safe; one writer at a time."""

    def __init__(self, data_dir: Path, approximate_above: int = DEFAULT_APPROXIMATE_ABOVE) -> None:
        self.data_dir = data_dir
        self.path = data_dir / DATABASE
        self.approximate_above = approximate_above
        data_dir.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []  # every thread's, to close them all
        self._cache = SqliteVectorCache(data_dir / CACHE)
        self._write_lock = threading.Lock()  # one writer (SQLite allows no more)
        self._dense_lock = threading.Lock()  # FAISS: searches never overlap an update
        self._dense: DenseIndex | None = None
        self._reference: tuple[int, Matrix] | None = None
        self._background: tuple[int, Matrix] | None = None
        self._languages: tuple[int, tuple[str, ...]] | None = None
        self._article_cache = ArticleCache()  # the articles quoted last, for the next answers
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

    def _transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return immediate(self._db)

    def _migrate(self) -> None:
        """Bring the schema up to ``SCHEMA_VERSION`` in one transaction."""
        with self._write_lock, self._transaction() as db:
            migrate(db, self.path)

    def close(self) -> None:
        self._cache.close()
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
        found = self.articles([article_id])
        return found[0] if found else None

    def articles(self, ids: Collection[str] | None = None) -> list[Article]:
        db = self._db
        if ids is None:
            rows = db.execute(f"SELECT {ARTICLE_COLUMNS} FROM articles")
            return [article_from_row(r, SQLITE) for r in rows]
        generation = self._generation()  # before the rows: a write meanwhile empties the cache
        cached = self._article_cache.get(generation, ids)
        found: list[Article] = []
        for batch in batches(sorted(set(ids) - cached.keys())):
            where, params = SQLITE.one_of("id", batch)
            rows = db.execute(f"SELECT {ARTICLE_COLUMNS} FROM articles WHERE {where}", params)
            found.extend(article_from_row(r, SQLITE) for r in rows)
        self._article_cache.put(generation, found)
        return [*cached.values(), *found]

    def sources(self) -> dict[str, ArticleSource]:
        rows = self._db.execute("SELECT id, sha256, source_path, source_sha256 FROM articles")
        return {r[0]: ArticleSource(*r) for r in rows}

    def summaries(self, filters: Filters | None = None) -> list[ArticleSummary]:
        where, params = filter_sql(filters, SQLITE)
        rows = self._db.execute(f"SELECT {SUMMARY_COLUMNS} FROM articles a WHERE {where}", params)
        return [summary_from_row(r, SQLITE) for r in rows]

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
            # Readers (other connections) see the previous state until the commit: WAL.
            with self._transaction() as db:
                generation = self._generation() + 1
                if reset is not None:
                    self._reset(db, reset)
                for article_id in deletes:
                    removed.extend(self._delete_article_rows(db, article_id, generation))
                for article, passages in upserts:
                    removed.extend(self._delete_article_rows(db, article.id, generation))
                    ids, vectors = self._insert_article_rows(db, article, passages, dim)
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
                    fresh = DenseIndex(dim, self.approximate_above).rebuilt(
                        np.concatenate(added) if added else np.zeros(0, np.int64),
                        np.vstack(added_vectors)
                        if added_vectors
                        else np.zeros((0, dim), np.float32),
                    )
                # The commit and the dense index's update in one critical section: a reader
                # sees the old database and index, or the new ones.
                with self._dense_lock:
                    db.commit()
                    if fresh is not None:
                        dense = fresh
                    else:
                        assert dense is not None
                        dense.remove(np.asarray(removed, np.int64))
                        for ids, vectors in zip(added, added_vectors, strict=True):
                            dense.add(ids, vectors)
                    dense.generation = generation
                    self._dense = dense
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
            [(i, pack_vectors([v])) for i, v in enumerate(reset.background)],
        )

    def _delete_article_rows(
        self, db: sqlite3.Connection, article_id: str, generation: int
    ) -> list[int]:
        ids = [
            r[0] for r in db.execute("SELECT id FROM passages WHERE article_id = ?", (article_id,))
        ]
        for batch in batches(ids):
            db.execute(f"DELETE FROM lexical WHERE rowid IN ({SQLITE.marks(len(batch))})", batch)
        db.execute("DELETE FROM passages WHERE article_id = ?", (article_id,))
        db.execute("DELETE FROM articles WHERE id = ?", (article_id,))
        db.executemany("INSERT INTO removed VALUES (?, ?)", [(generation, i) for i in ids])
        return ids

    def _insert_article_rows(
        self,
        db: sqlite3.Connection,
        article: Article,
        passages: Sequence[PassageRecord],
        dim: int,
    ) -> tuple[npt.NDArray[np.int64], Matrix]:
        check_dimensions(article, passages, dim)
        db.execute(insert_article(SQLITE), article_row(article, SQLITE))
        ids = np.zeros(len(passages), np.int64)
        vectors = np.zeros((len(passages), dim), np.float32)
        for n, passage in enumerate(passages):
            cursor = db.execute(
                'INSERT INTO passages (article_id, start, "end", vector, sentence_spans,'
                " sentence_vectors, sentence_count) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    article.id,
                    passage.start,
                    passage.end,
                    pack_vectors([passage.vector]),
                    json.dumps([[x.start, x.end] for x in passage.sentences]),
                    pack_vectors(x.vector for x in passage.sentences),
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

    def _grow(self, dense: DenseIndex) -> None:
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

    def _caught_up(self) -> DenseIndex | None:
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
                dense = load_dense(self._db, meta.dim, self.approximate_above)
            elif dense.generation != generation:
                catch_up(dense, self._db)
            dense.generation = generation
            self._dense = dense
            return dense

    def _removed_since(self) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'removed_since'").fetchone()
        return int(row[0]) if row else 0

    def export(self) -> Iterator[tuple[Article, list[PassageRecord]]]:
        dim = self._dim()
        db = self._connect()  # its own connection: the caller may write elsewhere meanwhile
        try:
            yield from export_articles(db, dim)
        finally:
            db.close()

    def background(self) -> Matrix:
        # Kept per generation: every question reads it (``search``), only a reset changes it.
        generation = self._generation()
        if self._background is not None and self._background[0] == generation:
            return self._background[1]
        rows = self._db.execute("SELECT vector FROM background ORDER BY ord").fetchall()
        matrix = (
            np.vstack([unpack_vector(r[0]) for r in rows]).astype(np.float32)
            if rows
            else np.zeros((0, self._dim()), np.float32)
        )
        self._background = (generation, matrix)
        return matrix

    # -- the vector cache (its own file: it outlives any index) ------------------------------------

    def cached_vectors(self, keys: Sequence[str], dim: int) -> dict[str, Vector]:
        return self._cache.get_many(keys, dim)

    def cache_vectors(self, items: Iterable[tuple[str, Vector]]) -> None:
        self._cache.put_many(items)

    def export_cache(self) -> Iterator[tuple[str, Vector]]:
        return self._cache.export()

    # -- reading for a question ----------------------------------------------------------------

    def analyse(self, question: str, question_lang: str) -> QueryTerms:
        return query_terms(
            question,
            question_lang,
            self.languages(),
            lambda tokens: fts.document_frequencies(self._db, tokens),
        )

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
        allowed = self._allowed(filters)
        with self._dense_lock:
            dense_ids = dense.search(query, dense_k, allowed)
        match = fts.match_any(terms.tokens) if terms is not None else ""
        lexical: dict[int, float] = {}
        postings = terms.postings if terms is not None else None
        few = postings is not None and postings <= fts.ALL_MATCHES_UP_TO
        matches = fts.ranked(self._db, match) if match and few else None
        if match and lexical_k > 0:
            lexical = (
                fts.top(matches, lexical_k, allowed)
                if matches is not None
                else fts.best(self._db, match, lexical_k, filters)
            )
        ids = np.array(sorted(set(dense_ids.tolist()) | lexical.keys()), np.int64)
        if match:
            unscored = [int(i) for i in ids if int(i) not in lexical]
            if matches is not None:
                scores = dict(matches)
                lexical.update((i, scores[i]) for i in unscored if i in scores)
            else:
                lexical.update(fts.scores(self._db, match, unscored))
        return self._candidates(ids, lexical, dense.dim)

    def _allowed(self, filters: Filters | None) -> npt.NDArray[np.int64] | None:
        """The passages ``filters`` let through, ascending; None when they filter nothing."""
        where, params = filter_sql(filters, SQLITE)
        if where == EVERYTHING:
            return None
        rows = self._db.execute(
            f"SELECT p.id FROM passages p JOIN articles a ON a.id = p.article_id WHERE {where}"
            " ORDER BY p.id",
            params,
        )
        return np.array([r[0] for r in rows], np.int64)

    def _candidates(
        self, ids: npt.NDArray[np.int64], lexical: dict[int, float], dim: int
    ) -> Candidates:
        """The passages ``ids`` (ascending) with their sentences, in one query (their spans left
        as JSON text: ``Sentences`` decodes only those a search quotes)."""
        rows: list[tuple[int, str, int, int, bytes, str, bytes]] = []
        for batch in batches(ids.tolist()):
            # In the order of ``ids``, but those written away meanwhile.
            rows.extend(
                self._db.execute(
                    'SELECT id, article_id, start, "end", vector, sentence_spans,'
                    f" sentence_vectors FROM passages WHERE id IN ({SQLITE.marks(len(batch))})"
                    " ORDER BY id",
                    batch,
                )
            )
        if not rows:
            return Candidates.none(dim)
        found, article_ids, starts, ends, vectors, spans, sentence_vectors = zip(*rows, strict=True)
        return Candidates(
            ids=np.array(found, np.int64),
            article_ids=article_ids,
            starts=np.array(starts, np.int64),
            ends=np.array(ends, np.int64),
            vectors=unpack_vectors(b"".join(vectors), dim),
            lexical=np.array([lexical.get(i, 0.0) for i in found], np.float32),
            sentences=Sentences.of(spans, sentence_vectors, dim),
        )

    def sentences(self, passage_ids: Sequence[int]) -> Sentences:
        found: dict[int, tuple[str, bytes]] = {}
        for batch in batches(list(passage_ids)):
            for passage_id, stored_spans, blob in self._db.execute(
                "SELECT id, sentence_spans, sentence_vectors FROM passages"
                f" WHERE id IN ({SQLITE.marks(len(batch))})",
                list(batch),
            ):
                found[int(passage_id)] = (stored_spans, blob)
        return Sentences.gather(passage_ids, found, self._dim())

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
        for batch in batches(sample):
            rows = db.execute(
                f"SELECT vector FROM passages WHERE id IN ({SQLITE.marks(len(batch))}) ORDER BY id",
                batch,
            )
            vectors.extend(unpack_vector(r[0]) for r in rows)
        matrix = np.vstack(vectors).astype(np.float32) if vectors else np.zeros((0, self._dim()))
        self._reference = (generation, matrix.astype(np.float32))
        return self._reference[1]
