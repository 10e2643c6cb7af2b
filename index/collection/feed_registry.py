"""The feeds' state on disk: subscriptions, their health, the entries each has tried, and what
they added since the admins' last note, in ``DATA_DIR/feeds.sqlite``.

Why SQLite rather than the JSON file it replaces (``feeds.json``, every feed's ``seen`` keys in
one document rewritten at each save): a poll saves its progress after each entry, and a feed
remembers up to 12,000 keys, so a save cost the whole registry (200 feeds: 33 MB, 2.7 s per
entry). Here an entry's save is one transaction that updates its feed's row, adds one key and
counts it for the note: its cost is the change's, whatever the number of feeds
(``python -m bench.feeds --registry``). The three move together or not at all, so no crash
leaves an article counted but not seen; SQLite is in the standard library, and its journal
makes each write atomic without temporary files. Per-feed files, appended to and compacted,
would have needed the same guarantees by hand, and a second file for the note's counters.

Replicas share ``DATA_DIR``: every operation holds the registry's file lock (``feeds.lock``,
read-modify-write across processes; SQLite's own locking guards each statement), and one
process at a time runs a round of polls (``polling``). A ``feeds.json`` of the first format is
read into the database at the first use, then renamed ``feeds.json.migrated``.

>>> import tempfile
>>> registry = FeedRegistry(Path(tempfile.mkdtemp()))
>>> feed, created = registry.add("https://journal.example/rss.xml")
>>> (feed.id, created, registry.seen(feed.id))
('562aa298', True, ())
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from index.ingest.fetch import check_url
from index.reasons import Reason, ReasonError
from index.stores.sqlite import immediate

__all__ = [
    "MAX_FEEDS",
    "NOTE_TITLES",
    "Feed",
    "FeedError",
    "FeedNews",
    "FeedRegistry",
    "Tried",
    "feed_id",
    "now_iso",
]

MAX_FEEDS = 200
NOTE_TITLES = 5  # titles of added articles kept per feed for the admins' note (the latest)

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS feeds (id TEXT PRIMARY KEY, position INTEGER NOT NULL,"
    " state TEXT NOT NULL)",
    # The keys of entries tried, in the order the feed gave them (position).
    "CREATE TABLE IF NOT EXISTS seen (feed_id TEXT NOT NULL, key TEXT NOT NULL,"
    " position INTEGER NOT NULL, PRIMARY KEY (feed_id, key)) WITHOUT ROWID",
    # What each feed did since the last note to the admins.
    "CREATE TABLE IF NOT EXISTS news (feed_id TEXT PRIMARY KEY, added INTEGER NOT NULL,"
    " titles TEXT NOT NULL, skipped INTEGER NOT NULL, last_skipped TEXT)",
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
)


class FeedError(ReasonError):
    """A feed could not be read; ``reason`` says why."""


@dataclass(frozen=True, slots=True)
class Feed:
    """One subscription and its health."""

    id: str
    url: str
    title: str = ""
    etag: str | None = None
    last_modified: str | None = None
    created_at: str = ""
    last_poll_at: str | None = None
    last_success_at: str | None = None
    last_error: str | None = None
    last_error_at: str | None = None
    added: int = 0
    skipped: int = 0  # entries that could not become articles, ever
    last_skipped: str | None = None  # the last of them, with why
    last_skipped_at: str | None = None


@dataclass(frozen=True, slots=True)
class Tried:
    """One entry tried by a poll: its key, and the title it was added as or why it was not."""

    key: str
    added: str | None = None  # the article's title
    skipped: str | None = None  # the line of the feed's health that says why


@dataclass(frozen=True, slots=True)
class FeedNews:
    """What one feed did since the admins' last note."""

    feed_id: str
    name: str  # its title, else its URL
    added: int
    titles: tuple[str, ...]  # the latest NOTE_TITLES added
    skipped: int
    last_skipped: str | None


_FEED_FIELDS = frozenset(f.name for f in fields(Feed))


