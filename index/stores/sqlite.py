"""The embedded store's SQLite side: its schema (with migrations), and rows to and from values.

Plain functions on plain data; the store (``index.stores.embedded``) does the I/O.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from index.errors import ModelMismatchError
from index.models import Article
from index.stores.base import (
    Filters,
    Matrix,
    PassageRecord,
    SentenceRecord,
    Vector,
    article_fields,
    article_from_values,
)

__all__ = [
    "ARTICLE_COLUMNS",
    "BATCH",
    "SCHEMA_VERSION",
    "article_row",
    "article_values",
    "batches",
    "blob",
    "export_articles",
    "filter_sql",
    "immediate",
    "marks",
    "migrate",
    "vector",
    "vectors",
]


@contextmanager
def immediate(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``db`` in one write transaction taken at once (``BEGIN IMMEDIATE``: no other writer
    slips in between a read and the write it decides), committed, or rolled back on any error.
    ``db`` is opened with ``isolation_level=None``."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


BATCH = 500  # ids per "IN (...)" query

SCHEMA = [
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
    # Version 2: the article list (/sources) read from this index alone. From the table, the
    # columns after ``text`` are reached through its overflow pages: 3,801 articles of 6,000
    # characters took 41 ms for the metadata, most of reading the whole rows.
    """
    CREATE INDEX articles_listing
        ON articles (id, title, lang, url, date, outlet, feed, tags, published, chars);
    """,
]
SCHEMA_VERSION = len(SCHEMA)


def migrate(db: sqlite3.Connection, path: object) -> None:
    """Bring the schema of ``db`` up to ``SCHEMA_VERSION`` (inside the caller's transaction)."""
    exists = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
    ).fetchone()
    version = 0
    if exists:
        row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        version = int(row[0]) if row else 0
    if version > SCHEMA_VERSION:
        raise ModelMismatchError(
            f"the index in {path} has schema {version}, this version reads up to "
            f"{SCHEMA_VERSION}: upgrade the bot, or reindex into another DATA_DIR"
        )
    for script in SCHEMA[version:]:
        for statement in script.split(";"):
            if statement.strip():
                db.execute(statement)
    if version < SCHEMA_VERSION:
        db.execute(
            "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
        )
        db.execute("INSERT OR IGNORE INTO meta VALUES ('generation', '0')")


def blob(vector: Vector) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def vector(blob: bytes) -> Vector:
    return np.frombuffer(blob, dtype=np.float32)


def vectors(blob: bytes, dim: int) -> Matrix:
    """Vectors of dimension ``dim`` stored end to end in one blob."""
    return np.frombuffer(blob, dtype=np.float32).reshape(-1, dim)


def batches(items: Sequence[Any], size: int = BATCH) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def marks(count: int) -> str:
    return ",".join("?" * count)


ARTICLE_COLUMNS = (
    "id, title, text, sha256, lang, url, date, source_path, source_sha256, outlet, feed, tags,"
    " published"
)


def article_row(row: sqlite3.Row | tuple[Any, ...]) -> Article:
    """An article from the values of ``ARTICLE_COLUMNS`` (its tags are stored as JSON)."""
    return article_from_values(row, json.loads(row[11]))


def filter_sql(filters: Filters) -> tuple[str, list[Any]]:
    """A condition on ``articles a`` that lets through what ``filters`` let through."""
    clauses: list[str] = []
    params: list[Any] = []
    for column, values in (
        ("a.id", filters.article_ids),
        ("a.outlet", filters.outlets),
        ("a.feed", filters.feeds),
    ):
        if values is not None:
            clauses.append(f"{column} IN ({marks(len(values))})" if values else "0")
            params.extend(sorted(values))
    if filters.tags is not None:
        clauses.append(
            f"EXISTS (SELECT 1 FROM json_each(a.tags) WHERE value IN ({marks(len(filters.tags))}))"
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


def article_values(article: Article) -> tuple[Any, ...]:
    """An article as the values of ``ARTICLE_COLUMNS``, then its length in characters."""
    values = article_fields(article)
    values[11] = json.dumps(list(article.tags), ensure_ascii=False)
    return (*values, len(article.text))


def export_articles(
    db: sqlite3.Connection, dim: int
) -> Iterator[tuple[Article, list[PassageRecord]]]:
    """Every article with its passages, as written (to copy a store into another)."""
    for (article_id,) in db.execute("SELECT id FROM articles ORDER BY id").fetchall():
        row = db.execute(
            f"SELECT {ARTICLE_COLUMNS} FROM articles WHERE id = ?", (article_id,)
        ).fetchone()
        if row is None:
            continue
        passages = [
            PassageRecord(
                start,
                end,
                vector(passage_blob),
                tokens,
                tuple(
                    SentenceRecord(s_start, s_end, sentence_vector)
                    for (s_start, s_end), sentence_vector in zip(
                        json.loads(spans), vectors(sentence_blob, dim), strict=True
                    )
                ),
            )
            for start, end, passage_blob, tokens, spans, sentence_blob in db.execute(
                'SELECT p.start, p."end", p.vector, l.tokens, p.sentence_spans,'
                " p.sentence_vectors FROM passages p JOIN lexical l ON l.rowid = p.id"
                " WHERE p.article_id = ? ORDER BY p.id",
                (article_id,),
            ).fetchall()
        ]
        yield article_row(row), passages
