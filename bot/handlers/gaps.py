"""``/gaps``: what readers asked that the collection does not answer, for the admins; the
optional weekly digest (``GAPS_DIGEST_WEEKDAY``) and the daily purge of old reader records
(``READER_RETENTION_DAYS``), both JobQueue jobs.

Reports are made in their own thread (``BotData.reports``), never in the pool that answers
readers, one at a time; an admin who sends ``/gaps`` again while theirs is being made is
told so instead of queuing another."""

from __future__ import annotations

import asyncio
import logging

from telegram import Update
from telegram.error import TelegramError

from bot.context import BotContext
from bot.i18n import t
from bot.render import render_gaps
from index import MAX_READ, days_ago, group_disliked, group_gaps

__all__ = ["GAP_DAYS", "digest_job", "gaps_command", "purge_job"]

logger = logging.getLogger(__name__)

GAP_DAYS = 7


def _report(context: BotContext, lang: str) -> str:
    readers = context.bot_data.readers
    since = days_ago(GAP_DAYS)
    return render_gaps(
        group_gaps(readers.gaps(since, MAX_READ)),
        group_disliked(readers.disliked(since, MAX_READ)),
        GAP_DAYS,
        lang,
    )


async def _made(context: BotContext, lang: str) -> str:
    """The report, made in the reports' own thread."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(context.bot_data.reports, _report, context, lang)


async def gaps_command(update: Update, context: BotContext) -> None:
    """The last week's unanswered questions and lowest-rated answers, grouped by wording."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None:
        return
    lang = context.language(user)
    running = context.bot_data.reports_for
    if user.id in running:
        await message.reply_html(t("gaps_busy", lang))
        return
    running.add(user.id)
    try:
        text = await _made(context, lang)
    finally:
        running.discard(user.id)
    await message.reply_html(text)


async def digest_job(context: BotContext) -> None:
    """The weekly digest: the same report, sent to every admin who has a chat with the bot."""
    lang = context.settings.default_language
    text = await _made(context, lang)
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