def feed_id(url: str) -> str:
    """A short stable id for a feed URL (what ``/feeds remove ID`` takes)."""
    return hashlib.sha256(url.encode()).hexdigest()[:8]


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class FeedRegistry:
    """The subscriptions in ``DATA_DIR/feeds.sqlite``; every change is written at once.

    Replicas that share ``DATA_DIR`` share the subscriptions: each change holds a file lock
    (``feeds.lock``) across processes, and one process at a time runs a round of polls
    (``polling``).
    """

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.path = data_dir / "feeds.sqlite"
        self.legacy = data_dir / "feeds.json"
        self._lock = threading.Lock()
        # One connection, used under the lock: opening one per call cost a checkpoint (an
        # fsync) at each close, 16 ms per entry saved.
        self._db: sqlite3.Connection | None = None

    # -- locks and connections -------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self) -> Iterator[sqlite3.Connection]:
        """This process's turn and the file lock, and a connection to the database."""
        with self._lock:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            with open(self.data_dir / "feeds.lock", "a") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                try:
                    if self._db is None:
                        db = self._connect()
                        try:
                            self._migrate(db)
                        except BaseException:
                            db.close()
                            raise
                        self._db = db
                    yield self._db
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._locked() as db, immediate(db):
            yield db

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def _connect(self) -> sqlite3.Connection:
        try:
            db = sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")  # WAL: durable at checkpoints, never torn
        except sqlite3.DatabaseError as exc:
            raise FeedError(
                Reason("feeds_file", {"file": self.path.name, "error": str(exc)})
            ) from exc
        return db

    @contextlib.contextmanager
    def polling(self) -> Iterator[bool]:
        """True when this process may poll the feeds now; False while another process (a
        replica on the same ``DATA_DIR``) or another round here is at it."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.data_dir / "feeds.polling", "a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # -- reading ---------------------------------------------------------------------------------

    def all(self) -> list[Feed]:
        with self._locked() as db:
            rows = db.execute("SELECT state FROM feeds ORDER BY position").fetchall()
        return [_feed(row[0]) for row in rows]

    def get(self, id_: str) -> Feed | None:
        with self._locked() as db:
            row = db.execute("SELECT state FROM feeds WHERE id = ?", (id_,)).fetchone()
        return _feed(row[0]) if row else None

    def seen(self, id_: str) -> tuple[str, ...]:
        """The keys of the entries this feed has tried (``poll_feed``'s ``seen``)."""
        with self._locked() as db:
            return _seen(db, id_)

    # -- changing --------------------------------------------------------------------------------

    def add(self, url: str) -> tuple[Feed, bool]:
        """Subscribe to ``url`` (checked as ``/add URL`` checks it); False when it already was."""
        url = check_url(url.strip())
        with self._transaction() as db:
            found = next((f for f in map(_feed, _states(db)) if f.url == url), None)
            if found is not None:
                return found, False
            count, last = db.execute("SELECT COUNT(*), MAX(position) FROM feeds").fetchone()
            if count >= MAX_FEEDS:
                raise FeedError(Reason("too_many_feeds", {"count": MAX_FEEDS}))
            feed = Feed(id=feed_id(url), url=url, created_at=now_iso())
            db.execute(
                "INSERT INTO feeds VALUES (?, ?, ?)", (feed.id, (last or 0) + 1, _state(feed))
            )
            return feed, True

    def remove(self, id_: str) -> Feed | None:
        with self._transaction() as db:
            row = db.execute("SELECT state FROM feeds WHERE id = ?", (id_,)).fetchone()
            for table, column in (("feeds", "id"), ("seen", "feed_id"), ("news", "feed_id")):
                db.execute(f"DELETE FROM {table} WHERE {column} = ?", (id_,))  # our own names
        return _feed(row[0]) if row else None

    def save(self, feed: Feed, seen: Sequence[str] | None = None) -> None:
        """Store a feed's health and, when given, the keys it remembers (in the feed's order:
        those tried of a poll that read the feed), unless it was removed meanwhile."""
        with self._transaction() as db:
            updated = db.execute(
                "UPDATE feeds SET state = ? WHERE id = ?", (_state(feed), feed.id)
            ).rowcount
            if updated and seen is not None and tuple(seen) != _seen(db, feed.id):
                db.execute("DELETE FROM seen WHERE feed_id = ?", (feed.id,))
                _insert_seen(db, feed.id, seen)

    def record(self, feed: Feed, tried: Tried) -> None:
        """One entry tried, in one step: the feed's health, its key seen, and what it did
        counted for the admins' note (unless the feed was removed meanwhile)."""
        with self._transaction() as db:
            if not db.execute(
                "UPDATE feeds SET state = ? WHERE id = ?", (_state(feed), feed.id)
            ).rowcount:
                return
            _insert_seen(db, feed.id, [tried.key])
            if tried.added is None and tried.skipped is None:
                return
            row = db.execute(
                "SELECT added, titles, skipped, last_skipped FROM news WHERE feed_id = ?",
                (feed.id,),
            ).fetchone()
            added, titles, skipped, last_skipped = row or (0, "[]", 0, None)
            if tried.added is not None:
                added += 1
                titles = json.dumps([*json.loads(titles), tried.added][-NOTE_TITLES:])
            if tried.skipped is not None:
                skipped, last_skipped = skipped + 1, tried.skipped
            db.execute(
                "INSERT OR REPLACE INTO news VALUES (?, ?, ?, ?, ?)",
                (feed.id, added, titles, skipped, last_skipped),
            )

    # -- the admins' note ------------------------------------------------------------------------

    def take_news(self) -> tuple[str | None, list[FeedNews]]:
        """What the feeds did since the last note, and when that was (None: never); the
        counters start again from zero. Taken in one transaction under the lock: of replicas
        sending the note at the same time, one gets the news, the others nothing."""
        with self._transaction() as db:
            rows = db.execute(
                "SELECT n.feed_id, f.state, n.added, n.titles, n.skipped, n.last_skipped"
                " FROM news n JOIN feeds f ON f.id = n.feed_id ORDER BY f.position"
            ).fetchall()
            since = db.execute("SELECT value FROM meta WHERE key = 'last_note_at'").fetchone()
            db.execute("DELETE FROM news")
            if rows:
                db.execute("INSERT OR REPLACE INTO meta VALUES ('last_note_at', ?)", (now_iso(),))
        news = []
        for id_, state, added, titles, skipped, last_skipped in rows:
            feed = _feed(state)
            name = feed.title or feed.url
            news.append(
                FeedNews(id_, name, added, tuple(json.loads(titles)), skipped, last_skipped)
            )
        return (since[0] if since else None), news

    def remember_language(self, user_id: int, language: str) -> None:
        """The language an admin speaks (their last /feeds): the note's language for them."""
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO meta VALUES (?, ?)", (f"language:{user_id}", language)
            )

    def languages(self) -> dict[int, str]:
        with self._locked() as db:
            rows = db.execute("SELECT key, value FROM meta WHERE key LIKE 'language:%'")
            return {int(key.split(":", 1)[1]): value for key, value in rows}

    # -- schema and the first format -------------------------------------------------------------

    def _migrate(self, db: sqlite3.Connection) -> None:
        """The tables, and a ``feeds.json`` of the first format read into them (once)."""
        try:
            with immediate(db):
                for statement in _SCHEMA:
                    db.execute(statement)
                if self.legacy.exists() and not db.execute("SELECT 1 FROM feeds").fetchone():
                    self._read_legacy(db)
        except sqlite3.DatabaseError as exc:
            raise FeedError(
                Reason("feeds_file", {"file": self.path.name, "error": str(exc)})
            ) from exc
        if self.legacy.exists():  # read now, or by a run that stopped before renaming it
            os.replace(self.legacy, self.legacy.with_name("feeds.json.migrated"))

    def _read_legacy(self, db: sqlite3.Connection) -> None:
        try:
            records = json.loads(self.legacy.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise FeedError(
                Reason("feeds_file", {"file": self.legacy.name, "error": str(exc)})
            ) from exc
        for position, record in enumerate(records, 1):
            feed = Feed(**{k: v for k, v in record.items() if k in _FEED_FIELDS})
            db.execute("INSERT INTO feeds VALUES (?, ?, ?)", (feed.id, position, _state(feed)))
            _insert_seen(db, feed.id, [str(k) for k in record.get("seen", ())])


def _states(db: sqlite3.Connection) -> list[str]:
    return [row[0] for row in db.execute("SELECT state FROM feeds ORDER BY position")]


def _seen(db: sqlite3.Connection, id_: str) -> tuple[str, ...]:
    rows = db.execute("SELECT key FROM seen WHERE feed_id = ? ORDER BY position", (id_,))
    return tuple(row[0] for row in rows)


def _insert_seen(db: sqlite3.Connection, id_: str, keys: Sequence[str]) -> None:
    """``keys`` after the feed's others (a key already there stays where it is)."""
    (last,) = db.execute("SELECT MAX(position) FROM seen WHERE feed_id = ?", (id_,)).fetchone()
    start = (last or 0) + 1
    db.executemany(
        "INSERT OR IGNORE INTO seen VALUES (?, ?, ?)",
        ((id_, key, start + n) for n, key in enumerate(keys)),
    )


def _state(feed: Feed) -> str:
    return json.dumps(asdict(feed), ensure_ascii=False)


def _feed(state: str) -> Feed:
    record: dict[str, Any] = json.loads(state)
    return Feed(**{k: v for k, v in record.items() if k in _FEED_FIELDS})
