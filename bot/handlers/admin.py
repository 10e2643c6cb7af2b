"""Admin handlers: /reindex and /stats, the refusal non-admins get (/add: collection; /remove,
/edit: articles), and the reply to a command nobody handles.

The admin command list is written once, here: the handlers' registration, the refusal and the
command menus all read ``ADMIN_COMMANDS``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from telegram import Message, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import TelegramError

from bot.context import BotContext
from bot.i18n import reason_text, t, why
from bot.render import format_bytes, format_seconds, utf16_len
from bot.replies import NO_PREVIEW, reply_html
from bot.state import ChangeQueueFull
from index import IndexFailure, SyncReport

__all__ = [
    "ADMIN_COMMANDS",
    "READER_COMMANDS",
    "local_time",
    "refuse",
    "reindex",
    "stats_command",
    "unknown_command",
]

logger = logging.getLogger(__name__)

# The command menus, in order; each has its description as the i18n key "command_<name>".
READER_COMMANDS = ("ask", "sources", "help", "id")
ADMIN_COMMANDS = ("reindex", "add", "remove", "edit", "feeds", "gaps", "stats")
PROGRESS_EVERY = 2.0  # seconds between progress edits (Telegram limits edits per chat)
MAX_PROBLEMS_SHOWN = 10
_STAGES = frozenset({"stage_chunk", "stage_embed", "stage_write"})


async def refuse(update: Update, context: BotContext) -> None:
    """Tell a non-admin that the command is for admins, and log the attempt."""
    user = update.effective_user
    message = update.effective_message
    logger.warning(
        "refused admin command from user %s: %r",
        user.id if user else None,
        (message.text or message.caption or "")[:100] if message else "",
    )
    if message is not None:
        await reply_html(message, t("admin_only", context.language(user)))


async def unknown_command(update: Update, context: BotContext) -> None:
    """A command no handler took ("/foo", "/ajouter"): point to /help. In a group only
    "/foo@this_bot": a bare "/foo" there may be another bot's, "/foo@other_bot" is."""
    message = update.effective_message
    if message is None or not message.entities:
        return
    command = message.parse_entity(message.entities[0])  # filters.COMMAND: at offset 0
    name, _, addressed = command.partition("@")
    ours = (context.bot.username or "").lower()
    if addressed.lower() != ours if addressed else message.chat.type != ChatType.PRIVATE:
        return
    await reply_html(
        message, t("unknown_command", context.language(update.effective_user), command=name[:64])
    )


# ------------------------------------------------------------------------------ /reindex


class _Progress:
    """The latest progress text, set from the build thread and shown by ``show_until_done``."""

    def __init__(self, message: Message, lang: str, shown: str) -> None:
        self.message = message
        self.lang = lang
        self.latest = shown
        self.shown = shown

    def __call__(self, stage: str, done: int, total: int) -> None:
        """Progress callback of ``IndexService.rebuild`` (runs in the worker thread)."""
        name = t(f"stage_{stage}", self.lang) if f"stage_{stage}" in _STAGES else stage
        self.latest = t("reindex_progress", self.lang, stage=name, done=done, total=total)

    async def show_until_done(self) -> None:
        """Edit the status message at most every PROGRESS_EVERY seconds, only when it changed."""
        while True:
            await asyncio.sleep(PROGRESS_EVERY)
            await self.show(self.latest)

    async def show(self, text: str) -> None:
        if text == self.shown:
            return  # an identical edit is an error ("message is not modified")
        try:
            await self.message.edit_text(
                text, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW
            )
            self.shown = text
        except TelegramError as exc:
            logger.warning("could not edit the progress message: %s", exc)


