"""Admin handlers that change the collection: /add (upload or URL) and /remove."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from telegram import Document, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

from bot.context import BotContext
from bot.fetch import FetchError, fetch_url, filename_for_url
from bot.i18n import t
from bot.render import format_bytes
from bot.replies import edit_html, index_error_text, reply_html, typing
from index.errors import ArticleLoadError, BuildInProgressError, IndexFailure
from index.ingest import SUPPORTED_SUFFIXES, article_from_bytes, article_id_for, safe_filename
from index.models import Article

__all__ = [
    "ADD_CAPTION",
    "add_command",
    "add_document",
    "find_article_file",
    "remove_button",
    "remove_command",
    "save_unique",
]

logger = logging.getLogger(__name__)

ADD_CAPTION = r"^/add(@\w+)?(\s|$)"  # a document sent with the caption "/add"


# ------------------------------------------------------------------------------ /add


def save_unique(folder: Path, filename: str, data: bytes) -> tuple[Path, bool]:
    """Write ``data`` as ``folder/filename`` without ever overwriting a different file.

    A taken name (or one whose article id is taken) gets a numeric suffix: ``a-2.txt``.
    Returns the path and whether it was created (False: the same bytes were already there).
    """
    folder.mkdir(parents=True, exist_ok=True)
    stem, suffix = PurePosixPath(filename).stem, PurePosixPath(filename).suffix
    taken = {article_id_for(p): p for p in folder.iterdir() if p.is_file()}
    for n in range(1, 10_000):
        candidate = folder / (filename if n == 1 else f"{stem}-{n}{suffix}")
        owner = taken.get(article_id_for(candidate))
        if owner is not None:
            if owner == candidate and owner.read_bytes() == data:
                return candidate, False
            continue
        temporary = folder / f".{candidate.name}.{os.getpid()}.partial"
        temporary.write_bytes(data)
        try:
            os.link(temporary, candidate)  # fails if the name appeared meanwhile: no overwrite
        except FileExistsError:
            continue
        finally:
            temporary.unlink(missing_ok=True)
        return candidate, True
    raise FileExistsError(f"no free name for {filename} in {folder}")


async def _save_and_index(
    message: Message, context: BotContext, lang: str, filename: str, data: bytes
) -> None:
    """Save a checked article file into SEEDS_DIR and index it; undo the save on failure."""
    seeds = context.settings.seeds_dir
    path, created = await asyncio.to_thread(save_unique, seeds, filename, data)
    try:
        article, passages = await asyncio.to_thread(context.service.add_file, path)
    except BaseException as exc:
        if created:
            path.unlink(missing_ok=True)  # a file that is not indexed is not kept
        if isinstance(exc, BuildInProgressError):
            await reply_html(message, t("reindex_running", lang))
            return
        if isinstance(exc, ArticleLoadError):
            await reply_html(message, t("add_rejected", lang, reason=str(exc)))
            return
        raise
    logger.info("added %s as %s (%d passages)", article.id, path.name, passages)
    await reply_html(
        message, t("add_done", lang, title=article.title, id=article.id, passages=passages)
    )


async def _add_document(
    message: Message, document: Document, context: BotContext, lang: str
) -> None:
    """Check, download, check again, save and index an uploaded article file."""
    limit = context.settings.max_upload_bytes
    name = document.file_name or "upload.txt"
    if PurePosixPath(name.replace("\\", "/")).suffix.lower() not in SUPPORTED_SUFFIXES:
        await reply_html(message, t("add_unsupported", lang))
        return
    if document.file_size is not None and document.file_size > limit:
        size = format_bytes(document.file_size)
        await reply_html(message, t("add_too_large", lang, size=size, limit=format_bytes(limit)))
        return
    if context.service.building:
        await reply_html(message, t("reindex_running", lang))
        return
    async with typing(context, message.chat_id):
        telegram_file = await document.get_file()
        data = bytes(await telegram_file.download_as_bytearray())
        if len(data) > limit:  # file_size is the sender's claim; the bytes are the truth
            size = format_bytes(len(data))
            await reply_html(
                message, t("add_too_large", lang, size=size, limit=format_bytes(limit))
            )
            return
        filename = safe_filename(name)
        try:
            await asyncio.to_thread(article_from_bytes, filename, data, None, limit)
        except ArticleLoadError as exc:
            await reply_html(message, t("add_rejected", lang, reason=str(exc)))
            return
        await _save_and_index(message, context, lang, filename, data)


async def _add_url(message: Message, url: str, context: BotContext, lang: str) -> None:
    """Fetch a page, extract its article, save it as JSON (with its URL) and index it."""
    settings = context.settings
    if context.service.building:
        await reply_html(message, t("reindex_running", lang))
        return
    async with typing(context, message.chat_id):
        try:
            page = await fetch_url(
                url,
                settings.fetch_timeout,
                settings.max_upload_bytes,
                allow_private=settings.fetch_private_addresses,
            )
        except FetchError as exc:
            await reply_html(message, t("add_fetch_failed", lang, reason=str(exc)))
            return
        fetched_name = filename_for_url(page.url, page.suffix)
        try:
            article = await asyncio.to_thread(
                article_from_bytes, fetched_name, page.data, page.url, settings.max_upload_bytes
            )
        except ArticleLoadError as exc:
            await reply_html(message, t("add_rejected", lang, reason=str(exc)))
            return
        filename = str(PurePosixPath(fetched_name).with_suffix(".json"))
        await _save_and_index(message, context, lang, filename, _as_json(article, page.url))


def _as_json(article: Article, url: str) -> bytes:
    """The extracted article as a JSON seed file, so its URL survives every reindex."""
    record = {"title": article.title, "url": article.url or url, "text": article.text}
    if article.date:
        record["date"] = article.date
    return json.dumps(record, ensure_ascii=False, indent=1).encode()


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
    if message is None or message.document is None:
        return
    await _add_document(message, message.document, context, context.language(update.effective_user))


# ------------------------------------------------------------------------------ /remove


def find_article_file(folder: Path, article_id: str) -> Path | None:
    """The file of SEEDS_DIR that gives the article ``article_id``, if any."""
    if not folder.is_dir():
        return None
    for path in sorted(folder.iterdir()):
        if (
            path.is_file()
            and not path.name.startswith(".")
            and path.suffix.lower() in SUPPORTED_SUFFIXES
            and article_id_for(path) == article_id
        ):
            return path
    return None


async def remove_command(update: Update, context: BotContext) -> None:
    """Ask for confirmation before removing an article (``/remove ID``)."""
    message = update.effective_message
    if message is None:
        return
    lang = context.language(update.effective_user)
    if not context.args:
        await reply_html(message, t("remove_usage", lang))
        return
    article_id = context.args[0].strip()
    try:
        article = await asyncio.to_thread(context.service.article, article_id)
    except IndexFailure as exc:
        await reply_html(message, index_error_text(exc, lang))
        return
    if article is None:
        await reply_html(message, t("remove_unknown", lang, id=article_id[:64]))
        return
    token = context.pending_removals.put(message.chat_id, article.id)
    buttons = [
        InlineKeyboardButton(t("yes_button", lang), callback_data=f"rm:y:{token}"),
        InlineKeyboardButton(t("cancel_button", lang), callback_data=f"rm:n:{token}"),
    ]
    text = t("remove_confirm", lang, title=article.title, id=article.id)
    await reply_html(message, text, InlineKeyboardMarkup([buttons]))


def _to_trash(path: Path, data_dir: Path) -> Path:
    """Move a seed file to DATA_DIR/trash/<timestamp>-<name> (nothing is deleted)."""
    trash = data_dir / "trash"
    trash.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    target = trash / f"{stamp}-{path.name}"
    n = 1
    while target.exists():
        n += 1
        target = trash / f"{stamp}-{n}-{path.name}"
    shutil.move(str(path), str(target))
    return target


def _remove(context: BotContext, article_id: str) -> tuple[Article, Path | None]:
    """Move the article's file to the trash, then drop it from the index (blocking)."""
    settings = context.settings
    source = find_article_file(settings.seeds_dir, article_id)
    trashed = _to_trash(source, settings.data_dir) if source else None
    try:
        return context.service.remove(article_id), trashed
    except BaseException:
        if source is not None and trashed is not None:
            shutil.move(str(trashed), str(source))  # the index still has it: put it back
        raise


