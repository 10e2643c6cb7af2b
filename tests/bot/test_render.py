"""bot.render, bot.i18n and bot.state: pure functions tested with string literals."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from bot.i18n import pick_language, t, t_plain
from bot.render import (
    MAX_MESSAGE,
    format_bytes,
    format_seconds,
    render_answer,
    render_inline,
    render_plain,
    render_quote,
    render_sources,
    render_sources_plain,
    trim_around,
    utf16_len,
)
from bot.state import BotStats, Limit, RateLimiter, percentile
from index.models import Answer, ArticleSummary, Quote
from tests.support.botapi import parse_html


def quote(
    text: str,
    highlight: str,
    title: str = "Titre",
    url: str | None = None,
    start: int = 100,
    article_id: str = "a",
) -> Quote:
    """A Quote whose article offsets start at ``start``; ``highlight`` is found in ``text``."""
    at = text.index(highlight)
    return Quote(
        article_id, title, url, text, start, start + len(text), start + at,
        start + at + len(highlight), 0.9,
    )  # fmt: skip


def valid(html: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse like Telegram (strict about '&'); fail on bad HTML or length."""
    plain, entities = parse_html(html, strict_entities=True)
    assert utf16_len(plain) <= MAX_MESSAGE
    return plain, entities


def bold(html: str) -> list[str]:
    plain, entities = valid(html)
    units = plain.encode("utf-16-le")
    return [
        units[int(e["offset"]) * 2 : (int(e["offset"]) + int(e["length"])) * 2].decode("utf-16-le")
        for e in entities
        if e["type"] == "bold"
    ]


def test_quote_block_escapes_and_bolds_the_highlight() -> None:
    q = quote(
        "Avant <b>x</b> & *y*. La phrase clé. Après.", "La phrase clé.", title="<i>T</i> & co"
    )
    html = render_quote(q, 2)
    assert html == (
        "<b>2.</b> <i>&lt;i&gt;T&lt;/i&gt; &amp; co</i>\n"
        "<blockquote>Avant &lt;b&gt;x&lt;/b&gt; &amp; *y*. <b>La phrase clé.</b> Après.</blockquote>"
    )
    assert bold(html) == ["2.", "La phrase clé."]


def test_title_is_a_link_only_for_http_urls() -> None:
    linked = render_quote(quote("Un. Deux.", "Deux.", url="https://ex.org/?a=1&b=2'"))
    assert '<a href="https://ex.org/?a=1&amp;b=2&#x27;">Titre</a>' in linked
    _plain, entities = valid(linked)
    assert [e["url"] for e in entities if e["type"] == "text_link"] == ["https://ex.org/?a=1&b=2'"]
    bad = (
        "javascript:alert(1)",
        "ftp://ex.org/a",
        'https://ex.org/"',
        "https://ex.org/" + "a" * 400,
    )
    for url in bad:
        assert "<a " not in render_quote(quote("Un. Deux.", "Deux.", url=url))


def test_long_quote_is_trimmed_around_the_highlight() -> None:
    before, after = "mot " * 1500, " fin" * 1500
    q = quote(before + "La phrase clé & importante." + after, "La phrase clé & importante.")
    html = render_quote(q, 1, max_len=1000)
    assert utf16_len(html) <= 1000
    plain, _ = valid(html)
    assert "…mot mot" in plain and "fin fin…" in plain
    assert bold(html)[1] == "La phrase clé & importante."


def test_emoji_count_double_toward_the_limit() -> None:
    q = quote("😀" * 3000 + " Clé. " + "😀" * 3000, "Clé.")
    [message] = render_answer(Answer("q", (q,)), "fr")
    _plain, _ = valid(message)
    assert utf16_len(message) <= MAX_MESSAGE
    assert "Clé." in bold(message)


def test_highlight_longer_than_the_budget_is_cut() -> None:
    text = "x" * 5000
    q = quote(text, text)
    html = render_quote(q, 1, max_len=500)
    assert utf16_len(html) <= 500
    assert bold(html)[1].endswith("…")


