"""Feeds end to end against a news site on 127.0.0.1: real RSS and Atom, conditional requests,
and every way a feed server goes wrong; then /feeds and the polling job in the real bot."""

from __future__ import annotations

import asyncio
import html
import json
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr

from index.collection.feeds import (
    MAX_SEEN,
    Feed,
    FeedNews,
    FeedRegistry,
    Tried,
    parse_feed,
    poll_feed,
)
from index.collection.folder import Added, ArticleCollection
from index.reasons import stored_english
from index.service import IndexService
from index.settings import IndexSettings
from index.stores.postgres import PostgresStore
from tests.support.bot_fixtures import (
    ADMIN_ID,
    BotHarness,
    buttons,
    run_bot,
    wait_callback_answer,
    wait_until,
)
from tests.support.botapi import BotApiServer
from tests.support.feedserver import FeedSite, serve_feeds
from tests.support.pgproxy import PgProxy


@pytest.fixture
async def site() -> AsyncIterator[FeedSite]:
    async for served in serve_feeds():
        yield served


@pytest.fixture
def collection(tmp_path: Path) -> ArticleCollection:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "volcans.txt").write_text(
        "Les volcans\n\nUn volcan entre en éruption quand le magma remonte.", encoding="utf-8"
    )
    settings = IndexSettings(
        seeds_dir=seeds,
        data_dir=tmp_path / "data",
        embedding_model="hashing-128",
        fetch_private_addresses=True,
        fetch_timeout=2,
        max_upload_bytes=1_000_000,
    )
    service = IndexService(settings)
    service.rebuild()
    return ArticleCollection(settings, service)


def _adder(collection: ArticleCollection):  # type: ignore[no-untyped-def]
    async def add(name: str, data: bytes) -> Added:
        return await asyncio.to_thread(collection.add_bytes, name, data)

    return add


def _feed(url: str) -> Feed:
    return Feed(id="f1", url=url)


async def test_rss_entries_become_articles_with_outlet_feed_and_date(
    site: FeedSite, collection: ArticleCollection
) -> None:
    report = await poll_feed(_feed(f"{site.base}/rss.xml"), collection, _adder(collection))
    assert report.error is None and report.skipped == ()
    assert sorted(a.article.id for a in report.added) == [
        "127-0-0-1-articles-uranium",
        "127-0-0-1-articles-volcan",
    ]
    article = collection.service.article("127-0-0-1-articles-volcan")
    assert article is not None
    assert (article.title, article.outlet, article.feed, article.published) == (
        "Le volcan Piton de la Fournaise se réveille",
        "Le Journal",
        "f1",
        "2026-11-30T08:00:00Z",
    )
    assert article.url == f"{site.base}/articles/volcan.html"
    assert "Accueil" not in article.text  # the page's main text, not its menu
    feed = report.feed
    assert (feed.title, feed.added, feed.etag, feed.last_error) == ("Le Journal", 2, '"v2"', None)
    assert feed.last_success_at is not None and report.seen is not None and len(report.seen) == 2
    answer = collection.service.ask("Quel est le prix de l'uranium ?")
    assert answer.quotes[0].outlet == "Le Journal"


async def test_a_second_poll_is_conditional_and_adds_only_new_entries(
    site: FeedSite, collection: ArticleCollection
) -> None:
    add = _adder(collection)
    first = await poll_feed(_feed(f"{site.base}/rss.xml"), collection, add)
    assert first.seen is not None
    unchanged = await poll_feed(first.feed, collection, add, seen=first.seen)
    assert unchanged.unchanged and unchanged.added == ()
    assert site.requests[-1][1]["If-None-Match"] == '"v2"'
    assert site.requests[-1][1]["If-Modified-Since"] == "Mon, 30 Nov 2026 08:00:00 GMT"
    site.rss_slugs.insert(0, "greve")
    assert unchanged.seen is None  # as they were
    grown = await poll_feed(unchanged.feed, collection, add, seen=first.seen)
    assert [a.article.id for a in grown.added] == ["127-0-0-1-articles-greve"]
    assert grown.feed.added == 3
    pages = [path for path, _ in site.requests if path.startswith("/articles/")]
    assert len(pages) == 3  # each page fetched once


async def test_entries_already_in_the_collection_are_not_added_again(
    site: FeedSite, collection: ArticleCollection
) -> None:
    first = await poll_feed(_feed(f"{site.base}/rss.xml"), collection, _adder(collection))
    files = sorted(p.name for p in collection.settings.seeds_dir.iterdir())
    mirror = Feed(id="f2", url=f"{site.base}/rss.xml")  # the same stories, another subscription
    second = await poll_feed(mirror, collection, _adder(collection))
    assert len(first.added) == 2 and second.added == () and second.skipped == ()
    assert second.feed.added == 0 and second.seen is not None and len(second.seen) == 2
    assert sorted(p.name for p in collection.settings.seeds_dir.iterdir()) == files


