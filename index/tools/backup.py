"""``python -m index backup PATH`` and ``restore PATH``: DATA_DIR and SEEDS_DIR in one tar file.

A backup holds every SQLite database at the top of DATA_DIR (the embedded index
``index.sqlite``, the embedding cache ``embeddings.sqlite``, the readers' records
``readers.sqlite``, the feeds' registry ``feeds.sqlite``), the readers' key
(``readers.key``), the trash of /remove and the articles folder (SEEDS_DIR, corrections
included). Each database is copied with SQLite's online backup API in one step: one read
transaction, so the copy is that database at one moment, and the bot's writers are not held up
(the databases are in WAL mode). The articles are copied after the databases: an article added
or removed meanwhile is in the folder but not yet in the index, or the reverse, and the first
start after a restore takes the folder in (``IndexService.catch_up``), as after any crash.

Left out: ``models/`` (the ONNX conversion of the bundled model, made again at the first start),
lock files and the temporary ``.*.partial`` files of uploads under way.

The restore refuses a DATA_DIR that holds anything but ``models/``, and a SEEDS_DIR holding a
file that the backup does not hold byte for byte, unless ``force``; with ``force`` their content
is replaced. Every member is checked against the manifest (size and SHA-256) before anything
is written.

>>> [member_problem(n) for n in ("data/index.sqlite", "../etc/passwd", "articles/a/../../x")]
[None, 'a path outside the backup', 'a path outside the backup']
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import sqlite3
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any

from index.errors import IndexFailure
from index.stores.reader_key import KEY_FILE

__all__ = [
    "FORMAT",
    "BackupError",
    "BackupReport",
    "RestoreReport",
    "member_problem",
    "restore_backup",
    "take_backup",
]

FORMAT = 1
MANIFEST = "manifest.json"
DATA = "data"
ARTICLES = "articles"
TRASH = "trash"
MODELS = "models"  # the model's conversion: made again at the first start, never backed up
_CHUNK = 1 << 20


class BackupError(IndexFailure):
    """A backup cannot be taken or restored; the message says what to do."""


@dataclass(frozen=True)
class _Contents:
    """What a backup holds: its databases, whether the readers' key, how many files."""

    databases: tuple[str, ...]
    key_file: bool
    articles: int
    trash: int


@dataclass(frozen=True)
class BackupReport(_Contents):
    """What a backup holds, its size and how long it took."""

    bytes: int
    seconds: float


@dataclass(frozen=True)
class RestoreReport(_Contents):
    """What a restore wrote, and when the backup was taken."""

    created_at: str


# -- taking a backup ------------------------------------------------------------------------------


def take_backup(data_dir: Path, seeds_dir: Path, target: Path | IO[bytes]) -> BackupReport:
    """Copy DATA_DIR's databases, key and trash, then SEEDS_DIR, into a tar file.

    Args:
        data_dir: DATA_DIR of the bot (it may be serving meanwhile).
        seeds_dir: SEEDS_DIR, the articles folder.
        target: a file path (``.tar``, or ``.tar.gz`` / ``.tgz`` compressed) that must not exist
            yet, or a binary stream (standard output).

    Returns:
        What the backup holds.

    Raises:
        BackupError: DATA_DIR or SEEDS_DIR is missing, the target exists or cannot be written,
            or a database cannot be read.
    """
    started = time.perf_counter()
    if not data_dir.is_dir():
        raise BackupError(f"DATA_DIR {data_dir} is not a folder: nothing to back up")
    if not seeds_dir.is_dir():
        raise BackupError(f"SEEDS_DIR {seeds_dir} is not a folder: nothing to back up")
    if isinstance(target, Path):
        _check_target(target)
    with tempfile.TemporaryDirectory(prefix="index-backup-") as staging_name:
        staging = Path(staging_name)
        databases = _snapshot_databases(data_dir, staging / DATA)
        key_file = _copy_key(data_dir, staging / DATA)
        trash = _copy_tree(data_dir / TRASH, staging / DATA / TRASH)
        articles = _copy_tree(seeds_dir, staging / ARTICLES)
        manifest = _manifest(staging, databases, key_file)
        if isinstance(target, Path):
            size = _write_file(staging, manifest, target)
        else:
            counted = _Counting(target)
            _write_tar(staging, manifest, counted, "w|")
            size = counted.written
    return BackupReport(
        tuple(databases), key_file, articles, trash, size, time.perf_counter() - started
    )


