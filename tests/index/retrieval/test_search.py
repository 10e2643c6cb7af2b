"""The pure steps of search, then search itself over a tiny real store (SQLite, FAISS)."""

from __future__ import annotations

import unicodedata
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from index.models import Article
from index.retrieval.confidence import FEATURES, ConfidenceModel
from index.retrieval.embed import Embedder, HashingEmbedder
from index.retrieval.indexer import BuildParams, Indexer
from index.retrieval.search import (
    _WORD,
    Candidate,
    SearchParams,
    _best_sentence_sims,
    _shingles,
    best_sentence,
    collapse_near_duplicates,
    fuse_scores,
    lexical_weight,
    merge_overlapping,
    near_duplicate_groups,
    search,
    zscores,
)
from index.service import IndexService
from index.settings import IndexSettings
from index.stores.embedded import EmbeddedStore

ROOT = Path(__file__).resolve().parents[3]


def cand(article: str, start: int, end: int, fused: float, dense: float = 0.9) -> Candidate:
    return Candidate(article, start, end, fused, dense)


def test_zscores_standardise_and_survive_constant_input() -> None:
    z = zscores(np.array([1.0, 2.0, 3.0], dtype=np.float32))
    assert z.mean() == pytest.approx(0.0, abs=1e-6) and z.std() == pytest.approx(1.0)
    assert zscores(np.array([0.5, 0.5], dtype=np.float32)).tolist() == [0.0, 0.0]
    assert zscores(np.array([], dtype=np.float32)).tolist() == []


def test_fusion_lets_a_strong_lexical_match_win() -> None:
    dense = np.array([0.85, 0.84, 0.80], dtype=np.float32)
    bm25 = np.array([0.0, 12.0, 0.0], dtype=np.float32)
    assert fuse_scores(dense, bm25, 0.6).argmax() == 1
    assert fuse_scores(dense, bm25, 0.0).argmax() == 0


def test_a_silent_lexical_leg_leaves_the_dense_order() -> None:
    dense = np.array([0.9, 0.8, 0.7], dtype=np.float32)
    fused = fuse_scores(dense, np.zeros(3, dtype=np.float32), 1.0)
    assert np.argsort(-fused).tolist() == [0, 1, 2]


def test_lexical_weight_knows_the_question_language() -> None:
    params = SearchParams(lexical_weight=1.0, cross_lingual_lexical_weight=0.2)
    assert lexical_weight(True, 0.5, params) == 1.0
    assert lexical_weight(False, 0.5, params) == pytest.approx(0.1)
    assert lexical_weight(True, 0.0, params) == 0.0
    assert lexical_weight(False, 0.0, params) == 0.0


def test_overlapping_chunks_of_one_article_merge() -> None:
    merged = merge_overlapping(
        [cand("a", 0, 100, 0.3, 0.8), cand("b", 0, 50, 0.2), cand("a", 90, 180, 0.1, 0.85)],
        max_chars=500,
    )
    assert [(c.article_id, c.start, c.end) for c in merged] == [("a", 0, 180), ("b", 0, 50)]
    assert merged[0].answer_score == 0.85
    assert merged[0].fused == 0.3


def test_a_merge_past_the_limit_drops_the_weaker_overlap() -> None:
    merged = merge_overlapping([cand("a", 0, 100, 0.3), cand("a", 90, 300, 0.1)], max_chars=200)
    assert [(c.start, c.end) for c in merged] == [(0, 100)]


def test_distant_chunks_of_one_article_stay_apart() -> None:
    merged = merge_overlapping([cand("a", 0, 100, 0.3), cand("a", 500, 600, 0.1)], max_chars=900)
    assert len(merged) == 2


def test_near_duplicates_from_different_articles_collapse() -> None:
    text = "Le Kazakhstan produit 40 % de l’uranium dans le monde et la crainte est grande."
    kept = collapse_near_duplicates(
        [text, text.replace("grande", "forte"), "Tout autre chose ici."]
    )
    assert kept == [0, 2]


@pytest.mark.parametrize(
    "text",
    ["", "Un", "Un deux", "Un deux trois", "ﬁn de l'œuvre, Ǆemal — 1½ km.", "a b a b a b c " * 40],
)
def test_shingles_are_the_word_trigrams(text: str) -> None:
    # What they were before trigrams came from zip: one slice of the words per trigram.
    words = _WORD.findall(unicodedata.normalize("NFKC", text).lower())
    assert _shingles(text) == {tuple(words[i : i + 3]) for i in range(max(len(words) - 2, 1))}


def test_near_duplicates_are_found_against_each_kept_text_not_all_of_them() -> None:
    # The last shares 4 of its 5 trigrams with the first two together, 2 with either.
    assert near_duplicate_groups(["a b c d", "d e f g", "a b c d e f g"]) == [
        (0, []),
        (1, []),
        (2, []),
    ]
    assert near_duplicate_groups(["a b c d e f", "d e f g", "a b c d e f g"]) == [(0, [2]), (1, [])]


