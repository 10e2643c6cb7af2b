"""Text out of Word documents (.docx), read as a stream with every cost capped.

A DOCX is a ZIP archive of XML parts, and a small upload can unpack to a huge part: 78 KB of
empty paragraphs made python-docx build a tree of 5 million elements (276 s, 1.7 GB) before it
said "no text". So the parts are parsed here with expat as they are unzipped, without building
a tree, and reading stops at the first cap passed, each with its own reason:

- the bytes unzipped (each part's declared size first, then what is actually read);
- XML elements, and paragraphs;
- the text, which may not be over the upload limit, as if it had been sent as a text file;
- a DTD, which Word never writes and entity expansion needs, is refused outright.

What it extracts is what python-docx gave: the body's paragraphs (runs and hyperlinks; tabs,
breaks and no-break hyphens as characters), the first paragraph in a "Title" style, and the
title and creation date of the core properties.

>>> docx_text(Path("volcan.docx").read_bytes(), 2_000_000).title  # doctest: +SKIP
'Le volcan'
"""

from __future__ import annotations

import io
import logging
import posixpath
import re
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import IO
from xml.parsers import expat

from index.errors import ArticleLoadError
from index.ingest.documents import Extracted, iso_date, text_over_limit
from index.reasons import Reason

__all__ = ["MAX_DOCX_ELEMENTS", "MAX_DOCX_PARAGRAPHS", "MAX_UNZIPPED_RATIO", "docx_text"]

# The parts of a DOCX may unpack to at most this many times the upload limit (or the file's
# size, when larger): a real article of 2 MB of text is a few times that in Word's XML.
MAX_UNZIPPED_RATIO = 20
# Elements in all the parts read (a real 2 MB article has a few hundred thousand), and the
# body's paragraphs (100,000 is 20 characters each at the 2 MB limit).
MAX_DOCX_ELEMENTS = 1_000_000
MAX_DOCX_PARAGRAPHS = 100_000
_CHUNK = 64 * 1024

logger = logging.getLogger(__name__)

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main "
_RELS = "http://schemas.openxmlformats.org/package/2006/relationships "
_MAIN_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
_STYLES_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles"
_CORE_REL = "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties"
_DC_TITLE = "http://purl.org/dc/elements/1.1/ title"
_CREATED = "http://purl.org/dc/terms/ created"
# Creation dates that name a template, not the document: python-docx's default template's
# (a document it makes keeps that date unless its maker sets one), so every article exported
# by such a tool was dated 23 December 2013.
_TEMPLATE_DATES = frozenset({"2013-12-23T23:15:00Z"})
_BODY, _P, _R, _HYPERLINK, _T = (_W + n for n in ("body", "p", "r", "hyperlink", "t"))
_PPR, _PSTYLE, _BR = _W + "pPr", _W + "pStyle", _W + "br"
# A run's children that stand for characters (``w:br`` depends on its type).
_RUN_CHARS = {_W + "tab": "\t", _W + "ptab": "\t", _W + "cr": "\n", _W + "noBreakHyphen": "-"}
_VAL, _TYPE = _W + "val", _W + "type"
_W3CDTF_OFFSET = re.compile(r"([+-])(\d\d):(\d\d)$")


