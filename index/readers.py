"""What the chat remembers of its readers: conversation turns, feedback, gaps, group scopes.

Kept beside the index, in the same kind of storage: ``DATA_DIR/readers.sqlite`` with the
embedded store, tables of the same PostgreSQL database when ``DATABASE_URL`` is set, so that
every replica reads what another one wrote and nothing is lost at a restart.

What is stored about readers, and for how long (``READER_RETENTION_DAYS``, 90 by default):

- **turns**: per chat, its last question, the articles its answer quoted and when (for
  follow-up questions); one row per chat, replaced at each question;
- **votes**: a question (its text), the passage's content hash, +1 or -1, when, and a keyed
  hash of the voter (HMAC with a random key made for this installation, never the user id)
  so that one reader's repeated votes count once;
- **gaps**: questions declined or answered only with the closest passages, with the outcome,
  language and time, and no user or chat id;
- **scopes**: a group's chosen part of the collection (outlets, feeds, tags);
- **pages**: the answers shown in a chat (question, quotes), so that their More and Context
  buttons work on whichever replica receives the press.

>>> store = SqliteReaderStore(Path("/tmp/readers-doctest.sqlite"))  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

__all__ = [
    "Gap",
    "PostgresReaderStore",
    "ReaderStore",
    "Scope",
    "SqliteReaderStore",
    "Turn",
    "Vote",
    "now_iso",
    "open_reader_store",
]


@dataclass(frozen=True, slots=True)
class Turn:
    """A chat's last question: its subject (a follow-up's is joined to the question before),
    the articles its answer quoted, and when (ISO 8601 UTC)."""

    chat_id: int
    question: str
    article_ids: tuple[str, ...]
    at: str


@dataclass(frozen=True, slots=True)
class Vote:
    question: str
    passage: str  # sha256 of the passage's text: it survives reindexing
    value: int  # +1 or -1
    voter: str  # keyed hash of the reader, never the id
    at: str


@dataclass(frozen=True, slots=True)
class Gap:
    question: str
    outcome: str  # "declined" or "closest"
    lang: str
    at: str


@dataclass(frozen=True, slots=True)
class Scope:
    """The part of the collection a group sees; an empty field does not restrict."""

    outlets: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.outlets or self.feeds or self.tags)


class ReaderStore(Protocol):
    def voter_key(self, user_id: int) -> str: ...
    def remember(self, turn: Turn) -> None: ...
    def last_turn(self, chat_id: int) -> Turn | None: ...
    def vote(self, vote: Vote) -> None: ...
    def votes(self, passages: Sequence[str], since: str) -> list[Vote]: ...
    def record_gap(self, gap: Gap) -> None: ...
    def gaps(self, since: str) -> list[Gap]: ...
    def disliked(self, since: str) -> list[tuple[str, str, int]]: ...
    def set_scope(self, chat_id: int, scope: Scope) -> None: ...
    def scope(self, chat_id: int) -> Scope: ...
    def put_page(self, chat_id: int, key: str, payload: str, at: str, keep: int) -> None: ...
    def get_page(self, chat_id: int, key: str) -> str | None: ...
    def swap_page(self, chat_id: int, key: str, expected: str, new: str) -> bool: ...
    def purge(self, before: str) -> int: ...
    def close(self) -> None: ...


def now_iso(moment: datetime | None = None) -> str:
    moment = moment or datetime.now(UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def days_ago(days: float, moment: datetime | None = None) -> str:
    return now_iso((moment or datetime.now(UTC)) - timedelta(days=days))


_TABLES = [
    "CREATE TABLE IF NOT EXISTS reader_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS reader_turns (chat_id {big} PRIMARY KEY, question TEXT NOT NULL,"
    " article_ids TEXT NOT NULL, at TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS reader_votes (question TEXT NOT NULL, passage TEXT NOT NULL,"
    " value INTEGER NOT NULL, voter TEXT NOT NULL, at TEXT NOT NULL,"
    " PRIMARY KEY (passage, voter, question))",
    "CREATE INDEX IF NOT EXISTS reader_votes_at ON reader_votes (at)",
    "CREATE TABLE IF NOT EXISTS reader_gaps (question TEXT NOT NULL, outcome TEXT NOT NULL,"
    " lang TEXT NOT NULL, at TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS reader_gaps_at ON reader_gaps (at)",
    "CREATE TABLE IF NOT EXISTS reader_scopes (chat_id {big} PRIMARY KEY, scope TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS reader_pages (chat_id {big} NOT NULL, key TEXT NOT NULL,"
    " payload TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY (chat_id, key))",
    "CREATE INDEX IF NOT EXISTS reader_pages_at ON reader_pages (at)",
]


class _SqlReaderStore:
    """The SQL both backends share; ``_db`` gives a connection in a transaction."""

    _placeholder = "?"

    def _sql(self, statement: str) -> str:
        return statement.replace("?", self._placeholder)

    @contextmanager
    def _db(self) -> Iterator[Any]:
        raise NotImplementedError
        yield

    def _init(self) -> None:
        with self._db() as db:
            for statement in _TABLES:
                db.execute(statement.format(big=self._big))
            row = db.execute(
                self._sql("SELECT value FROM reader_meta WHERE key = ?"), ("voter_key",)
            ).fetchone()
            if row is None:
                db.execute(
                    self._sql("INSERT INTO reader_meta VALUES (?, ?) ON CONFLICT (key) DO NOTHING"),
                    ("voter_key", secrets.token_hex(32)),
                )
                row = db.execute(
                    self._sql("SELECT value FROM reader_meta WHERE key = ?"), ("voter_key",)
                ).fetchone()
        self._voter_key = bytes.fromhex(row[0])

    _big = "INTEGER"
    _voter_key = b""

    def voter_key(self, user_id: int) -> str:
        """A reader's pseudonym for votes: the same for every replica, no id inside."""
        return hmac.new(self._voter_key, str(user_id).encode(), hashlib.sha256).hexdigest()[:32]

    def remember(self, turn: Turn) -> None:
        with self._db() as db:
            db.execute(
                self._sql(
                    "INSERT INTO reader_turns VALUES (?, ?, ?, ?) ON CONFLICT (chat_id) DO UPDATE"
                    " SET question = excluded.question, article_ids = excluded.article_ids,"
                    " at = excluded.at"
                ),
                (turn.chat_id, turn.question, json.dumps(list(turn.article_ids)), turn.at),
            )

    def last_turn(self, chat_id: int) -> Turn | None:
        with self._db() as db:
            row = db.execute(
                self._sql("SELECT question, article_ids, at FROM reader_turns WHERE chat_id = ?"),
                (chat_id,),
            ).fetchone()
        if row is None:
            return None
        return Turn(chat_id, row[0], tuple(json.loads(row[1])), row[2])

    def vote(self, vote: Vote) -> None:
        """One reader's vote on a passage for a question; voting again replaces it."""
        with self._db() as db:
            db.execute(
                self._sql(
                    "INSERT INTO reader_votes VALUES (?, ?, ?, ?, ?) ON CONFLICT"
                    " (passage, voter, question) DO UPDATE SET value = excluded.value,"
                    " at = excluded.at"
                ),
                (vote.question, vote.passage, vote.value, vote.voter, vote.at),
            )

    def votes(self, passages: Sequence[str], since: str) -> list[Vote]:
        if not passages:
            return []
        marks = ", ".join("?" for _ in passages)
        with self._db() as db:
            rows = db.execute(
                self._sql(
                    "SELECT question, passage, value, voter, at FROM reader_votes"
                    f" WHERE passage IN ({marks}) AND at >= ?"
                ),
                (*passages, since),
            ).fetchall()
        return [Vote(r[0], r[1], int(r[2]), r[3], r[4]) for r in rows]

    def record_gap(self, gap: Gap) -> None:
        with self._db() as db:
            db.execute(
                self._sql("INSERT INTO reader_gaps VALUES (?, ?, ?, ?)"),
                (gap.question, gap.outcome, gap.lang, gap.at),
            )

    def gaps(self, since: str) -> list[Gap]:
        with self._db() as db:
            rows = db.execute(
                self._sql("SELECT question, outcome, lang, at FROM reader_gaps WHERE at >= ?"),
                (since,),
            ).fetchall()
        return [Gap(*r) for r in rows]

    def disliked(self, since: str) -> list[tuple[str, str, int]]:
        """(question, passage, net votes) of the answers readers rated down since ``since``."""
        with self._db() as db:
            rows = db.execute(
                self._sql(
                    "SELECT question, passage, SUM(value) FROM reader_votes WHERE at >= ?"
                    " GROUP BY question, passage HAVING SUM(value) < 0 ORDER BY SUM(value)"
                ),
                (since,),
            ).fetchall()
        return [(r[0], r[1], int(r[2])) for r in rows]

    def set_scope(self, chat_id: int, scope: Scope) -> None:
        with self._db() as db:
            if scope.empty:
                db.execute(self._sql("DELETE FROM reader_scopes WHERE chat_id = ?"), (chat_id,))
                return
            value = json.dumps(
                {"outlets": scope.outlets, "feeds": scope.feeds, "tags": scope.tags},
                ensure_ascii=False,
            )
            db.execute(
                self._sql(
                    "INSERT INTO reader_scopes VALUES (?, ?) ON CONFLICT (chat_id) DO UPDATE"
                    " SET scope = excluded.scope"
                ),
                (chat_id, value),
            )

    def scope(self, chat_id: int) -> Scope:
        with self._db() as db:
            row = db.execute(
                self._sql("SELECT scope FROM reader_scopes WHERE chat_id = ?"), (chat_id,)
            ).fetchone()
        if row is None:
            return Scope()
        value = json.loads(row[0])
        return Scope(tuple(value["outlets"]), tuple(value["feeds"]), tuple(value["tags"]))

    def put_page(self, chat_id: int, key: str, payload: str, at: str, keep: int) -> None:
        """An answer as shown (``index.session``), for its More and Context buttons; the
        chat keeps its ``keep`` latest (older buttons say the answer expired)."""
        with self._db() as db:
            db.execute(
                self._sql("INSERT INTO reader_pages VALUES (?, ?, ?, ?)"),
                (chat_id, key, payload, at),
            )
            db.execute(
                self._sql(
                    "DELETE FROM reader_pages WHERE chat_id = ? AND key NOT IN (SELECT key FROM"
                    " reader_pages WHERE chat_id = ? ORDER BY at DESC, key LIMIT ?)"
                ),
                (chat_id, chat_id, keep),
            )

    def get_page(self, chat_id: int, key: str) -> str | None:
        with self._db() as db:
            row = db.execute(
                self._sql("SELECT payload FROM reader_pages WHERE chat_id = ? AND key = ?"),
                (chat_id, key),
            ).fetchone()
        return None if row is None else str(row[0])

    def swap_page(self, chat_id: int, key: str, expected: str, new: str) -> bool:
        """Replace a page if it is still ``expected`` (of two presses at once, one wins)."""
        with self._db() as db:
            changed = db.execute(
                self._sql(
                    "UPDATE reader_pages SET payload = ? WHERE chat_id = ? AND key = ?"
                    " AND payload = ?"
                ),
                (new, chat_id, key, expected),
            ).rowcount
        return changed == 1

    def purge(self, before: str) -> int:
        """Forget turns, votes, gaps and pages older than ``before``; how many rows went."""
        gone = 0
        with self._db() as db:
            for table in ("reader_turns", "reader_votes", "reader_gaps", "reader_pages"):
                gone += db.execute(
                    self._sql(f"DELETE FROM {table} WHERE at < ?"), (before,)
                ).rowcount
        return gone


