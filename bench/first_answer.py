"""The first answer after a restart against the next one: ``python -m bot`` as operators run it.

``python -m bench.first_answer [--restarts 3] [--data DIR]``

Each restart starts ``python -m bot`` (long polling) against the local Bot API server of
``tests/support/botapi`` over the shipped seed article, waits for its first ``getUpdates``, then
asks two different questions one after the other and times each reply (the question injected → the
bot's ``sendMessage`` arrives). The index is built once in ``--data`` (a temporary folder by
default; its converted model and embedding cache are kept between restarts), so every restart
opens an existing index, as a redeployed bot does.

Printed per restart: seconds from the process start to its first poll ("ready"), then the
first and the second answer in ms, and their ratio; the 1-minute load average is printed too.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from index.service import IndexService
from index.settings import IndexSettings
from tests.support.botapi import BotApiServer, bypass_proxies_for_loopback

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = (
    "Qui a ordonné de tirer sur les manifestants ?",
    "Combien d'avions russes acheminent des troupes au Kazakhstan ?",
)
READER_ID = 4242
NO_ENV_FILE: dict[str, Any] = {"_env_file": None}  # the folder's .env must not change the bench


async def _answer_ms(server: BotApiServer, question: str) -> float:
    user = server.user(READER_ID, "Lectrice", language_code="fr")
    mark = server.mark()
    started = time.perf_counter()
    await server.send_text(user, question)
    await server.wait_sent(1, after=mark, timeout=120)
    return (time.perf_counter() - started) * 1000


async def one_restart(seeds: Path, data: Path) -> tuple[float, float, float]:
    """(seconds to the first poll, first answer ms, second answer ms) for one fresh process."""
    async with BotApiServer(token="123:ABC") as server:
        env = dict(os.environ)
        env.update(
            TELEGRAM_BOT_TOKEN=server.token,
            TELEGRAM_BASE_URL=server.base_url,
            TELEGRAM_BASE_FILE_URL=server.base_file_url,
            SEEDS_DIR=str(seeds),
            DATA_DIR=str(data),
            RATE_LIMIT_PER_MINUTE="0",
            LOG_LEVEL="WARNING",
            PYTHONPATH=str(ROOT),
        )
        started = time.perf_counter()
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            cwd=seeds.parent,
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            await server.wait_polling(timeout=300)
            ready = time.perf_counter() - started
            first = await _answer_ms(server, QUESTIONS[0])
            second = await _answer_ms(server, QUESTIONS[1])
        finally:
            process.send_signal(signal.SIGINT)
            await asyncio.wait_for(process.communicate(), timeout=60)
    return ready, first, second


def prepare(data: Path) -> Path:
    """The seed article in ``data``'s sibling folder, indexed once into ``data``."""
    seeds = data.parent / "seeds"
    seeds.mkdir(parents=True, exist_ok=True)
    for path in sorted((ROOT / "seeds").iterdir()):
        if path.is_file():
            shutil.copy(path, seeds / path.name)
    service = IndexService(IndexSettings(seeds_dir=seeds, data_dir=data, **NO_ENV_FILE))
    service.ensure_built()
    service.close()
    return seeds


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.first_answer", description=__doc__)
    parser.add_argument("--restarts", type=int, default=3)
    parser.add_argument("--data", type=Path, default=None, help="index folder kept across runs")
    args = parser.parse_args()
    bypass_proxies_for_loopback()
    temporary = None
    if args.data is None:
        temporary = tempfile.TemporaryDirectory(prefix="first-answer-")
        args.data = Path(temporary.name) / "data"
    seeds = prepare(args.data.resolve())
    print(f"load average (1 min) at start: {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs")
    print(f"{'restart':>7} {'ready s':>8} {'first ms':>9} {'second ms':>10} {'ratio':>6}")
    rows = []
    for number in range(1, args.restarts + 1):
        ready, first, second = asyncio.run(one_restart(seeds, args.data.resolve()))
        rows.append((ready, first, second))
        print(f"{number:>7} {ready:>8.1f} {first:>9.0f} {second:>10.0f} {first / second:>6.2f}")
    firsts, seconds = [r[1] for r in rows], [r[2] for r in rows]
    print(
        f"median: ready {statistics.median(r[0] for r in rows):.1f} s, "
        f"first {statistics.median(firsts):.0f} ms, second {statistics.median(seconds):.0f} ms, "
        f"ratio {statistics.median(firsts) / statistics.median(seconds):.2f}"
    )
    print(f"load average (1 min) at end: {os.getloadavg()[0]:.2f}")
    if temporary is not None:
        temporary.cleanup()


if __name__ == "__main__":
    main()
