"""Feeds that keep the collection current: RSS and Atom subscriptions, polled all day.

A poll sends a conditional request (``If-None-Match`` / ``If-Modified-Since``), parses the feed
with feedparser (given bytes: feedparser itself never reaches the network), then fetches each
new entry's page under the same rules as ``/add URL`` (``index.fetch``: timeouts, size limits,
no private addresses unless ``FETCH_PRIVATE_ADDRESSES``) and adds it incrementally, with the
feed as its ``feed``, the feed's title as its outlet when the page names none, and the entry's
date when the page has none. An entry whose page cannot be had is indexed from the feed's own
text when that is long enough. Each feed's health (last success, last error, articles added)
is kept with it. Nothing a feed serves stops the other feeds: every failure is one line in the
feed's health.

Subscriptions live in ``DATA_DIR/feeds.json``, written atomically.

>>> parse_feed(b'<rss version="2.0"><channel><title>Le Journal</title><item><title>Un</title>'
...            b'<link>https://journal.example/1</link><guid>1</guid></item></channel></rss>').title
'Le Journal'
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import html
import json
import logging
import os
import re
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from index.collection import Added, ArticleCollection, with_source
from index.dates import published_iso
from index.errors import ArticleLoadError, IndexFailure
from index.fetch import FetchError, check_url, fetch_url, filename_for_url
from index.ingest import article_from_bytes

__all__ = [
    "Feed",
    "FeedBusy",
    "FeedEntry",
    "FeedError",
    "FeedRegistry",
    "FetchError",
    "ParsedFeed",
    "PollReport",
    "failed",
    "parse_feed",
    "poll_feed",
]

logger = logging.getLogger(__name__)

MAX_FEEDS = 200
# New entries added per poll: a feed that publishes its whole archive at once is read over
# several polls instead of holding the collection for an hour.
MAX_NEW_PER_POLL = 20
MAX_SEEN = 2_000  # entry keys remembered per feed (a feed shows its last tens)
MIN_ENTRY_TEXT = 200  # characters of the feed's own text that make an article on their own
MAX_ERROR_CHARS = 300
_TAG = re.compile(r"<[^>]+>")

# add(filename, bytes) -> Added: the collection's add, run in the caller's turn for changes.
AddArticle = Callable[[str, bytes], Awaitable[Added]]


class FeedError(Exception):
    """A feed could not be read; the message is one phrase for the admin."""


class FeedBusy(Exception):
    """No turn for changes now (too many waiting): the poll stops, the entry is tried again."""


@dataclass(frozen=True, slots=True)
class FeedEntry:
    key: str  # the entry's id, else its link: what "already seen" means
    link: str | None
    title: str
    published: str | None  # ISO 8601
    text: str  # the feed's own text of the entry (content, else summary), HTML removed


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    title: str
    entries: tuple[FeedEntry, ...]


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
    seen: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class PollReport:
    feed: Feed
    added: tuple[Added, ...] = ()
    unchanged: bool = False  # 304 Not Modified
    skipped: tuple[str, ...] = ()  # entries that could not become articles, with why
    error: str | None = None  # the feed itself failed


def feed_id(url: str) -> str:
    """A short stable id for a feed URL (what ``/feeds remove ID`` takes)."""
    return hashlib.sha256(url.encode()).hexdigest()[:8]


def parse_feed(data: bytes, base: str = "") -> ParsedFeed:
    """An RSS or Atom document's title and entries (links resolved against ``base``, the
    feed's URL); ``FeedError`` when it is neither."""
    import feedparser

    try:
        parsed = feedparser.parse(data, sanitize_html=False, resolve_relative_uris=False)
    except Exception as exc:  # feedparser's parsers raise many types on hostile input
        raise FeedError(f"not an RSS or Atom feed ({type(exc).__name__})") from exc
    if not parsed.get("version"):
        raise FeedError("not an RSS or Atom feed")
    entries = []
    for entry in parsed.get("entries", []):
        link = urljoin(base, str(entry.get("link"))) if entry.get("link") else None
        key = str(entry.get("id") or link or entry.get("title") or "")[:500]
        if not key:
            continue
        content = entry.get("content") or []
        body = content[0].get("value", "") if content else entry.get("summary", "")
        entries.append(
            FeedEntry(
                key=key,
                link=str(link)[:2000] if link else None,
                title=_plain(str(entry.get("title", "")))[:300],
                published=_entry_date(entry),
                text=_plain(str(body or "")),
            )
        )
    title = _plain(str(parsed.get("feed", {}).get("title", "")))[:200]
    return ParsedFeed(title, tuple(entries))


def _plain(markup: str) -> str:
    """Feed HTML to text, paragraphs kept as blank lines."""
    text = re.sub(r"(?i)<\s*(?:br|/p|/div|/h\d|/li)\s*/?>", "\n\n", markup)
    text = html.unescape(_TAG.sub("", text))
    paragraphs = (re.sub(r"[ \t\r\f\v]+", " ", p).strip() for p in text.split("\n\n"))
    return "\n\n".join(p for p in paragraphs if p)


def _entry_date(entry: Any) -> str | None:
    for key in ("published", "updated", "created"):
        value = entry.get(key)
        if value:
            try:
                moment = parsedate_to_datetime(str(value))
            except (TypeError, ValueError, IndexError):
                found = published_iso(str(value))
                if found:
                    return found
                continue
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return None


