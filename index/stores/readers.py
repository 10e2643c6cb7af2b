"""The readers' store: what the chat remembers of its readers (turns, votes, gaps, scopes, the
answers shown), whichever database holds it.

The second storage seam, beside ``IndexStore`` (``index.stores.base``): ``ReaderStore`` is
what the chat needs, and two backends implement it with the same SQL (``index.stores.sql``'s
dialects), checked by one test suite (``tests/index/stores/test_readers.py``):

- ``SqliteReaderStore``: ``DATA_DIR/readers.sqlite``, with the embedded store;
- ``PostgresReaderStore``: tables of the index's PostgreSQL database when ``DATABASE_URL`` is
  set, so that every replica reads what another one wrote.

Either way nothing is lost at a restart, and the index can be rebuilt, reset or migrated
without touching these records (``copy_readers`` moves them).

What is stored about readers, and for how long (``READER_RETENTION_DAYS``, 90 by default).
"Keyed hash" is an HMAC-SHA256 with the readers' key, which is never in the database: it is
``READERS_KEY`` when set, else ``DATA_DIR/readers.key`` (made, mode 0600, on first use;
``index.stores.reader_key``). Without the key the hashes cannot be tied back to an id.

- **turns**: per chat, its last question, the articles its answer quoted and when (for
  follow-up questions), under a keyed hash of the chat id; one row per chat;
- **votes**: per passage (its content hash) and voter (a keyed hash of the user id, another
  hash than the chat's), the latest vote: +1 or -1, the question it was given for, when;
- **gaps**: questions declined or answered only with the closest passages, with the outcome,
  language and time, and no user or chat id; a scoped group's with its scope (``Scope.label``:
  a gap of that part of the collection, which the rest may answer);
- **scopes**: a group's chosen part of the collection (outlets, feeds, tags), under the group's
  id: a group is not a person, and the operator may need to see which group chose what;
- **pages**: the answers shown in a chat (question, quotes), under a keyed hash of the chat
  id, so that their More and Context buttons work on whichever replica receives the press;
- **removals**: an admin's pending ``/remove`` confirmation (the article ids), likewise;
- **uploads**: a document an admin sent without ``/add``, offered with an "Add" button (its
  Telegram file id, name and size), likewise.

>>> store = SqliteReaderStore(Path("/tmp/readers-doctest.sqlite"))  # doctest: +SKIP
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, astuple, dataclass, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from index.errors import ReaderKeyError
from index.stores.reader_key import KEY_FILE, ReaderKey
from index.stores.sql import POSTGRES, SQLITE, Dialect
from index.stores.sqlite import immediate

if TYPE_CHECKING:
    from index.settings import IndexSettings

__all__ = [
    "KEY_FILE",
    "SCHEMA_VERSION",
    "Gap",
    "PostgresReaderStore",
    "ReaderStore",
    "Scope",
    "SqliteReaderStore",
    "Turn",
    "Vote",
    "copy_readers",
    "now_iso",
    "open_reader_store",
    "open_readers",
]

# 2: votes keyed by (passage, voter); chat ids keyed-hashed; the key out of the database;
# /remove confirmations. 3: gaps keep the scope they were asked in; documents offered with
# "Add" (a new table, made where missing). Older tables (1: no "schema" row) are upgraded in
# place at open.
SCHEMA_VERSION = 3


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
    scope: str = ""  # the scoped group's ``Scope.label``; "" for the whole collection


@dataclass(frozen=True, slots=True)
class Scope:
    """The part of the collection a group sees; an empty field does not restrict."""

    outlets: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.outlets or self.feeds or self.tags)

    @property
    def label(self) -> str:
        """Its values in one line ("Le Journal, transport"), as a gap records it."""
        return ", ".join((*self.outlets, *self.feeds, *self.tags))


@runtime_checkable
class ReaderStore(Protocol):
    """Turns, votes, gaps, scopes and the answers shown, shared by every replica.

    Every call is one transaction. Chat and user ids go in as Telegram gives them and are
    stored as keyed hashes (``index.stores.reader_key``), but a group's scope, kept under the
    group's id. Times are ISO 8601 UTC strings (``now_iso``), compared as text.
    """

    # -- readers' pseudonyms ------------------------------------------------------------------

    def voter_key(self, user_id: int) -> str:
        """A reader's pseudonym for votes: the same on every replica, no id inside."""
        ...

    # -- follow-ups ---------------------------------------------------------------------------

    def remember(self, turn: Turn) -> None:
        """Keep ``turn`` as its chat's last question (replacing the one before)."""
        ...

    def last_turn(self, chat_id: int) -> Turn | None:
        """The chat's last question kept, or None."""
        ...

    # -- votes --------------------------------------------------------------------------------

    def vote(self, vote: Vote) -> None:
        """A reader's vote on a passage; voting again on it (for any question) replaces it."""
        ...

    def votes(self, passages: Sequence[str], since: str, per_passage: int = 100) -> list[Vote]:
        """The votes on ``passages`` (content hashes) since ``since``: each passage's
        ``per_passage`` latest, so that an answer costs the same however many are kept."""
        ...

    def disliked(self, since: str, limit: int = 10_000) -> list[tuple[str, str, int]]:
        """(question, passage, net votes) of the answers readers rated down since ``since``,
        the ``limit`` lowest first."""
        ...

    # -- gaps ---------------------------------------------------------------------------------

    def record_gap(self, gap: Gap) -> None:
        """Keep a question the articles declined or answered only with the closest passages."""
        ...

    def gaps(self, since: str, limit: int = 10_000) -> list[Gap]:
        """The ``limit`` latest gaps since ``since``, oldest first."""
        ...

    # -- groups' scopes -----------------------------------------------------------------------

    def set_scope(self, chat_id: int, scope: Scope) -> None:
        """Narrow a group to ``scope``; an empty scope gives it the whole collection again."""
        ...

    def scope(self, chat_id: int) -> Scope:
        """The group's scope (empty: the whole collection)."""
        ...

    # -- what buttons come back to, on any replica ---------------------------------------------

    def put_page(self, chat_id: int, key: str, payload: str, at: str, keep: int) -> None:
        """An answer as shown (``payload``: ``index.chat.session``'s JSON) under ``key``, for its
        More and Context buttons; the chat keeps its ``keep`` latest (older buttons expire)."""
        ...

    def get_page(self, chat_id: int, key: str) -> str | None:
        """The payload kept under ``key`` for this chat, or None (never kept, or expired)."""
        ...

    def swap_page(self, chat_id: int, key: str, expected: str, new: str) -> bool:
        """Replace a page if it is still ``expected`` (of two presses at once, one wins);
        True when it was replaced."""
        ...

    def ask_removal(self, chat_id: int, key: str, article_id: str, at: str, keep: int) -> None:
        """A ``/remove`` waiting for its Yes or Cancel under ``key`` (``article_id``: the ids,
        space-separated); the chat keeps its ``keep`` latest."""
        ...

    def take_removal(self, chat_id: int, key: str) -> str | None:
        """The articles of a pending removal, once: of two presses (on any replica), one gets
        them, the other None."""
        ...

    def offer_upload(self, chat_id: int, key: str, document: str, at: str, keep: int) -> None:
        """A document offered to add under ``key`` (``document``: the caller's JSON); the chat
        keeps its ``keep`` latest."""
        ...

    def take_upload(self, chat_id: int, key: str) -> str | None:
        """An offered document, once: of two presses (on any replica), one gets it."""
        ...

    # -- retention ----------------------------------------------------------------------------

    def purge(self, before: str) -> int:
        """Forget turns, votes, gaps, pages, removals and uploads older than ``before`` (scopes
        stay); how many rows went."""
        ...

    def close(self) -> None: ...


