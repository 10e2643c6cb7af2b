"""From a question to quotes: dense + lexical retrieval, language-aware fusion, quote selection.

The pure steps (fusion, merging, de-duplication, highlight choice) are plain
functions on plain data; ``search`` wires them over a loaded index.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from index.embed import Embedder
from index.lang import detect_language
from index.models import Answer, Quote
from index.store import IndexData

__all__ = [
    "E5_MIN_SCORE",
    "Candidate",
    "SearchParams",
    "collapse_near_duplicates",
    "fuse_ranks",
    "lexical_weight",
    "merge_overlapping",
    "search",
]

Span = tuple[int, int]

# Calibrated for multilingual-e5-small on PIAF dev (README, Evaluation).
E5_MIN_SCORE = 0.80


@dataclass(frozen=True, slots=True)
class SearchParams:
    """Knobs of the answer pipeline, tuned on the PIAF dev split (see README, Evaluation)."""

    dense_k: int = 50
    lexical_k: int = 50
    rrf_k: int = 60
    # Weight of the BM25 leg when the question is in the collection's language.
    lexical_weight: float = 1.0
    # ... and when it is in another language: its words rarely match, and when they
    # do (shared stems, names) they are as likely noise as signal.
    cross_lingual_lexical_weight: float = 0.2
    # A question is "not in the articles" when its best quote's dense score is below this.
    min_score: float = E5_MIN_SCORE
    # Quotes scoring this far below the best one are not shown.
    max_score_gap: float = 0.08
    # Quotes longer than this after merging overlapping chunks are cut back to the best chunk.
    max_quote_chars: int = 1400
    candidates: int = 20
    # Passage score = dense chunk similarity mixed with its best sentence's similarity.
    sentence_mix: float = 0.5


@dataclass(frozen=True, slots=True)
class Candidate:
    """A passage under consideration: a span of one article and how well it matches."""

    article_id: str
    start: int
    end: int
    fused: float  # rank-fusion score: decides the order
    dense: float  # cosine similarity: decides "not in the articles"
    chunk_rows: tuple[int, ...]  # index rows of the chunks it covers


def lexical_weight(
    query_lang: str, collection_lang: str, coverage: float, params: SearchParams
) -> float:
    """How much the BM25 leg may vote for this question.

    Zero when none of its words occur in the articles; reduced when the question is
    in another language than the articles, where shared words are mostly accidents.
    """
    if coverage <= 0.0:
        return 0.0
    if query_lang == collection_lang:
        return params.lexical_weight
    return params.cross_lingual_lexical_weight * coverage


def fuse_ranks(
    dense: list[int], lexical: list[int], lexical_w: float, rrf_k: int = 60
) -> dict[int, float]:
    """Weighted reciprocal-rank fusion of two ranked lists of row ids.

    >>> sorted(fuse_ranks([1, 2], [2, 3], 1.0).items(), key=lambda kv: -kv[1])[0][0]
    2
    """
    scores: dict[int, float] = {}
    for rank, row in enumerate(dense):
        scores[row] = scores.get(row, 0.0) + 1.0 / (rrf_k + rank + 1)
    if lexical_w > 0:
        for rank, row in enumerate(lexical):
            scores[row] = scores.get(row, 0.0) + lexical_w / (rrf_k + rank + 1)
    return scores


def merge_overlapping(candidates: list[Candidate], max_chars: int) -> list[Candidate]:
    """Merge candidates of one article whose spans overlap or touch; keep the best's rank.

    A merge that would make a quote longer than ``max_chars`` is skipped: the lower
    candidate is then dropped, since the better one already shows that text.
    """
    kept: list[Candidate] = []
    for cand in candidates:
        for i, other in enumerate(kept):
            if other.article_id != cand.article_id:
                continue
            if cand.start <= other.end and other.start <= cand.end:
                start, end = min(cand.start, other.start), max(cand.end, other.end)
                if end - start <= max_chars:
                    kept[i] = replace(
                        other,
                        start=start,
                        end=end,
                        dense=max(other.dense, cand.dense),
                        chunk_rows=other.chunk_rows + cand.chunk_rows,
                    )
                break
        else:
            kept.append(cand)
    return kept


_WORD = re.compile(r"\w+")


def _shingles(text: str) -> set[tuple[str, ...]]:
    folded = unicodedata.normalize("NFKC", text).lower()
    words = _WORD.findall(folded)
    return {tuple(words[i : i + 3]) for i in range(max(len(words) - 2, 1))}


def collapse_near_duplicates(texts: list[str], threshold: float = 0.7) -> list[int]:
    """Indexes of the texts to keep: one of each group whose word trigrams mostly coincide.

    >>> collapse_near_duplicates(["a b c d e", "a b c d e", "x y z"])
    [0, 2]
    """
    kept: list[int] = []
    seen: list[set[tuple[str, ...]]] = []
    for i, text in enumerate(texts):
        grams = _shingles(text)
        duplicate = any(
            grams and other and len(grams & other) / min(len(grams), len(other)) >= threshold
            for other in seen
        )
        if not duplicate:
            kept.append(i)
            seen.append(grams)
    return kept


def best_sentence(
    sentences: list[Span], scores: npt.NDArray[np.float32], start: int, end: int
) -> Span:
    """The best-scoring sentence that lies inside [start, end); the span itself if none does."""
    best: Span | None = None
    best_score = -np.inf
    for (s, e), score in zip(sentences, scores, strict=True):
        if start <= s and e <= end and score > best_score:
            best, best_score = (s, e), float(score)
    return best or (start, end)


def search(
    data: IndexData,
    embedder: Embedder,
    question: str,
    params: SearchParams,
    k: int = 3,
    offset: int = 0,
) -> Answer:
    """Quotes answering ``question``, best first; none when nothing clears ``min_score``."""
    question = question.strip()
    query_lang = detect_language(question, default=data.manifest.lexical_lang)
    if not question or not data.chunks:
        return Answer(question=question, quotes=(), question_lang=query_lang)
    query = embedder.embed_queries([question])[0]
    n = len(data.chunks)

    _, dense_rows = data.vectors.search(query.reshape(1, -1), min(params.dense_k, n))
    dense_rows_list = [int(r) for r in dense_rows[0] if r >= 0]

    tokens = data.lexical.query_tokens(question, query_lang)
    lex_w = lexical_weight(query_lang, data.lexical.lang, data.lexical.coverage(tokens), params)
    lexical_rows: list[int] = []
    if lex_w > 0:
        bm25 = data.lexical.scores_for_tokens(tokens)
        top = np.argsort(-bm25)[: params.lexical_k]
        lexical_rows = [int(r) for r in top if bm25[r] > 0]

    fused = fuse_ranks(dense_rows_list, lexical_rows, lex_w, params.rrf_k)
    ranked = sorted(fused, key=lambda row: -fused[row])[: params.candidates]

    candidates: list[Candidate] = []
    sentence_hits: dict[str, list[tuple[Span, float]]] = {}
    for row in ranked:
        chunk = data.chunks[row]
        lo, hi = int(data.sentence_ptr[row]), int(data.sentence_ptr[row + 1])
        sims = data.sentence_vectors[lo:hi] @ query
        chunk_sim = float(data.chunk_vectors[row] @ query)
        best_sim = float(sims.max()) if len(sims) else chunk_sim
        dense = (1 - params.sentence_mix) * chunk_sim + params.sentence_mix * best_sim
        sentence_hits.setdefault(chunk.article_id, []).extend(
            zip(chunk.sentences, (float(s) for s in sims), strict=True)
        )
        candidates.append(
            Candidate(chunk.article_id, chunk.start, chunk.end, fused[row], dense, (row,))
        )

    merged = merge_overlapping(candidates, params.max_quote_chars)
    texts = [data.articles[c.article_id].text[c.start : c.end] for c in merged]
    merged = [merged[i] for i in collapse_near_duplicates(texts)]
    if not merged or max(c.dense for c in merged) < params.min_score:
        return Answer(question=question, quotes=(), question_lang=query_lang)
    top_dense = max(c.dense for c in merged)
    shown = [
        c for c in merged if c.dense >= max(params.min_score, top_dense - params.max_score_gap)
    ]

    quotes: list[Quote] = []
    for cand in shown:
        article = data.articles[cand.article_id]
        hits = sentence_hits.get(cand.article_id, [])
        spans = [span for span, _ in hits]
        scores = np.asarray([score for _, score in hits], dtype=np.float32)
        h_start, h_end = best_sentence(spans, scores, cand.start, cand.end)
        quotes.append(
            Quote(
                article_id=article.id,
                title=article.title,
                url=article.url,
                text=article.text[cand.start : cand.end],
                start=cand.start,
                end=cand.end,
                highlight_start=h_start,
                highlight_end=h_end,
                score=round(cand.dense, 4),
            )
        )
    page = quotes[offset : offset + k]
    return Answer(
        question=question,
        quotes=tuple(page),
        question_lang=query_lang,
        more=tuple(quotes[offset + k :]),
    )
