"""Typed context for every handler (PTB's ``ContextTypes``): ``context.bot_data`` and ``chat_data``.

As in python-telegram-bot's ``examples/contexttypesbot.py``, the data live in plain classes
instead of string keys: ``context.bot_data.session`` is a ``ChatSession``, and so on.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from telegram import User
from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot, JobQueue

from bot.i18n import pick_language, reply_language
from bot.metrics import BotMetrics
from bot.settings import Settings
from bot.state import BotStats, ChangeQueue, RateLimiter
from index import (
    ArticleCollection,
    ChatSession,
    FeedRegistry,
    IndexService,
    ReaderStore,
    open_readers,
)

__all__ = ["CONTEXT_TYPES", "BotApplication", "BotContext", "BotData", "ChatData"]


@dataclass
class BotData:
    """What every handler shares; PTB makes it empty, ``setup`` fills it in once."""

    settings: Settings = field(init=False)
    service: IndexService = field(init=False)
    collection: ArticleCollection = field(init=False)
    session: ChatSession = field(init=False)  # answers shown, for More and Context
    readers: ReaderStore = field(init=False)  # turns, votes, gaps, scopes (index.stores.readers)
    limiter: RateLimiter = field(init=False)
    changes: ChangeQueue = field(init=False)  # /add, /remove, /reindex, one at a time
    feeds: FeedRegistry = field(init=False)
    stats: BotStats = field(default_factory=BotStats)
    metrics: BotMetrics = field(init=False)  # Prometheus (METRICS_PORT): this bot's registry
    # /gaps and the digest: one thread of their own, so that a long report never holds up the
    # threads that answer readers; and the admins whose /gaps is being made.
    reports: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="reports")
    )
    reports_for: set[int] = field(default_factory=set)

    def setup(self, settings: Settings, service: IndexService, metrics: BotMetrics) -> None:
        """Make the services handlers share, once, before the application starts.

        Args:
            settings: The bot's settings.
            service: The index the bot answers from.
            metrics: The process's Prometheus metrics (its registry and /healthz).
        """
        self.settings = settings
        self.metrics = metrics
        self.service = service
        self.collection = ArticleCollection(settings, service)
        self.readers = open_readers(settings)
        self.session = ChatSession(
            service,
            self.readers,
            per_chat=settings.answer_cache_size,
            follow_up_seconds=settings.follow_up_seconds,
        )
        self.limiter = RateLimiter(settings.rate_limit_per_minute)
        self.changes = ChangeQueue()
        self.feeds = FeedRegistry(settings.data_dir)
        metrics.watch_queue(self.changes.depth)
        metrics.watch_index(_index_counts(service))


def _index_counts(service: IndexService) -> Callable[[], tuple[int, int]]:
    def counts() -> tuple[int, int]:
        stats = service.stats()
        return stats.articles, stats.chunks

    return counts


@dataclass
class ChatData:
    """Per chat, in this process only; what replicas share is in ``BotData.readers``."""


class BotContext(CallbackContext[ExtBot[Any], dict[Any, Any], ChatData, BotData]):
    """``context`` in handlers."""

    @property
    def settings(self) -> Settings:
        """The bot's settings (``BotData.settings``)."""
        return self.bot_data.settings

    def language(self, user: User | None) -> str:
        """The language to speak to ``user`` in (their Telegram language, else the default)."""
        code = user.language_code if user else None
        return pick_language(code, self.settings.default_language)

    def reply_language(self, user: User | None, question: str) -> str:
        """The language of a reply to ``user``'s ``question``: the question's own when it is
        one of the catalog's and sure, else the user's Telegram language, else the default."""
        code = user.language_code if user else None
        return reply_language(question, code, self.settings.default_language)

    def is_admin(self, user: User | None) -> bool:
        """Whether ``user`` is one of ``ADMIN_IDS`` (no user never is)."""
        return user is not None and user.id in self.settings.admin_ids


CONTEXT_TYPES = ContextTypes(context=BotContext, chat_data=ChatData, bot_data=BotData)

BotApplication: TypeAlias = Application[
    ExtBot[Any], BotContext, dict[Any, Any], ChatData, BotData, JobQueue[BotContext]
]
