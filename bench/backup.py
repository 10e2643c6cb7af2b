"""``python -m index backup`` on a large embedded store, with writers going on meanwhile.

    python -m bench.backup [--passages 50000]

An embedded store of ``--passages`` passages (random unit vectors, PIAF's passage texts when
../shared/eval/piaf is there, 10 passages an article) and a readers' database are made in a
temporary folder. Then, while two writers run, one adding and removing an article of 5
passages through ``IndexStore.write`` (as /add and /remove do, without the model) and one
recording readers' group scopes without a pause, the backup is taken, and restored into a new
folder.

Figures: the backup's seconds and bytes, the restore's seconds, and each writer's write
latency (p50 and max) before the backup and while it ran: the online backup of a WAL database
is one read transaction, which should hold no writer up.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from bench.scale import PER_ARTICLE, PIAF, articles_of, passage_texts
from index.stores.base import Reset, StoreMeta
from index.stores.embedded import EmbeddedStore
from index.stores.readers import Scope, SqliteReaderStore
from index.tools.backup import restore_backup, take_backup

DIM = 384


def unit_vectors(count: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(count, DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def texts() -> list[tuple[str, str]]:
    """(text, stems) of PIAF's passages, or made-up ones without PIAF."""
    if (PIAF / "articles").is_dir():
        return passage_texts()
    return [
        (f"Passage numéro {i} du banc d'essai.", f"passag numero {i} banc essai")
        for i in range(500)
    ]


class Timed:
    """A writer called again and again in a thread; the seconds of each call, by phase."""

    def __init__(self, write: Callable[[int], None]) -> None:
        self.write = write
        self.phase = "before"
        self.seconds: dict[str, list[float]] = {"before": [], "during": [], "after": []}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        n = 0
        while not self._stop.is_set():
            started = time.perf_counter()
            self.write(n)
            self.seconds[self.phase].append(time.perf_counter() - started)
            n += 1
            time.sleep(0.005)

    def __enter__(self) -> Timed:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def figures(self, phase: str) -> str:
        values = self.seconds[phase]
        if not values:
            return "no write"
        return (
            f"{len(values)} writes, p50 {statistics.median(values) * 1000:.1f} ms, "
            f"max {max(values) * 1000:.1f} ms"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.backup", description=__doc__)
    parser.add_argument("--passages", type=int, default=50_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-backup-") as folder_name:
        folder = Path(folder_name)
        seeds, data = folder / "seeds", folder / "data"
        seeds.mkdir()
        for n in range(200):
            (seeds / f"article-{n}.txt").write_text(f"Article {n}\n\nTexte {n}.\n", "utf-8")
        store = EmbeddedStore(data)
        vectors = unit_vectors(args.passages, 1)
        started = time.perf_counter()
        count = (args.passages + PER_ARTICLE - 1) // PER_ARTICLE
        meta = StoreMeta("intfloat/multilingual-e5-small (bench)", DIM, 700, 1)
        store.write(articles_of(vectors, texts(), 0, count), reset=Reset(meta, vectors[:8]))
        print(f"store of {args.passages} passages made in {time.perf_counter() - started:.1f} s")
        readers = SqliteReaderStore(data / "readers.sqlite")
        extra = unit_vectors(5 * 1000, 2)
        passages = texts()

        def add_and_remove(n: int) -> None:
            batch: Iterator[tuple[Any, list[Any]]] = articles_of(
                extra, passages, n % 1000, 1, prefix="x"
            )
            store.write(batch)
            store.write((), deletes=[f"x{n % 1000:07d}"])

        def scope(n: int) -> None:
            readers.set_scope(-n - 1, Scope(tags=(f"t{n}",)))

        target = folder / "backup.tar"
        with Timed(add_and_remove) as index_writer, Timed(scope) as readers_writer:
            time.sleep(2.0)
            index_writer.phase = readers_writer.phase = "during"
            report = take_backup(data, seeds, target)
            index_writer.phase = readers_writer.phase = "after"
        print(
            f"backup: {report.seconds:.2f} s, {report.bytes / 1e6:.0f} MB "
            f"({', '.join(report.databases)}; {report.articles} article files)"
        )
        for name, writer in (("index writes", index_writer), ("readers' writes", readers_writer)):
            print(
                f"{name}: before {writer.figures('before')}; "
                f"during the backup {writer.figures('during')}"
            )
        readers.close()
        store.close()
        started = time.perf_counter()
        restore_backup(target, folder / "restored" / "data", folder / "restored" / "seeds")
        print(f"restore: {time.perf_counter() - started:.2f} s")
        restored = EmbeddedStore(folder / "restored" / "data")
        print(f"restored store: {restored.counts().passages} passages")
        restored.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
