"""ArticleCollection: SEEDS_DIR and the index changed together, or not at all."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from index.collection.folder import ArticleCollection, EditRefused, save_unique
from index.errors import ArticleLoadError, ArticleNotFoundError, IndexFailure
from index.service import IndexService
from index.settings import IndexSettings

VOLCANO = "Les volcans\n\nUn volcan entre en éruption quand le magma remonte vers la surface.\n"
GLACIER = "Les glaciers\n\nLes glaciers des Alpes fondent chaque été un peu plus vite.\n"


@pytest.fixture
def collection(tmp_path: Path) -> ArticleCollection:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "volcans.txt").write_text(VOLCANO, encoding="utf-8")
    settings = IndexSettings(
        seeds_dir=seeds, data_dir=tmp_path / "data", embedding_model="hashing-128"
    )
    service = IndexService(settings)
    service.rebuild()
    return ArticleCollection(settings, service)


def seed_names(collection: ArticleCollection) -> list[str]:
    return sorted(p.name for p in collection.settings.seeds_dir.iterdir())


def indexed(collection: ArticleCollection) -> set[str]:
    return {a.id for a in collection.service.articles()}


def test_add_then_remove(collection: ArticleCollection) -> None:
    added = collection.add_bytes("../../Glaciers des Alpes.txt", GLACIER.encode())
    assert (added.article.id, added.path.name, added.created) == (
        "glaciers-des-alpes",
        "Glaciers-des-Alpes.txt",
        True,
    )
    assert indexed(collection) == {"volcans", "glaciers-des-alpes"}
    again = collection.add_bytes("Glaciers des Alpes.txt", GLACIER.encode())
    assert not again.created and again.path == added.path  # the very same file
    removed = collection.remove("glaciers-des-alpes")
    assert removed.trashed is not None and removed.trashed.parent.name == "trash"
    assert removed.trashed.read_text(encoding="utf-8") == GLACIER
    assert seed_names(collection) == ["volcans.txt"] and indexed(collection) == {"volcans"}
    with pytest.raises(ArticleNotFoundError, match="no article has the id 'glaciers-des-alpes'"):
        collection.remove("glaciers-des-alpes")


def test_an_unusable_file_is_not_kept(collection: ArticleCollection) -> None:
    with pytest.raises(ArticleLoadError, match="empty file"):
        collection.add_bytes("vide.txt", b"  \n")
    with pytest.raises(ArticleLoadError, match=r"unsupported file type '\.exe'"):
        collection.add_bytes("x.exe", b"MZ")
    assert seed_names(collection) == ["volcans.txt"]


def test_a_file_the_index_cannot_take_is_not_kept(
    collection: ArticleCollection, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(path: Path) -> None:
        raise IndexFailure("disk full")

    monkeypatch.setattr(collection.service, "add_file", broken)
    with pytest.raises(IndexFailure, match="disk full"):
        collection.add_bytes("glaciers.txt", GLACIER.encode())
    assert seed_names(collection) == ["volcans.txt"]


def test_a_removal_the_index_refuses_puts_the_file_back(
    collection: ArticleCollection, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(article_id: str) -> None:
        raise IndexFailure("disk full")

    collection.edit("volcans", "title", "Les volcans actifs")  # a correction goes back too
    monkeypatch.setattr(collection.service, "remove_many", broken)
    with pytest.raises(IndexFailure, match="disk full"):
        collection.remove("volcans")
    assert seed_names(collection) == ["corrections", "volcans.txt"]
    assert (collection.settings.seeds_dir / "corrections" / "volcans.txt.json").is_file()
    assert not list((collection.settings.data_dir / "trash").iterdir())


def test_add_files_reports_each_problem(collection: ArticleCollection, tmp_path: Path) -> None:
    good = tmp_path / "glaciers.txt"
    good.write_text(GLACIER, encoding="utf-8")
    empty = tmp_path / "vide.md"
    empty.write_text(" ", encoding="utf-8")
    added, problems = collection.add_files([good, empty, tmp_path / "absent.txt"])
    assert [a.article.id for a in added] == ["glaciers"]
    assert [(Path(p.path).name, str(p.reason)) for p in problems] == [
        ("vide.md", "empty file"),
        ("absent.txt", "cannot read the file (No such file or directory)"),
    ]


def test_a_failed_write_leaves_no_partial_file(tmp_path: Path) -> None:
    # A file size limit makes the write fail half way, as a full disk would.
    script = textwrap.dedent(
        f"""
        import resource, signal
        from pathlib import Path
        from index.collection.folder import save_unique
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))
        try:
            save_unique(Path({str(tmp_path)!r}), "big.txt", b"x" * 5000)
        except OSError as exc:
            print("refused", exc.errno)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.startswith("refused")
    assert list(tmp_path.iterdir()) == []