class _Stop(Exception):
    """A cap passed inside an expat handler: its reason goes to the admin."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(str(reason))
        self.reason = reason


@dataclass
class _Budget:
    """What reading may still spend, over every part of one document."""

    unzipped: int
    text: int  # bytes of text allowed
    text_limit: Reason  # why, once the text is spent
    elements: int = MAX_DOCX_ELEMENTS

    def element(self) -> None:
        self.elements -= 1
        if self.elements < 0:
            raise _Stop(Reason("docx_elements", {"count": f"{MAX_DOCX_ELEMENTS:,}"}))

    def spend_text(self, piece: str) -> None:
        self.text -= len(piece.encode("utf-8", "surrogatepass"))
        if self.text < 0:
            raise _Stop(self.text_limit)


@dataclass
class _Body:
    """The body's paragraphs as they stream by: text, and style id of each."""

    budget: _Budget
    paragraphs: list[tuple[str, str | None]] = field(default_factory=list)
    _stack: list[str] = field(default_factory=list)
    _pieces: list[str] = field(default_factory=list)
    _style: str | None = None
    _in_text: bool = False

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        self.budget.element()
        stack = self._stack
        depth = len(stack)
        if depth == 2 and tag == _P and stack[1] == _BODY:
            if len(self.paragraphs) >= MAX_DOCX_PARAGRAPHS:
                raise _Stop(Reason("docx_paragraphs", {"count": f"{MAX_DOCX_PARAGRAPHS:,}"}))
            self._pieces, self._style = [], None
        elif depth >= 3 and stack[2] == _P and stack[1] == _BODY:
            parent = stack[-1]
            if tag == _PSTYLE and depth == 4 and parent == _PPR:
                self._style = attrs.get(_VAL)
            elif self._in_run(depth):
                self._run_child(tag, attrs)
        stack.append(tag)

    def _in_run(self, depth: int) -> bool:
        """True when the element now opening is a direct child of one of the paragraph's runs
        (``w:p/w:r`` or ``w:p/w:hyperlink/w:r``, as python-docx reads them)."""
        stack = self._stack
        return (depth == 4 and stack[3] == _R) or (
            depth == 5 and stack[4] == _R and stack[3] == _HYPERLINK
        )

    def _run_child(self, tag: str, attrs: dict[str, str]) -> None:
        if tag == _T:
            self._in_text = True
        elif tag == _BR:
            if attrs.get(_TYPE, "textWrapping") == "textWrapping":
                self._add("\n")
        elif tag in _RUN_CHARS:
            self._add(_RUN_CHARS[tag])

    def end(self, tag: str) -> None:
        self._stack.pop()
        if tag == _T:
            self._in_text = False
        elif tag == _P and len(self._stack) == 2 and self._stack[1] == _BODY:
            self.paragraphs.append(("".join(self._pieces), self._style))
            self._pieces = []

    def characters(self, data: str) -> None:
        if self._in_text and self._stack[-1] == _T:
            self._add(data)

    def _add(self, piece: str) -> None:
        self.budget.spend_text(piece)
        self._pieces.append(piece)


