"""Wire copies: precision and recall of ``index.collection.wire`` on a labelled set of article
pairs.

    python -m bench.wire [--articles DIR] [--json]

The pairs are made from real articles (PIAF's 191 French Wikipedia articles), the way one
agency story reaches several sites:

- **copies** (labelled the same story): a new headline; paragraphs reordered; photo credits,
  captions, an agency byline and a "read also" line added; another date line; the last
  paragraphs cut (a site that keeps the first 60%); a sentence reworded; and mixes of these;
- **different stories** (labelled apart): two different articles; the article and its nearest
  other article by shared words (same subject); a follow-up story that reuses one background
  paragraph of the first; the same boilerplate (credits, "read also", a newsletter line) around
  two different texts.

Articles are split by their index, even ones for choosing the threshold (dev), odd ones for
the figures (test). Printed: precision and recall of the article-level decision (exact
containment of word 5-grams, and the MinHash estimate that ``WireIndex`` uses), and, for the
answers, how often a copy's passage collapses into the original's quote (``search``'s
near-duplicate collapse) against how often two different stories' passages wrongly do; then
``WireIndex`` build and query times.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from dataclasses import dataclass
from pathlib import Path

from index.collection.wire import COPY_CONTAINMENT, WireIndex, containment, shingles
from index.ingest.loader import load_article
from index.retrieval.chunk import chunk_article
from index.retrieval.search import near_duplicate_groups

ROOT = Path(__file__).resolve().parent.parent
PIAF = ROOT.parent / "shared" / "eval" / "piaf" / "articles"
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)

CREDITS = [
    "Photo : AFP / Jean Dupont",
    "© Reuters – Marie Martin",
    "Légende : vue générale du site, lundi matin.",
    "Crédit photo : DR",
]
BYLINES = ["PARIS (AFP) –", "Par Le Journal avec AFP", "(Reuters)", "Avec l'agence Belga"]
READ_ALSO = [
    "Lire aussi : notre dossier complet",
    "À lire également : les autres articles de la rubrique",
    "Inscrivez-vous à notre lettre d'information quotidienne.",
]


@dataclass(frozen=True, slots=True)
class Pair:
    kind: str
    first: str  # title + text, as the index sees an article
    second: str
    same: bool
    split: str


def _paragraphs(text: str) -> list[str]:
    return [p for p in text.split("\n\n") if p.strip()]


def _join(title: str, paragraphs: list[str]) -> str:
    return title + "\n\n" + "\n\n".join(paragraphs)


def _reword(paragraph: str, rng: random.Random) -> str:
    words = paragraph.split(" ")
    for _ in range(max(1, len(words) // 25)):  # about one word in 25 changed
        i = rng.randrange(len(words))
        words[i] = rng.choice(["aussi", "ainsi", "notamment", "désormais", "toutefois"])
    return " ".join(words)


def copies(title: str, paragraphs: list[str], rng: random.Random) -> dict[str, str]:
    """The ways a story is republished, each as a whole article text."""
    reordered = paragraphs[:]
    if len(reordered) > 2:
        i, j = rng.sample(range(len(reordered)), 2)
        reordered[i], reordered[j] = reordered[j], reordered[i]
    decorated = [rng.choice(BYLINES) + " " + paragraphs[0], *paragraphs[1:]]
    decorated.insert(min(1, len(decorated)), rng.choice(CREDITS))
    decorated.append(rng.choice(READ_ALSO))
    cut = paragraphs[: max(1, round(len(paragraphs) * 0.6))]
    reworded = [_reword(p, rng) for p in paragraphs]
    mix = [rng.choice(BYLINES), *reworded[: max(1, round(len(reworded) * 0.8))]]
    mix.insert(1, rng.choice(CREDITS))
    return {
        "new headline": _join("Ce qu'il faut savoir : " + title.lower(), paragraphs),
        "reordered": _join(title, reordered),
        "credits, captions, byline": _join(title, decorated),
        "other date line": _join(title, [f"Publié le {rng.randint(1, 28)} mars 2024", *paragraphs]),
        "cut at 60%": _join(title, cut),
        "reworded": _join(title, reworded),
        "mixed edits": _join(title.upper(), mix),
    }


def labelled_pairs(folder: Path, seed: int = 7) -> list[Pair]:
    rng = random.Random(seed)
    articles = [load_article(p) for p in sorted(folder.glob("*.txt"))]
    words = [set(a.text.casefold().split()) for a in articles]
    pairs: list[Pair] = []
    for n, article in enumerate(articles):
        split = "dev" if n % 2 == 0 else "test"
        paragraphs = _paragraphs(article.text)
        original = _join(article.title, paragraphs)
        for kind, text in copies(article.title, paragraphs, rng).items():
            pairs.append(Pair(kind, original, text, True, split))
        other = articles[rng.choice([i for i in range(len(articles)) if i != n])]
        pairs.append(
            Pair(
                "another story", original, _join(other.title, _paragraphs(other.text)), False, split
            )
        )
        nearest = max(
            (i for i in range(len(articles)) if i != n),
            key=lambda i: len(words[n] & words[i]) / len(words[n] | words[i]),
        )
        near = articles[nearest]
        pairs.append(
            Pair("same subject", original, _join(near.title, _paragraphs(near.text)), False, split)
        )
        background = rng.choice(paragraphs)
        follow_up = _paragraphs(other.text)[:4]
        follow_up.insert(min(2, len(follow_up)), background)
        pairs.append(
            Pair(
                "follow-up reusing a paragraph",
                original,
                _join("Suite : " + other.title, follow_up),
                False,
                split,
            )
        )
        boiler = [rng.choice(BYLINES), rng.choice(CREDITS), rng.choice(READ_ALSO)]
        pairs.append(
            Pair(
                "same boilerplate",
                _join(
                    article.title,
                    [boiler[0] + " " + paragraphs[0], boiler[1], *paragraphs[1:3], boiler[2]],
                ),
                _join(
                    other.title,
                    [
                        boiler[0] + " " + _paragraphs(other.text)[0],
                        boiler[1],
                        *_paragraphs(other.text)[1:3],
                        boiler[2],
                    ],
                ),
                False,
                split,
            )
        )
    return pairs


def _scores(pairs: list[Pair]) -> list[float]:
    return [containment(shingles(p.first), shingles(p.second)) for p in pairs]


def _estimated(pairs: list[Pair]) -> list[float]:
    found = []
    for p in pairs:
        index = WireIndex(threshold=0.0)
        index.add("a", p.first)
        copies_found = index.copies(p.second)
        found.append(copies_found[0].containment if copies_found else 0.0)
    return found


def precision_recall(
    pairs: list[Pair], scores: list[float], threshold: float
) -> tuple[float, float]:
    predicted = [s >= threshold for s in scores]
    true_positive = sum(p and pair.same for p, pair in zip(predicted, pairs, strict=True))
    positives = sum(predicted)
    relevant = sum(pair.same for pair in pairs)
    return (true_positive / positives if positives else 1.0, true_positive / relevant)


def passage_collapse(pairs: list[Pair]) -> dict[str, tuple[float, int]]:
    """How the answers treat the second article's passages, by kind of pair: the share that
    collapse into a passage of the first (``near_duplicate_groups``, as ``search`` does), over
    the passages of a copy whose 5-grams are mostly (half or more) in the first article (they
    should, so the text is shown once), and over a different story's passages, but those
    reused word for word (90% of their 5-grams), which never should (that would hide one).
    Texts are cleaned as ingest cleans them (credits and "read also" lines go)."""
    from index.ingest.clean import clean_text
    from index.models import Article

    counts: dict[str, list[int]] = {}
    for pair in pairs:
        chunks, whole = [], []
        for key, text in (("a", pair.first), ("b", pair.second)):
            title, _, body = text.partition("\n\n")
            body = clean_text(body)
            whole.append(shingles(body))
            chunks.append([c.text for c in chunk_article(Article(key, title, body, key))])
        first, second = chunks
        for passage in second:
            grams = shingles(passage)
            share = len(grams & whole[0]) / len(grams) if grams else 0.0
            if (pair.same and share < 0.5) or (not pair.same and share >= 0.9):
                continue  # a copy's new lines, or a different story's reused paragraph
            collapsed = any(len(near_duplicate_groups([other, passage])) == 1 for other in first)
            tally = counts.setdefault(pair.kind, [0, 0])
            tally[0] += collapsed
            tally[1] += 1
    return {kind: (round(c / n, 3), n) for kind, (c, n) in counts.items()}


def timings(folder: Path, copies_of_each: int = 20) -> dict[str, float]:
    """WireIndex over the articles copied ``copies_of_each`` times (PIAF ×20: 3,820 articles,
    as in the growth benchmark): build time, and one query (an /add's check)."""
    texts = [
        (a.title + "\n\n" + a.text) for a in (load_article(p) for p in sorted(folder.glob("*.txt")))
    ]
    index = WireIndex()
    started = time.perf_counter()
    for n in range(copies_of_each):
        for i, text in enumerate(texts):
            index.add(f"{n}-{i}", f"{text}\n\nCopie {n}")
    build = time.perf_counter() - started
    started = time.perf_counter()
    for text in texts[:50]:
        index.copies(text)
    query = (time.perf_counter() - started) / 50
    return {"articles": len(index), "build_s": round(build, 1), "query_ms": round(query * 1000, 2)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.wire", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--articles", type=Path, default=PIAF)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    pairs = labelled_pairs(args.articles)
    dev = [p for p in pairs if p.split == "dev"]
    test = [p for p in pairs if p.split == "test"]
    report: dict[str, object] = {
        "pairs": {"dev": len(dev), "test": len(test), "copies": sum(p.same for p in pairs)},
        "dev_exact": {
            str(t): [round(x, 3) for x in precision_recall(dev, _scores(dev), t)]
            for t in THRESHOLDS
        },
    }
    test_exact = _scores(test)
    test_minhash = _estimated(test)
    report["test_exact"] = [
        round(x, 3) for x in precision_recall(test, test_exact, COPY_CONTAINMENT)
    ]
    report["test_minhash"] = [
        round(x, 3) for x in precision_recall(test, test_minhash, COPY_CONTAINMENT)
    ]
    report["test_by_kind"] = {
        kind: round(
            sum(
                (s >= COPY_CONTAINMENT) == p.same
                for s, p in zip(test_minhash, test, strict=True)
                if p.kind == kind
            )
            / sum(p.kind == kind for p in test),
            3,
        )
        for kind in dict.fromkeys(p.kind for p in test)
    }
    report["passage_collapse_test"] = passage_collapse(test)
    report["timings"] = timings(args.articles)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=1))
        return
    print(f"pairs: {report['pairs']}")
    print("dev, exact containment: threshold -> (precision, recall)")
    for threshold, figures in report["dev_exact"].items():  # type: ignore[attr-defined]
        print(f"  {threshold}: {figures}")
    print(
        f"test at {COPY_CONTAINMENT}: exact {report['test_exact']}, MinHash {report['test_minhash']}"
    )
    print("test, right decisions by kind (MinHash):")
    for kind, share in report["test_by_kind"].items():  # type: ignore[attr-defined]
        print(f"  {kind}: {share}")
    print("test, passages collapsed into one quote (share, passages), by kind:")
    for kind, share in report["passage_collapse_test"].items():  # type: ignore[attr-defined]
        print(f"  {kind}: {share}")
    print(f"WireIndex: {report['timings']}")


if __name__ == "__main__":
    main()
