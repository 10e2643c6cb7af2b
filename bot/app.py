"""``build_application(settings, service)``: every handler wired in one place."""

from __future__ import annotations

import asyncio
import datetime
import logging
import re
from zoneinfo import ZoneInfo

from telegram import (
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    LinkPreviewOptions,
)
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    Defaults,
    InlineQueryHandler,
    JobQueue,
    MessageHandler,
    filters,
)

from bot.context import CONTEXT_TYPES, BotApplication, BotContext
from bot.delivery import DeliveryRateLimiter
from bot.handlers import add, admin, articles, callbacks, feeds, gaps, reader, scope
from bot.i18n import LANGUAGES, t_plain
from bot.metrics import BotMetrics
from bot.settings import Settings
from index import IndexService

__all__ = [
    "GROUP_ADMIN_COMMANDS",
    "MAX_RETRIES",
    "bot_commands",
    "build_application",
    "set_commands",
]

logger = logging.getLogger(__name__)

MAX_RETRIES = 3  # retries of a failed Bot API call (429, 5xx, never sent; bot/delivery.py)


GROUP_ADMIN_COMMANDS = ("scope",)  # in a group's menu for its administrators


def bot_commands(lang: str, admin_commands: bool, group_admin: bool = False) -> list[BotCommand]:
    """The command menu in ``lang``, with the admin commands for admins, and /scope for a
    group's administrators."""
    names = admin.READER_COMMANDS + (admin.ADMIN_COMMANDS if admin_commands else ())
    names += GROUP_ADMIN_COMMANDS if group_admin else ()
    return [BotCommand(name, t_plain(f"command_{name}", lang)) for name in names]


async def set_commands(application: BotApplication) -> None:
    """Register the command menus (post_init): readers' for everyone, with /scope for group
    administrators, and admins' per admin chat."""
    settings = application.bot_data.settings
    bot = application.bot
    try:
        await bot.set_my_commands(
            bot_commands(settings.default_language, False), scope=BotCommandScopeDefault()
        )
        for lang in LANGUAGES:
            await bot.set_my_commands(bot_commands(lang, False), language_code=lang)
        group_admins = BotCommandScopeAllChatAdministrators()
        await bot.set_my_commands(
            bot_commands(settings.default_language, False, True), scope=group_admins
        )
        for lang in ("fr", "en"):
            await bot.set_my_commands(
                bot_commands(lang, False, True), scope=group_admins, language_code=lang
            )
    except TelegramError as exc:
        logger.warning("could not set the command menu: %s", exc)
    for admin_id in settings.admin_ids:
        scope = BotCommandScopeChat(admin_id)
        try:
            await bot.set_my_commands(bot_commands(settings.default_language, True), scope=scope)
            for lang in LANGUAGES:
                await bot.set_my_commands(bot_commands(lang, True), scope=scope, language_code=lang)
        except TelegramError as exc:  # e.g. the admin never opened a chat with the bot
            logger.warning("could not set the admin menu for %s: %s", admin_id, exc)


async def post_init(application: BotApplication) -> None:
    """Once the bot is up: its command menus, and the wire-copy fingerprints made in the
    background, so that the first /add does not wait for them."""
    await set_commands(application)
    # As a job, which runs once the Application has started: a task made here (post_init runs
    # before) drew PTB's "won't be automatically awaited" warning at every start.
    if application.job_queue is not None:
        application.job_queue.run_once(_warm_wire_index, when=0, name="wire-index")
    admins = application.bot_data.settings.admin_ids
    logger.info(
        "@%s is up; send /id to the bot to learn your numeric Telegram id for ADMIN_IDS%s",
        application.bot.username,
        f" ({len(admins)} admin{'s' if len(admins) != 1 else ''} set)"
        if admins
        else " (ADMIN_IDS is empty: nobody can manage the articles yet)",
    )


async def _warm_wire_index(context: BotContext) -> None:
    try:
        await asyncio.to_thread(context.bot_data.collection.wire_index)
    except Exception as exc:  # the index closed meanwhile (shutdown): the next /add makes it
        logger.info("wire fingerprints not made in the background: %r", exc)


WEEKDAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")


