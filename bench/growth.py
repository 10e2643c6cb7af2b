"""How a change's cost grows with the collection: /add, /remove and an unchanged rebuild.

PIAF's 191 articles are copied N times (1x, 5x, 20x by default) into a seeds folder, each copy
under another file name: the texts repeat, so every vector comes from the embedding cache and
nothing is embedded (as in the issue's table; the one short article added is embedded once, in
a warm-up, so the figures are the store's own cost). Each size runs in a fresh process that
builds the index, then times, as the bot does them (``ArticleCollection``):

- ``/add`` of one short article (its vectors cached) and ``/remove`` of it, median of 3;
- an unchanged rebuild (``/reindex`` with nothing changed), median of 3;
- peak memory (VmHWM) of that process after the index is open, against the passage vectors'
  own bytes.

    python -m bench.growth [--sizes 1,5,20] [--articles DIR] [--database-url URL]

With ``--database-url`` the PostgreSQL store is measured instead (each size in a fresh
database created on that server).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench import memory_mb

if TYPE_CHECKING:
    from index.service import IndexService

ROOT = Path(__file__).resolve().parent.parent
PIAF = ROOT.parent / "shared" / "eval" / "piaf" / "articles"
SHORT = (
    "Le Puy de Dôme\n\nLe puy de Dôme est un volcan endormi du Massif central, haut de "
    "1 465 mètres. Un train à crémaillère mène à son sommet depuis 2012.\n"
)
REPEATS = 3


def _median_seconds(action: Callable[[], object], repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def worker(seeds: Path, data: Path, database_url: str | None) -> dict[str, Any]:
    """In a fresh process: build, then time the changes (see the module docstring)."""
    from index.collection.folder import ArticleCollection
    from index.service import IndexService
    from index.settings import IndexSettings

    values: dict[str, Any] = {"seeds_dir": seeds, "data_dir": data}
    if database_url:
        values["database_url"] = database_url
    settings = IndexSettings(**values)
    service = IndexService(settings)
    if database_url:  # the database's own cache starts empty: give it the warm one
        give_warm_cache(service, data)
    started = time.perf_counter()
    build = service.rebuild()
    build_seconds = time.perf_counter() - started
    collection = ArticleCollection(settings, service)
    added = collection.add_bytes("puy-de-dome.txt", SHORT.encode())  # warm-up: embeds it once
    collection.remove(added.article.id)
    shutil.rmtree(data / "trash", ignore_errors=True)
    add_times, remove_times = [], []
    for _ in range(REPEATS):
        started = time.perf_counter()
        added = collection.add_bytes("puy-de-dome.txt", SHORT.encode())
        add_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        collection.remove(added.article.id)
        remove_times.append(time.perf_counter() - started)
    rebuild = _median_seconds(service.rebuild)
    counts = service.store.counts()
    service.close()
    return {
        "articles": counts.articles,
        "passages": counts.passages,
        "sentences": counts.sentences,
        "first_build_seconds": round(build_seconds, 2),
        "first_build_embedded": build.embedded,
        "add_seconds": round(statistics.median(add_times), 3),
        "remove_seconds": round(statistics.median(remove_times), 3),
        "unchanged_rebuild_seconds": round(rebuild, 3),
        "peak_memory_mb": round(memory_mb(), 1),
        "vector_mb": round(counts.passages * 384 * 4 / 1e6, 1),
        "disk_mb": round(counts.bytes / 1e6, 1),
    }


def give_warm_cache(service: IndexService, data: Path) -> None:
    """Copy ``data/embeddings.sqlite`` (the warm cache) into the service's store."""
    from index.stores.vector_cache import SqliteVectorCache

    cache = SqliteVectorCache(data / "embeddings.sqlite")
    items = cache.export()
    while batch := list(itertools.islice(items, 2000)):
        service.store.cache_vectors(batch)
    cache.close()


def _copies(articles: Path, times: int, into: Path) -> None:
    into.mkdir(parents=True)
    for path in sorted(articles.iterdir()):
        for n in range(times):
            shutil.copy(path, into / (path.name if n == 0 else f"{path.stem}-copy{n}{path.suffix}"))


def _warm_cache(articles: Path, cache_dir: Path) -> None:
    """Embed PIAF once (a minute or more the first time), so the sizes embed nothing."""
    from index.service import IndexService
    from index.settings import IndexSettings

    seeds = cache_dir / "seeds"
    if not seeds.exists():
        _copies(articles, 1, seeds)
        (seeds / "puy-de-dome.txt").write_text(SHORT, encoding="utf-8")
    service = IndexService(IndexSettings(seeds_dir=seeds, data_dir=cache_dir / "data"))
    report = service.rebuild()
    service.close()
    print(f"cache ready ({report.embedded} texts embedded now)", file=sys.stderr)


def _fresh_database(url: str, name: str) -> str:

    from tests.support.pg import fresh_database

    return fresh_database(url, name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.growth", description=__doc__)
    parser.add_argument("--sizes", default="1,5,20", help="copies of PIAF, comma-separated")
    parser.add_argument("--articles", type=Path, default=PIAF)
    parser.add_argument("--cache", type=Path, default=ROOT / "data" / "bench-growth")
    parser.add_argument("--database-url", default=None, help="measure PostgreSQL instead")
    parser.add_argument("--worker", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker[0], args.worker[1], args.database_url)))
        return 0
    _warm_cache(args.articles, args.cache)
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory(prefix=f"growth-{size}x-") as tmp:
            seeds, data = Path(tmp) / "seeds", Path(tmp) / "data"
            _copies(args.articles, size, seeds)
            data.mkdir()
            shutil.copy(args.cache / "data" / "embeddings.sqlite", data / "embeddings.sqlite")
            command = [sys.executable, "-m", "bench.growth", "--worker", str(seeds), str(data)]
            if args.database_url:
                url = _fresh_database(args.database_url, f"growth_{size}x")
                command += ["--database-url", url]
            done = subprocess.run(
                command, capture_output=True, text=True, check=True, cwd=ROOT, env=dict(os.environ)
            )
            rows.append({"size": f"{size}x", **json.loads(done.stdout.strip().splitlines()[-1])})
            print(json.dumps(rows[-1]), file=sys.stderr)
    print(
        "| articles / passages | /add of one short article | /remove | unchanged rebuild "
        "| peak memory | passage vectors | disk |"
    )
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['articles']:,} / {row['passages']:,} | {row['add_seconds']:.3f} s "
            f"| {row['remove_seconds']:.3f} s | {row['unchanged_rebuild_seconds']:.2f} s "
            f"| {row['peak_memory_mb'] / 1000:.2f} GB | {row['vector_mb']:.0f} MB "
            f"| {row['disk_mb']:.0f} MB |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
