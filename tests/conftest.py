"""Shared pytest fixtures."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from index.stores.readers import ReaderStore, SqliteReaderStore

# The bot's end-to-end fixtures (real index and model, a running Application per test).
from tests.support.bot_fixtures import (  # noqa: F401
    bot,
    embedder,
    models_dir,
    seed_template,
    workspace,
)
from tests.support.botapi import BotApiServer, bypass_proxies_for_loopback

# A real PostgreSQL with pgvector, started once per run when a test asks for it.
from tests.support.pg import database_url, pg_server  # noqa: F401

# httpx honours proxy variables: keep the local Bot API server out of any proxy.
bypass_proxies_for_loopback()


@pytest.fixture
def readers(tmp_path: Path) -> Iterator[ReaderStore]:
    """A readers' store of the test's own: SQLite in its temporary folder (key beside it)."""
    store = SqliteReaderStore(tmp_path / "readers" / "readers.sqlite")
    yield store
    store.close()


@pytest.fixture
async def botapi() -> AsyncIterator[BotApiServer]:
    """A running local Telegram Bot API server (token "123:ABC"), closed after the test."""
    async with BotApiServer(token="123:ABC") as server:
        yield server
