"""In-memory state the bot keeps in ``bot_data``: answers for buttons, rate limits, statistics."""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from enum import Enum
from typing import Generic, TypeVar

from index.models import Quote

__all__ = [
    "AnswerCache",
    "BotStats",
    "Limit",
    "RateLimiter",
    "StoredAnswer",
    "percentile",
]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    """What the More and Context buttons of one reply need: the question and the quotes shown."""

    question: str
    quotes: tuple[Quote, ...]  # every quote shown so far for this question, numbered from 1
    first: int  # index in ``quotes`` of the first quote of this message
    has_more: bool

    @property
    def shown(self) -> int:
        """Quotes shown so far: the offset of the next "More"."""
        return len(self.quotes)


class AnswerCache(Generic[T]):
    """A bounded LRU of values per chat, under short random keys that fit in ``callback_data``.

    >>> cache: AnswerCache[str] = AnswerCache(per_chat=2)
    >>> key = cache.put(42, "a")
    >>> cache.get(42, key), cache.get(7, key)
    ('a', None)
    """

    def __init__(self, per_chat: int = 500, max_chats: int = 10_000) -> None:
        self.per_chat = per_chat
        self.max_chats = max_chats
        self._chats: OrderedDict[int, OrderedDict[str, T]] = OrderedDict()

    def put(self, chat_id: int, value: T) -> str:
        """Store ``value`` and return its key (8 URL-safe characters)."""
        entries = self._chats.setdefault(chat_id, OrderedDict())
        self._chats.move_to_end(chat_id)
        key = secrets.token_urlsafe(6)
        while key in entries:
            key = secrets.token_urlsafe(6)
        entries[key] = value
        while len(entries) > self.per_chat:
            entries.popitem(last=False)
        while len(self._chats) > self.max_chats:
            self._chats.popitem(last=False)
        return key

    def get(self, chat_id: int, key: str) -> T | None:
        """The value stored under ``key`` for this chat, or None once evicted."""
        entries = self._chats.get(chat_id)
        if entries is None or key not in entries:
            return None
        entries.move_to_end(key)
        return entries[key]

    def replace(self, chat_id: int, key: str, value: T) -> None:
        """Update an entry that is still there (no-op once evicted)."""
        entries = self._chats.get(chat_id)
        if entries is not None and key in entries:
            entries[key] = value

    def pop(self, chat_id: int, key: str) -> T | None:
        entries = self._chats.get(chat_id)
        return entries.pop(key, None) if entries is not None else None

    def __len__(self) -> int:
        return sum(len(entries) for entries in self._chats.values())


class Limit(Enum):
    """The verdict on one question: go on, refuse and say so (once), or refuse silently."""

    ALLOW = "allow"
    WARN = "warn"
    SILENT = "silent"


class RateLimiter:
    """At most ``per_minute`` questions per user over a sliding minute (0: unlimited).

    >>> limiter = RateLimiter(2)
    >>> [limiter.check(1, now=t).value for t in (0, 1, 2, 3, 61)]
    ['allow', 'allow', 'warn', 'silent', 'allow']
    """

    def __init__(self, per_minute: int, window: float = 60.0, max_users: int = 100_000) -> None:
        self.per_minute = per_minute
        self.window = window
        self.max_users = max_users
        self._hits: OrderedDict[int, deque[float]] = OrderedDict()
        self._warned: set[int] = set()

    def check(self, user_id: int, now: float | None = None) -> Limit:
        """Count one question of ``user_id`` if allowed."""
        if self.per_minute <= 0:
            return Limit.ALLOW
        now = time.monotonic() if now is None else now
        hits = self._hits.setdefault(user_id, deque())
        self._hits.move_to_end(user_id)
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) < self.per_minute:
            hits.append(now)
            self._warned.discard(user_id)
            self._trim()
            return Limit.ALLOW
        if user_id in self._warned:
            return Limit.SILENT
        self._warned.add(user_id)
        return Limit.WARN

    def _trim(self) -> None:
        while len(self._hits) > self.max_users:
            user_id, _ = self._hits.popitem(last=False)
            self._warned.discard(user_id)


def percentile(values: list[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) by nearest rank; None for no values.

    >>> percentile([1.0, 2.0, 3.0, 4.0], 50), percentile([1.0, 2.0, 3.0, 4.0], 95)
    (2.0, 4.0)
    """
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil without floats drifting
    return ordered[int(rank) - 1]


@dataclass
class BotStats:
    """Counters for /stats: questions answered and the latency of the last ``window`` answers."""

    window: int = 200
    questions: int = 0
    latencies: deque[float] = field(default_factory=deque)
    last_reindex: str | None = None  # one-line summary with its time

    def record_answer(self, seconds: float) -> None:
        self.questions += 1
        self.latencies.append(seconds)
        while len(self.latencies) > self.window:
            self.latencies.popleft()

    def latency(self, q: float) -> float | None:
        return percentile(list(self.latencies), q)
