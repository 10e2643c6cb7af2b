"""End to end: readers ask the real bot (real index, real model) through the local Bot API."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from telegram import (
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeChat,
    BotCommandScopeDefault,
)

from bot.app import set_commands
from index.chat.session import ChatSession
from index.ingest.loader import safe_filename
from index.retrieval.embed import Embedder
from index.service import IndexService
from index.settings import IndexSettings
from index.stores.readers import ReaderStore
from tests.support.bot_fixtures import (
    ADMIN_ID,
    BotHarness,
    Workspace,
    bold_texts,
    buttons,
    link_urls,
    run_bot,
    wait_callback_answer,
)
from tests.support.botapi import BotApiServer

TITLE = "« Tirez sur les manifestants »"
ORDER = "tirer pour tuer et sans sommation"
PLANES = "75 avions russes volent 24 heures sur 24"
NO_ANSWER_FR = "Les articles ne répondent pas à cette question. /sources montre ce qu'ils couvrent."
NO_ANSWER_EN = "The articles do not answer this question. /sources shows what they cover."
NO_ANSWER_ES = "Los artículos no responden a esta pregunta. /sources muestra lo que cubren."
NO_ANSWER_DE = "Die Artikel beantworten diese Frage nicht. /sources zeigt, was sie abdecken."
NO_ANSWER_IT = "Gli articoli non rispondono a questa domanda. /sources mostra di cosa trattano."
QUESTION_FR = "Qui a ordonné de tirer sur les manifestants ?"
QUESTION_EN = "How many Russian planes fly to Kazakhstan?"


def first_highlight(record: dict) -> str:
    """The bold sentence of the first quote ([0] is the number "1.")."""
    return bold_texts(record)[1]


# ------------------------------------------------------------------------------ private chats


async def test_private_question_in_french(bot: BotHarness) -> None:
    user = bot.user(language_code="fr")
    mark = bot.mark()
    question = await bot.server.send_text(user, QUESTION_FR)
    [reply] = await bot.server.wait_sent(1, after=mark, timeout=20)
    assert reply["reply_to_message_id"] == question.message_id
    assert reply["parse_mode"] == "HTML"
    assert reply["link_preview_options"]["is_disabled"] is True
    assert reply["plain_text"].startswith(f"1. {TITLE}\n")
    assert ORDER in first_highlight(reply)
    assert any(e["type"] == "blockquote" for e in reply["parsed_entities"])
    actions = [a for a in bot.server.chat_actions[mark.chat_actions :] if a["chat_id"] == user.id]
    assert actions and actions[0]["action"] == "typing"
    labels = [label for label, _ in buttons(reply)]
    assert labels == ["Contexte 1", "Contexte 2", "Contexte 3", "Plus", "👍", "👎"]
    assert all(len(data.encode()) <= 64 for _, data in buttons(reply))


async def test_a_quick_answer_shows_no_typing_before_the_delay(
    botapi: BotApiServer, workspace: Workspace, embedder: Embedder
) -> None:
    async with run_bot(botapi, workspace, embedder, typing_delay=5.0) as bot:
        mark = bot.mark()
        [reply] = await bot.say(bot.user(), QUESTION_FR)
        assert ORDER in first_highlight(reply)
        assert bot.server.chat_actions[mark.chat_actions :] == []


async def test_private_question_in_english_gets_english_interface(bot: BotHarness) -> None:
    [reply] = await bot.say(bot.user(language_code="en-GB"), QUESTION_EN)
    assert PLANES in first_highlight(reply)
    assert reply["plain_text"].startswith(f"1. {TITLE}\n")
    assert buttons(reply)[0][0] == "Context 1"


async def test_unanswerable_question_points_to_sources(bot: BotHarness) -> None:
    [reply] = await bot.say(bot.user(language_code="en"), "What is the recipe of a chocolate cake?")
    assert reply["plain_text"] == NO_ANSWER_EN
    assert buttons(reply) == []


# The shipped article answers these, though with other words ("protestations", "tués"): the
# bot must quote the passage, as an answer or as the closest passages, never decline.
PROTESTS = "Les protestations qui ont commencé en réponse à l’augmentation des prix du GPL"
DEATHS = "voyous"  # "26 « voyous » tués", with no-break spaces
CLOSEST_FR = (
    "Je ne trouve pas de réponse sûre. Voici les passages les plus proches ; "
    "ils n'y répondent peut-être pas."
)
CLOSEST_EN = "I found no sure answer. Here are the closest passages; they may not answer it."


@pytest.mark.parametrize(
    ("question", "quoted"),
    [
        ("Pourquoi les manifestations ont-elles commencé ?", PROTESTS),
        ("Why did the protests start?", PROTESTS),
        ("¿Por qué empezaron las protestas?", PROTESTS),
        ("Warum begannen die Proteste?", PROTESTS),
        ("Combien de morts ?", DEATHS),
        ("How many people died?", DEATHS),
    ],
)
async def test_answerable_paraphrases_get_their_passage(
    bot: BotHarness, question: str, quoted: str
) -> None:
    [reply] = await bot.say(bot.user(language_code="fr"), question)
    assert reply["plain_text"] != NO_ANSWER_FR
    assert quoted in reply["plain_text"]


async def test_weak_evidence_shows_the_closest_passages_under_a_warning(bot: BotHarness) -> None:
    # The evidence of these is weak (other words than the article's): quoted, but as closest.
    [reply] = await bot.say(
        bot.user(language_code="fr"), "Pourquoi les manifestations ont-elles commencé ?"
    )
    assert reply["plain_text"].startswith(CLOSEST_FR + "\n\n1. ")
    assert reply["parsed_entities"][0]["type"] == "italic"
    labels = [label for label, _ in buttons(reply)]
    assert labels[:2] == ["Contexte 1", "Contexte 2"] and "Contexte 3" not in labels  # fewer
    # A French question from a reader whose Telegram is in English: the warning in French.
    [french] = await bot.say(bot.user(language_code="en"), "Quelle est la capitale de la France ?")
    assert french["plain_text"].startswith(CLOSEST_FR + "\n\n1. ")
    [english] = await bot.say(bot.user(language_code="fr"), "What is the capital of France?")
    assert english["plain_text"].startswith(CLOSEST_EN + "\n\n1. ")


async def test_off_topic_questions_are_declined_in_every_language(bot: BotHarness) -> None:
    for question, declined in (
        ("Comment faire une pâte à crêpes ?", NO_ANSWER_FR),
        ("Who won the football world cup in 2018?", NO_ANSWER_EN),
        ("¿Cómo se hace una mayonesa casera?", NO_ANSWER_ES),
        ("Wie backt man einen Schokoladenkuchen?", NO_ANSWER_DE),
        ("Come si prepara il tiramisù fatto in casa?", NO_ANSWER_IT),
    ):
        [reply] = await bot.say(bot.user(language_code="fr"), question)
        assert reply["plain_text"] == declined


async def test_a_language_outside_the_catalog_falls_back_to_the_default(bot: BotHarness) -> None:
    """Portuguese, from a Portuguese reader: neither is one of fr, en, es, de, it."""
    [reply] = await bot.say(bot.user(language_code="pt-BR"), "Como se faz um bolo de chocolate?")
    assert reply["plain_text"] == NO_ANSWER_FR


# ------------------------------------------------------------------------------ groups


async def test_group_etiquette(bot: BotHarness) -> None:
    server = bot.server
    user = bot.user()
    group = server.group_chat(-100, "Lecteurs")
    mark = bot.mark()
    ignored = await server.send_text(user, QUESTION_FR, chat=group)
    # A mention: answered, the mention removed from the question.
    [by_mention] = await bot.say(user, f"@{server.bot_user.username} {QUESTION_FR}", chat=group)
    assert ORDER in first_highlight(by_mention)
    # A reply to one of the bot's messages.
    reply_to_bot = {"chat_id": group.id, "message_id": by_mention["message_id"]}
    [by_reply] = await bot.say(user, QUESTION_EN, chat=group, reply_to=reply_to_bot)
    assert PLANES in first_highlight(by_reply)
    # /ask, with and without the bot's name.
    [by_ask] = await bot.say(user, f"/ask {QUESTION_EN}", chat=group)
    assert PLANES in first_highlight(by_ask)
    [by_ask_named] = await bot.say(
        user, f"/ask@{server.bot_user.username} {QUESTION_FR}", chat=group
    )
    assert ORDER in first_highlight(by_ask_named)
    [usage] = await bot.say(user, "/ask", chat=group)
    assert usage["plain_text"].startswith("Posez-moi une question sur les articles")
    # The plain message was never answered, and no "typing" was shown for it.
    replies_to = {r["reply_to_message_id"] for r in server.sent[mark.sent :]}
    assert ignored.message_id not in replies_to
    assert len(server.sent) - mark.sent == 5


async def test_group_message_that_only_mentions_someone_else_is_ignored(bot: BotHarness) -> None:
    user = bot.user()
    group = bot.server.group_chat(-101, "Autres")
    mark = bot.mark()
    other = await bot.server.send_text(user, f"@someone_else {QUESTION_FR}", chat=group)
    [answer] = await bot.say(user, f"/ask {QUESTION_FR}", chat=group)
    assert answer["reply_to_message_id"] != other.message_id
    assert len(bot.server.sent) - mark.sent == 1


# ------------------------------------------------------------------------------ buttons


async def test_more_then_context(bot: BotHarness) -> None:
    user = bot.user()
    [first] = await bot.say(user, QUESTION_FR)
    more = dict(buttons(first))["Plus"]
    [second] = await bot.press(user, first, more)
    assert bot.server.callback_answers[-1].get("text") is None  # answered at once, silently
    assert second["plain_text"].startswith("4. ")
    assert second["reply_to_message_id"] == first["message_id"]
    assert next(label for label, _ in buttons(second)) == "Contexte 4"
    # The first message keeps its Context buttons but its More is spent.
    [edit] = await bot.server.wait_edits(1)
    assert [label for label, _ in buttons(edit)] == [
        "Contexte 1",
        "Contexte 2",
        "Contexte 3",
        "👍",
        "👎",
    ]
    # Context of the first quote: the paragraph around it, highlight still bold.
    context_data = dict(buttons(first))["Contexte 1"]
    [paragraph] = await bot.press(user, first, context_data)
    assert ORDER in bold_texts(paragraph)[0]
    assert paragraph["plain_text"].startswith(TITLE)
    assert "AGI – Le président kazakh" in paragraph["plain_text"]


async def test_expired_answer_buttons(bot: BotHarness, readers: ReaderStore) -> None:
    user = bot.user()
    [answer] = await bot.say(user, QUESTION_FR)
    # A readers' store that never kept it: as if newer answers had pushed it out.
    bot.app.bot_data.session = ChatSession(bot.service, readers)
    for label in ("Plus", "Contexte 2"):
        mark = bot.mark()
        await bot.server.press_button(user, answer, dict(buttons(answer))[label])
        reply = await wait_callback_answer(bot.server, mark)
        assert reply["text"] == "Cette réponse a expiré, posez à nouveau la question."
        assert reply["show_alert"] is True
    assert len(bot.server.sent) == 1


# ------------------------------------------------------------------------------ inline mode


async def test_inline_query_offers_quotes(bot: BotHarness) -> None:
    user = bot.user(language_code="en")
    await bot.server.inline_query(user, "<b>x</b> How many Russian planes fly to Kazakhstan?")
    [answer] = await bot.server.wait_for(lambda: bot.server.inline_answers, what="inline answer")
    results = answer["results"]
    assert 1 <= len(results) <= 50
    assert int(answer["cache_time"]) <= 60
    first = results[0]
    assert first["type"] == "article"
    assert first["title"] == TITLE
    assert PLANES in first["description"]
    content = first["input_message_content"]
    assert content["parse_mode"] == "HTML"
    assert "&lt;b&gt;x&lt;/b&gt;" in content["message_text"]  # the question, escaped
    assert f"<b>{PLANES}" in content["message_text"]


async def test_inline_query_marks_the_closest_passages(bot: BotHarness) -> None:
    user = bot.user(language_code="fr")
    await bot.server.inline_query(user, "Pourquoi les manifestations ont-elles commencé ?")
    [answer] = await bot.server.wait_for(lambda: bot.server.inline_answers, what="inline answer")
    titles = [r["title"] for r in answer["results"]]
    assert titles == [f"≈ Passage le plus proche · {TITLE}"] * 2


async def test_inline_query_empty_or_unanswerable(bot: BotHarness) -> None:
    user = bot.user(language_code="en")
    await bot.server.inline_query(user, "   ")
    await bot.server.inline_query(user, "chocolate cake recipe")
    await bot.server.wait_for(lambda: len(bot.server.inline_answers) == 2, what="answers")
    answers = bot.server.inline_answers
    for answer in answers:
        assert answer["results"] == []
    hints = sorted(a["button"]["text"] for a in answers)
    assert hints == ["The articles do not answer this question", "Type a question"]


# ------------------------------------------------------------------------------ commands


async def test_start_and_help(bot: BotHarness) -> None:
    [start] = await bot.say(bot.user(language_code="en"), "/start")
    assert start["plain_text"].startswith("I answer questions about 1 article by quoting")
    assert "@article_qa_bot" in start["plain_text"]
    assert "Admin commands" not in start["plain_text"]
    [help_fr] = await bot.say(bot.admin, "/help")
    assert help_fr["plain_text"].startswith("Je réponds aux questions sur 1 article en citant")
    assert "Commandes d'administration : /reindex" in help_fr["plain_text"]


async def test_sources_lists_articles_with_ids(bot: BotHarness) -> None:
    [sources] = await bot.say(bot.user(), "/sources")
    assert sources["plain_text"] == f"Articles (1) — page 1/1\n000_7774940a137d78f0 — {TITLE}"
    assert buttons(sources) == []


async def test_commands_registered_for_readers_and_admins(bot: BotHarness) -> None:
    await set_commands(bot.app)  # post_init runs only inside run_polling/run_webhook
    server = bot.server
    default = BotCommandScopeDefault().to_dict()
    assert [c["command"] for c in server.get_commands(default)] == ["ask", "sources", "help", "id"]
    assert (
        server.get_commands(default, "en")[0]["description"] == "Ask a question about the articles"
    )
    assert server.get_commands(default, "fr")[0]["description"].startswith("Poser une question")
    # A group's administrators also get /scope in the group's menu (issue 23, item 9).
    group_admins = BotCommandScopeAllChatAdministrators().to_dict()
    for lang in ("", "fr", "en"):
        names = [c["command"] for c in server.get_commands(group_admins, lang)]
        assert names == ["ask", "sources", "help", "id", "scope"]
    assert server.get_commands(group_admins, "en")[-1]["description"] == (
        "The group's scope (group administrators)"
    )
    admin_scope = BotCommandScopeChat(ADMIN_ID).to_dict()
    for lang in ("", "fr", "en"):
        names = [c["command"] for c in server.get_commands(admin_scope, lang)]
        assert names == [
            "ask",
            "sources",
            "help",
            "id",
            "reindex",
            "add",
            "remove",
            "edit",
            "feeds",
            "gaps",
            "stats",
        ]


# ------------------------------------------------------------------------------ hostile input


async def test_hostile_questions_get_valid_replies(bot: BotHarness) -> None:
    user = bot.user()
    [blank] = await bot.say(user, "   \n  ")
    assert blank["plain_text"].startswith("Posez-moi une question")
    [emoji] = await bot.say(user, "😀🔥🇫🇷 ?!")
    assert emoji["plain_text"] == blank["plain_text"]
    for text in (
        "<b>x</b>",
        "*x* _y_ `z` [a](http://b)",
        "&amp; &lt; </b>",
        "\u202eكازاخستان توكاييف\u202c",
    ):
        [reply] = await bot.say(user, text)
        assert reply["plain_text"]
    # ~10,000 characters: cut to MAX_QUESTION_CHARS before embedding, answered promptly.
    [long] = await bot.say(user, (QUESTION_FR + " ") * 220, timeout=10)
    assert long["plain_text"]


async def test_many_quotes_are_trimmed_into_the_limit(bot: BotHarness) -> None:
    bot.service.settings = bot.settings.model_copy(update={"search_k": 20})
    [reply] = await bot.say(bot.user(), "Kazakhstan Russie Tokaïev manifestants OTSC")
    assert len(reply["plain_text"].encode("utf-16-le")) // 2 <= 4096
    assert reply["plain_text"].count(TITLE) >= 5


# ------------------------------------------------------------------------------ failures


# PTB 22 warns when it reads RetryAfter.retry_after as seconds (its AIORateLimiter does).
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_429_on_send_message_is_retried(bot: BotHarness) -> None:
    bot.server.fail_next("sendMessage", 429, retry_after=1)
    mark = bot.mark()
    await bot.server.send_text(bot.user(), QUESTION_FR)
    [reply] = await bot.server.wait_sent(1, after=mark, timeout=20)
    assert ORDER in first_highlight(reply)
    calls = [m for m, _ in bot.server.requests[mark.requests :] if m == "sendMessage"]
    assert len(calls) == 2  # the 429, then the retry
    assert [r["error_code"] for r in bot.server.rejected] == [429]
    bot.server.rejected.clear()  # the injected one is expected


async def test_unexpected_error_is_one_polite_sentence(bot: BotHarness) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom: a secret traceback")

    bot.service.ask = broken  # type: ignore[method-assign,assignment]
    [reply] = await bot.say(bot.user(language_code="en"), QUESTION_EN)
    assert reply["plain_text"] == "Sorry, something went wrong. Please try again later."


async def test_missing_index_is_one_sentence(
    botapi: BotApiServer, tmp_path: Path, embedder: Embedder
) -> None:
    space = Workspace(tmp_path / "seeds", tmp_path / "empty-data")
    space.seeds.mkdir()
    async with run_bot(botapi, space, embedder) as harness:
        [reply] = await harness.say(harness.user(language_code="en"), QUESTION_EN)
    assert reply["plain_text"] == "No index has been built yet; an admin must run /reindex."
    assert botapi.rejected == []


async def test_model_mismatch_is_one_sentence(botapi: BotApiServer, workspace: Workspace) -> None:
    async with run_bot(botapi, workspace, None, embedding_model="hashing-256") as harness:
        [reply] = await harness.say(harness.user(), QUESTION_FR)
    assert reply["plain_text"] == (
        "L'index a été construit avec un autre modèle ; un administrateur doit lancer /reindex."
    )


async def test_rate_limit_per_user(
    botapi: BotApiServer, workspace: Workspace, embedder: Embedder
) -> None:
    async with run_bot(botapi, workspace, embedder, rate_limit_per_minute=2) as harness:
        user = harness.user()
        for _ in range(2):
            [answer] = await harness.say(user, QUESTION_FR)
            assert ORDER in first_highlight(answer)
        [limited] = await harness.say(user, QUESTION_FR)
        assert (
            limited["plain_text"]
            == "Vous posez beaucoup de questions : je reprends dans une minute."
        )
        mark = harness.mark()
        silent = await botapi.send_text(user, QUESTION_FR)  # told once, then quiet
        [other] = await harness.say(harness.user(3003), QUESTION_FR)  # others unaffected
        assert ORDER in first_highlight(other)
        for _ in range(3):  # admins are exempt
            [admin_answer] = await harness.say(harness.admin, QUESTION_FR)
            assert ORDER in first_highlight(admin_answer)
        assert silent.message_id not in {r["reply_to_message_id"] for r in botapi.sent[mark.sent :]}
    assert botapi.rejected == []


async def test_restart_keeps_the_index(
    botapi: BotApiServer, workspace: Workspace, embedder: Embedder
) -> None:
    generations = []
    for _ in range(2):
        async with run_bot(botapi, workspace, embedder) as harness:
            assert harness.service.ensure_built() is None  # nothing to build
            [reply] = await harness.say(harness.user(), QUESTION_FR)
            assert ORDER in first_highlight(reply)
            generations.append(harness.service.store.counts().generation)
            harness.service.close()
    assert generations[0] == generations[1]  # nothing was written
    assert botapi.rejected == []


def fourteen_articles(tmp_path: Path) -> Workspace:
    """Fourteen articles on a throwaway index (fake embedder): two pages of /sources."""
    space = Workspace(tmp_path / "seeds", tmp_path / "data")
    space.seeds.mkdir()
    for n in range(14):
        title = f"Article <{n:02d}> & co"
        name = safe_filename(f"art-{n:02d}.md")
        (space.seeds / name).write_text(
            f"---\ntitle: {title}\nurl: https://example.org/{n}?a=1&b=2\n---\n\n"
            f"Le texte numéro {n} parle du sujet {n}.\n",
            encoding="utf-8",
        )
    IndexService(
        IndexSettings(seeds_dir=space.seeds, data_dir=space.data, embedding_model="hashing-256")
    ).rebuild()
    return space


async def test_sources_pages(botapi: BotApiServer, tmp_path: Path) -> None:
    """Two pages, Prev and Next."""
    space = fourteen_articles(tmp_path)
    botapi.strict_entities = True
    async with run_bot(botapi, space, None, embedding_model="hashing-256") as harness:
        user = harness.user(language_code="en")
        [first] = await harness.say(user, "/sources")
        lines = first["plain_text"].splitlines()
        assert lines[0] == "Articles (14) — page 1/2"
        assert lines[1] == "art-00 — Article <00> & co"
        assert len(lines) == 11
        assert link_urls(first)[0] == "https://example.org/0?a=1&b=2"
        assert [label for label, _ in buttons(first)] == ["Next ▶"]
        mark = harness.mark()
        await botapi.press_button(user, first, dict(buttons(first))["Next ▶"])
        [page2] = await botapi.wait_edits(1, after=mark)
        assert page2["plain_text"].splitlines()[0] == "Articles (14) — page 2/2"
        assert page2["plain_text"].splitlines()[-1] == "art-13 — Article <13> & co"
        assert [label for label, _ in buttons(page2)] == ["◀ Prev"]
    assert botapi.rejected == []


# ------------------------------------------------------------------------------ overview

FR_OVERVIEW = "Les articles de la collection (1), du plus récent au plus ancien"


@pytest.mark.parametrize(
    ("asked", "code", "heading"),
    [
        ("De quoi parle l'article ?", "fr", FR_OVERVIEW),
        ("What do you know about?", "en", "The collection's articles (1), newest first"),
        ("Résume les articles", "fr", FR_OVERVIEW),
    ],
)
async def test_questions_about_the_collection_list_its_articles(
    bot: BotHarness, asked: str, code: str, heading: str
) -> None:
    [reply] = await bot.say(bot.user(language_code=code), asked)
    lines = reply["plain_text"].split("\n")
    assert lines[0] == heading
    assert lines[2] == "• « Tirez sur les manifestants »"
    assert lines[3].startswith("AGI – Le président kazakh Kassym-Jomart Tokaïev frappe fort")
    assert buttons(reply) == []  # one page
    assert all(g.question != asked for g in bot.app.bot_data.readers.gaps("2000"))


async def test_the_article_list_is_newest_first_and_paged_with_more(
    botapi: BotApiServer, tmp_path: Path
) -> None:
    space = Workspace(tmp_path / "seeds", tmp_path / "data")
    space.seeds.mkdir()
    for n in range(7):
        (space.seeds / f"art-{n}.md").write_text(
            f"---\ntitle: Article {n}\ndate: 2026-11-0{n + 1}\noutlet: Le Journal\n---\n\n"
            f"Le texte numéro {n} parle longuement du sujet {n} et de ses suites.\n",
            encoding="utf-8",
        )
    (space.seeds / "undated.md").write_text(
        "---\ntitle: Sans date\n---\n\nUn article sans date de publication connue.\n",
        encoding="utf-8",
    )
    IndexService(
        IndexSettings(seeds_dir=space.seeds, data_dir=space.data, embedding_model="hashing-256")
    ).rebuild()
    botapi.strict_entities = True
    async with run_bot(botapi, space, None, embedding_model="hashing-256") as harness:
        user = harness.user(language_code="fr")
        [first] = await harness.say(user, "De quoi parlent les articles ?")
        text = first["plain_text"]
        assert text.startswith(
            "Les articles de la collection (8), du plus récent au plus ancien — page 1/2\n\n"
            "• Article 6 · Le Journal · 7 novembre 2026\n"
            "Le texte numéro 6 parle longuement du sujet 6 et de ses suites.\n\n"
            "• Article 5 · Le Journal · 6 novembre 2026"
        )
        assert text.count("• ") == 5
        mark = harness.mark()
        await botapi.press_button(user, first, dict(buttons(first))["Plus"])
        [second] = await botapi.wait_sent(1, after=mark)
        assert second["plain_text"].splitlines()[0].endswith("— page 2/2")
        assert second["plain_text"].count("• ") == 3
        assert second["plain_text"].rstrip().endswith("Un article sans date de publication connue.")
        assert buttons(second) == []
        # Asked in Spanish by a French reader: in Spanish, and so is the page a German reader
        # opens with its More (issue 23, item 5).
        [spanish] = await harness.say(user, "¿De qué tratan los artículos?")
        assert spanish["plain_text"].startswith(
            "Los artículos de la colección (8), del más reciente al más antiguo — página 1/2\n\n"
            "• Article 6 · Le Journal · 7 de noviembre de 2026\n"
        )
        other = harness.user(4100, language_code="de")
        mark = harness.mark()
        await botapi.press_button(other, spanish, dict(buttons(spanish))["Más"])
        [next_page] = await botapi.wait_sent(1, after=mark)
        assert next_page["plain_text"].startswith(
            "Los artículos de la colección (8), del más reciente al más antiguo — página 2/2"
        )
    assert botapi.rejected == []


async def test_a_question_that_is_only_a_time_frame_lists_the_periods_articles(
    botapi: BotApiServer, tmp_path: Path
) -> None:
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    today = datetime.now(ZoneInfo("Europe/Paris")).date()
    space = Workspace(tmp_path / "seeds", tmp_path / "data")
    space.seeds.mkdir()
    (space.seeds / "undated.md").write_text(
        "---\ntitle: Sans date\n---\n\nUn article sans date de publication connue.\n",
        encoding="utf-8",
    )
    for days, title in ((0, "Grève à Orly"), (1, "Incendie à Marseille"), (12, "Le bac")):
        day = (today - timedelta(days=days)).isoformat()
        (space.seeds / f"a{days}.md").write_text(
            f"---\ntitle: {title}\ndate: {day}\noutlet: Le Journal\n---\n\n"
            f"{title} : ce qui s'est passé ce jour-là, raconté en une phrase assez longue.\n",
            encoding="utf-8",
        )
    IndexService(
        IndexSettings(seeds_dir=space.seeds, data_dir=space.data, embedding_model="hashing-256")
    ).rebuild()
    botapi.strict_entities = True
    settings = {"embedding_model": "hashing-256", "timezone": "Europe/Paris"}
    async with run_bot(botapi, space, None, **settings) as harness:
        fr, es = harness.user(language_code="fr"), harness.user(language_code="en")
        [yesterday] = await harness.say(fr, "Que s'est-il passé hier ?")
        lines = yesterday["plain_text"].splitlines()
        assert lines[0].startswith("Articles publiés le ") and lines[0].endswith(
            "(1), du plus récent au plus ancien"
        )
        assert lines[2].startswith("• Incendie à Marseille · Le Journal · ")
        [latest] = await harness.say(es, "¿Cuáles son las últimas noticias?")
        titles = [line for line in latest["plain_text"].splitlines() if line.startswith("• ")]
        # Asked in Spanish by a reader whose Telegram is in English: listed in Spanish.
        assert latest["plain_text"].startswith(
            "Los últimos artículos publicados (3), del más reciente al más antiguo"
        )
        assert [t.split(" · ")[0] for t in titles] == [
            "• Grève à Orly",
            "• Incendie à Marseille",
            "• Le bac",
        ]
        [week] = await harness.say(fr, "Was gibt es Neues diese Woche?")
        assert "Sans date" not in week["plain_text"] and "Le bac" not in week["plain_text"]
        # A subject with a frame is a question, not a list.
        [strike] = await harness.say(fr, "Les grèves à Orly depuis hier ?")
        assert strike["plain_text"].startswith("Articles publiés depuis le ")
        assert "\n\n1. Grève à Orly · Le Journal · " in strike["plain_text"]  # a quote
    assert botapi.rejected == []


async def test_sources_pages_and_help_count_against_the_rate_limit(
    botapi: BotApiServer, tmp_path: Path
) -> None:
    """Issue 22, finding 5: 300 page presses held up another reader's question 39.6 s."""
    space = fourteen_articles(tmp_path)
    limited = "You are asking a lot of questions: I will answer again in a minute."
    async with run_bot(
        botapi, space, None, embedding_model="hashing-256", rate_limit_per_minute=3
    ) as harness:
        user = harness.user(language_code="en")
        [first] = await harness.say(user, "/sources")  # 1
        mark = harness.mark()
        await botapi.press_button(user, first, dict(buttons(first))["Next ▶"])  # 2
        [page2] = await botapi.wait_edits(1, after=mark)
        await harness.say(user, "/help")  # 3
        mark = harness.mark()
        await botapi.press_button(user, page2, dict(buttons(page2))["◀ Prev"])  # over
        alert = await wait_callback_answer(botapi, mark)
        assert (alert.get("text"), alert.get("show_alert")) == (limited, True)
        mark = harness.mark()
        await botapi.press_button(user, page2, dict(buttons(page2))["◀ Prev"])  # told once
        silent = await wait_callback_answer(botapi, mark)
        assert silent.get("text") is None
        await botapi.send_text(user, "/sources")
        await botapi.send_text(user, "/help")
        other = harness.user(4004, language_code="en")
        [help_other] = await harness.say(other, "/help")  # others unaffected
        assert help_other["plain_text"].startswith("I answer questions about 14 articles")
        for _ in range(4):  # admins are exempt
            await harness.say(harness.admin, "/help")
        assert [r for r in botapi.sent[mark.sent :] if r["chat_id"] == user.id] == []
        assert botapi.edits[mark.edits :] == []  # no page was read for the refused presses
        over = harness.user(5005, language_code="en")
        for _ in range(3):
            await harness.say(over, "/help")
        [told] = await harness.say(over, "/sources")
        assert told["plain_text"] == limited
    assert botapi.rejected == []


