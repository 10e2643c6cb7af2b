"""End to end: no admin action unanswered (issue 23, item 7), through the real bot.

A document sent without ``/add``, several ids in one ``/remove``, a command the bot does not
know, an article sent again, and ``/edit`` of an article's title, date or outlet.
"""

from __future__ import annotations

import json

import pytest

from index.retrieval.embed import Embedder
from tests.support.bot_fixtures import (
    SEED,
    BotHarness,
    Workspace,
    buttons,
    run_bot,
    wait_callback_answer,
)
from tests.support.botapi import BotApiServer

SEED_ID = SEED.stem
SEED_TITLE = "« Tirez sur les manifestants »"
REFUSAL = "Désolé, cette commande est réservée aux administrateurs du bot."
VOLCANO = (
    "Le volcan Piton de la Fournaise\n\n"
    "Le Piton de la Fournaise est un volcan bouclier situé dans le sud-est de l'île de La "
    "Réunion. Il est l'un des volcans les plus actifs de la planète, avec en moyenne une "
    "éruption tous les neuf mois.\n\n"
    "Sa dernière grande éruption, en avril 2007, a fait couler des laves jusqu'à l'océan "
    "et provoqué l'effondrement de son cratère principal, le Dolomieu, sur plus de 300 mètres.\n"
)
VOLCANO_TITLE = "Le volcan Piton de la Fournaise"
QUESTION = "Qui a ordonné de tirer sur les manifestants ?"
OFFER = "Document reçu : « volcan.txt ». L'ajouter à la collection ?"


def seed_files(space: Workspace) -> list[str]:
    return sorted(p.name for p in space.seeds.iterdir())


async def nothing_said(bot: BotHarness, send: object) -> None:
    """``send`` (awaited) gets no reply: the next update is answered, and only that one."""
    mark = bot.mark()
    await send  # type: ignore[misc]
    [reply] = await bot.say(bot.user(), "/sources")
    assert len(bot.server.sent) - mark.sent == 1 and reply["plain_text"].startswith("Articles (")


async def add_volcano(bot: BotHarness) -> None:
    mark = bot.mark()
    await bot.server.send_document(bot.admin, "volcan.txt", VOLCANO.encode(), caption="/add")
    [done] = await bot.server.wait_sent(1, after=mark, timeout=30)
    assert done["plain_text"].startswith(f"Ajouté : « {VOLCANO_TITLE} » (volcan), ")


# ------------------------------------------------------------------------------ a document without /add


async def test_an_admin_document_without_add_is_offered_with_a_button(bot: BotHarness) -> None:
    mark = bot.mark()
    await bot.server.send_document(bot.admin, "volcan.txt", VOLCANO.encode())
    [offer] = await bot.server.wait_sent(1, after=mark)
    assert offer["plain_text"] == OFFER
    [(label, data)] = buttons(offer)
    assert label == "Ajouter à la collection" and data.startswith("add:") and len(data) == 12
    assert seed_files(bot.space) == [f"{SEED_ID}.txt"]  # nothing added before the press
    # A reader pressing it (a forwarded message, a forged press) is refused.
    mark = bot.mark()
    await bot.server.press_button(bot.user(), offer, data)
    assert (await wait_callback_answer(bot.server, mark))["text"] == REFUSAL
    # The admin's press adds it exactly as /add would.
    mark = bot.mark()
    [done] = await bot.press(bot.admin, offer, data, timeout=30)
    [taken] = await bot.server.wait_edits(1, after=mark)
    assert taken["plain_text"] == "Ajout de « volcan.txt »…" and buttons(taken) == []
    assert done["plain_text"].startswith(f"Ajouté : « {VOLCANO_TITLE} » (volcan), ")
    assert (bot.space.seeds / "volcan.txt").read_bytes() == VOLCANO.encode()
    # Pressed again (a second client still showing it): taken already.
    mark = bot.mark()
    await bot.server.press_button(bot.admin, offer, data, forged=True)
    assert (await wait_callback_answer(bot.server, mark))["text"] == (
        "Ce bouton a expiré : renvoyez le document avec la légende /add."
    )
    mark = bot.mark()
    await bot.server.press_button(bot.admin, offer, "add:AAAAAAAA", forged=True)
    assert (await wait_callback_answer(bot.server, mark))["text"] == (
        "Ce bouton a expiré : renvoyez le document avec la légende /add."
    )