def build_application(
    settings: Settings, service: IndexService, metrics: BotMetrics | None = None
) -> BotApplication:
    """The bot, ready for ``run_polling``/``run_webhook`` (or ``initialize``/``start`` in tests).

    Args:
        settings: the bot's settings.
        service: the index, built or loaded.
        metrics: where the bot counts questions, polls... (served by ``python -m bot`` on
            METRICS_PORT); None: a registry of its own that nobody reads.

    Returns:
        The Application, its handlers and jobs added.

    Raises:
        ValueError: TELEGRAM_BOT_TOKEN is not set.
    """
    if settings.telegram_bot_token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    application: BotApplication = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(settings.telegram_base_url)
        .base_file_url(settings.telegram_base_file_url)
        .context_types(CONTEXT_TYPES)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .rate_limiter(DeliveryRateLimiter(max_retries=MAX_RETRIES))
        .concurrent_updates(True)  # a slow question must not hold up the others
        .job_queue(JobQueue[BotContext]())  # polls the feeds (FEED_INTERVAL_SECONDS)
        .post_init(post_init)
        .build()
    )
    application.bot_data.setup(settings, service, metrics or BotMetrics())

    admins = filters.User(user_id=settings.admin_ids)
    private = filters.ChatType.PRIVATE
    groups = filters.ChatType.GROUPS
    # Commands and uploads act on new messages only: editing an old "/remove x" or "/add"
    # message must not run it again.
    new_message = filters.UpdateType.MESSAGE
    add_caption = filters.Document.ALL & filters.CaptionRegex(add.ADD_CAPTION)

    application.add_handlers(
        [
            CommandHandler("start", reader.start, filters=new_message),
            CommandHandler("help", reader.help_command, filters=new_message),
            CommandHandler("id", reader.id_command, filters=new_message),
            CommandHandler("ask", reader.ask_command, filters=new_message),
            CommandHandler("sources", reader.sources_command, filters=new_message),
            # Admin commands: the guard at registration, then a polite refusal for the others.
            CommandHandler("reindex", admin.reindex, filters=admins & new_message),
            CommandHandler("add", add.add_command, filters=admins & new_message),
            CommandHandler("remove", articles.remove_command, filters=admins & new_message),
            CommandHandler("edit", articles.edit_command, filters=admins & new_message),
            CommandHandler("stats", admin.stats_command, filters=admins & new_message),
            CommandHandler("feeds", feeds.feeds_command, filters=admins & new_message),
            CommandHandler("gaps", gaps.gaps_command, filters=admins & new_message),
            # Group administrators (checked with getChatMember), not the bot's admins.
            CommandHandler("scope", scope.scope_command, filters=new_message),
            MessageHandler(add_caption & admins & new_message, add.add_document),
            # An admin's forwarded post, in private, is an article to add (not a question).
            MessageHandler(
                private
                & admins
                & new_message
                & filters.FORWARDED
                & (filters.TEXT | filters.CAPTION),
                add.add_forwarded,
            ),
            # An admin's document without /add, in private: offered with an "Add" button (a
            # reader's stays unanswered: readers are not told of admin features).
            MessageHandler(
                private & admins & new_message & filters.Document.ALL & ~add_caption,
                add.offer_document,
            ),
            CommandHandler(list(admin.ADMIN_COMMANDS), admin.refuse, filters=new_message),
            MessageHandler(add_caption & new_message, add.refuse_document),
            # Any other command: "unknown, see /help" (in groups only when addressed to us).
            MessageHandler(filters.COMMAND & new_message, admin.unknown_command),
            # Questions.
            MessageHandler(
                private & new_message & filters.TEXT & ~filters.COMMAND, reader.private_text
            ),
            MessageHandler(
                groups & new_message & filters.TEXT & ~filters.COMMAND, reader.group_text
            ),
            InlineQueryHandler(reader.inline_query),
            # Buttons: each pattern accepts exactly what bot.handlers.callbacks writes.
            CallbackQueryHandler(reader.more_button, pattern=_whole(callbacks.MORE)),
            CallbackQueryHandler(reader.context_button, pattern=_whole(callbacks.CONTEXT)),
            CallbackQueryHandler(reader.vote_button, pattern=_whole(callbacks.VOTE)),
            CallbackQueryHandler(reader.wrong_button, pattern=_whole(callbacks.WRONG)),
            CallbackQueryHandler(scope.scope_button, pattern=_whole(callbacks.SCOPE)),
            CallbackQueryHandler(reader.sources_page, pattern=_whole(callbacks.SOURCES)),
            CallbackQueryHandler(reader.overview_more, pattern=_whole(callbacks.OVERVIEW)),
            CallbackQueryHandler(articles.remove_button, pattern=_whole(callbacks.REMOVE)),
            CallbackQueryHandler(add.add_button, pattern=_whole(callbacks.ADD)),
            CallbackQueryHandler(feeds.feeds_page, pattern=_whole(callbacks.FEEDS)),
            CallbackQueryHandler(reader.unknown_button),
        ]
    )
    application.add_error_handler(reader.error_handler)
    jobs = application.job_queue
    if jobs is not None:
        jobs.run_repeating(gaps.purge_job, interval=86_400, first=60, name="reader-purge")
        if settings.gaps_digest_weekday:
            day = WEEKDAYS.index(settings.gaps_digest_weekday)  # PTB counts from Sunday
            at = datetime.time(9, tzinfo=ZoneInfo(settings.timezone))
            jobs.run_daily(gaps.digest_job, time=at, days=(day,), name="gaps-digest")
    if settings.feeds_digest_time is not None and jobs is not None:
        at = settings.feeds_digest_time.replace(tzinfo=ZoneInfo(settings.timezone))
        jobs.run_daily(feeds.digest_job, time=at, name="feeds-digest")
    if settings.feed_interval_seconds > 0 and application.job_queue is not None:
        application.job_queue.run_repeating(
            feeds.poll_feeds_job,
            interval=settings.feed_interval_seconds,
            first=settings.feed_interval_seconds,
            name="feeds",
        )
    return application


def _whole(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """PTB matches callback data with ``re.match``: anchor the end too."""
    return re.compile(rf"(?:{pattern.pattern})\Z")
