"""A reader's conversation: a question, then another one in the same chat, right after it.

    python -m bench.conversation [--pairs eval/conversation.jsonl] [--half tune|test] [--json]

The pairs (``eval/conversation.jsonl``, written for issue 23: 66 pairs in French, English,
Spanish and German on the shipped article and PIAF's "Abeille", "Antoine Lavoisier" and
"Berlin") each give a first question and a second one of one of three kinds:

- ``follow_up``: it leans on the first ("Et sa dette ?", "What about oil?", "Why?");
  scored: the ``expected`` passage is the first quote when asked right after the first question.
- ``new``: it has its own subject, however short ("Who is Ablyazov?", "Combien de morts ?");
  scored: the ``expected`` passage is the first quote, the first quote is the one it gets when
  asked alone in a new chat ("kept"), and it is not answered as a follow-up.
- ``small_talk``: a greeting or thanks ("bonjour", "danke!"); scored: it is taken as small
  talk (``index.chat.smalltalk``), not searched.

Each pair has a ``half``: ``tune`` (the choices were tuned on these) or ``test`` (never looked
at while tuning): report ``test``. The collection is embedded by the real model
(``ChatSession`` with a ``ReaderStore``, as the bot runs it).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Callable
from pathlib import Path

from bench import Tally, built_service

ROOT = Path(__file__).resolve().parent.parent
PAIRS = ROOT / "eval" / "conversation.jsonl"
PIAF = ROOT.parent / "shared" / "eval" / "piaf" / "articles"
ARTICLES = [
    ROOT / "seeds" / "000_7774940a137d78f0.txt",
    PIAF / "abeille.txt",
    PIAF / "antoine-lavoisier.txt",
    PIAF / "berlin.txt",
]


def _small_talk_reader() -> Callable[[str], object | None]:
    """``index.chat.smalltalk.small_talk``, or nothing (to measure a version that has none)."""
    try:
        from index.chat.smalltalk import small_talk
    except ImportError:
        return lambda text: None
    return small_talk


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.conversation", description=__doc__)
    parser.add_argument("--pairs", type=Path, default=PAIRS)
    parser.add_argument("--half", choices=("tune", "test"), default=None)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--verbose", action="store_true", help="print each miss")
    parser.add_argument(
        "--cache",
        type=Path,
        default=ROOT / "data" / "embeddings.sqlite",
        help="an embedding cache to start from and keep (vectors are never computed twice)",
    )
    args = parser.parse_args(argv)
    from index.chat.session import ChatSession
    from index.stores.readers import SqliteReaderStore

    small_talk = _small_talk_reader()
    pairs = [json.loads(line) for line in args.pairs.open(encoding="utf-8") if line.strip()]
    if args.half:
        pairs = [p for p in pairs if p["half"] == args.half]
    tally = Tally()
    count = tally.count
    with tempfile.TemporaryDirectory(prefix="conversation-") as tmp:
        service = built_service(Path(tmp), ARTICLES, args.cache)
        readers = SqliteReaderStore(Path(tmp) / "data" / "readers.sqlite")
        session = ChatSession(service, readers, follow_up_seconds=300)
        for n, pair in enumerate(pairs):
            first, second = pair["first"], pair["second"]
            if small_talk(first) is not None:
                print(f"first question taken as small talk: {first}")
            session.ask(n, first)
            if pair["kind"] == "small_talk":
                taken = small_talk(second) is not None
                count(pair, small_talk=taken)
                if not taken and args.verbose:
                    print(f"searched: {second!r}")
                continue
            if small_talk(second) is not None:
                count(pair, first_quote=False, kept=False, stood_alone=False)
                print(f"taken as small talk: {second!r}")
                continue
            after = session.ask(n, second).answer
            alone = session.ask(100_000 + n, second).answer
            top = after.quotes[0].text if after.quotes else ""
            hit = pair["expected"] in top
            if pair["kind"] == "follow_up":
                count(
                    pair,
                    first_quote=hit,
                    alone_first_quote=bool(
                        alone.quotes and pair["expected"] in alone.quotes[0].text
                    ),
                )
            else:
                kept = [q.text for q in after.quotes[:1]] == [q.text for q in alone.quotes[:1]]
                count(pair, first_quote=hit, kept=kept, stood_alone=after.follow_up_of is None)
            if not hit and args.verbose:
                print(f"missed: {first!r} -> {second!r}: {top[:90]!r}")
        readers.close()
        service.close()
    if args.json:
        print(json.dumps(tally.rows, ensure_ascii=False, indent=1))
        return 0
    columns = [
        ("first_quote", "expected first"),
        ("alone_first_quote", "alone: expected first"),
        ("kept", "kept own first"),
        ("stood_alone", "stood alone"),
        ("small_talk", "small talk"),
    ]
    print(tally.table(columns))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
