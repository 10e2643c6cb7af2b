"""Helpers every handler uses: reading a question, replying in HTML, showing "typing…"."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator

from telegram import (
    CallbackQuery,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, TelegramError

from bot.context import BotContext
from bot.i18n import error_key, t, t_plain
from index import IndexFailure

logger = logging.getLogger(__name__)

__all__ = [
    "NO_PREVIEW",
    "addressed_question",
    "admin_press",
    "clean_question",
    "edit_html",
    "edit_page",
    "index_error_text",
    "reply_html",
    "typing",
]

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
TYPING_EVERY = 4.5  # Telegram shows "typing…" for about 5 s


def index_error_text(error: IndexFailure, lang: str) -> str:
    """One short sentence for an index problem a reader can hit."""
    return t(error_key(error), lang)


def clean_question(text: str, max_chars: int) -> str:
    """Trim a question and cut it at a word boundary past ``max_chars`` (embedding cost).

    Text without a single letter or digit (emoji, punctuation) is no question: "".
    """
    text = text.strip()
    if not any(char.isalnum() for char in text):
        return ""
    if len(text) <= max_chars:
        return text
    cut = text[:max_chars]
    space = cut.rfind(" ")
    return (cut[:space] if space > max_chars // 2 else cut).rstrip()


def addressed_question(message: Message, bot_username: str, bot_id: int) -> str | None:
    """The question in a group message meant for the bot, or None when it is not for us.

    A message is for the bot when it mentions it (``@bot`` or a text mention) or replies to
    one of its messages; the mention is removed from the question.
    """
    text = message.text or ""
    mentioned = False
    cuts: list[tuple[int, int]] = []
    for entity, value in message.parse_entities(
        [MessageEntity.MENTION, MessageEntity.TEXT_MENTION]
    ).items():
        is_bot = (
            entity.type == MessageEntity.MENTION and value.lower() == f"@{bot_username}".lower()
        ) or (
            entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == bot_id
        )
        if is_bot:
            mentioned = True
            start = _utf16_to_index(text, entity.offset)
            end = _utf16_to_index(text, entity.offset + entity.length)
            cuts.append((start, end))
    replied = message.reply_to_message
    to_bot = bool(replied and replied.from_user and replied.from_user.id == bot_id)
    if not (mentioned or to_bot):
        return None
    for start, end in sorted(cuts, reverse=True):
        text = text[:start] + " " + text[end:]
    return re.sub(r"\s+", " ", text).strip(" ,:;")


def _utf16_to_index(text: str, offset16: int) -> int:
    """Python index of a UTF-16 offset (Telegram's entity offsets)."""
    units = 0
    for i, char in enumerate(text):
        if units >= offset16:
            return i
        units += 2 if ord(char) > 0xFFFF else 1
    return len(text)


async def reply_html(
    message: Message, text: str, markup: InlineKeyboardMarkup | None = None
) -> Message:
    """Reply to ``message`` with HTML, quoting it, without link previews."""
    return await message.reply_text(
        text,
        parse_mode=ParseMode.HTML,
        reply_markup=markup,
        link_preview_options=NO_PREVIEW,
        do_quote=True,
    )


@contextlib.asynccontextmanager
async def typing(context: BotContext, chat_id: int) -> AsyncIterator[None]:
    """Show "typing…" in the chat while the block runs (renewed every few seconds).

    It starts after ``TYPING_DELAY`` seconds: an answer that arrives sooner needs no
    indicator, and sending one would compete with the embedding for the CPU.
    """
    delay = context.settings.typing_delay

    async def keep_typing() -> None:
        if delay > 0:
            await asyncio.sleep(delay)
        while True:
            with contextlib.suppress(TelegramError):
                await context.bot.send_chat_action(chat_id, ChatAction.TYPING)
            await asyncio.sleep(TYPING_EVERY)

    task = asyncio.create_task(keep_typing())
    try:
        if delay == 0:
            await asyncio.sleep(0)  # let the first chat action go out before the work starts
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def edit_html(message: object, text: str) -> None:
    """Replace the text of a message the bot sent (buttons removed); an unchanged text is fine."""
    if isinstance(message, Message):
        with contextlib.suppress(BadRequest):
            await message.edit_text(
                text, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW
            )


async def edit_page(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None) -> None:
    """Show another page of a paged list in place of the pressed one; pressing the page shown
    already (Telegram: "message is not modified") is no error."""
    try:
        await query.edit_message_text(
            text, parse_mode=ParseMode.HTML, reply_markup=markup, link_preview_options=NO_PREVIEW
        )
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise


async def admin_press(update: Update, context: BotContext) -> tuple[CallbackQuery, str] | None:
    """The pressed button's query and the presser's language when an admin pressed it and its
    data matched; a reader's press (the data can be forged) is refused with an alert, logged."""
    query = update.callback_query
    if query is None or context.match is None:
        return None
    user = update.effective_user
    lang = context.language(user)
    if not context.is_admin(user):
        logger.warning("refused an admin button from user %s", user.id if user else None)
        await query.answer(t_plain("admin_only", lang), show_alert=True)
        return None
    return query, lang
