"""``/feeds``: admins subscribe to RSS and Atom feeds; a JobQueue job polls them all day.

``/feeds`` lists the subscriptions with their health, in pages that each fit a message (Prev
and Next buttons), ``/feeds add URL`` reads the feed once
(a URL that is not a feed is refused, nothing kept) and adds its entries, ``/feeds remove ID``
unsubscribes (the articles already added stay). Every FEED_INTERVAL_SECONDS the job polls each
feed in turn (``index.collection.feeds.poll_feed``); each article is added in the same turn as
admins' changes, so a poll never runs beside a /reindex. One process at a time polls (a round, or an
admin's first read of a new feed: the other is told it will be read next time).

With FEEDS_DIGEST_TIME, a daily job sends each admin a note of what each feed added since the
last note (titles, entries skipped), in the language of their last /feeds; nothing when
nothing happened. The counts are taken and reset in one step of the registry, so replicas
that share DATA_DIR send one note between them.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from telegram import Message, Update, User
from telegram.error import TelegramError

from bot.context import BotContext
from bot.handlers.callbacks import feeds_keyboard
from bot.i18n import stored_reason_text, t, why
from bot.render import MAX_MESSAGE, utf16_len
from bot.replies import admin_press, edit_page, reply_html, typing
from bot.state import ChangeQueueFull
from index import (
    Added,
    Feed,
    FeedBusy,
    FeedError,
    FeedNews,
    FetchError,
    PollReport,
    Reason,
    Tried,
    failed,
    poll_feed,
    stored_english,
)

__all__ = [
    "digest_job",
    "feeds_command",
    "feeds_page",
    "poll_feeds_job",
    "render_feeds",
    "render_news",
]

logger = logging.getLogger(__name__)

FEEDS_PER_PAGE = 10  # fewer when their health lines are long: a page always fits a message
MAX_NOTE_MESSAGES = 5  # of the daily note, per admin; the feeds past them are counted
_MARKUP = re.compile(r"</?[a-z][^>]*>")


async def feeds_command(update: Update, context: BotContext) -> None:
    """``/feeds``, ``/feeds add URL``, ``/feeds remove ID``."""
    message = update.effective_message
    if message is None:
        return
    lang = context.language(update.effective_user)
    await _remember_language(update.effective_user, lang, context)
    args = context.args or []
    if not args:
        feeds = await asyncio.to_thread(context.bot_data.feeds.all)
        text, page, pages = render_feeds(feeds, 0, lang, ZoneInfo(context.settings.timezone))
        await reply_html(message, text, feeds_keyboard(page, pages, lang))
    elif args[0].lower() == "add" and len(args) == 2:
        await _subscribe(message, args[1], context, lang)
    elif args[0].lower() == "remove" and len(args) == 2:
        removed = await asyncio.to_thread(context.bot_data.feeds.remove, args[1].strip().lower())
        key = "feeds_removed" if removed else "feeds_unknown"
        await reply_html(message, t(key, lang, id=args[1][:20], title=_name(removed)))
    else:
        await reply_html(message, t("feeds_usage", lang))


async def _remember_language(user: User | None, lang: str, context: BotContext) -> None:
    """The daily note goes to each admin in the language of their last /feeds."""
    if user is not None:
        await asyncio.to_thread(context.bot_data.feeds.remember_language, user.id, lang)


async def feeds_page(update: Update, context: BotContext) -> None:
    """Show another page of /feeds in place (admins only: the data can be forged)."""
    pressed = await admin_press(update, context)
    if pressed is None or context.match is None:
        return
    query, lang = pressed
    await query.answer()
    feeds = await asyncio.to_thread(context.bot_data.feeds.all)
    zone = ZoneInfo(context.settings.timezone)
    text, page, pages = render_feeds(feeds, int(context.match[1]), lang, zone)
    await edit_page(query, text, feeds_keyboard(page, pages, lang))


async def _subscribe(message: Message, url: str, context: BotContext, lang: str) -> None:
    registry = context.bot_data.feeds
    try:
        feed, created = await asyncio.to_thread(registry.add, url)
    except (FetchError, FeedError) as exc:
        await reply_html(message, t("feeds_refused", lang, reason=why(exc, lang)))
        return
    if not created:
        await reply_html(message, t("feeds_already", lang, id=feed.id, title=_name(feed)))
        return
    with registry.polling() as ours:
        if not ours:  # a round is at work (here or in a replica): it must not be polled twice
            await reply_html(message, t("feeds_added_later", lang, id=feed.id, title=_name(feed)))
            return
        async with typing(context, message.chat_id):
            report = await _poll(feed, context)
    if report.error is not None and report.feed.last_success_at is None:
        await asyncio.to_thread(registry.remove, feed.id)  # never read: not a subscription
        await reply_html(
            message, t("feeds_refused", lang, reason=stored_reason_text(report.error, lang))
        )
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
                logger.info(
                    "feed %s: %s", feed.id, stored_english(report.error or report.skipped[0])
                )


async def _poll(feed: Feed, context: BotContext) -> PollReport:
    """Poll one feed, saving each entry's outcome as it comes, and the feed at the end."""
    data = context.bot_data
    latest = feed  # the state last saved: what a failure later in the poll builds on
    seen = await asyncio.to_thread(data.feeds.seen, feed.id)

    async def add(name: str, content: bytes) -> Added:
        try:
            async with data.changes.turn("feed"):
                return await asyncio.to_thread(data.collection.add_bytes, name, content)
        except ChangeQueueFull as exc:
            raise FeedBusy(str(exc)) from exc

    async def save(progress: Feed, tried: Tried) -> None:
        nonlocal latest
        latest = progress
        await asyncio.to_thread(data.feeds.record, progress, tried)

    try:
        report = await poll_feed(feed, data.collection, add, save, seen=seen)
    except Exception as exc:  # a bug must not stop the job: said in the feed's health
        logger.exception("polling feed %s failed", feed.id)
        reason = Reason("internal_error", {"kind": type(exc).__name__}).to_json()
        report = PollReport(failed(latest, reason), error=reason)
    await asyncio.to_thread(data.feeds.save, report.feed, report.seen)
    data.metrics.feed_polled(feed.id, report.error is not None, len(report.added))
    return report


