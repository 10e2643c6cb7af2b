"""Time frames read in questions (French and English), publication dates as stored, and the
service filtering passages by them."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index.errors import ArticleLoadError
from index.ingest.dates import display_date, published_iso, time_frame
from index.ingest.loader import article_from_bytes
from index.models import Answer
from index.service import IndexService
from index.settings import IndexSettings

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 12, 1, 9, 30, tzinfo=PARIS)  # a Tuesday


@pytest.mark.parametrize(
    ("question", "start", "end", "rest"),
    [
        ("Que s'est-il passé depuis lundi ?", "2026-11-29T23:00:00Z", None, "Que s'est-il passé ?"),
        ("What happened since Monday?", "2026-11-29T23:00:00Z", None, "What happened?"),
        (
            "Les prix en janvier 2022 ?",
            "2021-12-31T23:00:00Z",
            "2022-01-31T23:00:00Z",
            "Les prix ?",
        ),
        ("Prices in January 2022?", "2021-12-31T23:00:00Z", "2022-01-31T23:00:00Z", "Prices?"),
        (
            "Les manifestations la semaine dernière",
            "2026-11-22T23:00:00Z",
            "2026-11-29T23:00:00Z",
            "Les manifestations",
        ),
        ("Protests last week", "2026-11-22T23:00:00Z", "2026-11-29T23:00:00Z", "Protests"),
        (
            "Qui a démissionné hier ?",
            "2026-11-29T23:00:00Z",
            "2026-11-30T23:00:00Z",
            "Qui a démissionné ?",
        ),
        (
            "What happened on March 5, 2024?",
            "2024-03-04T23:00:00Z",
            "2024-03-05T23:00:00Z",
            "What happened?",
        ),
        (
            "Les élections en 2022 au Kazakhstan",
            "2021-12-31T23:00:00Z",
            "2022-12-31T23:00:00Z",
            "Les élections au Kazakhstan",
        ),
        (
            "Les arrestations depuis le 5 janvier 2022",
            "2022-01-04T23:00:00Z",
            None,
            "Les arrestations",
        ),
        (
            "Le bilan entre janvier et mars 2022",
            "2021-12-31T23:00:00Z",
            "2022-03-31T22:00:00Z",
            "Le bilan",
        ),
        ("Les décisions avant le 1er mars 2022", None, "2022-02-28T23:00:00Z", "Les décisions"),
        ("Les annonces des 3 derniers jours", None, None, None),
        ("Les annonces ces 3 derniers jours", "2026-11-27T23:00:00Z", None, "Les annonces"),
        ("Announcements in the last 10 days", "2026-11-20T23:00:00Z", None, "Announcements in the"),
        ("Ce qui a changé ce mois-ci", "2026-11-30T23:00:00Z", None, "Ce qui a changé"),
        ("Le budget l'an dernier", "2024-12-31T23:00:00Z", "2025-12-31T23:00:00Z", "Le budget"),
        ("Les prix en mars", "2026-02-28T23:00:00Z", "2026-03-31T22:00:00Z", "Les prix"),
    ],
)
def test_time_frames_in_french_and_english(
    question: str, start: str | None, end: str | None, rest: str | None
) -> None:
    frame = time_frame(question, NOW)
    if rest is None:
        assert frame is None
        return
    assert frame is not None
    assert (frame.start, frame.end, frame.question) == (start, end, rest)


@pytest.mark.parametrize(
    "question",
    [
        "Qui est Tokaïev ?",
        "Que s'est-il passé en France ?",
        "What may happen to the price?",
        "Il est là depuis maintenant deux ans",
        "Combien de morts au Kazakhstan ?",
        "Qui a marché sur Mars ?",
    ],
)
def test_questions_without_a_time_frame(question: str) -> None:
    assert time_frame(question, NOW) is None


@pytest.mark.parametrize(
    ("question", "relative"),
    [
        ("depuis lundi", True),
        ("aujourd'hui", False),  # as often "nowadays"
        ("la semaine dernière", True),
        ("hier", True),
        ("ces 3 derniers jours", True),
        ("en 2018", False),
        ("depuis 2018", False),
        ("avant le 1er mars 2022", False),
        ("entre janvier et mars 2022", False),
        ("les dernières nouvelles", False),
    ],
)
def test_frames_relative_to_now_are_told_apart(question: str, relative: bool) -> None:
    frame = time_frame(question, NOW)
    assert frame is not None and frame.relative is relative


def test_a_question_that_is_only_a_time_frame_keeps_its_words() -> None:
    frame = time_frame("hier", NOW)
    assert frame is not None and frame.question == "hier"


def test_latest_news_looks_at_the_last_thirty_days() -> None:
    frame = time_frame("Quelles sont les dernières nouvelles ?", NOW)
    assert frame is not None and frame.latest
    assert (frame.start, frame.end, frame.first_day) == ("2026-10-31T23:00:00Z", None, "2026-11-01")


def test_local_days_of_a_frame_for_display() -> None:
    frame = time_frame("Les prix la semaine dernière", NOW)
    assert frame is not None and (frame.first_day, frame.last_day) == ("2026-11-23", "2026-11-29")


def test_frames_are_read_in_the_chat_time_zone() -> None:
    tokyo = datetime(2026, 12, 1, 9, 30, tzinfo=ZoneInfo("Asia/Tokyo"))
    frame = time_frame("depuis hier", tokyo)
    assert frame is not None and frame.start == "2026-11-29T15:00:00Z"


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ("2024-03-05", "2024-03-05"),
        ("2024-03-05T10:00:00Z", "2024-03-05T10:00:00Z"),
        ("2024-03-05T10:00:00+01:00", "2024-03-05T09:00:00Z"),
        ("2024-03-05T10:00:00", "2024-03-05T10:00:00Z"),
        ("Tue, 05 Mar 2024 10:00:00 GMT", "2024-03-05T10:00:00Z"),
        ("5 mars 2024", "2024-03-05"),
        ("March 5, 2024", "2024-03-05"),
        ("", None),
        ("   ", None),
        ("not a date", None),
        ("2024-13-45", None),
        (None, None),
    ],
)
def test_publication_dates_as_stored(value: str | None, stored: str | None) -> None:
    assert published_iso(value) == stored


def test_display_dates() -> None:
    assert display_date("2024-03-05T10:00:00Z", "fr") == "5 mars 2024"
    assert display_date("2024-08-01", "en") == "1 August 2024"
    assert display_date("2024-08-01", "es") == "1 de agosto de 2024"
    assert display_date("2024-03-05", "de") == "5. März 2024"
    assert display_date("2024-12-25", "it") == "25 dicembre 2024"
    assert display_date("2024-12-25", "pt") == "25 December 2024"  # no Portuguese months
    assert display_date("garbage", "fr") is None
    assert display_date(None, "fr") is None


def test_json_and_html_metadata_become_outlet_date_and_tags() -> None:
    record = {
        "title": "Le volcan",
        "text": "Le volcan est entré en éruption.",
        "date": "5 mars 2024",
        "outlet": "  Le  Journal ",
        "tags": ["Sciences", " sciences", "Réunion"],
        "feed": "f1",
    }
    article = article_from_bytes("v.json", json.dumps(record).encode())
    assert (article.outlet, article.published, article.tags, article.feed) == (
        "Le Journal",
        "2024-03-05",
        ("sciences", "réunion"),
        "f1",
    )
    page = (
        '<html><head><title>Le volcan</title><meta property="og:site_name" content="Le Journal">'
        '<meta property="article:published_time" content="2024-03-05T10:00:00Z">'
        '<meta name="keywords" content="volcan, Réunion"></head><body><article><p>'
        + "Le volcan est entré en éruption ce matin. " * 10
        + "</p></article></body></html>"
    )
    html_article = article_from_bytes("v.html", page.encode(), url="https://www.journal.re/v")
    assert (html_article.outlet, html_article.published, html_article.tags) == (
        "Le Journal",
        "2024-03-05",
        ("volcan", "réunion"),
    )
    plain = article_from_bytes("v.txt", b"Titre\n\nTexte.", url="https://www.journal.re/v")
    assert plain.outlet == "journal.re"


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("tags", "sciences", "JSON field 'tags' must be a list of strings"),
        ("tags", [1, 2], "JSON field 'tags' must be a list of strings"),
        ("outlet", 42, "JSON field 'outlet' must be a string"),
    ],
)
def test_bad_metadata_fields_are_refused(field: str, value: object, reason: str) -> None:
    record = {"title": "T", "text": "Texte.", field: value}
    with pytest.raises(ArticleLoadError, match=reason):
        article_from_bytes("v.json", json.dumps(record).encode())


# ---------------------------------------------------------------------------- the service


def _dated(seeds: Path, name: str, date: str, text: str) -> None:
    record = {"title": name.capitalize(), "text": text, "date": date, "outlet": "Le Journal"}
    (seeds / f"{name}.json").write_text(json.dumps(record), encoding="utf-8")


@pytest.fixture
def dated_service(tmp_path: Path) -> IndexService:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    _dated(seeds, "ancien", "2026-10-10", "Le volcan est entré en éruption et la lave a coulé.")
    _dated(
        seeds, "recent", "2026-11-30T08:00:00Z", "Le volcan est entré en éruption, la lave coule."
    )
    settings = IndexSettings(
        seeds_dir=seeds, data_dir=tmp_path / "data", embedding_model="hashing-128"
    )
    service = IndexService(settings)
    service.rebuild()
    return service


def found(answer: Answer) -> set[str]:
    """The articles an answer draws on: its first page and what More shows next."""
    return {q.article_id for q in [*answer.quotes, *answer.more]}


def test_a_time_frame_filters_the_passages_in_the_store(dated_service: IndexService) -> None:
    both = dated_service.ask("Le volcan est-il entré en éruption ?", now=NOW)
    assert found(both) == {"ancien", "recent"}
    assert both.time_frame is None
    recent = dated_service.ask("Le volcan est-il entré en éruption depuis lundi ?", now=NOW)
    assert [q.article_id for q in recent.quotes] == ["recent"]
    assert recent.question == "Le volcan est-il entré en éruption depuis lundi ?"
    assert recent.time_frame is not None and recent.time_frame.phrase == "depuis lundi"
    assert (recent.quotes[0].outlet, recent.quotes[0].published) == (
        "Le Journal",
        "2026-11-30T08:00:00Z",
    )
    older = dated_service.ask("Le volcan est-il entré en éruption avant le 20 novembre ?", now=NOW)
    assert [q.article_id for q in older.quotes] == ["ancien"]
    # Nothing of the period answers: every article is searched, and a relative frame says so.
    week = dated_service.ask("Le volcan est-il entré en éruption la semaine dernière ?", now=NOW)
    assert found(week) == {"ancien", "recent"}
    assert week.widened and week.time_frame is not None
    # A date of its own may name when the events happened: widened without a word.
    elsewhere = dated_service.ask("Le volcan est-il entré en éruption en janvier 2022 ?", now=NOW)
    assert found(elsewhere) == {"ancien", "recent"}
    assert elsewhere.time_frame is None and not elsewhere.widened


def test_latest_news_prefers_recent_articles_then_falls_back(dated_service: IndexService) -> None:
    latest = dated_service.ask("Les dernières nouvelles du volcan en éruption ?", now=NOW)
    assert [q.article_id for q in latest.quotes] == ["recent"]
    later = datetime(2027, 6, 1, tzinfo=PARIS)  # nothing in the last 30 days: everything
    fallback = dated_service.ask("Les dernières nouvelles du volcan en éruption ?", now=later)
    assert found(fallback) == {"ancien", "recent"}
    assert fallback.time_frame is None and not fallback.widened


def test_a_year_in_a_page_text_is_not_its_publication_date() -> None:
    page = (
        "<html><head><title>Le volcan</title></head><body><article><p>"
        + "Sa dernière grande éruption, en avril 2007, a fait couler des laves. " * 5
        + "</p></article></body></html>"
    )
    assert article_from_bytes("v.html", page.encode()).published is None


# ------------------------------------------------------------------------------ out of range

# Dates at the edges of Python's calendar (years 1 and 9999): a period that starts or ends
# past them, or that the chat's time zone pushes past them in UTC, is no time frame.
OUT_OF_RANGE = [
    "Que s'est-il passé en décembre 9999 ?",
    "Que s'est-il passé avant le 1er janvier 0001 ?",
    "Que s'est-il passé après le 31 décembre 9999 ?",
    "Que s'est-il passé depuis le 1er janvier 0001 ?",
    "Que s'est-il passé le 31 décembre 9999 ?",
    "Que s'est-il passé en janvier 0001 ?",
    "Que s'est-il passé entre mars et décembre 9999 ?",
    "Que s'est-il passé entre le 1er janvier 0001 et le 31 décembre 9999 ?",
    "What happened after December 31, 9999?",
    "What happened before January 1, 0001?",
    "What happened in December 9999?",
    "What happened since the 31st December 9999?",
]


@pytest.mark.parametrize("question", OUT_OF_RANGE)
def test_periods_past_the_calendar_are_no_time_frame(question: str) -> None:
    assert time_frame(question, NOW) is None


@pytest.mark.parametrize(
    "value",
    [
        "9999-12-31T23:59:59-23:59",
        "0001-01-01T00:00:00+01:00",
        "Fri, 31 Dec 9999 23:00:00 -2300",
        "0000-01-01",
        "10000-01-01",
    ],
)
def test_publication_dates_past_the_calendar_are_no_date(value: str) -> None:
    assert published_iso(value) is None


def test_a_file_dated_past_the_calendar_is_added_undated() -> None:
    data = b"---\ndate: 9999-12-31T23:59:59-23:59\n---\n# Le volcan\n\nLe volcan se reveille.\n"
    article = article_from_bytes("volcan.md", data)
    assert (article.title, article.date, article.published) == (
        "Le volcan",
        "9999-12-31T23:59:59-23:59",
        None,
    )


_PHRASES = st.sampled_from(
    [
        "en {month} {year}",
        "le {day} {month} {year}",
        "le {day}er {month} {year}",
        "avant le {day} {month} {year}",
        "après le {day} {month} {year}",
        "depuis le {day} {month} {year}",
        "depuis {year}",
        "en {year}",
        "le {day} {month} de l'an {year}",
        "entre le {day} {month} {year} et le {day} {month} {year}",
        "after {day}/12/{year}",
        "after {month} {day}, {year}",
        "before {month} {day}, {year}",
        "since {month} {year}",
        "in {month} {year}",
        "between {month} {year} and {month} {year}",
    ]
)
_YEARS = st.sampled_from(["0", "1", "0001", "9998", "9999", "10000", "99999999999999999999"])
_ZONES = st.sampled_from(
    ["Europe/Paris", "Pacific/Kiritimati", "Pacific/Pago_Pago", "Asia/Tokyo", "UTC"]
)


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(
    phrase=_PHRASES,
    year=_YEARS,
    month=st.sampled_from(["janvier", "décembre", "January", "December"]),
    day=st.sampled_from(["1", "31"]),
    zone=_ZONES,
)
def test_any_date_phrase_is_a_frame_or_none(
    phrase: str, year: str, month: str, day: str, zone: str
) -> None:
    now = NOW.astimezone(ZoneInfo(zone))
    question = "Que s'est-il passé " + phrase.format(year=year, month=month, day=day) + " ?"
    frame = time_frame(question, now)
    if frame is not None:  # its bounds are dates the stores compare as text
        for bound in (frame.start, frame.end):
            assert bound is None or datetime.fromisoformat(bound.replace("Z", "+00:00"))


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(
    year=st.sampled_from([0, 1, 9999, 10_000]) | st.integers(0, 10_001),
    offset=st.sampled_from(["Z", "+23:59", "-23:59", "+01:00", "-00:01", ""]),
)
def test_any_iso_date_is_stored_or_none(year: int, offset: str) -> None:
    for value in (f"{year:04d}-01-01T00:00:00{offset}", f"{year:04d}-12-31T23:59:59{offset}"):
        stored = published_iso(value)  # never raises: a date the stores can compare, or None
        assert stored is None or datetime.fromisoformat(stored.replace("Z", "+00:00"))


def test_every_kind_of_time_phrase_has_a_resolver() -> None:
    from index.ingest.dates import _PATTERNS, _RESOLVERS

    assert set(_RESOLVERS) == {kind for _, kind in _PATTERNS}
