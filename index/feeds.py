"""Feeds that keep the collection current: RSS and Atom subscriptions, polled all day.

A poll sends a conditional request (``If-None-Match`` / ``If-Modified-Since``), parses the feed
with feedparser (given bytes: feedparser itself never reaches the network), then fetches each
new entry's page under the same rules as ``/add URL`` (``index.fetch``: timeouts, size limits,
no private addresses unless ``FETCH_PRIVATE_ADDRESSES``) and adds it incrementally, with the
feed as its ``feed``, the feed's title as its outlet when the page names none, and the entry's
date when the page has none. An entry whose page cannot be had is indexed from the feed's own
text when that is long enough. Each feed's health (last success, last error, articles added,
entries skipped) is kept with it. Nothing a feed serves stops the other feeds, nor the other
entries of its feed: a feed that cannot be read is its ``last_error``, an entry that cannot
become an article (whatever the reason, even a bug: it is logged with its traceback) is one
line, ``last_skipped``, and is not tried again.

Every entry tried is remembered (``seen``) as long as it is in the feed, then ``MAX_SEEN`` more;
an entry indexed is saved as seen at once (``save``), so neither a crash later in the poll
nor a process killed mid-poll fetches it again. The validators (``ETag``, ``Last-Modified``)
are kept only once every entry of the feed was tried, and only when they are ASCII.

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
from index.errors import ArticleLoadError, IndexFailure, StorageWriteError
from index.fetch import FetchError, check_url, fetch_url, filename_for_url, usable_validator
from index.ingest import article_from_bytes

__all__ = [
    "MAX_ENTRIES",
    "MAX_NEW_PER_POLL",
    "MAX_SEEN",
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
# Entries read per feed document (the first ones: feeds list the newest first). Each key of
# the feed's entries that was tried is remembered, so this bounds a feed's ``seen`` too.
MAX_ENTRIES = 10_000
# Keys remembered of entries that left the feed (a feed that shows an old entry again).
MAX_SEEN = 2_000
MIN_ENTRY_TEXT = 200  # characters of the feed's own text that make an article on their own
MAX_ERROR_CHARS = 300
# Unexpected failures in a row that say the bot, not the entries, is failing (a database
# gone): the poll stops there and those entries are tried again at the next one.
MAX_FAILURES_IN_A_ROW = 3
_TAG = re.compile(r"<[^>]+>")

# add(filename, bytes) -> Added: the collection's add, run in the caller's turn for changes.
AddArticle = Callable[[str, bytes], Awaitable[Added]]
# save(feed): keep a feed's state now (the registry's save, off the event loop).
SaveFeed = Callable[["Feed"], Awaitable[None]]


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
    problem: str | None = None  # why the entry cannot be read at all (said, then skipped)


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
    skipped: int = 0  # entries that could not become articles, ever
    last_skipped: str | None = None  # the last of them, with why
    last_skipped_at: str | None = None
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
    for entry in parsed.get("entries", [])[:MAX_ENTRIES]:
        link = _link(base, entry.get("link"))
        key = str(entry.get("id") or link or entry.get("title") or "")[:500]
        if not key:
            continue
        try:
            entries.append(_entry(entry, key, link))
        except Exception as exc:  # one entry feedparser let through oddly: said, not fatal
            logger.exception("feed entry %s unreadable", key)
            problem = f"unreadable entry ({type(exc).__name__})"
            entries.append(FeedEntry(key, None, "", None, "", problem))
    title = _plain(str(parsed.get("feed", {}).get("title", "")))[:200]
    return ParsedFeed(title, tuple(entries))


def _entry(entry: Any, key: str, link: str | None) -> FeedEntry:
    content = entry.get("content") or []
    body = content[0].get("value", "") if content else entry.get("summary", "")
    return FeedEntry(
        key=key,
        link=link[:2000] if link else None,
        title=_plain(str(entry.get("title", "")))[:300],
        published=_entry_date(entry),
        text=_plain(str(body or "")),
    )


def _link(base: str, value: object) -> str | None:
    """An entry's link resolved against the feed's URL; as written when it cannot be (then
    fetching it says why: "http://[::1" is not a valid URL)."""
    if not value:
        return None
    try:
        return urljoin(base, str(value))
    except ValueError:
        return str(value)


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
            try:
                moment = moment.astimezone(UTC)
            except OverflowError:  # "31 Dec 9999 23:00:00 -2300" is in year 10000: no date
                continue
            return moment.isoformat(timespec="seconds").replace("+00:00", "Z")
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


async def poll_feed(
    feed: Feed, collection: ArticleCollection, add: AddArticle, save: SaveFeed | None = None
) -> PollReport:
    """Read one feed and add its new entries; never raises for what the feed or its pages do.

    ``save`` is given the feed's state after each entry indexed (marked seen in the same
    step); the caller saves the returned ``PollReport.feed`` at the end.
    """
    settings = collection.settings
    now = _now()
    headers = {}
    if etag := usable_validator(feed.etag):  # one kept before they were checked may not be
        headers["If-None-Match"] = etag
    if last_modified := usable_validator(feed.last_modified):
        headers["If-Modified-Since"] = last_modified
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
    waiting = [e for e in parsed.entries if e.key not in seen]
    added: list[Added] = []
    skipped: list[str] = []
    outlet = parsed.title or None
    stopped: str | None = None  # why the poll stopped before its last entry

    def progress() -> Feed:
        return replace(
            feed,
            title=parsed.title or feed.title,
            added=feed.added + len(added),
            skipped=feed.skipped + len(skipped),
            last_skipped=skipped[-1] if skipped else feed.last_skipped,
            last_skipped_at=now if skipped else feed.last_skipped_at,
            seen=_remembered(parsed.entries, seen, feed.seen),
        )

    tried = 0
    for entry in waiting[:MAX_NEW_PER_POLL]:
        indexed = False
        try:
            if entry.problem:
                raise ArticleLoadError(entry.problem)
            name, data = await _article_of(entry, feed, outlet, collection)
            added.append(await add(name, data))
            indexed = True
        except FeedBusy:
            break  # not marked seen: the next poll tries it again
        except StorageWriteError as exc:  # the disk, not the entry: tried again next poll
            stopped = str(exc)
            break
        except (FetchError, ArticleLoadError, IndexFailure) as exc:
            skipped.append(_line(entry, str(exc)))
        except Exception as exc:  # a bug on this entry's input: logged, said, not fatal
            logger.exception("feed %s: entry %s failed", feed.id, entry.link or entry.key)
            skipped.append(_line(entry, f"internal error ({type(exc).__name__})"))
        tried += 1
        seen.add(entry.key)  # tried once: a broken page is not fetched at every poll
        if indexed and save is not None:
            await save(progress())  # indexed and marked seen in the same step
    finished = stopped is None and tried == len(waiting)
    polled = replace(
        progress(),
        # Kept only when nothing is left to try: a 304 would hide the rest of a long feed.
        etag=response.etag if finished else None,
        last_modified=response.last_modified if finished else None,
        last_poll_at=now,
        last_success_at=now,
        last_error=stopped[:MAX_ERROR_CHARS] if stopped else None,
        last_error_at=now if stopped else feed.last_error_at,
    )
    return PollReport(polled, tuple(added), skipped=tuple(skipped), error=stopped)


def _remembered(
    entries: tuple[FeedEntry, ...], seen: set[str], before: tuple[str, ...]
) -> tuple[str, ...]:
    """The keys to remember: every entry of the feed that was tried, however many (a feed
    longer than any window must not offer its oldest tried entries again), in the feed's
    order, then the latest ``MAX_SEEN`` of those that left it."""
    current = [e.key for e in entries if e.key in seen]
    in_feed = set(current)
    gone = [key for key in before if key not in in_feed][:MAX_SEEN]
    return tuple(dict.fromkeys([*current, *gone]))


def _line(entry: FeedEntry, reason: str) -> str:
    """One line of a feed's health for an entry that did not become an article."""
    return f"{entry.link or entry.key}: {reason}"[:MAX_ERROR_CHARS]


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
    try:
        url = check_url(entry.link) if entry.link else None
    except FetchError:
        url = None  # "javascript:…", "http://[::1": not a page the article can point to
    record = {
        "title": entry.title or outlet or "untitled",
        "url": url,
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
