"""What an operator sees of ``python -m bot``: metrics, /healthz, a clean start, /id.

The bot runs as a process (as in tests/bot/test_main.py) against the local Bot API server;
its metrics are scraped over HTTP, as Prometheus, Caddy or Docker's HEALTHCHECK would.
"""

from __future__ import annotations

import asyncio
import signal
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.handlers import feeds
from bot.i18n import t_plain
from index.retrieval.embed import Embedder
from tests.bot.test_main import ask, start_bot, stop
from tests.support.bot_fixtures import (
    ADMIN_ID,
    READER_ID,
    BotHarness,
    Workspace,
    run_bot,
    wait_until,
)
from tests.support.botapi import BotApiServer
from tests.support.botapi.html import auto_entities
from tests.support.feedserver import FeedSite, serve_feeds

ROOT = Path(__file__).resolve().parents[2]

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def samples(text: str) -> Samples:
    """Every sample of a Prometheus text scrape, by (name, labels)."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(found: Samples, name: str, **labels: str) -> float | None:
    return found.get((name, frozenset(labels.items())))


async def get(port: int, path: str) -> httpx.Response:
    async with httpx.AsyncClient(trust_env=False, timeout=10) as client:
        return await client.get(f"http://127.0.0.1:{port}{path}")


async def scrape(port: int) -> Samples:
    response = await get(port, "/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return samples(response.text)


async def scrape_until(port: int, name: str, **labels: str) -> Samples:
    """Scrape until the sample ``name{labels}`` appears (the bot counts after it replies)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while True:
        found = await scrape(port)
        if value(found, name, **labels) is not None or loop.time() > deadline:
            return found
        await asyncio.sleep(0.05)


# ------------------------------------------------------------------------------ metrics


async def test_metrics_move_after_a_question_in_long_polling(
    botapi: BotApiServer, workspace: Workspace
) -> None:
    port = free_port()
    process = await start_bot(botapi, workspace, METRICS_PORT=str(port), RATE_LIMIT_PER_MINUTE="1")
    try:
        await botapi.wait_polling(timeout=90)
        assert (await get(port, "/healthz")).status_code == 200
        before = await scrape(port)
        assert value(before, "qabot_ready") == 1.0
        assert value(before, "qabot_index_articles") == 1.0
        assert (value(before, "qabot_index_passages") or 0) > 1
        assert value(before, "qabot_changes_queue") == 0.0
        # The model answered once (warm-up) before the first update was taken.
        assert (value(before, "qabot_embedding_seconds_count", kind="query") or 0) >= 1
        labels = {"outcome": "answer", "language": "fr", "via": "chat"}
        assert value(before, "qabot_questions_total", **labels) is None

        await ask(botapi)  # a reader's question, through the chat
        after = await scrape_until(port, "qabot_questions_total", **labels)
        assert value(after, "qabot_questions_total", **labels) == 1.0
        assert value(after, "qabot_answer_seconds_count", via="chat") == 1.0
        assert (value(after, "qabot_answer_seconds_sum", via="chat") or 0) > 0
        embedded = value(after, "qabot_embedding_seconds_count", kind="query") or 0
        assert embedded == (value(before, "qabot_embedding_seconds_count", kind="query") or 0) + 1

        # Over the limit (1 a minute): told once, then silent; both counted.
        user = botapi.user(4242, "Lectrice", language_code="fr")
        mark = botapi.mark()
        await botapi.send_text(user, "Et l'OTSC ?")
        [told] = await botapi.wait_sent(1, after=mark, timeout=30)
        assert told["plain_text"] == t_plain("rate_limited", "fr")
        await botapi.send_text(user, "Et encore ?")
        limited = await scrape_until(port, "qabot_rate_limited_total", verdict="silent")
        assert value(limited, "qabot_rate_limited_total", verdict="warned") == 1.0
        assert value(limited, "qabot_questions_total", **labels) == 1.0  # not searched

        assert (await get(port, "/nothing")).status_code == 404
    finally:
        log = await stop(process)
    assert "send /id to the bot to learn your numeric Telegram id for ADMIN_IDS" in log
    assert "faiss" not in log.lower()  # the loader's "Could not load library with AVX512…"
    assert "Traceback" not in log


async def test_metrics_in_webhook_mode(botapi: BotApiServer, workspace: Workspace) -> None:
    port, hook = free_port(), free_port()
    url = f"http://127.0.0.1:{hook}/telegram-hook"
    process = await start_bot(
        botapi,
        workspace,
        WEBHOOK_URL=url,
        WEBHOOK_LISTEN="127.0.0.1",
        WEBHOOK_PORT=str(hook),
        WEBHOOK_SECRET="s3cret_token",
        METRICS_PORT=str(port),
    )
    try:
        await botapi.wait_for(lambda: botapi.webhook, timeout=90, what="setWebhook")
        labels = {"outcome": "answer", "language": "fr", "via": "chat"}
        await ask(botapi)
        found = await scrape_until(port, "qabot_questions_total", **labels)
        assert value(found, "qabot_questions_total", **labels) == 1.0
        assert (await get(port, "/healthz")).status_code == 200
    finally:
        await stop(process)


