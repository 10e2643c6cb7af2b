"""The store at 10k, 100k and 1M passages: /add, query time, recall of the dense leg, memory, disk.

    python -m bench.scale [--sizes 10000,100000,1000000] [--database-url URL]
    make bench-scale

Each size runs in a fresh process with a fresh store (``--database-url``: PostgreSQL, each size
in a new database of that server; else the embedded store in a temporary folder), filled through
``IndexStore.write`` with vectors given, so no model runs during the measurement.

How the data is made, so that recall means something:

- **Vectors**: the 4,041 real multilingual-e5-small vectors of PIAF passages and sentences that
  ``data/eval-piaf/embeddings.sqlite`` caches (``make eval`` fills it). Passage ``i`` is
  ``normalise(a·x_p + (1 - a)·x_q + σ·g)`` for two of them drawn at random, ``a`` uniform in
  [0.5, 1] and ``g`` Gaussian with σ = 0.02 per dimension: a cloud with the real vectors'
  directions and spread, not a uniform sphere on which every neighbour is equally far.
- **Texts**: passage ``i`` gets the text (and the stems) of real PIAF passage ``i mod n``, so
  the lexical leg has real postings; 10 passages make an article.
- **Queries**: 200 real PIAF test questions, embedded by the model once and cached in
  ``data/bench-scale/queries.npy``.

Figures: ``/add`` of one article of 5 passages and its removal (median of 3); a query as
``search()`` asks it (dense 50 + lexical 50, without the query embedding: p50 and p95 over the
200 questions); recall@10 of the dense leg against exact search (numpy, same vectors);
lexical@50, PostgreSQL's lexical top 50 read from each word's best postings against its top 50
from all of them (the embedded store reads all: 1.000); peak
memory (VmHWM: the store, plus the benchmark's own copy of the vectors for the exact search,
given apart); bytes on disk.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from bench import memory_mb

ROOT = Path(__file__).resolve().parent.parent
PIAF = ROOT.parent / "shared" / "eval" / "piaf"
CACHE = ROOT / "data" / "eval-piaf" / "embeddings.sqlite"
QUERIES = ROOT / "data" / "bench-scale" / "queries.npy"
PER_ARTICLE = 10
SIGMA = 0.02
BATCH_ARTICLES = 2_000


def real_vectors() -> np.ndarray:
    db = sqlite3.connect(CACHE)
    blobs = [r[0] for r in db.execute("SELECT vector FROM vectors")]
    db.close()
    return np.vstack([np.frombuffer(b, np.float32) for b in blobs if len(b) == 384 * 4])


def questions(count: int = 200) -> list[str]:
    rows = [json.loads(line) for line in (PIAF / "questions.jsonl").open(encoding="utf-8")]
    return [r["question"] for r in rows if r.get("split") == "test"][:count]


def query_vectors(texts: list[str]) -> np.ndarray:
    if QUERIES.exists():
        return np.load(QUERIES)
    from index.retrieval.embed import E5Embedder

    vectors = np.asarray(E5Embedder().embed_queries(texts), np.float32)
    QUERIES.parent.mkdir(parents=True, exist_ok=True)
    np.save(QUERIES, vectors)
    return vectors


def synthetic(real: np.ndarray, n: int, seed: int = 7) -> np.ndarray:
    """``n`` vectors mixed and perturbed from ``real`` (see the module docstring)."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, real.shape[1]), np.float32)
    for start in range(0, n, 100_000):
        m = min(100_000, n - start)
        p, q = rng.integers(0, len(real), m), rng.integers(0, len(real), m)
        a = rng.uniform(0.5, 1.0, (m, 1)).astype(np.float32)
        block = a * real[p] + (1 - a) * real[q] + rng.normal(0, SIGMA, (m, real.shape[1]))
        out[start : start + m] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def passage_texts() -> list[tuple[str, str]]:
    """(text, stems) of real PIAF passages."""
    from index.ingest.loader import load_articles
    from index.retrieval.chunk import chunk_article
    from index.retrieval.lexical import passage_tokens

    articles, _ = load_articles(PIAF / "articles")
    found = []
    for article in articles:
        for chunk in chunk_article(article):
            found.append((chunk.text, passage_tokens(article.title, chunk.text, article.lang)))
    return found