def _summary(report: SyncReport, lang: str) -> str:
    text = t(
        "reindex_done",
        lang,
        articles=report.articles,
        passages=report.chunks,
        added=report.added,
        updated=report.updated,
        removed=report.removed,
        unchanged=report.unchanged,
        embedded=report.embedded,
        reused=report.reused,
        seconds=f"{report.seconds:.1f}",
    )
    for problem in report.problems[:MAX_PROBLEMS_SHOWN]:
        line = t(
            "reindex_skipped",
            lang,
            path=Path(problem.path).name,
            reason=reason_text(problem.reason, lang),
        )
        if utf16_len(text) + utf16_len(line) > 3900:
            break
        text += "\n" + line
    if len(report.problems) > MAX_PROBLEMS_SHOWN:
        text += f"\n… (+{len(report.problems) - MAX_PROBLEMS_SHOWN})"
    return text


async def _run_reindex(context: BotContext, status: Message, lang: str) -> None:
    """Rebuild in a worker thread, in turn, while the status message shows progress."""
    progress = _Progress(status, lang, t("reindex_started", lang))

    async def waiting(running: str) -> None:
        await progress.show(t("change_queued", lang, running=running))

    try:
        async with context.bot_data.changes.turn("/reindex", waiting):
            report = await _rebuild_showing(context, progress)
    except ChangeQueueFull:
        final = t("changes_full", lang)
    except Exception as exc:
        logger.exception("reindex failed")
        reason = why(exc, lang) if isinstance(exc, IndexFailure) else type(exc).__name__
        final = t("reindex_failed", lang, reason=reason)
    else:
        final = _summary(report, lang)
        stats = context.bot_data.stats
        stats.last_reindex_at = datetime.now(UTC)
        stats.last_reindex = (
            f"({report.articles} articles, {report.chunks} passages, {report.seconds:.1f} s)"
        )
        logger.info("reindex done: %s", stats.last_reindex)
    await progress.show(final)


async def _rebuild_showing(context: BotContext, progress: _Progress) -> SyncReport:
    """The rebuild itself, with its progress edited into the status message meanwhile."""
    editor = asyncio.create_task(progress.show_until_done())
    try:
        return await asyncio.to_thread(context.bot_data.collection.sync, progress)
    finally:
        editor.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await editor


async def reindex(update: Update, context: BotContext) -> None:
    """Rebuild the index in the background, showing progress; readers keep the old one."""
    message = update.effective_message
    if message is None:
        return
    lang = context.language(update.effective_user)
    if context.bot_data.changes.has("/reindex"):
        await reply_html(message, t("reindex_running", lang))
        return
    status = await reply_html(message, t("reindex_started", lang))
    context.application.create_task(_run_reindex(context, status, lang), update=update)


# ------------------------------------------------------------------------------ /stats


async def stats_command(update: Update, context: BotContext) -> None:
    """Show the index's size and model, and the bot's answer counts and latency."""
    message = update.effective_message
    if message is None:
        return
    lang = context.language(update.effective_user)
    index = await asyncio.to_thread(context.bot_data.service.stats)
    stats = context.bot_data.stats
    zone = ZoneInfo(context.settings.timezone)
    if stats.last_reindex_at is not None:
        last = f"{local_time(stats.last_reindex_at, zone)} {stats.last_reindex}"
    elif index.built_at:
        last = local_time(index.built_at, zone)
    else:
        last = t("never", lang)
    text = t(
        "stats",
        lang,
        articles=index.articles,
        passages=index.chunks,
        model=index.model,
        size=format_bytes(index.index_bytes),
        last=last,
        questions=stats.questions,
        answered=stats.outcomes["answer"],
        closest=stats.outcomes["closest"],
        declined=stats.outcomes["declined"],
        p50=format_seconds(stats.latency(50)),
        p95=format_seconds(stats.latency(95)),
        window=len(stats.latencies),
    )
    await reply_html(message, text)


def local_time(moment: datetime | str, zone: ZoneInfo) -> str:
    """``moment`` (aware, or ISO 8601; without an offset: UTC) as /feeds shows times: the
    day and the time in TIMEZONE.

    >>> local_time("2026-12-06T00:16:03+00:00", ZoneInfo("Europe/Paris"))
    '06/12/2026 01:16'
    >>> local_time(datetime(2026, 7, 1, 23, 30, tzinfo=UTC), ZoneInfo("America/New_York"))
    '01/07/2026 19:30'
    """
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).strftime("%d/%m/%Y %H:%M")