def _check_target(target: Path) -> None:
    if target.exists():
        raise BackupError(f"{target} exists already: give a new file name (nothing was written)")
    if not target.parent.is_dir():
        raise BackupError(f"{target.parent} is not a folder: create it first")


def _snapshot_databases(data_dir: Path, folder: Path) -> list[str]:
    """Each ``*.sqlite`` file at the top of ``data_dir`` copied at one moment into ``folder``."""
    folder.mkdir(parents=True)
    names: list[str] = []
    for source in sorted(data_dir.glob("*.sqlite")):
        if not source.is_file():
            continue
        try:
            _snapshot(source, folder / source.name)
        except sqlite3.Error as exc:
            raise BackupError(f"could not copy {source}: {exc} (nothing was written)") from exc
        names.append(source.name)
    return names


def _snapshot(source: Path, target: Path) -> None:
    """SQLite's online backup in one step (``pages=-1``): one read transaction, so the copy is
    the database at one moment; in WAL mode the writers go on meanwhile. A copy made step by
    step would start again at every write of another connection, forever under load."""
    src = sqlite3.connect(source, timeout=60)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
            # The copy alone, without a -wal beside it: readable wherever it is restored.
            dst.execute("PRAGMA journal_mode = DELETE")
            check = dst.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            dst.close()
    finally:
        src.close()
    if check != "ok":
        raise sqlite3.DatabaseError(f"the copy fails SQLite's check: {check}")


def _copy_key(data_dir: Path, folder: Path) -> bool:
    source = data_dir / KEY_FILE
    if not source.is_file():
        return False
    shutil.copyfile(source, folder / KEY_FILE)
    return True


def _copy_tree(source: Path, target: Path) -> int:
    """Regular files of ``source`` (recursively; dot files, such as uploads being written,
    left out) into ``target``; how many. A file gone meanwhile (an article removed) is skipped."""
    target.mkdir(parents=True, exist_ok=True)
    count = 0
    for path in _files(source):
        relative = path.relative_to(source)
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copyfile(path, destination)
        except FileNotFoundError:
            continue
        count += 1
    return count


def _files(folder: Path) -> Iterator[Path]:
    if not folder.is_dir():
        return
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.is_symlink():
            continue
        if path.is_dir():
            yield from _files(path)
        elif path.is_file():
            yield path


def _manifest(staging: Path, databases: list[str], key_file: bool) -> dict[str, Any]:
    files = {
        path.relative_to(staging).as_posix(): {"bytes": path.stat().st_size, "sha256": _sha(path)}
        for path in _files(staging)
    }
    return {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "databases": databases,
        "key_file": key_file,
        "files": files,
    }


def _sha(path: Path) -> str:
    with path.open("rb") as handle:
        return _stream_sha(handle)


def _stream_sha(handle: IO[bytes]) -> str:
    """The SHA-256 of what is left in a binary stream, read a block at a time."""
    digest = hashlib.sha256()
    while block := handle.read(_CHUNK):
        digest.update(block)
    return digest.hexdigest()


