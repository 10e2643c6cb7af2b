"""Reader handlers: questions (private, group, /ask, inline), More/Context buttons, /sources."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError

from bot.context import BotContext
from bot.i18n import t
from bot.render import render_answer, render_context, render_inline, render_sources
from bot.replies import (
    NO_PREVIEW,
    addressed_question,
    clean_question,
    index_error_text,
    reply_html,
    typing,
)
from bot.state import Limit, StoredAnswer
from index.errors import IndexFailure
from index.models import Answer

__all__ = [
    "answer_question",
    "ask_command",
    "context_button",
    "error_handler",
    "group_text",
    "help_command",
    "inline_query",
    "more_button",
    "private_text",
    "sources_command",
    "sources_page",
    "start",
]

logger = logging.getLogger(__name__)

INLINE_RESULTS = 10  # quotes offered per inline query (Telegram allows 50)
INLINE_CACHE_SECONDS = 10
SOURCES_PER_PAGE = 10


def _answer_keyboard(
    key: str, first: int, count: int, has_more: bool, lang: str
) -> InlineKeyboardMarkup | None:
    """Context buttons for quotes ``first..first+count-1`` (0-based) and a More button."""
    rows: list[list[InlineKeyboardButton]] = []
    context_row = [
        InlineKeyboardButton(t("context_button", lang, n=i + 1), callback_data=f"ctx:{key}:{i}")
        for i in range(first, first + count)
    ]
    for start in range(0, len(context_row), 4):
        rows.append(context_row[start : start + 4])
    if has_more:
        rows.append([InlineKeyboardButton(t("more_button", lang), callback_data=f"more:{key}")])
    return InlineKeyboardMarkup(rows) if rows else None


async def _send_answer(
    message: Message,
    context: BotContext,
    answer: Answer,
    lang: str,
    previous: StoredAnswer | None = None,
) -> None:
    """Reply with the rendered answer; remember it for its buttons."""
    first = previous.shown if previous else 0
    chunks = render_answer(answer, lang, first_number=first + 1)
    markup = None
    if answer.quotes:
        quotes = (previous.quotes if previous else ()) + answer.quotes
        stored = StoredAnswer(answer.question, quotes, first, has_more=bool(answer.more))
        key = context.answers.put(message.chat_id, stored)
        markup = _answer_keyboard(key, first, len(answer.quotes), stored.has_more, lang)
    for i, chunk in enumerate(chunks):
        await reply_html(message, chunk, markup if i == len(chunks) - 1 else None)


async def answer_question(message: Message, context: BotContext, question: str, lang: str) -> None:
    """The answer pipeline shared by every way of asking: limit, search off-loop, reply."""
    question = clean_question(question, context.settings.max_question_chars)
    if not question:
        await reply_html(message, t("empty_question", lang))
        return
    user = message.from_user
    if user is not None and not context.is_admin(user):
        verdict = context.rate_limiter.check(user.id)
        if verdict is Limit.WARN:
            await reply_html(message, t("rate_limited", lang))
        if verdict is not Limit.ALLOW:
            return
    started = time.perf_counter()
    async with typing(context, message.chat_id):
        try:
            answer = await asyncio.to_thread(context.service.ask, question)
        except IndexFailure as exc:
            logger.warning("question not answered: %s", exc)
            await reply_html(message, index_error_text(exc, lang))
            return
        await _send_answer(message, context, answer, lang)
    context.stats.record_answer(time.perf_counter() - started)


# ------------------------------------------------------------------------------ commands


async def start(update: Update, context: BotContext) -> None:
    """Greet the user with the help text."""
    await help_command(update, context)


async def help_command(update: Update, context: BotContext) -> None:
    """Explain how to ask and what the bot knows."""
    message = update.effective_message
    if message is None:
        return
    lang = context.language(update.effective_user)
    count = len(await asyncio.to_thread(context.service.articles))
    text = t("help", lang, articles=count, bot=context.bot.username)
    if context.is_admin(update.effective_user):
        text += "\n\n" + t("admin_help", lang)
    await reply_html(message, text)


async def ask_command(update: Update, context: BotContext) -> None:
    """Answer ``/ask question`` (in groups as in private chats)."""
    message = update.effective_message
    if message is None:
        return
    question = " ".join(context.args or [])
    await answer_question(message, context, question, context.language(update.effective_user))


async def private_text(update: Update, context: BotContext) -> None:
    """Answer any text sent in a private chat."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    await answer_question(message, context, message.text, context.language(update.effective_user))


async def group_text(update: Update, context: BotContext) -> None:
    """Answer group messages that mention the bot or reply to it; stay quiet otherwise."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    question = addressed_question(message, context.bot.username, context.bot.id)
    if question is None:
        return
    await answer_question(message, context, question, context.language(update.effective_user))


async def sources_command(update: Update, context: BotContext) -> None:
    """List the articles, ten per page, with their ids."""
    message = update.effective_message
    if message is None:
        return
    lang = context.language(update.effective_user)
    articles = await asyncio.to_thread(context.service.articles)
    text, page, pages = render_sources(articles, 0, lang, SOURCES_PER_PAGE)
    await reply_html(message, text, _sources_keyboard(page, pages, lang))


def _sources_keyboard(page: int, pages: int, lang: str) -> InlineKeyboardMarkup | None:
    row = []
    if page > 0:
        row.append(InlineKeyboardButton(t("prev_button", lang), callback_data=f"src:{page - 1}"))
    if page < pages - 1:
        row.append(InlineKeyboardButton(t("next_button", lang), callback_data=f"src:{page + 1}"))
    return InlineKeyboardMarkup([row]) if row else None


# ------------------------------------------------------------------------------ buttons


async def sources_page(update: Update, context: BotContext) -> None:
    """Show another page of /sources in place."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    await query.answer()
    lang = context.language(update.effective_user)
    articles = await asyncio.to_thread(context.service.articles)
    text, page, pages = render_sources(articles, int(query.data.split(":")[1]), lang)
    try:
        await query.edit_message_text(
            text,
            parse_mode=ParseMode.HTML,
            reply_markup=_sources_keyboard(page, pages, lang),
            link_preview_options=NO_PREVIEW,
        )
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise


