"""``/feeds``: admins subscribe to RSS and Atom feeds; a JobQueue job polls them all day.

``/feeds`` lists the subscriptions with their health, ``/feeds add URL`` reads the feed once
(a URL that is not a feed is refused, nothing kept) and adds its entries, ``/feeds remove ID``
unsubscribes (the articles already added stay). Every FEED_INTERVAL_SECONDS the job polls each
feed in turn (``index.feeds.poll_feed``); each article is added in the same turn as admins'
changes, so a poll never runs beside a /reindex.
"""

from __future__ import annotations

import asyncio
import html
import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from telegram import Message, Update

from bot.context import BotContext
from bot.i18n import t
from bot.replies import reply_html, typing
from bot.state import ChangeQueueFull
from index.collection import Added
from index.feeds import Feed, FeedBusy, FeedError, FetchError, PollReport, failed, poll_feed

__all__ = ["feeds_command", "poll_feeds_job"]

logger = logging.getLogger(__name__)


async def feeds_command(update: Update, context: BotContext) -> None:
    """``/feeds``, ``/feeds add URL``, ``/feeds remove ID``."""
    message = update.effective_message
    if message is None:
        return
    lang = context.language(update.effective_user)
    args = context.args or []
    if not args:
        await reply_html(message, _list(context, lang))
    elif args[0].lower() == "add" and len(args) == 2:
        await _subscribe(message, args[1], context, lang)
    elif args[0].lower() == "remove" and len(args) == 2:
        removed = await asyncio.to_thread(context.bot_data.feeds.remove, args[1].strip().lower())
        key = "feeds_removed" if removed else "feeds_unknown"
        await reply_html(message, t(key, lang, id=args[1][:20], title=_name(removed)))
    else:
        await reply_html(message, t("feeds_usage", lang))


async def _subscribe(message: Message, url: str, context: BotContext, lang: str) -> None:
    registry = context.bot_data.feeds
    try:
        feed, created = await asyncio.to_thread(registry.add, url)
    except (FetchError, FeedError) as exc:
        await reply_html(message, t("feeds_refused", lang, reason=str(exc)))
        return
    if not created:
        await reply_html(message, t("feeds_already", lang, id=feed.id, title=_name(feed)))
        return
    async with typing(context, message.chat_id):
        report = await _poll(feed, context)
    if report.error is not None and report.feed.last_success_at is None:
        await asyncio.to_thread(registry.remove, feed.id)  # never read: not a subscription
        await reply_html(message, t("feeds_refused", lang, reason=report.error))
        return
    await reply_html(
        message,
        t("feeds_added", lang, id=feed.id, title=_name(report.feed), added=len(report.added)),
    )


async def poll_feeds_job(context: BotContext) -> None:
    """The JobQueue's callback: poll every feed once; one feed's failure never stops the rest."""
    data = context.bot_data
    with data.feeds.polling() as ours:
        if not ours:
            return  # a round is still at work, here (a slow server) or in another replica
        for feed in await asyncio.to_thread(data.feeds.all):
            report = await _poll(feed, context)
            if report.error or report.skipped:
                logger.info("feed %s: %s", feed.id, report.error or report.skipped[0])


async def _poll(feed: Feed, context: BotContext) -> PollReport:
    data = context.bot_data

    async def add(name: str, content: bytes) -> Added:
        try:
            async with data.changes.turn("feed"):
                return await asyncio.to_thread(data.collection.add_bytes, name, content)
        except ChangeQueueFull as exc:
            raise FeedBusy(str(exc)) from exc

    try:
        report = await poll_feed(feed, data.collection, add)
    except Exception as exc:  # a bug must not stop the job: said in the feed's health
        logger.exception("polling feed %s failed", feed.id)
        reason = f"internal error ({type(exc).__name__})"
        report = PollReport(failed(feed, reason), error=reason)
    await asyncio.to_thread(data.feeds.save, report.feed)
    return report


def _list(context: BotContext, lang: str) -> str:
    feeds = context.bot_data.feeds.all()
    if not feeds:
        return t("feeds_empty", lang)
    zone = ZoneInfo(context.settings.timezone)
    lines = [t("feeds_header", lang, count=len(feeds))]
    for feed in feeds:
        lines.append(
            f"\n<code>{html.escape(feed.id)}</code> — {html.escape(_name(feed)[:150])}\n"
            + t(
                "feeds_health",
                lang,
                success=_when(feed.last_success_at, zone, lang),
                added=feed.added,
            )
        )
        if feed.last_error:
            lines.append(
                t(
                    "feeds_error",
                    lang,
                    when=_when(feed.last_error_at, zone, lang),
                    reason=feed.last_error,
                )
            )
    return "\n".join(lines)


def _name(feed: Feed | None) -> str:
    return (feed.title or feed.url) if feed else ""


def _when(moment: str | None, zone: ZoneInfo, lang: str) -> str:
    if not moment:
        return "jamais" if lang == "fr" else "never"
    local = datetime.fromisoformat(moment.replace("Z", "+00:00")).astimezone(zone)
    return local.strftime("%d/%m/%Y %H:%M")
