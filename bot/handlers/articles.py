"""Admin handlers that change articles of the collection: /remove (one id or several,
confirmed once) and /edit (an article's title, date or outlet).

As for /add (``bot.handlers.add``), the work is ``index.collection.folder.ArticleCollection``'s,
done in the turn of the queue of changes.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime

from telegram import Message, Update

from bot.context import BotContext
from bot.handlers.add import in_turn
from bot.handlers.callbacks import remove_keyboard
from bot.i18n import t, why
from bot.replies import admin_press, edit_html, index_error_text, reply_html
from index import (
    Article,
    ArticleLoadError,
    ArticleNotFoundError,
    EditRefused,
    IndexFailure,
    Removed,
    check_value,
    display_date,
    now_iso,
)

__all__ = ["edit_command", "parse_edit", "remove_button", "remove_command"]

logger = logging.getLogger(__name__)

# /remove confirmations kept per chat (in the readers' store, shared by replicas); older
# ones' buttons say they expired.
MAX_PENDING_REMOVALS = 20
# Ids one /remove takes: its confirmation lists them all in one message (80-character titles).
MAX_REMOVE_IDS = 20
_SHOWN_ID_CHARS = 64


# ------------------------------------------------------------------------------ /remove


async def remove_command(update: Update, context: BotContext) -> None:
    """Ask for one confirmation before removing articles (``/remove ID [ID…]``); the ids no
    article has are named at once."""
    message = update.effective_message
    if message is None:
        return
    lang = context.language(update.effective_user)
    if not context.args:
        await reply_html(message, t("remove_usage", lang))
        return
    ids = list(dict.fromkeys(context.args))
    if len(ids) > MAX_REMOVE_IDS:
        await reply_html(message, t("remove_too_many", lang, limit=MAX_REMOVE_IDS))
        return
    service = context.bot_data.service
    try:
        found = await asyncio.to_thread(lambda: [service.article(i) for i in ids])
    except IndexFailure as exc:
        await reply_html(message, index_error_text(exc, lang))
        return
    articles = [article for article in found if article is not None]
    unknown = _shown_ids(i for i, article in zip(ids, found, strict=True) if article is None)
    if not articles:
        one = len(ids) == 1
        text = (
            t("remove_unknown", lang, id=unknown)
            if one
            else t("remove_unknown_ids", lang, ids=unknown)
        )
        await reply_html(message, text)
        return
    token = secrets.token_urlsafe(6)  # a KEY_PATTERN: what the buttons carry
    await asyncio.to_thread(
        context.bot_data.readers.ask_removal,
        message.chat_id,
        token,
        " ".join(article.id for article in articles),  # ids have no spaces
        now_iso(),
        MAX_PENDING_REMOVALS,
    )
    if len(articles) == 1:
        text = t("remove_confirm", lang, title=articles[0].title, id=articles[0].id)
    else:
        lines = [t("remove_confirm_many", lang, count=len(articles))]
        lines += [t("remove_item", lang, title=a.title[:80], id=a.id) for a in articles]
        text = "\n".join(lines)
    if unknown:
        text += "\n" + t("remove_unknown_ids", lang, ids=unknown)
    await reply_html(message, text, remove_keyboard(token, lang))


def _shown_ids(ids: Iterable[str]) -> str:
    """Ids as a message names them: each cut (a pasted paragraph is no id), comma-separated."""
    return ", ".join(i[:_SHOWN_ID_CHARS] for i in ids)


async def remove_button(update: Update, context: BotContext) -> None:
    """Carry out or cancel a removal confirmed by an admin's button."""
    pressed = await admin_press(update, context)
    if pressed is None or context.match is None:
        return
    query, lang = pressed
    if not isinstance(query.message, Message):
        return
    action, token = context.match[1], context.match[2]
    # Taken once, on whichever replica gets the press: a second press finds nothing.
    readers = context.bot_data.readers
    pending = await asyncio.to_thread(readers.take_removal, query.message.chat_id, token)
    if pending is None:
        await query.answer(t("expired", lang), show_alert=True)
        return
    await query.answer()
    if action != "y":
        await edit_html(query.message, t("remove_cancelled", lang))
        return
    ids = pending.split()
    collection = context.bot_data.collection
    try:
        outcome = await in_turn(
            query.message,
            context,
            lang,
            "/remove",
            lambda: asyncio.to_thread(collection.remove_many, ids),
        )
    except IndexFailure as exc:
        await edit_html(query.message, index_error_text(exc, lang))
        return
    if outcome is not None:
        await edit_html(query.message, _removed_text(*outcome, lang))