# ------------------------------------------------------------------------------ follow-ups


async def test_a_follow_up_leans_on_the_last_question(bot: BotHarness) -> None:
    user = bot.user(language_code="fr")
    await bot.say(user, "Pourquoi les manifestations ont-elles commencé ?")
    [after] = await bot.say(user, "Et à Almaty ?")
    text = after["plain_text"]
    assert text.startswith("Suite de : « Pourquoi les manifestations ont-elles commencé ? »\n\n")
    assert "Des coups de feu ont retenti à Almaty" in text
    # Another reader's chat has no last question: the same words are a question of their own.
    [alone] = await bot.say(bot.user(3100), "Comment faire une pâte à crêpes ?")
    assert not alone["plain_text"].startswith("Suite de")


async def test_a_new_subject_right_after_an_answer_stays_new(bot: BotHarness) -> None:
    user = bot.user(language_code="fr")
    await bot.say(user, QUESTION_FR)
    [declined] = await bot.say(user, "Comment faire une pâte à crêpes ?")
    assert declined["plain_text"] == NO_ANSWER_FR


async def test_a_short_question_with_its_own_subject_stands_alone(bot: BotHarness) -> None:
    user = bot.user(language_code="en")
    await bot.say(user, "What share of the world uranium does Kazakhstan produce?")
    [after] = await bot.say(user, "Who is Ablyazov?")
    [alone] = await bot.say(bot.user(3101, language_code="en"), "Who is Ablyazov?")
    assert not after["plain_text"].startswith("Following")
    assert first_quote_text(after) == first_quote_text(alone)
    assert "Ablyazov" in first_quote_text(after)