async def remove_button(update: Update, context: BotContext) -> None:
    """Carry out or cancel a removal confirmed by an admin's button."""
    query = update.callback_query
    if query is None or query.data is None or query.message is None:
        return
    user = update.effective_user
    lang = context.language(user)
    if not context.is_admin(user):
        logger.warning("refused a removal button from user %s", user.id if user else None)
        await query.answer(t("admin_only", lang), show_alert=True)
        return
    _, action, token = query.data.split(":")
    article_id = context.pending_removals.pop(query.message.chat.id, token)
    if article_id is None:
        await query.answer(t("expired", lang), show_alert=True)
        return
    await query.answer()
    if action != "y":
        await edit_html(query.message, t("remove_cancelled", lang))
        return
    try:
        article, trashed = await asyncio.to_thread(_remove, context, article_id)
    except KeyError:
        text = t("remove_unknown", lang, id=article_id)
    except BuildInProgressError:
        text = t("reindex_running", lang)
    else:
        logger.info("removed %s; file in %s", article.id, trashed)
        if trashed is None:
            text = t("remove_done_no_file", lang, title=article.title, id=article.id)
        else:
            trash = f"trash/{trashed.name}"
            text = t("remove_done", lang, title=article.title, id=article.id, trash=trash)
    await edit_html(query.message, text)
