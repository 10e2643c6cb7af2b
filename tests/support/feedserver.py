"""A news site with feeds on 127.0.0.1 for the feed tests: real RSS 2.0 and Atom samples
whose entries link to article pages, and the feeds that go wrong: a 304 for a conditional
request, a server that never answers, HTML where XML was expected, a redirect loop, a feed
that grows without end, an archive of thousands of entries, and a feed the test writes itself
(odd entries, odd headers) with JSON pages of its choosing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from aiohttp import web

ARTICLES = {
    "volcan": (
        "Le volcan Piton de la Fournaise se réveille",
        "Le Piton de la Fournaise est entré en éruption dans la nuit de lundi à mardi, selon "
        "l'observatoire volcanologique. Une fissure s'est ouverte sur le flanc sud-est du cône.",
        "La lave s'écoule vers l'enclos Fouqué ; la route des laves reste ouverte à la "
        "circulation, précise la préfecture de La Réunion.",
    ),
    "uranium": (
        "Le prix de l'uranium au plus haut",
        "Le prix de l'uranium a atteint son plus haut niveau depuis quinze ans, porté par la "
        "demande des centrales nucléaires en Asie et par les craintes sur l'offre du Kazakhstan.",
        "Le Kazakhstan, premier producteur mondial, a réduit ses prévisions de production pour "
        "l'année prochaine, faute d'acide sulfurique.",
    ),
    "greve": (
        "Grève des enseignants à Almaty",
        "Les enseignants d'Almaty ont cessé le travail mercredi pour réclamer une hausse de "
        "leurs salaires, gelés depuis trois ans, selon leur syndicat.",
        "Le ministère de l'Éducation a promis de recevoir leurs représentants la semaine "
        "prochaine.",
    ),
}


def archive(base: str, size: int) -> str:
    """An RSS feed of ``size`` entries, "Article 0" first, each linking to its own page."""
    items = "".join(
        f"<item><title>Article {n}</title><link>{base}/archive/{n}.html</link>"
        f"<guid>{base}/archive/{n}.html</guid></item>"
        for n in range(size)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>Les Archives</title>{items}</channel></rss>"
    )


def archive_page(number: int) -> str:
    return (
        f"<!doctype html><html><head><title>Article {number}</title></head><body><article>"
        f"<h1>Article {number}</h1><p>Le numéro {number} des archives raconte la séance "
        f"{number} du conseil municipal, tenue le {number % 28 + 1} du mois.</p></article>"
        "</body></html>"
    )


def article_page(slug: str) -> str:
    title, *paragraphs = ARTICLES[slug]
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<!doctype html><html><head><title>{title}</title></head><body><nav>Accueil</nav>"
        f"<article><h1>{title}</h1>{body}</article><footer>© Le Journal</footer></body></html>"
    )


def rss(base: str, slugs: list[str]) -> str:
    items = "".join(
        f"<item><title>{ARTICLES[s][0]}</title><link>{base}/articles/{s}.html</link>"
        f"<guid>{base}/articles/{s}.html</guid><pubDate>Mon, 30 Nov 2026 08:00:00 GMT</pubDate>"
        f"<description>{ARTICLES[s][1][:80]}</description></item>"
        for s in slugs
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>Le Journal</title><link>{base}/</link><description>Actualités</description>"
        f"{items}</channel></rss>"
    )


def atom(base: str, slugs: list[str]) -> str:
    entries = "".join(
        f'<entry><title>{ARTICLES[s][0]}</title><link href="{base}/articles/{s}.html"/>'
        f"<id>urn:journal:{s}</id><updated>2026-11-29T10:00:00Z</updated>"
        f'<content type="html">&lt;p&gt;{ARTICLES[s][1]}&lt;/p&gt;&lt;p&gt;{ARTICLES[s][2]}'
        "&lt;/p&gt;</content></entry>"
        for s in slugs
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>La Gazette</title><id>urn:gazette</id><updated>2026-11-29T10:00:00Z</updated>"
        f"{entries}</feed>"
    )


@dataclass
class FeedSite:
    base: str = ""
    rss_slugs: list[str] = field(default_factory=lambda: ["volcan", "uranium"])
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    broken_pages: set[str] = field(default_factory=set)
    archive_size: int = 0
    archive_etag: bool = True  # an ETag, and a 304 for it
    odd_feed: str = ""  # served as /odd.xml, with odd_headers
    odd_headers: dict[str, str] = field(default_factory=dict)
    json_pages: dict[str, str] = field(default_factory=dict)  # /pages/{name}.json


async def serve_feeds() -> AsyncIterator[FeedSite]:
    site = FeedSite()

    async def record(request: web.Request) -> None:
        site.requests.append((request.path, dict(request.headers)))

    async def rss_feed(request: web.Request) -> web.Response:
        await record(request)
        etag = '"v' + str(len(site.rss_slugs)) + '"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(
            text=rss(site.base, site.rss_slugs),
            content_type="application/rss+xml",
            headers={"ETag": etag, "Last-Modified": "Mon, 30 Nov 2026 08:00:00 GMT"},
        )

    async def atom_feed(request: web.Request) -> web.Response:
        await record(request)
        return web.Response(text=atom(site.base, ["greve"]), content_type="application/atom+xml")

    async def page(request: web.Request) -> web.Response:
        await record(request)
        slug = request.match_info["slug"]
        if slug not in ARTICLES or slug in site.broken_pages:
            raise web.HTTPNotFound()
        return web.Response(text=article_page(slug), content_type="text/html")

    async def archive_feed(request: web.Request) -> web.Response:
        await record(request)
        etag = f'"a{site.archive_size}"'
        if site.archive_etag and request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(
            text=archive(site.base, site.archive_size),
            content_type="application/rss+xml",
            headers={"ETag": etag} if site.archive_etag else {},
        )

    async def archived(request: web.Request) -> web.Response:
        await record(request)
        return web.Response(
            text=archive_page(int(request.match_info["n"])), content_type="text/html"
        )

    async def odd_feed(request: web.Request) -> web.Response:
        await record(request)
        return web.Response(
            body=site.odd_feed.encode(),
            content_type="application/rss+xml",
            headers=site.odd_headers,
        )

    async def json_page(request: web.Request) -> web.Response:
        await record(request)
        found = site.json_pages.get(request.match_info["name"])
        if found is None:
            raise web.HTTPNotFound()
        return web.Response(text=found, content_type="application/json")

    async def slow(request: web.Request) -> web.Response:
        await record(request)
        await asyncio.sleep(6)  # past the tests' 2 s FETCH_TIMEOUT
        return web.Response(text="late")

    async def html_page(request: web.Request) -> web.Response:
        await record(request)
        return web.Response(text=article_page("volcan"), content_type="text/html")

    async def loop(request: web.Request) -> web.Response:
        await record(request)
        raise web.HTTPFound("/loop")

    async def endless(request: web.Request) -> web.StreamResponse:
        await record(request)
        response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        await response.prepare(request)
        await response.write(b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>')
        for _ in range(10_000):  # 640 MB if nobody stops reading
            await response.write(b"<item><title>" + b"x" * 64_000 + b"</title></item>")
        return response

    app = web.Application()
    app.router.add_get("/rss.xml", rss_feed)
    app.router.add_get("/atom.xml", atom_feed)
    app.router.add_get("/articles/{slug}.html", page)
    app.router.add_get("/archive.xml", archive_feed)
    app.router.add_get(r"/archive/{n:\d+}.html", archived)
    app.router.add_get("/odd.xml", odd_feed)
    app.router.add_get("/pages/{name}.json", json_page)
    app.router.add_get("/slow.xml", slow)
    app.router.add_get("/page.xml", html_page)
    app.router.add_get("/loop", loop)
    app.router.add_get("/endless.xml", endless)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0)
    await tcp.start()
    port = tcp._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    site.base = f"http://127.0.0.1:{port}"
    try:
        yield site
    finally:
        await runner.cleanup()
