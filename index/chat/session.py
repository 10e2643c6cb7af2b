"""Chats with the index: a question, then its next page ("More") or a quote's surroundings.

Telegram-free, shared by the bot's handlers and the console. Each answer shown is kept in the
readers' store (``index.stores.readers``) under a short random key (what a button carries),
the chat's latest ones only, so that a button pressed on any replica or after a restart finds
its answer.

>>> session = ChatSession(service, open_readers(settings))  # doctest: +SKIP
>>> page = session.ask(42, "Qui est Tokaïev ?")  # doctest: +SKIP
>>> session.more(42, page.key).first  # doctest: +SKIP
3
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from index.chat.feedback import HORIZON_DAYS, VOTES_PER_PASSAGE, adjustments, passage_hash
from index.chat.followup import is_follow_up
from index.errors import AnswerExpiredError, PageSpentError
from index.models import Answer, Quote
from index.retrieval.search import Feedback
from index.service import IndexService
from index.stores.base import Filters
from index.stores.readers import Gap, ReaderStore, Scope, Turn, Vote, days_ago, now_iso

__all__ = ["KEY_PATTERN", "ChatSession", "Page", "scope_filters"]

# A kept answer's key: 8 URL-safe characters (fits in a button's 64 bytes).
KEY_PATTERN = r"[A-Za-z0-9_-]{8}"


@dataclass(frozen=True, slots=True)
class _Shown:
    """An answer as far as it was shown: what its More and Context buttons need."""

    question: str  # as searched: a follow-up's joined subject
    quotes: tuple[Quote, ...]  # every quote shown so far for this question, numbered from 1
    first: int  # index in ``quotes`` of this page's first quote
    has_more: bool
    spent: bool = False  # its More was used: the next page exists already
    filters: Filters | None = None  # as searched: a group's scope, a follow-up's articles
    lang: str = ""  # the reply's language: its buttons and next pages keep it ("": unknown)


@dataclass(frozen=True, slots=True)
class Page:
    """One message's worth of an answer: ``answer.quotes`` numbered from ``first + 1``."""

    key: str  # what the page's buttons carry; "" when there is nothing to come back to
    answer: Answer
    first: int
    has_more: bool
    scope: Scope = field(default_factory=Scope)  # the group's scope searched (a reply names it)
    # The language the answer was shown in, which its buttons and its More keep whoever
    # presses them; "" when not told (a page kept by an older version).
    lang: str = ""

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
    """The answers shown, kept in the readers' store: a button pressed on any replica, or
    after a restart, finds its answer."""

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
        "lang": shown.lang,
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
        record.get("lang", ""),
    )


class ChatSession:
    """Ask, then More and Context on what was shown, per chat. Blocking: run it off the event loop.

    Everything it keeps is in ``readers`` (shared by replicas): the answers shown, a chat's
    last question (so that a follow-up can lean on it, ``index.chat.followup``), the votes that
    shift answers, a group's scope (which narrows its searches), and the questions the
    articles do not answer (the gaps report).

    Args:
        service: the index it asks.
        readers: the readers' store (``index.stores.readers.open_readers``; a
            ``SqliteReaderStore`` in a temporary folder for a test).
        per_chat: how many answers a chat keeps for its buttons (older ones expire).
        follow_up_seconds: how long after a question a next one may be read as its
            follow-up without replying to it (0: only a reply is).
    """

    def __init__(
        self,
        service: IndexService,
        readers: ReaderStore,
        *,
        per_chat: int = 500,
        follow_up_seconds: float = 0.0,
    ) -> None:
        self.service = service
        self.readers = readers
        self.follow_up_seconds = follow_up_seconds
        self._shown = _StoredPages(readers, per_chat)

    def ask(self, chat_id: int, question: str, replied: bool = False, lang: str = "") -> Page:
        """The first page of the answer to ``question`` (``replied``: it answers one of ours),
        to be shown in ``lang``, which the page keeps for its buttons and next pages."""
        readers = self.readers
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
        return replace(self._keep(chat_id, subject, used, (), answer, lang), scope=scope)

    def scope(self, chat_id: int) -> Scope:
        """The part of the collection a chat sees: a group's chosen scope; everything for a
        private chat (whatever is stored)."""
        # Groups have negative ids.
        if chat_id >= 0:
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
                feedback=self._votes(shown.question),
            )
        except BaseException:
            self._shown.swap(chat_id, key, spent, shown)  # it may be pressed again
            raise
        if not answer.quotes:
            return Page("", answer, len(shown.quotes), False, lang=shown.lang)
        return self._keep(chat_id, shown.question, shown.filters, shown.quotes, answer, shown.lang)

    def vote(self, chat_id: int, key: str, user_id: int, value: int, number: int = 0) -> Quote:
        """A reader's vote on a kept answer: +1 or -1 on its quote ``number`` (1-based), or on
        the page's first quote when ``number`` is 0. Voting again replaces the vote."""
        readers = self.readers
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
        return Page(key, answer, shown.first, shown.has_more and not shown.spent, lang=shown.lang)

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
        lang: str = "",
    ) -> Page:
        if not answer.quotes:
            return Page("", answer, len(before), False, lang=lang)
        shown = _Shown(
            question,
            before + answer.quotes,
            len(before),
            bool(answer.more),
            filters=filters,
            lang=lang,
        )
        return Page(self._shown.put(chat_id, shown), answer, len(before), shown.has_more, lang=lang)
