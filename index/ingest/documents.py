"""Text out of PDF files, for ``index.ingest.loader`` (DOCX: ``index.ingest.wordml``), and what both
share.

A PDF's streams are compressed, and pages may share one: 78 KB of PDF drew 8 million characters
(64 s). Reading stops at the first cap passed, each with its own reason for the admin: pages,
the pages' content once decompressed, one page's CPU time, and the text, which may not be over
the upload limit, as if it had been sent as a text file. Anything pypdf rejects is one reason.

>>> pdf_paragraphs_from_lines(["Les manifestations ont com-", "mencé à Janaozen.", "", "Fin."])
['Les manifestations ont commencé à Janaozen.', 'Fin.']
>>> pdf_paragraphs_from_lines(["Titre", "Une ligne assez longue qui", "continue ici."])
['Titre', 'Une ligne assez longue qui continue ici.']
"""

from __future__ import annotations

import io
import logging
import re
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from index.errors import ArticleLoadError
from index.reasons import Reason

__all__ = [
    "MAX_PDF_CONTENT_RATIO",
    "MAX_PDF_PAGES",
    "MAX_PDF_PAGE_SECONDS",
    "Extracted",
    "iso_date",
    "pdf_paragraphs_from_lines",
    "pdf_text",
    "size_text",
    "text_over_limit",
]

logger = logging.getLogger(__name__)

MAX_PDF_PAGES = 500
# The pages' content streams (drawing instructions, decompressed, a page's counted for each page
# that draws it) may hold this many times the upload limit: pypdf parses about 0.5 MB of them
# a second, and a page of text takes 5 to 10 bytes of them per character.
MAX_PDF_CONTENT_RATIO = 5
# CPU seconds one page may take (about 0.1 s for a page of 16,000 characters).
MAX_PDF_PAGE_SECONDS = 10.0
# A line ending a sentence and shorter than this share of the page's usual line ends a paragraph.
_SHORT_LINE = 0.8
# A line this short starting a paragraph, without a sentence's end, is a heading of its own.
_HEADING_LINE = 0.6
_SENTENCE_END = re.compile(r"[.!?:;»\"”)]\s*$")
_HYPHENATED = re.compile(r"[^\W\d_]-$")


@dataclass(frozen=True, slots=True)
class Extracted:
    """What a document gives: title (may be empty), paragraphs separated by blank lines, and the
    creation date from its metadata when it has one (ISO 8601)."""

    title: str
    text: str
    date: str | None = None


def pdf_text(data: bytes, max_bytes: int) -> Extracted:
    """The text layer of a PDF, reflowed into paragraphs.

    ``ArticleLoadError`` for a broken or encrypted file, for a PDF without a text layer (a scan:
    indexing it would give an empty article), and for the first cap passed: pages, their
    content, a page's time, and text over ``max_bytes`` (reading stops there).
    """
    from pypdf import PdfReader, apply_configuration
    from pypdf.errors import LimitReachedError, PyPdfError

    content_cap = MAX_PDF_CONTENT_RATIO * max(max_bytes, len(data))
    reading = _PdfReading(max_bytes)
    try:
        # A content stream that alone unpacks past the cap stops pypdf (LimitReachedError).
        with apply_configuration(zlib_maximum_output_length=content_cap):
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted and not reader.decrypt(""):
                raise ArticleLoadError(Reason("pdf_encrypted"))
            pages = reader.pages
            if len(pages) > MAX_PDF_PAGES:
                raise ArticleLoadError(Reason("pdf_pages", {"pages": MAX_PDF_PAGES}))
            paragraphs: list[str] = []
            content = 0
            for page in pages:
                # Pages that share one content stream each cost its parsing: counted per page.
                contents = page.get_contents()
                content += len(contents.get_data()) if contents is not None else 0
                if content > content_cap:
                    raise LimitReachedError(f"{content} bytes of page content")
                paragraphs.extend(pdf_paragraphs_from_lines(reading.page(page).splitlines()))
            metadata = reader.metadata
            title = str(metadata.title or "") if metadata else ""
            created = metadata.creation_date if metadata else None
    except ArticleLoadError:
        raise
    except LimitReachedError as exc:
        raise ArticleLoadError(Reason("pdf_content", {"size": size_text(content_cap)})) from exc
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise ArticleLoadError(Reason("pdf_unreadable", {"kind": type(exc).__name__})) from exc
    except Exception as exc:  # pypdf raises many types on broken files; none may stop the bot
        logger.warning("pypdf failed on an upload: %r", exc)
        raise ArticleLoadError(Reason("pdf_unreadable", {"kind": type(exc).__name__})) from exc
    if not any(p.strip() for p in paragraphs):
        raise ArticleLoadError(Reason("pdf_no_text"))
    return Extracted(title.strip(), "\n\n".join(paragraphs), iso_date(created))


class _Stop(Exception):
    """Raised by a visitor to end a page's extraction; the reason stays on ``_PdfReading``."""


class _PdfReading:
    """The text read so far from one PDF, and pypdf's visitors that stop a page mid-way once
    the text is over the limit or the page took too long.

    pypdf catches what a visitor raises inside a form XObject and goes on, so the reason is
    kept here and raised again at the next operator, and checked after each page.
    """

    def __init__(self, max_bytes: int) -> None:
        self.text_left = max_bytes
        self.text_limit = text_over_limit(max_bytes)
        self.reason: Reason | None = None
        self._page_started = 0.0

    def page(self, page: Any) -> str:
        """One page's text, or ``ArticleLoadError`` with the reason it was stopped."""
        self._page_started = time.thread_time()
        try:
            text = page.extract_text(visitor_operand_before=self._operator, visitor_text=self._text)
        except _Stop:
            text = ""
        if self.reason is not None:
            raise ArticleLoadError(self.reason)
        return str(text or "")

    def _stop(self, reason: Reason) -> None:
        self.reason = self.reason or reason
        raise _Stop(reason)

    def _operator(self, *_: object) -> None:
        if self.reason is not None:
            raise _Stop(self.reason)
        # CPU time of this thread: other work on the machine does not count against a page.
        if time.thread_time() - self._page_started > MAX_PDF_PAGE_SECONDS:
            self._stop(Reason("pdf_slow_page", {"seconds": f"{MAX_PDF_PAGE_SECONDS:g}"}))

    def _text(self, text: object, *_: object) -> None:
        if isinstance(text, str):
            self.text_left -= len(text.encode("utf-8", "surrogatepass"))
            if self.text_left < 0:
                self._stop(self.text_limit)


def size_text(size: int) -> str:
    """A limit in bytes as an admin reads it: ``2 MB``, ``1 KB``, ``100 bytes``."""
    if size >= 1_000_000:
        return f"{size / 1_000_000:g} MB"
    if size >= 1_000:
        return f"{size / 1_000:g} KB"
    return f"{size} bytes"


def text_over_limit(max_bytes: int) -> Reason:
    """The reason given for a document whose text is over the upload limit."""
    return Reason("text_over_limit", {"size": size_text(max_bytes)})


def pdf_paragraphs_from_lines(lines: list[str]) -> list[str]:
    """One page's lines to paragraphs: a PDF breaks every line, not only paragraphs.

    A line break ends a paragraph after an empty line, after a line that ends a sentence
    and is clearly shorter than the page's usual line, and after a short first line without
    a sentence's end (a heading); other breaks join with a space, and a word hyphenated
    across lines is joined back.
    """
    lines = [line.strip() for line in lines]
    lengths = [len(line) for line in lines if line]
    usual = statistics.median(lengths) if lengths else 0
    paragraphs: list[str] = []
    # The paragraph so far as pieces, and its last two characters: joining or searching the
    # whole paragraph at each line made a page of one long paragraph quadratic (200 KB: 51 s).
    pieces: list[str] = []
    tail = ""
    for line in lines:
        if not line:
            if pieces:
                paragraphs.append("".join(pieces))
            pieces, tail = [], ""
            continue
        ends_sentence = bool(_SENTENCE_END.search(line))
        if pieces and _SENTENCE_END.search(tail) and _heading_line(line, ends_sentence, usual):
            paragraphs.append("".join(pieces))  # a subheading after a full line: its own
            pieces, tail = [], ""
        if not pieces:
            pieces.append(line)
        elif _HYPHENATED.search(tail) and line[:1].islower():
            pieces[-1] = pieces[-1][:-1]
            pieces.append(line)
        else:
            pieces += (" ", line)
        tail = "".join(pieces[-3:])[-2:]
        heading = len(pieces) == 1 and _heading_line(line, ends_sentence, usual)
        if (heading and not line.endswith("-")) or (
            ends_sentence and len(line) < _SHORT_LINE * usual
        ):
            paragraphs.append("".join(pieces))
            pieces, tail = [], ""
    if pieces:
        paragraphs.append("".join(pieces))
    return paragraphs


def _heading_line(line: str, ends_sentence: bool, usual: float) -> bool:
    """A short line that ends no sentence and starts with a capital: a (sub)heading."""
    return not ends_sentence and len(line) < _HEADING_LINE * usual and not line[:1].islower()


def iso_date(moment: datetime | None) -> str | None:
    """A document's date as ISO 8601 in UTC (a date without a zone is taken as UTC)."""
    if not isinstance(moment, datetime):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
