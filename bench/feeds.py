"""One feed poll on a 20,000-passage collection: what it costs, and where the time goes; and
what saving a feed's progress costs when many feeds are followed.

    python -m bench.feeds [--copies 20] [--database-url URL]
    python -m bench.feeds --registry [--feeds 20 200]

PIAF's 191 articles copied ``--copies`` times (20: 3,820 articles, 21,760 passages; vectors from
the growth benchmark's warm cache, so building embeds nothing) make the collection. A news
site on 127.0.0.1 (``tests.support.feedserver``) serves an RSS feed whose entries link to article
pages. Timed, as the bot's job does them (``index.collection.feeds.poll_feed`` with the collection's
``add_bytes``):

1. the first poll of the feed: two new entries, each page fetched, extracted and added
   (their passages and sentences embedded by the real model);
2. a poll of the unchanged feed (a conditional request answered 304);
3. a poll after one more entry appeared.

Each line gives the whole poll and the part spent adding (embedding and writing); the rest is
the feed's request, parsing and the pages' fetch and extraction. The wire-copy fingerprints
are made before the polls (the bot makes them in the background at start) and timed apart.

``--registry``: the feeds' own bookkeeping. ``DATA_DIR`` holds ``--feeds`` subscriptions
(20, then 200) that have each tried 2,000 entries, written as a ``feeds.json`` of the first
format (every feed's ``seen`` keys in it: what a bot that ran for months has). One of them is an
archive of 2,020 entries on 127.0.0.1: a poll adds its 20 new ones (the hashing embedder, so
the indexing is cheap and the registry's share shows), saving the feed's progress after each
entry as the bot does. Printed: the size of the file that holds the state (``feeds.json``, or
``feeds.sqlite``), the first read of the registry (which migrates ``feeds.json`` to the second),
one entry's save (median), the saves of the poll, the save at its end, and the whole poll.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import fields
from pathlib import Path
from typing import Any

from bench.growth import PIAF, ROOT, _copies, _fresh_database, _warm_cache, give_warm_cache


async def _measure(seeds: Path, data: Path, database_url: str | None) -> list[str]:
    from index.collection.feeds import Feed, poll_feed
    from index.collection.folder import Added, ArticleCollection
    from index.service import IndexService
    from index.settings import IndexSettings
    from tests.support.feedserver import serve_feeds

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


SEEN_PER_FEED = 2_000
NEW_ENTRIES = 20


def _legacy_feeds_json(path: Path, feeds: int, archive: str) -> str:
    """A ``feeds.json`` of the first format: ``feeds`` subscriptions, each with 2,000 keys
    seen; the first is ``archive`` (its entries 0 to 1,999 seen). Returns its id."""
    records = []
    for n in range(feeds):
        url = archive if n == 0 else f"https://journal{n}.example/rss.xml"
        if n == 0:
            seen = [f"{archive.rsplit('/', 1)[0]}/archive/{k}.html" for k in range(SEEN_PER_FEED)]
        else:
            seen = [
                f"https://journal{n}.example/articles/{k}-conseil-municipal-seance.html"
                for k in range(SEEN_PER_FEED)
            ]
        records.append(
            {
                "id": f"{n:08x}",
                "url": url,
                "title": f"Le Journal n° {n}",
                "created_at": "2026-01-01T00:00:00Z",
                "last_success_at": "2026-12-01T08:00:00Z",
                "added": SEEN_PER_FEED,
                "seen": seen,
            }
        )
    path.write_text(json.dumps(records, ensure_ascii=False, indent=1), encoding="utf-8")
    return str(records[0]["id"])


async def _measure_registry(feeds: int, root: Path) -> str:
    """One line of the ``--registry`` table: ``feeds`` subscriptions, one archive polled."""
    import index.collection.feeds

    # the first format's API or the second's: what the tree holds
    module: Any = index.collection.feeds
    from index.collection.folder import ArticleCollection
    from index.service import IndexService
    from index.settings import IndexSettings
    from tests.support.feedserver import serve_feeds

    seeds, data = root / "seeds", root / "data"
    seeds.mkdir()
    (seeds / "volcans.txt").write_text("Les volcans\n\nLe magma remonte.\n", encoding="utf-8")
    settings = IndexSettings(
        seeds_dir=seeds,
        data_dir=data,
        embedding_model="hashing-128",
        fetch_private_addresses=True,
    )
    service = IndexService(settings)
    service.rebuild()
    collection = ArticleCollection(settings, service, find_copies=False)
    # The first format kept seen keys in each Feed; this bench runs on it and on the new one.
    first_format = "seen" in {f.name for f in fields(module.Feed)}
    saves: list[float] = []

    async def add(name: str, content: bytes) -> Any:
        return await asyncio.to_thread(collection.add_bytes, name, content)

    def timed(action: Any, *args: Any) -> None:
        begun = time.perf_counter()
        action(*args)
        saves.append(time.perf_counter() - begun)

    async for site in serve_feeds():
        site.archive_size, site.archive_etag = SEEN_PER_FEED + NEW_ENTRIES, False
        feed_id = _legacy_feeds_json(data / "feeds.json", feeds, f"{site.base}/archive.xml")
        begun = time.perf_counter()
        if first_format:
            registry = module.FeedRegistry(data / "feeds.json")
            feed = registry.get(feed_id)
        else:
            registry = module.FeedRegistry(data)
            feed = registry.get(feed_id)  # the first read migrates feeds.json
            seen = registry.seen(feed_id)
        first_read = time.perf_counter() - begun
        begun = time.perf_counter()
        if first_format:
            report = await module.poll_feed(feed, collection, add, _saver(timed, registry.save))
            per_entry = list(saves)
            await asyncio.to_thread(timed, registry.save, report.feed)
        else:
            save = _saver(timed, registry.record)
            report = await module.poll_feed(feed, collection, add, save, seen=seen)
            per_entry = list(saves)
            await asyncio.to_thread(timed, registry.save, report.feed, report.seen)
        whole = time.perf_counter() - begun
        if len(report.added) != NEW_ENTRIES or report.error:
            raise SystemExit(f"the poll added {len(report.added)}: {report.error}")
    service.close()
    if not first_format:
        registry.close()  # its write-ahead log folded into the database
    size = (data / ("feeds.json" if first_format else "feeds.sqlite")).stat().st_size
    return (
        f"| {feeds} | {feeds * SEEN_PER_FEED:,} | {size / 1e6:.1f} MB | {first_read * 1000:.0f} ms "
        f"| {statistics.median(per_entry) * 1000:.1f} ms | {sum(per_entry) * 1000:.0f} ms "
        f"| {saves[-1] * 1000:.1f} ms | {whole * 1000:.0f} ms |"
    )


def _saver(timed: Any, action: Any) -> Any:
    """The poll's ``save``, whatever it is given, through ``timed`` off the event loop."""

    async def save(*values: Any) -> None:
        await asyncio.to_thread(timed, action, *values)

    return save


def registry_main(counts: list[int]) -> int:
    print(
        f"A poll of {NEW_ENTRIES} new entries, its progress saved after each, "
        f"among N feeds of {SEEN_PER_FEED:,} seen keys each:"
    )
    print(
        "| feeds | seen keys | state file | first read | one entry's save (median) "
        f"| the {NEW_ENTRIES} saves | end-of-poll save | whole poll |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for count in counts:
        with tempfile.TemporaryDirectory(prefix="feeds-registry-") as tmp:
            print(asyncio.run(_measure_registry(count, Path(tmp))), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.feeds", description=__doc__)
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--articles", type=Path, default=PIAF)
    parser.add_argument("--cache", type=Path, default=ROOT / "data" / "bench-growth")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--registry", action="store_true", help="the registry's saves only")
    parser.add_argument("--feeds", type=int, nargs="+", default=[20, 200])
    args = parser.parse_args(argv)
    if args.registry:
        return registry_main(args.feeds)
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
