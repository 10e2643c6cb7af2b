"""Admin handlers that add to the collection: /add (an upload, a URL, a forwarded post, or a
document offered with a button); /remove and /edit are in ``bot.handlers.articles``.

The work itself is ``index.collection.folder.ArticleCollection``'s; these handlers check what came
from Telegram, wait their turn in the queue of changes, and say what happened.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from pathlib import PurePosixPath
from typing import TypeVar

from telegram import (
    Document,
    Message,
    MessageEntity,
    MessageOrigin,
    MessageOriginChannel,
    MessageOriginChat,
    MessageOriginHiddenUser,
    MessageOriginUser,
    Update,
)

from bot.context import BotContext
from bot.handlers.admin import refuse
from bot.handlers.callbacks import add_keyboard
from bot.i18n import t, t_plain, why
from bot.render import format_bytes
from bot.replies import admin_press, edit_html, index_error_text, reply_html, typing
from bot.state import ChangeQueueFull
from index import (
    MIN_POST_CHARS,
    SUPPORTED_SUFFIXES,
    Added,
    ArticleLoadError,
    FetchError,
    IndexFailure,
    now_iso,
    post_article,
    with_source,
)

__all__ = [
    "ADD_CAPTION",
    "add_button",
    "add_command",
    "add_document",
    "add_forwarded",
    "in_turn",
    "offer_document",
    "refuse_document",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")


# A document's caption that asks to add it: "/add" or "/add@bot"; which bot is checked at run
# time (``_for_us``), since the username is known only once the bot has started.
# Documents offered with an "Add" button, kept per chat (in the readers' store, shared by
# replicas); older ones' buttons say they expired.
MAX_PENDING_UPLOADS = 20
ADD_CAPTION = r"^/add(?:@(\w+))?(?:\s|$)"


def _for_us(context: BotContext) -> bool:
    """False for "/add@other_bot": that caption is another bot's business."""
    named = context.matches[0][1] if context.matches else None
    return named is None or named.lower() == (context.bot.username or "").lower()


async def in_turn(
    message: Message, context: BotContext, lang: str, what: str, work: Callable[[], Awaitable[T]]
) -> T | None:
    """Run one change when its turn comes; tell the admin if it has to wait or cannot queue."""

    async def waiting(running: str) -> None:
        await reply_html(message, t("change_queued", lang, running=running))

    try:
        async with context.bot_data.changes.turn(what, waiting):
            return await work()
    except ChangeQueueFull:
        await reply_html(message, t("changes_full", lang))
        return None


async def _added(
    message: Message, context: BotContext, lang: str, work: Callable[[], Awaitable[Added]]
) -> None:
    """Wait for the turn, add, and report the outcome of one /add."""
    try:
        added = await in_turn(message, context, lang, "/add", work)
    except ArticleLoadError as exc:
        await reply_html(message, t("add_rejected", lang, reason=why(exc, lang)))
        return
    except IndexFailure as exc:  # a full disk, another model's index: said plainly
        await reply_html(message, index_error_text(exc, lang))
        return
    if added is not None and added.unchanged:
        await reply_html(
            message, t("add_unchanged", lang, title=added.article.title, id=added.article.id)
        )
    elif added is not None:
        article = added.article
        text = t("add_done", lang, title=article.title, id=article.id, passages=added.passages)
        if added.copies:
            names = ", ".join(
                f"« {copy.title[:80]} » ({copy.outlet or copy.id})" for copy in added.copies[:3]
            )
            text += "\n" + t("add_copies", lang, names=names)
        await reply_html(message, text)


def _upload_problem(name: str, size: int | None, limit: int, lang: str) -> str | None:
    """Why a document cannot be added, from what Telegram says of it, or None."""
    if PurePosixPath(name.replace("\\", "/")).suffix.lower() not in SUPPORTED_SUFFIXES:
        return t("add_unsupported", lang)
    if size is not None and size > limit:
        return t("add_too_large", lang, size=format_bytes(size), limit=format_bytes(limit))
    return None


async def _add_document(
    message: Message, document: Document, context: BotContext, lang: str
) -> None:
    """Check, download, check again, save and index an uploaded article file."""
    name = document.file_name or "upload.txt"
    await _add_file(
        message, context, lang, file_id=document.file_id, name=name, size=document.file_size
    )


async def _add_file(
    message: Message,
    context: BotContext,
    lang: str,
    *,
    file_id: str,
    name: str,
    size: int | None,
) -> None:
    """``_add_document`` for a file known by its id (an offered document's button)."""
    limit = context.settings.max_upload_bytes
    problem = _upload_problem(name, size, limit, lang)
    if problem is not None:
        await reply_html(message, problem)
        return
    collection = context.bot_data.collection
    async with typing(context, message.chat_id):
        telegram_file = await context.bot.get_file(file_id)
        data = bytes(await telegram_file.download_as_bytearray())
        if len(data) > limit:  # file_size is the sender's claim; the bytes are the truth
            shown = format_bytes(len(data))
            await reply_html(
                message, t("add_too_large", lang, size=shown, limit=format_bytes(limit))
            )
            return
        await _added(
            message, context, lang, lambda: asyncio.to_thread(collection.add_bytes, name, data)
        )


async def _fetched(
    message: Message, url: str, context: BotContext, lang: str
) -> tuple[str, bytes] | None:
    """A page's article as a file to add, or None once the reason it cannot be had is said."""
    try:
        return await context.bot_data.collection.fetch(url)
    except FetchError as exc:
        await reply_html(message, t("add_fetch_failed", lang, reason=why(exc, lang)))
    except ArticleLoadError as exc:
        await reply_html(message, t("add_rejected", lang, reason=why(exc, lang)))
    return None