async def test_atom_entry_whose_page_is_gone_is_indexed_from_the_feed_text(
    site: FeedSite, collection: ArticleCollection
) -> None:
    site.broken_pages.add("greve")
    report = await poll_feed(_feed(f"{site.base}/atom.xml"), collection, _adder(collection))
    [added] = report.added
    assert (added.article.title, added.article.outlet, added.article.published) == (
        "Grève des enseignants à Almaty",
        "La Gazette",
        "2026-11-29T10:00:00Z",
    )
    assert added.article.text.startswith("Les enseignants d'Almaty ont cessé le travail")


async def test_an_entry_without_page_or_text_is_skipped_once(
    site: FeedSite, collection: ArticleCollection
) -> None:
    site.broken_pages.add("uranium")  # its RSS description is 80 characters: too little
    add = _adder(collection)
    report = await poll_feed(_feed(f"{site.base}/rss.xml"), collection, add)
    assert [a.article.id for a in report.added] == ["127-0-0-1-articles-volcan"]
    [skipped] = report.skipped
    assert (
        stored_english(skipped)
        == f"{site.base}/articles/uranium.html: the server answered HTTP 404"
    )
    site.rss_slugs.append("greve")  # the feed changes: the broken entry is not tried again
    assert report.seen is not None
    again = await poll_feed(report.feed, collection, add, seen=report.seen)
    assert again.skipped == () and [a.article.id for a in again.added] == [
        "127-0-0-1-articles-greve"
    ]


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("/slow.xml", "no complete answer within 2 s"),
        ("/page.xml", "not an RSS or Atom feed"),
        ("/loop", "too many redirects"),
        ("/endless.xml", "the page is larger than 1000 KB"),
        ("/missing.xml", "the server answered HTTP 404"),
    ],
)
async def test_a_broken_feed_is_a_line_in_its_health(
    site: FeedSite, collection: ArticleCollection, path: str, error: str
) -> None:
    feed = _feed(f"{site.base}{path}")
    report = await poll_feed(feed, collection, _adder(collection))
    assert report.error is not None and stored_english(report.error) == error
    assert report.added == () and report.feed.last_error == report.error
    assert report.feed.last_success_at is None
    assert report.feed.last_error_at is not None
    assert len(collection.service.articles()) == 1


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"<html><body>not a feed</body></html>",
        b"\x00\xff" * 100,
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;'
        b'&a;&a;&a;&a;&a;&a;">]><rss version="2.0"><channel><title>&b;</title></channel></rss>',
    ],
)
def test_parse_feed_refuses_or_survives_hostile_documents(data: bytes) -> None:
    try:
        parsed = parse_feed(data)
    except Exception as exc:
        assert str(exc).startswith("not an RSS or Atom feed")
    else:
        assert len(parsed.title) <= 200 and parsed.entries == ()


def test_one_process_at_a_time_polls_a_shared_data_dir(tmp_path: Path) -> None:
    here, replica = FeedRegistry(tmp_path), FeedRegistry(tmp_path)
    with here.polling() as ours:
        assert ours
        with replica.polling() as theirs:
            assert not theirs
        replica.add("https://journal.example/rss.xml")  # changes still go through, in turn
    with replica.polling() as theirs:
        assert theirs
    assert [f.url for f in here.all()] == ["https://journal.example/rss.xml"]


def test_relative_entry_links_are_resolved_against_the_feed() -> None:
    parsed = parse_feed(
        b'<rss version="2.0"><channel><title>J</title><item><title>Un</title>'
        b"<link>/articles/un.html</link></item></channel></rss>",
        "https://journal.example/feeds/rss.xml",
    )
    assert parsed.entries[0].link == "https://journal.example/articles/un.html"


def test_registry_keeps_subscriptions(tmp_path: Path) -> None:
    registry = FeedRegistry(tmp_path)
    feed, created = registry.add("https://journal.example/rss.xml")
    again, created_again = registry.add("https://journal.example/rss.xml")
    assert created and not created_again and again.id == feed.id
    registry.save(replace(feed, added=4), seen=("b", "a"))
    registry.record(replace(feed, added=5), Tried("c", added="Un titre"))
    assert FeedRegistry(tmp_path).all() == [replace(feed, added=5)]
    assert FeedRegistry(tmp_path).seen(feed.id) == ("b", "a", "c")
    assert registry.remove(feed.id) == replace(feed, added=5)
    assert registry.remove(feed.id) is None
    assert registry.all() == [] and registry.seen(feed.id) == ()
    registry.record(feed, Tried("d", added="Après"))  # removed meanwhile: nothing comes back
    assert registry.all() == [] and registry.seen(feed.id) == () and registry.take_news()[1] == []
    with pytest.raises(Exception, match="only http:// and https:// URLs"):
        registry.add("file:///etc/passwd")


# ------------------------------------------------------------------------------ in the bot


