"""``/gaps``: what readers asked that the collection does not answer, for the admins; the
optional weekly digest (``GAPS_DIGEST_WEEKDAY``) and the daily purge of old reader records
(``READER_RETENTION_DAYS``), both JobQueue jobs."""

from __future__ import annotations

import asyncio
import logging

from telegram import Update
from telegram.error import TelegramError

from bot.context import BotContext
from bot.render import render_gaps
from index.gaps import group_disliked, group_gaps
from index.readers import days_ago

__all__ = ["GAP_DAYS", "digest_job", "gaps_command", "purge_job"]

logger = logging.getLogger(__name__)

GAP_DAYS = 7


def _report(context: BotContext, lang: str) -> str:
    readers = context.bot_data.readers
    since = days_ago(GAP_DAYS)
    return render_gaps(
        group_gaps(readers.gaps(since)), group_disliked(readers.disliked(since)), GAP_DAYS, lang
    )


async def gaps_command(update: Update, context: BotContext) -> None:
    """The last week's unanswered questions and lowest-rated answers, grouped by wording."""
    message = update.effective_message
    if message is None:
        return
    lang = context.language(update.effective_user)
    text = await asyncio.to_thread(_report, context, lang)
    await message.reply_html(text)


async def digest_job(context: BotContext) -> None:
    """The weekly digest: the same report, sent to every admin who has a chat with the bot."""
    lang = context.settings.default_language
    text = await asyncio.to_thread(_report, context, lang)
    for admin_id in context.settings.admin_ids:
        try:
            await context.bot.send_message(admin_id, text)
        except TelegramError as exc:  # an admin who never started the bot
            logger.warning("gaps digest not sent to %s: %s", admin_id, exc)


async def purge_job(context: BotContext) -> None:
    """Forget reader records older than READER_RETENTION_DAYS."""
    before = days_ago(context.settings.reader_retention_days)
    gone = await asyncio.to_thread(context.bot_data.readers.purge, before)
    if gone:
        logger.info("forgot %d reader records older than %s", gone, before)
