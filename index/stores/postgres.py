"""The PostgreSQL store: every bot process with the same ``DATABASE_URL`` serves one collection.

Articles, passages and their sentences are rows; each change is one transaction, so readers in
any process see an article whole or not at all, and a reindex (``reset``) is seen all at once
when it commits. Writers take a transaction-level advisory lock: two admins' changes through two
replicas run one after the other and both are kept.

- **Dense leg**: pgvector, an HNSW index over the passages' normalised vectors with inner
  product (``<#>``), ``hnsw.ef_search`` 400 (or twice what is asked); with filters, pgvector
  0.8's iterative scans (``relaxed_order``) keep reading the graph until enough rows pass, so
  a narrow filter still fills the page.
- **Lexical leg**: a postings table (stem, passage, frequency, passage length) of the same
  Snowball stems as the embedded store's (``index.retrieval.lexical.passage_tokens``: each article
  stemmed in its own language, the question in every language of the collection), ranked by
  BM25 in SQL with SQLite FTS5's formula (k1 = 1.2, b = 0.75), so both backends rank alike.
  A query reads only the postings of its words, from an index that holds them in the order
  of their weight (an index-only scan); without filters, at most ``LEXICAL_TOP_POSTINGS`` of
  each word choose the candidates, which are then scored exactly. Document frequencies
  (``lexical_terms``) and the collection's totals (``meta``) are kept by each write. A
  ``tsvector`` was tried first: BM25 needs each stem's frequency, and unnesting every
  matching passage's tsvector took 263 ms per query at 100,000 passages.
- **Vector cache** by content hash, as in the embedded store: nothing is embedded twice, also
  after ``python -m index migrate``.
- **Schema** versioned in ``meta``; migrations run under a session advisory lock, so replicas
  that start together migrate once.

>>> store = PostgresStore("postgresql://bot:secret@db/articles")  # doctest: +SKIP
>>> store.location  # doctest: +SKIP
'postgresql://bot@db/articles'
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import psycopg
from pgvector.psycopg import register_vector
from psycopg_pool import ConnectionPool

from index.errors import IndexFailure, StorageUnavailableError
from index.models import Article, ArticleSummary
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
    unpack_vectors,
)
from index.stores.sql import (
    ARTICLE_COLUMNS,
    EVERYTHING,
    POSTGRES,
    SUMMARY_COLUMNS,
    article_from_row,
    article_row,
    articles_table,
    filter_sql,
    insert_article,
    stored_version,
    summary_from_row,
)

__all__ = ["PostgresStore", "postings", "public_url"]

# pg_advisory_lock keys: one for migrations, one for writes (any two 64-bit numbers of ours).
_MIGRATE_LOCK = 0x61727469636C6531
_WRITE_LOCK = 0x61727469636C6532
REFERENCE_SAMPLE = 1000
EF_SEARCH = 400  # HNSW candidates per query (python -m bench.scale --database-url)
HNSW_BUILD_MEMORY = "2GB"  # for the one statement that builds the index after a reindex
# Seconds a call waits for a connection (the pool's all busy, or the server cannot be reached)
# before it fails with StorageUnavailableError.
CONNECTION_WAIT = 30.0
BM25_K1, BM25_B = 1.2, 0.75
# Without filters, the lexical leg picks its candidates among each word's best postings only
# (then scores them exactly): a word in 20,000 passages costs 5,000 rows, not 20,000. Exact
# whenever no word is in more passages than this, as in PIAF (python -m bench.scale).
LEXICAL_TOP_POSTINGS = 5_000

SCHEMA = [
    # Version 1.
    """
    CREATE EXTENSION IF NOT EXISTS vector;
    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    """
    + articles_table(POSTGRES)
    + """
    CREATE INDEX articles_outlet ON articles (outlet);
    CREATE INDEX articles_feed ON articles (feed);
    CREATE INDEX articles_published ON articles (published);
    CREATE INDEX articles_tags ON articles USING gin (tags);
    CREATE TABLE passages (
        id BIGSERIAL PRIMARY KEY,
        article_id TEXT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
        start INTEGER NOT NULL,
        "end" INTEGER NOT NULL,
        vector vector NOT NULL,
        tokens TEXT NOT NULL,
        length INTEGER NOT NULL,
        sentence_spans JSONB NOT NULL,
        sentence_vectors BYTEA NOT NULL,
        sentence_count INTEGER NOT NULL
    );
    CREATE INDEX passages_article ON passages (article_id);
    -- The lexical leg: each passage's stems with their frequency (and the passage's length, so
    -- that BM25 reads postings only), and how many passages hold each stem.
    CREATE TABLE lexical_postings (
        term TEXT NOT NULL,
        passage_id BIGINT NOT NULL REFERENCES passages (id) ON DELETE CASCADE,
        tf INTEGER NOT NULL,
        length INTEGER NOT NULL,
        PRIMARY KEY (term, passage_id)
    );
    CREATE INDEX lexical_postings_passage ON lexical_postings (passage_id);
    CREATE TABLE lexical_terms (term TEXT PRIMARY KEY, df INTEGER NOT NULL);
    CREATE TABLE background (ord INTEGER PRIMARY KEY, vector BYTEA NOT NULL);
    CREATE TABLE vector_cache (key TEXT PRIMARY KEY, vector BYTEA NOT NULL);
    """,
    # Version 2: each word's postings in the order of their BM25 weight (at a typical passage
    # length of 50 stems; the exact score is computed afterwards), holding all a query reads,
    # so the query reads the index alone, best postings first (100k passages: the lexical leg
    # 25 ms -> 6 ms p50, most of it heap pages read at random before).
    f"""
    CREATE FUNCTION lexical_impact(tf INTEGER, length INTEGER) RETURNS FLOAT8
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        RETURN tf / (tf + {BM25_K1} * ({1 - BM25_B} + {BM25_B} * length / 50.0));
    CREATE INDEX lexical_postings_impact ON lexical_postings (term, lexical_impact(tf, length) DESC)
        INCLUDE (passage_id, tf, length);
    """,
]
SCHEMA_VERSION = len(SCHEMA)


def public_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    user = f"{parts.username}@" if parts.username else ""
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit(parts._replace(netloc=f"{user}{host}{port}"))


def postings(tokens: str) -> tuple[dict[str, int], int]:
    """Space-separated stems as (stem -> frequency, how many stems).

    >>> postings("abeil miel abeil")
    ({'abeil': 2, 'miel': 1}, 3)
    """
    words = tokens.split()
    return dict(Counter(words)), len(words)


def _vector(value: Any) -> Vector:
    """A pgvector value as a float32 array (pgvector's psycopg adapter gives a ``Vector``)."""
    array = value.to_numpy() if hasattr(value, "to_numpy") else value
    return np.asarray(array, np.float32)


class _Lexical:
    """What some passages hold for the lexical leg: document frequencies, passages, stems."""

    def __init__(self) -> None:
        self.df: Counter[str] = Counter()
        self.passages = 0
        self.tokens = 0

    def add(self, tokens: str, length: int) -> None:
        self.df.update(set(tokens.split()))
        self.passages += 1
        self.tokens += length

    def update(self, other: _Lexical) -> None:
        self.df.update(other.df)
        self.passages += other.passages
        self.tokens += other.tokens

    def subtract(self, other: _Lexical) -> None:
        self.df.subtract(other.df)
        self.passages -= other.passages
        self.tokens -= other.tokens


class PostgresStore:
    """``IndexStore`` on PostgreSQL + pgvector; thread-safe, shared by any number of processes."""

    def __init__(self, url: str, pool_size: int = 8, wait: float = CONNECTION_WAIT) -> None:
        self._url = url
        self.location = public_url(url)
        try:
            with psycopg.connect(url, autocommit=True) as db:
                self._migrate(db)
        except psycopg.OperationalError as exc:
            raise IndexFailure(f"cannot reach the database at {self.location}: {exc}") from exc
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=max(1, pool_size),
            configure=register_vector,
            # A connection is checked as it is handed out (one round trip): after the server
            # restarted, the dead ones are replaced instead of failing a request each.
            check=ConnectionPool.check_connection,
            timeout=wait,
            open=True,
            name="index",
        )
        self._reference: tuple[int, Matrix] | None = None
        self._article_cache = ArticleCache()  # the articles quoted last, for the next answers
        self._background: tuple[int, Matrix] | None = None

    # -- schema ---------------------------------------------------------------------------------

    def _migrate(self, db: psycopg.Connection[Any]) -> None:
        """Bring the schema up to ``SCHEMA_VERSION``, once however many processes start."""
        db.execute("SELECT pg_advisory_lock(%s)", (_MIGRATE_LOCK,))
        try:
            db.execute(
                "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
            )
            version = stored_version(db, self.location, SCHEMA_VERSION, "use another database")
            with db.transaction():
                for script in SCHEMA[version:]:
                    db.execute(script)  # our own constant DDL
                db.execute(
                    "INSERT INTO meta VALUES ('schema_version', %s)"
                    " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (str(SCHEMA_VERSION),),
                )
                for key in ("generation", "passage_count", "token_count"):
                    db.execute(
                        "INSERT INTO meta VALUES (%s, '0') ON CONFLICT (key) DO NOTHING", (key,)
                    )
        finally:
            db.execute("SELECT pg_advisory_unlock(%s)", (_MIGRATE_LOCK,))

    def close(self) -> None:
        self._pool.close()

    @contextlib.contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A connection of the pool; the database unreachable, or lost mid-statement, is
        ``StorageUnavailableError`` (a transaction open on it is rolled back by the server)."""
        try:
            with self._pool.connection() as db:
                yield db
        except psycopg.OperationalError as exc:
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:150]
            raise StorageUnavailableError(
                f"cannot reach the database at {self.location} ({reason}): nothing was changed"
            ) from exc

    # -- what it holds -------------------------------------------------------------------------

    def _one(self, query: str, params: Sequence[Any] = ()) -> Any:
        with self._connection() as db:
            row = db.execute(query, params).fetchone()
        return row[0] if row else None

    def meta(self) -> StoreMeta | None:
        value = self._one("SELECT value FROM meta WHERE key = 'store'")
        return StoreMeta.from_json(value) if value else None

    def _generation(self) -> int:
        return int(self._one("SELECT value FROM meta WHERE key = 'generation'") or 0)

    def counts(self) -> StoreCounts:
        # One statement, one snapshot: never the articles of one state and passages of another.
        with self._connection() as db:
            row = db.execute(
                "SELECT (SELECT COUNT(*) FROM articles), (SELECT COUNT(*) FROM passages),"
                " (SELECT COALESCE(SUM(sentence_count), 0) FROM passages),"
                " pg_database_size(current_database()),"
                " (SELECT value FROM meta WHERE key = 'updated_at'),"
                " (SELECT value FROM meta WHERE key = 'generation')"
            ).fetchone()
        assert row is not None
        return StoreCounts(
            int(row[0]), int(row[1]), int(row[2]), int(row[3]), row[4], int(row[5] or 0)
        )

    def languages(self) -> tuple[str, ...]:
        with self._connection() as db:
            rows = db.execute(
                "SELECT lang FROM articles GROUP BY lang ORDER BY SUM(chars) DESC, lang"
            ).fetchall()
        return tuple(r[0] for r in rows) or ("fr",)

    def article(self, article_id: str) -> Article | None:
        found = self.articles([article_id])
        return found[0] if found else None

    def articles(self, ids: Collection[str] | None = None) -> list[Article]:
        if ids is None:
            with self._connection() as db:
                rows = db.execute(f"SELECT {ARTICLE_COLUMNS} FROM articles").fetchall()
            return [article_from_row(r, POSTGRES) for r in rows]
        generation = self._generation()  # before the rows: a write meanwhile empties the cache
        cached = self._article_cache.get(generation, ids)
        missing = sorted(set(ids) - cached.keys())
        found: list[Article] = []
        if missing:
            where, params = POSTGRES.one_of("id", missing)
            with self._connection() as db:
                rows = db.execute(
                    f"SELECT {ARTICLE_COLUMNS} FROM articles WHERE {where}", params
                ).fetchall()
            found = [article_from_row(r, POSTGRES) for r in rows]
            self._article_cache.put(generation, found)
        return [*cached.values(), *found]

    def sources(self) -> dict[str, ArticleSource]:
        with self._connection() as db:
            rows = db.execute("SELECT id, sha256, source_path, source_sha256 FROM articles")
            return {r[0]: ArticleSource(*r) for r in rows}

    def summaries(self, filters: Filters | None = None) -> list[ArticleSummary]:
        # The texts stay in their TOAST table: no column here needs them.
        where, params = filter_sql(filters, POSTGRES)
        with self._connection() as db:
            rows = db.execute(
                f"SELECT {SUMMARY_COLUMNS} FROM articles a WHERE {where}", params
            ).fetchall()
        return [summary_from_row(r, POSTGRES) for r in rows]

    # -- writing -------------------------------------------------------------------------------

    def write(
        self,
        upserts: Iterable[tuple[Article, Sequence[PassageRecord]]],
        deletes: Collection[str] = (),
        *,
        reset: Reset | None = None,
    ) -> None:
        with self._connection() as db, db.transaction():
            # Writers from every process, one at a time; readers never wait (MVCC).
            db.execute("SELECT pg_advisory_xact_lock(%s)", (_WRITE_LOCK,))
            meta = reset.meta if reset is not None else self._meta_in(db)
            if meta is None:
                raise IndexFailure("the store has no model yet: a first write must reset it")
            if reset is not None:
                self._reset(db, reset)
            change = _Lexical()
            for article_id in deletes:
                change.subtract(self._delete_article_rows(db, article_id))
            for article, passages in upserts:
                change.subtract(self._delete_article_rows(db, article.id))
                change.update(self._insert_article_rows(db, article, passages, meta.dim))
            self._update_terms(db, change)
            if reset is not None:
                # Built once the rows are in: far quicker than growing it row by row; and in
                # memory when it fits (pgvector warns and crawls once the graph outgrows
                # maintenance_work_mem, 64 MB by default: about 100k passages).
                db.execute(f"SET LOCAL maintenance_work_mem = '{HNSW_BUILD_MEMORY}'")
                db.execute(
                    "CREATE INDEX passages_vector ON passages USING hnsw (vector vector_ip_ops)"
                    " WITH (m = 16, ef_construction = 64)"
                )
                # Fresh statistics, or the planner guesses until autovacuum comes by (queries
                # right after a 100k-passage reindex took 169 ms instead of 54).
                db.execute("ANALYZE articles, passages, lexical_postings, lexical_terms")
            db.execute("UPDATE meta SET value = (value::bigint + 1)::text WHERE key = 'generation'")
            db.execute(
                "INSERT INTO meta VALUES ('updated_at', %s)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (datetime.now(UTC).isoformat(timespec="seconds"),),
            )
        if reset is not None:
            # Marks the new pages all-visible, so the lexical leg reads its index alone from the
            # first query on (VACUUM cannot run inside the transaction above).
            with psycopg.connect(self._url, autocommit=True) as db:
                db.execute("VACUUM lexical_postings")

    @staticmethod
    def _meta_in(db: psycopg.Connection[Any]) -> StoreMeta | None:
        row = db.execute("SELECT value FROM meta WHERE key = 'store'").fetchone()
        return StoreMeta.from_json(row[0]) if row else None

    @staticmethod
    def _reset(db: psycopg.Connection[Any], reset: Reset) -> None:
        dim = reset.meta.dim
        db.execute("DELETE FROM lexical_postings")
        db.execute("UPDATE meta SET value = '0' WHERE key IN ('passage_count', 'token_count')")
        db.execute("DELETE FROM passages")
        db.execute("DELETE FROM articles")
        db.execute("DELETE FROM lexical_terms")
        db.execute("DELETE FROM background")
        # The HNSW index needs a fixed dimension: the model's, set anew at each reset (the
        # index is made again once the new rows are in, in ``write``).
        db.execute("DROP INDEX IF EXISTS passages_vector")
        db.execute(f"ALTER TABLE passages ALTER COLUMN vector TYPE vector({int(dim)})")
        db.execute(
            "INSERT INTO meta VALUES ('store', %s)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (reset.meta.to_json(),),
        )
        with db.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO background VALUES (%s, %s)",
                [(i, pack_vectors([v])) for i, v in enumerate(reset.background)],
            )

    @staticmethod
    def _delete_article_rows(db: psycopg.Connection[Any], article_id: str) -> _Lexical:
        """Delete an article and its passages (their postings follow); what they held."""
        rows = db.execute(
            "DELETE FROM passages WHERE article_id = %s RETURNING tokens, length", (article_id,)
        ).fetchall()
        db.execute("DELETE FROM articles WHERE id = %s", (article_id,))
        held = _Lexical()
        for tokens, length in rows:
            held.add(tokens, length)
        return held

    @staticmethod
    def _insert_article_rows(
        db: psycopg.Connection[Any], article: Article, passages: Sequence[PassageRecord], dim: int
    ) -> _Lexical:
        check_dimensions(article, passages, dim)
        db.execute(insert_article(POSTGRES), article_row(article, POSTGRES))
        held = _Lexical()
        rows = []
        for passage in passages:
            held.add(passage.lexical, len(passage.lexical.split()))
            rows.append(
                (
                    article.id,
                    passage.start,
                    passage.end,
                    np.asarray(passage.vector, np.float32),
                    passage.lexical,
                    len(passage.lexical.split()),
                    json.dumps([[s.start, s.end] for s in passage.sentences]),
                    pack_vectors(s.vector for s in passage.sentences),
                    len(passage.sentences),
                )
            )
        with db.cursor() as cursor:
            cursor.executemany(
                'INSERT INTO passages (article_id, start, "end", vector, tokens, length,'
                " sentence_spans, sentence_vectors, sentence_count)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s)",
                rows,
            )
            ids = [
                r[0]
                for r in cursor.execute(
                    "SELECT id FROM passages WHERE article_id = %s ORDER BY id", (article.id,)
                ).fetchall()
            ]
            with cursor.copy(
                "COPY lexical_postings (term, passage_id, tf, length) FROM STDIN"
            ) as copy:
                for passage_id, passage in zip(ids, passages, strict=True):
                    frequencies, length = postings(passage.lexical)
                    for term, tf in frequencies.items():
                        copy.write_row((term, passage_id, tf, length))
        return held

    @staticmethod
    def _update_terms(db: psycopg.Connection[Any], change: _Lexical) -> None:
        """Apply a write's change to the document frequencies and the collection's totals."""
        db.execute(
            "UPDATE meta SET value = (value::bigint + %s)::text WHERE key = 'passage_count'",
            (change.passages,),
        )
        db.execute(
            "UPDATE meta SET value = (value::bigint + %s)::text WHERE key = 'token_count'",
            (change.tokens,),
        )
        changes = sorted((t, n) for t, n in change.df.items() if n)  # sorted: no deadlocks
        if not changes:
            return
        with db.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO lexical_terms VALUES (%s, %s)"
                " ON CONFLICT (term) DO UPDATE SET df = lexical_terms.df + excluded.df",
                changes,
            )
        db.execute("DELETE FROM lexical_terms WHERE df <= 0")

    def export(self) -> Iterator[tuple[Article, list[PassageRecord]]]:
        meta = self.meta()
        dim = meta.dim if meta else 0
        with self._connection() as db:
            ids = [r[0] for r in db.execute("SELECT id FROM articles ORDER BY id").fetchall()]
        for article_id in ids:
            with self._connection() as db:
                row = db.execute(
                    f"SELECT {ARTICLE_COLUMNS} FROM articles WHERE id = %s", (article_id,)
                ).fetchone()
                if row is None:
                    continue
                passages = db.execute(
                    'SELECT start, "end", vector, tokens, sentence_spans, sentence_vectors'
                    " FROM passages WHERE article_id = %s ORDER BY id",
                    (article_id,),
                ).fetchall()
            yield (
                article_from_row(row, POSTGRES),
                [
                    PassageRecord.stored(
                        start, end, _vector(vector), tokens, spans, unpack_vectors(blob, dim)
                    )
                    for start, end, vector, tokens, spans, blob in passages
                ],
            )

    def background(self) -> Matrix:
        # Kept per generation: every question reads it (``search``), only a reset changes it.
        generation = self._generation()
        if self._background is not None and self._background[0] == generation:
            return self._background[1]
        meta = self.meta()
        with self._connection() as db:
            rows = db.execute("SELECT vector FROM background ORDER BY ord").fetchall()
        matrix = unpack_vectors(b"".join(r[0] for r in rows), meta.dim if meta else 0)
        self._background = (generation, matrix)
        return matrix

    # -- the vector cache ----------------------------------------------------------------------

    def cached_vectors(self, keys: Sequence[str], dim: int) -> dict[str, Vector]:
        if not keys:
            return {}
        with self._connection() as db:
            rows = db.execute(
                "SELECT key, vector FROM vector_cache WHERE key = ANY(%s) AND length(vector) = %s",
                (list(keys), 4 * dim),
            ).fetchall()
        return {key: np.frombuffer(blob, np.float32) for key, blob in rows}

    def cache_vectors(self, items: Iterable[tuple[str, Vector]]) -> None:
        rows = [(key, pack_vectors([vector])) for key, vector in items]
        if not rows:
            return
        with self._connection() as db, db.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO vector_cache VALUES (%s, %s)"
                " ON CONFLICT (key) DO UPDATE SET vector = excluded.vector",
                rows,
            )

    def export_cache(self) -> Iterator[tuple[str, Vector]]:
        last = ""
        while True:
            with self._connection() as db:
                rows = db.execute(
                    "SELECT key, vector FROM vector_cache WHERE key > %s ORDER BY key LIMIT 2000",
                    (last,),
                ).fetchall()
            if not rows:
                return
            for key, blob in rows:
                yield key, np.frombuffer(blob, np.float32)
            last = rows[-1][0]

    # -- reading for a question ----------------------------------------------------------------

    def analyse(self, question: str, question_lang: str) -> QueryTerms:
        return query_terms(question, question_lang, self.languages(), self._frequencies)

    def _frequencies(self, tokens: tuple[str, ...]) -> dict[str, int]:
        """How many passages hold each of ``tokens`` (those none holds are left out)."""
        if not tokens:
            return {}
        with self._connection() as db:
            rows = db.execute(
                "SELECT term, df FROM lexical_terms WHERE term = ANY(%s)", (list(tokens),)
            ).fetchall()
        return {r[0]: int(r[1]) for r in rows}

    def candidates(
        self,
        query: Vector,
        terms: QueryTerms | None,
        dense_k: int,
        lexical_k: int,
        filters: Filters | None = None,
    ) -> Candidates:
        dim = len(query)
        where, params = filter_sql(filters, POSTGRES)
        vector = np.asarray(query, np.float32)
        with self._connection() as db, db.transaction():
            ids: set[int] = set()
            if dense_k > 0:
                # 400 candidates: recall@10 0.95 on 100k passages (0.72 with pgvector's 40).
                db.execute(f"SET LOCAL hnsw.ef_search = {max(EF_SEARCH, 2 * int(dense_k))}")
                join = ""
                if where != EVERYTHING:
                    db.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
                    join = "JOIN articles a ON a.id = p.article_id"
                rows = db.execute(
                    f"SELECT p.id FROM passages p {join}"
                    f" WHERE {where} ORDER BY p.vector <#> %s LIMIT %s",
                    [*params, vector, dense_k],
                    binary=True,  # the query vector goes out as binary, not 384 decimals
                ).fetchall()
                ids.update(int(r[0]) for r in rows)
            tokens = list(terms.tokens) if terms is not None else []
            lexical: dict[int, float] = {}
            if tokens and lexical_k > 0:
                lexical = self._bm25(db, tokens, where, params, lexical_k, None)
                ids.update(lexical)
            ordered = sorted(ids)
            if tokens and ordered:
                # Every candidate's exact BM25 (the selection above may read a word's best
                # postings only, and the dense ones were not scored at all).
                lexical = self._bm25(db, tokens, EVERYTHING, [], None, ordered)
            if not ordered:
                return Candidates.none(dim)
            # The passages with their sentences: one query, where search asked again for those.
            found = db.execute(
                'SELECT id, article_id, start, "end", vector, sentence_spans, sentence_vectors'
                " FROM passages WHERE id = ANY(%s) ORDER BY id",
                (ordered,),
                binary=True,  # vectors come back as float arrays, not text to parse
            ).fetchall()
        rows = [(int(r[0]), r[1], r[2], r[3], _vector(r[4])) for r in found]
        sentences = Sentences.gather(
            [r[0] for r in rows], {int(r[0]): (r[5], r[6]) for r in found}, dim
        )
        return Candidates.of(rows, lexical, dim, sentences)

    @staticmethod
    def _bm25(
        db: psycopg.Connection[Any],
        tokens: list[str],
        where: str,
        params: list[Any],
        limit: int | None,
        only: list[int] | None,
    ) -> dict[int, float]:
        """BM25 of the passages matching any token, as FTS5 computes it: the ``limit`` best, or
        those of ``only``. idf = ln((N - n + 0.5) / (n + 0.5)), at least 1e-6."""
        restrict = "AND lp.passage_id = ANY(%s)" if only is not None else ""
        join = (
            ""
            if where == EVERYTHING
            else ("JOIN passages p ON p.id = lp.passage_id JOIN articles a ON a.id = p.article_id")
        )
        postings = "lexical_postings lp JOIN terms t ON t.term = lp.term"
        if where == EVERYTHING and only is None:
            # Each word's best postings only (``LEXICAL_TOP_POSTINGS``, read in index order);
            # the caller scores the chosen passages exactly afterwards.
            postings = f"""terms t CROSS JOIN LATERAL (
                SELECT passage_id, tf, length FROM lexical_postings
                WHERE term = t.term ORDER BY lexical_impact(tf, length) DESC
                LIMIT {LEXICAL_TOP_POSTINGS}) lp"""
        query = f"""
            WITH stats AS (
                SELECT n.value::float8 AS n,
                       GREATEST(t.value::float8 / GREATEST(n.value::float8, 1), 1) AS avgdl
                FROM meta n, meta t WHERE n.key = 'passage_count' AND t.key = 'token_count'
            ),
            terms AS (
                SELECT t.term, GREATEST(LN((s.n - t.df + 0.5) / (t.df + 0.5)), 1e-6) AS idf
                FROM lexical_terms t, stats s WHERE t.term = ANY(%s)
            )
            SELECT lp.passage_id, SUM(t.idf * lp.tf * {BM25_K1 + 1}
                / (lp.tf + {BM25_K1} * ({1 - BM25_B} + {BM25_B} * lp.length / s.avgdl))) AS score
            FROM {postings} {join}, stats s
            WHERE {where} {restrict}
            GROUP BY lp.passage_id ORDER BY score DESC, lp.passage_id
            {"LIMIT %s" if limit is not None else ""}
        """
        args: list[Any] = [tokens, *params]
        if only is not None:
            args.append(only)
        if limit is not None:
            args.append(limit)
        rows = db.execute(query, args).fetchall()
        return {int(r[0]): float(r[1]) for r in rows if r[1] > 0}

    def sentences(self, passage_ids: Sequence[int]) -> Sentences:
        meta = self.meta()
        dim = meta.dim if meta else 0
        with self._connection() as db:
            rows = db.execute(
                "SELECT id, sentence_spans, sentence_vectors FROM passages WHERE id = ANY(%s)",
                ([int(i) for i in passage_ids],),
            ).fetchall()
        return Sentences.gather(passage_ids, {int(r[0]): (r[1], r[2]) for r in rows}, dim)

    def reference_vectors(self) -> Matrix:
        generation = self._generation()
        if self._reference is not None and self._reference[0] == generation:
            return self._reference[1]
        with self._connection() as db:
            total = int(db.execute("SELECT COUNT(*) FROM passages").fetchone()[0])  # type: ignore[index]
            step = max(1, total // REFERENCE_SAMPLE)
            rows = db.execute(
                "SELECT vector FROM (SELECT vector, ROW_NUMBER() OVER (ORDER BY id) - 1 AS n"
                " FROM passages) numbered WHERE n %% %s = 0 ORDER BY n",
                (step,),
            ).fetchall()
        vectors = [*self.background(), *(_vector(r[0]) for r in rows)]
        meta = self.meta()
        matrix = (
            np.vstack(vectors).astype(np.float32)
            if vectors
            else np.zeros((0, meta.dim if meta else 0), np.float32)
        )
        self._reference = (generation, matrix)
        return matrix
