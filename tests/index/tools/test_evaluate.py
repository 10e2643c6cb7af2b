"""The evaluation command on a tiny QA set: figures, hold-out abstention, verbatim quotes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from index.errors import IndexFailure
from index.retrieval.embed import HashingEmbedder
from index.retrieval.indexer import BuildParams
from index.retrieval.search import SearchParams
from index.tools.cli import main
from index.tools.evaluate import EvalReport, format_report, held_out_ids, load_questions, run_eval

ARTICLES = {
    "abeilles.txt": "Abeilles\n\nLes abeilles produisent du miel. Une reine pond deux mille œufs par jour.",
    "volcans.txt": "Volcans\n\nL'Etna est le plus haut volcan actif d'Europe avec 3 300 mètres.",
    "glaciers.txt": "Glaciers\n\nLe glacier d'Aletsch est le plus long des Alpes avec 23 kilomètres.",
}
QUESTIONS = [
    {
        "id": "1",
        "question": "Que produisent les abeilles ?",
        "answers": ["miel"],
        "article": "abeilles.txt",
        "split": "test",
    },
    {
        "id": "2",
        "question": "Combien d'œufs pond la reine des abeilles ?",
        "answers": ["deux mille"],
        "article": "abeilles.txt",
        "split": "test",
    },
    {
        "id": "3",
        "question": "Quelle hauteur pour l'Etna, volcan ?",
        "answers": ["3 300 mètres"],
        "article": "volcans.txt",
        "split": "test",
    },
    {
        "id": "4",
        "question": "Longueur du glacier d'Aletsch ?",
        "answers": ["23 kilomètres"],
        "article": "glaciers.txt",
        "split": "dev",
    },
]


@pytest.fixture
def qa(tmp_path: Path) -> tuple[Path, Path]:
    articles = tmp_path / "articles"
    articles.mkdir()
    for name, text in ARTICLES.items():
        (articles / name).write_text(text, encoding="utf-8")
    questions = tmp_path / "questions.jsonl"
    write_jsonl(questions, QUESTIONS)
    return articles, questions


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> None:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")


def evaluate(
    qa: tuple[Path, Path], tmp_path: Path, params: SearchParams, **options: Any
) -> EvalReport:
    """``run_eval`` of the tiny QA set with the hashing model, its index in tmp_path/data."""
    embedder = HashingEmbedder(128)
    return run_eval(
        *qa,
        data_dir=tmp_path / "data",
        embedder=embedder,
        build_params=BuildParams(embedder.model_id),
        search_params=params,
        **options,
    )


def test_eval_scores_every_question_of_the_split(qa: tuple[Path, Path], tmp_path: Path) -> None:
    report = evaluate(qa, tmp_path, SearchParams(min_score=-1.0), split="test", holdout=0)
    assert report.overall.questions == 3
    assert report.overall.top1 == report.overall.top3 == report.overall.top5 == 1.0
    assert report.overall.mrr10 == 1.0
    assert report.quotes_checked > 0
    assert report.build_seconds is not None and report.embedded
    assert "top1=1.000 top3=1.000" in format_report(report)
    again = evaluate(qa, tmp_path, SearchParams(), split="test", holdout=0)
    assert again.build_seconds is None  # the same articles and parameters: reused, not rebuilt


def test_held_out_articles_become_unanswerable(qa: tuple[Path, Path], tmp_path: Path) -> None:
    report = evaluate(qa, tmp_path, SearchParams(), split=None, holdout=1)
    assert report.articles_indexed == 2 and report.articles_held_out == 1
    assert report.overall.questions + report.unanswerable_questions == 4
    assert report.unanswerable_questions >= 1


def test_held_out_choice_is_stable() -> None:
    from index.models import Article

    arts = [Article(id=f"a{i}", title="t", text="x", sha256="s") for i in range(10)]
    assert held_out_ids(arts, 3) == held_out_ids(list(reversed(arts)), 3)
    assert len(held_out_ids(arts, 3)) == 3


def test_a_malformed_question_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text('{"question": "ok", "answers": []}\n{"answers": []}\n')
    with pytest.raises(IndexFailure, match=r"q.jsonl:2: not a question line"):
        load_questions(path)


def test_eval_cli_prints_json(qa: tuple[Path, Path], tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("EMBEDDING_MODEL", "hashing-128")
    articles, questions = qa
    code = main(
        [
            "eval",
            "--articles",
            str(articles),
            "--questions",
            str(questions),
            "--split",
            "test",
            "--holdout",
            "0",
            "--data",
            str(tmp_path / "d"),
            "--json",
        ]
    )
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert {"top1", "top3", "top5", "mrr10"} <= set(report["overall"])
    assert {"latency_p50_ms", "latency_p95_ms", "build_seconds", "chunks_per_second"} <= set(report)


def test_eval_reports_outcomes_quote_length_and_writes_evidence(
    qa: tuple[Path, Path], tmp_path: Path
) -> None:
    offtopic = tmp_path / "offtopic.jsonl"
    write_jsonl(
        offtopic,
        [
            {"question": "Comment réparer un robinet ?", "lang": "fr", "split": "test"},
            {"question": "How do I fix a tap?", "lang": "en", "split": "test"},
            {"question": "Wie repariert man einen Hahn?", "lang": "de", "split": "dev"},
        ],
    )
    evidence = tmp_path / "out" / "evidence.jsonl"
    report = evaluate(
        qa,
        tmp_path,
        SearchParams(min_score=-1.0),
        split="test",
        holdout=1,
        offtopic_file=offtopic,
        evidence_file=evidence,
    )
    assert report.offtopic_questions == 2 and set(report.offtopic_by_lang) == {"fr", "en"}
    # min_score -1: the single threshold shows everything as an answer.
    assert report.offtopic.answer == 1.0 and report.offtopic.declined == 0.0
    o = report.overall.outcomes
    assert o.answer + o.closest + o.declined == pytest.approx(1.0)
    assert 0 < report.first_quote_chars_p50 <= report.first_quote_chars_p95
    kinds = [json.loads(line)["kind"] for line in evidence.read_text().splitlines()]
    assert kinds.count("offtopic") == 2
    assert kinds.count("answerable") == report.overall.questions
    assert kinds.count("unanswerable") == report.unanswerable_questions
    assert "off-topic    n=2 answer=1.000" in format_report(report)
    assert [row["cut"] for row in report.confidence_sweep][:2] == [0.05, 0.1]
