"""bot.i18n: every text the bot writes, in every language, and no reply that mixes two.

Pure: the catalog and the renderers over string literals. The chat's own choice of language
(the question's, then Telegram's) is tested through the real bot in tests/test_bot_reader.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pytest
from telegram import InlineKeyboardMarkup

from bot.handlers.callbacks import answer_keyboard, overview_keyboard, sources_keyboard
from bot.i18n import (
    LANGUAGES,
    MESSAGES,
    pick_language,
    placeholders,
    plural_one,
    reason_text,
    reply_language,
    stored_reason_text,
    t,
    t_plain,
    why,
)
from bot.render import (
    period_words,
    render_answer,
    render_context,
    render_inline,
    render_overview,
    render_plain,
    render_sources,
)
from index.chat.overview import ArticleLead
from index.chat.session import Page
from index.collection.feeds import parse_feed
from index.ingest.dates import TimeFrame, display_date
from index.ingest.fetch import check_addresses, check_url
from index.ingest.loader import article_from_bytes
from index.models import Answer, ArticleSummary, Quote
from index.reasons import ENGLISH, Reason
from tests.support.botapi import parse_html
from tests.support.sample_documents import pdf_without_text

# ------------------------------------------------------------------------------ the catalog


def test_every_message_exists_in_every_language() -> None:
    assert LANGUAGES == ("fr", "en", "es", "de", "it")
    missing = [
        f"{key}: {lang}" for key, variants in MESSAGES.items() for lang in LANGUAGES
        if not variants.get(lang)
    ]  # fmt: skip
    assert missing == []
    assert all(set(variants) <= set(LANGUAGES) for variants in MESSAGES.values())


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_every_variant_takes_the_same_values_and_is_valid_telegram_html(key: str) -> None:
    french = placeholders(MESSAGES[key]["fr"])
    for lang in LANGUAGES:
        assert placeholders(MESSAGES[key][lang]) == french, (key, lang)
        # Every plural form, with hostile text in every other value.
        for count in (0, 1, 2, 21):
            values = {name: "<&>" for name in french} | {
                name: count for name in french if _is_counted(key, name)
            }
            html = t(key, lang, **values)
            parse_html(html, strict_entities=True)
            assert "{" not in html and "|" not in html, (key, lang, html)
            assert len(html) <= 4096


def _is_counted(key: str, name: str) -> bool:
    """A value that is a plural's number somewhere (it must be a number then)."""
    return any(f"{{{name}|" in MESSAGES[key][lang] for lang in LANGUAGES)


def test_only_french_keeps_french_typography() -> None:
    for key, variants in MESSAGES.items():
        for lang in LANGUAGES:
            text = variants[lang]
            if lang != "fr":
                assert not re.search(r"\w \?|\w ;|« | »", text), (key, lang, text)


@pytest.mark.parametrize(
    ("lang", "one", "two", "zero"),
    [
        ("fr", "1 passage", "2 passages", "0 passage"),
        ("en", "1 passage", "2 passages", "0 passages"),
        ("es", "1 pasaje", "2 pasajes", "0 pasajes"),
        ("de", "1 Passage", "2 Passagen", "0 Passagen"),
        ("it", "1 passaggio", "2 passaggi", "0 passaggi"),
    ],
)
def test_counts_take_the_right_plural(lang: str, one: str, two: str, zero: str) -> None:
    said = [t_plain("add_done", lang, title="T", id="t", passages=n) for n in (1, 2, 0)]
    assert [s.endswith(f"{form}.") for s, form in zip(said, (one, two, zero), strict=True)] == [
        True
    ] * 3


