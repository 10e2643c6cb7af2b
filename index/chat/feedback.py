"""Readers' votes as a bounded adjustment to the order of the quotes.

A vote is one reader's +1 or -1 on a passage (by its text's hash, so it survives reindexing)
for a question. For a new question, the votes given for similar questions (most of their
words in common) move each passage's answer score by at most ``MAX_SHIFT``; only passages
that at least ``MIN_VOTERS`` different readers voted on move at all, so one reader cannot bury
a passage for everyone, and a vote's weight halves every ``HALF_LIFE_DAYS``. An answer reads
only the votes of its passages cast within ``HORIZON_DAYS`` (older ones weigh a sixteenth or
less), at most ``VOTES_PER_PASSAGE`` per passage, the latest: its cost does not grow with the
votes kept. The adjustment reorders the quotes that passed the evidence gate and never lets a
passage through it.

>>> votes = [Vote("Qui a tiré ?", "p", -1, f"r{n}", "2026-12-01T00:00:00Z") for n in range(3)]
>>> adjustments("Qui a tiré sur la foule ?", votes, datetime(2026, 12, 1, tzinfo=UTC))
{'p': -0.1}
>>> adjustments("Qui a tiré sur la foule ?", votes[:2], datetime(2026, 12, 1, tzinfo=UTC))
{}
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime

from index.stores.readers import Vote

__all__ = [
    "HALF_LIFE_DAYS",
    "HORIZON_DAYS",
    "MAX_SHIFT",
    "MIN_VOTERS",
    "SIMILAR",
    "VOTES_PER_PASSAGE",
    "adjustments",
    "passage_hash",
    "question_words",
    "similar_questions",
]

MIN_VOTERS = 3
HALF_LIFE_DAYS = 30.0
MAX_SHIFT = 0.1  # in answer-score units: enough to swap close quotes, not to rewrite a ranking
HORIZON_DAYS = 4 * HALF_LIFE_DAYS  # votes older than this are not read (weight ≤ 1/16)
VOTES_PER_PASSAGE = 50  # the latest voters of a passage read for an answer (≫ MIN_VOTERS)
SIMILAR = 0.5  # Jaccard of two questions' words from which they are similar
_WORD = re.compile(r"\w{3,}")


def passage_hash(text: str) -> str:
    """A passage's identity for votes: its words, not its place in an article."""
    return hashlib.sha256(" ".join(text.split()).encode()).hexdigest()


class _WithoutMarks(dict[int, int | None]):
    """``str.translate`` table dropping combining marks, filled in as characters come."""

    def __missing__(self, code: int) -> int | None:
        kept = None if unicodedata.combining(chr(code)) else code
        self[code] = kept
        return kept


_WITHOUT_MARKS = _WithoutMarks()


def question_words(text: str) -> frozenset[str]:
    """A question's words of 3+ letters, case and accents folded.

    >>> sorted(question_words("Où est passé l'Élysée ?"))
    ['elysee', 'est', 'passe']
    """
    folded = text.casefold()
    if not folded.isascii():
        folded = unicodedata.normalize("NFKD", folded).translate(_WITHOUT_MARKS)
    return frozenset(_WORD.findall(folded))


def similar_questions(a: str, b: str) -> bool:
    """Most of their words in common (Jaccard of words of 3+ letters, accents folded)."""
    return _similar(a, question_words(a), b, question_words(b))


def _similar(a: str, first: frozenset[str], b: str, second: frozenset[str]) -> bool:
    if not first or not second:
        return a.strip().casefold() == b.strip().casefold()
    return len(first & second) / len(first | second) >= SIMILAR


def adjustments(question: str, votes: Sequence[Vote], now: datetime) -> dict[str, float]:
    """Each voted passage's shift of its answer score for ``question``.

    Args:
        question: The question being answered.
        votes: The votes cast on its candidate passages, for any question.
        now: When it is asked: the votes' weights halve every ``HALF_LIFE_DAYS`` before it.

    Returns:
        The shift of each passage (by hash) that enough readers voted on for similar
        questions, within ``MAX_SHIFT`` either way; passages that do not move are omitted.
    """
    shifts: dict[str, float] = {}
    weights: dict[str, float] = {}  # votes cast in the same second weigh the same

    def decays(at: str) -> float:
        if at not in weights:
            weights[at] = _decay(at, now)
        return weights[at]

    for passage, passage_votes in _votes_by_passage(question, votes).items():
        if len(passage_votes) < MIN_VOTERS:
            continue
        net = sum(v.value * decays(v.at) for v in passage_votes)
        shift = MAX_SHIFT * max(-1.0, min(1.0, net / MIN_VOTERS))
        if abs(shift) >= 1e-4:
            shifts[passage] = round(shift, 4)
    return shifts


def _votes_by_passage(question: str, votes: Sequence[Vote]) -> dict[str, list[Vote]]:
    """Each passage's votes for questions similar to ``question``, the latest of each reader."""
    asked = question_words(question)
    verdicts: dict[str, bool] = {}  # many votes share a wording: each is compared once
    latest: dict[tuple[str, str], Vote] = {}
    for vote in votes:
        similar = verdicts.get(vote.question)
        if similar is None:
            similar = _similar(question, asked, vote.question, question_words(vote.question))
            verdicts[vote.question] = similar
        if not similar:
            continue
        key = (vote.passage, vote.voter)
        if key not in latest or latest[key].at < vote.at:
            latest[key] = vote
    by_passage: dict[str, list[Vote]] = {}
    for (passage, _), vote in latest.items():
        by_passage.setdefault(passage, []).append(vote)
    return by_passage


def _decay(at: str, now: datetime) -> float:
    when = datetime.fromisoformat(at.replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    age_days = max(0.0, (now - when).total_seconds() / 86_400)
    return float(0.5 ** (age_days / HALF_LIFE_DAYS))
