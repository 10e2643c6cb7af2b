"""The typed ``CallbackContext`` every handler receives: the service, settings and state."""

from __future__ import annotations

from typing import Any, TypeAlias, cast

from telegram import User
from telegram.ext import Application, CallbackContext, ExtBot

from bot.i18n import pick_language
from bot.settings import Settings
from bot.state import AnswerCache, BotStats, RateLimiter, StoredAnswer
from index.service import IndexService

__all__ = ["BotApplication", "BotContext", "init_bot_data"]

_SERVICE = "service"
_SETTINGS = "settings"
_STATS = "stats"
_ANSWERS = "answers"
_PENDING = "pending_removals"
_LIMITER = "rate_limiter"


class BotContext(CallbackContext[ExtBot[Any], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """``context`` in handlers: long-lived objects live in ``bot_data``, reached through here."""

    @property
    def service(self) -> IndexService:
        return cast(IndexService, self.bot_data[_SERVICE])

    @property
    def settings(self) -> Settings:
        return cast(Settings, self.bot_data[_SETTINGS])

    @property
    def stats(self) -> BotStats:
        return cast(BotStats, self.bot_data[_STATS])

    @property
    def answers(self) -> AnswerCache[StoredAnswer]:
        """Answers shown per chat, for the More and Context buttons."""
        return cast(AnswerCache[StoredAnswer], self.bot_data[_ANSWERS])

    @property
    def pending_removals(self) -> AnswerCache[str]:
        """Article ids awaiting a Yes/Cancel from an admin, per chat."""
        return cast(AnswerCache[str], self.bot_data[_PENDING])

    @property
    def rate_limiter(self) -> RateLimiter:
        return cast(RateLimiter, self.bot_data[_LIMITER])

    def language(self, user: User | None) -> str:
        """The language to speak to ``user`` in (their Telegram language, else the default)."""
        code = user.language_code if user else None
        return pick_language(code, self.settings.default_language)

    def is_admin(self, user: User | None) -> bool:
        return user is not None and user.id in self.settings.admin_ids


BotApplication: TypeAlias = Application[
    ExtBot[Any], BotContext, dict[Any, Any], dict[Any, Any], dict[Any, Any], None
]


def init_bot_data(bot_data: dict[str, Any], settings: Settings, service: IndexService) -> None:
    """Put the service, settings and fresh state into ``bot_data``."""
    bot_data[_SERVICE] = service
    bot_data[_SETTINGS] = settings
    bot_data[_STATS] = BotStats()
    bot_data[_ANSWERS] = AnswerCache[StoredAnswer](per_chat=settings.answer_cache_size)
    bot_data[_PENDING] = AnswerCache[str](per_chat=50)
    bot_data[_LIMITER] = RateLimiter(settings.rate_limit_per_minute)
