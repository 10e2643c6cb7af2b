"""Retrieval evaluation on a QA set: top-1/top-5/MRR@10, abstention, latency, build speed.

Input: a folder of article files and a JSONL of questions (``question``, ``answers``,
``article`` (file name), ``split``; optional ``lang``, ``unanswerable``). A hit is one of
the answer strings inside a returned quote. ``holdout`` articles are left out of the
index; their questions must be abstained on.
"""

from __future__ import annotations

import hashlib
import json
import statistics
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from index.embed import Embedder
from index.errors import IndexFailure
from index.indexer import BuildParams, Indexer, SyncReport
from index.ingest import article_id_for, load_articles
from index.models import Article
from index.search import SearchParams, search
from index.stores.base import IndexStore
from index.stores.embedded import EmbeddedStore

__all__ = ["EvalReport", "Question", "load_questions", "run_eval"]


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    question: str
    answers: tuple[str, ...]
    article_id: str
    split: str
    lang: str = "fr"
    unanswerable: bool = False


@dataclass(slots=True)
class GroupFigures:
    """Figures for one group of questions (a language, or all)."""

    questions: int = 0
    top1: float = 0.0
    top5: float = 0.0
    mrr10: float = 0.0
    abstained: float = 0.0  # share of these answerable questions the threshold rejects


@dataclass(slots=True)
class EvalReport:
    split: str
    articles_indexed: int
    articles_held_out: int
    chunks: int
    overall: GroupFigures
    by_lang: dict[str, GroupFigures]
    unanswerable_questions: int
    unanswerable_abstained: float  # share of held-out questions correctly abstained on
    min_score: float
    latency_p50_ms: float
    latency_p95_ms: float
    build_seconds: float | None
    embedded: int | None
    chunks_per_second: float | None
    quotes_checked: int
    threshold_sweep: list[dict[str, float]] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1)


