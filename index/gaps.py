"""What the collection fails to answer: readers' questions grouped by similar wording.

Plain functions on the readers' store's records (``index.readers``): questions declined or
answered only with the closest passages, and answers readers rated down, each grouped with
the questions that share most of their words, most frequent (or lowest rated) first.

>>> gaps = [Gap("Comment faire une pâte à crêpes ?", "declined", "fr", "t"),
...         Gap("Comment faire la pâte à crêpes ?", "declined", "fr", "t"),
...         Gap("Qui a gagné la coupe ?", "closest", "fr", "t")]
>>> [(g.question, g.count) for g in group_gaps(gaps)]
[('Comment faire une pâte à crêpes ?', 2), ('Qui a gagné la coupe ?', 1)]
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from index.feedback import similar_questions
from index.readers import Gap

__all__ = ["GapGroup", "RatedGroup", "group_disliked", "group_gaps"]


@dataclass(frozen=True, slots=True)
class GapGroup:
    question: str  # the group's most asked wording
    count: int
    outcomes: tuple[tuple[str, int], ...]  # ("declined", 3), ("closest", 1)


@dataclass(frozen=True, slots=True)
class RatedGroup:
    question: str
    net: int  # the sum of the votes on its answers (negative)
    voted: int  # how many (question, passage) pairs were rated


def group_gaps(gaps: Sequence[Gap], limit: int = 10) -> list[GapGroup]:
    """Gaps grouped by similar wording, most frequent first."""
    groups: list[list[Gap]] = []
    for gap in gaps:
        for group in groups:
            if similar_questions(group[0].question, gap.question):
                group.append(gap)
                break
        else:
            groups.append([gap])
    made = []
    for group in groups:
        wording = Counter(g.question.strip() for g in group).most_common(1)[0][0]
        outcomes = tuple(sorted(Counter(g.outcome for g in group).items()))
        made.append(GapGroup(wording, len(group), outcomes))
    made.sort(key=lambda g: (-g.count, g.question))
    return made[:limit]


def group_disliked(rated: Sequence[tuple[str, str, int]], limit: int = 10) -> list[RatedGroup]:
    """(question, passage, net votes) rows grouped by similar wording, lowest rated first."""
    groups: list[list[tuple[str, str, int]]] = []
    for row in rated:
        for group in groups:
            if similar_questions(group[0][0], row[0]):
                group.append(row)
                break
        else:
            groups.append([row])
    made = [
        RatedGroup(
            Counter(r[0] for r in group).most_common(1)[0][0], sum(r[2] for r in group), len(group)
        )
        for group in groups
    ]
    made.sort(key=lambda g: (g.net, g.question))
    return made[:limit]
