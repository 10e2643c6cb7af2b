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

The modules, by concern:

- ``rules``: Telegram's limits and error texts, ``ApiError``, ``JSONDict``;
- ``html``: the HTML parse mode (``parse_html``), client-side entities, UTF-16 lengths;
- ``coerce``: request parameters decoded and checked (texts, reply markup);
- ``state``: what the server knows and records, the base of the mixins below;
- ``methods``: the Bot API methods (sendMessage, edits, callbacks, inline, commands, files);
- ``faults``: planned error replies (``fail_next``);
- ``driver``: what tests call (``send_text``, ``press_button``, ``wait_sent``, ``Mark``,
  ``polling``, ``texts``);
- ``server``: ``BotApiServer`` (aiohttp app, lifecycle, long polling, webhook delivery).
"""

from tests.support.botapi.driver import Mark, polling, texts
from tests.support.botapi.html import parse_html
from tests.support.botapi.rules import JSONDict
from tests.support.botapi.server import BotApiServer, bypass_proxies_for_loopback

__all__ = [
    "BotApiServer",
    "JSONDict",
    "Mark",
    "bypass_proxies_for_loopback",
    "parse_html",
    "polling",
    "texts",
]
