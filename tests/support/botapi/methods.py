"""The Bot API methods the bot calls: sending, editing, deleting, answering, commands, files.

Each handler takes the decoded parameters and returns the ``result`` of Telegram's reply, or
raises ``ApiError`` with Telegram's status and description. What succeeded is recorded on
the server's lists (``sent``, ``edits``, ``deleted``, ``callback_answers``…).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

from telegram import (
    Chat,
    ChatMember,
    ChatMemberAdministrator,
    ChatMemberLeft,
    ChatMemberMember,
    ChatMemberOwner,
    Message,
    MessageEntity,
    User,
)

from tests.support.botapi.coerce import Upload, check_markup, message_text, parse_text
from tests.support.botapi.rules import (
    CHAT_ACTIONS,
    MAX_CAPTION_LENGTH,
    MAX_DOWNLOAD_BYTES,
    MAX_INLINE_RESULTS,
    MAX_TEXT_LENGTH,
    NOT_MODIFIED,
    QUERY_TOO_OLD,
    ApiError,
    JSONDict,
)
from tests.support.botapi.state import ServerState


class BotMethods(ServerState):
    """Handlers of the Bot API methods other than updates and webhooks (``server.py``)."""

    def method_handlers(self) -> dict[str, Callable[[JSONDict], Any]]:
        """Sending, editing, deleting, answering, commands and files, with the others'."""
        return {
            **super().method_handlers(),
            "getme": lambda p: self.bot_user.to_dict(),
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
            "getchatmember": self._get_chat_member,
            "senddocument": self._send_document,
            "close": lambda p: True,
            "logout": lambda p: True,
            "setmydescription": lambda p: True,
            "setmyshortdescription": lambda p: True,
            "setchatmenubutton": lambda p: True,
        }

    # ------------------------------------------------------------------ checks

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

    # ------------------------------------------------------------------ sending

    def _send_message(self, params: JSONDict) -> JSONDict:
        chat = self._chat(params)
        plain, entities = message_text(params, self.strict_entities)
        markup = check_markup(params.get("reply_markup"))
        reply_to, reply_id = self._reply_target(chat, params)
        message = self._new_message(
            chat,
            self.bot_user,
            text=plain,
            entities=[MessageEntity.de_json(e, None) for e in entities],
            reply_markup=markup,
            reply_to_message=reply_to,
        )
        return self._record_sent("sendMessage", params, message, entities, reply_id)

    def _send_document(self, params: JSONDict) -> JSONDict:
        chat = self._chat(params)
        caption, entities = parse_text(
            params.get("caption"),
            params.get("parse_mode"),
            params.get("caption_entities"),
            limit=MAX_CAPTION_LENGTH,
            too_long="Bad Request: message caption is too long",
            empty=None,
            strict_entities=self.strict_entities,
        )
        document = params.get("document")
        if isinstance(document, Upload):
            stored = self.add_file(document.data, document.filename, document.content_type)
        elif isinstance(document, str) and document in self.files:
            stored = self.files[document]
        else:
            raise ApiError(400, "Bad Request: wrong remote file identifier specified")
        markup = check_markup(params.get("reply_markup"))
        reply_to, reply_id = self._reply_target(chat, params)
        message = self._new_message(
            chat,
            self.bot_user,
            document=stored.document(),
            caption=caption or None,
            caption_entities=[MessageEntity.de_json(e, None) for e in entities],
            reply_markup=markup,
            reply_to_message=reply_to,
        )
        return self._record_sent("sendDocument", params, message, entities, reply_id)

    def _record_sent(
        self,
        method: str,
        params: JSONDict,
        message: Message,
        entities: list[JSONDict],
        reply_id: int | None,
    ) -> JSONDict:
        data = self._store(message)
        record = {k: v for k, v in params.items() if not isinstance(v, Upload)}
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

    def _send_chat_action(self, params: JSONDict) -> bool:
        chat = self._chat(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        self.chat_actions.append(
            {"chat_id": chat.id, "action": params["action"], "time": time.monotonic()}
        )
        return True

    # ------------------------------------------------------------------ editing, deleting

    def _edit(
        self, method: str, params: JSONDict, plain: str | None, entities: list[JSONDict] | None
    ) -> JSONDict | bool:
        """Apply an edit of text (None: keep) and reply markup; Telegram's not-modified check."""
        markup = check_markup(params.get("reply_markup"))
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
        plain, entities = message_text(params, self.strict_entities)
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

    # ------------------------------------------------------------------ queries

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
                parse_text(
                    content["message_text"],
                    content.get("parse_mode"),
                    content.get("entities"),
                    limit=MAX_TEXT_LENGTH,
                    too_long="Bad Request: MESSAGE_TOO_LONG",
                    empty="Bad Request: MESSAGE_EMPTY",
                    strict_entities=self.strict_entities,
                )
            check_markup(result.get("reply_markup"))
        query_id = str(params.get("inline_query_id"))
        if query_id not in self._inline_queries:
            raise ApiError(400, QUERY_TOO_OLD)
        self._inline_queries.discard(query_id)
        self.inline_answers.append(params)
        return True

    # ------------------------------------------------------------------ commands, files

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

    def _get_chat_member(self, params: JSONDict) -> JSONDict:
        """A member's status: the group's admins (``chat_admins``) are administrators, the
        private chat's user its owner, anyone else a plain member."""
        chat = self._chat(params)
        try:
            user_id = int(params.get("user_id", ""))
        except (TypeError, ValueError) as exc:
            raise ApiError(400, "Bad Request: invalid user_id specified") from exc
        user = User(user_id, f"User{user_id}", False)
        if chat.type == Chat.PRIVATE:
            member: ChatMember = (
                ChatMemberOwner(user, is_anonymous=False)
                if user_id == chat.id
                else ChatMemberLeft(user)
            )
        elif user_id in self.chat_admins.get(chat.id, set()):
            member = ChatMemberAdministrator(
                user, False, False, True, True, True, True, False, True, True, False, False, False
            )
        else:
            member = ChatMemberMember(user)
        return member.to_dict()

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
