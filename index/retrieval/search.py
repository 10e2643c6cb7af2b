"""From a question to quotes: dense + lexical retrieval, language-aware fusion, quote selection.

The pure steps (fusion, merging, de-duplication, highlight choice) are plain
functions on plain data; ``search`` wires them over a loaded index.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from index.chat.feedback import passage_hash
from index.ingest.lang import detect_language
from index.models import Answer, Article, Quote
from index.retrieval.chunk import is_heading, opening_closers
from index.retrieval.confidence import ConfidenceModel, Evidence, Outcome, threshold_model
from index.retrieval.embed import Embedder
from index.retrieval.lexical import names_missing, question_names
from index.stores.base import Candidates, Filters, IndexStore, QueryTerms, Sentences

__all__ = [
    "E5_MIN_SCORE",
    "Candidate",
    "EvidenceInputs",
    "Feedback",
    "SearchParams",
    "answer_scores",
    "collapse_near_duplicates",
    "evidence",
    "fuse_scores",
    "lexical_weight",
    "merge_overlapping",
    "near_duplicate_groups",
    "search",
    "zscores",
]

Span = tuple[int, int]
Vector = npt.NDArray[np.float32]
# Passage hashes -> their shift of the answer score from readers' votes (``index.chat.feedback``).
Feedback = Callable[[Sequence[str]], Mapping[str, float]]

# Calibrated for multilingual-e5-small on PIAF dev (README, Evaluation).
E5_MIN_SCORE = 0.25


@dataclass(frozen=True, slots=True)
class SearchParams:
    """Knobs of the answer pipeline, tuned on the PIAF dev split (README, Evaluation)."""

    # Passages each leg proposes; the union is what fusion ranks.
    dense_k: int = 50
    lexical_k: int = 50
    # Weight of the BM25 leg's z-score when the question is in the collection's language.
    lexical_weight: float = 0.6
    # Its weight when the question is in another language, multiplied by the share of the
    # question's words the articles hold: shared stems and names help a little there, and
    # accidental matches hurt a lot.
    cross_lingual_lexical_weight: float = 0.12
    # Passage similarity = this mix of the whole passage's and its best sentence's cosine.
    sentence_mix: float = 0.5
    # How sure an answer is (``index.retrieval.confidence``): answer, closest passages, or declined.
    # None: the single threshold ``min_score`` on the answer score (models without a fit).
    confidence: ConfidenceModel | None = None
    min_score: float = E5_MIN_SCORE
    # Quotes on the first page when the answer is only the closest passages (the rest stay
    # behind "More").
    closest_quotes: int = 2
    # Answer score = similarity minus this share of the question's typical similarity to
    # unrelated text (``answer_scores``).
    baseline_weight: float = 0.75
    # Quotes whose similarity is this far below the best one are not shown.
    max_score_gap: float = 0.08
    # The first page shows a later quote only while its answer score stays this near the
    # first one's; tighter for another article than the first's, which rarely answers too
    # (``first_page``; the rest stays behind "More"). Fitted on PIAF dev (README, "Only the
    # passages that answer"): of the pairs whose answers' median stays under 1,200
    # characters, the one that keeps the answer among the shown quotes most often.
    page_gap_same_article: float = 0.04
    page_gap_other_article: float = 0.01
    # Overlapping passages of one article merge into one quote up to this length.
    max_quote_chars: int = 1400
    # Passages kept after fusion, before merging and de-duplication.
    candidates: int = 20
    # Longer questions are cut: embedding time grows with length, meaning does not.
    max_question_chars: int = 1000

    def decision(self) -> ConfidenceModel:
        """What decides answer, closest or declined: ``confidence``, else ``min_score`` alone."""
        return self.confidence or threshold_model(self.min_score)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A passage under consideration: a span of one article and how well it matches."""

    article_id: str
    start: int
    end: int
    fused: float  # fusion score: decides the order
    answer_score: float  # similarity less the question's baseline: decides which are shown