def test_ampersands_that_expand_fivefold_still_fit() -> None:
    q = quote("&" * 4000 + " Clé.", "Clé.")
    html = render_quote(q, 1)
    assert utf16_len(html) <= MAX_MESSAGE
    valid(html)


def test_answer_fits_one_message_when_it_can() -> None:
    quotes = tuple(quote(f"Phrase {i}. Clé {i}. Fin {i}.", f"Clé {i}.") for i in range(3))
    [message] = render_answer(Answer("q", quotes), "fr")
    plain, _ = valid(message)
    assert plain.startswith("1. Titre\nPhrase 0.")
    assert "\n\n2. Titre\n" in plain and "\n\n3. Titre\n" in plain


def test_many_long_quotes_are_trimmed_then_split_as_a_last_resort() -> None:
    long = "mot " * 400 + "Clé. " + "mot " * 400
    trimmed = render_answer(Answer("q", tuple(quote(long, "Clé.") for _ in range(3))), "fr")
    assert len(trimmed) == 1  # three quotes trimmed to share one message
    split = render_answer(Answer("q", tuple(quote(long, "Clé.") for _ in range(12))), "fr")
    assert len(split) > 1
    numbers = []
    for message in split:
        _plain, _ = valid(message)
        numbers += [b for b in bold(message) if b.endswith(".") and b[:-1].isdigit()]
    assert numbers == [f"{n}." for n in range(1, 13)]


def test_numbering_continues_for_more() -> None:
    [message] = render_answer(Answer("q", (quote("Un. Deux.", "Deux."),)), "en", first_number=4)
    assert message.startswith("<b>4.</b> ")


def test_no_answer_in_each_language() -> None:
    assert render_answer(Answer("q", ()), "fr") == [
        "Les articles ne répondent pas à cette question. /sources montre ce qu'ils couvrent."
    ]
    assert render_answer(Answer("q", ()), "en")[0].startswith("The articles do not answer")


def test_inline_message_shows_the_question_escaped() -> None:
    html = render_inline(quote("Un. Deux.", "Deux."), "<b>x</b> *y*")
    plain, _ = valid(html)
    assert plain.startswith("❓ <b>x</b> *y*\n\nTitre\nUn. Deux.")


def test_plain_rendering_for_the_console() -> None:
    q = quote("Avant. La clé. Après.", "La clé.", title="Titre", url="https://ex.org/a")
    assert render_plain(Answer("q", (q,)), "en") == (
        "[1] Avant. **La clé.** Après.\n    — Titre <https://ex.org/a>"
    )
    assert render_plain(Answer("q", ()), "fr").startswith("Les articles ne répondent pas")


def test_trim_around_keeps_words_whole() -> None:
    assert trim_around("aaa bbb CCC ddd eee", 8, 11, 100) == ("aaa bbb CCC ddd eee", 8, 11)
    text, start, end = trim_around("aaa bbb CCC ddd eee", 8, 11, 9)
    assert text[start:end] == "CCC" and text.startswith("…") and text.endswith("…")
    text, start, end = trim_around("CCC ddd eee fff", 0, 3, 9)
    assert text.startswith("CCC") and text[start:end] == "CCC"


def articles(n: int) -> list[ArticleSummary]:
    return [
        ArticleSummary(f"a{i:02d}", f"Titre <{i}> & co", url=f"https://ex.org/{i}?x=1&y=2")
        for i in range(n)
    ]


def test_sources_pages() -> None:
    text, page, pages = render_sources(articles(23), 1, "en")
    plain, entities = valid(text)
    assert (page, pages) == (1, 3)
    lines = plain.splitlines()
    assert lines[0] == "Articles (23) — page 2/3"
    assert lines[1] == "a10 — Titre <10> & co"
    assert len(lines) == 11
    assert any(e.get("url") == "https://ex.org/10?x=1&y=2" for e in entities)
    assert render_sources(articles(23), 99, "en")[1] == 2  # clamped
    assert render_sources([], 0, "fr")[0] == "Aucun article n'est indexé pour l'instant."