def _removed_text(removed: list[Removed], gone: list[str], lang: str) -> str:
    """What a confirmed /remove did: one article as before, several as a list."""
    if len(removed) == 1 and not gone:
        article, trashed = removed[0].article, removed[0].trashed
        if trashed is None:
            return t("remove_done_no_file", lang, title=article.title, id=article.id)
        trash = f"trash/{trashed.name}"
        return t("remove_done", lang, title=article.title, id=article.id, trash=trash)
    if not removed and len(gone) == 1:
        return t("remove_unknown", lang, id=gone[0])
    lines = [t("remove_done_many", lang, count=len(removed))] if removed else []
    for item in removed:
        key = "remove_item" if item.trashed else "remove_item_no_file"
        lines.append(t(key, lang, title=item.article.title[:80], id=item.article.id))
    if any(item.trashed for item in removed):
        lines.append(t("remove_trashed", lang, trash="trash/"))
    if gone:
        lines.append(t("remove_gone", lang, ids=_shown_ids(gone)))
    return "\n".join(lines)


# ------------------------------------------------------------------------------ /edit

# What an admin may call each field (the commands are English; French admins write French).
FIELD_NAMES = {
    "title": "title",
    "titre": "title",
    "date": "date",
    "outlet": "outlet",
    "média": "outlet",
    "media": "outlet",
}
# Telegram's whitespace between words; not str.split(), which also splits (and so hides)
# control characters such as \x1c-\x1f.
_GAP = re.compile(r"[ \t\r\n]+")


def parse_edit(text: str) -> tuple[str | None, str | None, str | None]:
    """``/edit ID FIELD VALUE`` as (id, field as typed, value), None for what is missing.

    >>> parse_edit("/edit volcan date  5 mars 2024")
    ('volcan', 'date', '5 mars 2024')
    >>> parse_edit("/edit@bot volcan")
    ('volcan', None, None)
    """
    parts: list[str | None] = [*_GAP.split(text.strip(" \t\r\n"), maxsplit=3)[1:]]
    parts += [None] * (3 - len(parts))
    return parts[0], parts[1], parts[2]


async def edit_command(update: Update, context: BotContext) -> None:
    """Correct an article's metadata: ``/edit ID title|date|outlet VALUE``."""
    message = update.effective_message
    if message is None or not message.text:
        return
    lang = context.language(update.effective_user)
    article_id, typed, value = parse_edit(message.text)
    if article_id is None or typed is None:
        await reply_html(message, t("edit_usage", lang))
        return
    field = FIELD_NAMES.get(typed.lower())
    if field is None:
        await reply_html(message, t("edit_field_unknown", lang, field=typed[:_SHOWN_ID_CHARS]))
        return
    try:
        check_value(field, value or "", datetime.now(UTC))  # said before waiting for a turn
    except EditRefused as refused:
        await reply_html(message, _refused_text(refused, value or "", lang))
        return
    collection = context.bot_data.collection
    try:
        edited = await in_turn(
            message,
            context,
            lang,
            "/edit",
            lambda: asyncio.to_thread(collection.edit, article_id, field, value or ""),
        )
    except ArticleNotFoundError:
        await reply_html(message, t("remove_unknown", lang, id=article_id[:_SHOWN_ID_CHARS]))
        return
    except EditRefused as refused:  # the day turned between the check and the turn
        await reply_html(message, _refused_text(refused, value or "", lang))
        return
    except ArticleLoadError as exc:
        await reply_html(message, t("edit_failed", lang, reason=why(exc, lang)))
        return
    except IndexFailure as exc:
        await reply_html(message, index_error_text(exc, lang))
        return
    if edited is None:
        return
    after = edited.after
    text = t(
        "edit_done",
        lang,
        title=after.title,
        id=after.id,
        field=t(f"field_{field}", lang),
        old=_shown(edited.before, field, lang),
        new=_shown(after, field, lang),
    )
    await reply_html(message, text)


def _refused_text(refused: EditRefused, value: str, lang: str) -> str:
    shown = value.strip()[:_SHOWN_ID_CHARS]
    return t(f"edit_{refused.reason}", lang, limit=refused.limit, value=shown)


def _shown(article: Article, field: str, lang: str) -> str:
    """A field's value as the reply shows it ("—" when the article has none)."""
    if field == "date":
        value = display_date(article.published, lang)
    else:
        value = article.title if field == "title" else article.outlet
    return value or "—"
