"""``BotApiServer``: the aiohttp app, its lifecycle, long polling and webhook delivery.

Requests are ``POST {base_url}{token}/{method}``; the method handlers are in ``methods.py``,
what tests call in ``driver.py``, planned errors in ``faults.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import os
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import aiohttp
from aiohttp import web
from telegram.ext import ApplicationBuilder

from tests.support.botapi.coerce import Upload, normalize, resolve_attachments
from tests.support.botapi.driver import Driver
from tests.support.botapi.faults import FaultInjection
from tests.support.botapi.methods import BotMethods
from tests.support.botapi.rules import DEFAULT_UPDATE_TYPES, ApiError, JSONDict, words
from tests.support.botapi.state import Fault


def bypass_proxies_for_loopback() -> None:
    """Add 127.0.0.1 and localhost to ``NO_PROXY``/``no_proxy`` so httpx talks to us directly."""
    for var in ("NO_PROXY", "no_proxy"):
        hosts = [h.strip() for h in os.environ.get(var, "").split(",") if h.strip()]
        for host in ("127.0.0.1", "localhost"):
            if host not in hosts:
                hosts.append(host)
        os.environ[var] = ",".join(hosts)


class BotApiServer(Driver, BotMethods, FaultInjection):
    """An aiohttp imitation of the Telegram Bot API (see the package docstring).

    Record lists, each appended in call order: ``requests`` ((method, params) for every call,
    params decoded), ``sent`` (messages the bot sent: params plus ``chat_id``, ``message_id``,
    ``plain_text``, ``parsed_entities``, ``reply_to_message_id``, ``message``), ``edits``,
    ``deleted``, ``callback_answers``, ``inline_answers``, ``chat_actions``, ``rejected``
    (every 4xx answer to a sending or editing method: method, params, error_code, description)
    and ``calls`` (every answered call: method, params, HTTP status, ``retry_after``, ``delay``
    and ``time``, its arrival on ``time.perf_counter()``).
    ``commands`` maps (canonical scope JSON, language code) to the command list.
    """

    _TEXT_METHODS = words(
        """
        sendmessage editmessagetext editmessagereplymarkup senddocument answerinlinequery
        answercallbackquery sendchataction deletemessage
        """
    )

    def method_handlers(self) -> dict[str, Callable[[JSONDict], Any]]:
        """Every method the server knows: ``methods.py``'s, updates and webhooks."""
        return {
            **super().method_handlers(),
            "getupdates": self._get_updates,
            "deletewebhook": self._delete_webhook,
            "setwebhook": self._set_webhook,
            "getwebhookinfo": self._get_webhook_info,
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

    # ------------------------------------------------------------------ HTTP plumbing

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
                    raw[key] = Upload(value.filename, value.content_type, data)
                else:
                    raw[key] = value
        return normalize(resolve_attachments(raw))

    async def _handle_api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._error(ApiError(401, "Unauthorized"))
        method = request.match_info["method"]
        try:
            params = await self._read_params(request)
        except ApiError as exc:
            return self._error(exc)
        self.requests.append((method, params))
        arrived = time.perf_counter()
        self._notify()
        fault = self._take_fault(method.lower())
        response, retry_after = await self._answer(method, params, fault)
        self.calls.append(
            {
                "method": method,
                "params": params,
                "status": response.status,
                "retry_after": retry_after,
                "delay": fault.delay if fault else 0.0,
                "time": arrived,
            }
        )
        self._notify()
        if fault is not None and fault.delay:
            await asyncio.sleep(fault.delay)  # cancelled if the client gives up first
        return response

    async def _answer(
        self, method: str, params: JSONDict, fault: Fault | None
    ) -> tuple[web.Response, int | None]:
        """Carry out one call (or its planned error); the response and its ``retry_after``."""
        name = method.lower()
        handler = self._methods.get(name)
        if handler is None:
            return self._error(ApiError(404, "Not Found")), None
        try:
            self._raise_fault(fault)
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
            return self._error(exc), (exc.parameters or {}).get("retry_after")
        return web.json_response({"ok": True, "result": result}), None

    async def _handle_file(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        stored = next((f for f in self.files.values() if f.file_path == path), None)
        if request.match_info["token"] != self.token or stored is None:
            return self._error(ApiError(404, "Not Found"))
        return web.Response(body=stored.data, content_type="application/octet-stream")

    # ------------------------------------------------------------------ long polling

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

    # ------------------------------------------------------------------ webhook

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
        self.webhook = {k: v for k, v in params.items() if not isinstance(v, Upload)}
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
