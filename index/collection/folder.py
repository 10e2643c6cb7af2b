"""The articles folder (SEEDS_DIR) and the index, changed together: add, remove, sync.

Every change goes to both or to neither: an added file that cannot be indexed is not kept,
a removed article's file goes to ``DATA_DIR/trash/`` (nothing is deleted) and comes back if
the index cannot drop it. Shared by the bot's admin commands, the command line and feeds.
Blocking: run it off the event loop, one change at a time (the service refuses a second).

>>> collection = ArticleCollection(settings, service)  # doctest: +SKIP
>>> collection.add_bytes("volcan.txt", b"Le volcan\\n\\nIl fume.").article.id  # doctest: +SKIP
'volcan'
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from index.collection.wire import WireIndex
from index.errors import (
    ArticleLoadError,
    ArticleNotFoundError,
    StorageWriteError,
    is_storage_failure,
)
from index.ingest.corrections import (
    EDIT_FIELDS,
    MAX_EDIT_CHARS,
    EditRefused,
    check_value,
    correct,
    correction_path,
)
from index.ingest.fetch import FetchError, fetch_url, filename_for_url
from index.ingest.loader import (
    SUPPORTED_SUFFIXES,
    article_from_bytes,
    article_id_for,
    safe_filename,
    source_file_digest,
)
from index.models import Article, LoadProblem
from index.reasons import Reason
from index.retrieval.indexer import SyncReport
from index.service import IndexService, ProgressCallback
from index.settings import IndexSettings

__all__ = [
    "EDIT_FIELDS",
    "MAX_EDIT_CHARS",
    "SUPPORTED_SUFFIXES",
    "Added",
    "ArticleCollection",
    "EditRefused",
    "Edited",
    "FetchError",
    "Removed",
    "find_article_file",
    "move_to_trash",
    "post_article",
    "save_unique",
    "with_source",
]

# A forwarded post shorter than this once its links are removed is about its link: the linked
# page is the article.
MIN_POST_CHARS = 200
_MAX_POST_TITLE = 150

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Added:
    """An article now in SEEDS_DIR and in the index."""

    article: Article
    passages: int  # passages written (0 when unchanged)
    path: Path
    created: bool  # False: the very same file was already there
    # Articles already indexed that carry the same story (wire copies, ``index.collection.wire``).
    copies: tuple[Article, ...] = ()
    # The collection had it already (the same title and text, or the same file as indexed):
    # nothing was saved or written, ``article`` is the one it had.
    unchanged: bool = False


@dataclass(frozen=True, slots=True)
class Edited:
    """An article's metadata corrected (``/edit``), before and after."""

    before: Article
    after: Article
    field: str


@dataclass(frozen=True, slots=True)
class Removed:
    """An article taken out of the index; its file, if it had one, is in the trash."""

    article: Article
    trashed: Path | None