async def test_follow_ups_join_the_last_question_that_stood_alone(bot: BotHarness) -> None:
    user = bot.user(language_code="en")
    await bot.say(user, "What share of the world uranium does Kazakhstan produce?")
    [oil] = await bot.say(user, "What about the oil price?")
    [why] = await bot.say(user, "And why?")
    following = "Following: “What share of the world uranium does Kazakhstan produce?”\n\n"
    assert oil["plain_text"].startswith(following)
    assert why["plain_text"].startswith(following)  # never "…produce? What about the oil…"


async def test_a_joined_answer_is_led_by_what_the_question_alone_ranks_high(
    bot: BotHarness,
) -> None:
    user = bot.user(language_code="fr")
    await bot.say(user, "Qu'a ordonné Tokaïev aux militaires ?")
    [after] = await bot.say(user, "Et combien de morts ?")
    assert after["plain_text"].startswith("Suite de : « Qu'a ordonné Tokaïev aux militaires ? »")
    assert "3 700 arrêtés" in first_quote_text(after)  # the death toll, not the order to shoot


# ------------------------------------------------------------------------------ small talk


@pytest.mark.parametrize(
    ("said", "code", "expected"),
    [
        ("bonjour", "fr", "Bonjour ! Je réponds aux questions sur 1 article en citant"),
        ("Hi!", "fr", "Hello! I answer questions about 1 article by quoting"),
        ("¡Hola!", "en", "¡Hola! Respondo a preguntas sobre 1 artículo citando"),
        ("Hallo", "fr", "Hallo! Ich beantworte Fragen zu 1 Artikel, indem"),
        ("ciao", "fr", "Ciao! Rispondo alle domande su 1 articolo citando"),
        ("merci !", "en", "Avec plaisir ! Posez une autre question quand vous voulez."),
        ("danke!", "fr", "Gern geschehen! Fragen Sie jederzeit weiter."),
        ("¡gracias!", "fr", "¡De nada! Haga otra pregunta cuando quiera."),
    ],
)
async def test_greetings_and_thanks_are_answered_in_their_language_and_are_no_gap(
    bot: BotHarness, said: str, code: str, expected: str
) -> None:
    user = bot.user(language_code=code)
    await bot.say(user, QUESTION_FR)  # right after an answer: small talk is no follow-up
    [reply] = await bot.say(user, said)
    assert reply["plain_text"].startswith(expected)
    assert buttons(reply) == []
    assert all(g.question != said for g in bot.app.bot_data.readers.gaps("2000"))