async def test_the_add_button_works_after_a_restart(
    botapi: BotApiServer, workspace: Workspace, embedder: Embedder
) -> None:
    async with run_bot(botapi, workspace, embedder) as first:
        mark = first.mark()
        await botapi.send_document(first.admin, "volcan.txt", VOLCANO.encode())
        [offer] = await botapi.wait_sent(1, after=mark)
    async with run_bot(botapi, workspace, embedder) as second:  # or another replica
        [done] = await second.press(second.admin, offer, buttons(offer)[0][1], timeout=30)
    assert done["plain_text"].startswith(f"Ajouté : « {VOLCANO_TITLE} » (volcan), ")
    assert botapi.rejected == []


async def test_documents_that_cannot_be_added_are_said_so_without_a_button(
    botapi: BotApiServer, workspace: Workspace, embedder: Embedder
) -> None:
    async with run_bot(botapi, workspace, embedder, max_upload_bytes=1000) as bot:
        mark = bot.mark()
        await botapi.send_document(bot.admin, "programme.exe", b"MZ\x90\x00")
        await botapi.send_document(bot.admin, "long.txt", b"mot " * 2000)
        unsupported, too_large = await botapi.wait_sent(2, after=mark)
    assert unsupported["plain_text"] == (
        "Type de fichier non pris en charge : utilisez .txt, .md, .html, .json, .pdf ou .docx."
    )
    assert too_large["plain_text"] == "Fichier trop gros (8 KB) : la limite est 1000 bytes."
    assert buttons(unsupported) == buttons(too_large) == []
    assert not any(m == "getFile" for m, _ in botapi.requests)


async def test_readers_documents_and_group_documents_stay_unanswered(bot: BotHarness) -> None:
    await nothing_said(bot, bot.server.send_document(bot.user(), "v.txt", VOLCANO.encode()))
    group = bot.server.group_chat(-200, "Rédaction")
    await nothing_said(
        bot, bot.server.send_document(bot.admin, "v.txt", VOLCANO.encode(), chat=group)
    )
    assert seed_files(bot.space) == [f"{SEED_ID}.txt"]


# ------------------------------------------------------------------------------ sent again


async def test_an_article_sent_again_is_unchanged(bot: BotHarness) -> None:
    await add_volcano(bot)
    unchanged = f"Déjà dans la collection, inchangé : « {VOLCANO_TITLE} » (volcan)."
    for name in ("volcan.txt", "volcan-copie.md"):  # the same bytes, the same text elsewhere
        mark = bot.mark()
        await bot.server.send_document(bot.admin, name, VOLCANO.encode(), caption="/add")
        [again] = await bot.server.wait_sent(1, after=mark, timeout=30)
        assert again["plain_text"] == unchanged
    assert seed_files(bot.space) == [f"{SEED_ID}.txt", "volcan.txt"]
    # Corrected since, the same file is still the same article.
    await bot.say(bot.admin, "/edit volcan title Le Piton", timeout=30)
    mark = bot.mark()
    await bot.server.send_document(bot.admin, "volcan.txt", VOLCANO.encode(), caption="/add")
    [again] = await bot.server.wait_sent(1, after=mark, timeout=30)
    assert again["plain_text"] == "Déjà dans la collection, inchangé : « Le Piton » (volcan)."


# ------------------------------------------------------------------------------ /remove a b


async def test_one_confirmation_removes_several_articles_and_names_the_unknown(
    bot: BotHarness,
) -> None:
    await add_volcano(bot)
    [confirm] = await bot.say(bot.admin, f"/remove {SEED_ID} nope volcan {SEED_ID} <b>x</b>")
    assert confirm["plain_text"] == (
        "Retirer ces 2 articles ? Leurs fichiers iront dans la corbeille.\n"
        f"• « {SEED_TITLE} » ({SEED_ID})\n"
        f"• « {VOLCANO_TITLE} » (volcan)\n"
        "Aucun article n'a ces ID : nope, <b>x</b> ; voyez /sources."
    )
    mark = bot.mark()
    await bot.server.press_button(bot.admin, confirm, dict(buttons(confirm))["Oui, retirer"])
    [done] = await bot.server.wait_edits(1, after=mark, timeout=30)
    assert done["plain_text"] == (
        "Retirés (2) :\n"
        f"• « {SEED_TITLE} » ({SEED_ID})\n"
        f"• « {VOLCANO_TITLE} » (volcan)\n"
        "Fichiers déplacés vers trash/."
    )
    assert seed_files(bot.space) == []
    assert len(list((bot.space.data / "trash").iterdir())) == 2