def lexical_weight(same_language: bool, coverage: float, params: SearchParams) -> float:
    """How much the BM25 leg may vote for this question.

    Zero when none of its words occur in the articles; reduced when the question is in
    a language none of the articles are in, where shared words are mostly accidents.
    """
    if coverage <= 0.0:
        return 0.0
    if same_language:
        return params.lexical_weight
    return params.cross_lingual_lexical_weight * coverage


def zscores(values: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Standard scores; all zeros when the values do not vary."""
    spread = float(values.std()) if len(values) else 0.0
    if spread < 1e-9:
        return np.zeros_like(values)
    return ((values - values.mean()) / spread).astype(np.float32)


def fuse_scores(
    dense: npt.NDArray[np.float32], lexical: npt.NDArray[np.float32], lexical_w: float
) -> npt.NDArray[np.float32]:
    """Score fusion over one candidate set: z(dense) + w * z(BM25).

    Standardising over the candidates puts cosine and BM25 on one scale per question;
    unlike rank fusion it keeps how far apart the candidates are. On PIAF dev it gave
    +4 points of top-1 over reciprocal-rank fusion (README, Evaluation).

    >>> fuse_scores(np.array([0.9, 0.8], np.float32), np.array([0.0, 9.0], np.float32), 0.0).argmax()
    np.int64(0)
    """
    fused = zscores(dense)
    if lexical_w > 0 and len(lexical) and float(lexical.max()) > 0:
        fused = fused + lexical_w * zscores(lexical)
    return fused


def answer_scores(
    similarities: npt.NDArray[np.float32], reference: npt.NDArray[np.float32], weight: float
) -> npt.NDArray[np.float32]:
    """Similarities made comparable across questions: minus ``weight`` x the reference median.

    A question's cosine to *any* passage shifts with its language and wording (asked in
    English, a question scores ~0.04 lower against French text than asked in French). The
    median of its cosines to text that does not answer it (background passages and a
    sample of the collection) measures that shift. On PIAF dev, with 70% of unanswerable
    questions refused, a fixed cosine threshold also refuses 57% of answerable English
    questions; this score, 4%.

    >>> answer_scores(np.array([0.75], np.float32), np.array([0.5, 0.25, 0.125], np.float32), 1.0)
    array([0.5], dtype=float32)
    """
    baseline = float(np.median(reference)) if len(reference) else 0.0
    return (similarities - weight * baseline).astype(np.float32)


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
                        answer_score=max(other.answer_score, cand.answer_score),
                    )
                break
        else:
            kept.append(cand)
    return kept


_WORD = re.compile(r"\w+")


# Texts whose trigrams are kept: an answer compares ~15 quotes' (1.1 ms of its 8.4 beside the
# embedding, before this cache), and an article's passages come back for its next questions
# (over 300 PIAF questions in a row, 52% of the texts were among the last 256 compared).
# ~20 kB a text.
SHINGLES_CACHED = 256


@functools.lru_cache(maxsize=SHINGLES_CACHED)
def _shingles(text: str) -> frozenset[tuple[str, ...]]:
    """The text's word trigrams, case and compatibility forms folded; a text of fewer than
    three words is its one (shorter) shingle.

    >>> sorted(_shingles("A b c D"))
    [('a', 'b', 'c'), ('b', 'c', 'd')]
    >>> _shingles("ﬁn"), _shingles("")
    (frozenset({('fin',)}), frozenset({()}))
    """
    words = _WORD.findall(unicodedata.normalize("NFKC", text).lower())
    if len(words) < 3:
        return frozenset({tuple(words)})
    # zip builds the trigrams in C: a third of the time of slicing the list per trigram.
    return frozenset(zip(words, words[1:], words[2:], strict=False))


def collapse_near_duplicates(texts: list[str], threshold: float = 0.7) -> list[int]:
    """Indexes of the texts to keep: one of each group whose word trigrams mostly coincide.

    >>> collapse_near_duplicates(["a b c d e", "a b c d e", "x y z"])
    [0, 2]
    """
    return [kept for kept, _ in near_duplicate_groups(texts, threshold)]


def near_duplicate_groups(texts: list[str], threshold: float = 0.7) -> list[tuple[int, list[int]]]:
    """Each text kept (the first of its group, in order) with the later ones that repeat it.

    A later text repeats a kept one when most of its word trigrams are in it: its words are
    shown already. Not the other way round: a short kept text (a caption line) inside a long
    later one does not hide the long one's other words.

    >>> near_duplicate_groups(["a b c d e", "x y z", "a b c d e", "x y z w v u t"])
    [(0, [2]), (1, []), (3, [])]
    """
    groups: list[tuple[int, list[int]]] = []
    seen: list[frozenset[tuple[str, ...]]] = []
    kept: set[tuple[str, ...]] = set()  # every kept text's trigrams
    for i, text in enumerate(texts):
        grams = _shingles(text)
        # Most texts repeat none: one that shares too few trigrams with all the kept texts
        # together shares too few with each (one intersection instead of one per kept text).
        maybe = bool(grams) and len(grams & kept) / len(grams) >= threshold
        for (_, copies), other in zip(groups, seen, strict=True) if maybe else ():
            if other and len(grams & other) / len(grams) >= threshold:
                copies.append(i)
                break
        else:
            groups.append((i, []))
            seen.append(grams)
            kept |= grams
    return groups


def best_sentence(
    sentences: list[Span],
    scores: npt.NDArray[np.float32],
    start: int,
    end: int,
    text: str | None = None,
) -> Span:
    """The best-scoring sentence that lies inside [start, end); the span itself if none does.

    With the article's ``text``, a heading (``chunk.is_heading``: a title, a subheading) is
    the highlight only of a passage that has nothing else, and the highlight never opens
    with a closing quote or bracket (a paragraph that closes a quote opened before it).
    """
    best: Span | None = None
    best_key = (False, -np.inf)
    for (s, e), score in zip(sentences, scores, strict=True):
        if not (start <= s and e <= end):
            continue
        key = (text is None or not is_heading(text, s, e), float(score))
        if key > best_key:
            best, best_key = (s, e), key
    s, e = best or (start, end)
    if text is not None:
        s = min(opening_closers(text, s, e), e)
    return s, e


@dataclass(frozen=True, slots=True)
class EvidenceInputs:
    """What one search measured of its candidates, from which ``evidence`` derives its signals.

    The arrays hold one value (or row) per candidate, in the candidates' order.

    Attributes:
        similarity: The ranking cosine of each candidate: the ``SearchParams.sentence_mix``
            of its passage's and its best sentence's cosine to the question.
        passage_sims: Each candidate's whole-passage cosine to the question.
        sentence_sims: Each candidate's best sentence's cosine (its passage's own cosine
            when it has no sentences).
        lexical: Each candidate's BM25 score; zeros when the lexical leg did not vote.
        spans: Each candidate's ``(article id, start, end)`` in its article's text.
        baseline: The question's median cosine to text that does not answer it
            (``answer_scores``).
        baseline_weight: The share of ``baseline`` taken off the best similarity for the
            answer score (``SearchParams.baseline_weight``).
        same_language: Whether the question is in one of the articles' languages.
        names_coverage: The share of the question's names that some article holds; None
            when the question names nothing.
        background: The background passages' vectors (rows), for the hub signals; None or
            empty to leave those at zero.
        passage_vectors: The candidates' passage vectors (rows), needed with ``background``.
        query: The question's vector, needed with ``background``.
        names_not_in_article: The share of the question's names missing from the best
            passage's article (``lexical.names_missing``).
    """

    similarity: Vector
    passage_sims: Vector
    sentence_sims: Vector
    lexical: Vector
    spans: list[tuple[str, int, int]]
    baseline: float
    baseline_weight: float
    same_language: bool
    names_coverage: float | None = None
    background: Vector | None = None
    passage_vectors: Vector | None = None
    query: Vector | None = None
    names_not_in_article: float = 0.0


def evidence(inputs: EvidenceInputs) -> Evidence:
    """The signals of one search's candidates (``index.retrieval.confidence``), from plain arrays.

    Args:
        inputs: What the search measured of its candidates (see ``EvidenceInputs``).

    Returns:
        The best candidate's evidence: its answer score, its margin over the best candidate
        that does not overlap it, how far it stands above the top ten, whether BM25 agrees,
        the language and names signals and the hub signals (zero without ``background``).

    >>> e = evidence(EvidenceInputs(np.array([0.9, 0.8], np.float32),
    ...     np.array([0.88, 0.8], np.float32), np.array([0.92, 0.8], np.float32),
    ...     np.array([2.0, 4.0], np.float32), [("a", 0, 10), ("b", 0, 10)], 0.7, 1.0, True))
    >>> round(e.answer, 2), round(e.margin, 2), e.lexical_agreement
    (0.2, 0.1, 0.5)
    """
    similarity, lexical, spans = inputs.similarity, inputs.lexical, inputs.spans
    baseline, background, query = inputs.baseline, inputs.background, inputs.query
    best = int(np.argmax(similarity))
    top = float(similarity[best])
    article, start, end = spans[best]
    others = [
        float(x)
        for x, (a, s, e) in zip(similarity, spans, strict=True)
        if a != article or e <= start or end <= s
    ]
    runner_up = max(others, default=baseline)
    ten = np.sort(similarity)[::-1][:10]
    hub = question_hub = 0.0
    if background is not None and len(background) and inputs.passage_vectors is not None:
        # For the best passage only, as matrix-vector products: a matrix product would start
        # BLAS threads that still spin when the next question's embedding starts.
        hub = _mean_top(background @ inputs.passage_vectors[best], 10)
        question_hub = _mean_top(background @ query, 10) if query is not None else 0.0
    lex_top = float(lexical.max()) if len(lexical) else 0.0
    coverage = inputs.names_coverage
    return Evidence(
        answer=top - inputs.baseline_weight * baseline,
        similarity=top,
        baseline=baseline,
        margin=top - runner_up,
        spread=top - float(ten.mean()),
        lexical_agreement=float(lexical[best]) / lex_top if lex_top > 0 else 0.0,
        sentence_gain=float(inputs.sentence_sims[best] - inputs.passage_sims[best]),
        same_language=1.0 if inputs.same_language else 0.0,
        unknown_names=1.0 - coverage if coverage is not None else 0.0,
        has_names=0.0 if coverage is None else 1.0,
        hub=hub,
        csls=2 * top - question_hub - hub,
        names_not_in_article=inputs.names_not_in_article,
    )


def _mean_top(sims: npt.NDArray[np.float32], k: int) -> float:
    """The mean of the ``k`` largest values (of all of them when fewer)."""
    k = min(k, len(sims))
    return float(np.partition(sims, -k)[-k:].mean()) if k else 0.0


@dataclass(frozen=True, slots=True)
class _Scored:
    """The candidates scored: their order, their answer scores, and their sentences' cosines."""

    candidates: Candidates
    sentences: Sentences
    fused: npt.NDArray[np.float32]  # decides the order
    answer: npt.NDArray[np.float32]  # decides which are shown
    sentence_sims: npt.NDArray[np.float32]  # every candidate's sentences, candidate by candidate
    evidence: Evidence  # decides whether, and how, they are shown
    # The best passage's article when it was read for the evidence (its names), else None:
    # quoting it later needs no second read.
    best_article: Article | None = None