async def test_a_greeting_with_a_question_is_a_question(bot: BotHarness) -> None:
    [reply] = await bot.say(bot.user(language_code="fr"), "Bonjour, qui est Ablyazov ?")
    assert "Ablyazov" in first_quote_text(reply)


# ------------------------------------------------------------------------------ languages

ABLYAZOV_ES = "¿Quién es Ablyazov?"
SPANISH_LABELS = re.compile(r"Contexto \d|Más|👍|👎")


async def test_a_spanish_reader_reads_spanish_notes_and_buttons(bot: BotHarness) -> None:
    """Issue 23, item 5: Spanish readers got "Contexte 1", "Plus" and French notes."""
    user = bot.user(3201, language_code="es")
    [reply] = await bot.say(user, ABLYAZOV_ES)
    assert "Ablyazov" in first_quote_text(reply)
    labels = [label for label, _ in buttons(reply)]
    assert labels[0] == "Contexto 1" and labels[-2:] == ["👍", "👎"]
    assert all(SPANISH_LABELS.fullmatch(label) for label in labels), labels
    assert not reply["plain_text"].startswith(("Je ne trouve", "I found no"))
    mark = bot.mark()
    await bot.server.press_button(user, reply, dict(buttons(reply))["👎"])
    said = await wait_callback_answer(bot.server, mark)
    assert said["text"] == "Gracias. ¿Qué pasaje es incorrecto? Toque su número."
    [edited] = await bot.server.wait_edits(1, after=mark)
    wrong = [label for label, _ in buttons(edited) if label.startswith("✗")]
    assert wrong[0] == "✗ 1 incorrecto" and len(wrong) == len(labels) - 2 - ("Más" in labels)