async def test_feeds_commands_in_the_chat(bot: BotHarness, site: FeedSite) -> None:
    [empty] = await bot.say(bot.admin, "/feeds")
    assert empty["plain_text"] == "Aucun flux suivi. Ajoutez-en un avec /feeds add URL."
    [added] = await bot.say(bot.admin, f"/feeds add {site.base}/rss.xml", timeout=60)
    feed_id = bot.app.bot_data.feeds.all()[0].id
    assert added["plain_text"] == f"Flux suivi : « Le Journal » ({feed_id}). 2 articles ajoutés."
    [again] = await bot.say(bot.admin, f"/feeds add {site.base}/rss.xml")
    assert again["plain_text"] == f"Ce flux est déjà suivi : « Le Journal » ({feed_id})."
    [refused] = await bot.say(bot.admin, f"/feeds add {site.base}/page.xml", timeout=30)
    assert refused["plain_text"] == "Flux non ajouté : ce n'est pas un flux RSS ou Atom."
    [listing] = await bot.say(bot.admin, "/feeds")
    lines = listing["plain_text"].splitlines()
    assert lines[0] == "Flux suivis : 1"
    assert lines[2] == f"{feed_id} — Le Journal"
    assert lines[3].startswith("  dernière lecture réussie : ")
    assert lines[3].endswith(" · 2 articles ajoutés")
    [answer] = await bot.say(bot.user(), "Quel est le prix de l'uranium ?")
    assert answer["plain_text"].startswith(
        "1. Le prix de l'uranium au plus haut · Le Journal · 30 novembre 2026\n"
    )
    [removed] = await bot.say(bot.admin, f"/feeds remove {feed_id}")
    assert removed["plain_text"] == (
        f"Flux retiré : « Le Journal » ({feed_id}). Ses articles restent dans la collection."
    )
    [unknown] = await bot.say(bot.admin, "/feeds remove nope")
    assert unknown["plain_text"] == "Aucun flux n'a l'ID nope : /feeds les liste."
    [usage] = await bot.say(bot.admin, "/feeds frobnicate")
    assert usage["plain_text"].startswith("/feeds liste les flux suivis")
    [refusal] = await bot.say(bot.user(), "/feeds")
    assert (
        refusal["plain_text"] == "Désolé, cette commande est réservée aux administrateurs du bot."
    )


async def test_the_job_polls_feeds_and_a_broken_one_stops_nothing(
    botapi: BotApiServer, workspace: object, embedder: object, site: FeedSite
) -> None:
    async with run_bot(
        botapi,
        workspace,  # type: ignore[arg-type]
        embedder,  # type: ignore[arg-type]
        feed_interval_seconds=1,
        fetch_timeout=2,
    ) as bot:
        feeds = bot.app.bot_data.feeds
        broken, _ = feeds.add(f"{site.base}/slow.xml")
        good, _ = feeds.add(f"{site.base}/atom.xml")
        await wait_until(lambda: (feeds.get(good.id) or good).added == 1, timeout=60)
        await wait_until(
            lambda: (feeds.get(broken.id) or broken).last_error is not None, timeout=30
        )
        assert bot.service.article("127-0-0-1-articles-greve") is not None
        [answer] = await bot.say(bot.user(), "Pourquoi les enseignants d'Almaty font-ils grève ?")
        assert "Grève des enseignants à Almaty · La Gazette" in answer["plain_text"]
        [listing] = await bot.say(bot.admin, "/feeds")
        assert "⚠️ dernière erreur (" in listing["plain_text"]
        assert "pas de réponse complète en 2 s" in listing["plain_text"]


async def test_feeds_lists_many_feeds_in_pages(bot: BotHarness) -> None:
    registry = bot.app.bot_data.feeds
    for n in range(40):  # titles of 80 characters, the longest error and skipped lines
        feed, _ = registry.add(f"https://journal{n}.example/rss.xml")
        registry.save(
            replace(
                feed,
                title=f"Le Journal & les nouvelles n° {n:02d} ".ljust(80, "&"),
                last_error="<" * 300,
                last_error_at="2026-12-01T08:00:00Z",
                skipped=2,
                last_skipped="&" * 300,
                last_skipped_at="2026-12-01T08:00:00Z",
            )
        )
    [first] = await bot.say(bot.admin, "/feeds")
    assert first["plain_text"].startswith("Flux suivis : 40 (page 1/")
    shown = re.findall(r"^([0-9a-f]{8}) — Le Journal", first["plain_text"], re.M)
    listing = first
    while "Suiv. ▶" in dict(buttons(listing)):
        mark = bot.mark()
        await bot.server.press_button(bot.admin, listing, dict(buttons(listing))["Suiv. ▶"])
        [listing] = await bot.server.wait_edits(1, after=mark)
        shown += re.findall(r"^([0-9a-f]{8}) — Le Journal", listing["plain_text"], re.M)
    assert shown == [f.id for f in registry.all()]  # every id, once, in order
    pages = int(re.findall(r"\(page \d+/(\d+)\)", first["plain_text"])[0])
    assert listing["plain_text"].startswith(f"Flux suivis : 40 (page {pages}/{pages})")
    assert [label for label, _ in buttons(listing)] == ["◀ Préc."]
    mark = bot.mark()  # a reader pressing it (the message forwarded, or forged) is refused
    await bot.server.press_button(bot.user(), listing, dict(buttons(listing))["◀ Préc."])
    refusal = await wait_callback_answer(bot.server, mark)
    assert refusal["text"] == "Désolé, cette commande est réservée aux administrateurs du bot."