class SqliteReaderStore(_SqlReaderStore):
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._connection.execute("PRAGMA journal_mode=WAL")
        # A crash may lose the last turns or votes, never corrupt them; FULL cost 0.6 ms of
        # fsync per question here, NORMAL 0.06.
        self._connection.execute("PRAGMA synchronous=NORMAL")
        self._connection.execute("PRAGMA busy_timeout=5000")
        self._lock = threading.Lock()
        self._init()

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._connection.execute("BEGIN IMMEDIATE")
            try:
                yield self._connection
            except BaseException:
                self._connection.execute("ROLLBACK")
                raise
            self._connection.execute("COMMIT")

    def close(self) -> None:
        self._connection.close()


class PostgresReaderStore(_SqlReaderStore):
    _placeholder = "%s"
    _big = "BIGINT"

    def __init__(self, url: str) -> None:
        from psycopg_pool import ConnectionPool

        self._pool = ConnectionPool(url, min_size=1, max_size=4, open=True, name="readers")
        self._init()

    @contextmanager
    def _db(self) -> Iterator[Any]:
        with self._pool.connection() as db, db.transaction():
            yield db

    def close(self) -> None:
        self._pool.close()


def open_reader_store(data_dir: Path, database_url: str | None) -> ReaderStore:
    """PostgreSQL when ``database_url`` is given, else ``DATA_DIR/readers.sqlite``."""
    if database_url:
        return PostgresReaderStore(database_url)
    return SqliteReaderStore(data_dir / "readers.sqlite")
