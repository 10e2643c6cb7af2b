"""The embedded store's SQLite side: its schema (with migrations), its write transactions.

What SQLite says as PostgreSQL does (the articles' columns, the filters) is in
``index.stores.sql``; the store (``index.stores.embedded``) does the I/O.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from index.models import Article
from index.stores.base import PassageRecord, unpack_vector, unpack_vectors
from index.stores.sql import (
    ARTICLE_COLUMNS,
    SQLITE,
    article_from_row,
    articles_table,
    stored_version,
)

__all__ = [
    "BATCH",
    "SCHEMA_VERSION",
    "batches",
    "export_articles",
    "immediate",
    "migrate",
]


@contextmanager
def immediate(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``db`` in one write transaction taken at once (``BEGIN IMMEDIATE``: no other writer
    slips in between a read and the write it decides), committed, or rolled back on any error.
    ``db`` is opened with ``isolation_level=None``.

    Every write transaction on SQLite goes through here. The body may ``db.commit()`` before
    the end, to do something at the very moment the change becomes visible (the embedded
    store swaps its dense index then); what it does after that is outside the transaction.
    """
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
        if db.in_transaction:
            db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:  # a failed COMMIT too (the database busy, the disk full)
            db.execute("ROLLBACK")
        raise


BATCH = 500  # ids per "IN (...)" query

SCHEMA = [
    # Version 1.
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    + articles_table(SQLITE)
    + """
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
        version = stored_version(db, str(path), SCHEMA_VERSION, "reindex into another DATA_DIR")
    for script in SCHEMA[version:]:
        for statement in script.split(";"):
            if statement.strip():
                db.execute(statement)
    if version < SCHEMA_VERSION:
        db.execute(
            "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
        )
        db.execute("INSERT OR IGNORE INTO meta VALUES ('generation', '0')")


def batches(items: Sequence[Any], size: int = BATCH) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


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
            PassageRecord.stored(
                start,
                end,
                unpack_vector(passage_blob),
                tokens,
                json.loads(spans),
                unpack_vectors(sentence_blob, dim),
            )
            for start, end, passage_blob, tokens, spans, sentence_blob in db.execute(
                'SELECT p.start, p."end", p.vector, l.tokens, p.sentence_spans,'
                " p.sentence_vectors FROM passages p JOIN lexical l ON l.rowid = p.id"
                " WHERE p.article_id = ? ORDER BY p.id",
                (article_id,),
            ).fetchall()
        ]
        yield article_from_row(row, SQLITE), passages