def search(
    store: IndexStore,
    embedder: Embedder,
    question: str,
    params: SearchParams,
    *,
    k: int = 3,
    offset: int = 0,
    filters: Filters | None = None,
    feedback: Feedback | None = None,
) -> Answer:
    """Quotes answering ``question``, best first, marked "answer" or "closest"; none when declined.

    retrieve (both legs, in the store, within ``filters``) -> score (fusion, answer score,
    evidence) -> decide (``index.retrieval.confidence``) -> rank -> select (merge, gap,
    de-duplicate) -> quote (verbatim text, best sentence).

    Args:
        store: The index searched.
        embedder: Embeds the question (as a query).
        question: The question as asked; cut to ``params.max_question_chars``.
        params: The pipeline's knobs.
        k: At most this many quotes on the page returned (at most
            ``params.closest_quotes`` when the answer is only the closest passages).
        offset: The page's first quote in the whole ranked list: 0 for the first page
            (cut by ``first_page``), else that many quotes are skipped ("More").
        filters: Only passages of the articles these let through (a group's scope, a
            time frame); None for all.
        feedback: Readers' votes by passage hash, which reorder the quotes that passed;
            None to ignore them.

    Returns:
        The answer: its page of quotes, the rest in ``more``, the question's language, and
        the probability and evidence that decided it (no quotes when declined or when
        nothing matched).
    """
    question = question.strip()[: params.max_question_chars]
    languages = store.languages()
    query_lang = detect_language(question, default=languages[0])
    nothing = Answer(question=question, quotes=(), question_lang=query_lang)
    if not question:
        return nothing
    query = embedder.embed_queries([question])[0]
    terms = store.analyse(question, query_lang)
    same_language = query_lang in languages
    lex_w = lexical_weight(same_language, terms.coverage, params)
    candidates = store.candidates(
        query, terms if lex_w > 0 else None, params.dense_k, params.lexical_k, filters
    )
    if not len(candidates):
        return nothing
    # Names are looked for in the best article only for a question in the articles' language.
    names = question_names(question, query_lang) if same_language else []
    scored = _score(
        store,
        candidates,
        query=query,
        lex_w=lex_w,
        same_language=same_language,
        terms=terms,
        names=names,
        params=params,
    )
    model = params.decision()
    probability = model.probability(scored.evidence)
    outcome = model.outcome(probability)
    declined = replace(nothing, probability=probability, evidence=scored.evidence)
    if outcome == "declined":
        return declined
    quotes, scores = _quotes(store, scored, outcome=outcome, params=params, feedback=feedback)
    if outcome == "closest":
        k = min(k, params.closest_quotes)
    page = first_page(quotes, k, params, scores) if offset == 0 else quotes[offset : offset + k]
    return replace(declined, quotes=tuple(page), more=tuple(quotes[offset + len(page) :]))


