"""Answers as Telegram HTML (escaped, ≤ 4096 characters per message) and as console text.

Pure functions over ``index.models`` values: no I/O, testable with string literals.

>>> from index.models import Quote
>>> q = Quote("a", "Title & co", None, "One. Two <b>. Three.", 0, 20, 5, 13, 0.9)
>>> render_quote(q, 1)
'<b>1.</b> <i>Title &amp; co</i>\\n<blockquote>One. <b>Two &lt;b&gt;.</b> Three.</blockquote>'
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence

from bot.i18n import t, t_plain
from index import (
    Answer,
    ArticleLead,
    ArticleSummary,
    GapGroup,
    Quote,
    RatedGroup,
    TimeFrame,
    display_date,
)

__all__ = [
    "MAX_MESSAGE",
    "format_bytes",
    "format_seconds",
    "render_answer",
    "render_context",
    "render_context_plain",
    "render_gaps",
    "render_inline",
    "render_overview",
    "render_overview_plain",
    "render_plain",
    "render_quote",
    "render_sources",
    "render_sources_plain",
    "trim_around",
    "utf16_len",
]

MAX_MESSAGE = 4096  # Telegram's limit, in UTF-16 code units of the parsed text
ELLIPSIS = "…"
MIN_BLOCK = 700  # below this a quote loses its meaning: split into messages instead
MAX_TITLE = 200
MAX_LINK = 300  # longer URLs are not linked (they would crowd out the quotes)
MAX_OUTLET = 60
OVERVIEW_PER_PAGE = 5  # articles per page of an overview (``render_overview``)
MAX_ALSO_IN = 3  # wire copies named under a quote; more are counted
_SEPARATOR = "\n\n"


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's limits (an emoji counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


def _shorten(text: str, limit: int) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis."""
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + ELLIPSIS


def _http_url(url: str | None) -> str | None:
    """The URL if it is a short http(s) one Telegram will accept in a link."""
    if url and len(url) <= MAX_LINK and re.match(r"https?://[^\s<>\"]+$", url):
        return url
    return None


