"""``build_application(settings, service)``: every handler wired in one place."""

from __future__ import annotations

import logging

from telegram import BotCommand, BotCommandScopeChat, BotCommandScopeDefault, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from bot import admin, collection, handlers
from bot.context import BotApplication, BotContext, init_bot_data
from bot.settings import Settings
from index.service import IndexService

__all__ = ["MAX_RETRIES", "bot_commands", "build_application", "set_commands"]

logger = logging.getLogger(__name__)

MAX_RETRIES = 3  # RetryAfter (429) and flood waits are retried this many times

_READER_COMMANDS = {
    "fr": [
        ("ask", "Poser une question sur les articles"),
        ("sources", "La liste des articles"),
        ("help", "Comment poser une question"),
    ],
    "en": [
        ("ask", "Ask a question about the articles"),
        ("sources", "The list of articles"),
        ("help", "How to ask"),
    ],
}
_ADMIN_COMMANDS = {
    "fr": [
        ("reindex", "Reconstruire l'index"),
        ("add", "Ajouter un article (document ou URL)"),
        ("remove", "Retirer un article par son ID"),
        ("stats", "Statistiques de l'index et du bot"),
    ],
    "en": [
        ("reindex", "Rebuild the index"),
        ("add", "Add an article (document or URL)"),
        ("remove", "Remove an article by its id"),
        ("stats", "Index and bot statistics"),
    ],
}


def bot_commands(lang: str, admin_commands: bool) -> list[BotCommand]:
    """The command menu in ``lang``, with the admin commands for admins."""
    pairs = _READER_COMMANDS[lang] + (_ADMIN_COMMANDS[lang] if admin_commands else [])
    return [BotCommand(name, description) for name, description in pairs]


async def set_commands(application: BotApplication) -> None:
    """Register the command menus (post_init): readers' for everyone, admins' per admin chat."""
    settings: Settings = application.bot_data["settings"]
    bot = application.bot
    try:
        await bot.set_my_commands(
            bot_commands(settings.default_language, False), scope=BotCommandScopeDefault()
        )
        for lang in ("fr", "en"):
            await bot.set_my_commands(bot_commands(lang, False), language_code=lang)
    except TelegramError as exc:
        logger.warning("could not set the command menu: %s", exc)
    for admin_id in settings.admin_ids:
        scope = BotCommandScopeChat(admin_id)
        try:
            await bot.set_my_commands(bot_commands(settings.default_language, True), scope=scope)
            for lang in ("fr", "en"):
                await bot.set_my_commands(bot_commands(lang, True), scope=scope, language_code=lang)
        except TelegramError as exc:  # e.g. the admin never opened a chat with the bot
            logger.warning("could not set the admin menu for %s: %s", admin_id, exc)


def build_application(settings: Settings, service: IndexService) -> BotApplication:
    """The bot, ready for ``run_polling``/``run_webhook`` (or ``initialize``/``start`` in tests)."""
    if settings.telegram_bot_token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    application: BotApplication = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(settings.telegram_base_url)
        .base_file_url(settings.telegram_base_file_url)
        .context_types(ContextTypes(context=BotContext))
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .rate_limiter(AIORateLimiter(max_retries=MAX_RETRIES))
        .concurrent_updates(True)  # a slow question must not hold up the others
        .job_queue(None)
        .post_init(set_commands)
        .build()
    )
    init_bot_data(application.bot_data, settings, service)

    admins = filters.User(user_id=settings.admin_ids)
    private = filters.ChatType.PRIVATE
    groups = filters.ChatType.GROUPS
    new_message = filters.UpdateType.MESSAGE
    add_caption = filters.Document.ALL & filters.CaptionRegex(collection.ADD_CAPTION)

    application.add_handlers(
        [
            CommandHandler("start", handlers.start),
            CommandHandler("help", handlers.help_command),
            CommandHandler("ask", handlers.ask_command, filters=new_message),
            CommandHandler("sources", handlers.sources_command),
            # Admin commands: the guard at registration, then a polite refusal for the others.
            CommandHandler("reindex", admin.reindex, filters=admins),
            CommandHandler("add", collection.add_command, filters=admins & new_message),
            CommandHandler("remove", collection.remove_command, filters=admins),
            CommandHandler("stats", admin.stats_command, filters=admins),
            MessageHandler(add_caption & admins & new_message, collection.add_document),
            CommandHandler(list(admin.ADMIN_COMMANDS), admin.refuse),
            MessageHandler(add_caption & new_message, admin.refuse),
            # Questions.
            MessageHandler(
                private & new_message & filters.TEXT & ~filters.COMMAND, handlers.private_text
            ),
            MessageHandler(
                groups & new_message & filters.TEXT & ~filters.COMMAND, handlers.group_text
            ),
            InlineQueryHandler(handlers.inline_query),
            # Buttons.
            CallbackQueryHandler(handlers.more_button, pattern=r"^more:"),
            CallbackQueryHandler(handlers.context_button, pattern=r"^ctx:"),
            CallbackQueryHandler(handlers.sources_page, pattern=r"^src:\d+$"),
            CallbackQueryHandler(collection.remove_button, pattern=r"^rm:[yn]:"),
        ]
    )
    application.add_error_handler(handlers.error_handler)
    return application
