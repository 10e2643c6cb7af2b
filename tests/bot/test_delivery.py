"""bot/delivery.py: which failed Bot API calls are retried, and the real bot under faults."""

from __future__ import annotations

import random

import httpx
import pytest
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.delivery import Outcome, classify, repeatable, retry_delay
from tests.support.bot_fixtures import BotHarness, bold_texts
from tests.support.botapi import JSONDict

QUESTION = "Qui a ordonné de tirer sur les manifestants ?"
ORDER = "tirer pour tuer et sans sommation"  # in the bold sentence of the first quote
ERROR_FR = "Désolé, quelque chose s'est mal passé. Réessayez plus tard."
READ_TIMEOUT = 5.0  # PTB's default read timeout, which build_application keeps

# PTB 22 warns whenever a RetryAfter is built (its retry_after becomes a timedelta).
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


def caused(error: TelegramError, cause: Exception) -> TelegramError:
    """``error`` as PTB raises it: ``raise error from cause``."""
    error.__cause__ = cause
    return error


# ------------------------------------------------------------------------------ pure rules


READ_TIMED_OUT = caused(TimedOut(), httpx.ReadTimeout("read"))
DROPPED = caused(NetworkError("httpx.RemoteProtocolError"), httpx.RemoteProtocolError("gone"))
HTML_502 = NetworkError("Bad Gateway (502). Parsing the server response b'<html>' failed")


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (RetryAfter(3), Outcome.RATE_LIMITED),
        (NetworkError("Bad Gateway"), Outcome.NOT_DONE),
        (NetworkError("Internal Server Error"), Outcome.NOT_DONE),
        (HTML_502, Outcome.NOT_DONE),
        (caused(NetworkError("httpx.ConnectError"), httpx.ConnectError("no")), Outcome.NOT_DONE),
        (caused(TimedOut(), httpx.ConnectTimeout("connect")), Outcome.NOT_DONE),
        (caused(TimedOut("Pool timeout"), httpx.PoolTimeout("pool")), Outcome.NOT_DONE),
        (READ_TIMED_OUT, Outcome.UNKNOWN),
        (caused(TimedOut(), httpx.WriteTimeout("write")), Outcome.UNKNOWN),
        (DROPPED, Outcome.UNKNOWN),
        (caused(NetworkError("Unknown error in HTTP implementation"), OSError()), Outcome.UNKNOWN),
        (NetworkError("Gateway Timeout"), Outcome.UNKNOWN),
        (BadRequest("Message is too long"), Outcome.FINAL),
        (Forbidden("Forbidden: bot was blocked by the user"), Outcome.FINAL),
        (Conflict("Conflict: terminated by other getUpdates request"), Outcome.FINAL),
    ],
)
def test_classify(error: TelegramError, outcome: Outcome) -> None:
    assert classify(error) is outcome


def test_repeatable_methods() -> None:
    assert all(map(repeatable, ["getFile", "sendChatAction", "editMessageText", "setMyCommands"]))
    assert not any(map(repeatable, ["sendMessage", "sendDocument", "answerCallbackQuery"]))


def test_retry_delays() -> None:
    rng = random.Random(1)
    assert retry_delay(READ_TIMED_OUT, "sendMessage", 1, rng) is None  # might duplicate
    assert retry_delay(BadRequest("Chat not found"), "sendMessage", 1, rng) is None
    assert retry_delay(RetryAfter(2), "sendMessage", 1, rng) == pytest.approx(2.1)
    bad_gateway = NetworkError("Bad Gateway")
    for attempt, (low, high) in enumerate([(0.25, 0.5), (0.5, 1), (1, 2), (2, 4), (2, 4)], 1):
        for error, method in [(bad_gateway, "sendMessage"), (READ_TIMED_OUT, "sendChatAction")]:
            delay = retry_delay(error, method, attempt, rng)
            assert delay is not None and low <= delay <= high, (attempt, delay)


# ------------------------------------------------------------------------------ the real bot


def send_calls(harness: BotHarness) -> list[JSONDict]:
    return [c for c in harness.server.calls if c["method"] == "sendMessage"]


async def test_bad_gateway_is_retried_and_the_answer_arrives_once(bot: BotHarness) -> None:
    bot.server.fail_next("sendMessage", 502)
    mark = bot.mark()
    question = await bot.server.send_text(bot.user(), QUESTION)
    [reply] = await bot.server.wait_sent(1, after=mark, timeout=20)
    assert ORDER in bold_texts(reply)[1]
    assert reply["reply_to_message_id"] == question.message_id
    assert [c["status"] for c in send_calls(bot)] == [502, 200]
    assert bot.server.sent == [reply]


async def test_a_burst_of_429_is_waited_out(bot: BotHarness) -> None:
    bot.server.fail_next("sendMessage", 429, retry_after=1, times=3)
    users = [bot.user(3000 + i) for i in range(3)]
    mark = bot.mark()
    questions = [await bot.server.send_text(user, QUESTION) for user in users]
    replies = await bot.server.wait_sent(3, after=mark, timeout=30)
    assert sorted(r["reply_to_message_id"] for r in replies) == sorted(
        q.message_id for q in questions
    )
    assert all(ORDER in bold_texts(r)[1] for r in replies)
    calls = send_calls(bot)
    assert [c["status"] for c in calls].count(429) == 3 and len(calls) == 6
    for i, refused in enumerate(calls):  # each retry came at least retry_after later
        if refused["status"] == 429:
            chat = refused["params"]["chat_id"]
            retry = next(c for c in calls[i + 1 :] if c["params"]["chat_id"] == chat)
            assert retry["time"] - refused["time"] >= refused["retry_after"] == 1
    assert [r["error_code"] for r in bot.server.rejected] == [429] * 3
    bot.server.rejected.clear()  # the injected ones are expected


async def test_persistent_500_gives_up_after_4_attempts_and_the_bot_goes_on(
    bot: BotHarness,
) -> None:
    bot.server.fail_next("sendMessage", 500, times=4)
    user = bot.user()
    [notice] = await bot.say(user, QUESTION, timeout=30)
    assert notice["plain_text"] == ERROR_FR  # the answer was lost: the reader is told
    assert [c["status"] for c in send_calls(bot)] == [500] * 4 + [200]
    [answer] = await bot.say(user, QUESTION)
    assert ORDER in bold_texts(answer)[1]


async def test_timed_out_message_is_not_sent_twice(bot: BotHarness) -> None:
    """Telegram did it but answered too late: a retry would show the answer twice."""
    bot.server.delay_next("sendMessage", READ_TIMEOUT + 1.5)
    mark = bot.mark()
    question = await bot.server.send_text(bot.user(), QUESTION)
    answer, notice = await bot.server.wait_sent(2, after=mark, timeout=30)
    assert ORDER in bold_texts(answer)[1]
    assert notice["plain_text"] == ERROR_FR  # the bot could not know it had worked
    assert answer["reply_to_message_id"] == notice["reply_to_message_id"] == question.message_id
    assert len(send_calls(bot)) == 2
