"""Fit the confidence model (``index.retrieval.confidence``) on evidence from dev questions only.

    python -m index eval ... --split dev --offtopic eval/offtopic.jsonl --evidence FILE
    python -m index calibrate FILE [FILE…]

Each row of the evidence files is one question's ``Evidence`` and its kind: ``answerable``
(its article is indexed), ``unanswerable`` (held out) or ``offtopic``. A logistic regression
(L2, Newton's method; numpy only) learns answerable against the rest, every language of
each side weighing the same, so French's many questions do not set the scale for the
others. The cut points follow from the dev shares: ``answer_at`` is the lowest that shows
at most ``max_unanswerable_answer`` of the unanswerable questions as an answer;
``closest_at`` the highest that declines at most ``max_answerable_declined`` of the
answerable ones. It prints the model as Python, for ``E5_CONFIDENCE``, and its dev shares.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from index.errors import IndexFailure
from index.retrieval.confidence import FEATURES, ConfidenceModel, Evidence

__all__ = ["EvidenceRow", "choose_cuts", "fit_logistic", "load_evidence", "main"]

Matrix = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class EvidenceRow:
    lang: str
    kind: str
    evidence: Evidence


def load_evidence(paths: Sequence[Path]) -> list[EvidenceRow]:
    """The rows of evidence files (``python -m index eval --evidence``), in order.

    Args:
        paths: The JSONL files.

    Returns:
        Each line's question language, kind and evidence; blank lines are skipped.

    Raises:
        IndexFailure: A line is not an evidence line (its file and line number said).
    """
    rows: list[EvidenceRow] = []
    for path in paths:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                rows.append(EvidenceRow(row["lang"], row["kind"], Evidence(**row["evidence"])))
            except (ValueError, KeyError, TypeError) as exc:
                raise IndexFailure(f"{path}:{n}: not an evidence line ({exc})") from exc
    return rows


def fit_logistic(
    x: Matrix, y: Matrix, weights: Matrix, *, l2: float = 1.0, steps: int = 50
) -> tuple[Matrix, float]:
    """Weights and bias of a weighted, L2-regularised logistic regression (Newton's method).

    >>> x = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> w, b = fit_logistic(x, np.array([0.0, 0.0, 1.0, 1.0]), np.ones(4), l2=0.01)
    >>> bool(w[0] > 0)
    True
    """
    n, d = x.shape
    design = np.hstack([x, np.ones((n, 1))])
    theta = np.zeros(d + 1)
    penalty = np.full(d + 1, l2)
    penalty[-1] = 0.0  # the bias is not shrunk
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(design @ theta)))
        gradient = design.T @ (weights * (p - y)) + penalty * theta
        hessian = (design * (weights * p * (1 - p))[:, None]).T @ design + np.diag(penalty)
        step = np.linalg.solve(hessian + 1e-9 * np.eye(d + 1), gradient)
        theta -= step
        if float(np.abs(step).max()) < 1e-8:
            break
    return theta[:-1], float(theta[-1])


def choose_cuts(
    answerable: Matrix,
    unanswerable: Matrix,
    max_unanswerable_answer: float,
    max_answerable_declined: float,
) -> tuple[float, float]:
    """``(answer_at, closest_at)`` from the dev probabilities of both kinds (see the module).

    >>> choose_cuts(np.array([0.9, 0.8, 0.7, 0.1]), np.array([0.6, 0.2, 0.1, 0.05]), 0.25, 0.0)
    (0.6, 0.1)
    """
    cuts = np.unique(np.concatenate([answerable, unanswerable, [0.0, 1.0]]))
    answer_at = next(
        float(c) for c in cuts if float((unanswerable >= c).mean()) <= max_unanswerable_answer
    )
    closest_at = max(
        float(c) for c in cuts if float((answerable < c).mean()) <= max_answerable_declined
    )
    return answer_at, min(closest_at, answer_at)


def fit(
    rows: list[EvidenceRow],
    max_unanswerable_answer: float = 0.12,
    max_answerable_declined: float = 0.007,
    l2: float = 1.0,
) -> ConfidenceModel:
    """The confidence model for these dev rows (see the module)."""
    if not any(r.kind == "answerable" for r in rows) or all(r.kind == "answerable" for r in rows):
        raise IndexFailure("calibration needs answerable and other questions")
    x = np.array([r.evidence.values() for r in rows], np.float64)
    y = np.array([1.0 if r.kind == "answerable" else 0.0 for r in rows])
    groups = Counter((y_i, r.lang) for y_i, r in zip(y, rows, strict=True))
    weights = np.array([1.0 / groups[(y_i, r.lang)] for y_i, r in zip(y, rows, strict=True)])
    weights *= len(rows) / weights.sum()
    means, scales = x.mean(axis=0), x.std(axis=0)
    scales[scales < 1e-9] = 1.0
    w, b = fit_logistic((x - means) / scales, y, weights, l2=l2)
    model = ConfidenceModel(
        means=tuple(round(float(v), 6) for v in means),
        scales=tuple(round(float(v), 6) for v in scales),
        weights=tuple(round(float(v), 6) for v in w),
        bias=round(b, 6),
        answer_at=0.5,
        closest_at=0.5,
    )
    probs = np.array([model.probability(r.evidence) for r in rows])
    unanswerable = probs[[r.kind == "unanswerable" for r in rows]]
    answer_at, closest_at = choose_cuts(
        probs[y == 1.0],
        unanswerable if len(unanswerable) else probs[y == 0.0],
        max_unanswerable_answer,
        max_answerable_declined,
    )
    return ConfidenceModel(
        model.means,
        model.scales,
        model.weights,
        model.bias,
        round(answer_at, 4),
        round(closest_at, 4),
    )


def shares(model: ConfidenceModel, rows: list[EvidenceRow]) -> dict[str, dict[str, float]]:
    """Per kind and language: the shares shown as answer, closest, declined."""
    table: dict[str, Counter[str]] = {}
    for r in rows:
        said = model.outcome(model.probability(r.evidence))
        for key in (r.kind, f"{r.kind}/{r.lang}"):
            table.setdefault(key, Counter())[said] += 1
    return {
        key: {o: round(c[o] / sum(c.values()), 3) for o in ("answer", "closest", "declined")}
        for key, c in sorted(table.items())
    }


def _literal(model: ConfidenceModel) -> str:
    def tup(values: tuple[float, ...]) -> str:
        return "(" + ", ".join(repr(v) for v in values) + ",)"

    return (
        "ConfidenceModel(\n"
        f"    # {', '.join(FEATURES)}\n"
        f"    means={tup(model.means)},\n"
        f"    scales={tup(model.scales)},\n"
        f"    weights={tup(model.weights)},\n"
        f"    bias={model.bias!r},\n"
        f"    answer_at={model.answer_at!r},\n"
        f"    closest_at={model.closest_at!r},\n"
        ")"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m index calibrate``: fit and print a confidence model, then its shares.

    Args:
        argv: The arguments after ``calibrate``; None for ``sys.argv[1:]``.

    Returns:
        The exit code, 0.
    """
    parser = argparse.ArgumentParser(prog="python -m index calibrate", description=__doc__)
    parser.add_argument("evidence", nargs="+", type=Path)
    parser.add_argument("--max-unanswerable-answer", type=float, default=0.12)
    parser.add_argument("--max-answerable-declined", type=float, default=0.007)
    parser.add_argument("--l2", type=float, default=1.0)
    args = parser.parse_args(argv)
    rows = load_evidence(args.evidence)
    model = fit(rows, args.max_unanswerable_answer, args.max_answerable_declined, args.l2)
    print(_literal(model))
    for key, row in shares(model, rows).items():
        print(f"# {key:18s} " + " ".join(f"{k}={v:.3f}" for k, v in row.items()))
    return 0