def test_save_unique_never_overwrites(tmp_path: Path) -> None:
    first, created = save_unique(tmp_path, "a.txt", b"one")
    second, created_again = save_unique(tmp_path, "a.txt", b"two")
    assert (first.name, second.name, created, created_again) == ("a.txt", "a-2.txt", True, True)
    assert first.read_bytes() == b"one" and second.read_bytes() == b"two"


def test_a_full_disk_is_named_and_the_index_serves_as_before(tmp_path: Path) -> None:
    # A file size limit just above the index's files makes its next write fail as a full disk.
    script = textwrap.dedent(
        f"""
        import resource, signal
        from pathlib import Path
        from index.collection.folder import ArticleCollection
        from index.errors import StorageWriteError
        from index.service import IndexService
        from index.settings import IndexSettings

        root = Path({str(tmp_path)!r})
        (root / "seeds").mkdir()
        (root / "seeds" / "volcans.txt").write_text({VOLCANO!r}, encoding="utf-8")
        settings = IndexSettings(
            seeds_dir=root / "seeds", data_dir=root / "data", embedding_model="hashing-128"
        )
        service = IndexService(settings)
        service.rebuild()
        largest = max(p.stat().st_size for p in (root / "data").rglob("*") if p.is_file())
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (largest + 4096, largest + 4096))
        big = "Les glaciers\\n\\n" + "\\n\\n".join(
            f"Le glacier numéro {{i}} a perdu {{i}} mètres de glace depuis l'an dernier." * 8
            for i in range(60)
        )
        try:
            ArticleCollection(settings, service).add_bytes("glaciers.txt", big.encode())
        except StorageWriteError as exc:
            print("refused:", exc)
        print("articles:", sorted(a.id for a in service.articles()))
        print("answer:", service.ask("Quand un volcan entre-t-il en éruption ?").quotes[0].text)
        print("seeds:", sorted(p.name for p in (root / "seeds").iterdir()))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=120
    )
    assert result.returncode == 0, result.stderr
    data = tmp_path / "data"
    assert result.stdout.splitlines() == [
        f"refused: cannot write to {data} (is the disk full?): nothing was changed, the index "
        "serves as before",
        "articles: ['volcans']",
        "answer: Un volcan entre en éruption quand le magma remonte vers la surface.",
        "seeds: ['volcans.txt']",
    ]


# ------------------------------------------------------------------------------ re-sent, /edit


def test_the_same_article_again_is_unchanged_under_any_name(collection: ArticleCollection) -> None:
    vectors = len(list(collection.service.store.export_cache()))
    again = collection.add_bytes("volcans.txt", VOLCANO.encode())  # the same file
    assert (again.unchanged, again.created, again.article.id) == (True, False, "volcans")
    other = collection.add_bytes("copie.md", VOLCANO.encode())  # the same title and text
    assert (other.unchanged, other.article.id) == (True, "volcans")
    assert seed_names(collection) == ["volcans.txt"]  # no copy saved
    assert len(list(collection.service.store.export_cache())) == vectors
    changed = collection.add_bytes("volcans.txt", (VOLCANO + "Il fume.\n").encode())
    assert not changed.unchanged and changed.article.id == "volcans-2"  # never overwritten


def test_an_article_another_process_removed_is_added_again(collection: ArticleCollection) -> None:
    collection.add_bytes("glaciers.txt", GLACIER.encode())
    other = ArticleCollection(collection.settings, IndexService(collection.settings))
    other.remove("glaciers")  # the command line, beside the bot
    again = collection.add_bytes("glaciers.txt", GLACIER.encode())
    assert (again.unchanged, again.created, again.article.id) == (False, True, "glaciers")
    assert indexed(collection) == {"volcans", "glaciers"}


def test_an_edit_lives_in_the_folder_and_survives_a_rebuild_from_it(
    collection: ArticleCollection, tmp_path: Path
) -> None:
    store = collection.service.store
    vectors = len(list(store.export_cache()))
    edited = collection.edit("volcans", "date", "5 mars 2024")
    assert (edited.before.published, edited.after.published) == (None, "2024-03-05")
    assert len(list(store.export_cache())) == vectors  # the text did not change: nothing embedded
    collection.edit("volcans", "outlet", "  Le   Monde ")
    edited = collection.edit("volcans", "title", "Les volcans actifs")
    assert edited.before.title == "Les volcans" and edited.after.title == "Les volcans actifs"
    correction = collection.settings.seeds_dir / "corrections" / "volcans.txt.json"
    assert json.loads(correction.read_text(encoding="utf-8")) == {
        "date": "2024-03-05",
        "outlet": "Le Monde",
        "title": "Les volcans actifs",
    }
    assert (collection.settings.seeds_dir / "volcans.txt").read_text(encoding="utf-8") == VOLCANO
    assert collection.service.rebuild().unchanged == 1  # the digest counts the correction
    # A new index from the folder alone: the folder is the source of truth.
    settings = IndexSettings(
        seeds_dir=collection.settings.seeds_dir,
        data_dir=tmp_path / "elsewhere",
        embedding_model="hashing-128",
    )
    fresh = IndexService(settings)
    report = fresh.rebuild()
    assert (report.articles, report.problems) == (1, ())
    article = fresh.article("volcans")
    assert article is not None
    assert (article.title, article.outlet, article.published) == (
        "Les volcans actifs",
        "Le Monde",
        "2024-03-05",
    )
    # Removed, the correction goes to the trash with the file; a new file of that name
    # starts without it.
    collection.remove("volcans")
    trash = collection.settings.data_dir / "trash"
    assert sorted(p.name.split("-", 1)[1] for p in trash.iterdir()) == [
        "volcans.txt",
        "volcans.txt.json",
    ]
    collection.add_bytes("volcans.txt", GLACIER.encode())
    assert collection.service.article("volcans").title == "Les glaciers"  # type: ignore[union-attr]


def test_a_json_article_is_corrected_in_place(collection: ArticleCollection) -> None:
    record = {"title": "Les glaciers", "text": GLACIER.split("\n\n", 1)[1], "outlet": "AFP"}
    collection.add_bytes("glaciers.json", json.dumps(record).encode())
    collection.edit("glaciers", "outlet", "Le Temps")
    path = collection.settings.seeds_dir / "glaciers.json"
    assert json.loads(path.read_text(encoding="utf-8")) == {**record, "outlet": "Le Temps"}
    assert seed_names(collection) == ["glaciers.json", "volcans.txt"]  # no corrections folder
    assert collection.service.article("glaciers").outlet == "Le Temps"  # type: ignore[union-attr]


def test_an_edit_the_index_refuses_leaves_the_folder_as_it_was(
    collection: ArticleCollection, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(path: Path) -> None:
        raise IndexFailure("disk full")

    monkeypatch.setattr(collection.service, "add_file", broken)
    with pytest.raises(IndexFailure, match="disk full"):
        collection.edit("volcans", "title", "Les volcans actifs")
    assert not (collection.settings.seeds_dir / "corrections" / "volcans.txt.json").exists()
    assert collection.service.article("volcans").title == "Les volcans"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("title", "   ", "empty"),
        ("title", "x" * 201, "too_long"),
        ("outlet", "<script>alert(1)</script>", "markup"),
        ("title", "Les <b>volcans</b>", "markup"),
        ("title", "a\x00b", "control"),
        ("title", "a\x1fb", "control"),
        ("date", "n'importe quoi", "not_a_date"),
        ("date", "9999-12-31T23:59:59-23:59", "not_a_date"),  # year 10000 in UTC
        ("date", "2999-01-01", "future"),
    ],
)
def test_unusable_values_are_refused_with_their_reason(
    collection: ArticleCollection, field: str, value: str, reason: str
) -> None:
    with pytest.raises(EditRefused) as refused:
        collection.edit("volcans", field, value)
    assert refused.value.reason == reason
    assert seed_names(collection) == ["volcans.txt"]
    with pytest.raises(ArticleNotFoundError):
        collection.edit("nope", "title", "Un titre")


def test_a_damaged_correction_is_ignored_not_fatal(collection: ArticleCollection) -> None:
    folder = collection.settings.seeds_dir / "corrections"
    folder.mkdir()
    (folder / "volcans.txt.json").write_text('["not", "an object"]', encoding="utf-8")
    report = collection.service.rebuild()
    assert (report.articles, report.problems) == (1, ())
    assert collection.service.article("volcans").title == "Les volcans"  # type: ignore[union-attr]
