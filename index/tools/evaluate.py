"""Retrieval evaluation on a QA set: top-1/top-5/MRR@10, outcomes, quote length, latency, build.

Input: a folder of article files and a JSONL of questions (``question``, ``answers``,
``article`` (file name), ``split``; optional ``lang``, ``unanswerable``, ``offtopic``). A hit
is one of the answer strings inside a returned quote. ``holdout`` articles are left out of
the index: their questions are near the collection but not answered by it. Each question's
outcome (answer, closest, declined) is the confidence model's (``index.retrieval.confidence``).
"""

from __future__ import annotations

import hashlib
import json
import statistics
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from index.errors import IndexFailure
from index.ingest.loader import article_id_for, load_articles
from index.models import Article, Quote
from index.retrieval.confidence import ConfidenceModel, Evidence
from index.retrieval.embed import Embedder
from index.retrieval.indexer import BuildParams, Indexer, SyncReport
from index.retrieval.search import SearchParams, first_page, search
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
    offtopic: bool = False  # a general-knowledge question: must be declined


@dataclass(slots=True)
class Outcomes:
    """Shares of a group of questions shown as an answer, as the closest passages, or declined."""

    answer: float = 0.0
    closest: float = 0.0
    declined: float = 0.0


@dataclass(slots=True)
class GroupFigures:
    """Figures for one group of answerable questions (a language, or all)."""

    questions: int = 0
    top1: float = 0.0
    top3: float = 0.0
    top5: float = 0.0
    mrr10: float = 0.0
    outcomes: Outcomes = field(default_factory=Outcomes)


@dataclass(slots=True)
class ShownFigures:
    """The first page of the answerable questions' answers, as a reader sees it."""

    answers: int = 0  # questions that get quotes
    quotes_per_answer: float = 0.0
    # Shown quotes from an article other than the question's own.
    other_article_share: float = 0.0
    # Characters of all the quotes shown, per answer.
    answer_chars_p50: float = 0.0
    answer_chars_p95: float = 0.0
    # Answerable questions whose answer string is in a quote of the first page.
    hit: float = 0.0


@dataclass(slots=True)
class EvalReport:
    split: str
    articles_indexed: int
    articles_held_out: int
    chunks: int
    overall: GroupFigures
    by_lang: dict[str, GroupFigures]
    # Questions on the held-out articles (near the collection, not answered by it).
    unanswerable_questions: int
    unanswerable: Outcomes
    # General-knowledge questions (``--offtopic``), by language and all together.
    offtopic_questions: int
    offtopic: Outcomes
    offtopic_by_lang: dict[str, Outcomes]
    # Characters of the first quote of the answerable questions that get one.
    first_quote_chars_p50: float
    first_quote_chars_p95: float
    latency_p50_ms: float
    latency_p95_ms: float
    build_seconds: float | None
    embedded: int | None
    chunks_per_second: float | None
    quotes_checked: int
    # Outcome shares for other cut points of the confidence model (``index.retrieval.confidence``).
    confidence_sweep: list[dict[str, float]] = field(default_factory=list)
    # What the answers show (answerable questions that get quotes), with the real cuts.
    shown: ShownFigures = field(default_factory=lambda: ShownFigures())
    shown_by_lang: dict[str, ShownFigures] = field(default_factory=dict)
    # The same figures for other first-page gaps (``SearchParams.page_gap_*``).
    page_gap_sweep: list[dict[str, float]] = field(default_factory=list)

    def to_json(self) -> str:
        """The report as indented JSON (``python -m index eval --json``)."""
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
                offtopic=bool(row.get("offtopic", False)),
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


@dataclass(frozen=True, slots=True)
class _Asked:
    """One question asked: its kind, the hit's rank, the first quote's length, the evidence,
    how long the search took and how many quotes were checked verbatim."""

    question: Question
    kind: str  # "answerable", "unanswerable" or "offtopic"
    rank: int | None
    first_quote_chars: int | None
    probability: float
    evidence: Evidence | None
    seconds: float
    quotes: int
    # The open search's quotes, best first: (article id, answer score, characters, has the answer).
    ranked: tuple[tuple[str, float, int, bool], ...] = ()


def _outcomes(rows: list[_Asked], model: ConfidenceModel) -> Outcomes:
    n = len(rows)
    if not n:
        return Outcomes()
    said = [model.outcome(r.probability) if r.evidence else "declined" for r in rows]
    return Outcomes(
        answer=round(said.count("answer") / n, 4),
        closest=round(said.count("closest") / n, 4),
        declined=round(said.count("declined") / n, 4),
    )


