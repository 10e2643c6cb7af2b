"""A console chat on the same answer pipeline, for trying the bot without Telegram."""

from __future__ import annotations

import sys
from typing import TextIO

from bot.i18n import error_key, t_plain
from bot.render import render_plain, render_sources_plain
from bot.replies import clean_question
from bot.settings import Settings
from index.errors import IndexFailure
from index.models import Answer
from index.service import IndexService, ProgressCallback

__all__ = ["console_progress", "run_console"]

QUIT = frozenset({"/quit", "/exit", "/q"})


def console_progress(out: TextIO) -> ProgressCallback:
    """A build progress callback that prints one line per stage step worth telling."""
    last: dict[str, int] = {}

    def progress(stage: str, done: int, total: int) -> None:
        step = max(total // 4, 1)
        if done == total or done - last.get(stage, -step) >= step:
            last[stage] = done
            print(f"  {stage} {done}/{total}", file=out, flush=True)

    return progress


def run_console(
    settings: Settings,
    service: IndexService,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
) -> int:
    """Answer questions read from ``stdin`` until EOF or /quit; return the exit code."""
    stdin = stdin or sys.stdin
    out = stdout or sys.stdout
    lang = settings.default_language
    interactive = stdin.isatty()
    print(t_plain("console_intro", lang, articles=len(service.articles())), file=out)
    last: Answer | None = None
    shown = 0
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
        if text in ("/help", "/start"):
            print(t_plain("console_intro", lang, articles=len(service.articles())), file=out)
            continue
        if text == "/sources":
            print(render_sources_plain(service.articles(), lang), file=out)
            continue
        try:
            if text == "/more":
                if last is None or not last.quotes:
                    print(t_plain("no_more", lang), file=out)
                    continue
                answer = service.ask(last.question, None, shown)
                if not answer.quotes:
                    print(t_plain("no_more", lang), file=out)
                    continue
            else:
                question = clean_question(
                    text.removeprefix("/ask").strip(), settings.max_question_chars
                )
                if not question:
                    print(t_plain("empty_question", lang), file=out)
                    continue
                answer, shown = service.ask(question), 0
        except IndexFailure as exc:
            print(t_plain(error_key(exc), lang), file=out)
            continue
        print(render_plain(answer, lang, first_number=shown + 1), file=out, flush=True)
        last, shown = answer, shown + len(answer.quotes)
    return 0
