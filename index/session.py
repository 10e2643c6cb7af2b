"""Chats with the index: a question, then its next page ("More") or a quote's surroundings.

Telegram-free, shared by the bot's handlers and the console. Each answer shown is kept
under a short random key (what a button carries) per chat, in a bounded LRU.

>>> session = ChatSession(service)  # doctest: +SKIP
>>> page = session.ask(42, "Qui est Tokaïev ?")  # doctest: +SKIP
>>> session.more(42, page.key).first  # doctest: +SKIP
3
"""

from __future__ import annotations

import json
import secrets
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from index.errors import AnswerExpiredError, PageSpentError
from index.feedback import HORIZON_DAYS, VOTES_PER_PASSAGE, adjustments, passage_hash
from index.followup import is_follow_up
from index.models import Answer, Quote
from index.readers import Gap, ReaderStore, Scope, Turn, Vote, days_ago, now_iso
from index.search import Feedback
from index.service import IndexService
from index.stores.base import Filters

__all__ = ["KEY_PATTERN", "ChatMemory", "ChatSession", "Page", "scope_filters"]

T = TypeVar("T")

# What ``ChatMemory.put`` returns: 8 URL-safe characters (fits in a button's 64 bytes).
KEY_PATTERN = r"[A-Za-z0-9_-]{8}"


class ChatMemory(Generic[T]):
    """A bounded LRU of values per chat, under short random keys.

    >>> memory: ChatMemory[str] = ChatMemory(per_chat=2)
    >>> key = memory.put(42, "a")
    >>> memory.get(42, key), memory.get(7, key)
    ('a', None)
    """

    def __init__(self, per_chat: int = 500, max_chats: int = 10_000) -> None:
        self.per_chat = per_chat
        self.max_chats = max_chats
        self._chats: OrderedDict[int, OrderedDict[str, T]] = OrderedDict()
        self._lock = threading.Lock()  # the bot calls in from worker threads

    def put(self, chat_id: int, value: T) -> str:
        """Store ``value`` and return its key."""
        with self._lock:
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
        with self._lock:
            entries = self._chats.get(chat_id)
            if entries is None or key not in entries:
                return None
            entries.move_to_end(key)
            return entries[key]

    def pop(self, chat_id: int, key: str) -> T | None:
        """Take the value out (a second pop gets None)."""
        with self._lock:
            entries = self._chats.get(chat_id)
            return entries.pop(key, None) if entries is not None else None

    def swap(self, chat_id: int, key: str, expected: T, new: T) -> bool:
        """Replace the value under ``key`` if it is still ``expected`` (compare and set)."""
        with self._lock:
            entries = self._chats.get(chat_id)
            if entries is None or entries.get(key) is not expected:
                return False
            entries[key] = new
            return True

    def __len__(self) -> int:
        return sum(len(entries) for entries in self._chats.values())


@dataclass(frozen=True, slots=True)
class _Shown:
    """An answer as far as it was shown: what its More and Context buttons need."""

    question: str  # as searched: a follow-up's joined subject
    quotes: tuple[Quote, ...]  # every quote shown so far for this question, numbered from 1
    first: int  # index in ``quotes`` of this page's first quote
    has_more: bool
    spent: bool = False  # its More was used: the next page exists already
    filters: Filters | None = None  # as searched: a group's scope, a follow-up's articles


@dataclass(frozen=True, slots=True)
class Page:
    """One message's worth of an answer: ``answer.quotes`` numbered from ``first + 1``."""

    key: str  # what the page's buttons carry; "" when there is nothing to come back to
    answer: Answer
    first: int
    has_more: bool
    scope: Scope = field(default_factory=Scope)  # the group's scope searched (a reply names it)

    @property
    def numbers(self) -> range:
        """The 1-based numbers of this page's quotes."""
        return range(self.first + 1, self.first + 1 + len(self.answer.quotes))


def scope_filters(scope: Scope) -> Filters | None:
    """A group's scope as the store's ``Filters``; None for the whole collection."""
    if scope.empty:
        return None
    return Filters(
        outlets=frozenset(scope.outlets) or None,
        feeds=frozenset(scope.feeds) or None,
        tags=frozenset(scope.tags) or None,
    )


