"""Readers' votes, replayed: questions whose first quote is wrong, three readers say so, asked again.

    python -m bench.feedback [--split dev] [--data data/eval-piaf]

On the PIAF index that ``make eval`` builds (``data/eval-piaf``), every question of the split
whose article is indexed is asked through ``ChatSession`` with a fresh readers' store. Those
whose first quote misses the answer while a later quote (shown, or behind More) holds it are
the replay set: three readers mark the first quote wrong, and the question is asked again.
Printed: top-1 on that set before and after, how many moved the other way, and, as a guard,
the questions whose first quote was right and that one reader marks wrong (one voter moves
nothing: they must all keep their first quote).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PIAF = ROOT.parent / "shared" / "eval" / "piaf"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.feedback", description=__doc__)
    parser.add_argument("--split", default="dev")
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "eval-piaf")
    args = parser.parse_args(argv)
    from index.readers import SqliteReaderStore
    from index.service import IndexService
    from index.session import ChatSession
    from index.settings import IndexSettings

    settings = IndexSettings(seeds_dir=Path("/nonexistent"), data_dir=args.data)
    service = IndexService(settings)
    indexed = {a.source_path and Path(a.source_path).name for a in service.articles()}
    rows = [json.loads(line) for line in (PIAF / "questions.jsonl").open(encoding="utf-8")]
    rows = [r for r in rows if r.get("split") == args.split and r["article"] in indexed]
    replay = fixed = shown_before = shown_after = worse = guarded = kept = 0
    with tempfile.TemporaryDirectory() as tmp:
        readers = SqliteReaderStore(Path(tmp) / "readers.sqlite")
        session = ChatSession(service, readers=readers, follow_up_seconds=0)
        for n, row in enumerate(rows):
            answers = [a for a in row["answers"] if a]

            def right(text: str, answers: list[str] = answers) -> bool:
                return any(a in text for a in answers)

            page = session.ask(n, row["question"])
            quotes = [*page.answer.quotes, *page.answer.more]
            if not quotes:
                continue
            if right(quotes[0].text):
                if guarded < 300:  # one reader marks a right first quote wrong
                    guarded += 1
                    session.vote(n, page.key, 1, -1, 1)
                    again = session.ask(n, row["question"])
                    kept += right(again.answer.quotes[0].text)
                continue
            if not any(right(q.text) for q in quotes[1:]):
                continue  # nothing to promote: votes cannot help
            replay += 1
            shown_before += any(right(q.text) for q in page.answer.quotes)
            for reader in (101, 102, 103):
                session.vote(n, page.key, reader, -1, 1)
            again = session.ask(n, row["question"])
            first = again.answer.quotes[0].text if again.answer.quotes else ""
            fixed += right(first)
            shown_after += any(right(q.text) for q in again.answer.quotes)
            worse += not again.answer.quotes
        readers.close()
    service.close()
    print(f"{args.split}: {len(rows)} questions asked")
    print(
        f"replay set (first quote wrong, the answer further down): {replay}; "
        f"top-1 before 0.00, after three readers' votes {fixed / max(replay, 1):.2f} "
        f"({fixed}/{replay}); answers lost {worse}"
    )
    print(
        f"the answer among the quotes shown: before {shown_before / max(replay, 1):.2f}, "
        f"after {shown_after / max(replay, 1):.2f}"
    )
    print(f"guard: a right first quote marked wrong by one reader kept it {kept}/{guarded}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
