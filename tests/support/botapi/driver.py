"""What tests call: people, chats and their messages, button presses, inline queries, waiting.

``Driver`` is the test-facing half of ``BotApiServer``: it injects updates as Telegram would
deliver them and waits on the server's records (``wait_sent`` & co., with ``Mark`` to look
only at what came after a point). ``polling`` runs an ``Application`` against the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, fields
from typing import Any, TypeVar

from telegram import CallbackQuery, Chat, InlineQuery, Message, MessageOrigin, Update, User
from telegram.ext import Application

from tests.support.botapi.html import auto_entities
from tests.support.botapi.rules import JSONDict
from tests.support.botapi.state import ServerState

T = TypeVar("T")


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


class Driver(ServerState):
    """Inject what people do; wait for what the bot does."""

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

    def set_chat_admins(self, chat_id: int, *user_ids: int) -> None:
        """The administrators of a group, as getChatMember reports them."""
        self.chat_admins[chat_id] = set(user_ids)

    def group_chat(self, chat_id: int, title: str, chat_type: str = Chat.GROUP) -> Chat:
        """A group (negative id) the bot is a member of."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        chat = Chat(id=chat_id, type=chat_type, title=title)
        self.register_chat(chat)
        return chat

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
        message = self._new_message(
            chat,
            user,
            text=text,
            entities=auto_entities(text),
            reply_to_message=self._resolve_message(reply_to, chat.id) if reply_to else None,
        )
        return await self._inject_message(message)

    async def forward_post(
        self,
        user: User,
        text: str,
        origin: MessageOrigin,
        chat: Chat | None = None,
    ) -> Message:
        """Inject a message ``user`` forwarded (from a channel, a chat or a user): its text,
        with entities, and its ``forward_origin``."""
        chat = chat or self.private_chat(user)
        self.register_chat(chat)
        message = self._new_message(
            chat, user, text=text, entities=auto_entities(text), forward_origin=origin
        )
        return await self._inject_message(message)

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
        message = self._new_message(
            chat,
            user,
            document=stored.document(),
            caption=caption,
            caption_entities=auto_entities(caption) if caption else (),
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

    async def _inject_message(self, message: Message) -> Message:
        self._store(message)
        await self.inject(Update(next(self._update_ids), message=message))
        return message

    def adopt(self, data: JSONDict | None) -> Message:
        """Make a message another server sent known here (replicas behind one Telegram)."""
        if data is None:
            raise ValueError("no message to adopt")
        message = Message.de_json(data, None)
        self.register_chat(message.chat)
        self._store(message)
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

    # ------------------------------------------------------------------ waiting

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


def texts(records: Iterable[JSONDict]) -> list[str]:
    """The plain texts of ``sent``/``edits`` records, for compact assertions."""
    return [r.get("plain_text") or "" for r in records]


@asynccontextmanager
async def polling(
    app: Application[Any, Any, Any, Any, Any, Any], server: Driver, timeout: int = 5
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