def test_a_count_inside_a_plural_form() -> None:
    assert t_plain("gaps_header", "en", days=1) == "Questions without a sure answer, last day"
    assert t_plain("gaps_header", "en", days=7) == "Questions without a sure answer, last 7 days"
    assert t_plain("gaps_header", "fr", days=7) == "Questions sans réponse sûre, 7 derniers jours"
    assert t_plain("gaps_header", "de", days=1) == "Fragen ohne sichere Antwort, letzter Tag"
    assert t_plain("help", "de", articles=1, bot="b").startswith(
        "Ich beantworte Fragen zu 1 Artikel,"
    )
    assert t_plain("help", "de", articles=3, bot="b").startswith(
        "Ich beantworte Fragen zu 3 Artikeln,"
    )


def test_plural_rule() -> None:
    assert [plural_one("fr", n) for n in (0, 1, 2)] == [True, True, False]
    for lang in ("en", "es", "de", "it"):
        assert [plural_one(lang, n) for n in (0, 1, 2, 11)] == [False, True, False, False]
    assert plural_one("en", "–") is False  # not a number: the other form


# ------------------------------------------------------------------------------ which language


@pytest.mark.parametrize(
    ("code", "expected"),
    [("es", "es"), ("de-AT", "de"), ("it_IT", "it"), ("pt-BR", "fr"), (None, "fr")],
)
def test_telegram_language(code: str | None, expected: str) -> None:
    assert pick_language(code, "fr") == expected


@pytest.mark.parametrize(
    ("question", "code", "expected"),
    [
        ("¿Quién es Ablyazov?", "fr", "es"),  # the question's language first
        ("Wer ist Ablyazov?", "en", "de"),
        ("Chi è Ablyazov?", None, "it"),
        ("Who is Ablyazov?", "de", "en"),
        ("Almaty ?", "de", "de"),  # one word, a name: the reader's own language
        ("Et sa dette ?", "it", "it"),  # langid is unsure (Norwegian?): the reader's
        ("Quantas espécies de abelhas existem?", "es", "es"),  # Portuguese, not in the catalog
        ("Quantas espécies de abelhas existem?", "pt", "fr"),  # ... nor the reader's: default
    ],
)
def test_reply_language(question: str, code: str | None, expected: str) -> None:
    assert reply_language(question, code, "fr") == expected


# ------------------------------------------------------------------------------ no mixing

# The values a test reply carries (article text, titles, outlets): no word of any language.
NEUTRAL = "Zqx"
_WORD = re.compile(r"[^\W\d_]+")


def _words(text: str) -> set[str]:
    return {word.lower() for word in _WORD.findall(text)}


def _vocabulary(lang: str) -> set[str]:
    """Every word the catalog says in ``lang`` (both plural forms), its month names, and the
    neutral values: what a reply in ``lang`` may contain."""
    words = {NEUTRAL.lower(), "p", "s"}  # "p50", "3 s"
    for variants in MESSAGES.values():
        words |= _words(re.sub(r"\{\w+[|}]", " ", variants.get(lang, "")))
    for month in range(1, 13):
        words |= _words(display_date(f"2024-{month:02d}-01", lang) or "")
    return words


def _plain(html: str) -> str:
    return parse_html(html, strict_entities=True)[0]


def _labels(markup: InlineKeyboardMarkup | None) -> list[str]:
    return [button.text for row in (markup.inline_keyboard if markup else ()) for button in row]


def _quote(n: int, confidence: str = "answer") -> Quote:
    text = f"{NEUTRAL} {NEUTRAL}. {NEUTRAL} {n}."
    return Quote(
        f"a{n}", NEUTRAL, None, text, 0, len(text), 0, 8, 0.9,
        confidence=confidence,  # type: ignore[arg-type]
        outlet=NEUTRAL, published=f"2026-0{n}-0{n}", also_in=(NEUTRAL,),
    )  # fmt: skip