class ArticleCollection:
    """SEEDS_DIR and the index kept in step."""

    def __init__(
        self, settings: IndexSettings, service: IndexService, find_copies: bool = True
    ) -> None:
        """Keep SEEDS_DIR and ``service``'s index in step.

        Args:
            settings: SEEDS_DIR, DATA_DIR (its trash) and the upload and fetch limits.
            service: The index the articles go into.
            find_copies: Whether an add names the articles that carry the same story (wire
                copies), which costs every article's fingerprint once per process.
        """
        self.settings = settings
        self.service = service
        # Naming an add's wire copies needs every article's fingerprint, made once per process
        # (3 s at 3,820 articles): worth it in the bot, not in a one-shot ``index add``.
        self.find_copies = find_copies
        self._wire: WireIndex | None = None
        self._wire_lock = threading.Lock()
        # Which article has a title and text (their sha256), to tell an article sent again:
        # made at first use (reading every article's hashes once), then kept up by each add
        # and /edit here; an entry another process made stale is checked against the index.
        self._by_text: dict[str, str] | None = None

    def wire_index(self) -> WireIndex:
        """The articles' wire fingerprints, made from the index at first use (3,820 articles:
        about 3 s; the bot starts it in the background), then kept in step with each change
        made here. Changes through another process are seen at its next start."""
        with self._wire_lock:
            if self._wire is None:
                wire = WireIndex()
                for article in self.service.articles():
                    wire.add(article.id, f"{article.title}\n\n{article.text}")
                self._wire = wire
            return self._wire

    def add_bytes(self, filename: str, data: bytes, url: str | None = None) -> Added:
        """Check an article file, save it under a free safe name, and index it.

        An article the collection has already (the same title and text under any name) is
        not saved again: ``unchanged``.

        Args:
            filename: The file's name as sent; its suffix says its format.
            data: The file's bytes.
            url: The page it came from, kept with the article; None when it has none.

        Returns:
            The article added (or the one the collection had), with its file and copies.

        Raises:
            ArticleLoadError: The bytes are not a usable article; nothing is saved.
            StorageWriteError: The file could not be written (a full disk).
        """
        parsed = article_from_bytes(filename, data, url, self.settings.max_upload_bytes)
        same = self._same_text(parsed)
        if same is not None:
            logger.info("%s is already in the collection as %s", filename, same.id)
            return Added(same, 0, Path(same.source_path or filename), False, unchanged=True)
        try:
            path, created = save_unique(
                self.settings.seeds_dir, safe_filename(filename), data, self._id_owner
            )
        except OSError as exc:
            if not is_storage_failure(exc):
                raise
            raise StorageWriteError(
                f"cannot write to {self.settings.seeds_dir} (is the disk full?): the article "
                "was not saved"
            ) from exc
        if not created:
            indexed = self.service.article(article_id_for(path))
            if indexed is not None and indexed.source_sha256 == source_file_digest(path, data):
                return Added(indexed, 0, path, False, unchanged=True)  # its /edit included
        else:
            self._trash_stale_correction(path)
        try:
            article, passages = self.service.add_file(path)
        except BaseException:
            if created:
                path.unlink(missing_ok=True)  # a file that is not indexed is not kept
            raise
        logger.info("added %s as %s (%d passages)", article.id, path.name, passages)
        self._knows(article)
        if not self.find_copies:
            return Added(article, passages, path, created)
        wire = self.wire_index()
        text = f"{article.title}\n\n{article.text}"
        found = [self.service.article(c.article_id) for c in wire.copies(text, {article.id})]
        wire.add(article.id, text)
        copies = tuple(a for a in found if a is not None)
        return Added(article, passages, path, created, copies)

    async def fetch(self, url: str) -> tuple[str, bytes]:
        """A web page's article as a JSON article file ready for ``add_bytes``.

        The JSON keeps the page's URL, so it survives every reindex.

        Args:
            url: The page's address (http or https).

        Returns:
            The file's name and bytes.

        Raises:
            FetchError: The page cannot be had (refused address, timeout, too large).
            ArticleLoadError: The page holds no article.
        """
        settings = self.settings
        page = await fetch_url(
            url,
            settings.fetch_timeout,
            settings.max_upload_bytes,
            allow_private=settings.fetch_private_addresses,
        )
        fetched_name = filename_for_url(page.url, page.suffix)
        article = await asyncio.to_thread(
            article_from_bytes, fetched_name, page.data, page.url, settings.max_upload_bytes
        )
        return str(PurePosixPath(fetched_name).with_suffix(".json")), _as_json(article, page.url)

    def add_files(self, paths: list[Path]) -> tuple[list[Added], list[LoadProblem]]:
        """Add several files (the command line); one that cannot be added is reported, not fatal.

        Args:
            paths: The article files, anywhere: each is copied into SEEDS_DIR.

        Returns:
            The articles added, and the files that could not be, with why.
        """
        added: list[Added] = []
        problems: list[LoadProblem] = []
        for path in paths:
            try:
                if path.stat().st_size > self.settings.max_upload_bytes:
                    raise ArticleLoadError(Reason("upload_too_large"))
                added.append(self.add_bytes(path.name, path.read_bytes()))
            except ArticleLoadError as exc:
                problems.append(LoadProblem(str(path), exc.reason))
            except OSError as exc:
                reason = Reason("unreadable_file", {"error": str(exc.strerror)})
                problems.append(LoadProblem(str(path), reason))
        return added, problems

    def remove(self, article_id: str) -> Removed:
        """Move the article's file to the trash, then drop it from the index.

        Args:
            article_id: The article's id.

        Returns:
            The article removed and where its file went.

        Raises:
            ArticleNotFoundError: No article has this id (its file, if any, stays put).
        """
        removed, missing = self.remove_many([article_id])
        if missing:
            raise ArticleNotFoundError(f"no article has the id {article_id!r}")
        return removed[0]

    def remove_many(self, article_ids: Sequence[str]) -> tuple[list[Removed], list[str]]:
        """Move the articles' files (and corrections) to the trash, then drop them from the
        index in one write.

        Args:
            article_ids: The articles' ids; repeated ones count once.

        Returns:
            The articles removed, and the ids no article has (nothing done for them).
        """
        settings = self.settings
        found = [i for i in dict.fromkeys(article_ids) if self.service.article(i) is not None]
        missing = [i for i in dict.fromkeys(article_ids) if i not in found]
        moved: list[tuple[Path, Path]] = []  # (where it was, where it is in the trash)
        trashed: dict[str, Path | None] = {}
        try:
            for article_id in found:
                source = self._indexed_file(article_id) or find_article_file(
                    settings.seeds_dir, article_id
                )
                trashed[article_id] = None
                if source is None:
                    continue
                correction = correction_path(source)
                if correction.is_file():
                    moved.append(
                        (correction, move_to_trash(correction, settings.data_dir / "trash"))
                    )
                trash = move_to_trash(source, settings.data_dir / "trash")
                trashed[article_id] = trash
                moved.append((source, trash))
            articles = self.service.remove_many(found) if found else []
        except BaseException:
            for where, trash in reversed(moved):  # the index still has them: put them back
                shutil.move(str(trash), str(where))
            raise
        for article in articles:
            logger.info("removed %s; file in %s", article.id, trashed[article.id])
            if self._wire is not None:
                self._wire.remove(article.id)
        return [Removed(a, trashed[a.id]) for a in articles], missing

    def edit(self, article_id: str, field: str, value: str, now: datetime | None = None) -> Edited:
        """Correct an article's title, date or outlet where its file is
        (``index.ingest.corrections``) and index it again: one write, its text unchanged, so nothing
        but a new title's passages is embedded.

        Args:
            article_id: The article's id.
            field: What is corrected: "title", "date" or "outlet".
            value: The new value as the admin wrote it.
            now: The moment a date is checked against (none in the future); None for the
                clock's.

        Returns:
            The article before and after.

        Raises:
            EditRefused: The value cannot be used for this field.
            ArticleNotFoundError: No article has this id.
            ArticleLoadError: The article has no file in SEEDS_DIR.
        """
        stored = check_value(field, value, now or datetime.now(UTC))
        before = self.service.article(article_id)
        if before is None:
            raise ArticleNotFoundError(f"no article has the id {article_id!r}")
        source = self._indexed_file(article_id) or find_article_file(
            self.settings.seeds_dir, article_id
        )
        if source is None:
            raise ArticleLoadError(
                Reason("no_source_file", {"folder": self.settings.seeds_dir.name})
            )
        undo = correct(source, field, stored)
        try:
            after, _ = self.service.add_file(source)
        except BaseException:
            undo()  # the file says again what the index says
            raise
        logger.info("corrected the %s of %s: %r", field, article_id, stored)
        self._knows(after)
        if self._wire is not None:
            self._wire.remove(article_id)
            self._wire.add(article_id, f"{after.title}\n\n{after.text}")
        return Edited(before, after, field)

    def _same_text(self, article: Article) -> Article | None:
        """An indexed article with ``article``'s very title and text, if any (one lookup)."""
        with self._wire_lock:
            if self._by_text is None:
                sources = self.service.store.sources().values()
                self._by_text = {source.sha256: source.article_id for source in sources}
            known = self._by_text.get(article.sha256)
        found = self.service.article(known) if known is not None else None
        return found if found is not None and found.sha256 == article.sha256 else None

    def _knows(self, article: Article) -> None:
        """Keep ``_same_text``'s map up with an article just written."""
        with self._wire_lock:
            if self._by_text is not None:
                self._by_text[article.sha256] = article.id

    def _trash_stale_correction(self, path: Path) -> None:
        """A new file under a name whose article went by hand leaves its correction: trashed,
        so that it does not apply to another article."""
        correction = correction_path(path)
        if correction.is_file():
            trashed = move_to_trash(correction, self.settings.data_dir / "trash")
            logger.info("a correction of an earlier %s moved to %s", path.name, trashed)

    def _indexed_file(self, article_id: str) -> Path | None:
        """The file the index says the article came from, if it is still in SEEDS_DIR: one
        lookup, where scanning the folder costs its size."""
        article = self.service.article(article_id)
        if article is None or not article.source_path:
            return None
        path = Path(article.source_path)
        folder = self.settings.seeds_dir
        same_folder = path.parent.resolve() == folder.resolve()
        return (
            path if same_folder and path.is_file() and article_id_for(path) == article_id else None
        )

    def _id_owner(self, article_id: str) -> Path | None:
        """Which file of SEEDS_DIR gives this article id, as far as the index knows."""
        return self._indexed_file(article_id)

    def sync(self, progress: ProgressCallback | None = None) -> SyncReport:
        """Make the index match SEEDS_DIR (a reindex).

        Args:
            progress: Told each stage's progress; None to tell nothing.

        Returns:
            What changed.
        """
        report = self.service.rebuild(progress)
        with self._wire_lock:
            self._wire = None  # made again from the new index at its next use
            self._by_text = None
        return report


