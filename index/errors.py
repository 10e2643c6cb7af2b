"""Exceptions the index raises; each message is one sentence a user or admin can act on."""

from __future__ import annotations

__all__ = [
    "ArticleLoadError",
    "BuildInProgressError",
    "IndexFailure",
    "IndexMissingError",
    "ModelMismatchError",
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