def articles_of(
    vectors: np.ndarray, texts: list[tuple[str, str]], first: int, count: int, prefix: str = "s"
) -> Iterator[tuple[Any, list[Any]]]:
    """Articles ``first .. first + count`` of PER_ARTICLE passages each, with their records."""
    from index.models import Article
    from index.stores.base import PassageRecord, SentenceRecord

    for a in range(first, first + count):
        parts, records, offset = [], [], 0
        for i in range(a * PER_ARTICLE, min((a + 1) * PER_ARTICLE, len(vectors))):
            text, stems = texts[i % len(texts)]
            start, end = offset, offset + len(text)
            parts.append(text)
            offset = end + 2
            vector = vectors[i]
            records.append(
                PassageRecord(start, end, vector, stems, (SentenceRecord(start, end, vector),))
            )
        article = Article(
            id=f"{prefix}{a:07d}", title="", text="\n\n".join(parts), sha256=f"h{a}", lang="fr"
        )
        yield article, records


def exact_top10(vectors: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Passage ids (from 1) of the 10 nearest vectors to each query, by brute force, a few
    queries at a time so that the scores never take more than ~100 MB."""
    step = max(1, 25_000_000 // len(vectors))
    found = []
    for start in range(0, len(queries), step):
        scores = vectors @ queries[start : start + step].T  # (n, step)
        top = np.argpartition(-scores, 10, axis=0)[:10]
        order = np.argsort(-np.take_along_axis(scores, top, axis=0), axis=0)
        found.append(np.take_along_axis(top, order, axis=0).T + 1)
    return np.vstack(found)


def bounded_lexical_recall(store: Any, asked: list[str]) -> float:
    """The PostgreSQL lexical leg's top 50 (each word's best postings only) against its top 50
    when every posting is read."""
    from index.stores import postgres

    query = np.zeros(384, np.float32)

    def top50() -> list[set[int]]:
        return [
            set(store.candidates(query, store.analyse(text, "fr"), 0, 50).ids.tolist())
            for text in asked
        ]

    bounded = top50()
    kept = postgres.LEXICAL_TOP_POSTINGS
    postgres.LEXICAL_TOP_POSTINGS = 10**9
    try:
        exact = top50()
    finally:
        postgres.LEXICAL_TOP_POSTINGS = kept
    return float(
        np.mean([len(b & e) / max(1, len(e)) for b, e in zip(bounded, exact, strict=True)])
    )


def open_store(database_url: str | None, folder: Path) -> Any:
    if database_url:
        from index.stores.postgres import PostgresStore

        return PostgresStore(database_url)
    from index.stores.embedded import EmbeddedStore

    return EmbeddedStore(folder)


def worker(size: int, folder: Path, database_url: str | None) -> dict[str, Any]:
    from index.stores.base import Reset, StoreMeta

    real = real_vectors()
    vectors = synthetic(real, size)
    texts = passage_texts()
    asked = questions()
    queries = query_vectors(asked)
    before = memory_mb()
    store = open_store(database_url, folder)
    meta = StoreMeta("intfloat/multilingual-e5-small (bench)", 384, 700, 1)
    started = time.perf_counter()
    total_articles = (size + PER_ARTICLE - 1) // PER_ARTICLE

    def everything() -> Iterator[tuple[Any, list[Any]]]:
        yield from articles_of(vectors, texts, 0, total_articles)

    store.write(everything(), reset=Reset(meta, real[:8]))
    fill = time.perf_counter() - started
    extra = synthetic(real, 5 * 3, seed=99)
    add_times, remove_times = [], []
    for n in range(3):
        [(item, records)] = list(articles_of(extra, texts, n, 1, prefix="added"))
        records = records[:5]
        started = time.perf_counter()
        store.write([(item, records)])
        add_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        store.write([], [item.id])
        remove_times.append(time.perf_counter() - started)
    store.candidates(queries[0], store.analyse(asked[0], "fr"), 50, 50)  # warm up
    latencies = []
    for text, query in zip(asked, queries, strict=True):
        started = time.perf_counter()
        store.candidates(query, store.analyse(text, "fr"), 50, 50)
        latencies.append((time.perf_counter() - started) * 1000)
    serving = memory_mb("VmRSS")  # the store open and warm, before the exact search below
    exact = exact_top10(vectors, queries)
    hits = 0
    for query, truth in zip(queries, exact, strict=True):
        found = store.candidates(query, None, 10, 0).ids
        hits += len(set(found.tolist()) & set(truth.tolist()))
    lexical_recall = bounded_lexical_recall(store, asked) if database_url else 1.0
    counts = store.counts()
    disk = (
        counts.bytes
        if database_url
        else sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
    )
    store.close()
    latencies.sort()
    return {
        "passages": counts.passages,
        "fill_seconds": round(fill, 1),
        "add_seconds": round(statistics.median(add_times), 4),
        "remove_seconds": round(statistics.median(remove_times), 4),
        "query_p50_ms": round(latencies[len(latencies) // 2], 1),
        "query_p95_ms": round(latencies[int(len(latencies) * 0.95)], 1),
        "recall_at_10": round(hits / (10 * len(queries)), 3),
        "lexical_recall_at_50": round(lexical_recall, 3),
        "peak_memory_mb": round(memory_mb(), 0),
        "serving_memory_mb": round(serving, 0),
        "bench_vectors_mb": round(vectors.nbytes / 1e6, 0),
        "memory_before_store_mb": round(before, 0),
        "disk_mb": round(disk / 1e6, 0),
    }


def _fresh_database(url: str, name: str) -> str:
    from tests.support.pg import fresh_database

    return fresh_database(url, name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--database-url", default=None, help="measure PostgreSQL instead")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        size, folder = int(args.worker[0]), Path(args.worker[1])
        print(json.dumps(worker(size, folder, args.database_url)))
        return 0
    query_vectors(questions())  # embedded once, before any timing
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory(prefix=f"scale-{size}-") as tmp:
            command = [sys.executable, "-m", "bench.scale", "--worker", str(size), tmp]
            if args.database_url:
                url = _fresh_database(args.database_url, f"scale_{size}")
                command += ["--database-url", url]
            done = subprocess.run(
                command, capture_output=True, text=True, cwd=ROOT, env=dict(os.environ)
            )
            if done.returncode != 0:
                print(done.stderr[-2000:], file=sys.stderr)
                return 1
            rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(json.dumps(rows[-1]), file=sys.stderr)
    backend = "PostgreSQL + pgvector" if args.database_url else "embedded (SQLite + FAISS)"
    print(f"{backend}:\n")
    print(
        "| passages | fill | /add (5 passages) | /remove | query p50 / p95 | recall@10 "
        "| lexical@50 | memory serving / peak (bench's own vectors) | disk |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['passages']:,} | {r['fill_seconds']:.0f} s | {r['add_seconds'] * 1000:.1f} ms "
            f"| {r['remove_seconds'] * 1000:.1f} ms "
            f"| {r['query_p50_ms']:.1f} / {r['query_p95_ms']:.1f} ms "
            f"| {r['recall_at_10']:.3f} | {r['lexical_recall_at_50']:.3f} "
            f"| {r['serving_memory_mb'] / 1000:.2f} / "
            f"{r['peak_memory_mb'] / 1000:.2f} GB ({r['bench_vectors_mb'] / 1000:.2f} GB) "
            f"| {r['disk_mb'] / 1000:.2f} GB |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
