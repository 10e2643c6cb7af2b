"""PDF and DOCX articles: text, title and date out of real files; broken, scanned, encrypted
and inflating files refused with their exact reasons."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from index.errors import ArticleLoadError
from index.ingest import article_from_bytes, load_articles
from tests.documents import docx_with, pdf_with_text, pdf_without_text, zip_bomb_docx

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
        (zip_bomb_docx(10), "not a readable DOCX file (KeyError)"),  # no [Content_Types].xml
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
    assert [(Path(p.path).name, p.reason) for p in problems] == [
        (
            "scan.pdf",
            "the PDF has no text layer (a scan?): run it through OCR first, then send it again",
        )
    ]