async def test_healthz_is_503_until_the_index_and_model_are_loaded(
    botapi: BotApiServer, workspace: Workspace
) -> None:
    # No index: the bot builds it from SEEDS_DIR first (the embedding cache is kept, so the
    # build is quick), then loads the model; /healthz says 503 all along, then 200.
    for path in workspace.data.glob("index.sqlite*"):
        path.unlink()
    port = free_port()
    process = await start_bot(botapi, workspace, METRICS_PORT=str(port))
    statuses: list[int] = []
    ready_while_starting: list[float | None] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 120
        while loop.time() < deadline:
            try:
                # Scraped first: a 503 after it means the scrape too was made while starting.
                ready = value(await scrape(port), "qabot_ready")
                response = await get(port, "/healthz")
            except httpx.TransportError:  # not listening yet
                await asyncio.sleep(0.02)
                continue
            statuses.append(response.status_code)
            if response.status_code == 503:
                assert response.text == "starting\n"
                ready_while_starting.append(ready)
            if response.status_code == 200:
                break
            await asyncio.sleep(0.02)
        await botapi.wait_polling(timeout=30)
        assert (workspace.data / "index.sqlite").exists()
        reply = await ask(botapi)
        assert "tirer pour tuer" in reply["plain_text"]
    finally:
        await stop(process)
    assert statuses[0] == 503, statuses[:5]
    assert statuses[-1] == 200
    assert set(statuses) == {503, 200}
    assert set(ready_while_starting) == {0.0}


