"""Worst-case inputs of the hardening review, timed at growing sizes: is each step linear?

- Markdown of ``" *a" * n`` (emphasis that never closes): 60 KB took 11 s, the time growing with
  the square of the size;
- one paragraph of ``"a. " * n`` through chunking (pysbd): 200 KB took 84 s;
- deeply nested JSON and clean_text on the same inputs;
- a PDF page's lines that never end a paragraph: each line searched the whole paragraph so far
  for a hyphen at its end (16,000 characters a page: 0.14 s a page, the most of a PDF's time).

    python -m bench.ingest_worst [--sizes 20000,60000,200000]

Each figure is the best of three runs, in seconds; a linear step takes about 3.3x longer for
each 3.3x larger input.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Callable

from index.errors import ArticleLoadError
from index.ingest.clean import clean_text
from index.ingest.documents import pdf_paragraphs_from_lines
from index.ingest.loader import article_from_bytes
from index.ingest.markdown import markdown_to_text
from index.models import Article
from index.retrieval.chunk import chunk_article


def _best_of_three(step: Callable[[], object]) -> float:
    times = []
    for _ in range(3):
        started = time.perf_counter()
        step()
        times.append(time.perf_counter() - started)
    return min(times)


def _json(data: bytes) -> None:
    with contextlib.suppress(ArticleLoadError):
        article_from_bytes("deep.json", data)


def cases(size: int) -> dict[str, Callable[[], object]]:
    """Each worst case at about ``size`` characters."""
    stars = "# T\n\n" + " *a" * (size // 3)
    dots = "a. " * (size // 3)
    return {
        "markdown ' *a'×n": lambda: markdown_to_text(stars),
        "clean_text 'a. '×n": lambda: clean_text(dots),
        "chunk 'a. '×n": lambda: chunk_article(
            Article(id="a", title="T", text=dots, sha256="x", lang="fr")
        ),
        "json '['×n": lambda: _json(b"[" * (size // 2) + b"]" * (size // 2)),
        "pdf lines, one paragraph": lambda: pdf_paragraphs_from_lines(
            ["un mot puis un autre, sans fin de phrase"] * (size // 40)
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20000,60000,200000")
    sizes = [int(s) for s in parser.parse_args().sizes.split(",")]
    names = list(cases(sizes[0]))
    print("| input | " + " | ".join(f"{s // 1000} KB" for s in sizes) + " |")
    print("|---|" + "---|" * len(sizes))
    for name in names:
        row = [f"{_best_of_three(cases(size)[name]):.3f} s" for size in sizes]
        print(f"| {name} | " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