def _quotes(
    store: IndexStore,
    scored: _Scored,
    *,
    outcome: Outcome,
    params: SearchParams,
    feedback: Feedback | None,
) -> tuple[list[Quote], list[float]]:
    """Every quote shown for an answer, best first, with the score each is ranked and cut by:
    its answer score, shifted by readers' votes."""
    ranked, sentence_hits = _rank(scored, params)
    wanted = {c.article_id for c in ranked}
    read = scored.best_article
    articles = {read.id: read} if read is not None and read.id in wanted else {}
    if wanted - articles.keys():
        articles.update((a.id, a) for a in store.articles(wanted - articles.keys()))
    shown = _select(articles, ranked, params)
    quotes = [
        _quote(
            articles[c.article_id],
            c,
            sentence_hits=sentence_hits.get(c.article_id, []),
            confidence=outcome,
            copies=copies,
        )
        for c, copies in shown
    ]
    scores = [q.score for q in quotes]
    if feedback is not None and len(quotes) > 1:
        # Readers' votes reorder what passed the gate (``index.chat.feedback``); they add nothing.
        hashes = [passage_hash(q.text) for q in quotes]
        shifts = feedback(hashes)
        if shifts:
            scores = [score + shifts.get(h, 0.0) for score, h in zip(scores, hashes, strict=True)]
            order = sorted(range(len(quotes)), key=lambda i: -scores[i])
            quotes, scores = [quotes[i] for i in order], [scores[i] for i in order]
    return quotes, scores


