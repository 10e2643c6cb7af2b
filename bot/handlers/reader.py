"""Reader handlers: questions (private, group, /ask, inline), More/Context buttons, /sources."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from telegram import (
    CallbackQuery,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    Message,
    Update,
    User,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError

from bot.context import BotContext
from bot.handlers.callbacks import answer_keyboard, overview_keyboard, sources_keyboard
from bot.handlers.scope import scope_words, scoped_articles
from bot.i18n import error_key, reply_language, t, t_plain
from bot.render import (
    OVERVIEW_PER_PAGE,
    period_words,
    render_answer,
    render_context,
    render_inline,
    render_overview,
    render_sources,
)
from bot.replies import (
    NO_PREVIEW,
    addressed_question,
    clean_question,
    edit_page,
    index_error_text,
    reply_html,
    typing,
)
from bot.state import Limit
from index import (
    AnswerExpiredError,
    IndexFailure,
    Page,
    SmallTalk,
    asks_about_collection,
    listed_period,
    scope_filters,
    small_talk,
)

__all__ = [
    "answer_question",
    "ask_command",
    "context_button",
    "error_handler",
    "group_text",
    "help_command",
    "id_command",
    "inline_query",
    "more_button",
    "overview_more",
    "private_text",
    "sources_command",
    "sources_page",
    "start",
    "unknown_button",
]

logger = logging.getLogger(__name__)

INLINE_RESULTS = 10  # quotes offered per inline query (Telegram allows 50)
INLINE_CACHE_SECONDS = 10
SOURCES_PER_PAGE = 10


def _limit(context: BotContext, user: User | None) -> Limit:
    """The rate limit's verdict on one more search by ``user`` (admins are not limited)."""
    if user is None or context.is_admin(user):
        return Limit.ALLOW
    verdict = context.bot_data.limiter.check(user.id)
    if verdict is not Limit.ALLOW:
        context.bot_data.metrics.refused(verdict.value)
    return verdict


async def _allowed(message: Message, context: BotContext, lang: str) -> bool:
    """Count one request of the message's sender; tell them once when they are over the limit.

    Questions, /help, /sources and its pages share the limit: a /sources page reads the
    store too, and 300 presses in a row held up everyone else's questions.
    """
    verdict = _limit(context, message.from_user)
    if verdict is Limit.WARN:
        await reply_html(message, t("rate_limited", lang))
    return verdict is Limit.ALLOW


async def _press_allowed(query: CallbackQuery, context: BotContext, lang: str) -> bool:
    """``_allowed`` for a button: over the limit, the press is answered with an alert (once)."""
    verdict = _limit(context, query.from_user)
    if verdict is not Limit.ALLOW:
        warning = t_plain("rate_limited", lang) if verdict is Limit.WARN else None
        await query.answer(warning, show_alert=warning is not None)
    return verdict is Limit.ALLOW


async def _send_page(message: Message, page: Page, lang: str, scope: str = "") -> None:
    """Reply with a page of an answer, in the language it was asked in (``page.lang``, else
    ``lang``); its buttons go under the last message. ``scope``: the group's scope in words,
    which a declined answer names."""
    lang = page.lang or lang
    chunks = render_answer(page.answer, lang, first_number=page.first + 1, scope=scope)
    markup = answer_keyboard(page, lang)
    for i, chunk in enumerate(chunks):
        await reply_html(message, chunk, markup if i == len(chunks) - 1 else None)


async def answer_question(message: Message, context: BotContext, question: str, lang: str) -> None:
    """The answer pipeline shared by every way of asking: limit, search off-loop, reply.

    ``lang`` is the asker's (Telegram's, else the default); the reply is in the question's
    own language when it is sure of it (``bot.i18n.reply_language``), and so are the
    answer's buttons and next pages, whoever presses them.
    """
    question = clean_question(question, context.settings.max_question_chars)
    if not question:
        await reply_html(message, t("empty_question", lang))
        return
    lang = reply_language(question, lang)
    if not await _allowed(message, context, lang):
        return
    talk = small_talk(question)
    if talk is not None:  # not a question: no search, no gap, never a follow-up
        await reply_html(message, await small_talk_reply(talk, context))
        return
    if asks_about_collection(question):  # "De quoi parlent les articles ?": the list
        await _send_overview(message, context, lang, 0)
        return
    service = context.bot_data.service
    frame = await asyncio.to_thread(service.period_asked, question)
    if frame is not None:  # "Quoi de neuf hier ?": the period's articles
        start, end = listed_period(frame)
        await _send_overview(message, context, lang, 0, (_seconds(start), _seconds(end)))
        return
    started = time.perf_counter()
    replied = message.reply_to_message
    to_bot = bool(replied and replied.from_user and replied.from_user.id == context.bot.id)
    async with typing(context, message.chat_id):
        try:
            page = await asyncio.to_thread(
                context.bot_data.session.ask, message.chat_id, question, to_bot, lang
            )
        except IndexFailure as exc:
            logger.warning("question not answered: %s", exc)
            await reply_html(message, index_error_text(exc, lang))
            context.bot_data.metrics.question("error", lang, time.perf_counter() - started)
            return
        scope = ""
        if not page.answer.quotes and not page.scope.empty:  # declined in a scoped group
            scope = await asyncio.to_thread(scope_words, context, page.scope)
        await _send_page(message, page, lang, scope)
    seconds = time.perf_counter() - started
    context.bot_data.stats.record_answer(seconds, page.answer.outcome)
    context.bot_data.metrics.question(page.answer.outcome, page.lang or lang, seconds)