def now_iso(moment: datetime | None = None) -> str:
    moment = moment or datetime.now(UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def days_ago(days: float, moment: datetime | None = None) -> str:
    return now_iso((moment or datetime.now(UTC)) - timedelta(days=days))


# Every table with its columns, in the order ``copy_readers`` reads and writes them.
_COLUMNS = {
    "reader_turns": ("chat", "question", "article_ids", "at"),
    "reader_votes": ("passage", "voter", "question", "value", "at"),
    "reader_gaps": ("question", "outcome", "lang", "at", "scope"),
    "reader_scopes": ("chat_id", "scope"),
    "reader_pages": ("chat", "key", "payload", "at"),
    "reader_removals": ("chat", "key", "article_id", "at"),
    "reader_uploads": ("chat", "key", "document", "at"),
}
# One row per reader and passage: voting again (for any question) replaces it.
_VOTES = (
    "CREATE TABLE IF NOT EXISTS reader_votes (passage TEXT NOT NULL, voter TEXT NOT NULL,"
    " question TEXT NOT NULL, value INTEGER NOT NULL, at TEXT NOT NULL,"
    " PRIMARY KEY (passage, voter))"
)
_TABLES = [
    "CREATE TABLE IF NOT EXISTS reader_turns (chat TEXT PRIMARY KEY, question TEXT NOT NULL,"
    " article_ids TEXT NOT NULL, at TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS reader_turns_at ON reader_turns (at)",
    _VOTES,
    "CREATE INDEX IF NOT EXISTS reader_votes_passage_at ON reader_votes (passage, at)",
    "CREATE INDEX IF NOT EXISTS reader_votes_at ON reader_votes (at)",
    "CREATE TABLE IF NOT EXISTS reader_gaps (question TEXT NOT NULL, outcome TEXT NOT NULL,"
    " lang TEXT NOT NULL, at TEXT NOT NULL, scope TEXT NOT NULL DEFAULT '')",
    "CREATE INDEX IF NOT EXISTS reader_gaps_at ON reader_gaps (at)",
    "CREATE TABLE IF NOT EXISTS reader_scopes (chat_id {big} PRIMARY KEY, scope TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS reader_pages (chat TEXT NOT NULL, key TEXT NOT NULL,"
    " payload TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY (chat, key))",
    "CREATE INDEX IF NOT EXISTS reader_pages_at ON reader_pages (at)",
    "CREATE TABLE IF NOT EXISTS reader_removals (chat TEXT NOT NULL, key TEXT NOT NULL,"
    " article_id TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY (chat, key))",
    "CREATE INDEX IF NOT EXISTS reader_removals_at ON reader_removals (at)",
    # A new table of version 3: made where it is missing, no upgrade step.
    "CREATE TABLE IF NOT EXISTS reader_uploads (chat TEXT NOT NULL, key TEXT NOT NULL,"
    " document TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY (chat, key))",
    "CREATE INDEX IF NOT EXISTS reader_uploads_at ON reader_uploads (at)",
]
# Version 1 to 2, in the transaction that opens the store. Votes keep each reader's latest
# on a passage (the old key let one reader add a row per question). Turns and pages are
# dropped: they held chat ids in the clear, and they are short-lived (a follow-up within
# minutes, the buttons of answers shown): after the upgrade a follow-up is read as a new
# question and the More and Context of earlier answers say they expired.
_UPGRADE_1_TO_2 = [
    "DROP INDEX IF EXISTS reader_votes_at",
    "ALTER TABLE reader_votes RENAME TO reader_votes_v1",
    _VOTES,
    "INSERT INTO reader_votes (passage, voter, question, value, at)"
    " SELECT passage, voter, question, value, at FROM (SELECT passage, voter, question, value,"
    " at, ROW_NUMBER() OVER (PARTITION BY passage, voter ORDER BY at DESC, question) AS n"
    " FROM reader_votes_v1) AS ranked WHERE n = 1",
    "DROP TABLE reader_votes_v1",
    "DROP TABLE IF EXISTS reader_turns",
    "DROP TABLE IF EXISTS reader_pages",
]
# Version 2 to 3: the gaps asked before were asked of the whole collection or of an unknown
# scope; they keep "" (the whole collection).
_UPGRADE_2_TO_3 = ["ALTER TABLE reader_gaps ADD COLUMN scope TEXT NOT NULL DEFAULT ''"]


def _columns(record: type) -> str:
    """A record's fields as the columns of its table, in its order (a row is its values)."""
    return ", ".join(f.name for f in fields(record))


class _SqlReaderStore:
    """``ReaderStore`` in SQL, written once for both backends: ``_dialect`` says a statement
    in each, ``_db`` gives a connection in a transaction."""

    _dialect: Dialect = SQLITE

    def __init__(self, key: ReaderKey) -> None:
        self._key = key

    @contextmanager
    def _db(self) -> Iterator[Any]:
        raise NotImplementedError
        yield

    def _lock_schema(self, db: Any) -> None:
        """Keep two processes from upgrading at once (SQLite: BEGIN IMMEDIATE does)."""

    # -- statements, in this backend's dialect -------------------------------------------------

    def _execute(self, statement: str, params: Sequence[Any] = ()) -> int:
        """Run one statement in its own transaction; how many rows it changed."""
        with self._db() as db:
            return int(db.execute(self._dialect.sql(statement), params).rowcount)

    def _one(self, statement: str, params: Sequence[Any] = ()) -> Any:
        """The first row of a query (or of a statement ``RETURNING`` values), or None."""
        with self._db() as db:
            return db.execute(self._dialect.sql(statement), params).fetchone()

    def _all(self, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._db() as db:
            return list(db.execute(self._dialect.sql(statement), params).fetchall())

    # -- schema ---------------------------------------------------------------------------------

    def _meta(self, db: Any, name: str) -> str | None:
        row = db.execute(
            self._dialect.sql("SELECT value FROM reader_meta WHERE key = ?"), (name,)
        ).fetchone()
        return None if row is None else str(row[0])

    def _set_meta(self, db: Any, name: str, value: str) -> None:
        db.execute(
            self._dialect.sql(
                "INSERT INTO reader_meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE"
                " SET value = excluded.value"
            ),
            (name, value),
        )

    def _init(self) -> None:
        """Create or upgrade the tables, and check the key against the one they were made with."""
        big = self._dialect.big_integer
        with self._db() as db:
            self._lock_schema(db)
            db.execute(
                "CREATE TABLE IF NOT EXISTS reader_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
            )
            version = self._meta(db, "schema")
            old_key = self._meta(db, "voter_key")  # version 1 kept the key in the database
            check = self._meta(db, "key_check")
            self._key.load(adopt=old_key, expected_check=check)
            # Version 1 had no "schema" row but kept its key; a new database has neither.
            found = int(version) if version is not None else (1 if old_key is not None else None)
            if found == 1:
                for statement in _UPGRADE_1_TO_2:
                    db.execute(statement.format(big=big))
            if found in (1, 2):
                for statement in _UPGRADE_2_TO_3:
                    db.execute(statement)
            if found is not None and found > SCHEMA_VERSION:
                raise ReaderKeyError(
                    f"the readers' tables are of a newer version ({version}) than this bot"
                    f" ({SCHEMA_VERSION}): run the newer bot"
                )
            for statement in _TABLES:
                db.execute(statement.format(big=big))
            db.execute(self._dialect.sql("DELETE FROM reader_meta WHERE key = ?"), ("voter_key",))
            self._set_meta(db, "schema", str(SCHEMA_VERSION))
            self._set_meta(db, "key_check", self._key.check)

    # -- ReaderStore ------------------------------------------------------------------------------

    def voter_key(self, user_id: int) -> str:
        return self._key.voter(user_id)

    def remember(self, turn: Turn) -> None:
        self._execute(
            "INSERT INTO reader_turns (chat, question, article_ids, at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (chat) DO UPDATE SET question = excluded.question,"
            " article_ids = excluded.article_ids, at = excluded.at",
            (
                self._key.chat(turn.chat_id),
                turn.question,
                json.dumps(list(turn.article_ids)),
                turn.at,
            ),
        )

    def last_turn(self, chat_id: int) -> Turn | None:
        row = self._one(
            "SELECT question, article_ids, at FROM reader_turns WHERE chat = ?",
            (self._key.chat(chat_id),),
        )
        if row is None:
            return None
        question, article_ids, at = row
        return Turn(chat_id, question, tuple(json.loads(article_ids)), at)

    def vote(self, vote: Vote) -> None:
        self._execute(
            f"INSERT INTO reader_votes ({_columns(Vote)}) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (passage, voter) DO UPDATE SET"
            " question = excluded.question, value = excluded.value, at = excluded.at",
            astuple(vote),
        )

    def votes(self, passages: Sequence[str], since: str, per_passage: int = 100) -> list[Vote]:
        rows: list[Any] = []
        statement = self._dialect.sql(
            f"SELECT {_columns(Vote)} FROM reader_votes"
            " WHERE passage = ? AND at >= ? ORDER BY at DESC LIMIT ?"
        )
        with self._db() as db:
            for passage in dict.fromkeys(passages):
                rows += db.execute(statement, (passage, since, per_passage)).fetchall()
        return [Vote(*row) for row in rows]

    def record_gap(self, gap: Gap) -> None:
        self._execute(
            f"INSERT INTO reader_gaps ({_columns(Gap)}) VALUES (?, ?, ?, ?, ?)", astuple(gap)
        )

    def gaps(self, since: str, limit: int = 10_000) -> list[Gap]:
        rows = self._all(
            f"SELECT {_columns(Gap)} FROM reader_gaps WHERE at >= ? ORDER BY at DESC LIMIT ?",
            (since, limit),
        )
        return [Gap(*row) for row in reversed(rows)]

    def disliked(self, since: str, limit: int = 10_000) -> list[tuple[str, str, int]]:
        rows = self._all(
            "SELECT question, passage, SUM(value) FROM reader_votes WHERE at >= ?"
            " GROUP BY question, passage HAVING SUM(value) < 0"
            " ORDER BY SUM(value), question, passage LIMIT ?",
            (since, limit),
        )
        return [(question, passage, int(net)) for question, passage, net in rows]

    def set_scope(self, chat_id: int, scope: Scope) -> None:
        if scope.empty:
            self._execute("DELETE FROM reader_scopes WHERE chat_id = ?", (chat_id,))
            return
        self._execute(
            "INSERT INTO reader_scopes (chat_id, scope) VALUES (?, ?)"
            " ON CONFLICT (chat_id) DO UPDATE SET scope = excluded.scope",
            (chat_id, json.dumps(asdict(scope), ensure_ascii=False)),
        )

    def scope(self, chat_id: int) -> Scope:
        row = self._one("SELECT scope FROM reader_scopes WHERE chat_id = ?", (chat_id,))
        if row is None:
            return Scope()
        return Scope(**{name: tuple(values) for name, values in json.loads(row[0]).items()})

    def put_page(self, chat_id: int, key: str, payload: str, at: str, keep: int) -> None:
        self._put("reader_pages", "payload", chat_id, key, payload, at, keep)

    def get_page(self, chat_id: int, key: str) -> str | None:
        row = self._one(
            "SELECT payload FROM reader_pages WHERE chat = ? AND key = ?",
            (self._key.chat(chat_id), key),
        )
        return None if row is None else str(row[0])

    def swap_page(self, chat_id: int, key: str, expected: str, new: str) -> bool:
        changed = self._execute(
            "UPDATE reader_pages SET payload = ? WHERE chat = ? AND key = ? AND payload = ?",
            (new, self._key.chat(chat_id), key, expected),
        )
        return changed == 1

    def ask_removal(self, chat_id: int, key: str, article_id: str, at: str, keep: int) -> None:
        self._put("reader_removals", "article_id", chat_id, key, article_id, at, keep)

    def take_removal(self, chat_id: int, key: str) -> str | None:
        return self._take("reader_removals", "article_id", chat_id, key)

    def offer_upload(self, chat_id: int, key: str, document: str, at: str, keep: int) -> None:
        self._put("reader_uploads", "document", chat_id, key, document, at, keep)

    def take_upload(self, chat_id: int, key: str) -> str | None:
        return self._take("reader_uploads", "document", chat_id, key)

    def _take(self, table: str, column: str, chat_id: int, key: str) -> str | None:
        """A value kept per chat and key, deleted as it is read: once, whoever asks first."""
        row = self._one(
            f"DELETE FROM {table} WHERE chat = ? AND key = ? RETURNING {column}",
            (self._key.chat(chat_id), key),
        )
        return None if row is None else str(row[0])

    def _put(
        self, table: str, column: str, chat_id: int, key: str, value: str, at: str, keep: int
    ) -> None:
        """Keep a value per chat and key; the chat keeps its ``keep`` latest."""
        chat = self._key.chat(chat_id)
        with self._db() as db:
            db.execute(
                self._dialect.sql(
                    f"INSERT INTO {table} (chat, key, {column}, at) VALUES (?, ?, ?, ?)"
                ),
                (chat, key, value, at),
            )
            db.execute(
                self._dialect.sql(
                    f"DELETE FROM {table} WHERE chat = ? AND key NOT IN (SELECT key FROM"
                    f" {table} WHERE chat = ? ORDER BY at DESC, key LIMIT ?)"
                ),
                (chat, chat, keep),
            )

    def purge(self, before: str) -> int:
        gone = 0
        with self._db() as db:
            for table in _COLUMNS:
                if table != "reader_scopes":
                    statement = self._dialect.sql(f"DELETE FROM {table} WHERE at < ?")
                    gone += db.execute(statement, (before,)).rowcount
        return gone

    # -- copying between backends -----------------------------------------------------------------

    @property
    def key_check(self) -> str:
        """What tells this store's key from another (never the key)."""
        return self._key.check

    def dump(self, table: str) -> list[tuple[Any, ...]]:
        """Every row of one of the readers' tables (``copy_readers``)."""
        columns = ", ".join(_COLUMNS[table])
        return [tuple(r) for r in self._all(f"SELECT {columns} FROM {table}")]

    def replace_all(self, tables: dict[str, list[tuple[Any, ...]]]) -> None:
        """Replace the content of the given tables, in one transaction."""
        with self._db() as db:
            for table, rows in tables.items():
                columns = _COLUMNS[table]
                db.execute(f"DELETE FROM {table}")
                statement = self._dialect.sql(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES"
                    f" ({', '.join('?' for _ in columns)})"
                )
                if rows:
                    db.cursor().executemany(statement, rows)


class SqliteReaderStore(_SqlReaderStore):
    """``ReaderStore`` in a SQLite file (WAL); thread-safe, one transaction at a time."""

    def __init__(self, path: Path, key: ReaderKey | None = None) -> None:
        """``key``: by default ``readers.key`` beside the database, made on first use."""
        super().__init__(key or ReaderKey(path.parent / KEY_FILE))
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
        with self._lock, immediate(self._connection) as db:
            yield db

    def close(self) -> None:
        self._connection.close()


class PostgresReaderStore(_SqlReaderStore):
    """``ReaderStore`` in tables of a PostgreSQL database, shared by every replica."""

    _dialect = POSTGRES

    def __init__(self, url: str, key: ReaderKey) -> None:
        """``key``: the same on every replica (a shared DATA_DIR's file, or READERS_KEY)."""
        from psycopg_pool import ConnectionPool

        super().__init__(key)
        self._pool = ConnectionPool(url, min_size=1, max_size=4, open=True, name="readers")
        try:
            self._init()
        except BaseException:
            self._pool.close()
            raise

    @contextmanager
    def _db(self) -> Iterator[Any]:
        with self._pool.connection() as db, db.transaction():
            yield db

    def _lock_schema(self, db: Any) -> None:
        db.execute("SELECT pg_advisory_xact_lock(hashtext('reader_schema'))")

    def close(self) -> None:
        self._pool.close()


def open_reader_store(
    data_dir: Path, database_url: str | None, key: str | None = None
) -> ReaderStore:
    """PostgreSQL when ``database_url`` is given, else ``DATA_DIR/readers.sqlite``; keyed by
    ``key`` (READERS_KEY) when given, else by ``DATA_DIR/readers.key``."""
    reader_key = ReaderKey(data_dir / KEY_FILE, key)
    if database_url:
        return PostgresReaderStore(database_url, reader_key)
    return SqliteReaderStore(data_dir / "readers.sqlite", reader_key)


def open_readers(settings: IndexSettings) -> ReaderStore:
    """The readers' store of these settings (DATA_DIR, DATABASE_URL, READERS_KEY)."""
    url, key = settings.database_url, settings.readers_key
    return open_reader_store(
        settings.data_dir,
        url.get_secret_value() if url else None,
        key.get_secret_value() if key else None,
    )


def copy_readers(source: _SqlReaderStore, target: _SqlReaderStore) -> dict[str, int]:
    """Replace ``target``'s readers' records with ``source``'s (one transaction): scopes,
    votes, gaps, and the turns, pages and removals, which stay valid under the same key.
    How many rows of each table were copied."""
    if source.key_check != target.key_check:
        raise ReaderKeyError(
            "the two readers' stores have different keys: give both the same READERS_KEY"
        )
    tables = {table: source.dump(table) for table in _COLUMNS}
    target.replace_all(tables)
    return {table: len(rows) for table, rows in tables.items()}
