"""Text out of PDF and DOCX files, for ``index.ingest``: plain functions on bytes.

Both formats are containers that a hostile file can inflate: a DOCX is a ZIP archive (a 5 MB
upload can declare gigabytes of XML) and a PDF's streams are compressed. The archive's declared
sizes are checked before python-docx opens it, and pypdf's own decompression limits apply to
PDF streams; anything the parsers reject is one clear reason for the admin.

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
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime

from index.errors import ArticleLoadError

__all__ = ["Extracted", "docx_text", "pdf_paragraphs_from_lines", "pdf_text"]

logger = logging.getLogger(__name__)

# A DOCX whose parts declare more than this many bytes once unzipped is refused (a real article
# of 5 MB unzips to a few times that; a ZIP bomb to thousands of times).
MAX_UNZIPPED_RATIO = 20
MAX_PDF_PAGES = 500
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


def pdf_text(data: bytes) -> Extracted:
    """The text layer of a PDF, reflowed into paragraphs.

    ``ArticleLoadError`` for a broken or encrypted file, and for a PDF without a text layer
    (a scan): indexing it would give an empty article.
    """
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise ArticleLoadError("the PDF is encrypted: send a copy without a password")
        pages = reader.pages
        if len(pages) > MAX_PDF_PAGES:
            raise ArticleLoadError(f"the PDF has more than {MAX_PDF_PAGES} pages")
        paragraphs: list[str] = []
        for page in pages:
            paragraphs.extend(pdf_paragraphs_from_lines((page.extract_text() or "").splitlines()))
        metadata = reader.metadata
        title = str(metadata.title or "") if metadata else ""
        created = metadata.creation_date if metadata else None
    except ArticleLoadError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise ArticleLoadError(f"not a readable PDF ({type(exc).__name__})") from exc
    except Exception as exc:  # pypdf raises many types on broken files; none may stop the bot
        logger.warning("pypdf failed on an upload: %r", exc)
        raise ArticleLoadError(f"not a readable PDF ({type(exc).__name__})") from exc
    if not any(p.strip() for p in paragraphs):
        raise ArticleLoadError(
            "the PDF has no text layer (a scan?): run it through OCR first, then send it again"
        )
    return Extracted(title.strip(), "\n\n".join(paragraphs), _iso(created))


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
    current = ""
    for line in lines:
        if not line:
            if current:
                paragraphs.append(current)
            current = ""
            continue
        if not current:
            current = line
        elif _HYPHENATED.search(current) and line[:1].islower():
            current = current[:-1] + line
        else:
            current = f"{current} {line}"
        ends_sentence = bool(_SENTENCE_END.search(line))
        heading = current == line and not ends_sentence and len(line) < _HEADING_LINE * usual
        if (heading and not line.endswith("-")) or (
            ends_sentence and len(line) < _SHORT_LINE * usual
        ):
            paragraphs.append(current)
            current = ""
    if current:
        paragraphs.append(current)
    return paragraphs


def docx_text(data: bytes, max_bytes: int) -> Extracted:
    """The paragraphs of a Word document (.docx), its title and creation date."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            declared = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ArticleLoadError("not a readable DOCX file (not a ZIP archive)") from exc
    if declared > MAX_UNZIPPED_RATIO * max(max_bytes, len(data)):
        raise ArticleLoadError("the DOCX file unpacks to too much data")
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
        paragraphs = [p.text.strip() for p in document.paragraphs]
        headings = [
            p.text.strip()
            for p in document.paragraphs
            if p.text.strip() and (p.style is not None and (p.style.name or "").startswith("Title"))
        ]
        properties = document.core_properties
        title = (properties.title or "").strip() or (headings[0] if headings else "")
        created = properties.created
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise ArticleLoadError(f"not a readable DOCX file ({type(exc).__name__})") from exc
    except Exception as exc:  # lxml and python-docx raise many types on broken files
        logger.warning("python-docx failed on an upload: %r", exc)
        raise ArticleLoadError(f"not a readable DOCX file ({type(exc).__name__})") from exc
    body = [p for p in paragraphs if p]
    if title and body and body[0] == title:
        body = body[1:]
    if not body:
        raise ArticleLoadError("the DOCX file has no text")
    return Extracted(title, "\n\n".join(body), _iso(created))


def _iso(moment: datetime | None) -> str | None:
    if not isinstance(moment, datetime):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