def test_near_duplicate_groups_as_one_text_against_each_kept_one() -> None:
    def reference(texts: list[str], threshold: float) -> list[tuple[int, list[int]]]:
        groups: list[tuple[int, list[int]]] = []
        seen: list[frozenset[tuple[str, ...]]] = []
        for i, text in enumerate(texts):
            grams = _shingles(text)
            for (_, copies), other in zip(groups, seen, strict=True):
                if len(grams & other) / len(grams) >= threshold:
                    copies.append(i)
                    break
            else:
                groups.append((i, []))
                seen.append(grams)
        return groups

    rng = np.random.default_rng(3)
    for _ in range(200):
        texts = [" ".join(rng.choice(list("abcdef"), int(rng.integers(0, 9)))) for _ in range(8)]
        for threshold in (0.3, 0.7, 1.0):
            assert near_duplicate_groups(texts, threshold) == reference(texts, threshold)


def test_best_sentence_sims_take_each_passages_best() -> None:
    sims = np.array([0.1, 0.5, 0.3, 0.9, 0.2], np.float32)
    passage_sims = np.array([0.7, 0.6, 0.4, 0.8, 0.05], np.float32)
    # Passage 0 has no sentences, 1 has two, 2 none, 3 two, 4 one, then a last one without.
    ptr = np.array([0, 0, 2, 2, 4, 5], np.int64)
    best = _best_sentence_sims(sims, ptr, passage_sims[:5])
    assert best.dtype == np.float32
    assert best.tolist() == pytest.approx([0.7, 0.5, 0.4, 0.9, 0.2])
    none = _best_sentence_sims(np.zeros(0, np.float32), np.zeros(3, np.int64), passage_sims[:2])
    assert none.tolist() == pytest.approx([0.7, 0.6])


def test_best_sentence_is_inside_the_span() -> None:
    spans = [(0, 10), (11, 20), (21, 30)]
    scores = np.array([0.9, 0.5, 0.7], dtype=np.float32)
    assert best_sentence(spans, scores, 11, 30) == (21, 30)
    assert best_sentence(spans, scores, 40, 50) == (40, 50)


ARTICLES = [
    Article(
        id="abeilles",
        title="Abeilles",
        text="Les abeilles produisent du miel.\n\nUne reine pond des œufs toute sa vie.",
        sha256="1",
    ),
    Article(
        id="volcans",
        title="Volcans",
        text="Un volcan entre en éruption quand le magma remonte.\n\nLa lave refroidit en basalte.",
        sha256="2",
    ),
]


@pytest.fixture
def data(tmp_path: Path):  # type: ignore[no-untyped-def]
    embedder = HashingEmbedder()
    store = EmbeddedStore(tmp_path)
    Indexer(store, embedder, BuildParams(embedder.model_id, 60, 0)).sync_articles(ARTICLES)
    yield store, embedder
    store.close()


def test_search_quotes_verbatim_with_the_best_sentence(data) -> None:  # type: ignore[no-untyped-def]
    index, embedder = data
    answer = search(index, embedder, "Que produisent les abeilles ?", SearchParams(min_score=0.05))
    top = answer.quotes[0]
    assert top.article_id == "abeilles"
    assert ARTICLES[0].text[top.start : top.end] == top.text
    assert top.highlight == "Les abeilles produisent du miel."
    assert top.title == "Abeilles"


def test_search_abstains_below_the_threshold(data) -> None:  # type: ignore[no-untyped-def]
    index, embedder = data
    answer = search(
        index, embedder, "Qui a gagné la coupe du monde ?", SearchParams(min_score=0.99)
    )
    assert answer.quotes == ()
    assert not answer.answered


@pytest.mark.parametrize("question", ["", "   ", "\x00\x00", "🐝🐝🐝"])
def test_search_survives_empty_and_odd_questions(data, question: str) -> None:  # type: ignore[no-untyped-def]
    index, embedder = data
    answer = search(index, embedder, question, SearchParams(min_score=0.5))
    assert answer.quotes == ()


def test_search_pages_with_offset(data) -> None:  # type: ignore[no-untyped-def]
    index, embedder = data
    params = replace(
        SearchParams(),
        min_score=-1.0,
        max_score_gap=2.0,
        page_gap_same_article=2.0,
        page_gap_other_article=2.0,
    )
    first = search(index, embedder, "lave magma abeilles", params, k=1)
    second = search(index, embedder, "lave magma abeilles", params, k=1, offset=1)
    assert len(first.quotes) == 1 and len(second.quotes) == 1
    assert first.quotes[0] != second.quotes[0]
    assert second.quotes[0] in first.more


