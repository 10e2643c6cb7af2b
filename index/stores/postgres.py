"""PostgreSQL + pgvector store (being written)."""

from __future__ import annotations

from typing import Any

from index.errors import IndexFailure

__all__ = ["PostgresStore"]


class PostgresStore:
    def __init__(self, url: str, pool_size: int = 8) -> None:
        raise IndexFailure("the PostgreSQL store is not available yet")

    def __getattr__(self, name: str) -> Any:  # pragma: no cover - placeholder
        raise AttributeError(name)
