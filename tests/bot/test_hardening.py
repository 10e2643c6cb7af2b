"""End to end: the hardening findings, each reproduced against the real bot, now refused or safe."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Iterator

import aiohttp
import pytest
from telegram import Update

from bot.__main__ import bot_secrets, webhook_options
from bot.app import build_application
from bot.logs import configure_logging
from bot.settings import Settings
from index.retrieval.embed import Embedder
from index.service import IndexService
from tests.bot.handlers.test_admin import SEED_ID, VOLCANO, gate_rebuild, seed_files
from tests.support.bot_fixtures import (
    ADMIN_ID,
    BotHarness,
    Workspace,
    bot_settings,
    buttons,
    run_bot,
    wait_callback_answer,
    wait_until,
)
from tests.support.botapi import BotApiServer, texts
from tests.support.sample_documents import docx_of_empty_paragraphs

QUESTION = "Qui a ordonné de tirer sur les manifestants ?"
RATE_LIMITED = "Vous posez beaucoup de questions : je reprends dans une minute."


# ------------------------------------------------------------------------------ webhook


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_webhook_always_has_a_secret_and_refuses_updates_without_it(
    botapi: BotApiServer, workspace: Workspace, embedder: Embedder
) -> None:
    port = free_port()
    settings = bot_settings(
        workspace, botapi, webhook_url=f"http://127.0.0.1:{port}/hook", webhook_port=port
    )
    assert settings.webhook_secret is None and settings.webhook_listen == "127.0.0.1"
    options = webhook_options(settings)
    assert len(options.secret_token) >= 32 and options.listen == "127.0.0.1"
    assert webhook_options(settings).secret_token != options.secret_token  # fresh each run
    app = build_application(settings, IndexService(settings, embedder))
    await app.initialize()
    await app.start()
    assert app.updater is not None
    try:
        await app.updater.start_webhook(
            listen=options.listen,
            port=options.port,
            url_path=options.url_path,
            webhook_url=options.webhook_url,
            secret_token=options.secret_token,
        )
        assert botapi.webhook is not None
        assert botapi.webhook["secret_token"] == options.secret_token  # registered
        forged = Update(
            900,
            message=(await botapi.send_text(botapi.user(ADMIN_ID, "Admin"), "/stats")),
        ).to_dict()
        # The test server delivers that update with the header; strangers post without it.
        [stats] = await botapi.wait_sent(1, timeout=20)
        assert stats["plain_text"].startswith("Statistiques")
        mark = botapi.mark()
        async with aiohttp.ClientSession() as http:
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "guess"}):
                async with http.post(
                    f"http://127.0.0.1:{port}/hook", json=forged, headers=headers
                ) as response:
                    assert response.status == 403
        await asyncio.sleep(0.5)
        assert len(botapi.sent) == mark.sent  # nothing answered
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


def test_webhook_keeps_a_configured_secret(botapi: BotApiServer, workspace: Workspace) -> None:
    settings = bot_settings(
        workspace, botapi, webhook_url="https://bot.example.org/tg", webhook_secret="s3cret_-x"
    )
    options = webhook_options(settings)
    assert (options.secret_token, options.url_path) == ("s3cret_-x", "tg")


# ------------------------------------------------------------------------------ More and Context


async def test_more_and_context_count_against_the_rate_limit(
    botapi: BotApiServer, workspace: Workspace, embedder: Embedder
) -> None:
    async with run_bot(botapi, workspace, embedder, rate_limit_per_minute=2) as bot:
        user = bot.user()
        [answer] = await bot.say(user, QUESTION)
        [more] = await bot.press(user, answer, dict(buttons(answer))["Plus"])
        [warning] = await bot.say(user, QUESTION)  # third search within the minute
        assert warning["plain_text"] == RATE_LIMITED
        mark = bot.mark()
        for data in [dict(buttons(more))["Plus"]] * 8 + [dict(buttons(answer))["Contexte 1"]]:
            await botapi.press_button(user, more, data, forged=True)
        await botapi.wait_for(
            lambda: botapi.callback_answers[mark.callback_answers + 8 :], what="9 answers"
        )
        alerts = botapi.callback_answers[mark.callback_answers :]
        assert all(a.get("text") is None for a in alerts)  # warned once already: silent
        assert len(botapi.sent) == mark.sent  # no search ran, nothing was sent


async def test_a_used_more_is_spent(bot: BotHarness) -> None:
    user = bot.user()
    [answer] = await bot.say(user, QUESTION)
    more = dict(buttons(answer))["Plus"]
    await bot.press(user, answer, more)
    # The message still has its button for a moment (or a client replays it): pressing again.
    mark = bot.mark()
    await bot.server.press_button(user, answer, more, forged=True)
    reply = await wait_callback_answer(bot.server, mark)
    assert reply["text"] == "Les passages suivants sont déjà affichés plus bas."
    assert reply["show_alert"] is True
    await asyncio.sleep(0.3)
    assert len(bot.server.sent) == mark.sent


async def test_context_of_a_changed_article_says_it_is_out_of_date(bot: BotHarness) -> None:
    user = bot.user()
    [answer] = await bot.say(user, QUESTION)
    seed = bot.space.seeds / f"{SEED_ID}.txt"
    seed.write_text("Un autre article\n\n" + "Tout autre texte sur un autre sujet. " * 30)
    await asyncio.to_thread(bot.service.rebuild)
    [reply] = await bot.press(user, answer, dict(buttons(answer))["Contexte 1"])
    assert reply["plain_text"] == (
        "L'article a changé depuis cette réponse ; posez à nouveau la question."
    )


# ------------------------------------------------------------------------------ long titles


async def test_a_5000_character_title_can_be_added_and_removed_from_the_chat(
    bot: BotHarness,
) -> None:
    title = "Titre " + "très " * 1000
    text = f"{title}\n\nLe Piton de la Fournaise est un volcan de La Réunion, très actif.\n"
    mark = bot.mark()
    await bot.server.send_document(bot.admin, "long.txt", text.encode(), caption="/add")
    [done] = await bot.server.wait_sent(1, after=mark, timeout=30)
    assert done["plain_text"].startswith("Ajouté : « Titre très très")
    assert "…" in done["plain_text"] and len(done["plain_text"]) < 400
    [confirm] = await bot.say(bot.admin, "/remove long")
    assert confirm["plain_text"].startswith("Retirer « Titre très")
    mark = bot.mark()
    await bot.server.press_button(bot.admin, confirm, dict(buttons(confirm))["Oui, retirer"])
    [removed] = await bot.server.wait_edits(1, after=mark, timeout=30)
    assert removed["plain_text"].startswith("Retiré : « Titre très")
    assert seed_files(bot.space) == [f"{SEED_ID}.txt"]


# ------------------------------------------------------------------------------ concurrency


async def test_two_admins_adding_during_a_reindex_both_wait_and_both_are_kept(
    botapi: BotApiServer, workspace: Workspace, embedder: Embedder
) -> None:
    second_admin = ADMIN_ID + 1
    async with run_bot(botapi, workspace, embedder, admin_ids=[ADMIN_ID, second_admin]) as bot:
        gate = gate_rebuild(bot)
        await bot.say(bot.admin, "/reindex")
        await wait_until(lambda: bot.service.building)
        mark = bot.mark()
        other = botapi.user(second_admin, "Admin2", language_code="fr")
        await botapi.send_document(bot.admin, "volcan.txt", VOLCANO.encode(), caption="/add")
        glacier = "Les glaciers\n\nLes glaciers des Alpes fondent chaque été un peu plus vite.\n"
        await botapi.send_document(other, "glacier.txt", glacier.encode(), caption="/add")
        queued = await botapi.wait_sent(2, after=mark)
        assert set(texts(queued)) == {
            "Une autre modification est en cours (/reindex) ; la vôtre suit dès qu'elle est finie."
        }
        gate.set()
        done = await botapi.wait_for(
            lambda: [m for m in botapi.sent[mark.sent :] if m["plain_text"].startswith("Ajouté")][
                1:
            ],
            timeout=60,
            what="both additions",
        )
        assert done
    assert seed_files(workspace) == [f"{SEED_ID}.txt", "glacier.txt", "volcan.txt"]
    indexed = {a.id for a in bot.service.articles()}
    assert indexed == {SEED_ID, "glacier", "volcan"}


# ------------------------------------------------------------------------------ small ones


async def test_an_upload_captioned_for_another_bot_is_ignored(bot: BotHarness) -> None:
    for user in (bot.admin, bot.user()):
        await bot.server.send_document(user, "v.txt", VOLCANO.encode(), caption="/add@other_bot")
    [reply] = await bot.say(bot.user(), "/sources")  # the next update is answered, not those
    assert reply["plain_text"].startswith("Articles (1)")
    assert not any(m == "getFile" for m, _ in bot.server.requests)


async def test_a_docx_of_millions_of_empty_paragraphs_is_refused_with_its_reason(
    bot: BotHarness,
) -> None:
    """Issue 22, finding 6: 78 KB of DOCX kept a worker busy 276 s in 1.7 GB, then "no text"."""
    bomb = docx_of_empty_paragraphs(5_000_000)
    mark = bot.mark()
    await bot.server.send_document(bot.admin, "vide.docx", bomb, caption="/add")
    [reply] = await bot.server.wait_sent(1, after=mark, timeout=30)
    assert reply["plain_text"] == "Non ajouté : le fichier DOCX a plus de 100,000 paragraphes."
    assert seed_files(bot.space) == [f"{SEED_ID}.txt"]


async def test_unknown_button_data_gets_a_polite_answer_not_an_error(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    [answer] = await bot.say(bot.user(), QUESTION)
    key = dict(buttons(answer))["Plus"].split(":")[1]
    mark = bot.mark()
    for data in (f"ctx:{key}:²", f"ctx:{key}:1x", "more:", f"more:{key}:", "src:-1", "rm:y:x"):
        await bot.server.press_button(bot.user(), answer, data, forged=True)
    await bot.server.wait_for(
        lambda: bot.server.callback_answers[mark.callback_answers + 5 :], what="6 answers"
    )
    answers = bot.server.callback_answers[mark.callback_answers :]
    assert {a["text"] for a in answers} == {"Cette réponse a expiré, posez à nouveau la question."}
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_admin_commands_ignore_edited_messages(bot: BotHarness) -> None:
    message = await bot.server.send_text(bot.admin, "bonjour")
    await bot.server.wait_sent(1)
    mark = bot.mark()
    await bot.server.edit_text(message, f"/remove {SEED_ID}")
    await bot.server.edit_text(message, "/reindex")
    [reply] = await bot.say(bot.user(), "/sources")  # the next update is answered, not those
    assert reply["plain_text"].startswith("Articles (1)")
    assert len(bot.server.sent) - mark.sent == 1 and not bot.server.edits[mark.edits :]


# ------------------------------------------------------------------------------ logging


@pytest.fixture
def debug_log() -> Iterator[io.StringIO]:
    """Everything logged, at DEBUG, through the bot's own logging set-up."""
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    stream = io.StringIO()
    yield stream
    root.handlers[:] = saved[1]
    root.setLevel(saved[0])


