"""Dates: publication dates as the store keeps them, and time frames read in questions.

Publication dates are kept as ISO 8601 text, ``YYYY-MM-DD`` when the source gives a day only and
``YYYY-MM-DDTHH:MM:SSZ`` (UTC) when it gives a time, so that the stores' filters compare them as
text. A question's time frame ("depuis lundi", "en janvier 2022", "la semaine dernière",
"last week") becomes a ``TimeFrame``: bounds resolved in the chat's time zone and given in UTC,
which the search turns into the stores' ``published_from`` / ``published_to`` filters.
Phrases are found by the patterns below; the dates inside them are read by dateparser, which
knows French, English and many other languages.

>>> from datetime import datetime
>>> from zoneinfo import ZoneInfo
>>> now = datetime(2026, 12, 1, 9, 30, tzinfo=ZoneInfo("Europe/Paris"))  # a Tuesday
>>> frame = time_frame("Qu'est-ce qui s'est passé depuis lundi ?", now)
>>> frame.start, frame.end, frame.question
('2026-11-29T23:00:00Z', None, "Qu'est-ce qui s'est passé ?")
>>> published_iso("5 mars 2024")
'2024-03-05'
>>> display_date("2024-03-05T10:00:00Z", "fr")
'5 mars 2024'
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

__all__ = ["TimeFrame", "display_date", "published_iso", "time_frame"]

# How far back a "latest news" question looks first (then, when nothing is that recent, at all).
LATEST_DAYS = 30
_DATE_LANGUAGES = ["fr", "en", "de", "es", "it"]

_MONTHS = {
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "en": "January February March April May June July August September October November December",
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
    "it": "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre "
    "dicembre",
}
# How a day is written in a citation: "5 mars 2024", "5 de marzo de 2024", "5. März 2024".
_DAY_FORMATS = {"es": "{day} de {month} de {year}", "de": "{day}. {month} {year}"}
_MONTH_WORDS = (
    "janvier|f[ée]vrier|mars|avril|mai|juin|juillet|ao[uû]t|septembre|octobre|novembre|"
    "d[ée]cembre|january|february|march|april|may|june|july|august|september|october|"
    "november|december"
)
_WEEKDAYS = (
    "lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|"
    "monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    "lunes|martes|mi[ée]rcoles|jueves|viernes|s[áa]bado|domingo|"
    "montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag|"
    "luned[ìi]|marted[ìi]|mercoled[ìi]|gioved[ìi]|venerd[ìi]|sabato|domenica"
)
_DAY = r"(?:le\s+|the\s+)?\d{1,2}(?:er|st|nd|rd|th)?\s+(?:" + _MONTH_WORDS + r")(?:\s+\d{4})?"
_DAY_EN = r"(?:" + _MONTH_WORDS + r")\s+\d{1,2}(?:st|nd|rd|th)?(?:,?\s+\d{4})?"
_MONTH_YEAR = r"(?:" + _MONTH_WORDS + r")(?:\s+(?:de\s+|of\s+)?\d{4})?"
_YEAR = r"(?:19|20)\d{2}"
_POINT = (
    rf"(?:{_DAY}|{_DAY_EN}|{_MONTH_YEAR}|{_YEAR}|(?:(?:le\s+|last\s+|el\s+|il\s+)?(?:{_WEEKDAYS})))"
)

# (pattern, kind): each kind is resolved by ``_RESOLVERS[kind]``; the first match in this order
# wins.
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(
            rf"\b(?:entre|between)\s+(?P<a>{_POINT})\s+(?:et|and)\s+(?P<b>{_POINT})\b", re.I
        ),
        "between",
    ),
    (re.compile(rf"\b(?:depuis|since|from|desde|seit|da)\s+(?P<a>{_POINT})\b", re.I), "since"),
    (re.compile(rf"\b(?:avant|before)\s+(?P<a>{_POINT})\b", re.I), "before"),
    (re.compile(rf"\b(?:après|apres|after)\s+(?P<a>{_POINT})\b", re.I), "after"),
    (
        re.compile(
            r"\b(?:ces|les)\s+(?P<n>\d{1,3})\s+derniers\s+jours\b|\b(?:last|past)\s+(?P<m>\d{1,3})\s+days\b|"
            r"\b[úu]ltimos\s+(?P<p>\d{1,3})\s+d[íi]as\b|\bletzten\s+(?P<q>\d{1,3})\s+tagen?\b",
            re.I,
        ),
        "days",
    ),
    (
        re.compile(
            r"\b(?:la\s+semaine\s+(?:derni[èe]re|pass[ée]e)|last\s+week|la\s+semana\s+pasada|"
            r"(?:letzte|vergangene)n?\s+woche|la\s+settimana\s+scorsa)\b",
            re.I,
        ),
        "last_week",
    ),
    (
        re.compile(
            r"\b(?:cette\s+semaine|this\s+week|esta\s+semana|diese[rn]?\s+woche|questa\s+settimana)\b",
            re.I,
        ),
        "this_week",
    ),
    (
        re.compile(
            r"\b(?:le\s+mois\s+(?:dernier|pass[ée])|last\s+month|el\s+mes\s+pasado|"
            r"(?:letzten|vergangenen)\s+monat|il\s+mese\s+scorso)\b",
            re.I,
        ),
        "last_month",
    ),
    (
        re.compile(
            r"\b(?:ce\s+mois(?:-ci)?|this\s+month|este\s+mes|diesen\s+monat|questo\s+mese)\b",
            re.I,
        ),
        "this_month",
    ),
    (
        re.compile(
            r"\b(?:l'ann[ée]e\s+(?:derni[èe]re|pass[ée]e)|l’ann[ée]e\s+(?:derni[èe]re|pass[ée]e)|l'an\s+dernier|l’an\s+dernier|last\s+year)\b",
            re.I,
        ),
        "last_year",
    ),
    (re.compile(r"\b(?:cette\s+ann[ée]e|this\s+year)\b", re.I), "this_year"),
    (
        re.compile(
            r"\b(?:depuis\s+hier|since\s+yesterday|desde\s+ayer|seit\s+gestern|da\s+ieri)\b", re.I
        ),
        "since_yesterday",
    ),
    (re.compile(r"\b(?:hier|yesterday|ayer|gestern|ieri)\b", re.I), "yesterday"),
    (re.compile(r"\b(?:aujourd'hui|aujourd’hui|today|hoy|heute|oggi)\b", re.I), "today"),
    (
        re.compile(
            rf"\b(?:en|in|on|le|au\s+mois\s+de)\s+(?P<a>{_DAY}|{_DAY_EN}|{_MONTH_YEAR}|{_YEAR})\b",
            re.I,
        ),
        "during",
    ),
]
# Kinds whose period comes from a date in the question (relative only for a weekday: "lundi"),
# and "aujourd'hui", as often "nowadays" as "today".
_LOOSE_KINDS = frozenset({"between", "since", "before", "after", "during", "today"})
_WEEKDAY = re.compile(rf"\b(?:{_WEEKDAYS})\b", re.I)
_LATEST = re.compile(
    r"\b(?:derni[èe]res?\s+(?:nouvelles|informations|infos|actualit[ée]s|news)|"
    r"r[ée]cemment|le\s+plus\s+r[ée]cent|quoi\s+de\s+neuf|latest|most\s+recent|recently|"
    r"what'?s\s+new|[úu]ltimas\s+noticias|novedades|qu[ée]\s+hay\s+de\s+nuevo|"
    r"lo\s+m[áa]s\s+reciente|neuesten?\s+nachrichten|was\s+gibt(?:\s+es|'s|s)?\s+neues|"
    r"neuigkeiten|ultime\s+notizie|novit[àa])\b",
    re.I,
)


@dataclass(frozen=True, slots=True)
class TimeFrame:
    """The period a question asks about: UTC bounds (``start`` inclusive, ``end`` exclusive),
    either may be None; ``latest`` when it asks for recent news without a period; ``phrase``
    as written; ``question`` is the question without it (what gets embedded); ``first_day``
    and ``last_day`` are the same period as local dates, both included (what a reply shows).

    Every frame is a preference: when the articles of the period hold no answer, the search
    widens to all of them (declining a question the articles answer is the worst failure).
    ``relative`` frames ("depuis lundi", "last week", "hier") ask what was published then, so a
    widened answer says that nothing of the period answers; a frame with a date of its own
    ("en 2018", "avant le 1er mars 2022") may as well name when the events happened, which an
    article published later tells, so it widens without a word."""

    start: str | None
    end: str | None
    phrase: str
    question: str
    latest: bool = False
    first_day: str | None = None
    last_day: str | None = None
    relative: bool = True


def time_frame(question: str, now: datetime) -> TimeFrame | None:
    """The time frame a question carries, resolved against ``now`` (aware, in the chat's time
    zone), or None when it has none."""
    for pattern, kind in _PATTERNS:
        match = pattern.search(question)
        if match is None:
            continue
        try:
            bounds = _RESOLVERS[kind](match, now)
            if bounds is None:
                continue
            start, end = bounds
            return TimeFrame(
                _utc(start),
                _utc(end),
                match.group(0),
                _without(question, match),
                first_day=start.date().isoformat() if start else None,
                last_day=(end - timedelta(days=1)).date().isoformat() if end else None,
                relative=kind not in _LOOSE_KINDS or bool(_WEEKDAY.search(match.group(0))),
            )
        except OverflowError:
            # A period that starts or ends past year 1 or 9999 (in the chat's zone or in UTC):
            # "avant le 1er janvier 0001" excludes nothing a store holds, so it is no frame.
            continue
    latest = _LATEST.search(question)
    if latest is not None:
        start = _midnight(now.date() - timedelta(days=LATEST_DAYS), now.tzinfo)
        return TimeFrame(
            _utc(start),
            None,
            latest.group(0),
            question,
            latest=True,
            first_day=start.date().isoformat(),
            relative=False,
        )
    return None


def published_iso(value: str | None) -> str | None:
    """A source's publication date as the stores keep it, or None when it is not a date (or
    one past the calendar's years 1 to 9999 once in UTC).

    ISO 8601 first (what HTML metadata and feeds mostly give), then dateparser in the languages
    we serve ("5 mars 2024", "Tue, 05 Mar 2024 10:00:00 GMT").
    """
    if not value or not value.strip():
        return None
    text = value.strip()[:100]
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text).isoformat()
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        parsed = _parse(text, None)
        if parsed is None:
            return None
        if parsed.time() == time(0) and not re.search(r"\d:\d", text):
            return parsed.date().isoformat()
        moment = parsed
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return _utc(moment)
    except OverflowError:  # "9999-12-31T23:59:59-23:59" is in year 10000 in UTC: no date
        return None


def display_date(published: str | None, lang: str) -> str | None:
    """A stored publication date for a citation in ``lang`` (English for a language it does not
    know): "5 mars 2024", "5 March 2024", "5 de marzo de 2024", "5. März 2024", "5 marzo 2024".

    >>> display_date("2024-03-05", "es"), display_date("2024-03-05T23:00:00Z", "de")
    ('5 de marzo de 2024', '5. März 2024')
    """
    if not published:
        return None
    try:
        day = date.fromisoformat(published[:10])
    except ValueError:
        return None
    month = _MONTHS.get(lang, _MONTHS["en"]).split()[day.month - 1]
    template = _DAY_FORMATS.get(lang, "{day} {month} {year}")
    return template.format(day=day.day, month=month, year=day.year)


# A period's start (included) and end (excluded), either open (None).
Bounds = tuple[datetime | None, datetime | None]
# The period one kind of phrase names, from its match and the chat's now; None when it names
# none ("les 0 derniers jours", a date dateparser cannot read).
Resolver = Callable[[re.Match[str], datetime], Bounds | None]


def _since(match: re.Match[str], now: datetime) -> Bounds | None:
    first = _period(match.group("a"), now)
    return (first[0], None) if first is not None else None


def _after(match: re.Match[str], now: datetime) -> Bounds | None:
    first = _period(match.group("a"), now)
    return (first[1], None) if first is not None else None


def _before(match: re.Match[str], now: datetime) -> Bounds | None:
    first = _period(match.group("a"), now)
    return (None, first[0]) if first is not None else None


def _during(match: re.Match[str], now: datetime) -> Bounds | None:
    return _period(match.group("a"), now)


def _between(match: re.Match[str], now: datetime) -> Bounds | None:
    first = _period(match.group("a"), now)
    if first is None:
        return None
    later = match.group("b")
    # "entre mars et mai 2022": the first date takes the year written after the second.
    year = re.search(_YEAR + r"$", later)
    if year and not re.search(_YEAR, match.group("a")):
        first = _period(f"{match.group('a')} {year.group(0)}", now) or first
    second = _period(later, now)
    return (first[0], second[1]) if second is not None else None


def _last_days(match: re.Match[str], now: datetime) -> Bounds | None:
    found = match.groupdict()
    count = int(found.get("n") or found.get("m") or found.get("p") or found.get("q") or 0)
    if not 0 < count <= 366:
        return None
    return _midnight(now.date() - timedelta(days=count), now.tzinfo), None


def _since_yesterday(match: re.Match[str], now: datetime) -> Bounds | None:
    return _midnight(now.date() - timedelta(days=1), now.tzinfo), None


def _day(days_ago: int) -> Resolver:
    """The resolver of one whole day, ``days_ago`` days before today."""

    def resolve(match: re.Match[str], now: datetime) -> Bounds | None:
        day = now.date() - timedelta(days=days_ago)
        return _midnight(day, now.tzinfo), _midnight(day + timedelta(days=1), now.tzinfo)

    return resolve


def _this_week(match: re.Match[str], now: datetime) -> Bounds | None:
    today = now.date()
    return _midnight(today - timedelta(days=today.weekday()), now.tzinfo), None


def _last_week(match: re.Match[str], now: datetime) -> Bounds | None:
    today, zone = now.date(), now.tzinfo
    monday = today - timedelta(days=today.weekday())
    return _midnight(monday - timedelta(days=7), zone), _midnight(monday, zone)


def _this_month(match: re.Match[str], now: datetime) -> Bounds | None:
    return _midnight(now.date().replace(day=1), now.tzinfo), None


def _last_month(match: re.Match[str], now: datetime) -> Bounds | None:
    first_day = now.date().replace(day=1)
    previous = (first_day - timedelta(days=1)).replace(day=1)
    return _midnight(previous, now.tzinfo), _midnight(first_day, now.tzinfo)


def _this_year(match: re.Match[str], now: datetime) -> Bounds | None:
    return _midnight(date(now.year, 1, 1), now.tzinfo), None


def _last_year(match: re.Match[str], now: datetime) -> Bounds | None:
    year = now.date().year - 1
    return _midnight(date(year, 1, 1), now.tzinfo), _midnight(date(year + 1, 1, 1), now.tzinfo)


# How each kind of ``_PATTERNS`` becomes bounds: a new kind of phrase is a pattern there and a
# resolver here (tests/index/ingest/test_dates.py checks that every kind has one).
_RESOLVERS: dict[str, Resolver] = {
    "between": _between,
    "since": _since,
    "before": _before,
    "after": _after,
    "days": _last_days,
    "last_week": _last_week,
    "this_week": _this_week,
    "last_month": _last_month,
    "this_month": _this_month,
    "last_year": _last_year,
    "this_year": _this_year,
    "since_yesterday": _since_yesterday,
    "yesterday": _day(1),
    "today": _day(0),
    "during": _during,
}


def _period(phrase: str, now: datetime) -> tuple[datetime, datetime] | None:
    """The whole period a date phrase names: a day, a month or a year, in ``now``'s zone."""
    zone = now.tzinfo
    text = re.sub(r"^(?:le|the|last|el|il)\s+", "", phrase.strip(), flags=re.I)
    if re.fullmatch(_YEAR, text):
        year = int(text)
        return _midnight(date(year, 1, 1), zone), _midnight(date(year + 1, 1, 1), zone)
    month_only = re.fullmatch(rf"({_MONTH_WORDS})(?:\s+(?:de\s+|of\s+)?(\d{{4}}))?", text, re.I)
    parsed = _parse(text, now)
    if parsed is None:
        return None
    day = parsed.date()
    if month_only:
        first = day.replace(day=1)
        if not month_only.group(2) and first > now.date():
            first = first.replace(year=first.year - 1)  # "en mars" in January: the last March
        following = (first + timedelta(days=32)).replace(day=1)
        return _midnight(first, zone), _midnight(following, zone)
    return _midnight(day, zone), _midnight(day + timedelta(days=1), zone)


def _parse(text: str, now: datetime | None) -> datetime | None:
    import dateparser

    settings: dict[str, Any] = {"PREFER_DATES_FROM": "past", "PREFER_DAY_OF_MONTH": "first"}
    if now is not None:
        settings["RELATIVE_BASE"] = now.replace(tzinfo=None)
    try:
        return dateparser.parse(_fold_ordinals(text), languages=_DATE_LANGUAGES, settings=settings)
    except (ValueError, OverflowError, TypeError):
        return None


def _fold_ordinals(text: str) -> str:
    return re.sub(r"\b(\d{1,2})(?:er|st|nd|rd|th)\b", r"\1", unicodedata.normalize("NFC", text))


def _midnight(day: date, zone: tzinfo | None) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone or UTC)


def _utc(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _without(question: str, match: re.Match[str]) -> str:
    left, right = question[: match.start()].rstrip(), question[match.end() :]
    rest = left + right if re.match(r"\s*[?!.,;:]", right) else f"{left} {right.lstrip()}"
    rest = rest.strip()
    return rest if any(char.isalnum() for char in rest) else question