def test_a_huge_question_is_cut_before_embedding(data) -> None:  # type: ignore[no-untyped-def]
    index, embedder = data
    seen: list[str] = []

    class Recording(type(embedder)):  # type: ignore[misc]
        def embed_queries(self, texts: list[str]):  # type: ignore[no-untyped-def]
            seen.extend(texts)
            return super().embed_queries(texts)

    answer = search(index, Recording(), "abeilles miel " * 1000, SearchParams(min_score=-1.0))
    assert len(seen[0]) == 1000
    assert answer.quotes[0].article_id == "abeilles"


def sloped(centre: float, answer_at: float = 0.7, closest_at: float = 0.3) -> ConfidenceModel:
    """p = sigmoid(10 (answer score - centre)): each outcome band is easy to aim at."""
    n = len(FEATURES)
    return ConfidenceModel(
        means=(centre,) + (0.0,) * (n - 1),
        scales=(1.0,) * n,
        weights=(10.0,) + (0.0,) * (n - 1),
        bias=0.0,
        answer_at=answer_at,
        closest_at=closest_at,
    )


def test_the_confidence_model_gives_three_outcomes(data) -> None:  # type: ignore[no-untyped-def]
    index, embedder = data
    question = "lave magma abeilles"
    params = SearchParams(max_score_gap=2.0, page_gap_same_article=2.0, page_gap_other_article=2.0)
    probe = search(index, embedder, question, replace(params, min_score=-1.0))
    assert probe.evidence is not None and probe.outcome == "answer"
    score = probe.evidence.answer
    sure = search(index, embedder, question, replace(params, confidence=sloped(score - 1)))
    assert sure.outcome == "answer" and len(sure.quotes) == 3
    assert {q.confidence for q in sure.quotes} == {"answer"}
    unsure = search(index, embedder, question, replace(params, confidence=sloped(score)))
    assert unsure.outcome == "closest" and unsure.probability == pytest.approx(0.5, abs=1e-3)
    assert len(unsure.quotes) == params.closest_quotes  # fewer quotes; the rest behind More
    assert {q.confidence for q in unsure.quotes + unsure.more} == {"closest"}
    assert unsure.quotes[0] == replace(sure.quotes[0], confidence="closest")
    off = search(index, embedder, question, replace(params, confidence=sloped(score + 1)))
    assert off.outcome == "declined" and off.quotes == () and off.more == ()
    assert off.evidence == probe.evidence  # the same search, only the decision differs


def test_evidence_counts_no_unknown_word_against_the_answer(data) -> None:  # type: ignore[no-untyped-def]
    index, embedder = data
    params = SearchParams(min_score=-1.0)
    known = search(index, embedder, "abeilles miel reine", params).evidence
    unknown = search(index, embedder, "abeilles miel reine zorglub", params).evidence
    assert known is not None and unknown is not None
    # The old penalty took 0.04 x the unknown share off the score; a synonym is no absence.
    assert unknown.answer == pytest.approx(unknown.similarity - 0.75 * unknown.baseline, abs=1e-6)
    assert known.same_language == unknown.same_language == 1.0


def test_evidence_names_what_the_best_article_never_mentions(data) -> None:  # type: ignore[no-untyped-def]
    index, embedder = data
    params = SearchParams(min_score=-1.0)
    # "Volcans" is the best article's title; "Islande" is in neither article.
    named = search(index, embedder, "Que refroidit la lave des Volcans ?", params).evidence
    elsewhere = search(index, embedder, "Que refroidit la lave en Islande ?", params).evidence
    unnamed = search(index, embedder, "Que refroidit la lave ?", params).evidence
    assert named is not None and elsewhere is not None and unnamed is not None
    assert named.names_not_in_article == 0.0
    assert elsewhere.names_not_in_article == 1.0
    assert unnamed.names_not_in_article == 0.0
    # Asked in another language a name is often spelled otherwise: it says nothing there.
    english = search(index, embedder, "What does lava in Iceland cool into?", params).evidence
    assert english is not None and english.same_language == 0.0
    assert english.names_not_in_article == 0.0


def test_an_answer_shows_only_the_quotes_near_the_first(tmp_path: Path, embedder: Embedder) -> None:
    """Issue 23: "Combien de vols annulés à Orly ?" showed a Kazakhstan passage third."""
    import shutil

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(ROOT / "seeds" / "000_7774940a137d78f0.txt", seeds)
    for name in ("greve-orly.md", "incendie-marseille.md"):
        shutil.copy(ROOT / "eval" / "dated" / name, seeds)
    service = IndexService(IndexSettings(seeds_dir=seeds, data_dir=tmp_path / "data"), embedder)
    service.rebuild()
    try:
        for question, article in (
            ("Combien de vols annulés à Orly ?", "greve-orly"),
            ("Combien d'hectares ont brûlé près de Marseille ?", "incendie-marseille"),
        ):
            answer = service.ask(question)
            assert {q.article_id for q in answer.quotes} == {article}
            assert answer.more  # the rest is behind More, not lost
            following = service.ask(question, offset=len(answer.quotes))
            assert following.quotes == answer.more[: len(following.quotes)]
    finally:
        service.close()
