"""The local Bot API server (tests/support/botapi/) driven by a real python-telegram-bot
Application."""

from __future__ import annotations

import asyncio
import hashlib
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Conflict, EndPointNotFound, InvalidToken, RetryAfter
from telegram.ext import (
    AIORateLimiter,
    Application,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from tests.support.botapi import BotApiServer, parse_html, polling, texts

Context = ContextTypes.DEFAULT_TYPE


class Seen:
    """What the handlers of the test bot saw: returned messages and errors."""

    def __init__(self) -> None:
        self.returned: list[Message] = []
        self.errors: list[BaseException] = []


async def echo(update: Update, context: Context) -> None:
    """Echo a text back."""
    assert update.message and update.message.text
    context.bot_data["seen"].returned.append(await update.message.reply_text(update.message.text))


async def html(update: Update, context: Context) -> None:
    """/html <raw>: send the argument as HTML, unescaped."""
    assert update.message and update.message.text
    await update.message.reply_html(update.message.text.split(" ", 1)[1])


async def ask(update: Update, context: Context) -> None:
    """/ask <question>: answer with the arguments."""
    assert update.message
    await update.message.reply_text("Q: " + " ".join(context.args or []))


async def menu(update: Update, context: Context) -> None:
    """/menu: a message with two buttons."""
    assert update.message
    keyboard = [[InlineKeyboardButton("A", callback_data="pick:a")]]
    keyboard.append([InlineKeyboardButton("B", callback_data="pick:b")])
    await update.message.reply_text("Choose", reply_markup=InlineKeyboardMarkup(keyboard))


async def picked(update: Update, context: Context) -> None:
    """Answer the callback query first, then edit the message."""
    query = update.callback_query
    assert query and query.data
    await query.answer("ok")
    await query.edit_message_text(f"Picked <b>{query.data}</b>", parse_mode=ParseMode.HTML)


async def inline(update: Update, context: Context) -> None:
    """Answer an inline query "N" with N articles."""
    assert update.inline_query
    results = [
        InlineQueryResultArticle(str(i), f"R{i}", InputTextMessageContent(f"<i>{i}</i>", "HTML"))
        for i in range(int(update.inline_query.query))
    ]
    await update.inline_query.answer(results, cache_time=0)


async def document(update: Update, context: Context) -> None:
    """Download the document and reply with its size and sha256; send it back."""
    assert update.message and update.message.document
    data = await (await update.message.document.get_file()).download_as_bytearray()
    digest = hashlib.sha256(data).hexdigest()
    await update.message.reply_text(f"{len(data)} {digest} {update.message.caption}")
    await update.message.reply_document(
        bytes(data), filename="back.txt", caption="<b>back</b>", parse_mode="HTML"
    )


async def on_error(update: object, context: Context) -> None:
    """Collect errors raised by handlers."""
    assert context.error is not None
    context.bot_data["seen"].errors.append(context.error)


HANDLERS: list[BaseHandler] = [
    CommandHandler("html", html),
    CommandHandler("ask", ask),
    CommandHandler("menu", menu),
    MessageHandler(filters.TEXT & ~filters.COMMAND, echo),
    MessageHandler(filters.Document.ALL, document),
    CallbackQueryHandler(picked, pattern=r"^pick:"),
    InlineQueryHandler(inline),
]


@asynccontextmanager
async def running_bot(
    server: BotApiServer, rate_limiter: AIORateLimiter | None = None
) -> AsyncIterator[tuple[Application, Seen]]:
    """A real PTB Application polling ``server``; stopped cleanly afterwards."""
    builder = server.application_builder()
    if rate_limiter is not None:
        builder.rate_limiter(rate_limiter)
    app = builder.build()
    seen = Seen()
    app.bot_data["seen"] = seen
    app.add_handlers(HANDLERS)
    app.add_error_handler(on_error)
    async with polling(app, server):
        yield app, seen


async def wait_errors(seen: Seen, count: int = 1, timeout: float = 5.0) -> list[BaseException]:
    """Wait until the bot's error handler saw ``count`` errors."""
    deadline = time.monotonic() + timeout
    while len(seen.errors) < count:
        assert time.monotonic() < deadline, "the bot reported no error"
        await asyncio.sleep(0.01)
    return seen.errors


async def test_echo_round_trip(botapi: BotApiServer) -> None:
    async with running_bot(botapi) as (_, seen):
        methods = [m for m, _ in botapi.requests]
        assert methods[:2] == ["getMe", "deleteWebhook"]
        alice = botapi.user(1001, "Alice")
        for n, text in enumerate(["hello", "ça va? 😀"], start=1):
            mark = botapi.mark()
            incoming = await botapi.send_text(alice, text)
            (reply,) = await botapi.wait_sent(after=mark)
            assert reply["chat_id"] == 1001
            assert reply["text"] == text
            assert reply["message_id"] == incoming.message_id + 1 == 2 * n
        await botapi.wait_for(lambda: not botapi.pending_updates, what="confirmed updates")
    returned = seen.returned[-1]
    assert returned.from_user is not None and returned.from_user.username == "article_qa_bot"
    assert returned.chat.id == 1001 and returned.text == "ça va? 😀"
    assert abs(returned.date.timestamp() - time.time()) < 5
    assert botapi.rejected == [] and seen.errors == []


async def test_command_with_bot_username_in_group(botapi: BotApiServer) -> None:
    async with running_bot(botapi):
        alice = botapi.user(1001, "Alice")
        group = botapi.group_chat(-500, "Readers")
        mark = botapi.mark()
        incoming = await botapi.send_text(alice, "/ask@article_qa_bot who wrote it?", chat=group)
        assert incoming.entities[0].type == "bot_command" and incoming.entities[0].length == 19
        (reply,) = await botapi.wait_sent(after=mark)
    assert reply["chat_id"] == -500 and reply["plain_text"] == "Q: who wrote it?"
    assert reply["reply_to_message_id"] == incoming.message_id  # PTB quotes in groups


async def test_invalid_html_is_rejected_as_bad_request(botapi: BotApiServer) -> None:
    async with running_bot(botapi) as (_, seen):
        alice = botapi.user(1001)
        mark = botapi.mark()
        await botapi.send_text(alice, "/html <b>fine</b> &amp; <a href='https://x.org'>ok</a>")
        (good,) = await botapi.wait_sent(after=mark)
        assert good["plain_text"] == "fine & ok"
        assert [e["type"] for e in good["parsed_entities"]] == ["bold", "text_link"]
        await botapi.send_text(alice, "/html <b>unclosed")
        await botapi.send_text(alice, "/html a < b")
        rejected = await botapi.wait_rejected(count=2, after=mark)
        errors = await wait_errors(seen, 2)
    assert all(isinstance(e, BadRequest) for e in errors)
    assert "Can't parse entities" in str(errors[0])
    assert rejected[0]["description"] == (
        "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\""
    )
    assert rejected[1]["params"]["text"] == "a < b"
    assert len(botapi.sent) == 1


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("<i>x</b>", 'Unmatched end tag at byte offset 4, expected "</i>", found "</b>"'),
        ("<div>x</div>", 'Unsupported start tag "div" at byte offset 0'),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("é</b>", "Unexpected end tag at byte offset 2"),
    ],
)
def test_parse_html_errors(text: str, error: str) -> None:
    with pytest.raises(Exception, match="can't parse entities") as info:
        parse_html(text)
    assert str(info.value).endswith(error)