async def test_remove_refusals_name_their_reason(bot: BotHarness) -> None:
    [unknown] = await bot.say(bot.admin, "/remove a b")
    assert unknown["plain_text"] == "Aucun article n'a ces ID : a, b ; voyez /sources."
    [long] = await bot.say(bot.admin, "/remove " + "x" * 5000)
    assert long["plain_text"] == f"Aucun article n'a l'ID {'x' * 64} ; voyez /sources."
    [many] = await bot.say(bot.admin, "/remove " + " ".join(f"a{n}" for n in range(21)))
    assert many["plain_text"] == "Au plus 20 articles par /remove."
    [usage] = await bot.say(bot.admin, "/remove")
    assert usage["plain_text"] == "Usage : /remove ID [ID…] (les ID sont dans /sources)."
    [one] = await bot.say(bot.admin, f"/remove {SEED_ID} {SEED_ID}")  # one article, as before
    assert one["plain_text"] == (
        f"Retirer « {SEED_TITLE} » ({SEED_ID}) ? Le fichier ira dans la corbeille."
    )
    assert seed_files(bot.space) == [f"{SEED_ID}.txt"]


async def test_an_article_removed_meanwhile_is_named(bot: BotHarness) -> None:
    await add_volcano(bot)
    [both] = await bot.say(bot.admin, f"/remove {SEED_ID} volcan")
    [one] = await bot.say(bot.admin, "/remove volcan")
    mark = bot.mark()
    await bot.server.press_button(bot.admin, one, dict(buttons(one))["Oui, retirer"])
    await bot.server.wait_edits(1, after=mark, timeout=30)
    mark = bot.mark()
    await bot.server.press_button(bot.admin, both, dict(buttons(both))["Oui, retirer"])
    [done] = await bot.server.wait_edits(1, after=mark, timeout=30)
    assert done["plain_text"] == (
        f"Retirés (1) :\n• « {SEED_TITLE} » ({SEED_ID})\n"
        "Fichiers déplacés vers trash/.\nDéjà retirés entre-temps : volcan."
    )


# ------------------------------------------------------------------------------ unknown commands


async def test_an_unknown_command_points_to_help(bot: BotHarness) -> None:
    for command in ("/foo", "/ajouter un article", f"/foo@{bot.server.bot_user.username}"):
        [reply] = await bot.say(bot.user(), command)
        name = command.split()[0].split("@")[0]
        assert reply["plain_text"] == (
            f"Je ne connais pas la commande {name} : /help dit ce que je sais faire."
        )
    [english] = await bot.say(bot.user(language_code="en"), "/Foo")
    assert english["plain_text"] == "I do not know the command /Foo: /help says what I can do."
    group = bot.server.group_chat(-300, "Lecteurs")
    [addressed] = await bot.say(bot.user(), f"/foo@{bot.server.bot_user.username}", chat=group)
    assert addressed["plain_text"].startswith("Je ne connais pas la commande /foo :")
    # Not ours: a bare command in a group, and any command addressed to another bot.
    await nothing_said(bot, bot.server.send_text(bot.user(), "/foo", chat=group))
    await nothing_said(bot, bot.server.send_text(bot.user(), "/foo@other_bot", chat=group))
    await nothing_said(bot, bot.server.send_text(bot.user(), "/help@other_bot", chat=group))
    await nothing_said(bot, bot.server.send_text(bot.user(), "/foo@other_bot"))


# ------------------------------------------------------------------------------ /edit


EDIT_USAGE = (
    "Usage : /edit ID CHAMP VALEUR, où CHAMP est title (titre), date ou outlet (média) ; par "
    "exemple /edit volcan date 5 mars 2024 (les ID sont dans /sources)."
)


@pytest.mark.parametrize(
    ("command", "reply"),
    [
        (
            "/edit",
            EDIT_USAGE,
        ),
        (
            "/edit x",
            EDIT_USAGE,
        ),
        (
            f"/edit {SEED_ID} color red",
            "Champ inconnu « color » : title (titre), date ou outlet (média).",
        ),
        ("/edit nope title Un titre", "Aucun article n'a l'ID nope ; voyez /sources."),
        (f"/edit {SEED_ID} title", "Valeur vide : écrivez la nouvelle valeur après le champ."),
        (f"/edit {SEED_ID} title " + "x" * 3000, "Valeur trop longue : 200 caractères au plus."),
        (
            f"/edit {SEED_ID} title <b>Tirs</b> à Almaty",
            "Pas de balises HTML dans une valeur : écrivez le texte seul.",
        ),
        (
            f"/edit {SEED_ID} outlet <a href='javascript:x'>Le Monde</a>",
            "Pas de balises HTML dans une valeur : écrivez le texte seul.",
        ),
        (
            f"/edit {SEED_ID} title Tirs\x00 à Almaty",
            "La valeur contient des caractères de contrôle.",
        ),
        (
            f"/edit {SEED_ID} date <b>bientôt</b>",
            "Pas de balises HTML dans une valeur : écrivez le texte seul.",
        ),
        (
            f"/edit {SEED_ID} date n'importe quand",
            "« n'importe quand » n'est pas une date que je sais lire (par exemple 2024-03-05 ou "
            "5 mars 2024).",
        ),
        (
            f"/edit {SEED_ID} date 2999-01-01",
            "La date 2999-01-01 est dans le futur : une date de publication ne peut pas l'être.",
        ),
    ],
)
async def test_edit_refusals_name_their_reason(bot: BotHarness, command: str, reply: str) -> None:
    [answer] = await bot.say(bot.admin, command)
    assert answer["plain_text"] == reply
    assert seed_files(bot.space) == [f"{SEED_ID}.txt"]  # nothing written