class _StoredPages:
    """The answers shown, kept in the readers' store (``ChatMemory``'s put, get and swap):
    a button pressed on any replica, or after a restart, finds its answer."""

    def __init__(self, readers: ReaderStore, per_chat: int) -> None:
        self.readers = readers
        self.per_chat = per_chat

    def put(self, chat_id: int, value: _Shown) -> str:
        key = secrets.token_urlsafe(6)
        # Microseconds: a chat's latest pages are told apart even within one second.
        at = datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
        self.readers.put_page(chat_id, key, _encode(value), at, self.per_chat)
        return key

    def get(self, chat_id: int, key: str) -> _Shown | None:
        raw = self.readers.get_page(chat_id, key)
        return None if raw is None else _decode(raw)

    def swap(self, chat_id: int, key: str, expected: _Shown, new: _Shown) -> bool:
        return self.readers.swap_page(chat_id, key, _encode(expected), _encode(new))


def _encode(shown: _Shown) -> str:
    filters = shown.filters
    record = {
        "question": shown.question,
        "quotes": [asdict(q) for q in shown.quotes],
        "first": shown.first,
        "has_more": shown.has_more,
        "spent": shown.spent,
        "filters": None
        if filters is None
        else {
            name: sorted(value) if isinstance(value, frozenset) else value
            for name in filters.__slots__
            if (value := getattr(filters, name)) is not None
        },
    }
    return json.dumps(record, sort_keys=True, ensure_ascii=False)


def _decode(raw: str) -> _Shown:
    record = json.loads(raw)
    quotes = tuple(Quote(**{**q, "also_in": tuple(q["also_in"])}) for q in record["quotes"])
    stored: dict[str, Any] | None = record["filters"]
    filters = None
    if stored is not None:
        values: dict[str, Any] = {
            k: frozenset(v) if isinstance(v, list) else v for k, v in stored.items()
        }
        filters = Filters(**values)
    return _Shown(
        record["question"],
        quotes,
        record["first"],
        record["has_more"],
        record["spent"],
        filters,
    )