async def digest_job(context: BotContext) -> None:
    """The daily note: what each feed added since the last one, to every admin."""
    registry = context.bot_data.feeds
    since, news = await asyncio.to_thread(registry.take_news)
    if not news:
        return  # nothing happened: nothing said
    languages = await asyncio.to_thread(registry.languages)
    settings = context.settings
    for admin_id in settings.admin_ids:
        lang = languages.get(admin_id, settings.default_language)
        for text in render_news(news, since, lang, ZoneInfo(settings.timezone)):
            try:
                await context.bot.send_message(admin_id, text)
            except TelegramError as exc:  # an admin who never started the bot
                logger.warning("feeds note not sent to %s: %s", admin_id, exc)
                break


def render_news(
    news: Sequence[FeedNews], since: str | None, lang: str, zone: ZoneInfo
) -> list[str]:
    """The note as HTML messages, each under 4,096 characters, at most ``MAX_NOTE_MESSAGES``
    (the feeds past them counted on the last line); none when there is no news."""
    if not news:
        return []
    if since:
        header = t("feeds_note_since", lang, since=_when(since, zone, lang))
    else:
        header = t("feeds_note", lang)
    cut = t("feeds_note_cut", lang, count=len(news))
    budget = MAX_MESSAGE - max(_shown_len(header), _shown_len(cut)) - 1
    pages = _pages([_news_block(n, lang) for n in news], budget, len(news))
    shown = pages[:MAX_NOTE_MESSAGES]
    left = len(news) - sum(len(page) for page in shown)
    texts = ["\n".join(page) for page in shown]  # each feed's lines after a blank line
    texts = [f"{header}\n{texts[0]}", *(text.lstrip("\n") for text in texts[1:])]
    if left:
        texts[-1] += "\n" + t("feeds_note_cut", lang, count=left)
    return texts


def _news_block(news: FeedNews, lang: str) -> str:
    """One feed's lines in the note: how many added, their titles, the entries skipped."""
    lines = [
        t("feeds_note_feed", lang, name=news.name[:150], id=news.feed_id, added=news.added),
        *(t("feeds_note_title", lang, title=title) for title in news.titles),
    ]
    if news.added > len(news.titles):
        lines.append(t("feeds_note_more", lang, count=news.added - len(news.titles)))
    if news.skipped:
        reason = stored_reason_text(news.last_skipped or "", lang)
        lines.append(t("feeds_note_skipped", lang, count=news.skipped, reason=reason))
    return "\n".join(lines)


def render_feeds(
    feeds: Sequence[Feed], page: int, lang: str, zone: ZoneInfo
) -> tuple[str, int, int]:
    """One page of the subscriptions with their health, as HTML; returns (text, page shown,
    page count). Pages hold up to ``FEEDS_PER_PAGE`` feeds and never more than a message."""
    if not feeds:
        return t("feeds_empty", lang), 0, 1
    blocks = [_block(feed, lang, zone) for feed in feeds]
    widest = t("feeds_header_paged", lang, count=len(feeds), page=len(feeds), pages=len(feeds))
    pages = _pages(blocks, MAX_MESSAGE - _shown_len(widest))
    page = min(max(page, 0), len(pages) - 1)
    if len(pages) == 1:
        header = t("feeds_header", lang, count=len(feeds))
    else:
        header = t("feeds_header_paged", lang, count=len(feeds), page=page + 1, pages=len(pages))
    return "\n".join([header, *pages[page]]), page, len(pages)


def _pages(blocks: list[str], budget: int, per_page: int = FEEDS_PER_PAGE) -> list[list[str]]:
    """Blocks in order, cut into pages of at most ``per_page`` and ``budget`` UTF-16 units of
    shown text (a block is always shorter than a message: its values are cut)."""
    pages: list[list[str]] = [[]]
    size = 0
    for block in blocks:
        cost = _shown_len(block) + 1  # its line break
        if pages[-1] and (len(pages[-1]) == per_page or size + cost > budget):
            pages.append([])
            size = 0
        pages[-1].append(block)
        size += cost
    return pages


def _shown_len(markup: str) -> int:
    """The length Telegram counts: the text once its HTML is parsed, in UTF-16 units."""
    return utf16_len(html.unescape(_MARKUP.sub("", markup)))


def _block(feed: Feed, lang: str, zone: ZoneInfo) -> str:
    """A feed's lines: id and title, last success, last error, entries skipped."""
    lines = [
        f"\n<code>{html.escape(feed.id)}</code> — {html.escape(_name(feed)[:150])}",
        t(
            "feeds_health",
            lang,
            success=_when(feed.last_success_at, zone, lang),
            added=feed.added,
        ),
    ]
    if feed.last_error:
        when = _when(feed.last_error_at, zone, lang)
        lines.append(
            t("feeds_error", lang, when=when, reason=stored_reason_text(feed.last_error, lang))
        )
    if feed.skipped and feed.last_skipped:
        when = _when(feed.last_skipped_at, zone, lang)
        lines.append(
            t(
                "feeds_skipped",
                lang,
                count=feed.skipped,
                when=when,
                reason=stored_reason_text(feed.last_skipped, lang),
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
