"""Exceptions the index raises; each message is one sentence a user or admin can act on."""

from __future__ import annotations

import errno
import sqlite3

from index.reasons import ReasonError

__all__ = [
    "AnswerExpiredError",
    "AnswerOutOfDateError",
    "ArticleLoadError",
    "ArticleNotFoundError",
    "BuildInProgressError",
    "IndexFailure",
    "IndexMissingError",
    "ModelMismatchError",
    "PageSpentError",
    "ReaderKeyError",
    "StorageUnavailableError",
    "StorageWriteError",
    "is_storage_failure",
]


class IndexFailure(Exception):
    """Base of every error the index raises."""


class ArticleLoadError(IndexFailure, ReasonError):
    """A source file is not a usable article (empty, binary, badly encoded, unknown type);
    ``reason`` says why."""


class IndexMissingError(IndexFailure):
    """No index has been built yet."""


class ModelMismatchError(IndexFailure):
    """The index on disk was built with another embedding model or chunking."""


class BuildInProgressError(IndexFailure):
    """A rebuild is already running."""


class ArticleNotFoundError(IndexFailure):
    """No article has this id."""


class AnswerExpiredError(IndexFailure):
    """The answer a button refers to is no longer kept (evicted, or the bot restarted)."""


class PageSpentError(IndexFailure):
    """The "More" of this answer was already used: its next passages are shown."""


class AnswerOutOfDateError(IndexFailure):
    """The article a quote came from changed or went away since the answer was given."""


class ReaderKeyError(IndexFailure):
    """The readers' key (READERS_KEY or DATA_DIR/readers.key) is missing, malformed, or not the
    one the readers' records were written with."""


class StorageWriteError(IndexFailure):
    """A change could not be written (a full or failing disk); it was rolled back."""


class StorageUnavailableError(StorageWriteError):
    """The database cannot be reached (down, the connection lost, no connection free in time),
    or failed as a database rather than on the data; nothing was changed. Not the article's
    fault: a feed's poll stops there and tries the entry again at the next one."""


def is_storage_failure(error: BaseException) -> bool:
    """Whether a write failed for lack of room or a failing disk: SQLite says it in words, the
    OS in errno (EFBIG too: a file size limit stops a write as a full disk does)."""
    if isinstance(error, sqlite3.OperationalError):
        return "disk is full" in str(error) or "disk I/O error" in str(error)
    return isinstance(error, OSError) and error.errno in (
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EFBIG,
        errno.EIO,
    )
