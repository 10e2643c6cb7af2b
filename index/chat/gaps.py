"""What the collection fails to answer: readers' questions grouped by similar wording.

Plain functions on the readers' store's records (``index.stores.readers``): questions declined or
answered only with the closest passages, and answers readers rated down, each grouped with
the questions that share most of their words, most frequent (or lowest rated) first.

>>> gaps = [Gap("Comment faire une pâte à crêpes ?", "declined", "fr", "t"),
...         Gap("Comment faire la pâte à crêpes ?", "declined", "fr", "t"),
...         Gap("Qui a gagné la coupe ?", "closest", "fr", "t")]
>>> [(g.question, g.count) for g in group_gaps(gaps)]
[('Comment faire une pâte à crêpes ?', 2), ('Qui a gagné la coupe ?', 1)]

Grouping costs n log n, not n²: a question joins the first group whose first wording is
similar (``index.chat.feedback.similar_questions``: Jaccard ≥ 0.5 over words), and only groups that
share one of its rarest words can be (prefix filtering: two word sets with Jaccard ≥ t share a
word among the first |x| - ⌈t·|x|⌉ + 1 of each, in one global order), at most
``MAX_COMPARED`` of them (``python -m bench.gaps``).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from index.chat.feedback import SIMILAR, question_words
from index.stores.readers import Gap

__all__ = [
    "MAX_COMPARED",
    "MAX_READ",
    "GapGroup",
    "RatedGroup",
    "group_disliked",
    "group_gaps",
    "group_wordings",
]

MAX_READ = 10_000  # the latest gaps (and rated answers) a report groups
MAX_COMPARED = 200  # groups a question is compared with, at most (those sharing a rare word)


@dataclass(frozen=True, slots=True)
class GapGroup:
    question: str  # the group's most asked wording
    count: int
    outcomes: tuple[tuple[str, int], ...]  # ("declined", 3), ("closest", 1)
    scope: str = ""  # the scope it was asked in ("" the whole collection)


@dataclass(frozen=True, slots=True)
class RatedGroup:
    question: str
    net: int  # the sum of the votes on its answers (negative)
    voted: int  # how many (question, passage) pairs were rated


def group_wordings(questions: Sequence[str]) -> list[list[int]]:
    """The questions' positions grouped by similar wording, each group in order, the groups in
    the order of their first question.

    >>> group_wordings(["Qui a gagné la coupe ?", "Pourquoi ?", "QUI a gagné la coupe", "pourquoi"])
    [[0, 2], [1, 3]]
    """
    words = [question_words(q) for q in questions]
    frequency = Counter(w for ws in words for w in ws)
    groups: list[list[int]] = []
    by_text: dict[str, int] = {}  # questions without words: the same text or nothing
    by_words: dict[frozenset[str], int] = {}  # the same words: the same group, no comparison
    postings: defaultdict[str, list[int]] = defaultdict(list)  # a prefix word -> groups
    heads: list[frozenset[str]] = []  # each group's first wording's words
    for position, (question, found) in enumerate(zip(questions, words, strict=True)):
        group = _find(
            question,
            found,
            frequency=frequency,
            by_text=by_text,
            by_words=by_words,
            postings=postings,
            heads=heads,
        )
        if group is None:
            group = len(groups)
            groups.append([])
            heads.append(found)
            if found:
                for word in _prefix(found, frequency):
                    postings[word].append(group)
            else:
                by_text[question.strip().casefold()] = group
        if found:
            by_words.setdefault(found, group)
        groups[group].append(position)
    return groups


def _find(
    question: str,
    found: frozenset[str],
    *,
    frequency: Counter[str],
    by_text: dict[str, int],
    by_words: dict[frozenset[str], int],
    postings: dict[str, list[int]],
    heads: list[frozenset[str]],
) -> int | None:
    """The first group whose first wording is similar to ``question``, or None."""
    if not found:
        return by_text.get(question.strip().casefold())
    if found in by_words:
        return by_words[found]
    # Each posting list is in group order: the first MAX_COMPARED of each hold the union's first.
    prefix = _prefix(found, frequency)
    candidates = sorted({g for w in prefix for g in postings.get(w, ())[:MAX_COMPARED]})
    size = len(found)
    smallest, largest = SIMILAR * size, size / SIMILAR  # Jaccard ≤ the ratio of the sizes
    for group in candidates[:MAX_COMPARED]:
        head = heads[group]
        if not smallest <= len(head) <= largest:
            continue
        shared = len(found & head)
        if shared / (size + len(head) - shared) >= SIMILAR:
            return group
    return None


def _prefix(found: frozenset[str], frequency: Counter[str]) -> list[str]:
    """The rarest words of a question, enough that any similar one shares one of them."""
    ordered = sorted(found, key=lambda w: (frequency[w], w))
    return ordered[: len(ordered) - math.ceil(SIMILAR * len(ordered)) + 1]


def group_gaps(gaps: Sequence[Gap], limit: int = 10) -> list[GapGroup]:
    """Gaps grouped by scope and similar wording, most frequent first.

    A question a scoped group asked is a gap of that scope, not of the collection (the rest of
    it may answer): it is grouped with the same scope's only.
    """
    by_scope: dict[str, list[Gap]] = {}
    for gap in gaps:
        by_scope.setdefault(gap.scope, []).append(gap)
    made = []
    for scope, asked in by_scope.items():
        for positions in group_wordings([g.question for g in asked]):
            group = [asked[i] for i in positions]
            wording = Counter(g.question.strip() for g in group).most_common(1)[0][0]
            outcomes = tuple(sorted(Counter(g.outcome for g in group).items()))
            made.append(GapGroup(wording, len(group), outcomes, scope))
    made.sort(key=lambda g: (-g.count, g.question, g.scope))
    return made[:limit]


def group_disliked(rated: Sequence[tuple[str, str, int]], limit: int = 10) -> list[RatedGroup]:
    """(question, passage, net votes) rows grouped by similar wording, lowest rated first."""
    groups = [[rated[i] for i in group] for group in group_wordings([r[0] for r in rated])]
    made = [
        RatedGroup(
            Counter(r[0] for r in group).most_common(1)[0][0], sum(r[2] for r in group), len(group)
        )
        for group in groups
    ]
    made.sort(key=lambda g: (g.net, g.question))
    return made[:limit]
