"""In-memory state the bot keeps in ``bot_data``: rate limits, the queue of changes, statistics."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import time
from collections import Counter, OrderedDict, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from enum import Enum

__all__ = [
    "BotStats",
    "ChangeQueue",
    "ChangeQueueFull",
    "Limit",
    "RateLimiter",
    "percentile",
]


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
    """Counters for /stats: questions answered, by outcome, and the latency of the last
    ``window`` answers."""

    window: int = 200
    questions: int = 0
    latencies: deque[float] = field(default_factory=deque)
    last_reindex: str | None = None  # what the last /reindex of this process did, one line
    last_reindex_at: datetime.datetime | None = None  # when (aware, UTC): shown in TIMEZONE
    # How many got an answer, only the closest passages, or "not in the articles".
    outcomes: dict[str, int] = field(
        default_factory=lambda: {"answer": 0, "closest": 0, "declined": 0}
    )

    def record_answer(self, seconds: float, outcome: str | None = None) -> None:
        """Count one question answered in ``seconds``, by its outcome when it has one.

        Args:
            seconds: How long the answer took.
            outcome: "answer", "closest" or "declined"; None (or another word) counts the
                question and its latency only.
        """
        self.questions += 1
        if outcome in self.outcomes:
            self.outcomes[outcome] += 1
        self.latencies.append(seconds)
        while len(self.latencies) > self.window:
            self.latencies.popleft()

    def latency(self, q: float) -> float | None:
        """The ``q``-th percentile (0-100) of the last ``window`` answers' seconds; None
        before any answer."""
        return percentile(list(self.latencies), q)


class ChangeQueueFull(Exception):
    """Too many changes are already waiting: refuse this one before doing anything."""


class ChangeQueue:
    """Changes to the collection run one at a time, in the order asked; a bounded number wait.

    An admin's /add that arrives during a reindex waits its turn instead of being refused (and
    its file is never dropped). Waiting happens on the event loop, not in a worker thread, so
    questions keep being answered meanwhile.
    """

    def __init__(self, max_waiting: int = 20) -> None:
        self.max_waiting = max_waiting
        self._lock = asyncio.Lock()  # FIFO: waiters are woken in order
        self._waiting: Counter[str] = Counter()
        self.running: str | None = None  # what holds the turn ("/reindex", "/add", "/remove")

    def depth(self) -> int:
        """Changes running or waiting (the metrics' queue depth)."""
        return self._waiting.total() + (self.running is not None)

    def has(self, what: str) -> bool:
        """True while a change of this kind runs or waits (one /reindex is enough)."""
        return self.running == what or self._waiting[what] > 0

    @contextlib.asynccontextmanager
    async def turn(
        self, what: str, on_wait: Callable[[str], Awaitable[object]] | None = None
    ) -> AsyncIterator[None]:
        """Hold the turn for one change; ``on_wait(running)`` is awaited first if it must wait.

        ``ChangeQueueFull`` when ``max_waiting`` changes are waiting already.
        """
        if self._lock.locked():
            if self._waiting.total() >= self.max_waiting:
                raise ChangeQueueFull(f"{self._waiting.total()} changes are waiting")
            if on_wait is not None:
                await on_wait(self.running or what)
        self._waiting[what] += 1
        try:
            await self._lock.acquire()
        finally:
            self._waiting[what] -= 1
        self.running = what
        try:
            yield
        finally:
            self.running = None
            self._lock.release()