async def small_talk_reply(talk: SmallTalk, context: BotContext) -> str:
    """A greeting says what the bot does and how to ask; thanks and goodbyes get a line."""
    if talk.kind != "greeting":
        return t(f"small_talk_{talk.kind}", talk.lang)
    count = len(await asyncio.to_thread(context.bot_data.service.summaries))
    return t("small_talk_greeting", talk.lang, articles=count, bot=context.bot.username)


# A listed period as Unix seconds (start, end), either None: (None, None) is "the latest",
# every dated article; no period at all is the whole collection.
Period = tuple[int | None, int | None]


async def _send_overview(
    message: Message, context: BotContext, lang: str, page: int, period: Period | None = None
) -> None:
    """A page of the collection's articles, or of a period's, newest first, with More while
    pages remain: what "De quoi parlent les articles ?" and "Quoi de neuf hier ?" get."""
    start, end = period or (None, None)
    session = context.bot_data.session
    items, total = await asyncio.to_thread(
        lambda: context.bot_data.service.overview(
            page,
            OVERVIEW_PER_PAGE,
            start=_iso(start),
            end=_iso(end),
            dated_only=period is not None,
            filters=scope_filters(session.scope(message.chat_id)),  # a group lists its scope's
        )
    )
    pages = max(1, math.ceil(total / OVERVIEW_PER_PAGE))
    words = _period_words(period, context.settings.timezone, lang)
    if not items:
        key = "overview_period_none" if words else "overview_latest_none"
        text = t("sources_empty" if period is None else key, lang, period=words)
    elif period is None:
        heading = t_plain("overview_heading", lang, count=total)
        text = render_overview(items, heading, page=page, pages=pages, lang=lang)
    else:
        key = "overview_period" if words else "overview_latest"
        heading = t_plain(key, lang, count=total, period=words)
        text = render_overview(items, heading, page=page, pages=pages, lang=lang)
    more = page + 1 if page + 1 < pages else None
    await reply_html(message, text, overview_keyboard(more, lang, period))


def _period_words(period: Period | None, zone: str, lang: str) -> str:
    """The listed period in words in the chat's zone ("hier" is the day before, there)."""
    if period is None:
        return ""
    local = ZoneInfo(zone)
    start, end = period
    first = datetime.fromtimestamp(start, local).date().isoformat() if start is not None else None
    last = datetime.fromtimestamp(end - 1, local).date().isoformat() if end is not None else None
    return period_words(first, last, lang) or ""


def _iso(seconds: int | None) -> str | None:
    if seconds is None:
        return None
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _seconds(iso: str | None) -> int | None:
    return (
        None if iso is None else int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())
    )


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
    if not await _allowed(message, context, lang):
        return
    count = len(await asyncio.to_thread(context.bot_data.service.summaries))
    text = t("help", lang, articles=count, bot=context.bot.username)
    if context.is_admin(update.effective_user):
        text += "\n\n" + t("admin_help", lang)
    await reply_html(message, text)


async def id_command(update: Update, context: BotContext) -> None:
    """``/id``: the sender's numeric user id, the chat's id, and whether they are an admin:
    what an operator puts in ADMIN_IDS (anything after the command is ignored)."""
    message = update.effective_message
    if message is None:
        return
    user = message.from_user
    lang = context.language(user)
    if not await _allowed(message, context, lang):
        return
    if user is None or message.sender_chat is not None:  # an anonymous group admin, a channel
        await reply_html(message, t("id_anonymous", lang, chat=message.chat_id))
        return
    role = "id_admin" if context.is_admin(user) else "id_not_admin"
    text = t("id_reply", lang, user=user.id, chat=message.chat_id)
    await reply_html(message, text + "\n" + t(role, lang, user=user.id))


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
    if not await _allowed(message, context, lang):
        return
    articles, scope = await asyncio.to_thread(scoped_articles, context, message.chat_id)
    text, page, pages = render_sources(articles, 0, lang, per_page=SOURCES_PER_PAGE, scope=scope)
    await reply_html(message, text, sources_keyboard(page, pages, lang))