async def _add_url(message: Message, url: str, context: BotContext, lang: str) -> None:
    """Fetch a page (while other changes go on), then add its article in turn."""
    collection = context.bot_data.collection
    async with typing(context, message.chat_id):
        fetched = await _fetched(message, url, context, lang)
        if fetched is None:
            return
        name, data = fetched
        await _added(
            message, context, lang, lambda: asyncio.to_thread(collection.add_bytes, name, data)
        )


async def add_command(update: Update, context: BotContext) -> None:
    """Add an article: ``/add URL``, or ``/add`` in reply to a document."""
    message = update.effective_message
    if message is None:
        return
    lang = context.language(update.effective_user)
    replied = message.reply_to_message
    if replied is not None and replied.document is not None:
        await _add_document(message, replied.document, context, lang)
    elif context.args:
        await _add_url(message, context.args[0], context, lang)
    else:
        await reply_html(message, t("add_usage", lang))


async def add_document(update: Update, context: BotContext) -> None:
    """Add the article file sent with the caption ``/add``."""
    message = update.effective_message
    if message is None or message.document is None or not _for_us(context):
        return
    await _add_document(message, message.document, context, context.language(update.effective_user))


async def add_forwarded(update: Update, context: BotContext) -> None:
    """An admin forwards a post in private: its text becomes an article, with the channel as
    its outlet and the post's date; a post that is mostly a link brings the linked page."""
    message = update.effective_message
    if message is None or message.forward_origin is None:
        return
    lang = context.language(update.effective_user)
    origin = message.forward_origin
    outlet, url, name = _origin_source(origin)
    published = origin.date.isoformat(timespec="seconds").replace("+00:00", "Z")
    text = message.text or message.caption or ""
    entities = message.parse_entities() if message.text else message.parse_caption_entities()
    links = [
        entity.url if entity.type == MessageEntity.TEXT_LINK and entity.url else value
        for entity, value in entities.items()
        if entity.type in (MessageEntity.URL, MessageEntity.TEXT_LINK)
    ]
    bare = text
    for value in (v for e, v in entities.items() if e.type == MessageEntity.URL):
        bare = bare.replace(value, " ")
    collection = context.bot_data.collection
    if links and len(bare.strip()) < MIN_POST_CHARS:
        async with typing(context, message.chat_id):
            fetched = await _fetched(message, links[0], context, lang)
        if fetched is None:
            return
        filename, data = fetched[0], with_source(fetched[1], outlet, published)
    elif text.strip():
        filename, data = post_article(text, outlet=outlet, published=published, url=url, name=name)
    else:
        await reply_html(message, t("forward_empty", lang))
        return
    await _added(
        message, context, lang, lambda: asyncio.to_thread(collection.add_bytes, filename, data)
    )


def _origin_source(origin: MessageOrigin) -> tuple[str, str | None, str]:
    """Who published a forwarded post, its public link if it has one, and a file name."""
    stamp = origin.date.strftime("%Y%m%d-%H%M%S")
    if isinstance(origin, MessageOriginChannel):
        chat = origin.chat
        title = chat.title or chat.username or "channel"
        url = f"https://t.me/{chat.username}/{origin.message_id}" if chat.username else None
        return title, url, f"{chat.username or title}-{origin.message_id}"
    if isinstance(origin, MessageOriginChat):
        title = origin.sender_chat.title or "chat"
        return title, None, f"{title}-{stamp}"
    if isinstance(origin, MessageOriginUser):
        return origin.sender_user.full_name, None, f"forward-{stamp}"
    if isinstance(origin, MessageOriginHiddenUser):
        return origin.sender_user_name, None, f"forward-{stamp}"
    return "Telegram", None, f"forward-{stamp}"


async def offer_document(update: Update, context: BotContext) -> None:
    """An admin's document without the ``/add`` caption, in private: an "Add" button (what it
    offers is kept in the readers' store, so the press works on any replica, after a restart)."""
    message = update.effective_message
    if message is None or message.document is None:
        return
    lang = context.language(update.effective_user)
    document = message.document
    name = document.file_name or "upload.txt"
    problem = _upload_problem(name, document.file_size, context.settings.max_upload_bytes, lang)
    if problem is not None:
        await reply_html(message, problem)
        return
    token = secrets.token_urlsafe(6)  # a KEY_PATTERN: the file id is too long for the button
    offered = json.dumps({"file_id": document.file_id, "name": name, "size": document.file_size})
    await asyncio.to_thread(
        context.bot_data.readers.offer_upload,
        message.chat_id,
        token,
        offered,
        now_iso(),
        MAX_PENDING_UPLOADS,
    )
    await reply_html(message, t("upload_offer", lang, name=name), add_keyboard(token, lang))


async def add_button(update: Update, context: BotContext) -> None:
    """Add an offered document, as ``/add`` in reply to it would."""
    pressed = await admin_press(update, context)
    if pressed is None or context.match is None:
        return
    query, lang = pressed
    if not isinstance(query.message, Message):
        return
    readers = context.bot_data.readers
    offered = await asyncio.to_thread(readers.take_upload, query.message.chat_id, context.match[1])
    if offered is None:
        await query.answer(t_plain("upload_expired", lang), show_alert=True)
        return
    await query.answer()
    document = json.loads(offered)
    await edit_html(query.message, t("upload_taken", lang, name=document["name"]))
    await _add_file(
        query.message,
        context,
        lang,
        file_id=document["file_id"],
        name=document["name"],
        size=document["size"],
    )


async def refuse_document(update: Update, context: BotContext) -> None:
    """A non-admin's upload captioned ``/add`` (for this bot): the polite refusal."""
    if _for_us(context):
        await refuse(update, context)
