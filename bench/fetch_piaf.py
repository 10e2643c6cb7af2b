"""``python -m bench.fetch_piaf``: PIAF v1.0 fetched and made into the evaluation's files.

PIAF ("PIAF: a native French question-answering dataset", Keraron et al., LREC 2020; MIT,
© 2020 DINUM/Etalab) is ``piaf-v1.0.json`` in the public repository etalab-ia/piaf-code. This
writes what ``make eval`` reads, as ``../shared/eval/piaf/convert.py`` does, byte for byte:

- ``articles/<slug>.txt``: the title, a blank line, the paragraphs separated by blank lines;
- ``questions.jsonl``: ``id``, ``question``, ``answers``, ``article``, ``context``, ``split``,
  ``dev`` for the questions whose id's SHA-256 modulo 10 is below 3, else ``test``: the same
  rule, so figures measured on a fetched copy compare with the README's.

Online by default; ``--source piaf-v1.0.json`` converts a file downloaded by hand.

>>> slug("Château d'Œx (Vaud)")  # Œ has no ASCII decomposition: dropped, as convert.py does
'chateau-d-x-vaud'
>>> split_of("5c5d53ee-a1c7-4e2b-8a7d-1b3f0b6a0e11")
'test'
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["PIAF_URL", "Converted", "convert", "main", "slug", "split_of", "write"]

# The commit that ../shared/eval/piaf/SOURCE.md names.
PIAF_URL = "https://github.com/etalab-ia/piaf-code/raw/86948a7/piaf-v1.0.json"
# What SOURCE.md counts in that file: another count means another file.
EXPECTED = (191, 3835)
DEFAULT_OUT = Path("../shared/eval/piaf")


@dataclass(frozen=True)
class Converted:
    """The article files (name to text) and the questions, in the dataset's order."""

    articles: dict[str, str]
    questions: list[dict[str, Any]]

    @property
    def dev(self) -> int:
        return sum(q["split"] == "dev" for q in self.questions)


def slug(title: str) -> str:
    """The file name stem of an article: ASCII, lower case, dashes, at most 60 characters."""
    text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:60] or "article"


def split_of(question_id: str) -> str:
    """``dev`` for about 30% of the questions, chosen by a hash of the id, else ``test``."""
    bucket = int(hashlib.sha256(question_id.encode()).hexdigest(), 16) % 10
    return "dev" if bucket < 3 else "test"


def convert(data: Any) -> Converted:
    """PIAF's SQuAD-shaped JSON as article files and questions.

    Args:
        data: the parsed ``piaf-v1.0.json`` (``{"data": [{"title", "paragraphs": [...]}]}``).

    Returns:
        The articles and questions, as convert.py makes them.

    Raises:
        ValueError: ``data`` is not of that shape (the message names what is missing).
    """
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise ValueError('not a PIAF file: no "data" list at the top')
    articles: dict[str, str] = {}
    questions: list[dict[str, Any]] = []
    try:
        for article in data["data"]:
            name = slug(article["title"])
            base, n = name, 2
            while f"{name}.txt" in articles:
                name, n = f"{base}-{n}", n + 1
            paragraphs = [p["context"].strip() for p in article["paragraphs"]]
            articles[f"{name}.txt"] = (
                article["title"].strip() + "\n\n" + "\n\n".join(paragraphs) + "\n"
            )
            for paragraph in article["paragraphs"]:
                for qa in paragraph["qas"]:
                    questions.append(
                        {
                            "id": qa["id"],
                            "question": qa["question"].strip(),
                            "answers": sorted({a["text"] for a in qa["answers"]}),
                            "article": f"{name}.txt",
                            "context": paragraph["context"].strip(),
                            "split": split_of(qa["id"]),
                        }
                    )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"not a PIAF file: an article lacks {exc}") from exc
    return Converted(articles, questions)


def write(converted: Converted, out: Path) -> None:
    """``out/articles/*.txt`` and ``out/questions.jsonl``."""
    (out / "articles").mkdir(parents=True, exist_ok=True)
    for name, text in converted.articles.items():
        (out / "articles" / name).write_text(text, encoding="utf-8")
    with (out / "questions.jsonl").open("w", encoding="utf-8") as handle:
        for question in converted.questions:
            handle.write(json.dumps(question, ensure_ascii=False) + "\n")


def _download(url: str) -> bytes:
    import httpx

    response = httpx.get(url, follow_redirects=True, timeout=120)
    response.raise_for_status()
    return response.content


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fetch_piaf", description=__doc__)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"default {DEFAULT_OUT}")
    parser.add_argument(
        "--source", help=f"a downloaded piaf-v1.0.json, or a URL (default {PIAF_URL})"
    )
    args = parser.parse_args(argv)
    source = args.source or PIAF_URL
    try:
        if re.match(r"https?://", source):
            print(f"fetching {source}", file=sys.stderr)
            raw = _download(source)
        else:
            raw = Path(source).read_bytes()
        converted = convert(json.loads(raw))
    except (OSError, ValueError) as exc:
        print(f"error: {source}: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # httpx's errors: no network, 404
        print(
            f"error: could not fetch {source} ({exc}); download piaf-v1.0.json from "
            "https://github.com/etalab-ia/piaf-code and run: python -m bench.fetch_piaf "
            "--source piaf-v1.0.json",
            file=sys.stderr,
        )
        return 1
    write(converted, args.out)
    counts = (len(converted.articles), len(converted.questions))
    print(
        f"{counts[0]} articles; {counts[1]} questions; {converted.dev} dev; in {args.out}",
        file=sys.stderr,
    )
    if counts != EXPECTED and args.source is None:
        print(
            f"warning: PIAF v1.0 has {EXPECTED[0]} articles and {EXPECTED[1]} questions: this "
            "file is another version, so figures will not compare with the README's",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
