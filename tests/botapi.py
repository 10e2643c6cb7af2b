"""A local imitation of the Telegram Bot API, for end-to-end tests and benchmarks.

The real python-telegram-bot ``Application`` is pointed at it with::

    async with BotApiServer(token="123:ABC") as server:
        app = (
            ApplicationBuilder()
            .token(server.token)
            .base_url(server.base_url)
            .base_file_url(server.base_file_url)
            .build()
        )

Requests are ``POST {base_url}{token}/{method}`` with form, multipart or JSON bodies. Replies
have Telegram's shape (``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": N,
"description": "..."}`` with that HTTP status). Sent and edited texts are validated the way
Telegram does (HTML entities, 4096 characters, empty text, identical edits, 64-byte
``callback_data``, 50 inline results) and every call is recorded for assertions.

Updates are built with PTB's own classes, so they are always well-formed, and are kept until a
later ``offset`` confirms them, as Telegram does. ``getUpdates`` long-polls and wakes up as soon
as an update is injected; a second concurrent poll terminates the first with 409 Conflict. When a
webhook is set, updates are POSTed to it instead (JSON, with the secret-token header).

httpx honours proxy variables, so tests must keep loopback out of any proxy: call
:func:`bypass_proxies_for_loopback` (``tests/conftest.py`` does) before building the bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import inspect
import itertools
import json
import os
import re
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, fields
from typing import Any, TypeVar

import aiohttp
from aiohttp import web
from telegram import (
    CallbackQuery,
    Chat,
    Document,
    InlineKeyboardMarkup,
    InlineQuery,
    Message,
    MessageEntity,
    Update,
    User,
)
from telegram.ext import Application, ApplicationBuilder

JSONDict = dict[str, Any]
T = TypeVar("T")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


BOT_USERNAME = "article_qa_bot"
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_INLINE_RESULTS = 50
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
PARSE_ERROR = "Bad Request: can't parse entities: "
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
DEFAULT_UPDATE_TYPES = _words(
    """
    message edited_message channel_post edited_channel_post inline_query chosen_inline_result
    callback_query shipping_query pre_checkout_query poll poll_answer my_chat_member
    chat_join_request
    """
)
CHAT_ACTIONS = _words(
    """
    typing upload_photo record_video upload_video record_voice upload_voice upload_document
    choose_sticker find_location record_video_note upload_video_note
    """
)
# Parameters that arrive JSON-encoded in form fields, and scalar parameters worth typing.
_JSON_FIELDS = _words(
    """
    reply_markup entities caption_entities reply_parameters link_preview_options results
    commands scope allowed_updates button media
    """
)
_INT_FIELDS = frozenset(
    {"message_id", "offset", "limit", "reply_to_message_id", "cache_time", "max_connections"}
)
_BOOL_FIELDS = _words(
    """
    disable_notification protect_content show_alert is_personal drop_pending_updates
    disable_web_page_preview allow_sending_without_reply disable_content_type_detection
    """
)
_BUTTON_ACTIONS = _words(
    """
    url callback_data web_app login_url switch_inline_query switch_inline_query_current_chat
    switch_inline_query_chosen_chat copy_text callback_game pay
    """
)


def bypass_proxies_for_loopback() -> None:
    """Add 127.0.0.1 and localhost to ``NO_PROXY``/``no_proxy`` so httpx talks to us directly."""
    for var in ("NO_PROXY", "no_proxy"):
        hosts = [h.strip() for h in os.environ.get(var, "").split(",") if h.strip()]
        for host in ("127.0.0.1", "localhost"):
            if host not in hosts:
                hosts.append(host)
        os.environ[var] = ",".join(hosts)


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the unit Telegram uses for offsets and limits."""
    return len(text.encode("utf-16-le")) // 2


class ApiError(Exception):
    """An error reply of the Bot API: HTTP status ``error_code`` and a Telegram description."""

    def __init__(self, error_code: int, description: str, parameters: JSONDict | None = None):
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def to_dict(self) -> JSONDict:
        """The JSON body Telegram sends for this error."""
        body: JSONDict = {"ok": False, "error_code": self.error_code}
        body["description"] = self.description
        if self.parameters:
            body["parameters"] = self.parameters
        return body


# --------------------------------------------------------------------------- HTML parse mode

_HTML_TAGS = frozenset(
    {"a", "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler"}
    | {"tg-emoji", "code", "pre", "blockquote"}
)
_TAG_ENTITY = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
    "a": "text_link",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _decode_entity(text: str, i: int) -> tuple[str, int] | None:
    """Decode the HTML entity at ``text[i] == "&"``; return (character, next index) or None."""
    m = re.compile(r"&(?:#[xX]([0-9a-fA-F]{1,8})|#([0-9]{1,10})|([a-zA-Z]{1,10}));").match(text, i)
    if not m:
        return None
    if m.group(3) is not None:
        char = _NAMED_ENTITIES.get(m.group(3))
        return (char, m.end()) if char else None
    code = int(m.group(1), 16) if m.group(1) is not None else int(m.group(2))
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code), m.end()


