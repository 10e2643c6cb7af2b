"""``python -m bot`` as operators run it: long polling and webhook, against the local Bot API."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path

from tests.support.bot_fixtures import ADMIN_ID, Workspace, bold_texts
from tests.support.botapi import BotApiServer

ROOT = Path(__file__).resolve().parents[2]
QUESTION = "Qui a ordonné de tirer sur les manifestants ?"


async def start_bot(
    server: BotApiServer, space: Workspace, **env: str
) -> asyncio.subprocess.Process:
    values = dict(os.environ)
    values.update(
        TELEGRAM_BOT_TOKEN=server.token,
        TELEGRAM_BASE_URL=server.base_url,
        TELEGRAM_BASE_FILE_URL=server.base_file_url,
        ADMIN_IDS=str(ADMIN_ID),
        SEEDS_DIR=str(space.seeds),
        DATA_DIR=str(space.data),
        LOG_LEVEL="INFO",
        PYTHONPATH=str(ROOT),
    )
    values.update(env)  # a test's own token or Bot API address replaces the server's
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=space.seeds.parent,
        env=values,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def stop(process: asyncio.subprocess.Process) -> str:
    """Interrupt the bot as Ctrl-C would; return its log."""
    process.send_signal(signal.SIGINT)
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0, stderr.decode()
    return stderr.decode()


async def ask(server: BotApiServer) -> dict[str, object]:
    user = server.user(4242, "Lectrice", language_code="fr")
    mark = server.mark()
    await server.send_text(user, QUESTION)
    [reply] = await server.wait_sent(1, after=mark, timeout=30)
    return reply


async def test_long_polling(botapi: BotApiServer, workspace: Workspace) -> None:
    process = await start_bot(botapi, workspace)
    try:
        await botapi.wait_polling(timeout=60)
        reply = await ask(botapi)
        assert "tirer pour tuer et sans sommation" in bold_texts(reply)[1]
        # post_init registered the menus, the admin's included.
        assert botapi.get_commands({"type": "default"}, "en")
        assert botapi.get_commands({"type": "chat", "chat_id": ADMIN_ID}, "fr")
    finally:
        log = await stop(process)
    assert "123:ABC" not in log  # httpx request lines (with the token) are not logged
    assert botapi.rejected == []


async def test_webhook(botapi: BotApiServer, workspace: Workspace) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/telegram-hook"
    process = await start_bot(
        botapi,
        workspace,
        WEBHOOK_URL=url,
        WEBHOOK_LISTEN="127.0.0.1",
        WEBHOOK_PORT=str(port),
        WEBHOOK_SECRET="s3cret_token",
    )
    try:
        await botapi.wait_for(lambda: botapi.webhook, timeout=60, what="setWebhook")
        assert botapi.webhook is not None
        assert botapi.webhook["url"] == url
        assert botapi.webhook["secret_token"] == "s3cret_token"
        reply = await ask(botapi)
        assert "tirer pour tuer et sans sommation" in bold_texts(reply)[1]
    finally:
        await stop(process)
    assert not any(m.lower() == "getupdates" for m, _ in botapi.requests)
    assert botapi.rejected == []
