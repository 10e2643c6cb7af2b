"""Feeds that keep the collection current: RSS and Atom subscriptions, polled all day.

A poll sends a conditional request (``If-None-Match`` / ``If-Modified-Since``), parses the feed
with feedparser (given bytes: feedparser itself never reaches the network), then fetches each
new entry's page under the same rules as ``/add URL`` (``index.ingest.fetch``: timeouts, size
limits, no private addresses unless ``FETCH_PRIVATE_ADDRESSES``) and adds it incrementally, with the
feed as its ``feed``, the feed's title as its outlet when the page names none, and the entry's
date when the page has none. An entry whose page cannot be had is indexed from the feed's own
text when that is long enough. Each feed's health (last success, last error, articles added,
entries skipped) is kept with it. Nothing a feed serves stops the other feeds, nor the other
entries of its feed: a feed that cannot be read is its ``last_error``, an entry that cannot
become an article (whatever the reason, even a bug: it is logged with its traceback) is one
line, ``last_skipped``, and is not tried again.

Every entry tried is remembered (``seen``) as long as it is in the feed, then ``MAX_SEEN`` more;
each entry tried is saved as seen at once (``save``), with what it became, so neither a crash
later in the poll nor a process killed mid-poll fetches it again. A failure that is the bot's
and not the entry's (the disk full, the database unreachable: ``StorageWriteError``; no turn
for changes: ``FeedBusy``) stops the poll without marking the entry: the next poll tries it.
The validators (``ETag``, ``Last-Modified``) are kept only once every entry of the feed was
tried, and only when they are ASCII.

Subscriptions, their health and their ``seen`` keys live in ``DATA_DIR/feeds.sqlite``
(``index.collection.feed_registry``).

>>> parse_feed(b'<rss version="2.0"><channel><title>Le Journal</title><item><title>Un</title>'
...            b'<link>https://journal.example/1</link><guid>1</guid></item></channel></rss>').title
'Le Journal'
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin

from index.collection.feed_registry import Feed, FeedError, FeedNews, FeedRegistry, Tried, now_iso
from index.collection.folder import Added, ArticleCollection, with_source
from index.errors import ArticleLoadError, IndexFailure, StorageWriteError
from index.ingest.dates import published_iso
from index.ingest.fetch import (
    Fetched,
    FetchError,
    check_url,
    fetch_url,
    filename_for_url,
    usable_validator,
)
from index.ingest.loader import article_from_bytes
from index.reasons import Reason, ReasonError

__all__ = [
    "MAX_ENTRIES",
    "MAX_NEW_PER_POLL",
    "MAX_SEEN",
    "Feed",
    "FeedBusy",
    "FeedEntry",
    "FeedError",
    "FeedNews",
    "FeedRegistry",
    "FetchError",
    "ParsedFeed",
    "PollReport",
    "Tried",
    "failed",
    "parse_feed",
    "poll_feed",
]

logger = logging.getLogger(__name__)

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
_TAG = re.compile(r"<[^>]+>")

# add(filename, bytes) -> Added: the collection's add, run in the caller's turn for changes.
AddArticle = Callable[[str, bytes], Awaitable[Added]]
# save(feed, tried): record a feed's state and the entry just tried, in the registry, off the
# event loop.
SaveProgress = Callable[[Feed, Tried], Awaitable[None]]


class FeedBusy(Exception):
    """No turn for changes now (too many waiting): the poll stops, the entry is tried again."""


@dataclass(frozen=True, slots=True)
class FeedEntry:
    key: str  # the entry's id, else its link: what "already seen" means
    link: str | None
    title: str
    published: str | None  # ISO 8601
    text: str  # the feed's own text of the entry (content, else summary), HTML removed
    problem: Reason | None = None  # why the entry cannot be read at all (said, then skipped)


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    title: str
    entries: tuple[FeedEntry, ...]


@dataclass(frozen=True, slots=True)
class PollReport:
    feed: Feed
    added: tuple[Added, ...] = ()
    unchanged: bool = False  # 304 Not Modified
    skipped: tuple[str, ...] = ()  # entries that could not become articles, with why (stored)
    error: str | None = None  # the feed itself failed: a stored reason (``stored_reason``)
    seen: tuple[str, ...] | None = None  # the keys to remember; None: as they were


def parse_feed(data: bytes, base: str = "") -> ParsedFeed:
    """An RSS or Atom document's title and entries (links resolved against ``base``, the
    feed's URL); ``FeedError`` when it is neither."""
    import feedparser

    try:
        parsed = feedparser.parse(data, sanitize_html=False, resolve_relative_uris=False)
    except Exception as exc:  # feedparser's parsers raise many types on hostile input
        raise FeedError(Reason("not_a_feed_error", {"kind": type(exc).__name__})) from exc
    if not parsed.get("version"):
        raise FeedError(Reason("not_a_feed"))
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
            problem = Reason("unreadable_entry", {"kind": type(exc).__name__})
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


