"""The confidence model and its calibration: pure functions on plain data, and the CLI."""

from __future__ import annotations

import doctest
import json
import random
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pytest

import index.retrieval.confidence
import index.retrieval.search
import index.tools.calibrate
from index.errors import IndexFailure
from index.retrieval.confidence import (
    E5_CONFIDENCE,
    FEATURES,
    ConfidenceModel,
    Evidence,
    threshold_model,
)
from index.tools.calibrate import EvidenceRow, choose_cuts, fit, load_evidence, shares
from index.tools.cli import main


@pytest.mark.parametrize(
    "module", [index.retrieval.confidence, index.tools.calibrate, index.retrieval.search]
)
def test_the_docstring_examples_hold(module: object) -> None:
    failed, tried = doctest.testmod(module, optionflags=doctest.ELLIPSIS)  # type: ignore[arg-type]
    assert tried > 0 and failed == 0


def evidence(answer: float, same_language: float = 1.0) -> Evidence:
    return Evidence(
        answer=answer,
        similarity=0.8 + answer,
        baseline=0.75,
        margin=answer / 4,
        spread=answer / 3,
        lexical_agreement=0.5,
        sentence_gain=0.01,
        same_language=same_language,
    )


def test_a_model_with_the_wrong_shape_is_refused() -> None:
    n = len(FEATURES)
    with pytest.raises(ValueError, match=f"a confidence model needs {n} means, scales and weights"):
        ConfidenceModel((0.0,), (1.0,), (1.0,), 0.0, 0.5, 0.5)
    with pytest.raises(ValueError, match="need 0 <= closest_at <= answer_at <= 1"):
        replace(threshold_model(0.2), closest_at=0.9, answer_at=0.1)
    with pytest.raises(ValueError, match="feature scales must be positive"):
        replace(threshold_model(0.2), scales=(0.0,) * n)


def test_the_threshold_model_is_the_old_rule() -> None:
    model = threshold_model(0.25)
    assert model.outcome(model.probability(evidence(0.2501))) == "answer"
    assert model.outcome(model.probability(evidence(0.2499))) == "declined"


def test_the_shipped_model_tells_an_answer_from_a_question_near_the_topic() -> None:
    # Evidence seen on the shipped article (python -m index search): "Combien de morts ?",
    # answered by "26 « voyous » tués", and "Quelle est la capitale de la France ?".
    deaths = Evidence(0.29, 0.875, 0.779, 0.032, 0.053, 0.0, 0.031, 1.0, 0.0, 0.0, 0.809, 0.145)
    capital = Evidence(0.248, 0.804, 0.742, 0.016, 0.037, 0.789, 0.008, 1.0, 0.0, 1.0, 0.809, 0.036)
    assert E5_CONFIDENCE.outcome(E5_CONFIDENCE.probability(deaths)) == "answer"
    assert E5_CONFIDENCE.outcome(E5_CONFIDENCE.probability(capital)) != "answer"
    assert 0.0 < E5_CONFIDENCE.closest_at < E5_CONFIDENCE.answer_at < 1.0


def synthetic_rows(count: int = 400) -> list[EvidenceRow]:
    rng = random.Random(3)
    rows = []
    for i in range(count):
        kind = ("answerable", "unanswerable", "offtopic")[i % 3]
        centre = {"answerable": 0.3, "unanswerable": 0.2, "offtopic": 0.1}[kind]
        lang = ("fr", "en")[i % 2]
        rows.append(EvidenceRow(lang, kind, evidence(rng.gauss(centre, 0.04))))
    return rows


def test_calibration_learns_which_way_the_evidence_points() -> None:
    rows = synthetic_rows()
    model = fit(rows, max_unanswerable_answer=0.1, max_answerable_declined=0.02)
    assert model.weights[FEATURES.index("answer")] > 0
    table = shares(model, rows)
    assert table["unanswerable"]["answer"] <= 0.1
    assert table["answerable"]["declined"] <= 0.02
    assert table["offtopic"]["declined"] > table["unanswerable"]["declined"]


def test_calibration_needs_both_kinds() -> None:
    rows = [r for r in synthetic_rows() if r.kind == "answerable"]
    with pytest.raises(IndexFailure, match="calibration needs answerable and other questions"):
        fit(rows)


def test_cuts_follow_the_dev_shares() -> None:
    answerable = np.array([0.9, 0.8, 0.7, 0.1])
    unanswerable = np.array([0.6, 0.2, 0.1, 0.05])
    assert choose_cuts(answerable, unanswerable, 0.25, 0.0) == (0.6, 0.1)
    assert choose_cuts(answerable, unanswerable, 0.0, 0.0) == (0.7, 0.1)
    assert choose_cuts(answerable, unanswerable, 0.25, 0.25) == (0.6, 0.6)  # never above


def test_a_malformed_evidence_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "ev.jsonl"
    good = {"lang": "fr", "kind": "answerable", "evidence": asdict(evidence(0.3))}
    path.write_text(json.dumps(good) + "\n\n" + '{"lang": "fr"}\n', encoding="utf-8")
    with pytest.raises(IndexFailure, match=r"ev.jsonl:3: not an evidence line"):
        load_evidence([path])


def test_the_calibrate_command_prints_a_model_to_paste(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "ev.jsonl"
    path.write_text(
        "\n".join(
            json.dumps({"lang": r.lang, "kind": r.kind, "evidence": asdict(r.evidence)})
            for r in synthetic_rows()
        ),
        encoding="utf-8",
    )
    assert main(["calibrate", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ConfidenceModel(\n")
    literal = out[: out.index("\n)\n") + 2]
    model = eval(literal, {"ConfidenceModel": ConfidenceModel})  # our own output
    assert isinstance(model, ConfidenceModel)
    assert "# unanswerable " in out and "# answerable/en " in out