def test_sources_drop_links_rather_than_overflow() -> None:
    many = [
        ArticleSummary(f"{'i' * 60}{n:02d}", "T" * 300, url="https://ex.org/" + "p" * 280)
        for n in range(10)
    ]
    text, _, _ = render_sources(many, 0, "fr")
    valid(text)
    assert "<a " not in text


def test_sources_plain() -> None:
    assert render_sources_plain(articles(2), "en").splitlines() == [
        "a00 — Titre <0> & co <https://ex.org/0?x=1&y=2>",
        "a01 — Titre <1> & co <https://ex.org/1?x=1&y=2>",
    ]


def test_formatting_helpers() -> None:
    assert format_bytes(512) == "512 bytes"
    assert format_bytes(112_397) == "110 KB"
    assert format_bytes(5 * 1024 * 1024) == "5.0 MB"
    assert format_seconds(0.0234) == "23 ms"
    assert format_seconds(2.5) == "2.50 s"
    assert format_seconds(None) == "–"


# ------------------------------------------------------------------------------ i18n


@pytest.mark.parametrize(
    ("code", "expected"),
    [("fr", "fr"), ("fr-CA", "fr"), ("en", "en"), ("en_US", "en"), ("pt", "fr"), (None, "fr")],
)
def test_pick_language(code: str | None, expected: str) -> None:
    assert pick_language(code, "fr") == expected


def test_pick_language_default_english() -> None:
    assert pick_language("ar", "en") == "en"


def test_t_escapes_values_and_t_plain_gives_text() -> None:
    assert t("remove_unknown", "en", id="<b>x</b>") == (
        "No article has the id <code>&lt;b&gt;x&lt;/b&gt;</code>; see /sources."
    )
    assert t_plain("remove_unknown", "en", id="<b>x</b>") == (
        "No article has the id <b>x</b>; see /sources."
    )


# ------------------------------------------------------------------------------ state


def test_rate_limiter() -> None:
    limiter = RateLimiter(per_minute=3)
    verdicts = [limiter.check(7, now=float(s)) for s in (0, 1, 2, 3, 4, 30)]
    assert verdicts == [Limit.ALLOW] * 3 + [Limit.WARN, Limit.SILENT, Limit.SILENT]
    assert limiter.check(8, now=5.0) is Limit.ALLOW  # per user
    assert limiter.check(7, now=60.5) is Limit.ALLOW  # the window slid past the first
    assert RateLimiter(0).check(7, now=0.0) is Limit.ALLOW  # 0 disables it


def test_percentiles_and_stats() -> None:
    assert percentile([], 50) is None
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0 and percentile(values, 95) == 95.0
    stats = BotStats(window=3)
    for seconds in (1.0, 2.0, 3.0, 4.0):
        stats.record_answer(seconds)
    assert stats.questions == 4 and list(stats.latencies) == [2.0, 3.0, 4.0]
    assert stats.latency(50) == 3.0


def test_closest_passages_come_under_a_plain_warning() -> None:
    quotes = tuple(
        replace(quote(f"Passage {i}.", f"Passage {i}."), confidence="closest") for i in range(2)
    )
    unsure = Answer("q", quotes)
    assert unsure.outcome == "closest"
    [html] = render_answer(unsure, "fr")
    text, entities = valid(html)
    assert text.startswith(t_plain("closest_note", "fr") + "\n\n1. ")
    assert entities[0]["type"] == "italic" and entities[0]["offset"] == 0
    huge = replace(quotes[0], text="x" * 9000, end=quotes[0].start + 9000)
    messages = render_answer(Answer("q", (huge, huge)), "en")
    assert valid(messages[0])[0].startswith(t_plain("closest_note", "en"))
    assert render_plain(unsure, "en").startswith(t_plain("closest_note", "en") + "\n\n[1] ")
    assert Answer("q", (replace(quotes[0], confidence="answer"),)).outcome == "answer"
    assert Answer("q", ()).outcome == "declined"