async def test_a_bad_entry_is_one_line_of_the_feed_in_feeds(
    bot: BotHarness, site: FeedSite
) -> None:
    url = _odd(site, _item("http://[::1"), _item(f"{site.base}/articles/volcan.html"))
    [added] = await bot.say(bot.admin, f"/feeds add {url}", timeout=60)
    feed_id = bot.app.bot_data.feeds.all()[0].id
    assert added["plain_text"] == f"Flux suivi : « L'Étrange » ({feed_id}). 1 article ajouté."
    [listing] = await bot.say(bot.admin, "/feeds")
    lines = listing["plain_text"].splitlines()
    assert lines[2:4] == [f"{feed_id} — L'Étrange", lines[3]]
    assert re.fullmatch(
        r"  ⚠️ 1 entrée ignorée, la dernière \(\d\d/\d\d/\d{4} \d\d:\d\d\) : "
        r"http://\[::1: ce n'est pas une URL valide",
        lines[4],
    )


@pytest.mark.parametrize(
    ("command", "reply"),
    [
        (
            "/feeds add file:///etc/passwd",
            "Flux non ajouté : seules les URL http:// et https:// peuvent être ajoutées.",
        ),
        ("/feeds add http://[::1/rss.xml", "Flux non ajouté : ce n'est pas une URL valide."),
        ("/feeds add", "/feeds liste les flux suivis"),
        ("/feeds add a b", "/feeds liste les flux suivis"),
        ("/feeds add http://" + "a" * 3000 + ".example/rss", "Flux non ajouté : "),
        ("/feeds remove " + "x" * 500, "Aucun flux n'a l'ID "),
    ],
)
async def test_feeds_refuses_bad_input_with_a_reason(
    bot: BotHarness, command: str, reply: str
) -> None:
    [answer] = await bot.say(bot.admin, command, timeout=30)
    assert answer["plain_text"].startswith(reply)
    assert bot.app.bot_data.feeds.all() == []


async def test_feeds_to_private_addresses_are_refused_by_default(
    botapi: BotApiServer, workspace: object, embedder: object, site: FeedSite
) -> None:
    async with run_bot(
        botapi,
        workspace,
        embedder,
        fetch_private_addresses=False,  # type: ignore[arg-type]
    ) as bot:
        [answer] = await bot.say(bot.admin, f"/feeds add {site.base}/rss.xml", timeout=30)
        assert answer["plain_text"].startswith("Flux non ajouté : ")
        assert answer["plain_text"] == (
            "Flux non ajouté : 127.0.0.1 est une adresse privée (127.0.0.1) ; "
            "FETCH_PRIVATE_ADDRESSES=true l'autorise."
        )
        assert bot.app.bot_data.feeds.all() == []
        assert not site.requests  # nothing was fetched


# ------------------------------------------------------------------------------ odd entries


def _odd(site: FeedSite, *items: str) -> str:
    """Serve an RSS feed of ``items`` as /odd.xml; returns its URL."""
    site.odd_feed = (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>L'Étrange</title>{''.join(items)}</channel></rss>"
    )
    return f"{site.base}/odd.xml"


def _item(link: str, extra: str = "", text: str = "Trop court.") -> str:
    return (
        f"<item><title>Entrée</title><link>{link}</link><guid>{link}</guid>"
        f"<description>{text}</description>{extra}</item>"
    )


@pytest.mark.parametrize(
    "document",
    [
        # Year 10000 in UTC.
        '<rss version="2.0"><channel><title>J</title><item><title>Un</title><link>{page}</link>'
        "<pubDate>Fri, 31 Dec 9999 23:00:00 -2300</pubDate></item></channel></rss>",
        # Year 0 in UTC.
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>J</title><entry><title>Un</title>'
        '<id>urn:un</id><link href="{page}"/><updated>0001-01-01T00:00:00+01:00</updated>'
        "</entry></feed>",
    ],
)
async def test_an_entry_dated_past_the_calendar_is_added_undated(
    site: FeedSite, collection: ArticleCollection, document: str
) -> None:
    site.odd_feed = document.format(page=f"{site.base}/articles/volcan.html")
    report = await poll_feed(_feed(f"{site.base}/odd.xml"), collection, _adder(collection))
    assert (report.error, report.skipped) == (None, ())
    [added] = report.added
    assert (added.article.title, added.article.published) == (
        "Le volcan Piton de la Fournaise se réveille",
        None,
    )


