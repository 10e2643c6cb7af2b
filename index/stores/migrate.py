"""Copy one store into another without embedding anything: the index moves to PostgreSQL.

>>> copy_store(EmbeddedStore(Path("data")), PostgresStore(url))  # doctest: +SKIP
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass

from index.errors import IndexFailure
from index.stores.base import IndexStore, Reset

__all__ = ["CopyReport", "copy_store"]

_CACHE_BATCH = 2000


@dataclass(frozen=True, slots=True)
class CopyReport:
    articles: int
    passages: int
    cached: int
    seconds: float


def copy_store(source: IndexStore, target: IndexStore) -> CopyReport:
    """Replace ``target``'s content with ``source``'s: articles, passages, sentences, vectors, and
    the vector cache. One write: the target holds the copy whole or keeps what it had."""
    started = time.perf_counter()
    meta = source.meta()
    if meta is None:
        raise IndexFailure("the source index is empty: build it first (python -m index build)")
    cached = 0
    cache = source.export_cache()
    while batch := list(itertools.islice(cache, _CACHE_BATCH)):
        target.cache_vectors(batch)
        cached += len(batch)
    target.write(source.export(), reset=Reset(meta, source.background()))
    counts = target.counts()
    return CopyReport(counts.articles, counts.passages, cached, time.perf_counter() - started)