def test_parse_html_accepts_what_telegram_accepts() -> None:
    text = (
        "<blockquote expandable>q</blockquote><tg-spoiler>s</tg-spoiler>&#128512;&#x41;"
        '<span class="tg-spoiler">t</span><pre><code class="language-py">c</code></pre>AT&T'
    )
    plain, entities = parse_html(text)
    assert plain == "qs😀AtcAT&T"
    types = {e["type"] for e in entities}
    assert types == {"expandable_blockquote", "spoiler", "code", "pre"}


async def test_length_limit_counts_utf16_after_parsing(botapi: BotApiServer) -> None:
    async with running_bot(botapi) as (app, _):
        botapi.user(1001)
        await app.bot.send_message(1001, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
        with pytest.raises(BadRequest, match="Message is too long"):
            await app.bot.send_message(1001, "x" * 4097)
        with pytest.raises(BadRequest, match="Message is too long"):
            await app.bot.send_message(1001, "😀" * 2049)
        with pytest.raises(BadRequest, match="Message text is empty"):
            await app.bot.send_message(1001, "<b> </b>", parse_mode="HTML")
        with pytest.raises(BadRequest, match="Chat not found"):
            await app.bot.send_message(4242, "who?")
    assert len(botapi.sent) == 1 and len(botapi.rejected) == 4


async def test_429_surfaces_as_retry_after(botapi: BotApiServer) -> None:
    async with running_bot(botapi) as (app, _):
        botapi.user(1001)
        botapi.fail_next("sendMessage", retry_after=3)
        with pytest.raises(RetryAfter) as info:
            await app.bot.send_message(1001, "hi")
        assert "retry in 3 seconds" in str(info.value).lower()
        await app.bot.send_message(1001, "hi")  # fails only once
    assert len(botapi.sent) == 1


async def test_429_is_retried_by_aio_rate_limiter(botapi: BotApiServer) -> None:
    async with running_bot(botapi, rate_limiter=AIORateLimiter(max_retries=1)):
        alice = botapi.user(1001)
        botapi.fail_next("sendMessage", retry_after=1)
        mark = botapi.mark()
        started = time.monotonic()
        await botapi.send_text(alice, "patience")
        (reply,) = await botapi.wait_sent(after=mark)
        elapsed = time.monotonic() - started
    assert reply["text"] == "patience" and elapsed >= 1.0
    assert [m for m, _ in botapi.requests].count("sendMessage") == 2


async def test_document_get_file_and_download(botapi: BotApiServer) -> None:
    payload = b"Un article.\n" * 100
    async with running_bot(botapi):
        alice = botapi.user(1001)
        mark = botapi.mark()
        incoming = await botapi.send_document(alice, "a.txt", payload, "text/plain", "/add")
        assert incoming.caption_entities[0].type == "bot_command"
        text, doc = await botapi.wait_sent(count=2, after=mark)
    assert text["plain_text"] == f"{len(payload)} {hashlib.sha256(payload).hexdigest()} /add"
    assert doc["method"] == "sendDocument" and doc["plain_text"] == "back"
    stored = botapi.files[doc["message"]["document"]["file_id"]]
    assert stored.data == payload and stored.file_name == "back.txt"
    assert [m for m, _ in botapi.requests].count("getFile") == 1


async def test_callback_query_answered_then_edited(botapi: BotApiServer) -> None:
    async with running_bot(botapi) as (app, _):
        alice = botapi.user(1001)
        mark = botapi.mark()
        await botapi.send_text(alice, "/menu")
        (sent,) = await botapi.wait_sent(after=mark)
        with pytest.raises(ValueError, match="no button"):
            await botapi.press_button(alice, sent, "pick:z")
        await botapi.press_button(alice, sent, "pick:b")
        (edit,) = await botapi.wait_edits(after=mark)
        assert edit["plain_text"] == "Picked pick:b"
        assert botapi.callback_answers[0]["text"] == "ok"
        # The keyboard is gone after the edit, and an identical edit is refused.
        assert "reply_markup" not in edit["message"]
        with pytest.raises(BadRequest, match="not modified"):
            await app.bot.edit_message_text(
                "Picked <b>pick:b</b>", 1001, sent["message_id"], parse_mode="HTML"
            )
        too_long = InlineKeyboardButton("x", callback_data="x" * 65)
        with pytest.raises(BadRequest, match="Button_data_invalid"):
            await app.bot.send_message(1001, "k", reply_markup=InlineKeyboardMarkup([[too_long]]))


async def test_inline_query_answered(botapi: BotApiServer) -> None:
    async with running_bot(botapi) as (_, seen):
        alice = botapi.user(1001)
        await botapi.inline_query(alice, "3")
        await botapi.wait_calls("answerInlineQuery")
        await botapi.inline_query(alice, "51")
        errors = await wait_errors(seen)
    assert len(botapi.inline_answers) == 1
    assert [r["id"] for r in botapi.inline_answers[0]["results"]] == ["0", "1", "2"]
    assert isinstance(errors[0], BadRequest) and "Results_too_much" in str(errors[0])


async def test_set_my_commands_recorded(botapi: BotApiServer) -> None:
    async with running_bot(botapi) as (app, _):
        await app.bot.set_my_commands([BotCommand("ask", "Ask a question")])
        scope = BotCommandScopeAllPrivateChats()
        await app.bot.set_my_commands(
            [BotCommand("ask", "Poser une question")], scope=scope, language_code="fr"
        )
        fr = await app.bot.get_my_commands(scope=scope, language_code="fr")
        botapi.user(1001)
        await app.bot.send_chat_action(1001, "typing")
    assert [c.description for c in fr] == ["Poser une question"]
    assert botapi.get_commands() == [{"command": "ask", "description": "Ask a question"}]
    assert botapi.get_commands({"type": "all_private_chats"}, "fr")[0]["command"] == "ask"
    assert botapi.chat_actions[0]["action"] == "typing"


async def test_protocol_errors_and_long_polling(botapi: BotApiServer) -> None:
    wrong = Bot("123:WRONG", base_url=botapi.base_url, base_file_url=botapi.base_file_url)
    with pytest.raises(InvalidToken):
        await wrong.initialize()
    async with Bot(botapi.token, base_url=botapi.base_url) as bot:
        with pytest.raises(EndPointNotFound):
            await bot.do_api_request("noSuchMethod")
        alice = botapi.user(1001)
        poll = asyncio.create_task(bot.get_updates(timeout=5))
        await botapi.wait_polling()
        started = time.monotonic()
        await botapi.send_text(alice, "wake up")
        (update,) = await poll
        assert time.monotonic() - started < 1  # woken at once, not after the timeout
        assert len(await bot.get_updates(timeout=0)) == 1  # kept until confirmed
        assert await bot.get_updates(offset=update.update_id + 1, timeout=0) == ()
        assert botapi.pending_updates == []


async def test_webhook_delivery(botapi: BotApiServer) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = botapi.application_builder().build()
    app.bot_data["seen"] = Seen()
    app.add_handlers(HANDLERS)
    async with app:
        assert app.updater is not None
        await app.start()
        await app.updater.start_webhook(
            listen="127.0.0.1",
            port=port,
            url_path="hook",
            webhook_url=f"http://127.0.0.1:{port}/hook",
            secret_token="s3cret",
        )
        try:
            assert botapi.webhook is not None and botapi.webhook["secret_token"] == "s3cret"
            with pytest.raises(Conflict):
                await app.bot.get_updates()
            alice = botapi.user(1001)
            mark = botapi.mark()
            await botapi.send_text(alice, "via webhook")
            assert texts(await botapi.wait_sent(after=mark)) == ["via webhook"]
            await botapi.wait_for(lambda: not botapi.pending_updates, what="delivery")
        finally:
            await app.updater.stop()
            await app.stop()
