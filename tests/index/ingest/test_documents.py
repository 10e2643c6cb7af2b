"""PDF and DOCX articles: text, title and date out of real files; broken, scanned, encrypted
and inflating files refused with their exact reasons."""

from __future__ import annotations

import io
import random
import statistics
import zipfile
from pathlib import Path

import pytest

from index.errors import ArticleLoadError
from index.ingest.documents import pdf_paragraphs_from_lines
from index.ingest.loader import article_from_bytes, load_articles
from tests.support.sample_documents import (
    docx_of_empty_paragraphs,
    docx_of_repeated_text,
    docx_with,
    docx_with_body,
    pdf_of_one_page_repeated,
    pdf_of_repeated_drawing,
    pdf_with_text,
    pdf_without_text,
    zip_bomb_docx,
)

PAGE_1 = [
    "La crise au Kazakhstan",
    "Les protestations qui ont commencé en réponse à l'augmentation des prix du GPL se",
    "sont étendues à tout le pays en quelques jours, jusqu'à la ville d'Almaty, où les mani-",
    "festants ont occupé la mairie.",
    "Le président a limogé le gouvernement le 5 janvier et décrété l'état d'urgence dans",
    "plusieurs régions du pays, avant d'appeler des troupes étrangères.",
]
PAGE_2 = ["Le calme est revenu au bout d'une semaine, selon les autorités."]


def _refusal(name: str, data: bytes, max_bytes: int = 2_000_000) -> str:
    with pytest.raises(ArticleLoadError) as caught:
        article_from_bytes(name, data, max_bytes=max_bytes)
    return str(caught.value)


def test_pdf_text_layer_becomes_paragraphs() -> None:
    article = article_from_bytes("crise.pdf", pdf_with_text([PAGE_1, PAGE_2], title="La crise"))
    assert article.title == "La crise"
    assert article.text.split("\n\n") == [
        "La crise au Kazakhstan",
        "Les protestations qui ont commencé en réponse à l'augmentation des prix du GPL se "
        "sont étendues à tout le pays en quelques jours, jusqu'à la ville d'Almaty, où les "
        "manifestants ont occupé la mairie.",  # a short line ending a sentence ends a paragraph
        "Le président a limogé le gouvernement le 5 janvier et décrété l'état d'urgence dans plusieurs régions du pays, avant d'appeler des "
        "troupes étrangères.",
        "Le calme est revenu au bout d'une semaine, selon les autorités.",
    ]
    assert (article.date, article.published, article.lang) == (
        "2024-03-05T10:00:00Z",
        "2024-03-05T10:00:00Z",
        "fr",
    )


def test_pdf_without_title_metadata_takes_its_first_line() -> None:
    article = article_from_bytes("crise.pdf", pdf_with_text([PAGE_1]))
    assert article.title == "La crise au Kazakhstan"
    assert article.published is None


def _reflow_reference(lines: list[str]) -> list[str]:
    """``pdf_paragraphs_from_lines`` written the slow way: the paragraph a string, searched
    whole at each line (51 s for a 200 KB paragraph), with the same rules."""
    from index.ingest.documents import _HYPHENATED, _SENTENCE_END, _SHORT_LINE, _heading_line

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
        ends_sentence = bool(_SENTENCE_END.search(line))
        if current and _SENTENCE_END.search(current) and _heading_line(line, ends_sentence, usual):
            paragraphs.append(current)
            current = ""
        if not current:
            current = line
        elif _HYPHENATED.search(current) and line[:1].islower():
            current = current[:-1] + line
        else:
            current = f"{current} {line}"
        heading = current == line and _heading_line(line, ends_sentence, usual)
        if (heading and not line.endswith("-")) or (
            ends_sentence and len(line) < _SHORT_LINE * usual
        ):
            paragraphs.append(current)
            current = ""
    if current:
        paragraphs.append(current)
    return paragraphs


