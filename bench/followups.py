"""Follow-up questions: the second question of each pair, asked alone and after the first.

    python -m bench.followups [--pairs eval/followups.jsonl]

The pairs (``eval/followups.jsonl``, written for this: 20 pairs on the shipped article and on
PIAF's "Abeille", in French, English, Spanish and German) each give a first question, a
follow-up that leans on it ("Et à Almaty ?", "What about the oil price?") and a few words of
the passage that answers the follow-up. The collection is the shipped article and PIAF's
"Abeille", embedded by the real model. Printed: how often the expected passage is the first
quote (top-1) and among the quotes shown, for the follow-up asked alone in a new chat and asked
right after the first question in the same chat (``ChatSession`` with a ``ReaderStore``);
and how often a new subject asked right after another question keeps the first quote it gets
when asked alone (a follow-up read where there is none).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from bench import built_service

ROOT = Path(__file__).resolve().parent.parent
PAIRS = ROOT / "eval" / "followups.jsonl"
ARTICLES = [
    ROOT / "seeds" / "000_7774940a137d78f0.txt",
    ROOT.parent / "shared" / "eval" / "piaf" / "articles" / "abeille.txt",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.followups", description=__doc__)
    parser.add_argument("--pairs", type=Path, default=PAIRS)
    args = parser.parse_args(argv)
    from index.chat.session import ChatSession
    from index.stores.readers import SqliteReaderStore

    pairs = [json.loads(line) for line in args.pairs.open(encoding="utf-8") if line.strip()]
    with tempfile.TemporaryDirectory(prefix="followups-") as tmp:
        service = built_service(Path(tmp), ARTICLES, ROOT / "data" / "embeddings.sqlite")
        readers = SqliteReaderStore(Path(tmp) / "data" / "readers.sqlite")
        session = ChatSession(service, readers, follow_up_seconds=300)
        rows: dict[str, dict[str, int]] = {}
        for n, pair in enumerate(pairs):
            expected = pair["expected"]
            alone = session.ask(10_000 + n, pair["follow_up"]).answer
            session.ask(n, pair["first"])
            after = session.ask(n, pair["follow_up"]).answer
            for name, answer in (("alone", alone), ("after", after)):
                texts = [q.text for q in answer.quotes]
                for lang in (pair["lang"], "all"):
                    row = rows.setdefault(f"{lang} {name}", {"n": 0, "top1": 0, "shown": 0})
                    row["n"] += 1
                    row["top1"] += bool(texts) and expected in texts[0]
                    row["shown"] += any(expected in text for text in texts)
            if expected not in " ".join(q.text for q in after.quotes):
                print(f"missed after: {pair['first']} -> {pair['follow_up']}")
        # A new subject right after another answer must keep its own answer.
        kept = 0
        for n, pair in enumerate(pairs):
            other = pairs[(n + 7) % len(pairs)]["first"]
            alone = session.ask(20_000 + n, other).answer
            session.ask(30_000 + n, pair["first"])
            after = session.ask(30_000 + n, other).answer
            same = [q.text for q in alone.quotes[:1]] == [q.text for q in after.quotes[:1]]
            kept += same
            if not same:
                print(f"changed: {pair['first']} -> {other}")
        readers.close()
        service.close()
    print(f"a new subject asked right after another keeps its first quote: {kept}/{len(pairs)}")
    print("| questions | asked | n | top-1 | among the quotes shown |")
    print("|---|---|---|---|---|")
    for key in sorted(rows, key=lambda k: (k.split()[0] != "all", k)):
        lang, name = key.split()
        row = rows[key]
        print(
            f"| {lang} | {'after the first' if name == 'after' else 'alone'} | {row['n']} "
            f"| {row['top1'] / row['n']:.2f} | {row['shown'] / row['n']:.2f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