async def test_a_malformed_link_is_one_line_in_the_feeds_health(
    site: FeedSite, collection: ArticleCollection
) -> None:
    long_text = "La lave s'écoule vers l'enclos Fouqué. " * 8  # an article on its own
    url = _odd(
        site,
        _item("http://[::1"),
        _item(f"{site.base}/articles/volcan.html"),
        _item("http://[::2", text=long_text),
    )
    report = await poll_feed(_feed(url), collection, _adder(collection))
    assert [stored_english(s) for s in report.skipped] == ["http://[::1: not a valid URL"]
    assert [(a.article.id, a.article.url) for a in report.added] == [
        ("127-0-0-1-articles-volcan", f"{site.base}/articles/volcan.html"),
        ("page-http-2", None),  # from the feed's own text, without the broken link
    ]
    feed = report.feed
    assert (feed.skipped, feed.last_skipped, feed.last_error) == (1, report.skipped[0], None)
    assert report.seen is not None
    again = await poll_feed(feed, collection, _adder(collection), seen=report.seen)  # once only
    assert (again.skipped, again.added, again.feed.skipped) == ((), (), 1)


async def test_validators_that_are_not_ascii_are_dropped(
    site: FeedSite, collection: ArticleCollection
) -> None:
    url = _odd(site, _item(f"{site.base}/articles/volcan.html"))
    site.odd_headers = {"Last-Modified": "mar., 01 déc. 2026 08:00:00 GMT", "ETag": '"été"'}
    first = await poll_feed(_feed(url), collection, _adder(collection))
    assert first.error is None and len(first.added) == 1
    assert (first.feed.etag, first.feed.last_modified) == (None, None)
    site.odd_headers = {"Last-Modified": "Tue, 01 Dec 2026 08:00:00 GMT", "ETag": '"v1"'}
    second = await poll_feed(first.feed, collection, _adder(collection), seen=first.seen or ())
    assert (second.error, second.feed.etag) == (None, '"v1"')
    assert "If-Modified-Since" not in site.requests[-1][1]


async def test_a_bug_on_one_entry_is_one_line_and_the_poll_goes_on(
    site: FeedSite, collection: ArticleCollection, caplog: pytest.LogCaptureFixture
) -> None:
    add = _adder(collection)

    async def add_with_a_bug(name: str, data: bytes) -> Added:
        if "volcan" in name:
            raise RuntimeError("a bug in the indexer")
        return await add(name, data)

    report = await poll_feed(_feed(f"{site.base}/rss.xml"), collection, add_with_a_bug)
    assert [a.article.id for a in report.added] == ["127-0-0-1-articles-uranium"]
    assert [stored_english(s) for s in report.skipped] == [
        f"{site.base}/articles/volcan.html: internal error (RuntimeError)"
    ]
    assert report.feed.last_error is None and report.seen is not None and len(report.seen) == 2
    [logged] = [r for r in caplog.records if r.exc_info]  # the bug is logged with its traceback
    assert "RuntimeError: a bug in the indexer" in caplog.text
    assert logged.getMessage() == f"feed f1: entry {site.base}/articles/volcan.html failed"


async def test_an_entry_indexed_is_marked_seen_at_once(
    site: FeedSite, collection: ArticleCollection, tmp_path: Path
) -> None:
    registry = FeedRegistry(tmp_path)
    feed, _ = registry.add(f"{site.base}/rss.xml")
    add = _adder(collection)

    async def add_then_stop(name: str, data: bytes) -> Added:
        if "uranium" in name:  # the process stops here (a shutdown cancels the job)
            raise asyncio.CancelledError
        return await add(name, data)

    async def save(progress: Feed, tried: Tried) -> None:
        await asyncio.to_thread(registry.record, progress, tried)

    with pytest.raises(asyncio.CancelledError):
        await poll_feed(feed, collection, add_then_stop, save)
    kept = registry.get(feed.id)
    seen = registry.seen(feed.id)
    assert kept is not None and (kept.added, len(seen), kept.etag) == (1, 1, None)
    resumed = await poll_feed(kept, collection, add, save, seen=seen)
    assert [a.article.id for a in resumed.added] == ["127-0-0-1-articles-uranium"]
    pages = [path for path, _ in site.requests if path.startswith("/articles/")]
    assert sorted(pages) == ["/articles/uranium.html"] * 2 + ["/articles/volcan.html"]