async def more_button(update: Update, context: BotContext) -> None:
    """Send the next passages for the question of an answer."""
    query = update.callback_query
    if query is None or query.data is None or query.message is None:
        return
    lang = context.language(update.effective_user)
    chat_id = query.message.chat.id
    key = query.data.split(":")[1]
    stored = context.answers.get(chat_id, key)
    if stored is None:
        await query.answer(t("expired", lang), show_alert=True)
        return
    await query.answer()
    message = query.message if isinstance(query.message, Message) else None
    if message is None:
        return
    async with typing(context, chat_id):
        try:
            answer = await asyncio.to_thread(
                context.service.ask, stored.question, None, stored.shown
            )
        except IndexFailure as exc:
            await reply_html(message, index_error_text(exc, lang))
            return
        if not answer.quotes:
            await reply_html(message, t("no_more", lang))
            return
        # This message's More is spent: keep only its Context buttons.
        spent = _answer_keyboard(key, stored.first, stored.shown - stored.first, False, lang)
        with contextlib.suppress(BadRequest):
            await query.edit_message_reply_markup(spent)
        await _send_answer(message, context, answer, lang, previous=stored)


async def context_button(update: Update, context: BotContext) -> None:
    """Send the paragraph around one quote of an answer."""
    query = update.callback_query
    if query is None or query.data is None or query.message is None:
        return
    lang = context.language(update.effective_user)
    _, key, index = query.data.split(":")
    stored = context.answers.get(query.message.chat.id, key)
    if stored is None or not index.isdigit() or int(index) >= len(stored.quotes):
        await query.answer(t("expired", lang), show_alert=True)
        return
    await query.answer()
    message = query.message if isinstance(query.message, Message) else None
    if message is None:
        return
    try:
        wider = await asyncio.to_thread(context.service.context, stored.quotes[int(index)])
    except KeyError:  # the article was removed since
        await reply_html(message, t("expired", lang))
        return
    except IndexFailure as exc:
        await reply_html(message, index_error_text(exc, lang))
        return
    await reply_html(message, render_context(wider))


# ------------------------------------------------------------------------------ inline mode


async def inline_query(update: Update, context: BotContext) -> None:
    """Offer the best quotes for ``@bot question`` typed in any chat."""
    query = update.inline_query
    if query is None:
        return
    lang = context.language(query.from_user)
    question = clean_question(query.query, context.settings.max_question_chars)
    hint = t("inline_hint", lang)
    limited = (
        bool(question)
        and not context.is_admin(query.from_user)
        and context.rate_limiter.check(query.from_user.id) is not Limit.ALLOW
    )
    if limited:
        question, hint = "", t("rate_limited", lang)
    if not question:
        await query.answer(
            [],
            cache_time=INLINE_CACHE_SECONDS,
            button=InlineQueryResultsButton(text=hint[:64], start_parameter="help"),
        )
        return
    started = time.perf_counter()
    try:
        answer = await asyncio.to_thread(context.service.ask, question, INLINE_RESULTS)
    except IndexFailure as exc:
        text = re.sub(r"<[^>]+>", "", index_error_text(exc, lang))
        await query.answer(
            [],
            cache_time=INLINE_CACHE_SECONDS,
            button=InlineQueryResultsButton(text=text[:64], start_parameter="help"),
        )
        return
    results = [
        InlineQueryResultArticle(
            id=f"{i}-{quote.article_id}-{quote.start}"[:64],
            title=quote.title[:200],
            description=quote.highlight.strip()[:200],
            input_message_content=InputTextMessageContent(
                render_inline(quote, question),
                parse_mode=ParseMode.HTML,
                link_preview_options=NO_PREVIEW,
            ),
        )
        for i, quote in enumerate((answer.quotes + answer.more)[:50])
    ]
    button = None
    if not results:
        button = InlineQueryResultsButton(
            text=t("inline_no_answer", lang)[:64], start_parameter="help"
        )
    await query.answer(results, cache_time=INLINE_CACHE_SECONDS, is_personal=False, button=button)
    context.stats.record_answer(time.perf_counter() - started)


# ------------------------------------------------------------------------------ errors


async def error_handler(update: object, context: BotContext) -> None:
    """Log the error, then tell the user something went wrong (never the traceback)."""
    logger.error("error while handling an update", exc_info=context.error)
    if not isinstance(update, Update):
        return
    lang = context.language(update.effective_user)
    error = context.error
    text = index_error_text(error, lang) if isinstance(error, IndexFailure) else t("error", lang)
    if update.callback_query is not None:
        with contextlib.suppress(TelegramError):
            await update.callback_query.answer(re.sub(r"<[^>]+>", "", text)[:200], show_alert=True)
        return
    message = update.effective_message
    if message is not None and update.effective_chat is not None:
        with contextlib.suppress(TelegramError):
            await reply_html(message, text)