def _write_file(staging: Path, manifest: dict[str, Any], target: Path) -> int:
    """The tar under a temporary name, then moved into place: a failed backup leaves no file
    that looks like one."""
    mode = "w:gz" if target.name.endswith((".gz", ".tgz")) else "w"
    partial = target.with_name(f".{target.name}.partial")
    try:
        with partial.open("wb") as handle:
            _write_tar(staging, manifest, handle, mode)
            handle.flush()
            os.fsync(handle.fileno())
        partial.replace(target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(f"could not write {target}: {exc}") from exc
    return target.stat().st_size


def _write_tar(staging: Path, manifest: dict[str, Any], stream: Any, mode: str) -> None:
    """The manifest first (a restore reads it before anything else), then every file."""
    with tarfile.open(fileobj=stream, mode=mode) as archive:  # type: ignore[call-overload]
        data = json.dumps(manifest, indent=1).encode()
        info = tarfile.TarInfo(MANIFEST)
        info.size = len(data)
        info.mtime = int(time.time())
        archive.addfile(info, io.BytesIO(data))
        for name in manifest["files"]:
            archive.add(staging / name, arcname=name, recursive=False)


class _Counting:
    """A write-only stream (for tarfile's stream mode) that counts what goes through it."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.written = 0

    def write(self, data: bytes) -> int:
        self.stream.write(data)
        self.written += len(data)
        return len(data)

    def flush(self) -> None:
        self.stream.flush()


# -- restoring ------------------------------------------------------------------------------------


def restore_backup(
    source: Path | IO[bytes], data_dir: Path, seeds_dir: Path, *, force: bool = False
) -> RestoreReport:
    """Write a backup into DATA_DIR and SEEDS_DIR; every member is checked first.

    Args:
        source: the backup file, or a binary stream (standard input), read to a temporary
            file first.
        data_dir: DATA_DIR to restore into: missing or empty (``models/`` may be there).
        seeds_dir: SEEDS_DIR: missing, empty, or holding only files the backup holds alike.
        force: replace the content of a DATA_DIR or SEEDS_DIR that is not so (``models/``
            is kept).

    Returns:
        What was restored.

    Raises:
        BackupError: the source is missing, empty, not a backup, damaged, or the folders are
            not fresh and ``force`` is not given.
    """
    with _opened(source) as archive:
        manifest = _read_manifest(archive)
        members = _checked_members(archive, manifest)
        _check_folders(data_dir, seeds_dir, archive, members, force)
        if force:
            _clear(data_dir, keep={MODELS})
            _clear(seeds_dir, keep=set())
        _extract(archive, members, data_dir, seeds_dir)
    files = list(manifest["files"])
    return RestoreReport(
        tuple(manifest["databases"]),
        bool(manifest["key_file"]),
        sum(1 for n in files if n.startswith(f"{ARTICLES}/")),
        sum(1 for n in files if n.startswith(f"{DATA}/{TRASH}/")),
        str(manifest["created_at"]),
    )


@contextlib.contextmanager
def _opened(source: Path | IO[bytes]) -> Iterator[tarfile.TarFile]:
    with contextlib.ExitStack() as stack:
        if isinstance(source, Path):
            if not source.exists():
                raise BackupError(f"{source} does not exist")
            if not source.is_file():
                raise BackupError(f"{source} is not a file: give the backup's tar file")
            if source.stat().st_size == 0:
                raise BackupError(f"{source} is empty: not a backup")
            handle: IO[bytes] = stack.enter_context(source.open("rb"))
            name = str(source)
        else:
            handle = stack.enter_context(tempfile.TemporaryFile(prefix="index-restore-"))
            shutil.copyfileobj(source, handle, _CHUNK)
            if handle.tell() == 0:
                raise BackupError("standard input is empty: not a backup")
            handle.seek(0)
            name = "standard input"
        try:
            archive = stack.enter_context(tarfile.open(fileobj=handle, mode="r:*"))
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise BackupError(f"{name} is not a backup (not a tar file: {exc})") from exc
        yield archive


def _read_manifest(archive: tarfile.TarFile) -> dict[str, Any]:
    try:
        member = archive.getmember(MANIFEST)
        handle = archive.extractfile(member)
        if handle is None:
            raise KeyError(MANIFEST)
        manifest = json.loads(handle.read(1_000_000_000))
    except KeyError as exc:
        raise BackupError(
            "not a backup of python -m index backup: it has no manifest.json"
        ) from exc
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
        raise BackupError(
            f"the backup is damaged or cut short: its manifest.json cannot be read ({exc})"
        ) from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise BackupError("the backup's manifest.json is not a manifest of python -m index backup")
    if manifest.get("format") != FORMAT:
        raise BackupError(
            f"the backup is in format {manifest.get('format')!r}; this version reads format "
            f"{FORMAT}: restore it with the version that made it"
        )
    for key in ("databases", "key_file", "created_at"):
        if key not in manifest:
            raise BackupError(f"the backup's manifest.json lacks {key!r}")
    return manifest


def member_problem(name: str) -> str | None:
    """Why a member name cannot be restored, or None: only relative paths under ``data/`` or
    ``articles/``, without ``..``.

    >>> member_problem("articles/corrections/a.txt.json"), member_problem("/data/x")
    (None, 'a path outside the backup')
    """
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        return "a path outside the backup"
    if path.parts[0] not in (DATA, ARTICLES) or len(path.parts) < 2:
        return "a path outside the backup"
    return None


def _checked_members(archive: tarfile.TarFile, manifest: dict[str, Any]) -> list[tarfile.TarInfo]:
    """Every member but the manifest: a regular file, listed, of its size and SHA-256."""
    expected: dict[str, Any] = manifest["files"]
    members: list[tarfile.TarInfo] = []
    seen: set[str] = set()
    try:
        for member in archive.getmembers():
            if member.name == MANIFEST:
                continue
            problem = member_problem(member.name)
            if problem is None and not member.isfile():
                problem = "not a regular file (a link or a device)"
            if problem is None and member.name not in expected:
                problem = "not in the manifest"
            if problem is not None:
                raise BackupError(f"the backup's member {member.name!r} is refused: {problem}")
            wanted = expected[member.name]
            if member.size != wanted.get("bytes") or _member_sha(archive, member) != wanted.get(
                "sha256"
            ):
                raise BackupError(
                    f"the backup is damaged: {member.name} is not what it was when the backup "
                    "was taken"
                )
            members.append(member)
            seen.add(member.name)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise BackupError(f"the backup is damaged or cut short: {exc}") from exc
    missing = sorted(set(expected) - seen)
    if missing:
        raise BackupError(
            f"the backup is incomplete: {len(missing)} files missing, such as {missing[0]}"
        )
    return members


def _member_sha(archive: tarfile.TarFile, member: tarfile.TarInfo) -> str:
    handle = archive.extractfile(member)
    if handle is None:
        raise BackupError(f"the backup's member {member.name!r} cannot be read")
    return _stream_sha(handle)


def _check_folders(
    data_dir: Path,
    seeds_dir: Path,
    archive: tarfile.TarFile,
    members: list[tarfile.TarInfo],
    force: bool,
) -> None:
    if data_dir.exists() and not data_dir.is_dir():
        raise BackupError(f"DATA_DIR {data_dir} is not a folder")
    if seeds_dir.exists() and not seeds_dir.is_dir():
        raise BackupError(f"SEEDS_DIR {seeds_dir} is not a folder")
    if force:
        return
    if data_dir.is_dir():
        held = sorted(p.name for p in data_dir.iterdir() if p.name != MODELS)
        if held:
            raise BackupError(
                f"DATA_DIR {data_dir} is not empty (it holds {held[0]}{', …' if held[1:] else ''}):"
                " restore into a new one, or add --force to replace its content"
            )
    articles = {
        m.name.removeprefix(f"{ARTICLES}/"): m for m in members if m.name.startswith(f"{ARTICLES}/")
    }
    for path in _all_files(seeds_dir):
        relative = path.relative_to(seeds_dir).as_posix()
        member = articles.get(relative)
        if member is None or _member_sha(archive, member) != _sha(path):
            raise BackupError(
                f"SEEDS_DIR {seeds_dir} holds {relative}, which the backup does not hold as it "
                "is: restore into an empty one, or add --force to replace its content"
            )


def _all_files(folder: Path) -> Iterator[Path]:
    if folder.is_dir():
        yield from (p for p in sorted(folder.rglob("*")) if p.is_file() or p.is_symlink())


def _clear(folder: Path, keep: set[str]) -> None:
    if not folder.is_dir():
        return
    for path in folder.iterdir():
        if path.name in keep:
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()


def _extract(
    archive: tarfile.TarFile, members: list[tarfile.TarInfo], data_dir: Path, seeds_dir: Path
) -> None:
    """Each member to its place, under a temporary name then moved: a restore cut short
    leaves whole files only (run it again with --force)."""
    for member in members:
        top, _, rest = member.name.partition("/")
        destination = (data_dir if top == DATA else seeds_dir) / rest
        destination.parent.mkdir(parents=True, exist_ok=True)
        handle = archive.extractfile(member)
        if handle is None:  # checked already
            raise BackupError(f"the backup's member {member.name!r} cannot be read")
        partial = destination.with_name(f".{destination.name}.partial")
        try:
            with partial.open("wb") as out:
                shutil.copyfileobj(handle, out, _CHUNK)
            if destination.name == KEY_FILE and destination.parent == data_dir:
                partial.chmod(0o600)  # the key that ties hashes to chat ids: its owner only
            partial.replace(destination)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise BackupError(
                f"could not write {destination}: {exc} (run the restore again with --force)"
            ) from exc


def describe(report: _Contents) -> str:
    """One line for the command line."""
    databases = ", ".join(report.databases) or "no database"
    key = "readers.key" if report.key_file else "no readers.key"
    return f"{databases}; {key}; {report.articles} article files; {report.trash} in the trash"


def stdout_is_terminal() -> bool:
    """A binary backup is not written to a terminal (it would be garbled and lost)."""
    return sys.stdout.isatty()
