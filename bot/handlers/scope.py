"""``/scope`` in a group: its administrators bind it to part of the collection.

The choices are the collection's outlets, feeds and tags, shown as buttons that toggle (✓ on
the chosen ones); "Toute la collection" clears the scope. Who may choose is checked with the
Bot API's ``getChatMember`` at the command and at every press (anyone in a group can press a
button). The scope is kept in the readers' store (shared by replicas) and applies inside the
store's query (``Filters``), so a narrow scope still returns full answers. Private chats and
inline queries see everything.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import replace

from telegram import (
    Chat,
    ChatMember,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError

from bot.context import BotContext
from bot.i18n import t, t_plain
from bot.replies import reply_html
from index import ArticleSummary, Scope, scope_filters

__all__ = ["scope_button", "scope_command", "scope_words", "scoped_articles", "value_token"]

MAX_CHOICES = 24  # per kind: a keyboard stays readable
_KINDS = {"o": ("outlets", "📰"), "f": ("feeds", "📡"), "t": ("tags", "🏷")}


def value_token(value: str) -> str:
    """What a button carries for a value (8 hex digits: values may be long or non-ASCII)."""
    return hashlib.sha256(value.encode()).hexdigest()[:8]


def scope_words(context: BotContext, scope: Scope) -> str:
    """A group's scope in words for its readers ("Le Journal, transport"), feeds by their
    titles; "" for the whole collection. Blocking (reads the feeds)."""
    if scope.empty:
        return ""
    feeds = {f.id: f.title or f.url for f in context.bot_data.feeds.all()} if scope.feeds else {}
    return ", ".join((*scope.outlets, *(feeds.get(f, f) for f in scope.feeds), *scope.tags))


def scoped_articles(context: BotContext, chat_id: int) -> tuple[list[ArticleSummary], str]:
    """The articles a chat sees (a group's scope's, by title) and its scope in words ("" for
    the whole collection): what ``/sources`` lists there. Blocking."""
    scope = context.bot_data.session.scope(chat_id)
    articles = context.bot_data.service.summaries(scope_filters(scope))
    return articles, scope_words(context, scope)


async def _may_choose(context: BotContext, chat: Chat, user_id: int) -> bool:
    if user_id in context.settings.admin_ids:
        return True
    try:
        member = await context.bot.get_chat_member(chat.id, user_id)
    except TelegramError:
        return False
    return member.status in (ChatMember.ADMINISTRATOR, ChatMember.OWNER)


def _choices(context: BotContext) -> dict[str, list[tuple[str, str]]]:
    """Per kind, (value, label) of what a group may be scoped to."""
    articles = context.bot_data.service.summaries()  # outlets, feeds, tags: never the texts
    feeds = {f.id: f.title or f.url for f in context.bot_data.feeds.all()}
    outlets = sorted({a.outlet for a in articles if a.outlet})
    tags = sorted({tag for a in articles for tag in a.tags})
    used_feeds = sorted({a.feed for a in articles if a.feed} | set(feeds))
    return {
        "o": [(o, o) for o in outlets][:MAX_CHOICES],
        "f": [(f, feeds.get(f, f)) for f in used_feeds][:MAX_CHOICES],
        "t": [(tag, tag) for tag in tags][:MAX_CHOICES],
    }


def _keyboard(
    choices: dict[str, list[tuple[str, str]]], scope: Scope, lang: str
) -> InlineKeyboardMarkup:
    buttons = []
    for kind, values in choices.items():
        field, mark = _KINDS[kind]
        chosen = set(getattr(scope, field))
        for value, label in values:
            tick = "✓ " if value in chosen else ""
            buttons.append(
                InlineKeyboardButton(
                    f"{tick}{mark} {label}"[:60], callback_data=f"scope:{kind}:{value_token(value)}"
                )
            )
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([InlineKeyboardButton(t("scope_all_button", lang), callback_data="scope:all")])
    return InlineKeyboardMarkup(rows)


def _summary(choices: dict[str, list[tuple[str, str]]], scope: Scope, lang: str) -> str:
    if scope.empty:
        return t("scope_header", lang, scope=t_plain("scope_everything", lang))
    labels = {value: label for values in choices.values() for value, label in values}
    names = [labels.get(v, v) for v in (*scope.outlets, *scope.feeds, *scope.tags)]
    return t("scope_header", lang, scope=", ".join(names))


async def scope_command(update: Update, context: BotContext) -> None:
    """Show the group's scope with its choices (group administrators only)."""
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    if message is None or user is None or chat is None:
        return
    lang = context.language(user)
    if chat.type == Chat.PRIVATE:
        await reply_html(message, t("scope_private", lang))
        return
    if not await _may_choose(context, chat, user.id):
        await reply_html(message, t("scope_refused", lang))
        return
    choices = await asyncio.to_thread(_choices, context)
    scope = await asyncio.to_thread(context.bot_data.readers.scope, chat.id)
    await reply_html(message, _summary(choices, scope, lang), _keyboard(choices, scope, lang))


async def scope_button(update: Update, context: BotContext) -> None:
    """Toggle one outlet, feed or tag of the group's scope, or clear it."""
    query, user = update.callback_query, update.effective_user
    if query is None or user is None or context.match is None:
        return
    if not isinstance(query.message, Message):
        return
    message = query.message
    lang = context.language(user)
    if message.chat.type == Chat.PRIVATE:  # only a forged button gets here
        await query.answer(t_plain("scope_private", lang), show_alert=True)
        return
    if not await _may_choose(context, message.chat, user.id):
        await query.answer(t_plain("scope_refused", lang), show_alert=True)
        return
    readers = context.bot_data.readers
    choices = await asyncio.to_thread(_choices, context)
    scope = await asyncio.to_thread(readers.scope, message.chat.id)
    if context.match[0] == "scope:all":
        scope = Scope()
    else:
        kind, token = context.match[1], context.match[2]
        field = _KINDS[kind][0]
        value = next((v for v, _ in choices[kind] if value_token(v) == token), None)
        if value is None:
            await query.answer(t_plain("expired", lang), show_alert=True)
            return
        chosen = list(getattr(scope, field))
        chosen = [v for v in chosen if v != value] if value in chosen else [*chosen, value]
        scope = replace(scope, **{field: tuple(chosen)})
    await asyncio.to_thread(readers.set_scope, message.chat.id, scope)
    await query.answer()
    try:
        await query.edit_message_text(
            _summary(choices, scope, lang),
            parse_mode=ParseMode.HTML,
            reply_markup=_keyboard(choices, scope, lang),
        )
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise
