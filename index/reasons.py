"""Why something was refused, as plain data: a code and its values, said in any language later.

The index raises ``FetchError``, ``FeedError`` and ``ArticleLoadError`` with a ``Reason``; their
``str()`` is the English sentence (logs, the CLI), and the bot says the same reason in the
admin's language from its catalog (``bot.i18n``, keys ``reason_<code>``). A reason kept on disk
(a feed's health) is its JSON, read back by ``Reason.from_json``.

>>> reason = Reason("http_status", {"status": 404})
>>> str(reason)
'the server answered HTTP 404'
>>> Reason.from_json(reason.to_json()) == reason
True
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

__all__ = ["ENGLISH", "Reason", "ReasonError", "stored_english", "stored_reason"]

# Each code's English sentence (no final stop: it is put inside a sentence), with the bot's
# inline plural ``{n|one|other}``. The bot's ``en`` variant is this same text; its other
# languages are in bot/reason_texts.py.
ENGLISH: Final[dict[str, str]] = {
    # Fetching a page (index/ingest/fetch.py)
    "invalid_url": "not a valid URL",
    "not_http": "only http:// and https:// URLs can be added",
    "unresolved": "cannot resolve {host}",
    "private_address": (
        "{host} is a private address ({address}); FETCH_PRIVATE_ADDRESSES=true allows it"
    ),
    "too_many_redirects": "too many redirects",
    "timeout": "no complete answer within {seconds} s",
    "http_status": "the server answered HTTP {status}",
    "redirect_without_location": "a redirect without a Location",
    "page_too_large": "the page is larger than {kb} KB",
    "unsupported_compression": "the page uses an unsupported compression ({encoding})",
    "broken_compression": "the page's {encoding} compression is broken",
    "cannot_connect": "cannot connect to the server",
    "network_error": "network error ({kind})",
    # Reading a file (index/ingest/loader.py, index/ingest/documents.py, index/ingest/wordml.py)
    "unsupported_type": "unsupported file type '{suffix}' (use .txt, .md, .html, .json, .pdf or .docx)",
    "unsupported_type_none": (
        "unsupported file type (no extension) (use .txt, .md, .html, .json, .pdf or .docx)"
    ),
    "file_too_large": "file is larger than {size}",
    "upload_too_large": "file is larger than MAX_UPLOAD_BYTES",
    "unreadable_file": "cannot read the file ({error})",
    "no_folder": "the articles folder '{folder}' does not exist",
    "duplicate_id": "duplicate article id '{id}' (also from {other})",
    "empty_file": "empty file",
    "no_text": "no article text found",
    "no_text_html": "no article text found in the HTML",
    "bad_encoding": "not valid UTF-8 or any known encoding",
    "binary": "binary file, not text",
    "invalid_json": "invalid JSON: {error} (line {line})",
    "json_too_deep": "invalid JSON: nested too deeply",
    "json_shape": "JSON must be an object with 'title' and 'text'",
    "json_field_string": "JSON field '{field}' must be a string",
    "json_tags": "JSON field 'tags' must be a list of strings",
    "json_surrogate": "invalid JSON: text contains a lone surrogate (\\ud800-\\udfff)",
    "unexpected": "unexpected error: {kind}",
    "text_over_limit": "the text is over the {size} limit",
    "pdf_encrypted": "the PDF is encrypted: send a copy without a password",
    "pdf_pages": "the PDF has more than {pages} {pages|page|pages}",
    "pdf_content": "the PDF's pages hold more than {size} of content",
    "pdf_unreadable": "not a readable PDF ({kind})",
    "pdf_no_text": (
        "the PDF has no text layer (a scan?): run it through OCR first, then send it again"
    ),
    "pdf_slow_page": "a page of the PDF takes more than {seconds} s to read",
    "docx_not_zip": "not a readable DOCX file (not a ZIP archive)",
    "docx_too_much_data": "the DOCX file unpacks to too much data",
    "docx_unreadable": "not a readable DOCX file ({kind})",
    "docx_no_main": "not a readable DOCX file (no main document part)",
    "docx_no_text": "the DOCX file has no text",
    "docx_broken_xml": "not a readable DOCX file (broken XML in {part})",
    "docx_dtd": "not a readable DOCX file (its XML declares a DTD)",
    "docx_elements": "the DOCX file has more than {count} XML elements",
    "docx_paragraphs": "the DOCX file has more than {count} paragraphs",
    "no_source_file": "the article has no file in {folder}",
    # Feeds (index/collection/feeds.py)
    "not_a_feed": "not an RSS or Atom feed",
    "not_a_feed_error": "not an RSS or Atom feed ({kind})",
    "unreadable_entry": "unreadable entry ({kind})",
    "entry_too_short": "the entry has no link and too little text",
    "internal_error": "internal error ({kind})",
    "too_many_feeds": "at most {count} {count|feed|feeds}",
    "feeds_file": "cannot read {file} ({error})",
}


# ``{name|one|other}`` as bot/i18n.py reads it (English: the form for one is for 1 only).
_PLURAL = re.compile(r"\{(\w+)\|((?:[^{}|]|\{\w+\})*)\|((?:[^{}|]|\{\w+\})*)\}")


@dataclass(frozen=True, slots=True)
class Reason:
    """A refusal's ``code`` (a key of ``ENGLISH``) and the values its sentence names."""

    code: str
    params: Mapping[str, str | int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.code not in ENGLISH:
            raise ValueError(f"unknown reason code {self.code!r}")

    def __str__(self) -> str:
        params = self.params
        template = _PLURAL.sub(
            lambda match: match[2] if str(params[match[1]]) == "1" else match[3], ENGLISH[self.code]
        )
        return template.format(**params)

    def to_json(self) -> str:
        """The reason as kept on disk: ``{"code": …, "params": {…}}``."""
        return json.dumps({"code": self.code, "params": dict(self.params)}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Reason | None:
        """A reason written by ``to_json``; None for anything else (a reason kept as free
        English text before reasons had codes, a code this version no longer has)."""
        try:
            data = json.loads(text)
            params = data["params"]
            if not isinstance(params, dict) or not all(
                isinstance(v, str | int) for v in params.values()
            ):
                return None
            reason = cls(str(data["code"]), params)
            str(reason)  # every value its sentence names is there
            return reason
        except (ValueError, TypeError, KeyError, IndexError):
            return None


class ReasonError(Exception):
    """An error that says why with a ``Reason``: ``str()`` is its English sentence."""

    def __init__(self, reason: Reason) -> None:
        if not isinstance(reason, Reason):  # a bare sentence could not be said in French
            raise TypeError(f"{type(self).__name__} takes a Reason, not {type(reason).__name__}")
        super().__init__(str(reason))
        self.reason = reason

    def __reduce__(self) -> tuple[type[ReasonError], tuple[Reason]]:
        return type(self), (self.reason,)  # a copy across processes keeps its reason


def stored_reason(text: str) -> tuple[str | None, Reason | str]:
    """A reason kept on disk (a feed's health), read back: the entry it concerns (None for
    the feed itself) and its ``Reason``, or the text as it is (written before reasons had
    codes, or an error that has none).

    >>> stored_reason('{"entry": "https://a.example/1", "code": "http_status", "params": {"status": 404}}')
    ('https://a.example/1', Reason(code='http_status', params={'status': 404}))
    >>> stored_reason("https://a.example/1: the server answered HTTP 404")
    (None, 'https://a.example/1: the server answered HTTP 404')
    """
    reason = Reason.from_json(text)
    if reason is None:
        return None, text
    entry = json.loads(text).get("entry")
    return (str(entry) if entry else None), reason


def stored_english(text: str) -> str:
    """A reason kept on disk as an English line (logs, tests): "https://…/1: the server
    answered HTTP 404"."""
    entry, reason = stored_reason(text)
    return f"{entry}: {reason}" if entry else str(reason)
