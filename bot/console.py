"""A console chat on the same answer pipeline, for trying the bot without Telegram.

The chat's commands and buttons are console commands: /ask, /more (More), /context N
(Context N), /vote up and /vote down [N] (👍, 👎 and ✗ N wrong), /sources, /help; small talk,
questions about the collection and questions that are only a time frame get what the chat
gives them. When stdin is not a terminal each line read is echoed ("> question") before its
reply, so that a piped session reads like a chat.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TextIO

from bot.i18n import error_key, reply_language, t_plain
from bot.render import (
    OVERVIEW_PER_PAGE,
    period_words,
    render_context_plain,
    render_overview_plain,
    render_plain,
    render_sources_plain,
)
from bot.replies import clean_question
from bot.settings import Settings
from index import (
    ChatSession,
    IndexFailure,
    IndexService,
    Page,
    ProgressCallback,
    SmallTalk,
    TimeFrame,
    asks_about_collection,
    listed_period,
    open_readers,
    small_talk,
)

__all__ = ["console_progress", "run_console"]

QUIT = frozenset({"/quit", "/exit", "/q"})
CONSOLE_CHAT = 0  # the console is one chat
CONSOLE_READER = 0  # and one reader, whose votes count as a reader's


def console_progress(out: TextIO) -> ProgressCallback:
    """A build progress callback that prints one line per stage step worth telling."""
    last: dict[str, int] = {}

    def progress(stage: str, done: int, total: int) -> None:
        step = max(total // 4, 1)
        if done == total or done - last.get(stage, -step) >= step:
            last[stage] = done
            print(f"  {stage} {done}/{total}", file=out, flush=True)

    return progress


def small_talk_plain(talk: SmallTalk, service: IndexService) -> str:
    """The chat's answer to a greeting, thanks or goodbye, as console text."""
    if talk.kind != "greeting":
        return t_plain(f"small_talk_{talk.kind}", talk.lang)
    return t_plain("small_talk_greeting", talk.lang, articles=len(service.summaries()), bot="bot")


@dataclass(frozen=True, slots=True)
class _Listing:
    """A page of an article list shown: the collection's (``frame`` None) or a period's."""

    page: int
    pages: int
    frame: TimeFrame | None


