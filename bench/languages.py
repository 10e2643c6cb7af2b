"""How often a question's language decides the language of the reply, and how often wrongly.

    python -m bench.languages [--verbose]

The bot replies in a question's language when it is one of the catalog's (fr, en, es, de, it)
and ``index.ingest.lang.sure_language`` is sure of it; otherwise in the reader's Telegram language.
This replays that rule on the questions of the multilingual dev set
(``eval/multilingual_dev.jsonl``, 60 per language) and of the conversation set
(``eval/conversation.jsonl``: both questions of each pair, short follow-ups and small talk
included) and prints, per language: taken from the question and right, left to the Telegram
language (unsure), and taken from the question but wrong (a reply in another language).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from bot.i18n import LANGUAGES
from index.ingest.lang import sure_language

ROOT = Path(__file__).resolve().parent.parent
SETS = {
    "multilingual dev": ROOT / "eval" / "multilingual_dev.jsonl",
    "conversation": ROOT / "eval" / "conversation.jsonl",
}


def questions(path: Path) -> list[tuple[str, str]]:
    """(language, question) of every question of a set (a conversation pair gives two)."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    found = []
    for row in rows:
        for field in ("question", "first", "second"):
            if field in row:
                found.append((row["lang"], row[field]))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.languages", description=__doc__)
    parser.add_argument("--verbose", action="store_true", help="print each question not taken")
    args = parser.parse_args(argv)
    print("| set | language | n | from the question, right | unsure: Telegram's | wrong |")
    print("|---|---|---|---|---|---|")
    for name, path in SETS.items():
        counts: Counter[tuple[str, str]] = Counter()
        for lang, question in questions(path):
            found = sure_language(question, LANGUAGES)
            verdict = "unsure" if found is None else "right" if found == lang else "wrong"
            counts[(lang, verdict)] += 1
            if args.verbose and verdict != "right":
                print(f"{verdict}: {lang} {question!r} -> {found}")
        for lang in [*LANGUAGES, "all"]:
            cells = [
                sum(n for (k, v), n in counts.items() if v == verdict and lang in ("all", k))
                for verdict in ("right", "unsure", "wrong")
            ]
            total = sum(cells)
            if total:
                shares = " | ".join(f"{cell / total:.2f} ({cell})" for cell in cells)
                print(f"| {name} | {lang} | {total} | {shares} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
