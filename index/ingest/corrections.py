"""Corrections of an article's metadata (``/edit ID title|date|outlet VALUE``), kept in SEEDS_DIR.

The folder is the source of truth (every reindex and start reads it), so a correction is
written where ingest reads it again:

- a JSON article (the bot's own format: pages fetched by URL, feed entries, forwarded posts)
  gets its field rewritten in place: the file keeps saying one thing;
- any other file (.txt, .md, .html, .pdf, .docx: the admin's own document, which cannot or
  should not be rewritten) gets ``SEEDS_DIR/corrections/<file name>.json``, an object such as
  ``{"title": "…", "date": "2024-03-05"}`` read over what the file says. A sub-folder is
  never taken for an article, so no scan of SEEDS_DIR needs to know about it.

The correction's bytes count in the article's source digest (``index.ingest.loader.source_digest``),
so a sync reads the article again when either changes; its text does not change, so its
sentences' vectors come from the cache (a new title changes what a passage embeds: the
article's passages, only, are embedded again).

>>> check_value("title", "  Le   volcan\\n ", datetime(2026, 1, 1, tzinfo=UTC))
'Le volcan'
>>> check_value("date", "5 mars 2024", datetime(2026, 1, 1, tzinfo=UTC))
'2024-03-05'
>>> check_value("date", "2030-01-01", datetime(2026, 1, 1, tzinfo=UTC))
Traceback (most recent call last):
...
index.ingest.corrections.EditRefused: future
"""

from __future__ import annotations

import json
import logging
import os
import re
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from index.ingest.dates import published_iso

__all__ = [
    "CORRECTIONS_DIR",
    "EDIT_FIELDS",
    "MAX_EDIT_CHARS",
    "EditRefused",
    "check_value",
    "correct",
    "correction_bytes",
    "correction_path",
    "read_correction",
]

logger = logging.getLogger(__name__)

CORRECTIONS_DIR = "corrections"
EDIT_FIELDS = ("title", "date", "outlet")
# A title or outlet longer than this is a paste gone wrong, not a correction (ingest keeps an
# outlet to 200 characters; a message value is shown cut to 200).
MAX_EDIT_CHARS = {"title": 200, "date": 100, "outlet": 200}
# A publication date a day ahead is a time zone; more is a mistake.
_FUTURE_SLACK = timedelta(days=1)
# A tag, a comment or a declaration: "<b>", "</a", "<!--", "<?xml"; "a < b" is fine.
_MARKUP = re.compile(r"<\s*[/!?]?[A-Za-z!]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


class EditRefused(ValueError):
    """A correction's value cannot be used; ``reason`` is a code the caller words:
    ``empty``, ``too_long`` (``limit``), ``markup``, ``control``, ``not_a_date``, ``future``."""

    def __init__(self, reason: str, limit: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.limit = limit


def check_value(field: str, value: str, now: datetime) -> str:
    """The value to store for ``field`` (one line, NFC; a date as ISO 8601), or ``EditRefused``.

    A date is stored as ISO, not as written: "hier" must not move every day.
    """
    if field not in EDIT_FIELDS:
        raise ValueError(f"unknown field {field!r}")
    if _CONTROL.search(value.replace("\t", " ").replace("\n", " ").replace("\r", " ")):
        raise EditRefused("control")
    one_line = re.sub(r"\s+", " ", unicodedata.normalize("NFC", value)).strip()
    if not one_line:
        raise EditRefused("empty")
    limit = MAX_EDIT_CHARS[field]
    if len(one_line) > limit:
        raise EditRefused("too_long", limit)
    if _MARKUP.search(one_line):
        raise EditRefused("markup")
    if field != "date":
        return one_line
    published = published_iso(one_line)
    if published is None:
        raise EditRefused("not_a_date")
    moment = datetime.fromisoformat(published.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if moment > now.astimezone(UTC) + _FUTURE_SLACK:
        raise EditRefused("future")
    return published


def correction_path(source: Path) -> Path:
    """Where the correction of the article file ``source`` is kept (a file not rewritten)."""
    return source.parent / CORRECTIONS_DIR / f"{source.name}.json"


def correction_bytes(source: Path) -> bytes:
    """The correction file's bytes, b"" when there is none (what the digest adds). A JSON
    article has one only when its own bytes could not be rewritten (not UTF-8)."""
    try:
        return correction_path(source).read_bytes()
    except OSError:
        return b""


def read_correction(source: Path) -> dict[str, str]:
    """The fields a correction sets for ``source``: {} when none; a damaged file (edited by
    hand) is ignored with a warning rather than costing the article its place."""
    data = correction_bytes(source)
    if not data:
        return {}
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):
        value = None
    if not isinstance(value, dict):
        logger.warning("ignored %s: not a JSON object", correction_path(source))
        return {}
    return {k: v for k, v in value.items() if k in EDIT_FIELDS and isinstance(v, str) and v}


def correct(source: Path, field: str, value: str) -> Callable[[], None]:
    """Write the correction of ``source``'s ``field`` (a value from ``check_value``); returns
    what puts things back as they were, for when the article cannot be indexed again."""
    if source.suffix.lower() == ".json":
        old = source.read_bytes()
        record = _json_object(old)
        if record is not None:
            record[field] = value
            _write_atomic(source, _dump(record))
            return lambda: _write_atomic(source, old)
    target = correction_path(source)
    previous = target.read_bytes() if target.is_file() else None
    record = _json_object(previous or b"{}") or {}
    record[field] = value
    target.parent.mkdir(exist_ok=True)
    _write_atomic(target, _dump(record))

    def undo() -> None:
        if previous is None:
            target.unlink(missing_ok=True)
        else:
            _write_atomic(target, previous)

    return undo


def _json_object(data: bytes) -> dict[str, object] | None:
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _dump(record: dict[str, object]) -> bytes:
    return json.dumps(record, ensure_ascii=False, indent=1).encode()


def _write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` in one step: a hidden temporary file (scans skip it), then a rename."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.edit")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