async def test_a_spanish_question_is_answered_in_spanish_whoever_asks_and_presses(
    bot: BotHarness,
) -> None:
    """The question's language first: a French reader's Spanish question gets Spanish words,
    and its buttons stay Spanish when a German reader presses them in the group."""
    group = bot.server.group_chat(-310, "Lectores")
    french, german = bot.user(3202, language_code="fr"), bot.user(3203, language_code="de")
    [reply] = await bot.say(french, f"/ask {ABLYAZOV_ES}", chat=group)
    labels = [label for label, _ in buttons(reply)]
    assert labels[0] == "Contexto 1" and all(SPANISH_LABELS.fullmatch(x) for x in labels)
    [context] = await bot.press(german, reply, dict(buttons(reply))["Contexto 1"])
    assert "Ablyazov" in context["plain_text"]
    mark = bot.mark()
    await bot.server.press_button(german, reply, dict(buttons(reply))["👍"])
    assert (await wait_callback_answer(bot.server, mark))["text"] == "Gracias, anotado."
    # More, pressed by the German reader: the next page is Spanish too.
    [order] = await bot.say(
        french, "/ask ¿Quién ordenó disparar contra los manifestantes?", chat=group
    )
    [following] = await bot.press(german, order, dict(buttons(order))["Más"])
    assert buttons(following)[0][0] == "Contexto 4"
    # A short question the reader's language decides ("Almaty ?" is in no language).
    [short] = await bot.say(german, "/ask Almaty ?", chat=group)
    assert buttons(short)[0][0] == "Kontext 1" or short["plain_text"] == NO_ANSWER_DE


