"""How sure an answer is: several signals of one search, one calibrated probability, three outcomes.

A single cosine cannot tell "the articles answer this" from "this is merely near the
articles": on the shipped article, "Pourquoi les manifestations ont-elles commencé ?" scored
0.229 and "What is the population of Kazakhstan?" 0.277. The signals below each separate the
two a little; a logistic model fitted on PIAF dev (``python -m index calibrate``) weighs them,
and its probability gives one of three outcomes:

- ``answer``: the quotes answer the question;
- ``closest``: the question is near the collection but the evidence is weak: fewer quotes,
  under a line saying they may not answer it;
- ``declined``: nothing is on topic ("not in the articles").

Pure functions on plain data; ``index.retrieval.search`` computes the evidence.
"""

from __future__ import annotations

import math
from dataclasses import astuple, dataclass, fields
from typing import Literal

__all__ = [
    "E5_CONFIDENCE",
    "FEATURES",
    "ConfidenceModel",
    "Evidence",
    "Outcome",
    "threshold_model",
]

Outcome = Literal["answer", "closest", "declined"]


@dataclass(frozen=True, slots=True)
class Evidence:
    """What one search saw of its best passage, the signals the confidence model weighs.

    Cosines are the passage/sentence mix ``search`` ranks with. None of these counts the
    question's words that the articles never use: a synonym ("morts" for "tués") is not
    evidence of absence.
    """

    # Best answer score: similarity minus the share of the question's baseline
    # (``index.retrieval.search.answer_scores``): the old single signal.
    answer: float
    # Best similarity, and the question's baseline (median cosine to unrelated text).
    similarity: float
    baseline: float
    # Best similarity minus the best one of another article: one article stands out.
    margin: float
    # Best similarity minus the mean of the ten best: the answer stands out of the crowd.
    spread: float
    # BM25 of the best passage over the best BM25 of all candidates (0 without a lexical leg):
    # the words agree with the meaning.
    lexical_agreement: float
    # Best sentence's cosine minus the whole passage's: one sentence carries the answer.
    sentence_gain: float
    # 1 when the question is in a language of the collection, else 0.
    same_language: float
    # Share of the question's names and numbers the articles never use (0 when it has none).
    unknown_names: float = 0.0
    has_names: float = 0.0
    # The best passage's mean cosine to its ten nearest reference texts: a "hub" passage
    # is near every question, so its nearness says less (hubness, as CSLS corrects it).
    hub: float = 0.0
    # CSLS: 2 x similarity - the question's ten nearest reference cosines - the passage's.
    csls: float = 0.0
    # Share of the question's names and numbers that the best passage's article never uses,
    # for a question in the articles' language (0 otherwise, or when it names nothing):
    # "la population de l'Islande ?" lands on the paragraph on France's population. Asked in
    # another language, a name is often spelled otherwise (Iceland, Islande).
    names_not_in_article: float = 0.0

    def values(self) -> tuple[float, ...]:
        """The signals in ``FEATURES`` order, as the model weighs them."""
        return astuple(self)


FEATURES: tuple[str, ...] = tuple(f.name for f in fields(Evidence))


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


@dataclass(frozen=True, slots=True)
class ConfidenceModel:
    """A logistic model over standardised ``Evidence`` and the two cut points on its output.

    ``probability`` estimates that the collection answers the question; at or above
    ``answer_at`` the quotes are shown as the answer, at or above ``closest_at`` as the
    closest passages, below it the bot declines.
    """

    means: tuple[float, ...]
    scales: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    answer_at: float
    closest_at: float

    def __post_init__(self) -> None:
        n = len(FEATURES)
        if not (len(self.means) == len(self.scales) == len(self.weights) == n):
            raise ValueError(f"a confidence model needs {n} means, scales and weights")
        if any(s <= 0 for s in self.scales):
            raise ValueError("feature scales must be positive")
        if not 0.0 <= self.closest_at <= self.answer_at <= 1.0:
            raise ValueError("need 0 <= closest_at <= answer_at <= 1")

    def probability(self, evidence: Evidence) -> float:
        """How likely the articles answer, from one search's ``evidence`` (0 to 1)."""
        z = self.bias + sum(
            w * (x - m) / s
            for x, m, s, w in zip(
                evidence.values(), self.means, self.scales, self.weights, strict=True
            )
        )
        return _sigmoid(z)

    def outcome(self, probability: float) -> Outcome:
        """The outcome of a probability.

        >>> threshold_model(0.25).outcome(0.9)
        'answer'
        """
        if probability >= self.answer_at:
            return "answer"
        if probability >= self.closest_at:
            return "closest"
        return "declined"


def threshold_model(min_score: float) -> ConfidenceModel:
    """The old rule as a model: answer when the answer score reaches ``min_score``, else decline.

    For models without a calibration of their own (MiniLM, the tests' hashing embedder) and
    for an explicit MIN_SCORE setting: two outcomes, no "closest".

    >>> m = threshold_model(0.25)
    >>> above = Evidence(0.26, 0.9, 0.8, 0.0, 0.0, 0.0, 0.0, 1.0)
    >>> below = Evidence(0.24, 0.9, 0.8, 0.0, 0.0, 0.0, 0.0, 1.0)
    >>> m.outcome(m.probability(above)), m.outcome(m.probability(below))
    ('answer', 'declined')
    """
    n = len(FEATURES)
    weights = tuple(1000.0 if name == "answer" else 0.0 for name in FEATURES)
    return ConfidenceModel(
        means=(min_score,) + (0.0,) * (n - 1),
        scales=(1.0,) * n,
        weights=weights,
        bias=0.0,
        answer_at=0.5,
        closest_at=0.5,
    )


# multilingual-e5-small, fitted on dev questions only (README, "Answer, closest, declined"):
#   python -m index eval ... --split dev --offtopic eval/offtopic.jsonl --evidence piaf-dev.jsonl
#   python -m index eval ... --questions eval/multilingual_dev.jsonl --evidence ml-dev.jsonl
#   python -m index calibrate piaf-dev.jsonl ml-dev.jsonl
E5_CONFIDENCE = ConfidenceModel(
    # answer, similarity, baseline, margin, spread, lexical_agreement, sentence_gain, same_language, unknown_names, has_names, hub, csls, names_not_in_article
    means=(
        0.283491,
        0.849373,
        0.754509,
        0.019035,
        0.030322,
        0.717695,
        0.005127,
        0.789183,
        0.080383,
        0.540873,
        0.785744,
        0.143121,
        0.068209,
    ),
    scales=(
        0.028381,
        0.032305,
        0.022551,
        0.018827,
        0.019849,
        0.385706,
        0.020437,
        0.407889,
        0.251836,
        0.498327,
        0.014967,
        0.069536,
        0.234985,
    ),
    weights=(
        -0.422708,
        0.080635,
        0.863343,
        -0.270151,
        0.716927,
        0.578133,
        -0.192624,
        -2.374711,
        -0.806832,
        0.877135,
        1.437705,
        5.599586,
        -0.408642,
    ),
    bias=3.811585,
    answer_at=0.4374,
    closest_at=0.0224,
)