def docx_text(data: bytes, max_bytes: int) -> Extracted:
    """The paragraphs of a Word document (.docx), its title and creation date.

    ``ArticleLoadError`` names the first cap passed, or why the file is not a readable DOCX.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        declared = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ArticleLoadError(Reason("docx_not_zip")) from exc
    allowed = MAX_UNZIPPED_RATIO * max(max_bytes, len(data))
    if declared > allowed:
        raise ArticleLoadError(Reason("docx_too_much_data"))
    budget = _Budget(unzipped=allowed, text=max_bytes, text_limit=text_over_limit(max_bytes))
    try:
        with archive:
            return _read(archive, budget)
    except _Stop as exc:
        raise ArticleLoadError(exc.reason) from None
    except ArticleLoadError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, ValueError) as exc:
        # A damaged member, an encrypted one, an unknown compression (NotImplementedError).
        raise ArticleLoadError(Reason("docx_unreadable", {"kind": type(exc).__name__})) from exc
    except Exception as exc:  # zipfile and expat raise many types on broken files
        logger.warning("reading a DOCX failed: %r", exc)
        raise ArticleLoadError(Reason("docx_unreadable", {"kind": type(exc).__name__})) from exc


def _read(archive: zipfile.ZipFile, budget: _Budget) -> Extracted:
    package = _relations(archive, "_rels/.rels", "", budget)
    main = package.get(_MAIN_REL)
    if main is None or main not in archive.NameToInfo:
        raise ArticleLoadError(Reason("docx_no_main"))
    body = _Body(budget)
    _parse(archive, main, budget, body.start, body.end, body.characters)
    title, created = "", None
    core = package.get(_CORE_REL)
    if core in archive.NameToInfo:
        title, created = _core_properties(archive, core, budget)
    if not title:
        styles = _styles(archive, main, budget)
        title = next(
            (
                text.strip()
                for text, style in body.paragraphs
                if text.strip() and _style_name(styles, style).startswith("Title")
            ),
            "",
        )
    paragraphs = [stripped for text, _ in body.paragraphs if (stripped := text.strip())]
    if title and paragraphs and paragraphs[0] == title:
        paragraphs = paragraphs[1:]
    if not paragraphs:
        raise ArticleLoadError(Reason("docx_no_text"))
    return Extracted(title, "\n\n".join(paragraphs), iso_date(created))


def _parse(
    archive: zipfile.ZipFile,
    name: str,
    budget: _Budget,
    start: Callable[[str, dict[str, str]], None],
    end: Callable[[str], None] | None = None,
    characters: Callable[[str], None] | None = None,
) -> None:
    """Stream one part through expat, counting its bytes against the budget as it unzips."""
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_dtd
    parser.StartElementHandler = start
    if end is not None:
        parser.EndElementHandler = end
    if characters is not None:
        parser.CharacterDataHandler = characters
    try:
        with archive.open(name) as part:
            _feed(parser, part, budget)
    except expat.ExpatError as exc:
        raise ArticleLoadError(Reason("docx_broken_xml", {"part": name})) from exc


def _feed(parser: expat.XMLParserType, part: IO[bytes], budget: _Budget) -> None:
    while chunk := part.read(_CHUNK):
        budget.unzipped -= len(chunk)
        if budget.unzipped < 0:  # more than the archive declared: never trust the header
            raise _Stop(Reason("docx_too_much_data"))
        parser.Parse(chunk, False)
    parser.Parse(b"", True)


def _refuse_dtd(*_: object) -> None:
    raise _Stop(Reason("docx_dtd"))


def _relations(archive: zipfile.ZipFile, rels: str, base: str, budget: _Budget) -> dict[str, str]:
    """The targets of a relationships part by type (the first of each), as archive names."""
    if rels not in archive.NameToInfo:
        return {}
    targets: dict[str, str] = {}

    def start(tag: str, attrs: dict[str, str]) -> None:
        budget.element()
        if tag == _RELS + "Relationship" and attrs.get("TargetMode") != "External":
            kind, target = attrs.get("Type", ""), attrs.get("Target", "")
            path = target.lstrip("/") if target.startswith("/") else f"{base}/{target}"
            targets.setdefault(kind, posixpath.normpath(path).lstrip("/"))

    _parse(archive, rels, budget, start)
    return targets


def _core_properties(
    archive: zipfile.ZipFile, name: str, budget: _Budget
) -> tuple[str, datetime | None]:
    """The title and creation date of ``docProps/core.xml``."""
    texts: dict[str, list[str]] = {_DC_TITLE: [], _CREATED: []}
    depth: list[str] = []

    def start(tag: str, attrs: dict[str, str]) -> None:
        budget.element()
        depth.append(tag)

    def end(tag: str) -> None:
        depth.pop()

    def characters(data: str) -> None:
        if len(depth) == 2 and depth[1] in texts:
            budget.spend_text(data)
            texts[depth[1]].append(data)

    _parse(archive, name, budget, start, end, characters)
    created = "".join(texts[_CREATED]).strip()
    if created in _TEMPLATE_DATES:
        return "".join(texts[_DC_TITLE]).strip(), None  # the template's date, not the document's
    return "".join(texts[_DC_TITLE]).strip(), _w3cdtf(created)


def _styles(
    archive: zipfile.ZipFile, main: str, budget: _Budget
) -> dict[str | None, tuple[str, str]]:
    """Paragraph style names by style id (the first of each id); ``None`` maps to the default
    paragraph style. Without a styles part, a style's id stands for its name."""
    folder, base = posixpath.split(main)
    styles_part = _relations(archive, f"{folder}/_rels/{base}.rels", folder, budget).get(
        _STYLES_REL
    )
    found: dict[str | None, tuple[str, str]] = {}
    if styles_part not in archive.NameToInfo:
        return found
    current: list[str | None] = [None, None, None]  # id, type, default of the open w:style

    def start(tag: str, attrs: dict[str, str]) -> None:
        budget.element()
        if tag == _W + "style":
            current[:] = [attrs.get(_W + "styleId"), attrs.get(_TYPE), attrs.get(_W + "default")]
            if current[0] is not None:
                found.setdefault(current[0], (current[1] or "", ""))
        elif tag == _W + "name" and current[0] is not None:
            kind, name = current[1] or "", attrs.get(_VAL, "")
            if found.get(current[0]) == (kind, ""):
                found[current[0]] = (kind, name)
            if kind == "paragraph" and current[2] in ("1", "true", "on"):
                found[None] = (kind, name)

    _parse(archive, styles_part, budget, start)
    return found


def _style_name(styles: dict[str | None, tuple[str, str]], style_id: str | None) -> str:
    """The name of a paragraph's style, as python-docx resolves it (the default paragraph style
    for an unknown id or another type's)."""
    if not styles:
        return style_id or ""
    kind, name = styles.get(style_id, ("", ""))
    if kind != "paragraph":
        kind, name = styles.get(None, ("", ""))
    return name


def _w3cdtf(value: str) -> datetime | None:
    """A W3CDTF date ("2003", "2003-12-31", "2003-12-31T10:14:55-08:00"), in UTC."""
    for template in ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d", "%Y-%m", "%Y"):
        try:
            moment = datetime.strptime(value[:19], template)
        except ValueError:
            continue
        offset = _W3CDTF_OFFSET.match(value[19:])
        if offset:
            sign = -1 if offset[1] == "+" else 1
            moment += sign * timedelta(hours=int(offset[2]), minutes=int(offset[3]))
        return moment.replace(tzinfo=UTC)
    return None
