"""One feed poll on a 20,000-passage collection: what it costs, and where the time goes.

    python -m bench.feeds [--copies 20] [--database-url URL]

PIAF's 191 articles copied ``--copies`` times (20: 3,820 articles, 21,760 passages; vectors from
the growth benchmark's warm cache, so building embeds nothing) make the collection. A news
site on 127.0.0.1 (``tests.feedserver``) serves an RSS feed whose entries link to article
pages. Timed, as the bot's job does them (``index.feeds.poll_feed`` with the collection's
``add_bytes``):

1. the first poll of the feed: two new entries, each page fetched, extracted and added
   (their passages and sentences embedded by the real model);
2. a poll of the unchanged feed (a conditional request answered 304);
3. a poll after one more entry appeared.

Each line gives the whole poll and the part spent adding (embedding and writing); the rest is
the feed's request, parsing and the pages' fetch and extraction. The wire-copy fingerprints
are made before the polls (the bot makes them in the background at start) and timed apart.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench.growth import PIAF, ROOT, _copies, _fresh_database, _warm_cache, give_warm_cache


async def _measure(seeds: Path, data: Path, database_url: str | None) -> list[str]:
    from index.collection import Added, ArticleCollection
    from index.feeds import Feed, poll_feed
    from index.service import IndexService
    from index.settings import IndexSettings
    from tests.feedserver import serve_feeds

    values: dict[str, object] = {
        "seeds_dir": seeds,
        "data_dir": data,
        "fetch_private_addresses": True,  # the news site is on 127.0.0.1
    }
    if database_url:
        values["database_url"] = database_url
    settings = IndexSettings(**values)  # type: ignore[arg-type]
    service = IndexService(settings)
    if database_url:  # the database's own cache starts empty: give it the warm one
        give_warm_cache(service, data)
    started = time.perf_counter()
    service.rebuild()
    build = time.perf_counter() - started
    counts = service.store.counts()
    collection = ArticleCollection(settings, service)
    started = time.perf_counter()
    collection.wire_index()
    wire = time.perf_counter() - started
    lines = [
        f"collection: {counts.articles:,} articles, {counts.passages:,} passages "
        f"(built in {build:.1f} s; wire fingerprints {wire:.1f} s)",
        "| poll | new entries | whole poll | adding (embed + write) | request, parse, pages |",
        "|---|---|---|---|---|",
    ]
    adding: list[float] = []

    async def add(name: str, content: bytes) -> Added:
        begun = time.perf_counter()
        added = await asyncio.to_thread(collection.add_bytes, name, content)
        adding.append(time.perf_counter() - begun)
        return added

    async for site in serve_feeds():
        feed = Feed(id="bench", url=f"{site.base}/rss.xml")
        for label, grow in (("first", None), ("unchanged (304)", None), ("one new entry", "greve")):
            if grow:
                site.rss_slugs.insert(0, grow)
            adding.clear()
            begun = time.perf_counter()
            report = await poll_feed(feed, collection, add)
            whole = time.perf_counter() - begun
            if report.error:
                raise SystemExit(f"the poll failed: {report.error}")
            feed = report.feed
            lines.append(
                f"| {label} | {len(report.added)} | {whole * 1000:.0f} ms "
                f"| {sum(adding) * 1000:.0f} ms | {(whole - sum(adding)) * 1000:.0f} ms |"
            )
    service.close()
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.feeds", description=__doc__)
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--articles", type=Path, default=PIAF)
    parser.add_argument("--cache", type=Path, default=ROOT / "data" / "bench-growth")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args(argv)
    _warm_cache(args.articles, args.cache)
    with tempfile.TemporaryDirectory(prefix="feeds-") as tmp:
        seeds, data = Path(tmp) / "seeds", Path(tmp) / "data"
        _copies(args.articles, args.copies, seeds)
        data.mkdir()
        shutil.copy(args.cache / "data" / "embeddings.sqlite", data / "embeddings.sqlite")
        url = _fresh_database(args.database_url, "feeds_bench") if args.database_url else None
        for line in asyncio.run(_measure(seeds, data, url)):
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