@pytest.mark.parametrize(
    ("code", "start"),
    [
        ("de", "Ich beantworte Fragen zu 1 Artikel, indem ich die Stellen"),
        ("it", "Rispondo alle domande su 1 articolo citando parola per parola"),
        ("es", "Respondo a preguntas sobre 1 artículo citando palabra por palabra"),
    ],
)
async def test_help_in_the_readers_language(bot: BotHarness, code: str, start: str) -> None:
    [reply] = await bot.say(bot.user(3204, language_code=code), "/help")
    assert reply["plain_text"].startswith(start)


async def test_an_italian_reader_is_told_in_italian(bot: BotHarness) -> None:
    user = bot.user(3205, language_code="it")
    [declined] = await bot.say(user, "Come si prepara il tiramisù fatto in casa?")
    assert declined["plain_text"] == NO_ANSWER_IT
    [empty] = await bot.say(user, "/ask")
    assert (
        empty["plain_text"]
        == "Mi faccia una domanda sugli articoli, per esempio: /ask Chi è Tokaev?"
    )


async def test_the_default_language_may_be_spanish(
    botapi: BotApiServer, workspace: Workspace, embedder: Embedder
) -> None:
    """DEFAULT_LANGUAGE=es was refused; a reader with no catalog language now reads Spanish."""
    async with run_bot(botapi, workspace, embedder, default_language="es") as harness:
        [reply] = await harness.say(harness.user(3206, language_code="pt"), "Almaty ?")
        assert buttons(reply)[0][0] == "Contexto 1" or reply["plain_text"] == NO_ANSWER_ES
    assert botapi.rejected == []