async def test_a_page_title_with_nul_is_indexed_in_postgresql(
    site: FeedSite, tmp_path: Path, database_url: str
) -> None:
    settings = IndexSettings(
        seeds_dir=tmp_path / "seeds",
        data_dir=tmp_path / "data",
        embedding_model="hashing-128",
        fetch_private_addresses=True,
        fetch_timeout=2,
        database_url=SecretStr(database_url),
    )
    settings.seeds_dir.mkdir()
    (settings.seeds_dir / "volcans.txt").write_text("Les volcans\n\nLe magma remonte.\n")
    service = IndexService(settings)
    service.rebuild()
    try:
        collection = ArticleCollection(settings, service)
        site.json_pages["nul"] = json.dumps(
            {
                "title": "Le\x00 titre",
                "text": "Le prix de l'uranium a doublé.\x00",
                "outlet": "La\x00 Gazette",
                "tags": ["é\x00nergie"],
            }
        )
        url = _odd(
            site, _item(f"{site.base}/pages/nul.json"), _item(f"{site.base}/articles/volcan.html")
        )
        report = await poll_feed(_feed(url), collection, _adder(collection))
        assert report.skipped == ()
        assert sorted(a.article.id for a in report.added) == [
            "127-0-0-1-articles-volcan",
            "127-0-0-1-pages-nul",
        ]
        stored = service.article("127-0-0-1-pages-nul")
        assert stored is not None
        assert (stored.title, stored.outlet, stored.tags) == (
            "Le titre",
            "La Gazette",
            ("énergie",),
        )
    finally:
        service.close()


# ------------------------------------------------------------------------------ archives


@pytest.mark.parametrize(
    ("size", "etag"),
    [
        (2_010, False),  # each poll a 200: the window alone decides what is new
        (2_100, True),  # 100 entries to read over five polls, by a server that honours ETags
    ],
)
async def test_an_archive_larger_than_the_window_is_read_once(
    site: FeedSite, collection: ArticleCollection, size: int, etag: bool
) -> None:
    site.archive_size, site.archive_etag = size, etag
    url = f"{site.base}/archive.xml"
    # The state after the first hundred polls: "Article 0" to "Article 1999" tried.
    feed, seen = _feed(url), tuple(f"{site.base}/archive/{n}.html" for n in range(MAX_SEEN))
    add = _adder(collection)
    for _ in range(10):
        report = await poll_feed(feed, collection, add, seen=seen)
        assert report.error is None
        feed, seen = report.feed, report.seen if report.seen is not None else seen
        if not report.added:
            break
    pages = [path for path, _ in site.requests if path.startswith("/archive/")]
    assert sorted(pages) == sorted(f"/archive/{n}.html" for n in range(MAX_SEEN, size))
    assert feed.added == size - MAX_SEEN and report.added == ()
    assert report.unchanged == etag  # the archive read, its validators are kept


# ------------------------------------------------------------------------------ the registry


def test_a_feeds_json_of_the_first_format_is_migrated_on_first_read(tmp_path: Path) -> None:
    records = [
        {
            "id": "0a1b2c3d",
            "url": "https://journal.example/rss.xml",
            "title": "Le Journal",
            "etag": '"v2"',
            "created_at": "2026-11-01T08:00:00Z",
            "last_success_at": "2026-12-01T08:00:00Z",
            "added": 3,
            "seen": ["https://journal.example/3", "https://journal.example/2", "1"],
        },
        {"id": "4e5f6a7b", "url": "https://gazette.example/atom.xml", "seen": []},
    ]
    (tmp_path / "feeds.json").write_text(json.dumps(records), encoding="utf-8")
    registry = FeedRegistry(tmp_path)
    journal, gazette = registry.all()
    assert journal == Feed(
        id="0a1b2c3d",
        url="https://journal.example/rss.xml",
        title="Le Journal",
        etag='"v2"',
        created_at="2026-11-01T08:00:00Z",
        last_success_at="2026-12-01T08:00:00Z",
        added=3,
    )
    assert gazette == Feed(id="4e5f6a7b", url="https://gazette.example/atom.xml")
    assert registry.seen("0a1b2c3d") == (
        "https://journal.example/3",
        "https://journal.example/2",
        "1",
    )
    assert not (tmp_path / "feeds.json").exists()  # read once, kept aside
    assert json.loads((tmp_path / "feeds.json.migrated").read_text()) == records
    again = FeedRegistry(tmp_path)  # a replica, or the next start: nothing read twice
    assert [f.id for f in again.all()] == ["0a1b2c3d", "4e5f6a7b"]
    assert len(again.seen("0a1b2c3d")) == 3


def test_a_feeds_json_that_cannot_be_read_is_said(tmp_path: Path) -> None:
    (tmp_path / "feeds.json").write_text("[{", encoding="utf-8")
    with pytest.raises(Exception, match=r"^cannot read feeds.json \(Expecting"):
        FeedRegistry(tmp_path).all()
    assert (tmp_path / "feeds.json").read_text() == "[{"  # kept for the admin to mend


