"""Syncing a folder into the store: only what changed is parsed, embedded and written."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from index.errors import ModelMismatchError
from index.retrieval import indexer as indexer_module
from index.retrieval.embed import HashingEmbedder
from index.retrieval.indexer import BuildParams, Indexer
from index.service import IndexService
from index.settings import IndexSettings
from index.stores.embedded import EmbeddedStore
from index.tools.cli import main

VOLCANO = "Les volcans\n\nUn volcan entre en éruption quand le magma remonte vers la surface.\n"
GLACIER = "Les glaciers\n\nLes glaciers des Alpes fondent chaque été un peu plus vite.\n"
BEES = "Les abeilles\n\nLes abeilles produisent du miel et pollinisent les fleurs.\n"


class CountingEmbedder(HashingEmbedder):
    """The hashing model, counting the texts it is asked to embed."""

    def __init__(self) -> None:
        super().__init__(128)
        self.embedded: list[str] = []

    def embed_passages(self, texts: list[str]):  # type: ignore[no-untyped-def]
        self.embedded.extend(texts)
        return super().embed_passages(texts)


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    folder = tmp_path / "seeds"
    folder.mkdir()
    (folder / "volcans.txt").write_text(VOLCANO, encoding="utf-8")
    (folder / "glaciers.txt").write_text(GLACIER, encoding="utf-8")
    return folder


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EmbeddedStore]:
    opened = EmbeddedStore(tmp_path / "data")
    yield opened
    opened.close()


def make_indexer(store: EmbeddedStore, embedder: HashingEmbedder | None = None) -> Indexer:
    model = embedder or CountingEmbedder()
    return Indexer(store, model, BuildParams(model.model_id))


def test_a_first_sync_builds_and_an_unchanged_one_writes_nothing(
    seeds: Path, store: EmbeddedStore
) -> None:
    embedder = CountingEmbedder()
    first = make_indexer(store, embedder).sync_folder(seeds)
    assert (first.articles, first.added, first.rebuilt) == (2, 2, True)
    assert first.embedded == len(embedder.embedded) > 0
    generation = store.counts().generation
    again = make_indexer(store, embedder).sync_folder(seeds)
    assert (again.added, again.updated, again.removed, again.unchanged) == (0, 0, 0, 2)
    assert again.embedded == 0 and store.counts().generation == generation


def test_a_sync_parses_embeds_and_writes_only_what_changed(
    seeds: Path, store: EmbeddedStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_indexer(store).sync_folder(seeds)
    (seeds / "volcans.txt").write_text(VOLCANO + "\nLa lave refroidie forme du basalte.\n")
    (seeds / "glaciers.txt").unlink()
    (seeds / "abeilles.txt").write_text(BEES, encoding="utf-8")
    parsed: list[str] = []
    real_load = indexer_module.load_or_problem

    def load(path: Path):  # type: ignore[no-untyped-def]
        parsed.append(path.name)
        return real_load(path)

    monkeypatch.setattr(indexer_module, "load_or_problem", load)
    embedder = CountingEmbedder()
    report = make_indexer(store, embedder).sync_folder(seeds)
    assert (report.added, report.updated, report.removed, report.unchanged) == (1, 1, 1, 0)
    assert sorted(parsed) == ["abeilles.txt", "volcans.txt"]
    assert any("basalte" in text for text in embedder.embedded)
    assert not any("magma" in text and "basalte" not in text for text in embedder.embedded[1:])
    assert {a.id for a in store.articles()} == {"volcans", "abeilles"}


def test_hostile_and_duplicate_files_are_named_and_the_rest_indexed(
    seeds: Path, store: EmbeddedStore
) -> None:
    (seeds / "deep.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    (seeds / "Volcans.md").write_text(
        "# Autre\n\nUn autre texte sur les volcans.", encoding="utf-8"
    )
    (seeds / "image.png").write_bytes(b"\x89PNG\r\n")
    report = make_indexer(store).sync_folder(seeds)
    reasons = {Path(p.path).name: str(p.reason) for p in report.problems}
    assert set(reasons) == {"deep.json", "image.png", "volcans.txt"} or set(reasons) == {
        "deep.json",
        "image.png",
        "Volcans.md",
    }
    assert any("duplicate article id 'volcans'" in r for r in reasons.values())
    assert report.articles == 2


def test_a_sync_killed_while_writing_leaves_the_previous_index(
    seeds: Path, store: EmbeddedStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_indexer(store).sync_folder(seeds)
    before = {a.id: a.sha256 for a in store.articles()}
    (seeds / "volcans.txt").write_text(VOLCANO + "\nChangé.\n", encoding="utf-8")
    (seeds / "abeilles.txt").write_text(BEES, encoding="utf-8")
    calls = 0
    real = indexer_module._passages

    def dies_on_the_second(*args):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        if calls == 2:
            raise KeyboardInterrupt  # as a kill would, half way through the write
        return real(*args)

    monkeypatch.setattr(indexer_module, "_passages", dies_on_the_second)
    with pytest.raises(KeyboardInterrupt):
        make_indexer(store).sync_folder(seeds)
    assert {a.id: a.sha256 for a in store.articles()} == before
    monkeypatch.undo()
    assert make_indexer(store).sync_folder(seeds).articles == 3  # and it goes on afterwards


def test_another_model_rebuilds_and_the_cache_is_shared(seeds: Path, store: EmbeddedStore) -> None:
    make_indexer(store, CountingEmbedder()).sync_folder(seeds)
    other = HashingEmbedder(64)
    report = Indexer(store, other, BuildParams(other.model_id)).sync_folder(seeds)
    assert report.rebuilt and store.meta() is not None and store.meta().dim == 64  # type: ignore[union-attr]


def test_the_command_line_adds_and_removes_beside_a_running_bot(
    seeds: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = IndexSettings(
        seeds_dir=seeds, data_dir=tmp_path / "data", embedding_model="hashing-128"
    )
    bot = IndexService(settings)  # what the bot holds open
    bot.rebuild()
    monkeypatch.setenv("EMBEDDING_MODEL", "hashing-128")
    monkeypatch.setenv("SEEDS_DIR", str(seeds))
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    article = tmp_path / "Abeilles et miel.txt"
    article.write_text(BEES, encoding="utf-8")
    assert main(["add", str(article), str(tmp_path / "absent.txt")]) == 1
    out, err = capsys.readouterr()
    assert out == "added abeilles-et-miel: Les abeilles (1 passage)\n"
    assert "not added" in err and "absent.txt" in err
    assert (seeds / "Abeilles-et-miel.txt").exists()
    assert main(["add", str(article)]) == 0  # sent again: said so, nothing saved
    assert capsys.readouterr().out == (
        "unchanged abeilles-et-miel: Les abeilles (already in the collection)\n"
    )
    # The bot's next question sees it: its dense index catches up with the other process.
    answer = bot.ask("abeilles miel pollinisent fleurs")
    assert answer.quotes and answer.quotes[0].article_id == "abeilles-et-miel"
    assert main(["remove", "glaciers", "nothing-here"]) == 1
    out, err = capsys.readouterr()
    assert out.startswith("removed glaciers: Les glaciers; file moved to ")
    assert err == "not removed: no article has the id 'nothing-here'\n"
    assert {a.id for a in bot.articles()} == {"volcans", "abeilles-et-miel"}
    bot.close()


def test_an_index_of_the_old_format_moves_to_the_store_without_embedding(
    seeds: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    embedder = CountingEmbedder()
    settings = IndexSettings(seeds_dir=seeds, data_dir=data, embedding_model="hashing-128")
    # What the old format left: a manifest, and every vector in the shared cache.
    IndexService(settings, embedder).rebuild()
    (data / "index.sqlite").unlink()
    for leftover in data.glob("index.sqlite-*"):
        leftover.unlink()
    (data / "builds" / "b1").mkdir(parents=True)
    (data / "builds" / "b1" / "manifest.json").write_text(json.dumps({"model_id": "hashing-128"}))
    (data / "current").symlink_to(Path("builds") / "b1")
    embedder.embedded.clear()
    report = IndexService(settings, embedder).ensure_built()
    assert report is not None and report.articles == 2 and embedder.embedded == []
    # An old index of another model is not replaced behind the admins' back.
    shutil.rmtree(data / "builds" / "b1")
    (data / "builds" / "b1").mkdir()
    (data / "builds" / "b1" / "manifest.json").write_text(json.dumps({"model_id": "other"}))
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    shutil.copytree(data / "builds", fresh / "builds")
    (fresh / "current").symlink_to(Path("builds") / "b1")
    service = IndexService(settings.model_copy(update={"data_dir": fresh}), embedder)
    assert service.ensure_built() is None
    with pytest.raises(ModelMismatchError, match="the index was built with 'other'"):
        service.ask("volcan")