def test_citation_names_outlet_date_and_wire_copies() -> None:
    cited = replace(
        quote("Le volcan fume. La lave coule.", "La lave coule."),
        outlet="Le Journal <Réunion>",
        published="2024-03-05T10:00:00Z",
        also_in=("AFP", "Le Quotidien", "Zinfos", "Clicanoo"),
    )
    plain, _ = valid(render_quote(cited, 1, lang="fr"))
    assert plain.splitlines()[0] == (
        "1. Titre · Le Journal <Réunion> · 5 mars 2024 · aussi dans : AFP, Le Quotidien, Zinfos, +1"
    )
    english, _ = valid(render_quote(cited, 1, lang="en"))
    assert english.splitlines()[0].endswith(
        " · 5 March 2024 · also in: AFP, Le Quotidien, Zinfos, +1"
    )
    console = render_plain(Answer("q", (cited,)), "fr")
    assert console.endswith(
        "— Titre · Le Journal <Réunion> · 5 mars 2024 · aussi dans : AFP, Le Quotidien, Zinfos, +1"
    )


def test_the_period_of_a_time_frame_comes_first() -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from index.ingest.dates import time_frame

    now = datetime(2026, 12, 1, 9, 30, tzinfo=ZoneInfo("Europe/Paris"))
    frame = time_frame("Les prix la semaine dernière ?", now)
    found = Answer("q", (quote("Le prix a doublé.", "Le prix a doublé."),), time_frame=frame)
    [message] = render_answer(found, "fr")
    plain, _ = valid(message)
    assert plain.startswith("Articles publiés du 23 novembre 2026 au 29 novembre 2026\n\n1. Titre")
    [declined] = render_answer(Answer("q", (), time_frame=time_frame("since Monday?", now)), "en")
    assert valid(declined)[0].startswith("Articles published since 30 November 2026\n\n")
    day = time_frame("What happened yesterday?", now)
    assert render_plain(Answer("q", (), time_frame=day), "en").startswith(
        "Articles published on 30 November 2026\n\n"
    )
    widened = Answer("q", found.quotes, time_frame=day, widened=True)
    [message] = render_answer(widened, "fr")
    assert valid(message)[0].startswith(
        "Aucun article publié le 30 novembre 2026 n'y répond ; voici les passages de tous les "
        "articles.\n\n1. Titre"
    )


def test_gaps_report_escapes_what_readers_wrote() -> None:
    from bot.render import render_gaps
    from index.chat.gaps import GapGroup, RatedGroup

    text = render_gaps(
        [GapGroup("<b>crêpes</b> & co ?", 2, (("declined", 2),))],
        [RatedGroup("<script>", -3, 1)],
        7,
        "fr",
    )
    plain, _ = valid(text)
    assert "1. « <b>crêpes</b> & co ? » ×2 (sans réponse 2)" in plain
    assert plain.endswith("1. « <script> » (-3)")
    assert valid(render_gaps([], [], 7, "en"))[0] == (
        "Questions without a sure answer, last 7 days\nNone."
    )


def test_gaps_report_of_long_questions_fits_one_message() -> None:
    from bot.render import render_gaps
    from index.chat.gaps import GapGroup, RatedGroup

    long = [f"{word} " + "🎉" * 195 for word in ("alpha", "bravo", "charlie", "delta", "echo")]
    long += [f"{word} " + "🎉" * 195 for word in ("foxtrot", "golf", "hotel", "india", "juliet")]
    text = render_gaps(
        [GapGroup(q, 1, (("declined", 1),)) for q in long],
        [RatedGroup(q, -2, 1) for q in long],
        7,
        "en",
    )
    plain, _ = valid(text)
    lines = plain.splitlines()
    assert lines[0] == "Questions without a sure answer, last 7 days"
    assert lines[1].startswith("1. « alpha 🎉🎉") and lines[1].endswith("🎉… » ×1 (declined 1)")
    assert lines[5] == "… and 6 more"
    assert lines[6:8] == ["", "Lowest-rated answers"]
    assert lines[-1].startswith("… and ") and lines[-1].endswith(" more")
