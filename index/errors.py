"""Exceptions the index raises; each message is one sentence a user or admin can act on."""

from __future__ import annotations

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
]


class IndexFailure(Exception):
    """Base of every error the index raises."""


class ArticleLoadError(IndexFailure):
    """A source file is not a usable article (empty, binary, badly encoded, unknown type)."""


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