async def test_the_token_is_never_logged_even_at_debug(
    botapi: BotApiServer, workspace: Workspace, embedder: Embedder, debug_log: io.StringIO
) -> None:
    configure_logging("DEBUG", [botapi.token], debug_log)
    async with run_bot(botapi, workspace, embedder) as bot:
        await bot.say(bot.user(), QUESTION)
        await bot.say(bot.user(), "/sources")
    logged = debug_log.getvalue()
    assert "Set Bot API URL" in logged and "/bot<redacted>" in logged  # PTB did log the URL
    assert botapi.token not in logged


async def test_a_removal_during_a_reindex_waits_and_seeds_and_index_agree(bot: BotHarness) -> None:
    [confirm] = await bot.say(bot.admin, f"/remove {SEED_ID}")
    gate = gate_rebuild(bot)
    await bot.say(bot.admin, "/reindex")
    await wait_until(lambda: bot.service.building)
    mark = bot.mark()
    await bot.server.press_button(bot.admin, confirm, dict(buttons(confirm))["Oui, retirer"])
    [queued] = await bot.server.wait_sent(1, after=mark)
    assert queued["plain_text"].startswith("Une autre modification est en cours (/reindex)")
    assert seed_files(bot.space) == [f"{SEED_ID}.txt"]  # nothing moved before its turn
    gate.set()
    [removed] = await bot.server.wait_for(
        lambda: [e for e in bot.server.edits[mark.edits :] if e["plain_text"].startswith("Retiré")],
        timeout=30,
        what="removal",
    )
    assert SEED_ID in removed["plain_text"]
    assert seed_files(bot.space) == [] and bot.service.articles() == []


def test_the_database_password_is_never_logged(debug_log: io.StringIO) -> None:
    url = "postgresql://bot:s3cr%2Fet@db.example:5432/articles"
    settings = Settings(telegram_bot_token="123:abc", database_url=url)
    configure_logging("DEBUG", bot_secrets(settings), debug_log)
    logging.getLogger("psycopg").warning("connecting with password=s3cr/et")
    logging.getLogger("index").info("store: %s", url)
    logged = debug_log.getvalue()
    assert "s3cr" not in logged
    assert logged.count("<redacted>") == 2


def test_the_readers_key_is_never_logged(debug_log: io.StringIO) -> None:
    key = "c0ffee" * 11
    settings = Settings(telegram_bot_token="123:abc", readers_key=key)
    configure_logging("DEBUG", bot_secrets(settings), debug_log)
    logging.getLogger("index").debug("readers' key: %s", key)
    assert debug_log.getvalue().endswith("readers' key: <redacted>\n")