class _Console:
    """The replies to one console's lines; what was shown last is what /more, /context and
    /vote act on, as the buttons under the last message would."""

    def __init__(self, settings: Settings, service: IndexService, session: ChatSession) -> None:
        self.settings = settings
        self.service = service
        self.session = session
        self.lang: str = settings.default_language
        self.page: Page | None = None  # the last answer's page
        self.listing: _Listing | None = None  # or the last article list's

    def reply(self, text: str) -> str:
        command, _, rest = text.partition(" ")
        command = command.lower()
        try:
            if command in ("/help", "/start"):
                return self._help()
            if command == "/sources":
                return render_sources_plain(self.service.summaries(), self.lang)
            if command == "/more":
                return self._more()
            if command == "/context":
                return self._context(rest)
            if command == "/vote":
                return self._vote(rest)
            if command == "/ask":
                return self._ask(rest)
            if command.startswith("/"):
                return t_plain("console_commands", self.lang)
            return self._ask(text)
        except IndexFailure as exc:
            return t_plain(error_key(exc), self.lang)

    def _help(self) -> str:
        articles = len(self.service.summaries())
        return "\n\n".join(
            (
                t_plain("help", self.lang, articles=articles, bot="bot"),
                t_plain("console_commands", self.lang),
            )
        )

    def _ask(self, text: str) -> str:
        question = clean_question(text, self.settings.max_question_chars)
        if not question:
            return t_plain("empty_question", self.lang)
        # The question's language when sure of it, as in the chat; else the console's own.
        self.lang = reply_language(question, None, self.settings.default_language)
        talk = small_talk(question)
        if talk is not None:  # not a question: no search, no gap, never a follow-up
            return small_talk_plain(talk, self.service)
        if asks_about_collection(question):  # "De quoi parle l'article ?": the list
            return self._list(0, None)
        frame = self.service.period_asked(question)
        if frame is not None:  # "Quoi de neuf cette semaine ?": the period's articles
            return self._list(0, frame)
        return self._show(self.session.ask(CONSOLE_CHAT, question, lang=self.lang))

    def _show(self, page: Page) -> str:
        self.page, self.listing = (page if page.key else None), None
        self.lang = page.lang or self.lang  # /more keeps its answer's language
        return render_plain(page.answer, self.lang, first_number=page.first + 1)

    def _more(self) -> str:
        if self.listing is not None and self.listing.page + 1 < self.listing.pages:
            return self._list(self.listing.page + 1, self.listing.frame)
        if self.page is None or not self.page.has_more:
            return t_plain("no_more", self.lang)
        page = self.session.more(CONSOLE_CHAT, self.page.key)
        if not page.answer.quotes:
            self.page = None
            return t_plain("no_more", self.lang)
        return self._show(page)

    def _list(self, page: int, frame: TimeFrame | None) -> str:
        """A page of the articles, or of a period's, newest first (the chat's overview)."""
        start, end = listed_period(frame) if frame is not None else (None, None)
        items, total = self.service.overview(
            page, OVERVIEW_PER_PAGE, start=start, end=end, dated_only=frame is not None
        )
        pages = max(1, math.ceil(total / OVERVIEW_PER_PAGE))
        self.page, self.listing = None, _Listing(page, pages, frame)
        words = ""
        if frame is not None and not frame.latest:
            words = period_words(frame.first_day, frame.last_day, self.lang) or ""
        if not items:
            if frame is None:
                return t_plain("sources_empty", self.lang)
            key = "overview_period_none" if words else "overview_latest_none"
            return t_plain(key, self.lang, period=words)
        if frame is None:
            heading = t_plain("overview_heading", self.lang, count=total)
        else:
            key = "overview_period" if words else "overview_latest"
            heading = t_plain(key, self.lang, count=total, period=words)
        return render_overview_plain(items, heading, page=page, pages=pages, lang=self.lang)

    def _number(self, word: str) -> int | None:
        """Quote ``word`` (1-based) of the last answer; None when it has none such."""
        shown = self.page
        if shown is None or not word.isdigit():
            return None
        number = int(word)
        return number if 1 <= number < shown.first + 1 + len(shown.answer.quotes) else None

    def _context(self, rest: str) -> str:
        """Context N: the paragraphs around quote N of the last answer."""
        if self.page is None:
            return t_plain("console_nothing_shown", self.lang)
        number = self._number(rest.strip())
        if number is None:
            return t_plain("console_no_quote", self.lang, n=rest.strip()[:20] or "?")
        quote = self.session.context(CONSOLE_CHAT, self.page.key, number)
        return render_context_plain(quote, self.lang)

    def _vote(self, rest: str) -> str:
        """👍 (/vote up) or 👎 (/vote down) on the last answer's first quote, or ✗ N wrong
        (/vote down N) on quote N."""
        words = rest.lower().split()
        if self.page is None:
            return t_plain("console_nothing_shown", self.lang)
        if not words or words[0] not in ("up", "down") or len(words) > 2:
            return t_plain("console_commands", self.lang)
        number = 0  # the page's first quote, as 👍 and 👎 vote
        if len(words) == 2:
            found = self._number(words[1])
            if found is None:
                return t_plain("console_no_quote", self.lang, n=words[1][:20])
            number = found
        value = 1 if words[0] == "up" else -1
        self.session.vote(CONSOLE_CHAT, self.page.key, CONSOLE_READER, value, number)
        return t_plain("vote_thanks", self.lang)


def run_console(
    settings: Settings,
    service: IndexService,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
) -> int:
    """Answer questions read from ``stdin`` until EOF or /quit.

    A reply is in the question's language when it is sure of it, as in the chat, else in
    ``DEFAULT_LANGUAGE`` (the console's only language of its own); /more keeps its answer's.

    Args:
        settings: The bot's settings (languages, follow-ups, the readers' store).
        service: The index the questions are asked of.
        stdin: Where the lines are read; None for ``sys.stdin``.
        stdout: Where the replies are written; None for ``sys.stdout``.

    Returns:
        The exit code, 0.
    """
    stdin = stdin or sys.stdin
    out = stdout or sys.stdout
    interactive = stdin.isatty()
    print(
        t_plain("console_intro", settings.default_language, articles=len(service.summaries())),
        file=out,
    )
    session = ChatSession(
        service,
        open_readers(settings),
        per_chat=10,
        follow_up_seconds=settings.follow_up_seconds,
    )
    console = _Console(settings, service, session)
    for text in _lines(stdin, out, interactive):
        if not interactive:  # a transcript: the line read, then its reply, as in a chat
            print(f"\n> {text}", file=out)
        print(file=out)
        print(console.reply(text), file=out, flush=True)
    return 0


def _lines(stdin: TextIO, out: TextIO, interactive: bool) -> Iterator[str]:
    """The non-blank lines read, stripped, until EOF or a quit command; a prompt before each
    read when ``interactive``."""
    while True:
        if interactive:
            print("\n> ", end="", file=out, flush=True)
        line = stdin.readline()
        if not line:
            return
        text = line.strip()
        if text.lower() in QUIT:
            return
        if text:
            yield text
