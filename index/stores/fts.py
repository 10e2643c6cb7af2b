"""The embedded store's lexical leg: BM25 by SQLite's FTS5 over each passage's stems.

Passages are indexed as the stems ``index.retrieval.lexical.passage_tokens`` makes (title and text,
in their article's language); a question matches any of its stems. FTS5 keeps the index on disk,
changes it row by row in the store's transactions, and ranks with BM25 (k1 = 1.2, b = 0.75).

A question's candidates take one query when its words hold few postings (``ALL_MATCHES_UP_TO``):
every match with its score, the best chosen here (``top``). Above that, two: the best ``k`` by
FTS5's ranking, then the other candidates' scores by id (slow per id: SQLite runs the MATCH
again for each value of a ``rowid IN`` list, ~40 us each).

>>> match_any(("abeil", "miel"))
'"abeil" OR "miel"'
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from operator import itemgetter
from typing import Any

import numpy as np
import numpy.typing as npt

from index.stores.base import Filters
from index.stores.sql import EVERYTHING, SQLITE, filter_sql
from index.stores.sqlite import batches

__all__ = [
    "ALL_MATCHES_UP_TO",
    "best",
    "document_frequencies",
    "match_any",
    "ranked",
    "scores",
    "top",
]

# Up to this many postings (the question's words' passages, summed) every match is read with its
# score in one query (0.5 ms for PIAF's ~115 matches a question, where the two queries of
# ``best`` and ``scores`` took 2.7 ms). Above, the two queries as before: every match would come
# back to Python, sorted there (not measured: at a million passages a question's words hold up
# to 20,000 postings each, ``LEXICAL_MAX_DF``).
ALL_MATCHES_UP_TO = 10_000


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


def ranked(db: sqlite3.Connection, match: str) -> list[tuple[int, float]]:
    """Every passage matching, with its BM25 score, best first as ``ORDER BY rank`` orders them
    (equal scores by passage id)."""
    rows = db.execute(
        "SELECT rowid, -bm25(lexical) FROM lexical WHERE lexical MATCH ?", [match]
    ).fetchall()
    # Two sorts in C, the second stable: by id, then by score (ids unique: no score compared).
    rows.sort()
    rows.sort(key=itemgetter(1), reverse=True)
    return rows


def top(
    matches: Sequence[tuple[int, float]], k: int, allowed: npt.NDArray[np.int64] | None
) -> dict[int, float]:
    """What ``best`` finds, from ``ranked``'s matches: the first ``k`` among the passages
    ``allowed`` (ascending ids; None for all) that score above zero.

    >>> top([(3, 2.0), (1, 1.0), (2, 1.0), (4, 0.0)], 2, None)
    {3: 2.0, 1: 1.0}
    >>> top([(3, 2.0), (1, 1.0), (2, 1.0)], 2, np.array([1, 2], np.int64))
    {1: 1.0, 2: 1.0}
    """
    if allowed is not None:
        ids = np.fromiter((r[0] for r in matches), np.int64, len(matches))
        keep = np.isin(ids, allowed)
        matches = [m for m, kept in zip(matches, keep.tolist(), strict=True) if kept]
    return {i: score for i, score in matches[:k] if score > 0}