async def poll_feed(
    feed: Feed,
    collection: ArticleCollection,
    add: AddArticle,
    save: SaveProgress | None = None,
    *,
    seen: Sequence[str] = (),
) -> PollReport:
    """Read one feed and add its new entries; never raises for what the feed or its pages do.

    Args:
        feed: The subscription polled, with its validators and health.
        collection: The collection the entries' pages are fetched for (its settings: timeouts,
            sizes, private addresses).
        add: Adds one article file to the collection, in the caller's turn for changes.
        save: Given the feed's state and the entry after each entry tried (marked seen in the
            same step); None to save nothing as the poll goes.
        seen: The keys of the entries tried before (``FeedRegistry.seen``).

    Returns:
        What the poll did: the feed's new state and the keys to remember (``seen``), which the
        caller saves at the end, the articles added and the entries skipped with why, or the
        feed's own error.
    """
    now = now_iso()
    fetched = await _fetch_feed(feed, collection, now)
    if isinstance(fetched, PollReport):
        return fetched
    response, parsed = fetched
    before = tuple(seen)
    tried_keys = set(before)
    waiting = [e for e in parsed.entries if e.key not in tried_keys]
    added: list[Added] = []
    skipped: list[str] = []
    stopped: str | None = None  # why the poll stopped before its last entry
    tried = 0
    for entry in waiting[:MAX_NEW_PER_POLL]:
        try:
            outcome, new = await _try_entry(entry, feed, parsed.title or None, collection, add)
        except FeedBusy:
            break  # not marked seen: the next poll tries it again
        except StorageWriteError as exc:  # the disk or the database, not the entry
            stopped = str(exc)
            break
        if new is not None:
            added.append(new)
        if outcome.skipped is not None:
            skipped.append(outcome.skipped)
        tried += 1
        tried_keys.add(entry.key)  # tried once: a broken page is not fetched at every poll
        if save is not None:
            progress = _progress(feed, parsed.title, now, added, skipped)
            await save(progress, outcome)  # what it became and seen, in the same step
    finished = stopped is None and tried == len(waiting)
    polled = replace(
        _progress(feed, parsed.title, now, added, skipped),
        # The validators are kept only when no entry is left to try: with them, the next poll
        # could get a 304 and never see the rest of a long feed.
        etag=response.etag if finished else None,
        last_modified=response.last_modified if finished else None,
        last_poll_at=now,
        last_success_at=now,
        last_error=stopped[:MAX_ERROR_CHARS] if stopped else None,
        last_error_at=now if stopped else feed.last_error_at,
    )
    return PollReport(
        polled,
        tuple(added),
        skipped=tuple(skipped),
        error=stopped,
        seen=_remembered(parsed.entries, tried_keys, before),
    )


def _progress(
    feed: Feed, title: str, now: str, added: Sequence[Added], skipped: Sequence[str]
) -> Feed:
    """The feed's state once the entries ``added`` and ``skipped`` so far are counted, read
    with the feed document's ``title`` at ``now``."""
    return replace(
        feed,
        title=title or feed.title,
        added=feed.added + len(added),
        skipped=feed.skipped + len(skipped),
        last_skipped=skipped[-1] if skipped else feed.last_skipped,
        last_skipped_at=now if skipped else feed.last_skipped_at,
    )


async def _fetch_feed(
    feed: Feed, collection: ArticleCollection, now: str
) -> tuple[Fetched, ParsedFeed] | PollReport:
    """The feed's document and its entries, or the poll's whole report when there are none to
    read: the feed unchanged since the validators (304), or failed."""
    settings = collection.settings
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
        stored = exc.reason.to_json()
        return PollReport(failed(feed, stored, now), error=stored)
    return response, parsed


async def _try_entry(
    entry: FeedEntry,
    feed: Feed,
    outlet: str | None,
    collection: ArticleCollection,
    add: AddArticle,
) -> tuple[Tried, Added | None]:
    """One entry tried: what the feed's record keeps of it, and the article when it is new.

    What the entry or its page does wrong becomes the entry's skipped line; ``FeedBusy`` and
    ``StorageWriteError``, the bot's failures and not the entry's, stop the poll: they pass.
    """
    try:
        if entry.problem:
            raise ArticleLoadError(entry.problem)
        name, data = await _article_of(entry, feed, outlet, collection)
        result = await add(name, data)
    except (FeedBusy, StorageWriteError):
        raise
    except (FetchError, ArticleLoadError, IndexFailure) as exc:
        line = _line(entry, exc.reason if isinstance(exc, ReasonError) else str(exc))
        return Tried(entry.key, skipped=line), None
    except Exception as exc:  # a bug on this entry's input: logged, said, not fatal
        logger.exception("feed %s: entry %s failed", feed.id, entry.link or entry.key)
        line = _line(entry, Reason("internal_error", {"kind": type(exc).__name__}))
        return Tried(entry.key, skipped=line), None
    if result.unchanged:  # already in the collection (another feed, an /add): not new
        return Tried(entry.key), None
    return Tried(entry.key, added=result.article.title), result


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


def _line(entry: FeedEntry, reason: Reason | str) -> str:
    """One line of a feed's health for an entry that did not become an article, as stored:
    the entry and the reason's code and values (``stored_reason`` reads it), or free text
    for an error that has no code."""
    where = (entry.link or entry.key)[:MAX_ERROR_CHARS]
    if isinstance(reason, str):
        return f"{where}: {reason}"[:MAX_ERROR_CHARS]
    return json.dumps({"entry": where, **json.loads(reason.to_json())}, ensure_ascii=False)


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
        raise page_error or ArticleLoadError(Reason("entry_too_short"))
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
    """The feed's state after a failed poll: the reason in its health (a stored ``Reason``,
    else free text cut to ``MAX_ERROR_CHARS``), the rest unchanged."""
    now = now or now_iso()
    kept = reason if Reason.from_json(reason) else reason[:MAX_ERROR_CHARS]
    return replace(feed, last_poll_at=now, last_error=kept, last_error_at=now)