def _figures(rows: list[_Asked], model: ConfidenceModel) -> GroupFigures:
    n = len(rows)
    if not n:
        return GroupFigures()
    return GroupFigures(
        questions=n,
        top1=round(sum(1 for r in rows if r.rank == 1) / n, 4),
        top3=round(sum(1 for r in rows if r.rank is not None and r.rank <= 3) / n, 4),
        top5=round(sum(1 for r in rows if r.rank is not None and r.rank <= 5) / n, 4),
        mrr10=round(sum(1 / r.rank for r in rows if r.rank is not None) / n, 4),
        outcomes=_outcomes(rows, model),
    )


def _by_lang(rows: list[_Asked]) -> dict[str, list[_Asked]]:
    groups: dict[str, list[_Asked]] = {}
    for row in rows:
        groups.setdefault(row.question.lang, []).append(row)
    return dict(sorted(groups.items()))


def _percentile(values: list[int] | list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, int(share * len(ordered)))])


def run_eval(
    articles_dir: Path,
    questions_file: Path,
    *,
    data_dir: Path,
    embedder: Embedder,
    build_params: BuildParams,
    search_params: SearchParams,
    split: str | None = "test",
    holdout: int = 20,
    store: IndexStore | None = None,
    offtopic_file: Path | None = None,
    evidence_file: Path | None = None,
    shown_k: int = 3,
) -> EvalReport:
    """Index the articles (less ``holdout``), ask every question of ``split``, and score.

    Args:
        articles_dir: The folder of the QA set's articles.
        questions_file: Its questions (JSONL, ``load_questions``).
        data_dir: The folder of the embedded store used when ``store`` is None.
        embedder: Embeds the articles and the questions.
        build_params: How the articles are chunked and embedded.
        search_params: The answer pipeline's knobs.
        split: The questions' split asked ("dev", "test"); None for all of them.
        holdout: Articles left out of the index (``held_out_ids``): their questions become
            unanswerable ones, which must be declined.
        store: The store to evaluate instead of ``data_dir``'s (PostgreSQL). Either is made
            to hold exactly these articles, so it must be one kept for evaluations.
        offtopic_file: General-knowledge questions (JSONL) of the same split, which must be
            declined; None for none.
        evidence_file: Where each question's evidence is written as JSONL (for ``python -m
            index calibrate``); None to write nothing.
        shown_k: The quotes an answer shows at most (``SEARCH_K``), for the first page's
            figures.

    Returns:
        The figures: hits by rank, declines, quote lengths, latency and the sweeps.

    Raises:
        IndexFailure: An article file cannot be read, or the index refused the articles.
    """
    articles, problems = load_articles(articles_dir)
    if problems:
        raise IndexFailure(f"{len(problems)} article files could not be read: {problems[0]}")
    held = held_out_ids(articles, holdout)
    indexed = [a for a in articles if a.id not in held]
    store, sync = _index(store or EmbeddedStore(data_dir), indexed, embedder, build_params)
    questions = load_questions(questions_file, split)
    if offtopic_file is not None:
        questions += [replace(q, offtopic=True) for q in load_questions(offtopic_file, split)]
    texts = {a.id: a.text for a in indexed}
    try:
        asked = _ask_all(
            store,
            texts=texts,
            embedder=embedder,
            questions=questions,
            held=held,
            search_params=search_params,
        )
    finally:
        store.close()
    if evidence_file is not None:
        _write_evidence(evidence_file, asked)
    return _report(
        asked,
        split=split or "all",
        indexed=len(indexed),
        held_out=len(held),
        sync=sync,
        params=search_params,
        shown_k=shown_k,
    )