async def test_each_entry_tried_is_saved_with_what_it_became(
    site: FeedSite, collection: ArticleCollection, tmp_path: Path
) -> None:
    registry = FeedRegistry(tmp_path)
    other, _ = registry.add("https://gazette.example/atom.xml")
    registry.save(other, seen=("g1", "g2"))
    feed, _ = registry.add(f"{site.base}/rss.xml")
    site.broken_pages.add("uranium")
    saved: list[tuple[int, tuple[str, ...]]] = []

    async def save(progress: Feed, tried: Tried) -> None:
        await asyncio.to_thread(registry.record, progress, tried)
        saved.append((progress.added + progress.skipped, registry.seen(feed.id)))

    report = await poll_feed(feed, collection, _adder(collection), save)
    volcan, uranium = f"{site.base}/articles/volcan.html", f"{site.base}/articles/uranium.html"
    assert saved == [(1, (volcan,)), (2, (volcan, uranium))]  # the skipped one too, at once
    assert registry.seen(other.id) == ("g1", "g2")  # the other feeds are not rewritten
    since, news = registry.take_news()
    assert since is None and [(n.feed_id, n.added, n.titles, n.skipped) for n in news] == [
        (feed.id, 1, ("Le volcan Piton de la Fournaise se réveille",), 1)
    ]
    assert news[0].last_skipped == report.skipped[0]


async def test_a_database_down_mid_poll_burns_no_entry(
    site: FeedSite, tmp_path: Path, database_url: str
) -> None:
    proxy = PgProxy(database_url)  # the database, behind a door the test closes
    settings = IndexSettings(
        seeds_dir=tmp_path / "seeds",
        data_dir=tmp_path / "data",
        embedding_model="hashing-128",
        fetch_private_addresses=True,
        fetch_timeout=2,
        database_url=SecretStr(proxy.url),
    )
    settings.seeds_dir.mkdir()
    (settings.seeds_dir / "volcans.txt").write_text("Les volcans\n\nLe magma remonte.\n")
    store = PostgresStore(proxy.url, wait=1)
    service = IndexService(settings, store=store)
    registry = FeedRegistry(tmp_path / "data")
    try:
        service.rebuild()
        collection = ArticleCollection(settings, service)
        add = _adder(collection)

        async def add_with_the_database_down(name: str, data: bytes) -> Added:
            proxy.close()
            return await add(name, data)

        async def save(progress: Feed, tried: Tried) -> None:
            await asyncio.to_thread(registry.record, progress, tried)

        feed, _ = registry.add(f"{site.base}/rss.xml")
        report = await poll_feed(feed, collection, add_with_the_database_down, save)
        registry.save(report.feed, report.seen)
        down = (
            f"cannot reach the database at {store.location} "
            "(couldn't get a connection after 1.00 sec): nothing was changed"
        )
        assert (report.added, report.skipped, report.error) == ((), (), down)
        assert registry.seen(feed.id) == ()  # the entry is not burnt
        kept = registry.get(feed.id)
        assert kept is not None and (kept.last_error, kept.skipped, kept.etag) == (down, 0, None)
        proxy.open()  # the database is back
        again = await poll_feed(kept, collection, add, save, seen=registry.seen(feed.id))
        assert again.error is None and sorted(a.article.id for a in again.added) == [
            "127-0-0-1-articles-uranium",
            "127-0-0-1-articles-volcan",
        ]
    finally:
        proxy.close()
        service.close()


# ------------------------------------------------------------------------------ one poller


async def test_feeds_add_while_a_round_polls_is_read_by_the_next_round(
    bot: BotHarness, site: FeedSite
) -> None:
    from bot.handlers import feeds

    registry = bot.app.bot_data.feeds
    with registry.polling() as ours:  # a round at work, here or in a replica
        assert ours
        [added] = await bot.say(bot.admin, f"/feeds add {site.base}/rss.xml")
    [feed] = registry.all()
    assert added["plain_text"] == (
        f"Flux suivi : « {site.base}/rss.xml » ({feed.id}). Une lecture des flux est en cours :"
        " il sera lu à la prochaine."
    )
    assert site.requests == []  # not read beside the round: no entry added twice
    assert bot.app.job_queue is not None
    bot.app.job_queue.run_once(feeds.poll_feeds_job, when=0)
    await wait_until(lambda: (registry.get(feed.id) or feed).added == 2, timeout=60)
    pages = [path for path, _ in site.requests if path.startswith("/articles/")]
    assert sorted(pages) == ["/articles/uranium.html", "/articles/volcan.html"]


# ------------------------------------------------------------------------------ the admins' note