def test_pdf_reflow_is_the_same_as_before_in_linear_time() -> None:
    words = ["mot", "com-", "mencé", "a", "-", "é-", "Fin.", "x", "", "Titre", "long" * 9, "b."]
    rng = random.Random(22)
    for _ in range(3000):
        lines = [
            " ".join(rng.choice(words) for _ in range(rng.randint(0, 4)))
            for _ in range(rng.randint(0, 12))
        ]
        assert pdf_paragraphs_from_lines(lines) == _reflow_reference(lines), lines


def test_scanned_pdf_is_refused_not_indexed_empty() -> None:
    assert _refusal("scan.pdf", pdf_without_text()) == (
        "the PDF has no text layer (a scan?): run it through OCR first, then send it again"
    )


def test_encrypted_pdf_is_refused() -> None:
    from pypdf import PdfWriter

    writer = PdfWriter(clone_from=io.BytesIO(pdf_with_text([PAGE_1])))
    writer.encrypt("secret", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    assert _refusal("secret.pdf", out.getvalue()) == (
        "the PDF is encrypted: send a copy without a password"
    )


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.4\n",
        b"not a pdf at all, only words",
        pdf_with_text([PAGE_1])[:300],  # truncated: no cross-reference table, no trailer
        b"%PDF-1.4\n" + b"\x00\xff" * 500,
    ],
)
def test_broken_pdf_is_refused(data: bytes) -> None:
    assert _refusal("broken.pdf", data).startswith("not a readable PDF (")


def test_empty_pdf_or_docx_is_an_empty_file() -> None:
    assert _refusal("vide.pdf", b"") == "empty file"
    assert _refusal("vide.docx", b"") == "empty file"


def test_docx_paragraphs_title_and_date() -> None:
    data = docx_with(
        ["Le volcan est entré en éruption.", "", "La lave a atteint la mer."], heading="Le volcan"
    )
    article = article_from_bytes("volcan.docx", data)
    assert article.title == "Le volcan"
    assert article.text == "Le volcan est entré en éruption.\n\nLa lave a atteint la mer."
    assert article.published == "2024-03-05T10:00:00Z"
    titled = article_from_bytes("v.docx", docx_with(["Un texte."], title="Titre du document"))
    assert titled.title == "Titre du document"


def test_docx_that_inflates_is_refused_before_parsing() -> None:
    bomb = zip_bomb_docx(50_000_000)
    assert len(bomb) < 100_000
    assert _refusal("bomb.docx", bomb) == "the DOCX file unpacks to too much data"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"PK\x03\x04 only a header", "not a readable DOCX file (not a ZIP archive)"),
        (b"plain words, not a zip", "not a readable DOCX file (not a ZIP archive)"),
        (zip_bomb_docx(10), "not a readable DOCX file (no main document part)"),  # no _rels
        (docx_with([]), "the DOCX file has no text"),
    ],
)
def test_broken_docx_is_refused(data: bytes, reason: str) -> None:
    assert _refusal("broken.docx", data) == reason


def test_seeds_folder_loads_pdf_and_docx(tmp_path: Path) -> None:
    (tmp_path / "crise.pdf").write_bytes(pdf_with_text([PAGE_1]))
    (tmp_path / "volcan.docx").write_bytes(docx_with(["La lave a atteint la mer."], heading="V"))
    (tmp_path / "scan.pdf").write_bytes(pdf_without_text())
    articles, problems = load_articles(tmp_path)
    assert [a.id for a in articles] == ["crise", "volcan"]
    assert [(Path(p.path).name, str(p.reason)) for p in problems] == [
        (
            "scan.pdf",
            "the PDF has no text layer (a scan?): run it through OCR first, then send it again",
        )
    ]


# --- DOCX read as a stream: what python-docx gave, and every cap with its reason -------------