def whole_replies(lang: str) -> list[str]:
    """Everything a reader in ``lang`` may read from the bot, as plain text: an answer with its
    notes and buttons (every state of them), a further page, a closest-passages answer, a
    declined one, /help, /sources, the article list, the alerts, the console's answer."""
    frame = TimeFrame(
        "2026-11-30T23:00:00Z", None, NEUTRAL, NEUTRAL, first_day="2026-12-01", relative=True
    )
    answer = Answer(
        NEUTRAL, (_quote(1), _quote(2)), lang, follow_up_of=NEUTRAL, time_frame=frame,
        widened=True,
    )  # fmt: skip
    closest = Answer(NEUTRAL, (_quote(3, "closest"),), lang)
    page = Page("AAAAAAAA", answer, 0, True, lang)
    lead = ArticleLead(NEUTRAL, NEUTRAL, NEUTRAL, NEUTRAL, "2026-05-05")
    period = period_words("2026-05-01", "2026-05-31", lang)
    heading = t_plain("overview_period", lang, count=1, period=period)
    replies = [
        *render_answer(answer, lang),
        *render_answer(closest, lang),
        *render_answer(Answer(NEUTRAL, (), lang), lang),
        render_context(_quote(1), lang=lang),
        render_inline(_quote(3, "closest"), NEUTRAL, lang=lang),
        t("help", lang, articles=1, bot=NEUTRAL) + "\n\n" + t("admin_help", lang),
        t("help", lang, articles=3, bot=NEUTRAL),
        render_sources([ArticleSummary(NEUTRAL, NEUTRAL)] * 12, 0, lang, per_page=10)[0],
        render_overview([lead], heading, page=0, pages=2, lang=lang),
    ]
    alerts = [
        "rate_limited", "expired", "vote_thanks", "vote_which", "page_spent", "no_more",
        "error", "empty_question", "inline_hint", "inline_no_answer", "closest_inline",
        "answer_outdated", "index_missing", "model_mismatch", "small_talk_thanks",
    ]  # fmt: skip
    replies += [t(key, lang) for key in alerts]
    replies = [_plain(html) for html in replies]
    replies.append(render_plain(answer, lang))
    for feedback in ("ask", "wrong", "done"):
        replies += _labels(answer_keyboard(page, lang, feedback))
    replies += _labels(overview_keyboard(1, lang)) + _labels(sources_keyboard(1, 3, lang))
    return replies


def _foreign_words(replies: Iterable[str], lang: str) -> set[str]:
    vocabulary = _vocabulary(lang)
    return {word for reply in replies for word in _words(reply) if word not in vocabulary}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_reply_mixes_two_languages(lang: str) -> None:
    replies = whole_replies(lang)
    assert _foreign_words(replies, lang) == set()
    # ... and each of them is really in ``lang``: none equals another language's rendering,
    # but for what is shared by design (emoji, "Articles (12)" in fr and en).
    others = {reply for other in LANGUAGES if other != lang for reply in whole_replies(other)}
    same = [reply for reply in replies if reply in others and _words(reply) - {NEUTRAL.lower()}]
    assert all(reply.startswith(("Articles", "Feed")) or len(_words(reply)) <= 1 for reply in same)


def test_the_mixing_check_catches_a_foreign_word() -> None:
    """A German answer with the French "Contexte 1" button, or an English date, fails it."""
    page = Page("AAAAAAAA", Answer(NEUTRAL, (_quote(1),), "de"), 0, True, "de")
    mixed = _labels(answer_keyboard(page, "fr"))
    assert _foreign_words(mixed, "de") == {"contexte", "plus"}
    assert _foreign_words([f"{NEUTRAL} · 5 March 2024"], "de") == {"march"}
    assert _foreign_words([t_plain("no_answer", "it")], "es") != set()


# ------------------------------------------------------------------------------ refusals