# ------------------------------------------------------------------------------ buttons


async def overview_more(update: Update, context: BotContext) -> None:
    """The next page of the article list, as a new message; the pressed More goes away."""
    query = update.callback_query
    if query is None or context.match is None or query.message is None:
        return
    # The list's language rides in its button (a list asked in Spanish pages on in Spanish).
    lang = context.match[4] or context.language(update.effective_user)
    if not await _press_allowed(query, context, lang):
        return
    await query.answer()
    with contextlib.suppress(BadRequest):
        await query.edit_message_reply_markup(None)
    message = query.message
    if not isinstance(message, Message):
        return
    period: Period | None = None
    if context.match[2] is not None:  # a period's list ("ov:1:123-" or "ov:1:-" the latest)
        period = (_number(context.match[2]), _number(context.match[3]))
    await _send_overview(message, context, lang, int(context.match[1]), period)


def _number(digits: str) -> int | None:
    return int(digits) if digits else None


async def sources_page(update: Update, context: BotContext) -> None:
    """Show another page of /sources in place."""
    query = update.callback_query
    if query is None or context.match is None:
        return
    lang = context.language(update.effective_user)
    if not await _press_allowed(query, context, lang):
        return
    await query.answer()
    chat_id = query.message.chat.id if query.message is not None else 0
    articles, scope = await asyncio.to_thread(scoped_articles, context, chat_id)
    number = int(context.match[1])
    text, page, pages = render_sources(
        articles, number, lang, per_page=SOURCES_PER_PAGE, scope=scope
    )
    await edit_page(query, text, sources_keyboard(page, pages, lang))


async def _pressed(
    update: Update, context: BotContext
) -> tuple[CallbackQuery, Message, str, Page] | None:
    """The checks every answer button starts with; None when it was already answered.

    The page must still be kept and the presser within the rate limit (a button is a search
    too); the callback is answered at once, before any work ("query is too old" otherwise).
    """
    query = update.callback_query
    if query is None or context.match is None or not isinstance(query.message, Message):
        return None
    message, lang = query.message, context.language(update.effective_user)
    try:
        page = context.bot_data.session.page_of(message.chat_id, context.match[1])
    except AnswerExpiredError:
        await query.answer(t_plain("expired", lang), show_alert=True)
        return None
    lang = page.lang or lang  # the answer's language, whoever presses its buttons
    if not await _press_allowed(query, context, lang):
        return None
    return query, message, lang, page


async def more_button(update: Update, context: BotContext) -> None:
    """Send the next passages for the question of an answer (once per answer)."""
    pressed = await _pressed(update, context)
    if pressed is None:
        return
    query, message, lang, shown = pressed
    if not shown.has_more:
        await query.answer(t_plain("page_spent", lang), show_alert=True)
        return
    await query.answer()
    session = context.bot_data.session
    async with typing(context, message.chat_id):
        try:
            page = await asyncio.to_thread(session.more, message.chat_id, shown.key)
        except IndexFailure as exc:
            await reply_html(message, index_error_text(exc, lang))
            return
        if not page.answer.quotes:
            await reply_html(message, t("no_more", lang))
            return
        # This message's More is spent: keep only its Context buttons.
        spent = session.page_of(message.chat_id, shown.key)
        with contextlib.suppress(BadRequest):
            await query.edit_message_reply_markup(answer_keyboard(spent, lang))
        await _send_page(message, page, lang)


async def vote_button(update: Update, context: BotContext) -> None:
    """👍 or 👎 under an answer: a vote on its first quote; 👎 then asks which passage is wrong."""
    pressed = await _pressed(update, context)
    if pressed is None or context.match is None or update.effective_user is None:
        return
    query, message, lang, shown = pressed
    up = context.match[2] == "u"
    session = context.bot_data.session
    try:
        await asyncio.to_thread(
            session.vote, message.chat_id, shown.key, update.effective_user.id, 1 if up else -1
        )
    except IndexFailure:
        await query.answer(t_plain("expired", lang), show_alert=True)
        return
    await query.answer(t_plain("vote_thanks" if up else "vote_which", lang))
    with contextlib.suppress(BadRequest):
        await query.edit_message_reply_markup(
            answer_keyboard(shown, lang, feedback="done" if up else "wrong")
        )


