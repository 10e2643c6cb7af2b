"""``/gaps``' grouping of questions by wording, timed as gaps pile up.

    python -m bench.gaps [--sizes 500,1000,2000,10000]

Made-up readers' questions (``random`` with a fixed seed): a quarter rephrase an earlier one
(a word changed, added or dropped, accents and case varied), the rest are new, drawn from a
vocabulary of 3,000 words. Printed: for each size, the seconds ``group_gaps`` and
``group_disliked`` take and the groups they make, and the report's length in characters.
"""

from __future__ import annotations

import argparse
import random
import time

WORDS = 3000
STARTS = ["Comment", "Pourquoi", "Quand", "Qui", "Combien", "Quel", "Où", "Est-ce que"]


def questions(count: int, seed: int = 22) -> list[str]:
    """``count`` questions, a quarter of them rewordings of earlier ones."""
    rng = random.Random(seed)
    vocabulary = [
        "".join(rng.choice("abcdefghijklmnopqrstuvwxyzéè") for _ in range(rng.randint(4, 10)))
        for _ in range(WORDS)
    ]
    made: list[list[str]] = []
    for _ in range(count):
        if made and rng.random() < 0.25:
            words = list(rng.choice(made))
            spot = rng.randrange(1, len(words))
            change = rng.random()
            if change < 0.4:
                words[spot] = rng.choice(vocabulary)
            elif change < 0.7:
                words.insert(spot, rng.choice(vocabulary))
            elif len(words) > 3:
                del words[spot]
            if rng.random() < 0.3:
                words = [w.upper() if rng.random() < 0.2 else w for w in words]
        else:
            words = [rng.choice(STARTS), *rng.choices(vocabulary, k=rng.randint(3, 9))]
        made.append(words)
    return [" ".join(words) + " ?" for words in made]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.gaps", description=__doc__)
    parser.add_argument("--sizes", default="500,1000,2000,10000")
    args = parser.parse_args(argv)
    from index.chat.gaps import group_disliked, group_gaps
    from index.stores.readers import Gap

    for size in (int(s) for s in args.sizes.split(",")):
        asked = questions(size)
        gaps = [
            Gap(q, "declined" if n % 3 else "closest", "fr", "2026-12-01T00:00:00Z")
            for n, q in enumerate(asked)
        ]
        rated = [(q, f"p{n % 50}", -1 - n % 3) for n, q in enumerate(asked)]
        started = time.perf_counter()
        grouped = group_gaps(gaps, limit=size)
        middle = time.perf_counter()
        disliked = group_disliked(rated, limit=size)
        done = time.perf_counter()
        print(
            f"{size:>6} gaps: grouped in {middle - started:.3f} s ({len(grouped)} groups); "
            f"{size:>6} rated: {done - middle:.3f} s ({len(disliked)} groups)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