def _report(
    asked: list[_Asked],
    *,
    split: str,
    indexed: int,
    held_out: int,
    sync: SyncReport,
    params: SearchParams,
    shown_k: int,
) -> EvalReport:
    """The figures of the questions ``asked`` of an index of ``indexed`` articles, built
    (or only brought up to date) as ``sync`` says."""
    model = params.decision()
    changed = sync.rebuilt or sync.added or sync.updated or sync.removed
    build_seconds, embedded = (sync.seconds, sync.embedded) if changed else (None, None)
    answerable = [a for a in asked if a.kind == "answerable"]
    unanswerable = [a for a in asked if a.kind == "unanswerable"]
    offtopic = [a for a in asked if a.kind == "offtopic"]
    lengths = [a.first_quote_chars for a in answerable if a.first_quote_chars is not None]
    ms = [a.seconds * 1000 for a in asked] or [0.0]
    return EvalReport(
        split=split,
        articles_indexed=indexed,
        articles_held_out=held_out,
        chunks=sync.chunks,
        overall=_figures(answerable, model),
        by_lang={lang: _figures(rows, model) for lang, rows in _by_lang(answerable).items()},
        unanswerable_questions=len(unanswerable),
        unanswerable=_outcomes(unanswerable, model),
        offtopic_questions=len(offtopic),
        offtopic=_outcomes(offtopic, model),
        offtopic_by_lang={
            lang: _outcomes(rows, model) for lang, rows in _by_lang(offtopic).items()
        },
        first_quote_chars_p50=_percentile(lengths, 0.5),
        first_quote_chars_p95=_percentile(lengths, 0.95),
        latency_p50_ms=round(statistics.median(ms), 1),
        latency_p95_ms=round(_percentile(ms, 0.95), 1),
        build_seconds=round(build_seconds, 2) if build_seconds is not None else None,
        embedded=embedded,
        chunks_per_second=(
            round(embedded / build_seconds, 2) if build_seconds and embedded else None
        ),
        quotes_checked=sum(a.quotes for a in asked),
        confidence_sweep=_sweep(asked, model),
        shown=_shown(answerable, model, params, shown_k),
        shown_by_lang={
            lang: _shown(rows, model, params, shown_k)
            for lang, rows in _by_lang(answerable).items()
        },
        page_gap_sweep=_page_gap_sweep(answerable, model, params, shown_k),
    )


def _ask_all(
    store: IndexStore,
    *,
    texts: dict[str, str],
    embedder: Embedder,
    questions: list[Question],
    held: set[str],
    search_params: SearchParams,
) -> list[_Asked]:
    """Ask every question with nothing cut: ranks are scored apart from the outcome, which
    the confidence model gives from the same search's evidence."""
    open_params = replace(
        search_params,
        confidence=None,
        min_score=-9.0,
        max_score_gap=9.0,
        page_gap_same_article=9.0,
        page_gap_other_article=9.0,
    )
    model = search_params.decision()
    asked: list[_Asked] = []
    for q in questions:
        started = time.perf_counter()
        answer = search(store, embedder, q.question, open_params, k=10)
        seconds = time.perf_counter() - started
        for quote in answer.quotes:
            if texts[quote.article_id][quote.start : quote.end] != quote.text:
                raise AssertionError(f"quote of {quote.article_id} is not verbatim: {quote}")
        kind = _kind(q, held)
        rank = (
            _rank_of_hit((qt.text for qt in answer.quotes), q.answers)
            if kind == "answerable"
            else None
        )
        first = len(answer.quotes[0].text) if answer.quotes else None
        probability = model.probability(answer.evidence) if answer.evidence else 0.0
        ranked = tuple(
            (qt.article_id, qt.score, len(qt.text), any(a and a in qt.text for a in q.answers))
            for qt in answer.quotes
        )
        asked.append(
            _Asked(
                q,
                kind,
                rank,
                first,
                probability,
                answer.evidence,
                seconds,
                len(answer.quotes),
                ranked,
            )
        )
    return asked


def _kind(question: Question, held: set[str]) -> str:
    """ "offtopic", "unanswerable" (so marked, or its article held out) or "answerable"."""
    if question.offtopic:
        return "offtopic"
    if question.unanswerable or question.article_id in held:
        return "unanswerable"
    return "answerable"


def _shown(
    rows: list[_Asked], model: ConfidenceModel, params: SearchParams, k: int
) -> ShownFigures:
    """What the answers show with ``params``' cuts: the evidence gate, ``max_score_gap`` and
    the first page (``first_page``), as ``search`` applies them to the same ranked quotes."""
    pages: list[list[tuple[str, float, int, bool]]] = []
    own: list[str] = []
    for row in rows:
        outcome = model.outcome(row.probability) if row.evidence else "declined"
        if outcome == "declined" or not row.ranked:
            continue
        floor = max(score for _, score, _, _ in row.ranked) - params.max_score_gap
        kept = [r for r in row.ranked if r[1] >= floor]
        quotes = [Quote(a, "", None, "", 0, 0, 0, 0, score) for a, score, _, _ in kept]
        size = min(k, params.closest_quotes) if outcome == "closest" else k
        pages.append(kept[: len(first_page(quotes, size, params))])
        own.append(row.question.article_id)
    if not pages:
        return ShownFigures()
    shown = [r for page in pages for r in page]
    lengths = [sum(r[2] for r in page) for page in pages]
    return ShownFigures(
        answers=len(pages),
        quotes_per_answer=round(len(shown) / len(pages), 3),
        other_article_share=round(
            sum(r[0] != article for page, article in zip(pages, own, strict=True) for r in page)
            / len(shown),
            4,
        ),
        answer_chars_p50=_percentile(lengths, 0.5),
        answer_chars_p95=_percentile(lengths, 0.95),
        hit=round(sum(any(r[3] for r in page) for page in pages) / len(rows), 4),
    )