def first_page(
    quotes: Sequence[Quote],
    k: int,
    params: SearchParams,
    scores: Sequence[float] | None = None,
) -> list[Quote]:
    """The quotes an answer shows first: the best one, then each next one while its answer
    score (or ``scores``, the same shifted by votes) stays near the best one's
    (``params.page_gap_*``), at most ``k``. "Morts ?" is answered by one passage, not by it
    and two that merely share its words.

    >>> from index.models import Quote
    >>> def quote(article: str, score: float) -> Quote:
    ...     return Quote(article, "t", None, "x", 0, 1, 0, 1, score)
    >>> params = SearchParams(page_gap_same_article=0.05, page_gap_other_article=0.02)
    >>> [q.article_id for q in first_page([quote("a", .30), quote("a", .27), quote("b", .27)], 3, params)]
    ['a', 'a']
    """
    if not quotes:
        return []
    scores = [q.score for q in quotes] if scores is None else scores
    best = quotes[0]
    shown = [best]
    for quote, score in zip(quotes[1:k], scores[1:k], strict=True):
        gap = (
            params.page_gap_same_article
            if quote.article_id == best.article_id
            else params.page_gap_other_article
        )
        if score < scores[0] - gap:
            break
        shown.append(quote)
    return shown


def _score(
    store: IndexStore,
    candidates: Candidates,
    *,
    query: Vector,
    lex_w: float,
    same_language: bool,
    terms: QueryTerms,
    names: Sequence[str],
    params: SearchParams,
) -> _Scored:
    """Each candidate's similarity (passage and best sentence), fused order and answer score."""
    sentences = candidates.sentences
    if sentences is None:
        sentences = store.sentences(candidates.ids.tolist())
    # All the candidates' sentences are scored in one product.
    sentence_sims = (sentences.vectors @ query).astype(np.float32)
    passage_sims = (candidates.vectors @ query).astype(np.float32)
    best_sentence_sims = _best_sentence_sims(sentence_sims, sentences.ptr, passage_sims)
    mix = params.sentence_mix
    similarity = ((1 - mix) * passage_sims + mix * best_sentence_sims).astype(np.float32)
    fused = fuse_scores(similarity, candidates.lexical, lex_w)
    references = store.reference_vectors()
    reference = references @ query
    background = store.background()
    baseline = float(np.median(reference)) if len(reference) else 0.0
    answer = answer_scores(similarity, reference, params.baseline_weight)
    lexical = candidates.lexical if lex_w > 0 else np.zeros_like(similarity)
    spans = [
        (a, int(s), int(e))
        for a, s, e in zip(candidates.article_ids, candidates.starts, candidates.ends, strict=True)
    ]
    missing = 0.0
    best_article = None
    if names:
        best_article = store.article(spans[int(np.argmax(similarity))][0])
        if best_article is not None:
            missing = names_missing(names, f"{best_article.title}\n{best_article.text}")
    found = evidence(
        EvidenceInputs(
            similarity=similarity,
            passage_sims=passage_sims,
            sentence_sims=best_sentence_sims,
            lexical=np.asarray(lexical, np.float32),
            spans=spans,
            baseline=baseline,
            baseline_weight=params.baseline_weight,
            same_language=same_language,
            names_coverage=terms.names_coverage,
            background=background,
            passage_vectors=candidates.vectors,
            query=query,
            names_not_in_article=missing,
        )
    )
    return _Scored(candidates, sentences, fused, answer, sentence_sims, found, best_article)


