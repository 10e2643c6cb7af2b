"""Hostile PDF and DOCX uploads: time and peak memory of reading each, in a fresh process.

Each file is small on disk and huge once read (issue 22, finding 6):

- a DOCX of 5,000,000 empty paragraphs (78 KB): python-docx built its whole tree, 294 s and
  2.3 GB before saying "no text";
- a DOCX of one paragraph of 1,100,000 empty runs (the most elements a cap lets through);
- a DOCX of 1,600 paragraphs of the same 1,600 characters (34 KB): 2.6 M characters of text,
  over the 2 MB upload limit;
- a PDF of 500 pages drawing one content stream of 16,000 characters (78 KB): 8.1 M characters.

    python -m bench.documents [--code PATH] [--limit 2000000] [--only PDF]

``--code`` reads them with the ``index`` package of another checkout (for instance
``--code /work/main`` for the code before a change); each case runs in its own process, which
reports its wall time, its peak resident memory (``VmHWM``, imports included: about 58 MB)
and what the reader said.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from tests.support.sample_documents import (
    docx_of_empty_paragraphs,
    docx_of_repeated_text,
    docx_with_body,
    pdf_of_one_page_repeated,
)

CASES: dict[str, tuple[str, Callable[[], bytes]]] = {
    "DOCX, 5 M empty paragraphs": ("empty.docx", lambda: docx_of_empty_paragraphs(5_000_000)),
    "DOCX, 1.1 M empty runs": (
        "runs.docx",
        lambda: docx_with_body(b"<w:p>" + b"<w:r/>" * 1_100_000 + b"</w:p>"),
    ),
    "DOCX, 2.6 M characters": ("long.docx", lambda: docx_of_repeated_text(1600)),
    "PDF, 500 pages × 16 K characters": ("long.pdf", lambda: pdf_of_one_page_repeated(500, 200)),
}

# Run in the child: read one file with the given checkout's ``article_from_bytes``.
_CHILD = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
from index.errors import ArticleLoadError
from index.ingest.loader import article_from_bytes
path, limit = sys.argv[2], int(sys.argv[3])
data = open(path, "rb").read()
started = time.perf_counter()
try:
    article = article_from_bytes(path.rsplit("/", 1)[-1], data, max_bytes=limit)
    outcome = f"accepted: {len(article.text):,} characters"
except ArticleLoadError as exc:
    outcome = f"refused: {exc}"
seconds = time.perf_counter() - started
# VmHWM, not ru_maxrss: Linux keeps ru_maxrss across exec, so it would count the parent's.
status = open("/proc/self/status").read().split("VmHWM:")[1]
peak = int(status.split()[0]) / 1024
print(json.dumps({"seconds": seconds, "peak_mb": peak, "outcome": outcome}))
"""


def measure(code: Path, path: Path, limit: int, timeout: float) -> dict[str, object]:
    """Read ``path`` in a fresh process with ``code``'s index package."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, str(code), str(path), str(limit)],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )
    except subprocess.TimeoutExpired:
        return {"seconds": timeout, "peak_mb": float("nan"), "outcome": "still reading: stopped"}
    except subprocess.CalledProcessError as exc:
        return {"seconds": float("nan"), "peak_mb": float("nan"), "outcome": exc.stderr[-200:]}
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--limit", type=int, default=2_000_000, help="MAX_UPLOAD_BYTES")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per case")
    parser.add_argument("--only", default="", help="the cases whose label contains this")
    args = parser.parse_args()
    print(f"code: {args.code}, limit {args.limit:,} bytes")
    print("| file | size | time | peak memory | outcome |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for label, (name, build) in CASES.items():
            if args.only not in label:
                continue
            path = Path(folder) / name
            path.write_bytes(build())
            result = measure(args.code, path, args.limit, args.timeout)
            print(
                f"| {label} | {path.stat().st_size / 1000:.0f} KB | {result['seconds']:.2f} s "
                f"| {result['peak_mb']:.0f} MB | {result['outcome']} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