def parse_html(text: str, *, strict_entities: bool = False) -> tuple[str, list[JSONDict]]:
    """Parse Telegram's HTML parse mode like tdlib does: return (plain text, entities).

    Raises ApiError 400 "can't parse entities: ..." with tdlib's messages (offsets in UTF-8
    bytes) for unsupported, unclosed or unbalanced tags. As on Telegram, an ``&`` that does not
    start one of ``&lt; &gt; &amp; &quot;`` or a numeric entity is kept literally, unless
    ``strict_entities`` is set, which rejects it (useful to prove the bot escapes everything).
    """

    def byte_offset(pos: int) -> int:
        return len(text[:pos].encode())

    def fail(message: str) -> ApiError:
        return ApiError(400, PARSE_ERROR + message)

    n = len(text)
    out: list[str] = []
    offset16 = 0
    stack: list[tuple[str, str, bool, int, int]] = []  # tag, arg, expandable, utf16/char start
    entities: list[JSONDict] = []
    i = 0
    while i < n:
        c = text[i]
        if c == "&":
            decoded = _decode_entity(text, i)
            if decoded:
                out.append(decoded[0])
                offset16 += utf16_len(decoded[0])
                i = decoded[1]
                continue
            if strict_entities:
                raise fail(f'Unescaped "&" at byte offset {byte_offset(i)}')
        if c != "<":
            out.append(c)
            offset16 += utf16_len(c)
            i += 1
            continue
        begin = i
        i += 1
        if i < n and text[i] == "/":  # end tag
            if not stack:
                raise fail(f"Unexpected end tag at byte offset {byte_offset(begin)}")
            j = i + 1
            while j < n and not text[j].isspace() and text[j] != ">":
                j += 1
            end_name = text[i + 1 : j]
            while j < n and text[j].isspace():
                j += 1
            if j >= n or text[j] != ">":
                raise fail(f"Unclosed end tag at byte offset {byte_offset(begin)}")
            tag, argument, expandable, start, char_start = stack.pop()
            if end_name and end_name != tag:
                raise fail(
                    f"Unmatched end tag at byte offset {byte_offset(begin)}, "
                    f'expected "</{tag}>", found "</{end_name}>"'
                )
            i = j + 1
            if offset16 > start:
                entity: JSONDict = {"type": _TAG_ENTITY[tag], "offset": start}
                entity["length"] = offset16 - start
                if tag == "a":
                    entity["url"] = argument or "".join(out[char_start:])
                elif tag == "blockquote" and expandable:
                    entity["type"] = "expandable_blockquote"
                elif tag == "pre" and argument:
                    entity["language"] = argument
                elif tag == "tg-emoji":
                    entity["custom_emoji_id"] = argument
                entities.append(entity)
            continue
        # start tag
        while i < n and not text[i].isspace() and text[i] != ">":
            i += 1
        if i >= n:
            raise fail(f"Unclosed start tag at byte offset {byte_offset(begin)}")
        tag = text[begin + 1 : i].lower()
        if tag not in _HTML_TAGS:
            raise fail(f'Unsupported start tag "{tag}" at byte offset {byte_offset(begin)}')
        argument, expandable = "", False
        while True:
            while i < n and text[i].isspace():
                i += 1
            if i >= n:
                raise fail(f"Unclosed start tag at byte offset {byte_offset(begin)}")
            if text[i] == ">":
                break
            name_start = i
            while i < n and not text[i].isspace() and text[i] not in "=>":
                i += 1
            name = text[name_start:i]
            if not name:
                raise fail(
                    f'Empty attribute name in the tag "{tag}" at byte offset {byte_offset(begin)}'
                )
            while i < n and text[i].isspace():
                i += 1
            if i >= n or text[i] != "=":
                if tag == "blockquote" and name == "expandable":
                    expandable = True
                    continue
                raise fail(
                    "Expected equal sign in declaration of an attribute of the tag "
                    f'"{tag}" at byte offset {byte_offset(begin)}'
                )
            i += 1
            while i < n and text[i].isspace():
                i += 1
            if i >= n:
                raise fail(f'Unclosed start tag "{tag}" at byte offset {byte_offset(begin)}')
            if text[i] in "'\"":
                quote, value_chars = text[i], []
                i += 1
                while i < n and text[i] != quote:
                    decoded = _decode_entity(text, i) if text[i] == "&" else None
                    if decoded:
                        value_chars.append(decoded[0])
                        i = decoded[1]
                    else:
                        value_chars.append(text[i])
                        i += 1
                value = "".join(value_chars)
                i += 1
            else:
                token_start = i
                while i < n and (text[i].isalnum() or text[i] in ".-"):
                    i += 1
                value = text[token_start:i].lower()
                if i >= n or not (text[i].isspace() or text[i] == ">"):
                    raise fail(f"Unexpected end of name token at byte offset {byte_offset(i)}")
            if tag == "a" and name == "href":
                argument = value
            elif tag in ("code", "pre") and name == "class" and value.startswith("language-"):
                argument = value[len("language-") :]
            elif tag == "span" and name == "class" and value.startswith("tg-"):
                argument = value[len("tg-") :]
            elif tag == "tg-emoji" and name == "emoji-id":
                argument = value
        if tag == "span" and argument != "spoiler":
            raise fail(
                f'Tag "span" must have class "tg-spoiler" at byte offset {byte_offset(begin)}'
            )
        stack.append((tag, argument, expandable, offset16, len(out)))
        i += 1
    if stack:
        raise fail(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _strip_text(text: str, entities: list[JSONDict]) -> tuple[str, list[JSONDict]]:
    """Trim surrounding whitespace as Telegram does, shifting and clipping entities."""
    stripped = text.strip()
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    size = utf16_len(stripped)
    result = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, size)
        if end > start:
            result.append({**entity, "offset": start, "length": end - start})
    return stripped, result