def _best_sentence_sims(
    sentence_sims: Vector, ptr: npt.NDArray[np.int64], passage_sims: Vector
) -> Vector:
    """Each candidate's best sentence cosine, its sentences being ``sentence_sims[ptr[i] :
    ptr[i + 1]]``. A passage without sentences (never written so) has its own cosine instead:
    the mix counts it twice."""
    counts = np.diff(ptr)
    best = np.array(passage_sims, np.float32)
    filled = counts > 0
    if filled.any():
        # One reduction over every passage's run of sentences (the runs of the passages that
        # have some: ``reduceat`` needs non-empty runs).
        best[filled] = np.maximum.reduceat(sentence_sims, ptr[:-1][filled])
    return best


def _rank(
    scored: _Scored, params: SearchParams
) -> tuple[list[Candidate], dict[str, list[tuple[Span, float]]]]:
    """The best ``params.candidates`` passages in fused order, and their sentences' cosines."""
    found, sentences = scored.candidates, scored.sentences
    ranked: list[Candidate] = []
    sentence_hits: dict[str, list[tuple[Span, float]]] = {}
    for i in np.argsort(-scored.fused, kind="stable")[: params.candidates]:
        article_id = found.article_ids[i]
        first, last = int(sentences.ptr[i]), int(sentences.ptr[i + 1])
        sims = (float(x) for x in scored.sentence_sims[first:last])
        sentence_hits.setdefault(article_id, []).extend(
            zip(sentences.spans_of(int(i)), sims, strict=True)
        )
        ranked.append(
            Candidate(
                article_id,
                int(found.starts[i]),
                int(found.ends[i]),
                float(scored.fused[i]),
                float(scored.answer[i]),
            )
        )
    return ranked, sentence_hits