PAGE_GAPS = (0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.08, 9.0)


def _page_gap_sweep(
    rows: list[_Asked], model: ConfidenceModel, params: SearchParams, k: int
) -> list[dict[str, float]]:
    """The first page's figures for other gaps (same article, another article)."""
    sweep = []
    for same in PAGE_GAPS:
        for other in PAGE_GAPS:
            if other > same:
                continue
            tried = replace(params, page_gap_same_article=same, page_gap_other_article=other)
            figures = _shown(rows, model, tried, k)
            sweep.append({"same": same, "other": other, **asdict(figures)})
    return sweep


def _write_evidence(path: Path, asked: list[_Asked]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for a in asked:
            if a.evidence is None:
                continue
            row = {
                "id": a.question.id,
                "lang": a.question.lang,
                "kind": a.kind,
                "rank": a.rank,
                "evidence": asdict(a.evidence),
            }
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


def _sweep(asked: list[_Asked], model: ConfidenceModel) -> list[dict[str, float]]:
    """Each kind's shares at or above other cut points (what "answer_at" would give)."""
    kinds = ("answerable", "unanswerable", "offtopic")
    rows = []
    for cut in [round(0.05 * i, 2) for i in range(1, 20)]:
        row: dict[str, float] = {"cut": cut}
        for kind in kinds:
            probs = [a.probability for a in asked if a.kind == kind and a.evidence]
            total = sum(1 for a in asked if a.kind == kind)
            row[kind] = round(sum(p >= cut for p in probs) / max(total, 1), 4)
        rows.append(row)
    return rows


def _build_line(report: EvalReport) -> str:
    if report.build_seconds is None:
        return "build: index reused (nothing to embed)"
    if not report.embedded:
        return f"build {report.build_seconds} s, nothing embedded (every vector from the cache)"
    return (
        f"build {report.build_seconds} s, embedded {report.embedded}, "
        f"{report.chunks_per_second} texts/s"
    )


def _shares(o: Outcomes) -> str:
    return f"answer={o.answer:.3f} closest={o.closest:.3f} declined={o.declined:.3f}"


def _shown_line(shown: ShownFigures) -> str:
    return (
        f"shown: {shown.quotes_per_answer:.2f} quotes per answer, "
        f"{shown.other_article_share:.3f} from another article, answer chars "
        f"p50={shown.answer_chars_p50:.0f} p95={shown.answer_chars_p95:.0f}, "
        f"answer among them {shown.hit:.3f}"
    )


def format_report(report: EvalReport) -> str:
    """A short human summary of an evaluation."""
    o = report.overall
    lines = [
        f"split={report.split} articles={report.articles_indexed} (+{report.articles_held_out} held out) chunks={report.chunks}",
        f"all   n={o.questions:5d} top1={o.top1:.3f} top3={o.top3:.3f} top5={o.top5:.3f} mrr10={o.mrr10:.3f} {_shares(o.outcomes)}",
    ]
    for lang, f in report.by_lang.items():
        lines.append(
            f"{lang:5s} n={f.questions:5d} top1={f.top1:.3f} top3={f.top3:.3f} top5={f.top5:.3f} mrr10={f.mrr10:.3f} {_shares(f.outcomes)}"
        )
    lines.append(f"unanswerable n={report.unanswerable_questions} {_shares(report.unanswerable)}")
    if report.offtopic_questions:
        lines.append(f"off-topic    n={report.offtopic_questions} {_shares(report.offtopic)}")
        for lang, shares in report.offtopic_by_lang.items():
            lines.append(f"  off-topic {lang:3s} {_shares(shares)}")
    lines += [
        f"first quote chars p50={report.first_quote_chars_p50:.0f} p95={report.first_quote_chars_p95:.0f}",
        _shown_line(report.shown),
        *(f"  {lang:3s} {_shown_line(shown)}" for lang, shown in report.shown_by_lang.items()),
        f"latency p50={report.latency_p50_ms} ms p95={report.latency_p95_ms} ms",
        _build_line(report),
        f"quotes checked verbatim: {report.quotes_checked}",
    ]
    return "\n".join(lines)
