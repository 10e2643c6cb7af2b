"""Parameters as the bot sends them (form fields, JSON, uploads) turned into typed values.

Plain functions on plain data: decoding a request's fields, and checking a text or a reply
markup the way Telegram does before it stores them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardMarkup

from tests.support.botapi.html import parse_html, strip_text, utf16_len
from tests.support.botapi.rules import (
    BUTTON_ACTIONS,
    MAX_CALLBACK_DATA_BYTES,
    MAX_TEXT_LENGTH,
    ApiError,
    JSONDict,
    words,
)

# Parameters that arrive JSON-encoded in form fields, and scalar parameters worth typing.
_JSON_FIELDS = words(
    """
    reply_markup entities caption_entities reply_parameters link_preview_options results
    commands scope allowed_updates button media
    """
)
_INT_FIELDS = frozenset(
    {"message_id", "offset", "limit", "reply_to_message_id", "cache_time", "max_connections"}
)
_BOOL_FIELDS = words(
    """
    disable_notification protect_content show_alert is_personal drop_pending_updates
    disable_web_page_preview allow_sending_without_reply disable_content_type_detection
    """
)


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request."""

    filename: str | None
    content_type: str | None
    data: bytes


def resolve_attachments(raw: JSONDict) -> JSONDict:
    """Replace ``attach://name`` values by the uploaded part called ``name`` (if sent)."""
    for key, value in list(raw.items()):
        if isinstance(value, str) and value.startswith("attach://"):
            raw[key] = raw.get(value[len("attach://") :], value)
    return raw


def normalize(raw: JSONDict) -> JSONDict:
    """Decode JSON-encoded fields and type the numbers and booleans sent as strings."""
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


def parse_text(
    text: Any,
    parse_mode: Any,
    entities: Any,
    *,
    limit: int,
    too_long: str,
    empty: str | None,
    strict_entities: bool = False,
) -> tuple[str, list[JSONDict]]:
    """Validate a text or caption; return the plain text and entities Telegram would store."""
    if text is None or text == "":
        if empty is None:
            return "", []
        raise ApiError(400, empty)
    text = str(text)
    mode = str(parse_mode or "").lower()
    if mode == "html":
        plain, parsed = parse_html(text, strict_entities=strict_entities)
    elif mode in ("", "markdown", "markdownv2"):  # Markdown is not validated here
        plain, parsed = text, list(entities or [])
    else:
        raise ApiError(400, "Bad Request: unsupported parse_mode")
    plain, parsed = strip_text(plain, parsed)
    if not plain and empty is not None:
        raise ApiError(400, empty)
    if utf16_len(plain) > limit:
        raise ApiError(400, too_long)
    return plain, parsed


def message_text(params: JSONDict, strict_entities: bool) -> tuple[str, list[JSONDict]]:
    """The text of sendMessage and editMessageText, checked as Telegram checks it."""
    return parse_text(
        params.get("text"),
        params.get("parse_mode"),
        params.get("entities"),
        limit=MAX_TEXT_LENGTH,
        too_long="Bad Request: message is too long",
        empty="Bad Request: message text is empty",
        strict_entities=strict_entities,
    )


def check_markup(markup: Any) -> InlineKeyboardMarkup | None:
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
        elif not BUTTON_ACTIONS & button.keys():
            raise ApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")
    return InlineKeyboardMarkup.de_json(markup, None)