def post_article(
    text: str, *, outlet: str, published: str | None, url: str | None, name: str
) -> tuple[str, bytes]:
    """A forwarded post (a channel's, a chat's) as a JSON article file: its first line is the
    title when it is short and more follows, else the outlet is; the post's date and link kept.

    Args:
        text: The post's text.
        outlet: Who posted it (the channel's or the sender's name).
        published: When it was posted (ISO 8601); None when unknown.
        url: The post's link; None when it has none (a private chat's).
        name: The file's name without suffix.

    Returns:
        The file's name and bytes.

    >>> name, data = post_article("Grève\\n\\nLes enseignants cessent le travail.",
    ...     outlet="Le Canal", published="2026-11-30T08:00:00Z", url=None, name="le-canal-12")
    >>> name, json.loads(data)["title"]
    ('le-canal-12.json', 'Grève')
    """
    lines = text.strip().split("\n", 1)
    first, rest = lines[0].strip(), (lines[1].strip() if len(lines) > 1 else "")
    if rest and len(first) <= _MAX_POST_TITLE:
        title, body = first, rest
    else:
        title, body = outlet, text.strip()
    record = {"title": title, "url": url, "date": published, "outlet": outlet, "text": body}
    clean = {key: value for key, value in record.items() if value}
    return safe_filename(f"{name}.json"), json.dumps(clean, ensure_ascii=False, indent=1).encode()


