"""Time questions on a dated collection: "Quoi de neuf cette semaine ?", "Les grèves depuis lundi ?".

    python -m bench.time_questions [--half tune|test] [--verbose]

The collection is the shipped (undated) article and five dated ones written for this
(``eval/dated/``: today, yesterday, 3, 5 and 12 days before Sunday 6 December 2026, noon in
Paris, the moment every question is asked at). The questions (``eval/time_questions.jsonl``,
35 in French, English, Spanish and German, a ``tune`` and a ``test`` half) are of two kinds:

- ``frame_only``: only a time frame ("What happened yesterday?", "¿Cuáles son las últimas
  noticias?"); scored: the reply lists exactly the period's articles, newest first
  (``IndexService.period_asked`` and ``IndexService.overview``), never an undated one.
- ``subject``: a subject with a frame ("Combien d'hectares ont brûlé hier ?"); scored: the
  first quote comes from the expected article, and the "no article of the period answers"
  note is shown exactly when no quote shown comes from the period.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bench import Tally, built_service

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "eval" / "time_questions.jsonl"
DATED = ROOT / "eval" / "dated"
NOW = datetime(2026, 12, 6, 12, 0, tzinfo=ZoneInfo("Europe/Paris"))


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.time_questions", description=__doc__)
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--half", choices=("tune", "test"), default=None)
    parser.add_argument("--verbose", action="store_true", help="print each miss")
    parser.add_argument(
        "--cache",
        type=Path,
        default=ROOT / "data" / "embeddings.sqlite",
        help="an embedding cache to start from and keep (vectors are never computed twice)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Ask the time questions and print how many of each kind were answered right."""
    from index.chat.overview import listed_period

    args = _arguments(argv)

    rows = [json.loads(line) for line in args.questions.open(encoding="utf-8") if line.strip()]
    if args.half:
        rows = [r for r in rows if r["half"] == args.half]
    tally = Tally()
    count = tally.count
    articles = [ROOT / "seeds" / "000_7774940a137d78f0.txt", *sorted(DATED.glob("*.md"))]
    with tempfile.TemporaryDirectory(prefix="time-questions-") as tmp:
        service = built_service(Path(tmp), articles, args.cache, timezone="Europe/Paris")
        dated = {a.id: a.published for a in service.articles()}
        period_asked = getattr(service, "period_asked", None)  # none before issue 23
        for row in rows:
            question = row["question"]
            frame = period_asked(question, NOW) if period_asked else None
            if row["kind"] == "frame_only":
                listed: list[str] = []
                if frame is not None:
                    start, end = listed_period(frame)
                    items, _ = service.overview(0, 50, start=start, end=end, dated_only=True)
                    listed = [item.article_id for item in items]
                right = listed == row["listed"]
                count(row, listed=right)
                if not right and args.verbose:
                    print(f"listed {listed} for {question!r}, expected {row['listed']}")
                continue
            if frame is not None:
                count(row, first=False, note=False, no_undated=False)
                print(f"taken as only a time frame: {question!r}")
                continue
            answer = service.ask(question, now=NOW)
            first = answer.quotes[0].article_id if answer.quotes else None
            latest = bool(answer.time_frame and answer.time_frame.latest)
            count(
                row,
                first=first == row["article"],
                note=answer.widened == row["note"],
                no_undated=not latest or all(dated[q.article_id] for q in answer.quotes),
            )
            if args.verbose and (first != row["article"] or answer.widened != row["note"]):
                print(f"{question!r}: first {first}, note {answer.widened}")
        service.close()
    columns = [
        ("listed", "listed right"),
        ("first", "expected first"),
        ("note", "period note right"),
        ("no_undated", "no undated for latest"),
    ]
    print(tally.table(columns))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
