"""Two bot processes' worth of the real bot (two Applications, each polling its own loopback
Bot API server) sharing one PostgreSQL: what a reader does through one replica, the other
knows: the last question of a chat, the gaps, a group's scope, the votes, a /remove waiting for
its confirmation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import pytest

from index.retrieval.embed import HashingEmbedder
from index.stores.readers import Gap, Scope, now_iso
from tests.support.bot_fixtures import (
    BotHarness,
    Workspace,
    buttons,
    run_bot,
    wait_callback_answer,
    wait_until,
)
from tests.support.botapi import BotApiServer

QUESTION = "Qui a ordonné de tirer sur les manifestants ?"


@pytest.fixture
async def two_replicas(
    workspace: Workspace, database_url: str
) -> AsyncIterator[tuple[BotHarness, BotHarness]]:
    async with AsyncExitStack() as stack:
        made = []
        for _ in range(2):
            server = await stack.enter_async_context(BotApiServer(token="123:ABC"))
            made.append(
                await stack.enter_async_context(
                    run_bot(
                        server,
                        workspace,
                        HashingEmbedder(128),
                        database_url=database_url,
                        min_score=0.05,
                    )
                )
            )
        made[0].service.rebuild()
        yield made[0], made[1]


async def test_replicas_share_what_readers_did(two_replicas: tuple[BotHarness, BotHarness]) -> None:
    one, two = two_replicas
    reader = one.user(3501)
    [first] = await one.say(reader, QUESTION)
    assert "tirer pour tuer" in first["plain_text"]
    # The next message of the same chat reaches the other replica.
    [after] = await two.say(two.user(3501), "Et à Almaty ?")
    assert after["plain_text"].startswith(f"Suite de : « {QUESTION} »")
    # Gaps recorded by one are reported by the other.
    one.app.bot_data.readers.record_gap(
        Gap("Comment faire des crêpes ?", "declined", "fr", now_iso())
    )
    [report] = await two.say(two.admin, "/gaps")
    assert "1. « Comment faire des crêpes ? » ×1 (sans réponse 1)" in report["plain_text"]
    # A vote through one is seen by the other.
    key = next(d for _, d in buttons(first) if d.startswith("fb:")).split(":")[1]
    one.app.bot_data.session.vote(3501, key, 3501, -1)
    assert len(two.app.bot_data.readers.disliked("2000")) == 1
    # A group's scope chosen through one applies in the other.
    one.app.bot_data.readers.set_scope(-300, Scope(tags=("sport",)))
    assert two.app.bot_data.readers.scope(-300) == Scope(tags=("sport",))


async def test_a_removal_asked_on_one_replica_is_confirmed_on_the_other(
    two_replicas: tuple[BotHarness, BotHarness],
) -> None:
    one, two = two_replicas
    seed = "000_7774940a137d78f0"
    [confirm] = await one.say(one.admin, f"/remove {seed}")
    yes = dict(buttons(confirm))["Oui, retirer"]
    # Telegram hands the press to whichever replica: here the other one, whose server must
    # know the message to edit it.
    shown = two.server.adopt(one.server.message(confirm["chat_id"], confirm["message_id"]))
    mark = two.mark()
    await two.server.press_button(two.admin, shown, yes)
    [done] = await two.server.wait_edits(1, after=mark, timeout=30)
    assert done["plain_text"].startswith(f"Retiré : « « Tirez sur les manifestants » » ({seed}). ")
    await wait_until(lambda: not any(one.space.seeds.iterdir()))
    # A second press, on the first replica, finds the confirmation spent.
    mark = one.mark()
    await one.server.press_button(one.admin, confirm, yes)
    assert (await wait_callback_answer(one.server, mark))["text"] == (
        "Cette réponse a expiré, posez à nouveau la question."
    )