class FeedRegistry:
    """The subscriptions in ``DATA_DIR/feeds.json``; every change is written at once, atomically.

    Replicas that share ``DATA_DIR`` share the subscriptions: each change holds a file lock
    (``feeds.lock``) across processes, and one process at a time runs a round of polls
    (``polling``).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path.with_suffix(".lock"), "a") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def polling(self) -> Iterator[bool]:
        """True when this process may poll the feeds now; False while another process (a
        replica on the same ``DATA_DIR``) or another round here is at it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_suffix(".polling"), "a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def all(self) -> list[Feed]:
        with self._locked():
            return self._read()

    def get(self, id_: str) -> Feed | None:
        return next((f for f in self.all() if f.id == id_), None)

    def add(self, url: str) -> tuple[Feed, bool]:
        """Subscribe to ``url`` (checked as ``/add URL`` checks it); False when it already was."""
        url = check_url(url.strip())
        with self._locked():
            feeds = self._read()
            found = next((f for f in feeds if f.url == url), None)
            if found is not None:
                return found, False
            if len(feeds) >= MAX_FEEDS:
                raise FeedError(f"at most {MAX_FEEDS} feeds")
            feed = Feed(id=feed_id(url), url=url, created_at=_now())
            self._write([*feeds, feed])
            return feed, True

    def remove(self, id_: str) -> Feed | None:
        with self._locked():
            feeds = self._read()
            found = next((f for f in feeds if f.id == id_), None)
            if found is not None:
                self._write([f for f in feeds if f.id != id_])
            return found

    def save(self, feed: Feed) -> None:
        """Store a polled feed's state, unless it was removed meanwhile."""
        with self._locked():
            feeds = self._read()
            if any(f.id == feed.id for f in feeds):
                self._write([feed if f.id == feed.id else f for f in feeds])

    def _read(self) -> list[Feed]:
        try:
            records = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            raise FeedError(f"cannot read {self.path.name} ({exc})") from exc
        return [Feed(**{**r, "seen": tuple(r.get("seen", ()))}) for r in records]

    def _write(self, feeds: list[Feed]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(
            json.dumps([asdict(f) for f in feeds], ensure_ascii=False, indent=1), encoding="utf-8"
        )
        os.replace(temporary, self.path)


async def poll_feed(feed: Feed, collection: ArticleCollection, add: AddArticle) -> PollReport:
    """Read one feed and add its new entries; never raises for what the feed or its pages do."""
    settings = collection.settings
    now = _now()
    headers = {}
    if feed.etag:
        headers["If-None-Match"] = feed.etag
    if feed.last_modified:
        headers["If-Modified-Since"] = feed.last_modified
    try:
        response = await fetch_url(
            feed.url,
            settings.fetch_timeout,
            settings.max_upload_bytes,
            allow_private=settings.fetch_private_addresses,
            headers=headers,
        )
        if response.status == 304:
            polled = replace(feed, last_poll_at=now, last_success_at=now, last_error=None)
            return PollReport(polled, unchanged=True)
        parsed = await asyncio.to_thread(parse_feed, response.data, response.url)
    except (FetchError, FeedError) as exc:
        return PollReport(failed(feed, str(exc), now), error=str(exc))
    seen = set(feed.seen)
    new = [e for e in parsed.entries if e.key not in seen][:MAX_NEW_PER_POLL]
    added: list[Added] = []
    skipped: list[str] = []
    outlet = parsed.title or None
    for entry in new:
        try:
            name, data = await _article_of(entry, feed, outlet, collection)
            added.append(await add(name, data))
        except FeedBusy:
            break  # not marked seen: the next poll tries it again
        except (FetchError, ArticleLoadError, IndexFailure) as exc:
            skipped.append(f"{entry.link or entry.key}: {exc}"[:MAX_ERROR_CHARS])
        seen.add(entry.key)  # tried once: a broken page is not fetched at every poll
    keys = [e.key for e in parsed.entries if e.key in seen]  # the feed's order, newest first
    polled = replace(
        feed,
        title=parsed.title or feed.title,
        etag=response.etag,
        last_modified=response.last_modified,
        last_poll_at=now,
        last_success_at=now,
        last_error=None,
        added=feed.added + len(added),
        seen=tuple(dict.fromkeys([*keys, *feed.seen]))[:MAX_SEEN],
    )
    return PollReport(polled, tuple(added), skipped=tuple(skipped))


async def _article_of(
    entry: FeedEntry, feed: Feed, outlet: str | None, collection: ArticleCollection
) -> tuple[str, bytes]:
    """An entry as a JSON article file: its page's article, else the feed's own text."""
    page_error: Exception | None = None
    if entry.link:
        try:
            name, data = await collection.fetch(entry.link)
        except (FetchError, ArticleLoadError) as exc:
            page_error = exc
        else:
            return name, with_source(data, outlet, entry.published, feed.id)
    if len(entry.text) < MIN_ENTRY_TEXT:
        raise page_error or ArticleLoadError("the entry has no link and too little text")
    record = {
        "title": entry.title or outlet or "untitled",
        "url": entry.link,
        "date": entry.published,
        "outlet": outlet,
        "feed": feed.id,
        "text": entry.text,
    }
    name = filename_for_url(entry.link or f"{feed.url}/{entry.key}", ".json")
    data = _json(record)
    article_from_bytes(name, data, None, collection.settings.max_upload_bytes)  # refuse early
    return name, data


def _json(record: dict[str, Any]) -> bytes:
    clean = {k: v for k, v in record.items() if v is not None}
    return json.dumps(clean, ensure_ascii=False, indent=1).encode()


def failed(feed: Feed, reason: str, now: str | None = None) -> Feed:
    """The feed's state after a failed poll: the reason in its health, the rest unchanged."""
    now = now or _now()
    return replace(feed, last_poll_at=now, last_error=reason[:MAX_ERROR_CHARS], last_error_at=now)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
