"""What the server knows (chats, messages, files, updates) and what it recorded, in one base.

``ServerState`` holds every attribute; the driver (``driver.py``), the Bot API methods
(``methods.py``), fault injection (``faults.py``) and the HTTP server (``server.py``) are
mixins over it, put together as ``BotApiServer``.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import itertools
import os
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from telegram import Chat, Document, Message, User

from tests.support.botapi.rules import BOT_USERNAME, DEFAULT_UPDATE_TYPES, ApiError, JSONDict


@dataclass(frozen=True)
class StoredFile:
    """A file known to the server, downloadable at ``/file/bot{token}/{file_path}``."""

    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    file_name: str | None = None
    mime_type: str | None = None

    def document(self) -> Document:
        """The Document object of a message carrying this file."""
        return Document(
            file_id=self.file_id,
            file_unique_id=self.file_unique_id,
            file_name=self.file_name,
            mime_type=self.mime_type,
            file_size=len(self.data),
        )


@dataclass(frozen=True)
class Fault:
    """A planned fault: an error reply (status, description, 429's ``retry_after``) or none,
    and ``delay`` seconds before answering (the call itself is carried out first)."""

    error_code: int | None
    description: str
    retry_after: int | None
    delay: float = 0.0


class ServerState:
    """The state shared by the mixins of ``BotApiServer`` (see its docstring)."""

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
        self.calls: list[JSONDict] = []
        self.commands: dict[tuple[str, str], list[JSONDict]] = {}
        self.webhook: JSONDict | None = None
        self.files: dict[str, StoredFile] = {}
        self._updates: deque[JSONDict] = deque()
        self._allowed_updates: frozenset[str] = DEFAULT_UPDATE_TYPES
        self._chats: dict[int, Chat] = {}
        # Who administers each group (``set_chat_admins``), for getChatMember.
        self.chat_admins: dict[int, set[int]] = {}
        self._messages: dict[tuple[int, int], JSONDict] = {}
        self._message_ids: dict[int, int] = {}
        self._update_ids = itertools.count(1)
        self._ids = itertools.count(1)
        self._callback_queries: dict[str, float] = {}
        self._inline_queries: set[str] = set()
        self._faults: dict[str, deque[Fault]] = {}
        self._floods: dict[str, float] = {}
        self._random_faults: dict[str, list[tuple[float, Fault]]] = {}
        self.random = random.Random(0)
        self._changed = asyncio.Event()
        self._closing = False
        self._poll_generation = 0
        self._runner: web.AppRunner | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._methods = self.method_handlers()

    def method_handlers(self) -> dict[str, Callable[[JSONDict], Any]]:
        """Lower-cased Bot API method name → handler; each mixin adds its own."""
        return {}

    def _notify(self) -> None:
        """Wake everyone waiting for a change (pollers, ``wait_*``)."""
        self._changed.set()
        self._changed = asyncio.Event()

    @staticmethod
    def _now() -> dtm.datetime:
        return dtm.datetime.now(dtm.UTC).replace(microsecond=0)

    def _next_message_id(self, chat_id: int) -> int:
        self._message_ids[chat_id] = self._message_ids.get(chat_id, 0) + 1
        return self._message_ids[chat_id]

    def _new_message(self, chat: Chat, from_user: User, **fields: Any) -> Message:
        """A new message in ``chat`` (next id, current date) with the given fields."""
        return Message(
            message_id=self._next_message_id(chat.id),
            date=self._now(),
            chat=chat,
            from_user=from_user,
            **fields,
        )

    def _store(self, message: Message) -> JSONDict:
        data = message.to_dict()
        self._messages[(message.chat.id, message.message_id)] = data
        return data

    def _chat(self, params: JSONDict) -> Chat:
        """The chat of ``chat_id`` (an id or ``@username``); 400 if empty or unknown."""
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

    def register_chat(self, chat: Chat) -> None:
        """Make ``chat`` known, so the bot may send to it."""
        self._chats[chat.id] = chat

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
