"""A console chat on the same answer pipeline, for trying the bot without Telegram."""

from __future__ import annotations

import sys
from typing import TextIO

from bot.i18n import error_key, reply_language, t_plain
from bot.render import render_plain, render_sources_plain
from bot.replies import clean_question
from bot.settings import Settings
from index.errors import IndexFailure
from index.readers import open_readers
from index.service import IndexService, ProgressCallback
from index.session import ChatSession
from index.smalltalk import SmallTalk, small_talk

__all__ = ["console_progress", "run_console"]

QUIT = frozenset({"/quit", "/exit", "/q"})
CONSOLE_CHAT = 0  # the console is one chat


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


def run_console(
    settings: Settings,
    service: IndexService,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
) -> int:
    """Answer questions read from ``stdin`` until EOF or /quit; return the exit code.

    A reply is in the question's language when it is sure of it, as in the chat, else in
    ``DEFAULT_LANGUAGE`` (the console's only language of its own); /more keeps its answer's.
    """
    stdin = stdin or sys.stdin
    out = stdout or sys.stdout
    default = settings.default_language
    interactive = stdin.isatty()
    print(t_plain("console_intro", default, articles=len(service.summaries())), file=out)
    session = ChatSession(
        service,
        per_chat=10,
        max_chats=1,
        readers=open_readers(settings),
        follow_up_seconds=settings.follow_up_seconds,
    )
    last_key = ""  # the page /more continues; "" when there is none
    while True:
        if interactive:
            print("\n> ", end="", file=out, flush=True)
        line = stdin.readline()
        if not line:
            break
        text = line.strip()
        if not text:
            continue
        if text.lower() in QUIT:
            break
        print(file=out)
        lang: str = default
        if text in ("/help", "/start"):
            print(t_plain("console_intro", lang, articles=len(service.summaries())), file=out)
            continue
        if text == "/sources":
            print(render_sources_plain(service.summaries(), lang), file=out)
            continue
        try:
            if text == "/more":
                page = session.more(CONSOLE_CHAT, last_key) if last_key else None
                lang = page.lang if page is not None and page.lang else lang
                if page is None or not page.answer.quotes:
                    print(t_plain("no_more", lang), file=out)
                    last_key = ""
                    continue
            else:
                question = clean_question(
                    text.removeprefix("/ask").strip(), settings.max_question_chars
                )
                if not question:
                    print(t_plain("empty_question", lang), file=out)
                    continue
                lang = reply_language(question, None, default)
                talk = small_talk(question)
                if talk is not None:
                    print(small_talk_plain(talk, service), file=out)
                    continue
                page = session.ask(CONSOLE_CHAT, question, lang=lang)
        except IndexFailure as exc:
            print(t_plain(error_key(exc), lang), file=out)
            continue
        print(render_plain(page.answer, lang, first_number=page.first + 1), file=out, flush=True)
        last_key = page.key
    return 0