class ChatSession:
    """Ask, then More and Context on what was shown, per chat. Blocking: run it off the event loop.

    With a ``ReaderStore``, a chat's last question is remembered there (shared by replicas) so
    that a follow-up can lean on it (``index.followup``), a group's scope narrows its searches,
    and questions the articles do not answer are kept for the gaps report.
    """

    def __init__(
        self,
        service: IndexService,
        per_chat: int = 500,
        max_chats: int = 10_000,
        readers: ReaderStore | None = None,
        follow_up_seconds: float = 0.0,
    ) -> None:
        self.service = service
        self.readers = readers
        self.follow_up_seconds = follow_up_seconds
        # With a readers' store the answers shown live there, shared by replicas.
        self._shown: ChatMemory[_Shown] | _StoredPages = (
            _StoredPages(readers, per_chat)
            if readers is not None
            else ChatMemory(per_chat, max_chats)
        )

    def ask(self, chat_id: int, question: str, replied: bool = False) -> Page:
        """The first page of the answer to ``question`` (``replied``: it answers one of ours)."""
        readers = self.readers
        if readers is None:
            return self._keep(chat_id, question, None, (), self.service.ask(question))
        now = datetime.now(UTC)
        scope = self.scope(chat_id)
        filters = scope_filters(scope)
        previous = readers.last_turn(chat_id)
        if previous is not None and is_follow_up(
            question, previous, now, self.follow_up_seconds, replied
        ):
            answer, subject, used = self.service.ask_after(
                question, previous, filters=filters, replied=replied, feedback=self._votes
            )
        else:
            answer = self.service.ask(question, filters=filters, feedback=self._votes(question))
            subject, used = question, filters
        if answer.quotes:
            quoted = tuple(dict.fromkeys(q.article_id for q in answer.quotes))
            # The subject a next follow-up joins is the last question that stood alone: one
            # question, never a chain of them.
            base = answer.follow_up_of or question
            readers.remember(Turn(chat_id, base, quoted, now_iso(now)))
        if answer.outcome != "answer":
            # A scoped group's gap is its scope's: the rest of the collection may answer.
            gap = Gap(question, answer.outcome, answer.question_lang, now_iso(now), scope.label)
            readers.record_gap(gap)
        return replace(self._keep(chat_id, subject, used, (), answer), scope=scope)

    def scope(self, chat_id: int) -> Scope:
        """The part of the collection a chat sees: a group's chosen scope; everything for a
        private chat (whatever is stored) and without a readers' store."""
        # Groups have negative ids.
        if self.readers is None or chat_id >= 0:
            return Scope()
        return self.readers.scope(chat_id)

    def more(self, chat_id: int, key: str) -> Page:
        """The next page after the one kept under ``key``; each page's More works once.

        ``AnswerExpiredError`` when the page is no longer kept, ``PageSpentError`` when its
        More was already used. A page with no quotes means there is nothing more.
        """
        shown = self._get(chat_id, key)
        spent = replace(shown, spent=True)
        # Compare-and-set: of two presses at once, one goes on and the other is told.
        if shown.spent or not self._shown.swap(chat_id, key, shown, spent):
            raise PageSpentError("these passages are already shown")
        try:
            answer = self.service.ask(
                shown.question,
                None,
                len(shown.quotes),
                shown.filters,
                feedback=self._votes(shown.question) if self.readers else None,
            )
        except BaseException:
            self._shown.swap(chat_id, key, spent, shown)  # it may be pressed again
            raise
        if not answer.quotes:
            return Page("", answer, len(shown.quotes), False)
        return self._keep(chat_id, shown.question, shown.filters, shown.quotes, answer)

    def vote(self, chat_id: int, key: str, user_id: int, value: int, number: int = 0) -> Quote:
        """A reader's vote on a kept answer: +1 or -1 on its quote ``number`` (1-based), or on
        the page's first quote when ``number`` is 0. Voting again replaces the vote."""
        readers = self.readers
        if readers is None:
            raise AnswerExpiredError("votes are not kept here")
        shown = self._get(chat_id, key)
        index = number - 1 if number else shown.first
        if not 0 <= index < len(shown.quotes):
            raise AnswerExpiredError(f"no quote {number} in this answer")
        quote = shown.quotes[index]
        readers.vote(
            Vote(
                shown.question,
                passage_hash(quote.text),
                1 if value > 0 else -1,
                readers.voter_key(user_id),
                now_iso(),
            )
        )
        return quote

    def _votes(self, question: str) -> Feedback:
        """The readers' votes for ``question`` as ``search`` takes them."""
        readers = self.readers
        assert readers is not None

        def shifts(passages: Sequence[str]) -> dict[str, float]:
            now = datetime.now(UTC)
            recent = readers.votes(passages, days_ago(HORIZON_DAYS, now), VOTES_PER_PASSAGE)
            return adjustments(question, recent, now)

        return shifts

    def context(self, chat_id: int, key: str, number: int) -> Quote:
        """The paragraphs around quote ``number`` (1-based) of a kept page.

        ``AnswerOutOfDateError`` when the article changed or went away since.
        """
        shown = self._get(chat_id, key)
        if not 1 <= number <= len(shown.quotes):
            raise AnswerExpiredError(f"no quote {number} in this answer")
        return self.service.context(shown.quotes[number - 1])

    def page_of(self, chat_id: int, key: str) -> Page:
        """The page kept under ``key`` as it was shown (its buttons, after its More was used)."""
        shown = self._get(chat_id, key)
        answer = Answer(shown.question, shown.quotes[shown.first :])
        return Page(key, answer, shown.first, shown.has_more and not shown.spent)

    def _get(self, chat_id: int, key: str) -> _Shown:
        shown = self._shown.get(chat_id, key)
        if shown is None:
            raise AnswerExpiredError("this answer is no longer kept")
        return shown

    def _keep(
        self,
        chat_id: int,
        question: str,
        filters: Filters | None,
        before: tuple[Quote, ...],
        answer: Answer,
    ) -> Page:
        if not answer.quotes:
            return Page("", answer, len(before), False)
        shown = _Shown(
            question, before + answer.quotes, len(before), bool(answer.more), filters=filters
        )
        return Page(self._shown.put(chat_id, shown), answer, len(before), shown.has_more)