def _refusals() -> list[Exception]:
    """The refusals an admin reads, each provoked as the index raises it: URLs, files of every
    kind, feeds."""
    attempts = [
        lambda: check_url("file:///etc/passwd"),
        lambda: check_url("http://[::1"),
        lambda: check_addresses("intranet.example", ["10.0.0.7"]),
        lambda: parse_feed(b"<html><body>Hello</body></html>"),
        lambda: article_from_bytes("photo.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20),
        lambda: article_from_bytes("vide.md", b"   \n"),
        lambda: article_from_bytes("x.json", b'{"title": 1}'),
        lambda: article_from_bytes("x.json", b'{"title": "T", "text": 2}'),
        lambda: article_from_bytes("x.json", b'{"title": "T", "text": "t", "tags": 1}'),
        lambda: article_from_bytes("x.json", b"[" * 100_000 + b"]" * 100_000),
        lambda: article_from_bytes("programme.exe", b"MZ"),
        lambda: article_from_bytes("README", b"text"),
        lambda: article_from_bytes("long.txt", b"word " * 100, max_bytes=100),
        lambda: article_from_bytes("scan.pdf", pdf_without_text()),
        lambda: article_from_bytes("broken.pdf", b"%PDF-1.4 nothing"),
        lambda: article_from_bytes("broken.docx", b"not a zip"),
        lambda: article_from_bytes("page.html", b"<html><body><script>x</script></body></html>"),
    ]
    caught: list[Exception] = []
    for attempt in attempts:
        with pytest.raises(Exception) as error:
            attempt()
        caught.append(error.value)
    return caught


@pytest.mark.parametrize("lang", LANGUAGES)
def test_an_admin_reads_each_refusal_in_their_language(lang: str) -> None:
    vocabulary = _vocabulary(lang)
    for error in _refusals():
        reason = getattr(error, "reason", None)
        assert isinstance(reason, Reason), (type(error).__name__, str(error))
        said = t_plain("add_rejected", lang, reason=why(error, lang))
        values = set().union(*(_words(str(v)) for v in reason.params.values()))
        assert {w for w in _words(said) if w not in vocabulary} <= values, (lang, said)
        if lang == "en":
            assert said == f"Not added: {error}."  # the index's own English sentence
        else:
            assert str(error) not in said, (lang, said)


def test_a_french_admin_reads_no_english() -> None:
    private = Reason("private_address", {"host": "127.0.0.1", "address": "127.0.0.1"})
    assert t_plain("add_fetch_failed", "fr", reason=reason_text(private, "fr")) == (
        "Impossible de récupérer l'URL : 127.0.0.1 est une adresse privée (127.0.0.1) ; "
        "FETCH_PRIVATE_ADDRESSES=true l'autorise."
    )
    assert reason_text(Reason("http_status", {"status": 404}), "de") == (
        "der Server antwortete mit HTTP 404"
    )
    said = [
        reason_text(Reason("pdf_pages", {"pages": n}), lang) for lang in LANGUAGES for n in (1, 2)
    ]
    assert said == [
        "le PDF a plus de 1 page", "le PDF a plus de 2 pages",
        "the PDF has more than 1 page", "the PDF has more than 2 pages",
        "el PDF tiene más de 1 página", "el PDF tiene más de 2 páginas",
        "das PDF hat mehr als 1 Seite", "das PDF hat mehr als 2 Seiten",
        "il PDF ha più di 1 pagina", "il PDF ha più di 2 pagine",
    ]  # fmt: skip
    # A feed's health keeps the code; a line from before codes is shown as it was written.
    line = '{"entry": "https://a.example/1", "code": "http_status", "params": {"status": 404}}'
    assert stored_reason_text(line, "fr") == "https://a.example/1: le serveur a répondu HTTP 404"
    assert stored_reason_text(line, "it") == "https://a.example/1: il server ha risposto HTTP 404"
    old = "https://a.example/1: the server answered HTTP 404"
    assert stored_reason_text(old, "fr") == old


def test_every_reason_code_is_in_the_catalog_with_the_index_english() -> None:
    coded = {key.removeprefix("reason_") for key in MESSAGES if key.startswith("reason_")}
    assert coded == set(ENGLISH)
    assert all(MESSAGES[f"reason_{code}"]["en"] == ENGLISH[code] for code in ENGLISH)