async def test_metrics_port_in_use_is_one_line_and_exit_2(
    botapi: BotApiServer, workspace: Workspace
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = await start_bot(botapi, workspace, METRICS_PORT=str(port))
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    lines = stderr.decode().splitlines()
    assert process.returncode == 2
    assert lines == [
        f"cannot start: 127.0.0.1:{port} cannot be bound (Address already in use): "
        "check METRICS_PORT and METRICS_HOST"
    ]


# ------------------------------------------------------------------------------ a clean start


async def failed_start(
    server: BotApiServer, space: Workspace, **env: str
) -> tuple[int | None, list[str]]:
    """Start the bot, wait for it to exit by itself; its exit code and log lines."""
    process = await start_bot(server, space, **env)
    try:
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    except TimeoutError:
        process.send_signal(signal.SIGKILL)
        raise
    return process.returncode, stderr.decode().splitlines()


async def test_telegram_unreachable_is_one_line_saying_what_to_check(
    botapi: BotApiServer, workspace: Workspace
) -> None:
    closed = free_port()  # nothing listens there
    code, lines = await failed_start(
        botapi, workspace, TELEGRAM_BASE_URL=f"http://127.0.0.1:{closed}/bot"
    )
    assert code == 1
    assert len(lines) <= 2, lines
    assert lines[-1].endswith(
        f"ERROR bot: cannot start: the Bot API at 127.0.0.1:{closed} cannot be reached "
        "(httpx.ConnectError: All connection attempts failed): check the network, the DNS, "
        "a firewall or proxy (HTTPS_PROXY), and TELEGRAM_BASE_URL"
    )
    assert botapi.requests == []


async def test_a_bad_token_is_one_line_saying_what_to_check(
    botapi: BotApiServer, workspace: Workspace
) -> None:
    # The local Bot API answers 401 Unauthorized to any other token than its own.
    code, lines = await failed_start(botapi, workspace, TELEGRAM_BOT_TOKEN="999:WRONGtoken")
    assert code == 1
    assert len(lines) <= 2, lines
    assert "refused the token (401 Unauthorized): check TELEGRAM_BOT_TOKEN" in lines[-1]
    assert not any("999:WRONGtoken" in line for line in lines)


async def test_a_bad_token_in_webhook_mode_too(botapi: BotApiServer, workspace: Workspace) -> None:
    hook = free_port()
    code, lines = await failed_start(
        botapi,
        workspace,
        TELEGRAM_BOT_TOKEN="999:WRONGtoken",
        WEBHOOK_URL=f"http://127.0.0.1:{hook}/hook",
        WEBHOOK_PORT=str(hook),
    )
    assert code == 1
    assert len(lines) <= 2, lines
    assert "refused the token" in lines[-1]


# ------------------------------------------------------------------------------ /id


async def test_id_tells_a_reader_their_ids_in_their_language(bot: BotHarness) -> None:
    [reply] = await bot.say(bot.user(), "/id")
    assert reply["plain_text"] == (
        f"Votre identifiant Telegram : {READER_ID}\n"
        f"Cette discussion : {READER_ID}\n"
        f"Vous n'êtes pas administrateur du bot : pour le devenir, l'opérateur ajoute "
        f"{READER_ID} à ADMIN_IDS et redémarre le bot."
    )
    [english] = await bot.say(bot.user(3003, language_code="en"), "/id")
    assert english["plain_text"].startswith("Your Telegram user id: 3003\nThis chat: 3003\n")
    assert "You are not an admin" in english["plain_text"]
    [german] = await bot.say(bot.user(3004, language_code="de"), "/id")
    assert german["plain_text"].startswith("Ihre Telegram-Nutzer-ID: 3004")


async def test_id_tells_an_admin_they_are_one(bot: BotHarness) -> None:
    [reply] = await bot.say(bot.admin, "/id")
    assert reply["plain_text"].endswith(f"{ADMIN_ID}\nVous êtes administrateur du bot.")


async def test_id_in_a_group_gives_the_groups_id_and_ignores_arguments(bot: BotHarness) -> None:
    group = bot.server.group_chat(-100123, "Lecteurs")
    [reply] = await bot.say(bot.user(), "/id <b>x</b> " + "a" * 4000, chat=group)
    assert "Cette discussion : -100123" in reply["plain_text"]
    assert f"Votre identifiant Telegram : {READER_ID}" in reply["plain_text"]
    assert "<b>" not in reply["plain_text"]


async def test_id_from_an_anonymous_group_admin_says_it_cannot_tell(bot: BotHarness) -> None:
    server = bot.server
    group = server.group_chat(-100456, "Rédaction")
    anonymous = server.user(1087968824, "Group", language_code="fr", username="GroupAnonymousBot")
    mark = server.mark()
    message = server._new_message(
        group, anonymous, text="/id", entities=auto_entities("/id"), sender_chat=group
    )
    await server._inject_message(message)
    [reply] = await server.wait_sent(1, after=mark)
    assert "Envoyez /id en privé" in reply["plain_text"]
    assert "-100456" in reply["plain_text"]
    assert "1087968824" not in reply["plain_text"]


async def test_id_counts_against_the_rate_limit(
    botapi: BotApiServer, workspace: Workspace, embedder: Embedder
) -> None:
    async with run_bot(botapi, workspace, embedder, rate_limit_per_minute=1) as harness:
        user = harness.user(5005)
        await harness.say(user, "/id")
        [told] = await harness.say(user, "/id")
        assert told["plain_text"] == t_plain("rate_limited", "fr")


# ------------------------------------------------------------------------------ feeds


@pytest.fixture
async def site() -> AsyncIterator[FeedSite]:
    async for served in serve_feeds():
        yield served


async def test_feed_polls_and_errors_are_counted_by_feed(bot: BotHarness, site: FeedSite) -> None:
    registry = bot.app.bot_data.metrics.registry
    await bot.say(bot.admin, f"/feeds add {site.base}/rss.xml", timeout=60)
    [feed] = bot.app.bot_data.feeds.all()
    assert registry.get_sample_value("qabot_feed_polls_total", {"feed": feed.id}) == 1.0
    assert registry.get_sample_value("qabot_feed_articles_added_total", {"feed": feed.id}) == 2.0
    assert registry.get_sample_value("qabot_feed_errors_total", {"feed": feed.id}) is None
    # Not a feed: polled once, failed, and not kept; counted all the same.
    await bot.say(bot.admin, f"/feeds add {site.base}/page.xml", timeout=30)
    errors = [
        s for m in registry.collect() if m.name == "qabot_feed_errors" for s in m.samples
        if s.name == "qabot_feed_errors_total"
    ]  # fmt: skip
    assert [s.value for s in errors] == [1.0]
    assert errors[0].labels["feed"] != feed.id
    refused = {"feed": errors[0].labels["feed"]}  # its id, gone from /feeds
    assert registry.get_sample_value("qabot_feed_polls_total", refused) == 1.0
    # The JobQueue's round counts too (a 304 this time: nothing added).
    assert bot.app.job_queue is not None
    bot.app.job_queue.run_once(feeds.poll_feeds_job, when=0)
    await wait_until(
        lambda: registry.get_sample_value("qabot_feed_polls_total", {"feed": feed.id}) == 2.0
    )
    assert registry.get_sample_value("qabot_feed_articles_added_total", {"feed": feed.id}) == 2.0