async def test_edit_corrects_title_date_and_outlet_and_survives_a_reindex_and_a_restart(
    botapi: BotApiServer, workspace: Workspace, embedder: Embedder
) -> None:
    botapi.strict_entities = True
    async with run_bot(botapi, workspace, embedder) as bot:
        store = bot.service.store
        vectors = len(list(store.export_cache()))
        [dated] = await bot.say(bot.admin, f"/edit {SEED_ID} date 5 mars 2024", timeout=30)
        assert dated["plain_text"] == (
            f"Corrigé : « {SEED_TITLE} » ({SEED_ID}), date : — → 5 mars 2024."
        )
        [outlet] = await bot.say(bot.admin, f"/edit {SEED_ID} média  Le   Monde ", timeout=30)
        assert outlet["plain_text"] == (
            f"Corrigé : « {SEED_TITLE} » ({SEED_ID}), média : — → Le Monde."
        )
        assert len(list(store.export_cache())) == vectors  # the text is the same: no embedding
        [titled] = await bot.say(bot.admin, f"/edit {SEED_ID} title Tirs à Almaty", timeout=30)
        assert titled["plain_text"] == (
            f"Corrigé : « Tirs à Almaty » ({SEED_ID}), titre : {SEED_TITLE} → Tirs à Almaty."
        )
        [answer] = await bot.say(bot.user(), QUESTION)
        assert answer["plain_text"].startswith("1. Tirs à Almaty · Le Monde · 5 mars 2024\n")
        await bot.say(bot.admin, "/reindex")
        edits = await botapi.wait_for(
            lambda: [e for e in botapi.edits if "terminée" in (e["plain_text"] or "")],
            timeout=30,
            what="summary",
        )
        assert "0 ajouté, 0 modifié, 0 retiré, 1 inchangé" in edits[0]["plain_text"]
    assert seed_files(workspace) == [f"{SEED_ID}.txt", "corrections"]
    assert json.loads((workspace.seeds / "corrections" / f"{SEED_ID}.txt.json").read_text()) == {
        "date": "2024-03-05",
        "outlet": "Le Monde",
        "title": "Tirs à Almaty",
    }
    assert (workspace.seeds / f"{SEED_ID}.txt").read_bytes() == SEED.read_bytes()
    async with run_bot(botapi, workspace, embedder) as restarted:
        [sources] = await restarted.say(restarted.user(), "/sources")
        assert f"{SEED_ID} — Tirs à Almaty" in sources["plain_text"]
    assert botapi.rejected == []


async def test_edit_of_a_json_article_rewrites_its_field(bot: BotHarness) -> None:
    record = {"title": "Le Piton", "text": VOLCANO.split("\n\n", 1)[1], "outlet": "AFP"}
    mark = bot.mark()
    await bot.server.send_document(
        bot.admin, "piton.json", json.dumps(record).encode(), caption="/add"
    )
    await bot.server.wait_sent(1, after=mark, timeout=30)
    [done] = await bot.say(bot.admin, "/edit piton outlet Le Quotidien", timeout=30)
    assert done["plain_text"] == "Corrigé : « Le Piton » (piton), média : AFP → Le Quotidien."
    saved = json.loads((bot.space.seeds / "piton.json").read_text(encoding="utf-8"))
    assert saved == {**record, "outlet": "Le Quotidien"}
    assert seed_files(bot.space) == [f"{SEED_ID}.txt", "piton.json"]


async def test_edit_is_refused_to_readers(bot: BotHarness) -> None:
    [reply] = await bot.say(bot.user(), f"/edit {SEED_ID} title Pirate")
    assert reply["plain_text"] == REFUSAL
    assert seed_files(bot.space) == [f"{SEED_ID}.txt"]