def _select(
    articles: dict[str, Article], candidates: list[Candidate], params: SearchParams
) -> list[tuple[Candidate, tuple[Article, ...]]]:
    """What is shown: merged passages near the best one, each text once, with the other
    articles that carry it (wire copies)."""
    candidates = [c for c in candidates if c.article_id in articles]  # removed meanwhile
    merged = merge_overlapping(candidates, params.max_quote_chars)
    if not merged:
        return []
    floor = max(c.answer_score for c in merged) - params.max_score_gap
    shown = [c for c in merged if c.answer_score >= floor]
    # De-duplication comes last: comparing texts is the costliest step, so it runs on the
    # passages shown only.
    texts = [articles[c.article_id].text[c.start : c.end] for c in shown]
    selected = []
    for kept, copies in near_duplicate_groups(texts):
        first = shown[kept].article_id
        others = {shown[i].article_id: articles[shown[i].article_id] for i in copies}
        others.pop(first, None)
        selected.append((shown[kept], tuple(others.values())))
    return selected


def _quote(
    article: Article,
    cand: Candidate,
    *,
    sentence_hits: list[tuple[Span, float]],
    confidence: Outcome,
    copies: tuple[Article, ...] = (),
) -> Quote:
    """The verbatim quote of a shown passage, its best sentence as the highlight."""
    spans = [span for span, _ in sentence_hits]
    scores = np.asarray([score for _, score in sentence_hits], dtype=np.float32)
    highlight_start, highlight_end = best_sentence(
        spans, scores, cand.start, cand.end, article.text
    )
    return Quote(
        article_id=article.id,
        title=article.title,
        url=article.url,
        text=article.text[cand.start : cand.end],
        start=cand.start,
        end=cand.end,
        highlight_start=highlight_start,
        highlight_end=highlight_end,
        score=round(cand.answer_score, 4),
        article_sha256=article.sha256,
        confidence="closest" if confidence == "closest" else "answer",
        outlet=article.outlet,
        published=article.published,
        also_in=tuple(
            name
            for name in dict.fromkeys(copy.outlet or copy.title for copy in copies)
            if name != (article.outlet or article.title)
        ),
    )