# ------------------------------------------------------------------------------ feedback


def first_quote_text(record: dict) -> str:
    return str(record["plain_text"]).split("\n\n2. ")[0]


async def _vote_down(bot: BotHarness, reader: object, answer: dict) -> None:
    mark = bot.mark()
    await bot.server.press_button(reader, answer, dict(buttons(answer))["👎"])  # type: ignore[arg-type]
    [edited] = await bot.server.wait_edits(1, after=mark)
    assert [label for label, _ in buttons(edited)][-3:] == ["✗ 1 faux", "✗ 2 faux", "✗ 3 faux"]
    said = await wait_callback_answer(bot.server, mark)
    assert said["text"] == "Merci. Quel passage est faux ? Touchez son numéro."


async def test_three_readers_saying_a_first_quote_is_wrong_shift_it(bot: BotHarness) -> None:
    from datetime import UTC, datetime

    from index.chat.feedback import adjustments, passage_hash

    readers = [bot.user(3001 + n) for n in range(3)]
    answers = [(await bot.say(reader, QUESTION_FR))[0] for reader in readers]
    first = bot.app.bot_data.session.page_of(readers[0].id, answer_key(answers[0])).answer
    voted = passage_hash(first.quotes[0].text)
    store = bot.app.bot_data.readers
    await _vote_down(bot, readers[0], answers[0])
    now = datetime.now(UTC)
    assert adjustments(QUESTION_FR, store.votes([voted], ""), now) == {}  # one reader: nothing
    for reader, answer in zip(readers[1:], answers[1:], strict=True):
        await _vote_down(bot, reader, answer)
    votes = store.votes([voted], "")
    assert len({v.voter for v in votes}) == 3 and all(
        str(r.id) not in v.voter for r in readers for v in votes
    )
    assert adjustments(QUESTION_FR, votes, now) == {voted: -0.1}  # bounded: at most 0.1


