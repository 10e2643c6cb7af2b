"""What ``ask`` costs beside the question's embedding, and where that time goes.

    python -m bench.ask_profile --data DIR [--articles DIR] [--questions FILE] [-n 300]
                                [--rounds 3] [--engine E] [--profile N] [--json]

The first ``-n`` test questions of ``--questions`` (PIAF's by default) are asked once of the
index in ``--data`` (built from ``--articles`` first when it has none for this model), which
fills the service's query cache with every question's vector; then ``--rounds`` passes ask
them all again, each ``ask`` now taking its vector from the cache: what is timed is the rest
(search, scoring, quotes). One at a time in one worker thread, as the bot runs ``ask``. For
each ``ask``: its wall time and its thread's CPU time; p50 / p95 and mean over all rounds.

``--profile N`` runs one more pass under cProfile and prints its N costliest functions (own
time, then cumulative). The answers' digest (SHA-256 of every quote's article, span,
highlight and score, and each answer's probability) tells two versions' results apart.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import json
import os
import pstats
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench import percentiles, split_questions
from index.settings import EMBED_ENGINES, EmbedEngine

ROOT = Path(__file__).resolve().parent.parent
PIAF = Path(os.environ.get("PIAF_DIR", ROOT.parent / "shared" / "eval" / "piaf"))
QUERY_CACHE = 1_000_000  # every question's vector stays cached
WARMUP = 3


def answer_digest(answers: list[Any]) -> str:
    """A SHA-256 of what the answers show and decide: a changed result changes it."""
    digest = hashlib.sha256()
    for answer in answers:
        digest.update(repr(answer.probability).encode())
        for quote in (*answer.quotes, *answer.more):
            digest.update(
                repr(
                    (
                        quote.article_id,
                        quote.start,
                        quote.end,
                        quote.highlight_start,
                        quote.highlight_end,
                        quote.score,
                        quote.confidence,
                        quote.also_in,
                    )
                ).encode()
            )
    return digest.hexdigest()[:16]


def measure(
    data: Path, articles: Path, questions: list[str], rounds: int, engine: EmbedEngine, profile: int
) -> dict[str, Any]:
    """Time ``ask`` beside the embedding over the index in ``data`` (built first if empty).

    Args:
        data: The index's DATA_DIR.
        articles: The articles it is built from when it has none.
        questions: The questions asked, in order.
        rounds: Timed passes over all of them.
        engine: EMBED_ENGINE of the model (its vectors are computed once, untimed).
        profile: Functions of cProfile's report to keep (0: no profiled pass).

    Returns:
        Wall and CPU percentiles (all rounds, and the first alone), the questions embedded
        during the timed rounds, the answers' digest, the load average and the profile.
    """
    from index.retrieval.embed import QueryCache
    from index.service import IndexService
    from index.settings import IndexSettings

    settings = IndexSettings(
        seeds_dir=articles, data_dir=data, query_cache_size=QUERY_CACHE, embed_engine=engine
    )
    with ThreadPoolExecutor(1) as worker:
        # A first service asks every question once: its query cache then holds their vectors.
        first = IndexService(settings)
        if first.store.meta() is None:
            first.rebuild()
        answers = [worker.submit(first.ask, q).result() for q in questions]
        cache = first.embedder
        assert isinstance(cache, QueryCache)
        first.close()
        # The one timed takes its vectors from that cache, over a store opened afresh: nothing
        # it computes for a question was computed before, in its first round.
        service = IndexService(settings.model_copy(update={"query_cache_size": 0}), cache)
        for question in questions[:WARMUP]:  # the dense index loaded, the reference vectors
            worker.submit(service.ask, question).result()
        misses = cache.misses
        wall: list[list[float]] = []
        cpu: list[list[float]] = []

        def timed(question: str) -> None:
            started, started_cpu = time.perf_counter(), time.thread_time()
            service.ask(question)
            cpu[-1].append(time.thread_time() - started_cpu)
            wall[-1].append(time.perf_counter() - started)

        load_before = [round(x, 2) for x in os.getloadavg()]
        for _ in range(rounds):
            wall.append([])
            cpu.append([])
            for question in questions:
                worker.submit(timed, question).result()
        top = ""
        if profile:
            profiler = cProfile.Profile()

            def profiled() -> None:
                profiler.enable()
                for question in questions:
                    service.ask(question)
                profiler.disable()

            worker.submit(profiled).result()
            top = _top(profiler, profile, len(questions))
    service.close()
    return {
        "engine": engine,
        "questions": len(questions),
        "rounds": rounds,
        "load_average": {"before": load_before, "after": [round(x, 2) for x in os.getloadavg()]},
        "wall": percentiles([s for round_ in wall for s in round_], digits=2),
        "cpu": percentiles([s for round_ in cpu for s in round_], digits=2),
        "cpu_first_round": percentiles(cpu[0], digits=2),
        # Questions the model embedded during the timed rounds (a time frame's reworded
        # question): their embedding is in the figures.
        "embedded": cache.misses - misses,
        "digest": answer_digest(answers),
        "profile": top,
    }


def _top(profiler: cProfile.Profile, count: int, questions: int) -> str:
    """The ``count`` costliest functions by own time, then by cumulative time."""
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    print(f"cProfile of one pass ({questions} questions)", file=out)
    stats.sort_stats("tottime").print_stats(count)
    stats.sort_stats("cumulative").print_stats(count)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ask_profile", description=__doc__)
    parser.add_argument("--data", type=Path, required=True, help="the index's DATA_DIR")
    parser.add_argument("--articles", type=Path, default=PIAF / "articles")
    parser.add_argument("--questions", type=Path, default=PIAF / "questions.jsonl")
    parser.add_argument("-n", type=int, default=300, help="test questions asked (default: 300)")
    parser.add_argument("--rounds", type=int, default=3, help="timed passes (default: 3)")
    parser.add_argument("--engine", choices=EMBED_ENGINES, default="onnx")
    parser.add_argument("--profile", type=int, default=0, help="print the N costliest functions")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.n < 1 or args.rounds < 1:
        raise SystemExit("-n and --rounds must be at least 1")
    if not args.questions.is_file():
        raise SystemExit(f"no questions file at {args.questions}")
    questions = split_questions(args.questions, args.n)
    result = measure(args.data, args.articles, questions, args.rounds, args.engine, args.profile)
    if args.json:
        print(json.dumps(result, indent=1))
        return 0
    wall, cpu = result["wall"], result["cpu"]
    print(
        f"ask beside the embedding, {result['questions']} questions x {result['rounds']} rounds "
        f"({result['engine']}): wall p50 / p95 / mean {wall['p50_ms']} / {wall['p95_ms']} / "
        f"{wall['mean_ms']} ms, CPU {cpu['p50_ms']} / {cpu['p95_ms']} / {cpu['mean_ms']} ms "
        f"(first round {result['cpu_first_round']['p50_ms']} / "
        f"{result['cpu_first_round']['p95_ms']} / {result['cpu_first_round']['mean_ms']} ms; "
        f"{result['embedded']} questions embedded); "
        f"answers' digest {result['digest']}; load average {result['load_average']['before']} "
        f"before, {result['load_average']['after']} after"
    )
    if result["profile"]:
        print(result["profile"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