def with_source(
    data: bytes, outlet: str | None, published: str | None, feed: str | None = None
) -> bytes:
    """A fetched page's JSON article with a post's or feed's outlet and date where the page
    gives none (a bare host name is no outlet), and the feed it came from."""
    record = json.loads(data)
    if feed:
        record["feed"] = feed
    url = str(record.get("url") or "")
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    if outlet and record.get("outlet") in (None, "", host):
        record["outlet"] = outlet
    if published and not record.get("date"):
        record["date"] = published
    return json.dumps(record, ensure_ascii=False, indent=1).encode()


def _as_json(article: Article, url: str) -> bytes:
    """The extracted article as a JSON seed file, so its URL survives every reindex."""
    record: dict[str, object] = {"title": article.title, "url": article.url or url}
    for key in ("date", "outlet", "feed"):
        if getattr(article, key):
            record[key] = getattr(article, key)
    if article.tags:
        record["tags"] = list(article.tags)
    record["text"] = article.text
    return json.dumps(record, ensure_ascii=False, indent=1).encode()


def save_unique(
    folder: Path,
    filename: str,
    data: bytes,
    owner_of: Callable[[str], Path | None] | None = None,
) -> tuple[Path, bool]:
    """Write ``data`` as ``folder/filename`` without ever overwriting a different file.

    A taken name (or one whose article id is taken) gets a numeric suffix: ``a-2.txt``.
    Returns the path and whether it was created (False: the same bytes were already there).
    A failed write leaves nothing behind. ``owner_of`` says which file holds an article id
    (the index knows, in one lookup); without it the folder is scanned.
    """
    folder.mkdir(parents=True, exist_ok=True)
    stem, suffix = PurePosixPath(filename).stem, PurePosixPath(filename).suffix
    if owner_of is None:
        taken = {article_id_for(p): p for p in folder.iterdir() if p.is_file()}
        owner_of = taken.get
    for n in range(1, 10_000):
        candidate = folder / (filename if n == 1 else f"{stem}-{n}{suffix}")
        owner = candidate if candidate.is_file() else owner_of(article_id_for(candidate))
        if owner is not None:
            if owner == candidate and owner.read_bytes() == data:
                return candidate, False
            continue
        temporary = folder / f".{candidate.name}.{os.getpid()}.partial"
        try:
            temporary.write_bytes(data)
            os.link(temporary, candidate)  # fails if the name appeared meanwhile: no overwrite
        except FileExistsError:
            continue
        finally:
            temporary.unlink(missing_ok=True)
        return candidate, True
    raise FileExistsError(f"no free name for {filename} in {folder}")


def find_article_file(folder: Path, article_id: str) -> Path | None:
    """The file of SEEDS_DIR that gives the article ``article_id``, if any."""
    if not folder.is_dir():
        return None
    for path in sorted(folder.iterdir()):
        if (
            path.is_file()
            and not path.name.startswith(".")
            and path.suffix.lower() in SUPPORTED_SUFFIXES
            and article_id_for(path) == article_id
        ):
            return path
    return None


def move_to_trash(path: Path, trash: Path) -> Path:
    """Move a file to ``trash/<timestamp>-<name>`` (nothing is deleted); returns where."""
    trash.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    target = trash / f"{stamp}-{path.name}"
    n = 1
    while target.exists():
        n += 1
        target = trash / f"{stamp}-{n}-{path.name}"
    shutil.move(str(path), str(target))
    return target
