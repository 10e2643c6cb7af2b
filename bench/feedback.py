"""Readers' votes, replayed: questions whose first quote is wrong, three readers say so, asked again;
and what votes cost an answer as they pile up (``--latency``).

    python -m bench.feedback [--split dev] [--data data/eval-piaf]
    python -m bench.feedback --latency [--votes 100000]

On the PIAF index that ``make eval`` builds (``data/eval-piaf``), every question of the split
whose article is indexed is asked through ``ChatSession`` with a fresh readers' store. Those
whose first quote misses the answer while a later quote (shown, or behind More) holds it are
the replay set: three readers mark the first quote wrong, and the question is asked again.
Printed: top-1 on that set before and after, how many moved the other way, and, as a guard,
the questions whose first quote was right and that one reader marks wrong (one voter moves
nothing: they must all keep their first quote).

``--latency``: the shipped article and PIAF's "Abeille", embedded by the real model, asked five
questions through ``ChatSession`` with a readers' store; printed: the answers' p50 with no
votes, after ``--votes`` votes cast the way one busy reader can (a handful of voters, each
rating the answers' passages under a new wording every time: the rate limit allows 14,400 a
day), and after as many votes again from that many different readers.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PIAF = ROOT.parent / "shared" / "eval" / "piaf"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.feedback", description=__doc__)
    parser.add_argument("--split", default="dev")
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "eval-piaf")
    parser.add_argument("--latency", action="store_true", help="answer time as votes pile up")
    parser.add_argument("--votes", type=int, default=100_000)
    args = parser.parse_args(argv)
    if args.latency:
        return latency(args.votes)
    from index.chat.session import ChatSession
    from index.service import IndexService
    from index.settings import IndexSettings
    from index.stores.readers import SqliteReaderStore

    settings = IndexSettings(seeds_dir=Path("/nonexistent"), data_dir=args.data)
    service = IndexService(settings)
    indexed = {a.source_path and Path(a.source_path).name for a in service.articles()}
    rows = [json.loads(line) for line in (PIAF / "questions.jsonl").open(encoding="utf-8")]
    rows = [r for r in rows if r.get("split") == args.split and r["article"] in indexed]
    replay = fixed = shown_before = shown_after = worse = guarded = kept = 0
    with tempfile.TemporaryDirectory() as tmp:
        readers = SqliteReaderStore(Path(tmp) / "readers.sqlite")
        session = ChatSession(service, readers, follow_up_seconds=0)
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


LATENCY_ARTICLES = [ROOT / "seeds" / "000_7774940a137d78f0.txt", PIAF / "articles" / "abeille.txt"]
LATENCY_QUESTIONS = [
    "Qui a ordonné de tirer sur les manifestants ?",
    "Qui a remercié Vladimir Poutine ?",
    "Combien d'avions russes amènent des troupes ?",
    "Combien d'espèces d'abeilles sont répertoriées ?",
    "Que produisent les abeilles ?",
]
FLOOD_VOTERS = 5


def latency(votes: int, rounds: int = 12) -> int:
    """Answers' p50 with no votes, after one busy reader's flood, after many readers."""
    from index.chat.feedback import passage_hash
    from index.chat.session import ChatSession
    from index.service import IndexService
    from index.settings import IndexSettings
    from index.stores.readers import Vote, now_iso, open_reader_store

    with tempfile.TemporaryDirectory(prefix="votes-") as tmp:
        seeds, data = Path(tmp) / "seeds", Path(tmp) / "data"
        seeds.mkdir()
        data.mkdir()
        for path in LATENCY_ARTICLES:
            shutil.copy(path, seeds / path.name)
        cache = ROOT / "data" / "embeddings.sqlite"
        if cache.exists():  # the seed's vectors, when `make run` has built them already
            shutil.copy(cache, data / "embeddings.sqlite")
        service = IndexService(IndexSettings(seeds_dir=seeds, data_dir=data))
        service.rebuild()
        readers = open_reader_store(data, None)
        session = ChatSession(service, readers, follow_up_seconds=0)
        answers = [session.ask(1, question).answer for question in LATENCY_QUESTIONS]
        passages = sorted({passage_hash(q.text) for a in answers for q in (*a.quotes, *a.more)})

        def p50() -> float:
            times = []
            for n in range(rounds):
                for chat, question in enumerate(LATENCY_QUESTIONS):
                    started = time.perf_counter()
                    session.ask(1000 + n * 10 + chat, question)
                    times.append(time.perf_counter() - started)
            return statistics.median(times)

        none = p50()
        at = now_iso()
        started = time.perf_counter()
        for n in range(votes):  # a few voters, a new wording each time
            question = f"{LATENCY_QUESTIONS[n % len(LATENCY_QUESTIONS)]} ({n})"
            voter = readers.voter_key(n % FLOOD_VOTERS)
            readers.vote(Vote(question, passages[n % len(passages)], -1, voter, at))
        cast = time.perf_counter() - started
        flooded = p50()
        for n in range(votes):  # as many different readers
            question = LATENCY_QUESTIONS[n % len(LATENCY_QUESTIONS)]
            voter = readers.voter_key(1_000_000 + n)
            readers.vote(Vote(question, passages[n % len(passages)], -1, voter, at))
        crowd = p50()
        readers.close()
        service.close()
    print(f"{len(passages)} passages voted on; {votes:,} votes cast in {cast:.1f} s")
    print(f"answer p50, no votes: {none * 1000:.1f} ms")
    print(
        f"answer p50, {votes:,} votes from {FLOOD_VOTERS} readers rewording: "
        f"{flooded * 1000:.1f} ms ({flooded / none:.2f}×)"
    )
    print(
        f"answer p50, and {votes:,} votes from {votes:,} readers more: "
        f"{crowd * 1000:.1f} ms ({crowd / none:.2f}×)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
