"""Typed context for every handler (PTB's ``ContextTypes``): ``context.bot_data`` and ``chat_data``.

As in python-telegram-bot's ``examples/contexttypesbot.py``, the data live in plain classes
instead of string keys: ``context.bot_data.session`` is a ``ChatSession``, and so on.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from telegram import User
from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot, JobQueue

from bot.i18n import pick_language
from bot.settings import Settings
from bot.state import BotStats, ChangeQueue, RateLimiter
from index.collection import ArticleCollection
from index.feeds import FeedRegistry
from index.readers import ReaderStore, open_reader_store
from index.service import IndexService
from index.session import ChatSession

__all__ = ["CONTEXT_TYPES", "BotApplication", "BotContext", "BotData", "ChatData"]

MAX_PENDING_REMOVALS = 20


@dataclass
class BotData:
    """What every handler shares; PTB makes it empty, ``setup`` fills it in once."""

    settings: Settings = field(init=False)
    service: IndexService = field(init=False)
    collection: ArticleCollection = field(init=False)
    session: ChatSession = field(init=False)  # answers shown, for More and Context
    readers: ReaderStore = field(init=False)  # turns, votes, gaps, scopes (index.readers)
    limiter: RateLimiter = field(init=False)
    changes: ChangeQueue = field(init=False)  # /add, /remove, /reindex, one at a time
    feeds: FeedRegistry = field(init=False)
    stats: BotStats = field(default_factory=BotStats)

    def setup(self, settings: Settings, service: IndexService) -> None:
        self.settings = settings
        self.service = service
        self.collection = ArticleCollection(settings, service)
        database_url = settings.database_url.get_secret_value() if settings.database_url else None
        self.readers = open_reader_store(settings.data_dir, database_url)
        self.session = ChatSession(
            service,
            per_chat=settings.answer_cache_size,
            readers=self.readers,
            follow_up_seconds=settings.follow_up_seconds,
        )
        self.limiter = RateLimiter(settings.rate_limit_per_minute)
        self.changes = ChangeQueue()
        self.feeds = FeedRegistry(settings.data_dir)


@dataclass
class ChatData:
    """Per chat: the removals an admin has been asked to confirm, by button token."""

    pending_removals: OrderedDict[str, str] = field(default_factory=OrderedDict)

    def ask_removal(self, article_id: str) -> str:
        """A token for the Yes/Cancel buttons of removing ``article_id``."""
        token = secrets.token_urlsafe(6)
        self.pending_removals[token] = article_id
        while len(self.pending_removals) > MAX_PENDING_REMOVALS:
            self.pending_removals.popitem(last=False)
        return token

    def take_removal(self, token: str) -> str | None:
        """The article id of a confirmation, once (None when unknown or already answered)."""
        return self.pending_removals.pop(token, None)


class BotContext(CallbackContext[ExtBot[Any], dict[Any, Any], ChatData, BotData]):
    """``context`` in handlers."""

    @property
    def settings(self) -> Settings:
        return self.bot_data.settings

    def language(self, user: User | None) -> str:
        """The language to speak to ``user`` in (their Telegram language, else the default)."""
        code = user.language_code if user else None
        return pick_language(code, self.settings.default_language)

    def is_admin(self, user: User | None) -> bool:
        return user is not None and user.id in self.settings.admin_ids


CONTEXT_TYPES = ContextTypes(context=BotContext, chat_data=ChatData, bot_data=BotData)

BotApplication: TypeAlias = Application[
    ExtBot[Any], BotContext, dict[Any, Any], ChatData, BotData, JobQueue[BotContext]
]
