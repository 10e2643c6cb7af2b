"""The index: articles in, quotes out. What bot/ (and any other client) uses is exported here.

The facades: ``IndexService`` (ask, build, add, remove, stats), ``ArticleCollection`` (SEEDS_DIR
and the index changed together), ``ChatSession`` (a chat's pages, follow-ups and votes),
``FeedRegistry`` and ``poll_feed`` (feeds), ``IndexSettings``; then the plain data they take and
return, and the errors they raise. tests/test_layout.py checks that bot/ imports nothing else.

Packages: ``index.ingest`` (articles in), ``index.retrieval`` (chunks, embeddings, search,
confidence), ``index.stores`` (the index's and the readers' stores), ``index.chat``
(conversations), ``index.collection`` (changes, feeds, wire copies), ``index.tools`` (the
command line, evaluation, calibration).

>>> import index
>>> "IndexService" in index.__all__
True
"""

from __future__ import annotations

from index.chat.gaps import MAX_READ, GapGroup, RatedGroup, group_disliked, group_gaps
from index.chat.overview import ArticleLead, asks_about_collection, listed_period
from index.chat.session import KEY_PATTERN, ChatSession, Page, scope_filters
from index.chat.smalltalk import SmallTalk, small_talk
from index.collection.feed_registry import Feed, FeedError, FeedNews, FeedRegistry, Tried
from index.collection.feeds import FeedBusy, PollReport, failed, poll_feed
from index.collection.folder import (
    MIN_POST_CHARS,
    Added,
    ArticleCollection,
    Removed,
    post_article,
    with_source,
)
from index.errors import (
    AnswerExpiredError,
    AnswerOutOfDateError,
    ArticleLoadError,
    ArticleNotFoundError,
    IndexFailure,
    IndexMissingError,
    ModelMismatchError,
    PageSpentError,
    StorageUnavailableError,
    StorageWriteError,
)
from index.ingest.corrections import EditRefused, check_value
from index.ingest.dates import TimeFrame, display_date
from index.ingest.fetch import FetchError
from index.ingest.lang import sure_language
from index.ingest.loader import SUPPORTED_SUFFIXES
from index.models import Answer, Article, ArticleSummary, Quote
from index.reasons import ENGLISH, Reason, stored_english, stored_reason
from index.retrieval.indexer import SyncReport
from index.service import IndexService, ProgressCallback
from index.settings import IndexSettings, describe_validation_error
from index.stores.readers import ReaderStore, Scope, days_ago, now_iso, open_readers

__all__ = [
    "ENGLISH",
    "KEY_PATTERN",
    "MAX_READ",
    "MIN_POST_CHARS",
    "SUPPORTED_SUFFIXES",
    "Added",
    "Answer",
    "AnswerExpiredError",
    "AnswerOutOfDateError",
    "Article",
    "ArticleCollection",
    "ArticleLead",
    "ArticleLoadError",
    "ArticleNotFoundError",
    "ArticleSummary",
    "ChatSession",
    "EditRefused",
    "Feed",
    "FeedBusy",
    "FeedError",
    "FeedNews",
    "FeedRegistry",
    "FetchError",
    "GapGroup",
    "IndexFailure",
    "IndexMissingError",
    "IndexService",
    "IndexSettings",
    "ModelMismatchError",
    "Page",
    "PageSpentError",
    "PollReport",
    "ProgressCallback",
    "Quote",
    "RatedGroup",
    "ReaderStore",
    "Reason",
    "Removed",
    "Scope",
    "SmallTalk",
    "StorageUnavailableError",
    "StorageWriteError",
    "SyncReport",
    "TimeFrame",
    "Tried",
    "asks_about_collection",
    "check_value",
    "days_ago",
    "describe_validation_error",
    "display_date",
    "failed",
    "group_disliked",
    "group_gaps",
    "listed_period",
    "now_iso",
    "open_readers",
    "poll_feed",
    "post_article",
    "scope_filters",
    "small_talk",
    "stored_english",
    "stored_reason",
    "sure_language",
    "with_source",
]