def _python_docx(data: bytes) -> tuple[str, str, str | None]:
    """The reference: title, text and date as the DOM of python-docx gave them (the code before
    the streamed reader, for documents of a sane size)."""
    import docx

    from index.ingest.documents import iso_date

    document = docx.Document(io.BytesIO(data))
    paragraphs = [p.text.strip() for p in document.paragraphs]
    headings = [
        p.text.strip()
        for p in document.paragraphs
        if p.text.strip() and (p.style is not None and (p.style.name or "").startswith("Title"))
    ]
    properties = document.core_properties
    title = (properties.title or "").strip() or (headings[0] if headings else "")
    body = [p for p in paragraphs if p]
    if title and body and body[0] == title:
        body = body[1:]
    date = iso_date(properties.created)
    # One change on purpose: python-docx's template's own date is no document's date.
    return title, "\n\n".join(body), None if date == "2013-12-23T23:15:00Z" else date


def test_a_docx_left_with_its_templates_date_is_undated() -> None:
    """Issue 23: a DOCX made from python-docx's template was dated 23 December 2013."""
    import docx

    document = docx.Document()
    document.add_paragraph("Le conseil municipal a voté le budget de l'année prochaine.")
    out = io.BytesIO()
    document.save(out)
    assert article_from_bytes("budget.docx", out.getvalue()).published is None
    dated = article_from_bytes("volcan.docx", docx_with(["Le volcan est entré en éruption."]))
    assert dated.published == "2024-03-05T10:00:00Z"  # a date its maker set is kept


def _runs_docx() -> bytes:
    """python-docx's own runs: bold, a tab, a line break, a page break, a heading level 1."""
    import docx
    from docx.enum.text import WD_BREAK

    document = docx.Document()
    document.add_heading("Le Piton", level=1)
    paragraph = document.add_paragraph("La lave ")
    paragraph.add_run("a atteint").bold = True
    run = paragraph.add_run(" la mer")
    run.add_tab()
    run.add_text("le 5 mars")
    run.add_break()
    run.add_text("à l'aube")
    run.add_break(WD_BREAK.PAGE)
    run.add_text(".")
    document.add_paragraph("Les coulées ont ralenti.", style="List Bullet")
    document.add_table(rows=1, cols=1).cell(0, 0).text = "Une cellule, que python-docx ignore."
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


_W_RUN = b"<w:r><w:t>%s</w:t></w:r>"
_ODD_BODY = (
    # A Title-styled paragraph after the first; an unknown style; a hyperlink's runs; runs in an
    # insertion and a content control (python-docx reads neither); no-break hyphen and ptab.
    b"<w:p>" + _W_RUN % b"Avant le titre" + b"</w:p>"
    b'<w:p><w:pPr><w:pStyle w:val="Title"/></w:pPr>' + _W_RUN % b"Le vrai titre" + b"</w:p>"
    b'<w:p><w:pPr><w:pStyle w:val="NoSuchStyle"/></w:pPr>' + _W_RUN % b"Sans style" + b"</w:p>"
    b'<w:p><w:hyperlink r:id="rId9">' + _W_RUN % b"un lien" + b"</w:hyperlink>"
    b"<w:ins>" + _W_RUN % b"ins\xc3\xa9r\xc3\xa9" + b"</w:ins>"
    b'<w:r><w:t xml:space="preserve"> et </w:t><w:noBreakHyphen/><w:ptab/><w:cr/></w:r></w:p>'
    b"<w:sdt><w:sdtContent><w:p>" + _W_RUN % b"Contr\xc3\xb4le" + b"</w:p></w:sdtContent></w:sdt>"
    b"<w:p><w:r><w:t>A &amp; B &lt; C</w:t></w:r></w:p>"
)


@pytest.mark.parametrize(
    "data",
    [
        docx_with(
            ["Le volcan est entré en éruption.", "", "La lave a atteint la mer."], heading="V"
        ),
        docx_with(["Un texte."], title="Titre du document"),
        docx_with(["Titre", "Le texte."], title="Titre"),
        docx_with(["Sans titre ni date, une phrase."]),
        _runs_docx(),
        docx_with_body(_ODD_BODY),
    ],
    ids=["heading", "core-title", "title-repeated", "plain", "runs", "odd-body"],
)
def test_docx_reads_what_python_docx_read(data: bytes) -> None:
    from index.ingest.wordml import docx_text

    document = docx_text(data, 2_000_000)
    assert (document.title, document.text, document.date) == _python_docx(data)


