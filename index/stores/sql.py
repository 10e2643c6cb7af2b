"""The SQL that SQLite and PostgreSQL share: the articles' columns, the filters, the dialects.

Both backends keep articles in an ``articles`` table whose columns are ``Article``'s fields in
order, then ``chars`` (the text's length); ``ArticleSummary``'s fields are the columns a list
reads. Those column lists, and the rows to and from the dataclasses, are derived here from the
dataclasses themselves: a new ``Article`` field is a new column of both schemas (a migration in
each) and nothing else. Where the two databases say a thing differently (a placeholder, a list
of values, the tags: JSON text in SQLite, a text array in PostgreSQL), a ``Dialect`` says it.

>>> SQLITE.sql("SELECT 1 WHERE ? = ?"), POSTGRES.sql("SELECT 1 WHERE ? = ?")
('SELECT 1 WHERE ? = ?', 'SELECT 1 WHERE %s = %s')
>>> filter_sql(Filters(outlets=frozenset({"B", "A"}), published_to="2026"), SQLITE)
('a.outlet IN (?,?) AND a.published < ?', ['A', 'B', '2026'])
>>> filter_sql(Filters(tags=frozenset({"sport"})), POSTGRES)
('a.tags && %s::text[]', [['sport']])
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from index.errors import ModelMismatchError
from index.models import Article, ArticleSummary
from index.stores.base import Filters

__all__ = [
    "ARTICLE_COLUMNS",
    "EVERYTHING",
    "POSTGRES",
    "SQLITE",
    "SUMMARY_COLUMNS",
    "Dialect",
    "article_from_row",
    "article_row",
    "articles_table",
    "filter_sql",
    "insert_article",
    "stored_version",
    "summary_from_row",
]

# ``Article``'s fields, the ``articles`` table's first columns in the same order.
_ARTICLE_FIELDS = tuple(f.name for f in fields(Article))
ARTICLE_COLUMNS = ", ".join(_ARTICLE_FIELDS)
# ``ArticleSummary``'s fields: every column but the text and the hashes (``chars`` last).
_SUMMARY_FIELDS = tuple(f.name for f in fields(ArticleSummary))
SUMMARY_COLUMNS = ", ".join(_SUMMARY_FIELDS)
_TAGS = _ARTICLE_FIELDS.index("tags")
_SUMMARY_TAGS = _SUMMARY_FIELDS.index("tags")
_SUMMARY_CHARS = _SUMMARY_FIELDS.index("chars")

# The condition of a query that filters nothing; a filter's field that lets nothing through.
EVERYTHING = "TRUE"
_NOTHING = "FALSE"


class Dialect:
    """How SQLite says what both databases do (``POSTGRES`` says it its own way)."""

    placeholder = "?"
    big_integer = "INTEGER"  # a 64-bit column (group chat ids)
    tags_column = "TEXT NOT NULL DEFAULT '[]'"  # a JSON array

    def sql(self, statement: str) -> str:
        """``statement`` (written with ``?``) with this dialect's placeholders."""
        return statement.replace("?", self.placeholder)

    def marks(self, count: int) -> str:
        """``count`` placeholders, comma-separated."""
        return ",".join([self.placeholder] * count)

    def one_of(self, column: str, values: Sequence[str]) -> tuple[str, list[Any]]:
        """A condition: ``column`` is one of ``values`` (not empty), and its parameters."""
        return f"{column} IN ({self.marks(len(values))})", list(values)

    def any_tag(self, column: str, tags: Sequence[str]) -> tuple[str, list[Any]]:
        """A condition: the tags in ``column`` include one of ``tags`` (not empty)."""
        marks = self.marks(len(tags))
        return f"EXISTS (SELECT 1 FROM json_each({column}) WHERE value IN ({marks}))", list(tags)

    def encode_tags(self, tags: Sequence[str]) -> Any:
        return json.dumps(list(tags), ensure_ascii=False)

    def decode_tags(self, value: Any) -> tuple[str, ...]:
        return tuple(json.loads(value))


