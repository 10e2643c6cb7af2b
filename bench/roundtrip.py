"""Round-trip latency of a PTB bot against the local Bot API server (tests/support/botapi/).

A round trip is: inject a text update → the bot's first ``sendMessage`` (or ``sendDocument``) to
that chat arrives at the server, timed with the server's arrival timestamp. Run the echo
baseline with ``python -m bench.roundtrip [N]``.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from typing import Any

from telegram import Update, User
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from tests.support.botapi import BotApiServer, bypass_proxies_for_loopback, polling

AnyApplication = Application[Any, Any, Any, Any, Any, Any]
AppFactory = Callable[[BotApiServer], AnyApplication]


async def measure_round_trips(
    server: BotApiServer,
    app: AnyApplication | AppFactory,
    user: User,
    texts: Sequence[str],
    timeout: float = 10.0,
    pause: float = 0.0,
) -> list[float]:
    """Send ``texts`` one after the other; return seconds per round trip.

    ``pause`` seconds pass between an answer and the next question, as between people
    asking: without it a fast bot runs into its own outgoing flood limit (30 messages/s).

    ``app`` is an Application (used as is if already running, otherwise started and stopped
    here) or a factory called with ``server`` that builds one (see
    ``BotApiServer.application_builder``). Raises TimeoutError if the bot does not answer.
    """
    durations: list[float] = []
    async with AsyncExitStack() as stack:
        application = app if isinstance(app, Application) else app(server)
        if not application.running:
            await stack.enter_async_context(polling(application, server))
        for text in texts:
            mark = server.mark()
            started = time.perf_counter()
            await server.send_text(user, text)

            def answered(start: int = mark.sent) -> float | None:
                for record in server.sent[start:]:
                    if record["chat_id"] == user.id:
                        return float(record["time"])
                return None

            arrived = await server.wait_for(answered, timeout, f"an answer to {text!r}")
            durations.append(arrived - started)
            if pause:
                await asyncio.sleep(pause)
    return durations


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message and update.message.text
    await update.message.reply_text(update.message.text)


def echo_app(server: BotApiServer) -> AnyApplication:
    """A minimal echo bot for ``server``."""
    app = server.application_builder().build()
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, _echo))
    return app


async def echo_baseline(n: int = 50, warmup: int = 3) -> list[float]:
    """Round trips of an echo bot (``n`` measured after ``warmup`` discarded ones)."""
    bypass_proxies_for_loopback()
    async with BotApiServer() as server:
        user = server.user(1001, "Bench")
        app = echo_app(server)
        async with polling(app, server):
            await measure_round_trips(server, app, user, [f"warm {i}" for i in range(warmup)])
            return await measure_round_trips(server, app, user, [f"msg {i}" for i in range(n)])


def summarize(durations: Sequence[float]) -> dict[str, float]:
    """p50, p95, mean and max in milliseconds."""
    ordered = sorted(durations)

    def pct(q: float) -> float:
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000

    return {
        "n": float(len(ordered)),
        "p50_ms": pct(0.5),
        "p95_ms": pct(0.95),
        "mean_ms": statistics.fmean(ordered) * 1000,
        "max_ms": ordered[-1] * 1000,
    }


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    stats = summarize(asyncio.run(echo_baseline(count)))
    print(" ".join(f"{k}={v:.1f}" for k, v in stats.items()))
