"""Real PDF and DOCX files for the tests, made here: a PDF with a text layer written by hand
(the format's own operators, no generator library), a scan-like PDF without one, and DOCX files
written by python-docx."""

from __future__ import annotations

import io
import zipfile
import zlib
from datetime import datetime


def pdf_with_text(pages: list[list[str]], title: str | None = None) -> bytes:
    """A PDF whose pages show these lines in Helvetica (WinAnsi: French accents included)."""
    objects: list[bytes] = []
    page_ids = [4 + 2 * i for i in range(len(pages))]
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    kids = " ".join(f"{i} 0 R" for i in page_ids).encode()
    objects.append(b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % len(pages))
    objects.append(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    )
    for number, lines in zip(page_ids, pages, strict=True):
        content = b"BT /F1 11 Tf 14 TL 50 780 Td\n"
        for line in lines:
            escaped = (
                line.encode("cp1252")
                .replace(b"\\", b"\\\\")
                .replace(b"(", b"\\(")
                .replace(b")", b"\\)")
            )
            content += b"(" + escaped + b") Tj T*\n"
        content += b"ET"
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (number + 1)
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
    info = None
    if title is not None:
        objects.append(
            b"<< /Title (" + title.encode("cp1252") + b") /CreationDate (D:20240305100000Z) >>"
        )
        info = len(objects)
    return _pdf(objects, info)


def pdf_without_text() -> bytes:
    """One page with a drawn rectangle and no text: what a scan looks like to a text extractor."""
    content = b"0 0 1 rg 100 100 300 300 re f"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    return _pdf(objects, None)


def _pdf(objects: list[bytes], info: int | None) -> bytes:
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    trailer = b"<< /Size %d /Root 1 0 R" % (len(objects) + 1)
    if info is not None:
        trailer += b" /Info %d 0 R" % info
    out.write(b"trailer\n" + trailer + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


def docx_with(paragraphs: list[str], title: str | None = None, heading: str | None = None) -> bytes:
    """A Word document: an optional Title-style heading, then the paragraphs."""
    import docx

    document = docx.Document()
    if heading is not None:
        document.add_heading(heading, level=0)
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    if title is not None:
        document.core_properties.title = title
    document.core_properties.created = datetime(2024, 3, 5, 10, 0)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def zip_bomb_docx(size: int) -> bytes:
    """A ZIP named .docx whose one member unpacks to ``size`` bytes of zeros."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"\0" * size)
    return out.getvalue()


# --- hostile documents: small on disk, huge once read ------------------------------------------

_SENTENCE = "Le volcan est entré en éruption et la lave a atteint la mer en quelques heures. "


def docx_with_body(body_xml: bytes) -> bytes:
    """A real DOCX (python-docx's template) whose ``word/document.xml`` body is ``body_xml``."""
    original = zipfile.ZipFile(io.BytesIO(docx_with(["x"], heading="Titre")))
    document = original.read("word/document.xml")
    head, _, rest = document.partition(b"<w:body>")
    tail = rest[rest.index(b"<w:sectPr") :]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for info in original.infolist():
            data = original.read(info.filename)
            if info.filename == "word/document.xml":
                data = head + b"<w:body>" + body_xml + tail
            archive.writestr(info.filename, data)
    return out.getvalue()


def docx_of_empty_paragraphs(count: int) -> bytes:
    """A DOCX of ``count`` empty paragraphs: a few bytes each once zipped."""
    return docx_with_body(b"<w:p/>" * count)


def docx_of_repeated_text(paragraphs: int, sentences: int = 20) -> bytes:
    """A DOCX whose ``paragraphs`` paragraphs all say the same ``sentences`` sentences."""
    text = (_SENTENCE * sentences).strip().encode()
    return docx_with_body((b"<w:p><w:r><w:t>" + text + b"</w:t></w:r></w:p>") * paragraphs)


def pdf_of_one_page_repeated(pages: int, lines: int, line: str = _SENTENCE) -> bytes:
    """A PDF of ``pages`` pages that all draw one compressed content stream of ``lines`` lines."""
    escaped = line.encode("cp1252").replace(b"(", b"\\(").replace(b")", b"\\)")
    content = b"BT /F1 11 Tf 14 TL 50 780 Td\n" + (b"(" + escaped + b") Tj T*\n") * lines + b"ET"
    packed = zlib.compress(content, 9)
    page_ids = [5 + i for i in range(pages)]
    kids = " ".join(f"{i} 0 R" for i in page_ids).encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(packed) + packed + b"\nendstream",
    ]
    objects += [
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R >>"
    ] * pages
    return _pdf(objects, None)


def pdf_of_repeated_drawing(pages: int, operations: int) -> bytes:
    """A PDF of ``pages`` pages that all draw one compressed stream of ``operations`` lines and
    no text."""
    content = b"0 0 m 10 10 l S\n" * operations
    packed = zlib.compress(content, 9)
    kids = " ".join(f"{4 + i} 0 R" for i in range(pages)).encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages,
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(packed) + packed + b"\nendstream",
    ]
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 3 0 R >>"] * pages
    return _pdf(objects, None)