def test_docx_of_the_finding_is_refused_at_the_paragraph_cap() -> None:
    bomb = docx_of_empty_paragraphs(5_000_000)  # python-docx: 276 s and 1.7 GB, then "no text"
    assert len(bomb) < 100_000
    assert _refusal("empty.docx", bomb) == "the DOCX file has more than 100,000 paragraphs"


def test_docx_elements_are_capped() -> None:
    runs = docx_with_body(b"<w:p>" + b"<w:r/>" * 1_100_000 + b"</w:p>")
    assert _refusal("runs.docx", runs) == "the DOCX file has more than 1,000,000 XML elements"


def test_docx_text_over_the_upload_limit_is_refused() -> None:
    long = docx_of_repeated_text(1600)  # 2.6 M characters from 45 KB
    assert len(long) < 100_000
    assert _refusal("long.docx", long) == "the text is over the 2 MB limit"
    assert _refusal("long.docx", docx_of_repeated_text(100), 100_000) == (
        "the text is over the 100 KB limit"
    )
    # Just under: 60 paragraphs of 1,599 characters and their breaks fit in 100 KB.
    assert len(article_from_bytes("fits.docx", docx_of_repeated_text(60), max_bytes=100_000).text)


def test_docx_with_a_dtd_is_refused_entities_never_expanded() -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY a "hahahahahahahahahaha">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        b"<w:body><w:p><w:r><w:t>&c;</w:t></w:r></w:p></w:body></w:document>"
    )
    data = _replace_member(docx_with(["x"]), "word/document.xml", laughs)
    assert _refusal("laughs.docx", data) == "not a readable DOCX file (its XML declares a DTD)"


def test_docx_whose_header_understates_a_part_is_refused() -> None:
    """The sizes a ZIP declares are checked first; then what is actually read is what counts."""
    data = bytearray(docx_of_repeated_text(200))
    name = b"word/document.xml"
    entry = data.index(b"PK\x01\x02")  # the central directory's first entry
    while data[entry + 46 : entry + 46 + len(name)] != name:
        entry = data.index(b"PK\x01\x02", entry + 4)
    data[entry + 24 : entry + 28] = (1000).to_bytes(4, "little")  # declares 1,000 bytes
    assert _refusal("lying.docx", bytes(data)) == "not a readable DOCX file (BadZipFile)"


def _replace_member(data: bytes, name: str, content: bytes) -> bytes:
    original = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in original.infolist():
            archive.writestr(
                info.filename, content if info.filename == name else original.read(info)
            )
    return out.getvalue()


# --- PDF: pages, content, time and text capped -----------------------------------------------


def test_pdf_text_over_the_upload_limit_stops_the_reading() -> None:
    long = pdf_of_one_page_repeated(500, 200)  # 8 M characters from 78 KB: 64 s before
    assert len(long) < 100_000
    assert _refusal("long.pdf", long, 100_000) == "the text is over the 100 KB limit"
    assert article_from_bytes("fits.pdf", pdf_of_one_page_repeated(5, 200), max_bytes=100_000)


def test_pdf_content_is_capped_even_without_text() -> None:
    drawing = pdf_of_repeated_drawing(100, 2000)  # 32 KB of lines per page, no text
    assert len(drawing) < 50_000
    assert _refusal("drawing.pdf", drawing, 50_000) == (
        "the PDF's pages hold more than 250 KB of content"
    )


def test_pdf_page_time_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    import index.ingest.documents

    monkeypatch.setattr(index.ingest.documents, "MAX_PDF_PAGE_SECONDS", 0.0)
    assert _refusal("slow.pdf", pdf_with_text([PAGE_1])) == (
        "a page of the PDF takes more than 0 s to read"
    )
