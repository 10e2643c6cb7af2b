"""Vectors by content hash in their own SQLite file, so unchanged text is never embedded twice.

The cache outlives any index: a reindex, another model's build or a migration all draw on it.

>>> cache = SqliteVectorCache(Path("data/embeddings.sqlite"))  # doctest: +SKIP
>>> cache.get_many(["3f2a…"], 384)  # doctest: +SKIP
{}
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from index.stores.base import Vector, pack_vectors, unpack_vector
from index.stores.sql import SQLITE
from index.stores.sqlite import batches, immediate

__all__ = ["SqliteVectorCache"]


class SqliteVectorCache:
    """``key -> vector`` in SQLite; thread-safe (a connection per thread)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    @property
    def _db(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(
                self.path, timeout=60, isolation_level=None, check_same_thread=False
            )
            db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB)")
            self._local.db = db
            with self._lock:
                self._connections.append(db)
        return db

    def get_many(self, keys: Sequence[str], dim: int) -> dict[str, Vector]:
        """The vectors of these keys that are cached with dimension ``dim``."""
        found: dict[str, Vector] = {}
        for batch in batches(list(dict.fromkeys(keys))):
            rows = self._db.execute(
                f"SELECT key, vector FROM vectors WHERE key IN ({SQLITE.marks(len(batch))})",
                list(batch),
            )
            for key, blob in rows:
                vector = unpack_vector(blob)
                if vector.shape == (dim,):
                    found[key] = vector
        return found

    def put_many(self, items: Iterable[tuple[str, Vector]]) -> None:
        """Keep these vectors (committed at once: a killed build keeps its work)."""
        rows = [(key, pack_vectors([vector])) for key, vector in items]
        with immediate(self._db) as db:
            db.executemany("INSERT OR REPLACE INTO vectors (key, vector) VALUES (?, ?)", rows)

    def export(self) -> Iterator[tuple[str, Vector]]:
        """Every cached vector (its own connection: the caller may write meanwhile)."""
        db = sqlite3.connect(self.path, timeout=60)
        try:
            db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB)")
            for key, blob in db.execute("SELECT key, vector FROM vectors"):
                yield key, unpack_vector(blob)
        finally:
            db.close()

    def close(self) -> None:
        with self._lock:
            for db in self._connections:
                db.close()
            self._connections = []
        self._local = threading.local()