async def test_wrong_passage_and_thumbs_up_are_thanked(bot: BotHarness) -> None:
    reader = bot.user(language_code="fr")
    [answer] = await bot.say(reader, QUESTION_FR)
    await _vote_down(bot, reader, answer)
    mark = bot.mark()
    await bot.server.press_button(reader, answer, f"fbx:{answer_key(answer)}:2")
    assert (await wait_callback_answer(bot.server, mark))["text"] == "Merci, c'est noté."
    [other] = await bot.say(reader, "Qui est Tokaïev ?")
    mark = bot.mark()
    await bot.server.press_button(reader, other, dict(buttons(other))["👍"])
    assert (await wait_callback_answer(bot.server, mark))["text"] == "Merci, c'est noté."
    [edited] = await bot.server.wait_edits(1, after=mark)
    assert "👍" not in [label for label, _ in buttons(edited)]


def answer_key(record: dict) -> str:
    return next(data for _, data in buttons(record) if data.startswith("fb:")).split(":")[1]


@pytest.mark.parametrize(
    "data",
    ["fb:AAAAAAAA:u", "fbx:AAAAAAAA:1", "scope:o:deadbeef"],
)
async def test_forged_feedback_and_scope_buttons_are_refused(bot: BotHarness, data: str) -> None:
    user = bot.user(3601)
    [answer] = await bot.say(user, QUESTION_FR)
    mark = bot.mark()
    await bot.server.press_button(user, answer, data, forged=True)
    said = await wait_callback_answer(bot.server, mark)
    assert said["show_alert"] is True and said["text"]
    assert bot.app.bot_data.readers.disliked("2000") == []


async def test_a_private_chat_cannot_be_scoped_even_by_a_forged_button(bot: BotHarness) -> None:
    from bot.handlers.scope import value_token
    from index.stores.readers import Scope

    user = bot.user(3603)
    [answer] = await bot.say(user, QUESTION_FR)
    mark = bot.mark()
    await bot.server.press_button(user, answer, f"scope:t:{value_token('sport')}", forged=True)
    said = await wait_callback_answer(bot.server, mark)
    assert said["text"].startswith("Les discussions privées voient toute la collection")
    bot.app.bot_data.readers.set_scope(user.id, Scope(tags=("sport",)))  # even if stored
    [again] = await bot.say(user, QUESTION_FR)
    assert ORDER in again["plain_text"]


async def test_a_wrong_passage_number_out_of_range_is_refused(bot: BotHarness) -> None:
    user = bot.user(3602)
    [answer] = await bot.say(user, QUESTION_FR)
    key = next(d for _, d in buttons(answer) if d.startswith("fb:")).split(":")[1]
    mark = bot.mark()
    await bot.server.press_button(user, answer, f"fbx:{key}:99", forged=True)
    said = await wait_callback_answer(bot.server, mark)
    assert said["text"] == "Cette réponse a expiré, posez à nouveau la question."
    assert bot.app.bot_data.readers.disliked("2000") == []