def trim_around(text: str, hl_start: int, hl_end: int, budget: int) -> tuple[str, int, int]:
    """Cut ``text`` to about ``budget`` characters around ``text[hl_start:hl_end]``.

    Cuts fall on spaces and are marked with "…"; returns the text and the highlight's new
    offsets in it. A highlight longer than the budget is itself cut.

    >>> trim_around("aaa bbb CCC ddd eee", 8, 11, 13)
    ('…bbb CCC ddd…', 5, 8)
    """
    if len(text) <= budget:
        return text, hl_start, hl_end
    budget = max(budget, 2)
    if hl_end - hl_start >= budget - 2:
        cut = text[hl_start : hl_start + budget - 1].rstrip() + ELLIPSIS
        return cut, 0, len(cut)
    room = budget - (hl_end - hl_start) - 2  # two ellipses
    before = min(hl_start, room // 2)
    after = min(len(text) - hl_end, room - before)
    before = min(hl_start, room - after)
    start, end = hl_start - before, hl_end + after
    if start > 0 and not text[start - 1].isspace():  # do not start mid-word
        space = text.find(" ", start, hl_start)
        start = space + 1 if space != -1 else start
    if end < len(text) and not text[end].isspace():  # nor end mid-word
        space = text.rfind(" ", hl_end, end)
        end = space if space != -1 else end
    head = ELLIPSIS if start > 0 else ""
    tail = ELLIPSIS if end < len(text) else ""
    body = text[start:end]
    stripped = body.lstrip()
    lead = len(body) - len(stripped)
    out = head + stripped.rstrip() + tail
    shift = len(head) - start - lead
    return out, hl_start + shift, min(hl_end + shift, len(out) - len(tail))


def _title_html(quote: Quote, lang: str) -> str:
    title = _escape(_shorten(quote.title, MAX_TITLE))
    url = _http_url(quote.url)
    linked = f'<a href="{html.escape(url, quote=True)}">{title}</a>' if url else f"<i>{title}</i>"
    return linked + _escape(_source_details(quote, lang))


def _source_details(quote: Quote, lang: str) -> str:
    """ " · Outlet · 5 mars 2024 · aussi dans : A, B" (each part only when known)."""
    parts = [_shorten(quote.outlet, MAX_OUTLET)] if quote.outlet else []
    shown_date = display_date(quote.published, lang)
    if shown_date:
        parts.append(shown_date)
    if quote.also_in:
        names = [_shorten(name, MAX_OUTLET) for name in quote.also_in[:MAX_ALSO_IN]]
        if len(quote.also_in) > MAX_ALSO_IN:
            names.append(f"+{len(quote.also_in) - MAX_ALSO_IN}")
        parts.append(t_plain("also_in", lang, names=", ".join(names)))
    return "".join(f" · {part}" for part in parts)


def _follow_up_line(previous: str, lang: str) -> str:
    return t_plain("follow_up_note", lang, question=_shorten(previous, 120))


def period_line(frame: TimeFrame | None, lang: str, widened: bool = False) -> str | None:
    """The period a question's time frame kept, in words ("Articles publiés depuis le …"), or
    that nothing of it answered (``widened``)."""
    if frame is None:
        return None
    period = period_words(frame.first_day, frame.last_day, lang)
    if period is None:
        return None
    return t_plain("period_widened" if widened else "period", lang, period=period)


def period_words(first_day: str | None, last_day: str | None, lang: str) -> str | None:
    """A period in words: "le 5 mars 2024", "depuis le 30 novembre 2026", "du … au …"."""
    first = display_date(first_day, lang)
    last = display_date(last_day, lang)
    if first and last:
        key = "period_day" if first == last else "period_between"
    elif first:
        key = "period_since"
    elif last:
        key = "period_until"
    else:
        return None
    return t_plain(key, lang, first=first or "", last=last or "")


def _quote_html(quote: Quote, budget: int | None) -> str:
    text = quote.text.strip("\n")
    lead = len(quote.text) - len(quote.text.lstrip("\n"))
    mark_start = min(max(quote.highlight_start - quote.start - lead, 0), len(text))
    mark_end = min(max(quote.highlight_end - quote.start - lead, 0), len(text))
    if budget is not None:
        text, mark_start, mark_end = trim_around(text, mark_start, mark_end, budget)
    before, mark, after = text[:mark_start], text[mark_start:mark_end], text[mark_end:]
    bold = f"<b>{_escape(mark)}</b>" if mark.strip() else _escape(mark)
    return f"<blockquote>{_escape(before)}{bold}{_escape(after)}</blockquote>"


def render_quote(
    quote: Quote, number: int | None = None, max_len: int = MAX_MESSAGE, lang: str = "fr"
) -> str:
    """One quote as HTML: number, title (linked when it has a URL), outlet and date, the text,
    highlight in bold.

    The quote is trimmed around its highlight so that the block fits in ``max_len``.
    """
    head = f"<b>{number}.</b> " if number is not None else ""
    head += _title_html(quote, lang) + "\n"
    available = max_len - utf16_len(head)
    body = _quote_html(quote, None)
    budget = len(quote.text)
    for _ in range(12):
        size = utf16_len(body)
        if size <= available:
            return head + body
        # Escaping and astral characters make HTML size and text length differ: scale.
        budget = max(1, min(budget - 1, int(budget * available / size) - 2))
        body = _quote_html(quote, budget)
    # Pathological text (every character an "&"): cut without mercy.
    return head + _quote_html(quote, max(1, (available - 40) // 5))


def _pack(blocks: Sequence[str], limit: int) -> list[str]:
    """Greedily join blocks into messages of at most ``limit`` UTF-16 units."""
    messages: list[str] = []
    current = ""
    for block in blocks:
        joined = f"{current}{_SEPARATOR}{block}" if current else block
        if current and utf16_len(joined) > limit:
            messages.append(current)
            current = block
        else:
            current = joined
    if current:
        messages.append(current)
    return messages


def render_answer(
    answer: Answer,
    lang: str,
    *,
    first_number: int = 1,
    limit: int = MAX_MESSAGE,
    scope: str = "",
) -> list[str]:
    """The reply to a question as HTML messages (usually one), each at most ``limit`` long.

    Quotes are trimmed around their highlight to fit in one message; only when even trimmed
    quotes cannot share one (many quotes) are they split into several messages.

    Args:
        answer: The index's answer.
        lang: The reply's language.
        first_number: The number shown on the first quote (a "More" page goes on counting).
        limit: The most UTF-16 code units a message may have (Telegram's 4,096).
        scope: A scoped group's scope in words, which a declined answer names (the rest of
            the collection may answer); empty for none.

    Returns:
        The messages, in order.
    """
    period = period_line(answer.time_frame, lang, answer.widened)
    # The period first: a reader sees which articles were searched before what was found.
    note = f"<i>{_escape(period)}</i>\n\n" if period else ""
    if answer.follow_up_of and answer.quotes:
        note = f"<i>{_escape(_follow_up_line(answer.follow_up_of, lang))}</i>\n\n" + note
    if not answer.quotes:
        declined = t("no_answer_scoped", lang, scope=scope) if scope else t("no_answer", lang)
        return [note + declined]
    if answer.outcome == "closest":
        # Only the nearest passages: said first, in plain words, so nobody takes them as the answer.
        note += f"<i>{t('closest_note', lang)}</i>\n\n"
    messages = _render_quotes(answer, first_number, limit - utf16_len(note), lang)
    return [note + messages[0], *messages[1:]]


def _render_quotes(answer: Answer, first_number: int, limit: int, lang: str) -> list[str]:
    quotes = answer.quotes
    full = [render_quote(q, first_number + i, limit, lang) for i, q in enumerate(quotes)]
    if utf16_len(_SEPARATOR.join(full)) <= limit:
        return [_SEPARATOR.join(full)]
    share = (limit - len(_SEPARATOR) * (len(quotes) - 1)) // len(quotes)
    target = min(limit, max(share, MIN_BLOCK))
    return _pack(
        [render_quote(q, first_number + i, target, lang) for i, q in enumerate(quotes)], limit
    )


def render_context(quote: Quote, limit: int = MAX_MESSAGE, lang: str = "fr") -> str:
    """The paragraph(s) around a quote (from ``IndexService.context``), highlight kept in bold."""
    return render_quote(quote, None, limit, lang)


def render_inline(quote: Quote, question: str, limit: int = MAX_MESSAGE, lang: str = "fr") -> str:
    """The message an inline result posts: the question in italics, then the quote."""
    head = f"❓ <i>{_escape(_shorten(question, 300))}</i>\n\n"
    return head + render_quote(quote, None, limit - utf16_len(head), lang)


def render_plain(answer: Answer, lang: str, first_number: int = 1) -> str:
    """An answer for the console: numbered quotes, the highlight between ** **, the source."""
    period = period_line(answer.time_frame, lang, answer.widened)
    if not answer.quotes:
        return "\n\n".join(p for p in (period, t_plain("no_answer", lang)) if p)
    if answer.follow_up_of:
        period = "\n\n".join(p for p in (_follow_up_line(answer.follow_up_of, lang), period) if p)
    parts = [_quote_plain(quote, i, lang) for i, quote in enumerate(answer.quotes, first_number)]
    if answer.outcome == "closest":
        parts.insert(0, t_plain("closest_note", lang))
    if period:
        parts.insert(0, period)
    return "\n\n".join(parts)


def _quote_plain(quote: Quote, number: int | None, lang: str) -> str:
    """One quote for the console: "[n] ", the text with its highlight between ** **, the source."""
    mark_start = quote.highlight_start - quote.start
    mark_end = quote.highlight_end - quote.start
    text = f"{quote.text[:mark_start]}**{quote.text[mark_start:mark_end]}**{quote.text[mark_end:]}"
    source = _shorten(quote.title, MAX_TITLE) + (f" <{quote.url}>" if quote.url else "")
    head = f"[{number}] " if number is not None else ""
    return f"{head}{text.strip()}\n    — {source}{_source_details(quote, lang)}"


def render_context_plain(quote: Quote, lang: str) -> str:
    """A quote's surroundings (``IndexService.context``) for the console."""
    return _quote_plain(quote, None, lang)


def render_gaps(
    gaps: Sequence[GapGroup], disliked: Sequence[RatedGroup], days: int, lang: str
) -> str:
    """``/gaps`` as HTML: unanswered questions by wording, then the lowest-rated answers; the
    lists are cut with "… and N more" so that the report fits in one message."""
    header = t("gaps_header", lang, days=days)
    gap_lines = []
    for n, group in enumerate(gaps, 1):
        outcomes = ", ".join(
            f"{t_plain('gap_' + outcome, lang)} {count}" for outcome, count in group.outcomes
        )
        question = _escape(_shorten(group.question, MAX_TITLE))
        scope = f" — {t('gap_scope', lang, scope=group.scope)}" if group.scope else ""
        gap_lines.append(f"{n}. « {question} » ×{group.count} ({outcomes}){scope}")
    rated_lines = [
        f"{n}. « {_escape(_shorten(rated.question, MAX_TITLE))} » ({rated.net:+d})"
        for n, rated in enumerate(disliked, 1)
    ]
    rated_header = t("gaps_disliked", lang)
    room = MAX_MESSAGE - utf16_len(header) - (utf16_len(rated_header) + 2 if rated_lines else 0)
    first = _fit(gap_lines, room // 2 if rated_lines else room, lang) or [t("gaps_none", lang)]
    lines = [header, *first]
    if rated_lines:
        left = room - sum(utf16_len(line) + 1 for line in first)
        lines += ["", rated_header, *_fit(rated_lines, left, lang)]
    return "\n".join(lines)


def _fit(lines: Sequence[str], room: int, lang: str) -> list[str]:
    """As many of ``lines`` as fit in ``room`` (UTF-16 units, a newline each), then "… and N
    more" for the rest."""
    kept: list[str] = []
    used = 0
    for n, line in enumerate(lines):
        rest = t("gaps_more", lang, count=len(lines) - n)
        after = 0 if n == len(lines) - 1 else utf16_len(rest) + 1  # room for "… and N more"
        if used + utf16_len(line) + 1 + after > room:
            return [*kept, rest]
        kept.append(line)
        used += utf16_len(line) + 1
    return kept


def render_sources(
    articles: Sequence[ArticleSummary],
    page: int,
    lang: str,
    *,
    per_page: int = 10,
    scope: str = "",
) -> tuple[str, int, int]:
    """One page of the article list as HTML.

    Args:
        articles: Every article listed, in order.
        page: The page asked for, from 0, brought within the pages there are.
        lang: The reply's language.
        per_page: Articles on a page.
        scope: A scoped group's scope in words, said under the header; empty for none.

    Returns:
        The page's text, the page actually shown and the number of pages.
    """
    if not articles:
        empty = t("sources_scope_empty", lang, scope=scope) if scope else t("sources_empty", lang)
        return empty, 0, 1
    said = f"\n{t('sources_scope', lang, scope=scope)}" if scope else ""
    pages = max(1, math.ceil(len(articles) / per_page))
    page = min(max(page, 0), pages - 1)
    shown = articles[page * per_page : (page + 1) * per_page]
    header = t("sources_header", lang, count=len(articles), page=page + 1, pages=pages) + said
    for linked in (True, False):
        lines = [header]
        for article in shown:
            title = _escape(_shorten(article.title, 150))
            url = _http_url(article.url) if linked else None
            if url:
                title = f'<a href="{html.escape(url, quote=True)}">{title}</a>'
            lines.append(f"<code>{_escape(article.id)}</code> — {title}")
        text = "\n".join(lines)
        if utf16_len(text) <= MAX_MESSAGE:
            break
    return text, page, pages


def render_sources_plain(articles: Sequence[ArticleSummary], lang: str) -> str:
    """Every article for the console: id, title and URL."""
    if not articles:
        return t_plain("sources_empty", lang)
    lines = [
        f"{a.id} — {_shorten(a.title, 150)}" + (f" <{a.url}>" if a.url else "") for a in articles
    ]
    return "\n".join(lines)


def format_bytes(size: int) -> str:
    """``123456`` -> ``'121 KB'``."""
    value = float(size)
    for unit in ("bytes", "KB", "MB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit != "MB" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


def format_seconds(seconds: float | None) -> str:
    """``0.0234`` -> ``'23 ms'``, ``2.5`` -> ``'2.50 s'``, None -> ``'–'``."""
    if seconds is None:
        return "–"
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _lead_html(item: ArticleLead, lang: str) -> str:
    title = _escape(_shorten(item.title, MAX_TITLE))
    url = _http_url(item.url)
    linked = f'<a href="{html.escape(url, quote=True)}">{title}</a>' if url else f"<b>{title}</b>"
    parts = [_shorten(item.outlet, MAX_OUTLET)] if item.outlet else []
    shown_date = display_date(item.published, lang)
    if shown_date:
        parts.append(shown_date)
    details = _escape("".join(f" · {part}" for part in parts))
    lead = f"\n{_escape(item.lead)}" if item.lead else ""
    return f"• {linked}{details}{lead}"


def render_overview(
    items: Sequence[ArticleLead], heading: str, *, page: int, pages: int, lang: str
) -> str:
    """A page of the collection's articles (title, outlet, date, lead sentence): what "De quoi
    parlent les articles ?" and a question that is only a time frame get.

    Args:
        items: The page's articles with their lead sentences.
        heading: The list's heading, a plain line (``t_plain``), escaped here.
        page: The page's number, from 0.
        pages: The number of pages; "page N of M" is said when there are several.
        lang: The reply's language.

    Returns:
        The page as HTML, one message.
    """
    header = _escape(heading)
    if pages > 1:
        header += _escape(t_plain("page_of", lang, page=page + 1, pages=pages))
    # Each article is at most ~560 characters (title, outlet and lead are cut), so a page of
    # ``OVERVIEW_PER_PAGE`` always fits in one message.
    return "\n\n".join([header, *(_lead_html(item, lang) for item in items)])


def render_overview_plain(
    items: Sequence[ArticleLead], heading: str, *, page: int, pages: int, lang: str
) -> str:
    """``render_overview`` for the console: the same list as plain text."""
    header = heading + (t_plain("page_of", lang, page=page + 1, pages=pages) if pages > 1 else "")
    lines = [header]
    for item in items:
        parts = [_shorten(item.outlet, MAX_OUTLET)] if item.outlet else []
        shown_date = display_date(item.published, lang)
        if shown_date:
            parts.append(shown_date)
        title = _shorten(item.title, MAX_TITLE) + (f" <{item.url}>" if item.url else "")
        lead = f"\n  {item.lead}" if item.lead else ""
        lines.append(f"• {title}{''.join(f' · {part}' for part in parts)}{lead}")
    return "\n\n".join(lines)