async def test_the_daily_note_tells_each_admin_what_the_feeds_added(
    botapi: BotApiServer, workspace: object, embedder: object, site: FeedSite
) -> None:
    from bot.context import BotContext
    from bot.handlers import feeds

    botapi.strict_entities = True
    async with run_bot(
        botapi,
        workspace,  # type: ignore[arg-type]
        embedder,  # type: ignore[arg-type]
        admin_ids=[ADMIN_ID, 1003],
        feeds_digest_time="09:00",
    ) as bot:
        english = bot.server.user(1003, "Admin2", language_code="en-GB")
        await bot.say(english, "/feeds")  # their language, remembered for the note
        site.json_pages["miel"] = json.dumps(
            {"title": "Les <b>abeilles</b> & le miel", "text": "Le miel de la ruche. " * 20}
        )
        url = _odd(
            site,
            _item("http://[::1"),
            _item(f"{site.base}/pages/miel.json"),
            _item(f"{site.base}/articles/volcan.html"),
        )
        [added] = await bot.say(bot.admin, f"/feeds add {url}", timeout=60)
        assert added["plain_text"].endswith("2 articles ajoutés.")
        feed_id = bot.app.bot_data.feeds.all()[0].id
        assert bot.app.job_queue is not None
        [job] = bot.app.job_queue.get_jobs_by_name("feeds-digest")
        assert job.next_t is not None
        local = job.next_t.astimezone(ZoneInfo(bot.settings.timezone))
        assert (local.hour, local.minute) == (9, 0)  # 09:00 in TIMEZONE, every day
        mark = bot.mark()
        bot.app.job_queue.run_once(feeds.digest_job, when=0)
        notes = {m["chat_id"]: m["plain_text"] for m in await bot.server.wait_sent(2, after=mark)}
        assert notes == {
            ADMIN_ID: (
                "Flux : ce qu'ils ont apporté\n\n"
                f"L'Étrange ({feed_id}) : 2 articles ajoutés\n"
                "  • Les <b>abeilles</b> & le miel\n"
                "  • Le volcan Piton de la Fournaise se réveille\n"
                "  ⚠️ 1 entrée ignorée, la dernière : http://[::1: ce n'est pas une URL valide"
            ),
            1003: (
                "Feeds: what they brought\n\n"
                f"L'Étrange ({feed_id}): 2 articles added\n"
                "  • Les <b>abeilles</b> & le miel\n"
                "  • Le volcan Piton de la Fournaise se réveille\n"
                "  ⚠️ 1 entry skipped, the last: http://[::1: not a valid URL"
            ),
        }
        sent = len(bot.server.sent)
        await feeds.digest_job(BotContext(bot.app))  # nothing since: nothing said
        assert len(bot.server.sent) == sent
        site.rss_slugs = ["greve"]
        await bot.say(bot.admin, f"/feeds add {site.base}/rss.xml", timeout=60)
        mark = bot.mark()
        bot.app.job_queue.run_once(feeds.digest_job, when=0)
        notes = {m["chat_id"]: m["plain_text"] for m in await bot.server.wait_sent(2, after=mark)}
        assert re.fullmatch(
            r"Feeds: what they brought since \d\d/\d\d/\d{4} \d\d:\d\d\n\n"
            r"Le Journal \([0-9a-f]{8}\): 1 article added\n"
            r"  • Grève des enseignants à Almaty",
            notes[1003],
        )
    assert botapi.rejected == []


def test_a_long_note_is_cut_into_messages_that_fit() -> None:
    from bot.handlers.feeds import MAX_NOTE_MESSAGES, render_news
    from bot.render import MAX_MESSAGE
    from index.collection.feeds import FeedNews

    news = [
        FeedNews(f"{n:08x}", "<&>" * 100, 40, ("&" * 300,) * 5, 3, "<" * 300) for n in range(200)
    ]
    texts = render_news(news, "2026-12-01T08:00:00Z", "fr", ZoneInfo("Europe/Paris"))
    assert len(texts) == MAX_NOTE_MESSAGES
    assert texts[0].startswith("Flux : ce qu'ils ont apporté depuis le 01/12/2026 09:00\n")
    shown = [html.unescape(re.sub(r"</?b>", "", text)) for text in texts]
    assert all(len(text) <= MAX_MESSAGE for text in shown)
    counted = sum(len(re.findall(r"\d+ articles? ajoutés?", text)) for text in shown)
    assert shown[-1].endswith(f"\n… et {200 - counted} autres flux : /feeds")
    assert "<&><&>" not in texts[0] and "&lt;&amp;&gt;" in texts[0]  # values escaped
    assert render_news([], None, "fr", ZoneInfo("UTC")) == []


def test_replicas_take_the_news_once(tmp_path: Path) -> None:
    here, replica = FeedRegistry(tmp_path), FeedRegistry(tmp_path)
    feed, _ = here.add("https://journal.example/rss.xml")
    for n in range(7):
        here.record(replace(feed, title="Le Journal"), Tried(f"k{n}", added=f"Titre {n}"))
    replica.record(feed, Tried("k7", skipped="https://journal.example/7: HTTP 404"))
    since, news = replica.take_news()
    assert since is None and news == [
        FeedNews(
            feed.id,
            "https://journal.example/rss.xml",  # the feed's name as last saved
            7,
            tuple(f"Titre {n}" for n in range(2, 7)),  # the latest five
            1,
            "https://journal.example/7: HTTP 404",
        )
    ]
    since_here, again = here.take_news()  # the other replica, at the same hour: nothing
    assert again == [] and since_here is not None and since_here >= "2026"