async def wrong_button(update: Update, context: BotContext) -> None:
    """ "✗ n wrong": a vote against quote ``n`` of an answer."""
    pressed = await _pressed(update, context)
    if pressed is None or context.match is None or update.effective_user is None:
        return
    query, message, lang, shown = pressed
    number = int(context.match[2])
    try:
        await asyncio.to_thread(
            context.bot_data.session.vote,
            message.chat_id,
            shown.key,
            update.effective_user.id,
            -1,
            number,
        )
    except IndexFailure:
        await query.answer(t_plain("expired", lang), show_alert=True)
        return
    await query.answer(t_plain("vote_thanks", lang))


async def context_button(update: Update, context: BotContext) -> None:
    """Send the paragraphs around one quote of an answer."""
    pressed = await _pressed(update, context)
    if pressed is None or context.match is None:
        return
    query, message, lang, shown = pressed
    await query.answer()
    number = int(context.match[2])
    try:
        wider = await asyncio.to_thread(
            context.bot_data.session.context, message.chat_id, shown.key, number
        )
    except IndexFailure as exc:  # out of date, expired, no index
        await reply_html(message, index_error_text(exc, lang))
        return
    await reply_html(message, render_context(wider, lang=lang))


async def unknown_button(update: Update, context: BotContext) -> None:
    """Callback data no pattern accepts (forged, or from an older version): say it expired."""
    query = update.callback_query
    if query is not None:
        logger.info("unknown callback data %r", (query.data or "")[:64])
        await query.answer(
            t_plain("expired", context.language(update.effective_user)), show_alert=True
        )


# ------------------------------------------------------------------------------ inline mode


async def inline_query(update: Update, context: BotContext) -> None:
    """Offer the best quotes for ``@bot question`` typed in any chat."""
    query = update.inline_query
    if query is None:
        return
    lang = context.language(query.from_user)
    question = clean_question(query.query, context.settings.max_question_chars)
    lang = reply_language(question, lang) if question else lang
    hint = t_plain("inline_hint", lang)
    if question and _limit(context, query.from_user) is not Limit.ALLOW:
        question, hint = "", t_plain("rate_limited", lang)
    if not question:
        await _inline_hint(query.answer, hint)
        return
    started = time.perf_counter()
    try:
        answer = await asyncio.to_thread(context.bot_data.service.ask, question, INLINE_RESULTS)
    except IndexFailure as exc:
        await _inline_hint(query.answer, t_plain(error_key(exc), lang))
        context.bot_data.metrics.question("error", lang, time.perf_counter() - started, "inline")
        return
    results = [
        InlineQueryResultArticle(
            id=f"{i}-{quote.article_id}-{quote.start}"[:64],
            title=(
                f"≈ {t_plain('closest_inline', lang)} · {quote.title}"
                if quote.confidence == "closest"
                else quote.title
            )[:200],
            description=quote.highlight.strip()[:200],
            input_message_content=InputTextMessageContent(
                render_inline(quote, question, lang=lang),
                parse_mode=ParseMode.HTML,
                link_preview_options=NO_PREVIEW,
            ),
        )
        # Only the nearest passages: the few "closest" ones, not a page of weak matches.
        for i, quote in enumerate(
            (answer.quotes if answer.outcome == "closest" else answer.quotes + answer.more)[:50]
        )
    ]
    if not results:
        await _inline_hint(query.answer, t_plain("inline_no_answer", lang))
    else:
        await query.answer(results, cache_time=INLINE_CACHE_SECONDS, is_personal=False)
    seconds = time.perf_counter() - started
    context.bot_data.stats.record_answer(seconds, answer.outcome)
    context.bot_data.metrics.question(answer.outcome, lang, seconds, "inline")


async def _inline_hint(answer: Callable[..., Awaitable[bool]], text: str) -> None:
    """No results, and a button with ``text`` that opens the private chat on /start help."""
    button = InlineQueryResultsButton(text=text[:64], start_parameter="help")
    await answer([], cache_time=INLINE_CACHE_SECONDS, button=button)


# ------------------------------------------------------------------------------ errors


async def error_handler(update: object, context: BotContext) -> None:
    """Log the error, then tell the user something went wrong (never the traceback)."""
    logger.error("error while handling an update", exc_info=context.error)
    if not isinstance(update, Update):
        return
    lang = context.language(update.effective_user)
    key = error_key(context.error) if context.error is not None else "error"
    if update.callback_query is not None:
        with contextlib.suppress(TelegramError):
            await update.callback_query.answer(t_plain(key, lang)[:200], show_alert=True)
        return
    message = update.effective_message
    if message is not None and update.effective_chat is not None:
        with contextlib.suppress(TelegramError):
            await reply_html(message, t(key, lang))
