"""The embedded store's lexical leg: BM25 by SQLite's FTS5 over each passage's stems.

Passages are indexed as the stems ``index.retrieval.lexical.passage_tokens`` makes (title and text,
in their article's language); a question matches any of its stems. FTS5 keeps the index on disk,
changes it row by row in the store's transactions, and ranks with BM25 (k1 = 1.2, b = 0.75).

>>> match_any(("abeil", "miel"))
'"abeil" OR "miel"'
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from index.stores.base import Filters
from index.stores.sql import EVERYTHING, SQLITE, filter_sql
from index.stores.sqlite import batches

__all__ = ["best", "document_frequencies", "match_any", "scores"]


def match_any(tokens: Sequence[str]) -> str:
    """An FTS5 query matching passages with any of ``tokens`` ("" for none)."""
    return " OR ".join('"' + token.replace('"', '""') + '"' for token in tokens)


def document_frequencies(db: sqlite3.Connection, tokens: Sequence[str]) -> dict[str, int]:
    """How many passages contain each of ``tokens`` (those that none contains are left out)."""
    found: dict[str, int] = {}
    for batch in batches(list(tokens)):
        found.update(
            (row[0], int(row[1]))
            for row in db.execute(
                f"SELECT term, doc FROM lexical_vocab WHERE term IN ({SQLITE.marks(len(batch))})",
                list(batch),
            )
        )
    return found


def best(db: sqlite3.Connection, match: str, k: int, filters: Filters | None) -> dict[int, float]:
    """The ``k`` best BM25 matches by passage id (FTS5's bm25 is negative: lower is better)."""
    query = "SELECT rowid, -bm25(lexical) FROM lexical WHERE lexical MATCH ?"
    params: list[Any] = [match]
    where, extra = filter_sql(filters, SQLITE)
    if where != EVERYTHING:
        query += (
            " AND rowid IN (SELECT p.id FROM passages p JOIN articles a"
            f" ON a.id = p.article_id WHERE {where})"
        )
        params.extend(extra)
    rows = db.execute(f"{query} ORDER BY rank LIMIT ?", [*params, k])
    return {int(r[0]): float(r[1]) for r in rows if r[1] > 0}


def scores(db: sqlite3.Connection, match: str, ids: Sequence[int]) -> dict[int, float]:
    """The BM25 score of these passages (those that match at all)."""
    found: dict[int, float] = {}
    for batch in batches(list(ids)):
        rows = db.execute(
            "SELECT rowid, -bm25(lexical) FROM lexical WHERE lexical MATCH ?"
            f" AND rowid IN ({SQLITE.marks(len(batch))})",
            [match, *batch],
        )
        found.update((int(r[0]), float(r[1])) for r in rows)
    return found