_COMMAND_RE = re.compile(r"(?<![\w/@])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
_MENTION_RE = re.compile(r"(?<![\w@/])@[A-Za-z0-9_]{5,32}\b")
_URL_RE = re.compile(r"https?://[^\s<>\"]+")


def auto_entities(text: str) -> tuple[MessageEntity, ...]:
    """The entities Telegram's clients attach to a user's text: commands, mentions and URLs."""
    spans: list[tuple[int, int, str]] = []
    for kind, pattern in (("url", _URL_RE), ("bot_command", _COMMAND_RE), ("mention", _MENTION_RE)):
        for m in pattern.finditer(text):
            if all(m.end() <= s or m.start() >= e for s, e, _ in spans):
                spans.append((m.start(), m.end(), kind))
    return tuple(
        MessageEntity(kind, offset=utf16_len(text[:s]), length=utf16_len(text[s:e]))
        for s, e, kind in sorted(spans)
    )


# --------------------------------------------------------------------------- the server


@dataclass(frozen=True)
class Mark:
    """Lengths of the record lists at one moment; pass as ``after=`` to the ``wait_*`` methods."""

    requests: int = 0
    sent: int = 0
    edits: int = 0
    deleted: int = 0
    callback_answers: int = 0
    inline_answers: int = 0
    chat_actions: int = 0
    rejected: int = 0


@dataclass(frozen=True)
class StoredFile:
    """A file known to the server, downloadable at ``/file/bot{token}/{file_path}``."""

    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    file_name: str | None = None
    mime_type: str | None = None


@dataclass(frozen=True)
class _Upload:
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass(frozen=True)
class _Fault:
    error_code: int
    description: str
    retry_after: int | None


class BotApiServer:
    """An aiohttp imitation of the Telegram Bot API (see the module docstring).

    Record lists, each appended in call order: ``requests`` ((method, params) for every call,
    params decoded), ``sent`` (messages the bot sent: params plus ``chat_id``, ``message_id``,
    ``plain_text``, ``parsed_entities``, ``reply_to_message_id``, ``message``), ``edits``,
    ``deleted``, ``callback_answers``, ``inline_answers``, ``chat_actions`` and ``rejected``
    (every 4xx answer to a sending or editing method: method, params, error_code, description).
    ``commands`` maps (canonical scope JSON, language code) to the command list.
    """

    _TEXT_METHODS = _words(
        """
        sendmessage editmessagetext editmessagereplymarkup senddocument answerinlinequery
        answercallbackquery sendchataction deletemessage
        """
    )

    def __init__(
        self,
        token: str = "123:ABC",
        *,
        username: str = BOT_USERNAME,
        first_name: str = "Article QA",
        host: str = "127.0.0.1",
        port: int = 0,
        strict_entities: bool = False,
        callback_timeout: float | None = None,
    ) -> None:
        """Configure the server; it listens only once started (``async with`` or ``start()``).

        ``callback_timeout``: seconds after which answering a callback query fails with "query
        is too old" (None: never). ``strict_entities``: see :func:`parse_html`.
        """
        self.token = token
        self.host = host
        self.port = port
        self.strict_entities = strict_entities
        self.callback_timeout = callback_timeout
        self.bot_user = User(
            id=int(token.split(":", 1)[0]),
            first_name=first_name,
            is_bot=True,
            username=username,
            can_join_groups=True,
            can_read_all_group_messages=False,
            supports_inline_queries=True,
        )
        self.requests: list[tuple[str, JSONDict]] = []
        self.sent: list[JSONDict] = []
        self.edits: list[JSONDict] = []
        self.deleted: list[JSONDict] = []
        self.callback_answers: list[JSONDict] = []
        self.inline_answers: list[JSONDict] = []
        self.chat_actions: list[JSONDict] = []
        self.rejected: list[JSONDict] = []
        self.commands: dict[tuple[str, str], list[JSONDict]] = {}
        self.webhook: JSONDict | None = None
        self.files: dict[str, StoredFile] = {}
        self._updates: deque[JSONDict] = deque()
        self._allowed_updates: frozenset[str] = DEFAULT_UPDATE_TYPES
        self._chats: dict[int, Chat] = {}
        self._messages: dict[tuple[int, int], JSONDict] = {}
        self._message_ids: dict[int, int] = {}
        self._update_ids = itertools.count(1)
        self._ids = itertools.count(1)
        self._callback_queries: dict[str, float] = {}
        self._inline_queries: set[str] = set()
        self._faults: dict[str, deque[_Fault]] = {}
        self._poll_generation = 0
        self._changed = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._methods: dict[str, Callable[[JSONDict], Any]] = {
            "getme": lambda p: self.bot_user.to_dict(),
            "getupdates": self._get_updates,
            "deletewebhook": self._delete_webhook,
            "setwebhook": self._set_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_message_text,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "deletemessage": self._delete_message,
            "answercallbackquery": self._answer_callback_query,
            "answerinlinequery": self._answer_inline_query,
            "sendchataction": self._send_chat_action,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "deletemycommands": self._delete_my_commands,
            "getfile": self._get_file,
            "senddocument": self._send_document,
            "close": lambda p: True,
            "logout": lambda p: True,
            "setmydescription": lambda p: True,
            "setmyshortdescription": lambda p: True,
            "setchatmenubutton": lambda p: True,
        }

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` once started."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """Value for ``ApplicationBuilder().base_url(...)``."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """Value for ``ApplicationBuilder().base_file_url(...)``."""
        return f"{self.url}/file/bot"

    def application_builder(self) -> ApplicationBuilder[Any, Any, Any, Any, Any, Any]:
        """An ``ApplicationBuilder`` with this server's token, base URL and base file URL."""
        return (
            ApplicationBuilder()
            .token(self.token)
            .base_url(self.base_url)
            .base_file_url(self.base_file_url)
        )

    async def start(self) -> None:
        """Listen on ``host:port`` (port 0 picks a free port, stored back in ``self.port``)."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._runner = web.AppRunner(
            app, handler_cancellation=True, shutdown_timeout=1.0, access_log=None
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = getattr(site, "_server", None)
        sockets = getattr(server, "sockets", None) or []
        if sockets:
            self.port = sockets[0].getsockname()[1]

    async def close(self) -> None:
        """Release held polls, stop webhook delivery and stop listening."""
        self._closing = True
        self._notify()
        await self._stop_webhook_delivery()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> BotApiServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # ------------------------------------------------------------------ users, chats, updates

    def user(
        self,
        user_id: int,
        first_name: str = "Test",
        language_code: str | None = "fr",
        username: str | None = None,
    ) -> User:
        """A user who has started the bot (their private chat is known to the server)."""
        user = User(
            id=user_id,
            first_name=first_name,
            is_bot=False,
            username=username,
            language_code=language_code,
        )
        self.register_chat(self.private_chat(user))
        return user

    def private_chat(self, user: User) -> Chat:
        """The private chat between ``user`` and the bot."""
        return Chat(
            id=user.id,
            type=Chat.PRIVATE,
            first_name=user.first_name,
            last_name=user.last_name,
            username=user.username,
        )

    def group_chat(self, chat_id: int, title: str, chat_type: str = Chat.GROUP) -> Chat:
        """A group (negative id) the bot is a member of."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        chat = Chat(id=chat_id, type=chat_type, title=title)
        self.register_chat(chat)
        return chat

    def register_chat(self, chat: Chat) -> None:
        """Make ``chat`` known, so the bot may send to it."""
        self._chats[chat.id] = chat

    def message(self, chat_id: int, message_id: int) -> JSONDict | None:
        """The current state of a stored message (as Telegram JSON), or None."""
        return self._messages.get((chat_id, message_id))

    @property
    def pending_updates(self) -> list[JSONDict]:
        """Updates not yet confirmed by a later ``offset`` (or webhook delivery)."""
        return list(self._updates)

    async def inject(self, update: Update) -> None:
        """Queue a ready-made update and wake the poller."""
        self._updates.append(update.to_dict())
        self._notify()

    def add_file(
        self, data: bytes, file_name: str | None = None, mime_type: str | None = None
    ) -> StoredFile:
        """Store ``data`` as a Telegram file (getFile and download will find it)."""
        n = next(self._ids)
        suffix = os.path.splitext(file_name or "")[1] or ".bin"
        stored = StoredFile(
            file_id=f"BQACAgIAAxkBAAI{n:06d}",
            file_unique_id=f"AgAD{n:06d}",
            file_path=f"documents/file_{n}{suffix}",
            data=data,
            file_name=file_name,
            mime_type=mime_type,
        )
        self.files[stored.file_id] = stored
        return stored

    async def send_text(
        self,
        user: User,
        text: str,
        chat: Chat | None = None,
        reply_to: Message | JSONDict | int | None = None,
    ) -> Message:
        """Inject a text message from ``user`` (private chat by default), with entities."""
        chat = chat or self.private_chat(user)
        self.register_chat(chat)
        message = Message(
            message_id=self._next_message_id(chat.id),
            date=self._now(),
            chat=chat,
            from_user=user,
            text=text,
            entities=auto_entities(text),
            reply_to_message=self._resolve_message(reply_to, chat.id) if reply_to else None,
        )
        return await self._inject_message(message)

    async def edit_text(self, message: Message, text: str) -> Message:
        """Inject an ``edited_message``: the user edited ``message`` to read ``text``."""
        edited = Message(
            message_id=message.message_id,
            date=message.date,
            chat=message.chat,
            from_user=message.from_user,
            text=text,
            entities=auto_entities(text),
            edit_date=self._now(),
        )
        self._store(edited)
        await self.inject(Update(next(self._update_ids), edited_message=edited))
        return edited

    async def send_document(
        self,
        user: User,
        filename: str,
        data: bytes,
        mime_type: str = "application/octet-stream",
        caption: str | None = None,
        chat: Chat | None = None,
    ) -> Message:
        """Inject a message carrying a document (stored, so getFile and download work)."""
        chat = chat or self.private_chat(user)
        self.register_chat(chat)
        stored = self.add_file(data, filename, mime_type)
        message = Message(
            message_id=self._next_message_id(chat.id),
            date=self._now(),
            chat=chat,
            from_user=user,
            document=Document(
                file_id=stored.file_id,
                file_unique_id=stored.file_unique_id,
                file_name=filename,
                mime_type=mime_type,
                file_size=len(data),
            ),
            caption=caption,
            caption_entities=auto_entities(caption) if caption else (),
        )
        return await self._inject_message(message)

    async def press_button(
        self,
        user: User,
        message: Message | JSONDict | int,
        callback_data: str,
        *,
        forged: bool = False,
    ) -> CallbackQuery:
        """Inject a callback query for a button of a message the bot sent.

        ``message`` is a ``sent``/``edits`` record, a Message or its JSON. Raises ValueError if
        the message (in its current state) has no button with that ``callback_data``, unless
        ``forged``: a client can send any data, or a button the message no longer shows.
        """
        target = self._resolve_message(message, user.id)
        markup = target.reply_markup
        buttons = [b for row in markup.inline_keyboard for b in row] if markup else []
        if not forged and not any(b.callback_data == callback_data for b in buttons):
            available = [b.callback_data for b in buttons]
            raise ValueError(f"no button with callback_data {callback_data!r}: {available}")
        query = CallbackQuery(
            id=str(next(self._ids)),
            from_user=user,
            chat_instance=f"{target.chat.id}{self.bot_user.id}",
            message=target,
            data=callback_data,
        )
        self._callback_queries[query.id] = time.monotonic()
        await self.inject(Update(next(self._update_ids), callback_query=query))
        return query

    async def inline_query(self, user: User, query: str, offset: str = "") -> InlineQuery:
        """Inject an inline query (``@bot query`` typed in any chat)."""
        inline = InlineQuery(
            id=str(next(self._ids)), from_user=user, query=query, offset=offset, chat_type="sender"
        )
        self._inline_queries.add(inline.id)
        await self.inject(Update(next(self._update_ids), inline_query=inline))
        return inline

    # ------------------------------------------------------------------ faults and waiting

    def fail_next(
        self,
        method: str,
        error_code: int = 429,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail with ``error_code``.

        A 429 gets ``parameters: {"retry_after": N}`` (N defaults to 1) and the description
        "Too Many Requests: retry after N", as Telegram sends them.
        """
        if error_code == 429 and retry_after is None:
            retry_after = 1
        if description is None:
            description = (
                f"Too Many Requests: retry after {retry_after}"
                if error_code == 429
                else f"Error {error_code}"
            )
        queue = self._faults.setdefault(method.lower(), deque())
        queue.extend(_Fault(error_code, description, retry_after) for _ in range(times))

    def mark(self) -> Mark:
        """Remember how much has been recorded so far."""
        return Mark(**{f.name: len(getattr(self, f.name)) for f in fields(Mark)})

    async def wait_for(
        self, predicate: Callable[[], T | None], timeout: float = 10.0, what: str = "condition"
    ) -> T:
        """Wait until ``predicate()`` is truthy (re-checked after every change); return it.

        Raises TimeoutError naming ``what`` and the last calls received.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            event = self._changed
            result = predicate()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                recent = [m for m, _ in self.requests[-8:]]
                raise TimeoutError(
                    f"timed out after {timeout}s waiting for {what}; last calls: {recent}; "
                    f"rejected: {[r['description'] for r in self.rejected[-3:]]}"
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    async def wait_polling(self, timeout: float = 10.0, after: Mark | None = None) -> None:
        """Wait until the bot has called getUpdates (since ``after``, default: ever)."""
        start = after.requests if after else 0
        await self.wait_for(
            lambda: any(m.lower() == "getupdates" for m, _ in self.requests[start:]),
            timeout,
            "getUpdates",
        )

    async def _wait_records(
        self, name: str, count: int, after: Mark | None, timeout: float
    ) -> list[JSONDict]:
        records: list[JSONDict] = getattr(self, name)
        start = getattr(after, name) if after else 0
        return await self.wait_for(
            lambda: records[start:] if len(records) - start >= count else None,
            timeout,
            f"{count} {name}",
        )

    async def wait_sent(
        self, count: int = 1, after: Mark | None = None, timeout: float = 10.0
    ) -> list[JSONDict]:
        """Wait until ``count`` messages were sent after ``after``; return all of them."""
        return await self._wait_records("sent", count, after, timeout)

    async def wait_edits(
        self, count: int = 1, after: Mark | None = None, timeout: float = 10.0
    ) -> list[JSONDict]:
        """Wait until ``count`` messages were edited after ``after``; return the edits."""
        return await self._wait_records("edits", count, after, timeout)

    async def wait_rejected(
        self, count: int = 1, after: Mark | None = None, timeout: float = 10.0
    ) -> list[JSONDict]:
        """Wait until ``count`` sending calls were rejected after ``after``; return them."""
        return await self._wait_records("rejected", count, after, timeout)

    async def wait_calls(
        self, method: str, count: int = 1, after: Mark | None = None, timeout: float = 10.0
    ) -> list[JSONDict]:
        """Wait until ``method`` was called ``count`` times after ``after``; return the params."""
        start = after.requests if after else 0

        def calls() -> list[JSONDict] | None:
            found = [p for m, p in self.requests[start:] if m.lower() == method.lower()]
            return found if len(found) >= count else None

        return await self.wait_for(calls, timeout, f"{count} {method}")

    # ------------------------------------------------------------------ HTTP plumbing

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    @staticmethod
    def _now() -> dtm.datetime:
        return dtm.datetime.now(dtm.UTC).replace(microsecond=0)

    def _next_message_id(self, chat_id: int) -> int:
        self._message_ids[chat_id] = self._message_ids.get(chat_id, 0) + 1
        return self._message_ids[chat_id]

    def _store(self, message: Message) -> JSONDict:
        data = message.to_dict()
        self._messages[(message.chat.id, message.message_id)] = data
        return data

    async def _inject_message(self, message: Message) -> Message:
        self._store(message)
        await self.inject(Update(next(self._update_ids), message=message))
        return message

    def _resolve_message(self, ref: Message | JSONDict | int, chat_id: int) -> Message:
        """A Message (current stored state) from a record, Message, JSON or message id."""
        if isinstance(ref, Message):
            key = (ref.chat.id, ref.message_id)
        elif isinstance(ref, int):
            key = (chat_id, ref)
        elif "chat_id" in ref and "message_id" in ref:  # a sent/edits record
            key = (int(ref["chat_id"]), int(ref["message_id"]))
        else:
            key = (int(ref["chat"]["id"]), int(ref["message_id"]))
        data = self._messages.get(key)
        if data is None:
            if isinstance(ref, Message):
                return ref
            raise ValueError(f"unknown message {key}")
        return Message.de_json(data, None)

    @staticmethod
    def _error(error: ApiError) -> web.Response:
        return web.json_response(error.to_dict(), status=error.error_code)

    async def _read_params(self, request: web.Request) -> JSONDict:
        raw: JSONDict = dict(request.query)
        if request.content_type == "application/json":
            body = await request.json() if request.can_read_body else {}
            if not isinstance(body, dict):
                raise ApiError(400, "Bad Request: invalid JSON body")
            raw.update(body)
        elif request.can_read_body:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    data = value.file.read()
                    raw[key] = _Upload(value.filename, value.content_type, data)
                else:
                    raw[key] = value
        for key, value in list(raw.items()):
            if isinstance(value, str) and value.startswith("attach://"):
                raw[key] = raw.get(value[len("attach://") :], value)
        return self._normalize(raw)

    @staticmethod
    def _normalize(raw: JSONDict) -> JSONDict:
        params: JSONDict = {}
        for key, value in raw.items():
            try:
                if key in _JSON_FIELDS and isinstance(value, str):
                    value = json.loads(value)
                elif key in _INT_FIELDS and isinstance(value, str | float):
                    value = int(float(value))
                elif key == "timeout" and isinstance(value, str):
                    value = float(value)
                elif key in _BOOL_FIELDS and isinstance(value, str):
                    value = value.lower() == "true"
                elif key == "chat_id" and isinstance(value, str) and re.fullmatch(r"-?\d+", value):
                    value = int(value)
            except ValueError as exc:
                raise ApiError(400, f"Bad Request: can't parse {key}: {exc}") from exc
            params[key] = value
        return params

    async def _handle_api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._error(ApiError(401, "Unauthorized"))
        method = request.match_info["method"]
        name = method.lower()
        try:
            params = await self._read_params(request)
        except ApiError as exc:
            return self._error(exc)
        self.requests.append((method, params))
        self._notify()
        handler = self._methods.get(name)
        if handler is None:
            return self._error(ApiError(404, "Not Found"))
        try:
            faults = self._faults.get(name)
            if faults:
                fault = faults.popleft()
                retry = {"retry_after": fault.retry_after} if fault.retry_after else None
                raise ApiError(fault.error_code, fault.description, retry)
            result = handler(params)
            if inspect.isawaitable(result):
                result = await result
        except ApiError as exc:
            if name in self._TEXT_METHODS and 400 <= exc.error_code < 500:
                self.rejected.append(
                    {
                        "method": method,
                        "params": params,
                        "error_code": exc.error_code,
                        "description": exc.description,
                    }
                )
                self._notify()
            return self._error(exc)
        self._notify()
        return web.json_response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        stored = next((f for f in self.files.values() if f.file_path == path), None)
        if request.match_info["token"] != self.token or stored is None:
            return self._error(ApiError(404, "Not Found"))
        return web.Response(body=stored.data, content_type="application/octet-stream")

    # ------------------------------------------------------------------ validation helpers

    def _chat(self, params: JSONDict) -> Chat:
        chat_id = params.get("chat_id")
        if chat_id in (None, ""):
            raise ApiError(400, "Bad Request: chat_id is empty")
        if isinstance(chat_id, str):
            name = chat_id.lstrip("@").lower()
            chat = next(
                (c for c in self._chats.values() if (c.username or "").lower() == name), None
            )
        else:
            chat = self._chats.get(int(chat_id))
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        return chat

    def _parse_text(
        self,
        text: Any,
        parse_mode: Any,
        entities: Any,
        *,
        limit: int,
        too_long: str,
        empty: str | None,
    ) -> tuple[str, list[JSONDict]]:
        """Validate a text or caption; return the plain text and entities Telegram would store."""
        if text is None or text == "":
            if empty is None:
                return "", []
            raise ApiError(400, empty)
        text = str(text)
        mode = str(parse_mode or "").lower()
        if mode == "html":
            plain, parsed = parse_html(text, strict_entities=self.strict_entities)
        elif mode in ("", "markdown", "markdownv2"):  # Markdown is not validated here
            plain, parsed = text, list(entities or [])
        else:
            raise ApiError(400, "Bad Request: unsupported parse_mode")
        plain, parsed = _strip_text(plain, parsed)
        if not plain and empty is not None:
            raise ApiError(400, empty)
        if utf16_len(plain) > limit:
            raise ApiError(400, too_long)
        return plain, parsed

    @staticmethod
    def _check_markup(markup: Any) -> InlineKeyboardMarkup | None:
        """Validate a reply_markup; return it if it is an inline keyboard (stored on messages)."""
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:
            return None
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise ApiError(400, 'Bad Request: field "inline_keyboard" must be an Array of Array')
        for button in (b for row in rows for b in row):
            if not isinstance(button, dict) or not button.get("text"):
                raise ApiError(400, "Bad Request: BUTTON_TEXT_INVALID")
            if "callback_data" in button:
                size = len(str(button["callback_data"]).encode())
                if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
            elif not _BUTTON_ACTIONS & button.keys():
                raise ApiError(
                    400, "Bad Request: text buttons are unallowed in the inline keyboard"
                )
        return InlineKeyboardMarkup.de_json(markup, None)

    def _reply_target(self, chat: Chat, params: JSONDict) -> tuple[Message | None, int | None]:
        reply = params.get("reply_parameters") or {}
        message_id = reply.get("message_id", params.get("reply_to_message_id"))
        if message_id is None:
            return None, None
        allow = reply.get("allow_sending_without_reply", params.get("allow_sending_without_reply"))
        reply_chat = reply.get("chat_id", chat.id)
        data = self._messages.get((int(reply_chat), int(message_id)))
        if data is None:
            if allow:
                return None, None
            raise ApiError(400, "Bad Request: message to be replied not found")
        return Message.de_json(data, None), int(message_id)

    def _stored_for_edit(self, params: JSONDict) -> tuple[Chat, JSONDict]:
        chat = self._chat(params)
        data = self._messages.get((chat.id, int(params.get("message_id") or 0)))
        if data is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if data.get("from", {}).get("id") != self.bot_user.id:
            raise ApiError(400, "Bad Request: message can't be edited")
        return chat, data

    # ------------------------------------------------------------------ API methods

    async def _get_updates(self, params: JSONDict) -> list[JSONDict]:
        if self.webhook:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        if params.get("allowed_updates"):
            self._allowed_updates = frozenset(params["allowed_updates"])
        elif params.get("allowed_updates") == []:
            self._allowed_updates = DEFAULT_UPDATE_TYPES
        self._confirm(params.get("offset"))
        self._poll_generation += 1
        generation = self._poll_generation
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            event = self._changed
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            batch = self._select(limit)
            remaining = deadline - loop.time()
            if batch or remaining <= 0 or self._closing:
                return batch
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    def _confirm(self, offset: Any) -> None:
        """Forget updates confirmed by ``offset`` (negative: keep only the last -offset)."""
        if not offset:
            return
        offset = int(offset)
        if offset > 0:
            while self._updates and self._updates[0]["update_id"] < offset:
                self._updates.popleft()
        else:
            while len(self._updates) > -offset:
                self._updates.popleft()

    def _select(self, limit: int) -> list[JSONDict]:
        """The first ``limit`` pending updates of allowed types (others are dropped)."""
        kept = deque(u for u in self._updates if (u.keys() - {"update_id"}) & self._allowed_updates)
        self._updates = kept
        return list(itertools.islice(kept, limit))

    async def _delete_webhook(self, params: JSONDict) -> bool:
        self.webhook = None
        await self._stop_webhook_delivery()
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _set_webhook(self, params: JSONDict) -> bool:
        if not params.get("url"):
            return await self._delete_webhook(params)
        if params.get("drop_pending_updates"):
            self._updates.clear()
        if params.get("allowed_updates"):
            self._allowed_updates = frozenset(params["allowed_updates"])
        self.webhook = {k: v for k, v in params.items() if not isinstance(v, _Upload)}
        await self._stop_webhook_delivery()
        self._webhook_task = asyncio.create_task(self._deliver_webhooks())
        return True

    def _get_webhook_info(self, params: JSONDict) -> JSONDict:
        info: JSONDict = {
            "url": (self.webhook or {}).get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook:
            info["max_connections"] = self.webhook.get("max_connections", 40)
            info["allowed_updates"] = sorted(self._allowed_updates)
        return info

    async def _stop_webhook_delivery(self) -> None:
        task, self._webhook_task = self._webhook_task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _deliver_webhooks(self) -> None:
        """POST pending updates to the webhook one by one; a non-2xx reply is retried."""
        async with aiohttp.ClientSession() as session:
            while self.webhook and not self._closing:
                event = self._changed
                batch = self._select(1)
                if not batch:
                    await event.wait()
                    continue
                headers = {}
                if self.webhook.get("secret_token"):
                    headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook["secret_token"]
                try:
                    async with session.post(
                        self.webhook["url"], json=batch[0], headers=headers
                    ) as response:
                        delivered = 200 <= response.status < 300
                except aiohttp.ClientError:
                    delivered = False
                if delivered:
                    self._confirm(batch[0]["update_id"] + 1)
                else:
                    await asyncio.sleep(0.2)

    def _send_message(self, params: JSONDict) -> JSONDict:
        chat = self._chat(params)
        plain, entities = self._parse_text(
            params.get("text"),
            params.get("parse_mode"),
            params.get("entities"),
            limit=MAX_TEXT_LENGTH,
            too_long="Bad Request: message is too long",
            empty="Bad Request: message text is empty",
        )
        markup = self._check_markup(params.get("reply_markup"))
        reply_to, reply_id = self._reply_target(chat, params)
        message = Message(
            message_id=self._next_message_id(chat.id),
            date=self._now(),
            chat=chat,
            from_user=self.bot_user,
            text=plain,
            entities=[MessageEntity.de_json(e, None) for e in entities],
            reply_markup=markup,
            reply_to_message=reply_to,
        )
        return self._record_sent("sendMessage", params, message, entities, reply_id)

    def _record_sent(
        self,
        method: str,
        params: JSONDict,
        message: Message,
        entities: list[JSONDict],
        reply_id: int | None,
    ) -> JSONDict:
        data = self._store(message)
        record = {k: v for k, v in params.items() if not isinstance(v, _Upload)}
        record.update(
            method=method,
            chat_id=message.chat.id,
            message_id=message.message_id,
            plain_text=message.text if message.text is not None else message.caption,
            parsed_entities=entities,
            reply_to_message_id=reply_id,
            message=data,
            time=time.perf_counter(),
        )
        self.sent.append(record)
        return data

    def _edit(
        self, method: str, params: JSONDict, plain: str | None, entities: list[JSONDict] | None
    ) -> JSONDict | bool:
        """Apply an edit of text (None: keep) and reply markup; Telegram's not-modified check."""
        markup = self._check_markup(params.get("reply_markup"))
        new_markup = markup.to_dict() if markup else None
        if params.get("inline_message_id"):
            self.edits.append({**params, "method": method, "plain_text": plain})
            return True
        chat, data = self._stored_for_edit(params)
        old_text = data.get("text", data.get("caption"))
        old_entities = data.get("entities", [])
        if plain is None:
            plain, entities = old_text, old_entities
        if (plain, entities, new_markup) == (old_text, old_entities, data.get("reply_markup")):
            raise ApiError(400, NOT_MODIFIED)
        message = Message.de_json(data, None)
        edited = Message(
            message_id=message.message_id,
            date=message.date,
            chat=chat,
            from_user=self.bot_user,
            text=plain,
            entities=[MessageEntity.de_json(e, None) for e in entities or []],
            reply_markup=markup,
            reply_to_message=message.reply_to_message,
            edit_date=self._now(),
        )
        result = self._store(edited)
        self.edits.append(
            {
                **params,
                "method": method,
                "chat_id": chat.id,
                "message_id": edited.message_id,
                "plain_text": plain,
                "parsed_entities": entities,
                "message": result,
                "time": time.perf_counter(),
            }
        )
        return result

    def _edit_message_text(self, params: JSONDict) -> JSONDict | bool:
        plain, entities = self._parse_text(
            params.get("text"),
            params.get("parse_mode"),
            params.get("entities"),
            limit=MAX_TEXT_LENGTH,
            too_long="Bad Request: message is too long",
            empty="Bad Request: message text is empty",
        )
        return self._edit("editMessageText", params, plain, entities)

    def _edit_message_reply_markup(self, params: JSONDict) -> JSONDict | bool:
        return self._edit("editMessageReplyMarkup", params, None, None)

    def _delete_message(self, params: JSONDict) -> bool:
        chat = self._chat(params)
        key = (chat.id, int(params.get("message_id") or 0))
        if self._messages.pop(key, None) is None:
            raise ApiError(400, "Bad Request: message to delete not found")
        self.deleted.append({"chat_id": chat.id, "message_id": key[1]})
        return True

    def _answer_callback_query(self, params: JSONDict) -> bool:
        asked = self._callback_queries.pop(str(params.get("callback_query_id")), None)
        too_late = (
            asked is not None
            and self.callback_timeout is not None
            and time.monotonic() - asked > self.callback_timeout
        )
        if asked is None or too_late:
            raise ApiError(400, QUERY_TOO_OLD)
        if len(str(params.get("text") or "")) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self.callback_answers.append(params)
        return True

    def _answer_inline_query(self, params: JSONDict) -> bool:
        results = params.get("results")
        if not isinstance(results, list):
            raise ApiError(400, "Bad Request: can't parse inline query results JSON object")
        if len(results) > MAX_INLINE_RESULTS:
            raise ApiError(400, "Bad Request: RESULTS_TOO_MUCH")
        ids = [str(r.get("id", "")) for r in results]
        if any(not 1 <= len(i.encode()) <= 64 for i in ids):
            raise ApiError(400, "Bad Request: RESULT_ID_INVALID")
        if len(set(ids)) != len(ids):
            raise ApiError(400, "Bad Request: RESULT_ID_DUPLICATE")
        for result in results:
            content = result.get("input_message_content") or {}
            if "message_text" in content:
                self._parse_text(
                    content["message_text"],
                    content.get("parse_mode"),
                    content.get("entities"),
                    limit=MAX_TEXT_LENGTH,
                    too_long="Bad Request: MESSAGE_TOO_LONG",
                    empty="Bad Request: MESSAGE_EMPTY",
                )
            self._check_markup(result.get("reply_markup"))
        query_id = str(params.get("inline_query_id"))
        if query_id not in self._inline_queries:
            raise ApiError(400, QUERY_TOO_OLD)
        self._inline_queries.discard(query_id)
        self.inline_answers.append(params)
        return True

    def _send_chat_action(self, params: JSONDict) -> bool:
        chat = self._chat(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        self.chat_actions.append(
            {"chat_id": chat.id, "action": params["action"], "time": time.monotonic()}
        )
        return True

    @staticmethod
    def _commands_key(params: JSONDict) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    def get_commands(
        self, scope: JSONDict | None = None, language_code: str = ""
    ) -> list[JSONDict]:
        """The commands last set for ``scope`` (default scope if None) and ``language_code``."""
        key = self._commands_key({"scope": scope, "language_code": language_code})
        return self.commands.get(key, [])

    def _set_my_commands(self, params: JSONDict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(command.get("command", ""))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        language = str(params.get("language_code") or "")
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise ApiError(400, "Bad Request: LANG_CODE_INVALID")
        self.commands[self._commands_key(params)] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    def _get_my_commands(self, params: JSONDict) -> list[JSONDict]:
        return self.commands.get(self._commands_key(params), [])

    def _delete_my_commands(self, params: JSONDict) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    def _get_file(self, params: JSONDict) -> JSONDict:
        stored = self.files.get(str(params.get("file_id")))
        if stored is None:
            raise ApiError(400, "Bad Request: wrong file_id or the file is temporarily unavailable")
        if len(stored.data) > MAX_DOWNLOAD_BYTES:
            raise ApiError(400, "Bad Request: file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }

    def _send_document(self, params: JSONDict) -> JSONDict:
        chat = self._chat(params)
        caption, entities = self._parse_text(
            params.get("caption"),
            params.get("parse_mode"),
            params.get("caption_entities"),
            limit=MAX_CAPTION_LENGTH,
            too_long="Bad Request: message caption is too long",
            empty=None,
        )
        document = params.get("document")
        if isinstance(document, _Upload):
            stored = self.add_file(document.data, document.filename, document.content_type)
        elif isinstance(document, str) and document in self.files:
            stored = self.files[document]
        else:
            raise ApiError(400, "Bad Request: wrong remote file identifier specified")
        markup = self._check_markup(params.get("reply_markup"))
        reply_to, reply_id = self._reply_target(chat, params)
        message = Message(
            message_id=self._next_message_id(chat.id),
            date=self._now(),
            chat=chat,
            from_user=self.bot_user,
            document=Document(
                file_id=stored.file_id,
                file_unique_id=stored.file_unique_id,
                file_name=stored.file_name,
                mime_type=stored.mime_type,
                file_size=len(stored.data),
            ),
            caption=caption or None,
            caption_entities=[MessageEntity.de_json(e, None) for e in entities],
            reply_markup=markup,
            reply_to_message=reply_to,
        )
        return self._record_sent("sendDocument", params, message, entities, reply_id)


def texts(records: Iterable[JSONDict]) -> list[str]:
    """The plain texts of ``sent``/``edits`` records, for compact assertions."""
    return [r.get("plain_text") or "" for r in records]


@asynccontextmanager
async def polling(
    app: Application[Any, Any, Any, Any, Any, Any], server: BotApiServer, timeout: int = 5
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    """Run ``app`` polling ``server`` (initialize, start, start_polling); stop it cleanly after.

    Waits for the first getUpdates, so updates injected inside the block reach a live poller.
    ``post_init``/``post_shutdown`` are not run, as with PTB outside ``run_polling``.
    """
    await app.initialize()
    try:
        await app.start()
        assert app.updater is not None, "build the Application with an Updater"
        mark = server.mark()
        await app.updater.start_polling(poll_interval=0, timeout=timeout)
        await server.wait_polling(after=mark)
        yield app
    finally:
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