class _Postgres(Dialect):
    placeholder = "%s"
    big_integer = "BIGINT"
    tags_column = "TEXT[] NOT NULL DEFAULT '{}'"

    def one_of(self, column: str, values: Sequence[str]) -> tuple[str, list[Any]]:
        return f"{column} = ANY(%s)", [list(values)]

    def any_tag(self, column: str, tags: Sequence[str]) -> tuple[str, list[Any]]:
        return f"{column} && %s::text[]", [list(tags)]

    def encode_tags(self, tags: Sequence[str]) -> Any:
        return list(tags)

    def decode_tags(self, value: Any) -> tuple[str, ...]:
        return tuple(value or ())


SQLITE = Dialect()
POSTGRES = _Postgres()


def filter_sql(filters: Filters | None, dialect: Dialect) -> tuple[str, list[Any]]:
    """A condition on ``articles a`` that lets through what ``filters`` let through (the one
    meaning of every field of ``Filters``), and its parameters; ``EVERYTHING`` for no filter."""
    if filters is None or filters.empty:
        return EVERYTHING, []
    clauses: list[str] = []
    params: list[Any] = []
    for column, values, condition in (
        ("a.id", filters.article_ids, dialect.one_of),
        ("a.outlet", filters.outlets, dialect.one_of),
        ("a.feed", filters.feeds, dialect.one_of),
        ("a.tags", filters.tags, dialect.any_tag),
    ):
        if values is None:
            continue
        clause, values_params = condition(column, sorted(values)) if values else (_NOTHING, [])
        clauses.append(clause)
        params.extend(values_params)
    # An article without a date is outside any period (NULL compares to nothing).
    for bound, operator in ((filters.published_from, ">="), (filters.published_to, "<")):
        if bound is not None:
            clauses.append(f"a.published {operator} {dialect.placeholder}")
            params.append(bound)
    return " AND ".join(clauses), params


def stored_version(db: Any, location: str, latest: int, advice: str) -> int:
    """The schema version an index's ``meta`` table records (0: none yet), on a connection
    of either database; ``ModelMismatchError`` when it is newer than the ``latest`` this
    code reads (``advice``: what else the operator may do than upgrade)."""
    row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    version = int(row[0]) if row else 0
    if version > latest:
        raise ModelMismatchError(
            f"the index in {location} has schema {version}, this version reads up to "
            f"{latest}: upgrade the bot, or {advice}"
        )
    return version


def articles_table(dialect: Dialect) -> str:
    """The ``articles`` table as version 1 of both schemas made it: ``Article``'s fields of
    then, and ``chars``. History, never edited: a later field is a migration of its own."""
    return f"""
    CREATE TABLE articles (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        text TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        lang TEXT NOT NULL,
        url TEXT,
        date TEXT,
        source_path TEXT,
        source_sha256 TEXT,
        outlet TEXT,
        feed TEXT,
        tags {dialect.tags_column},
        published TEXT,
        chars INTEGER NOT NULL
    );
    """


def insert_article(dialect: Dialect) -> str:
    """The statement that inserts ``article_row``'s values."""
    marks = dialect.marks(len(_ARTICLE_FIELDS) + 1)
    return f"INSERT INTO articles ({ARTICLE_COLUMNS}, chars) VALUES ({marks})"


def article_row(article: Article, dialect: Dialect) -> tuple[Any, ...]:
    """An article as the values of ``ARTICLE_COLUMNS``, then its length in characters."""
    values = [getattr(article, name) for name in _ARTICLE_FIELDS]
    values[_TAGS] = dialect.encode_tags(article.tags)
    return (*values, len(article.text))


def article_from_row(row: Sequence[Any], dialect: Dialect) -> Article:
    """An article from the values of ``ARTICLE_COLUMNS``."""
    values = list(row)
    values[_TAGS] = dialect.decode_tags(values[_TAGS])
    return Article(*values)


def summary_from_row(row: Sequence[Any], dialect: Dialect) -> ArticleSummary:
    """A summary from the values of ``SUMMARY_COLUMNS``."""
    values = list(row)
    values[_SUMMARY_TAGS] = dialect.decode_tags(values[_SUMMARY_TAGS])
    values[_SUMMARY_CHARS] = int(values[_SUMMARY_CHARS])
    return ArticleSummary(*values)