def load_questions(path: Path, split: str | None = None) -> list[Question]:
    """Questions of one split (all when ``split`` is None); malformed lines are an error."""
    questions: list[Question] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            q = Question(
                id=str(row.get("id", n)),
                question=str(row["question"]),
                answers=tuple(str(a) for a in row.get("answers", [])),
                article_id=article_id_for(Path(str(row.get("article", "")))),
                split=str(row.get("split", "")),
                lang=str(row.get("lang", "fr")),
                unanswerable=bool(row.get("unanswerable", False)),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise IndexFailure(f"{path}:{n}: not a question line ({exc})") from exc
        if split is None or q.split == split:
            questions.append(q)
    return questions


def held_out_ids(articles: Iterable[Article], count: int) -> set[str]:
    """A fixed, arbitrary choice of ``count`` articles (by hash of their id)."""
    ranked = sorted(articles, key=lambda a: hashlib.sha1(a.id.encode()).hexdigest())
    return {a.id for a in ranked[:count]}


def _rank_of_hit(quotes: Iterable[str], answers: tuple[str, ...], limit: int = 10) -> int | None:
    for rank, text in enumerate(quotes, 1):
        if rank > limit:
            break
        if any(a and a in text for a in answers):
            return rank
    return None


def _index(
    store: IndexStore, articles: list[Article], embedder: Embedder, params: BuildParams
) -> tuple[IndexStore, SyncReport]:
    """``store`` made to hold exactly these articles (only changes cost)."""
    return store, Indexer(store, embedder, params).sync_articles(articles)


def _figures(rows: list[tuple[int | None, float]], min_score: float) -> GroupFigures:
    n = len(rows)
    if not n:
        return GroupFigures()
    return GroupFigures(
        questions=n,
        top1=round(sum(1 for r, _ in rows if r == 1) / n, 4),
        top5=round(sum(1 for r, _ in rows if r is not None and r <= 5) / n, 4),
        mrr10=round(sum(1 / r for r, _ in rows if r is not None) / n, 4),
        abstained=round(sum(1 for _, s in rows if s < min_score) / n, 4),
    )


@dataclass(slots=True)
class _Outcomes:
    """What the questions got: hit ranks and best scores, answerable or not."""

    answerable: dict[str, list[tuple[int | None, float]]] = field(default_factory=dict)
    unanswerable_scores: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    quotes_checked: int = 0

    @property
    def answerable_scores(self) -> list[float]:
        return [score for rows in self.answerable.values() for _, score in rows]


def run_eval(
    articles_dir: Path,
    questions_file: Path,
    data_dir: Path,
    embedder: Embedder,
    build_params: BuildParams,
    search_params: SearchParams,
    split: str | None = "test",
    holdout: int = 20,
    store: IndexStore | None = None,
) -> EvalReport:
    """Index the articles (less ``holdout``), ask every question of ``split``, and score.

    The index is the embedded store of ``data_dir``, or ``store`` when given (PostgreSQL);
    either is made to hold exactly these articles, so it must be one kept for evaluations.
    """
    articles, problems = load_articles(articles_dir)
    if problems:
        raise IndexFailure(f"{len(problems)} article files could not be read: {problems[0]}")
    held = held_out_ids(articles, holdout)
    indexed = [a for a in articles if a.id not in held]
    store, sync = _index(store or EmbeddedStore(data_dir), indexed, embedder, build_params)
    changed = sync.rebuilt or sync.added or sync.updated or sync.removed
    build_seconds, embedded = (sync.seconds, sync.embedded) if changed else (None, None)
    questions = load_questions(questions_file, split)
    texts = {a.id: a.text for a in indexed}
    try:
        outcomes = _ask_all(store, texts, embedder, questions, held, search_params)
    finally:
        store.close()
    threshold = search_params.min_score
    everything = [row for rows in outcomes.answerable.values() for row in rows]
    ms = sorted(x * 1000 for x in outcomes.latencies) or [0.0]
    return EvalReport(
        split=split or "all",
        articles_indexed=len(indexed),
        articles_held_out=len(held),
        chunks=sync.chunks,
        overall=_figures(everything, threshold),
        by_lang={
            lang: _figures(rows, threshold) for lang, rows in sorted(outcomes.answerable.items())
        },
        unanswerable_questions=len(outcomes.unanswerable_scores),
        unanswerable_abstained=_share_below(outcomes.unanswerable_scores, threshold),
        min_score=threshold,
        latency_p50_ms=round(statistics.median(ms), 1),
        latency_p95_ms=round(ms[min(len(ms) - 1, int(0.95 * len(ms)))], 1),
        build_seconds=round(build_seconds, 2) if build_seconds is not None else None,
        embedded=embedded,
        chunks_per_second=(
            round(embedded / build_seconds, 2) if build_seconds and embedded else None
        ),
        quotes_checked=outcomes.quotes_checked,
        threshold_sweep=_sweep(outcomes, threshold),
    )


def _ask_all(
    store: IndexStore,
    texts: dict[str, str],
    embedder: Embedder,
    questions: list[Question],
    held: set[str],
    search_params: SearchParams,
) -> _Outcomes:
    """Ask every question with nothing cut (abstention is scored apart from retrieval)."""
    open_params = replace(search_params, min_score=-1.0, max_score_gap=2.0)
    outcomes = _Outcomes()
    for q in questions:
        started = time.perf_counter()
        answer = search(store, embedder, q.question, open_params, k=10)
        outcomes.latencies.append(time.perf_counter() - started)
        for quote in answer.quotes:
            if texts[quote.article_id][quote.start : quote.end] != quote.text:
                raise AssertionError(f"quote of {quote.article_id} is not verbatim: {quote}")
            outcomes.quotes_checked += 1
        # The bot declines when no quote reaches the threshold: judge by the best score.
        top = max((qt.score for qt in answer.quotes), default=-1.0)
        if q.unanswerable or q.article_id in held:
            outcomes.unanswerable_scores.append(top)
        else:
            rank = _rank_of_hit((qt.text for qt in answer.quotes), q.answers)
            outcomes.answerable.setdefault(q.lang, []).append((rank, top))
    return outcomes


def _share_below(scores: list[float], threshold: float) -> float:
    return round(sum(s < threshold for s in scores) / max(len(scores), 1), 4)


def _sweep(outcomes: _Outcomes, threshold: float) -> list[dict[str, float]]:
    """Abstention on both sides for thresholds around the chosen one."""
    answerable = outcomes.answerable_scores
    return [
        {
            "min_score": t,
            "answerable_abstained": _share_below(answerable, t),
            "unanswerable_abstained": _share_below(outcomes.unanswerable_scores, t),
        }
        for t in [round(threshold + 0.005 * i, 4) for i in range(-6, 7)]
    ]


def _build_line(report: EvalReport) -> str:
    if report.build_seconds is None:
        return "build: index reused (nothing to embed)"
    if not report.embedded:
        return f"build {report.build_seconds} s, nothing embedded (every vector from the cache)"
    return (
        f"build {report.build_seconds} s, embedded {report.embedded}, "
        f"{report.chunks_per_second} texts/s"
    )


def format_report(report: EvalReport) -> str:
    """A short human summary of an evaluation."""
    o = report.overall
    lines = [
        f"split={report.split} articles={report.articles_indexed} (+{report.articles_held_out} held out) chunks={report.chunks}",
        f"all   n={o.questions:5d} top1={o.top1:.3f} top5={o.top5:.3f} mrr10={o.mrr10:.3f} abstained={o.abstained:.3f}",
    ]
    for lang, f in report.by_lang.items():
        lines.append(
            f"{lang:5s} n={f.questions:5d} top1={f.top1:.3f} top5={f.top5:.3f} mrr10={f.mrr10:.3f} abstained={f.abstained:.3f}"
        )
    lines += [
        f"unanswerable n={report.unanswerable_questions} abstained={report.unanswerable_abstained:.3f} (min_score={report.min_score})",
        f"latency p50={report.latency_p50_ms} ms p95={report.latency_p95_ms} ms",
        _build_line(report),
        f"quotes checked verbatim: {report.quotes_checked}",
    ]
    return "\n".join(lines)
