"""Tests of index.ingest.loader: every file format, bad files with their exact reasons, safe
names."""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from index.errors import ArticleLoadError
from index.ingest.loader import (
    SUPPORTED_SUFFIXES,
    article_from_bytes,
    article_id_for,
    load_article,
    load_articles,
    safe_filename,
)
from tests.support.sample_documents import pdf_with_text

SEED = Path(__file__).resolve().parents[3] / "seeds" / "000_7774940a137d78f0.txt"

PARA_1 = "Il existe environ vingt mille espèces d’abeilles dans le monde, selon les entomologistes."
PARA_2 = (
    "La plupart sont solitaires et ne produisent pas de miel, contrairement à l’abeille domestique."
)
PARA_3 = (
    "Les pesticides et la perte d’habitat menacent ces pollinisateurs essentiels à l’agriculture."
)


def _write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def _error(path: Path, **kwargs: int) -> str:
    with pytest.raises(ArticleLoadError) as caught:
        load_article(path, **kwargs)
    return str(caught.value)


# --- formats ---------------------------------------------------------------------------------


def test_seed_article() -> None:
    article = load_article(SEED)
    assert article.id == "000_7774940a137d78f0"
    assert article.title == "« Tirez sur les manifestants »"
    assert article.lang == "fr"
    assert article.source_path == str(SEED)
    assert article.url is None
    assert article.text.startswith("AGI – Le président kazakh")
    assert article.text.endswith("la sécurité des civils.")
    for gone in ("©", "Affrontements au Kazakhstan", "Lazarus Abraham", "Laisser un commentaire"):
        assert gone not in article.text
    expected = hashlib.sha256(f"{article.text}\n{article.title}".encode()).hexdigest()
    assert article.sha256 == expected


def test_txt(tmp_path: Path) -> None:
    path = _write(tmp_path, "Abeilles.txt", f"\n\n  Les abeilles  \n\n{PARA_1}\n\n{PARA_2}\n")
    article = load_article(path)
    assert (article.id, article.title) == ("abeilles", "Les abeilles")
    assert article.text == f"{PARA_1}\n\n{PARA_2}"
    assert article.lang == "fr"


def test_sha_changes_with_the_title(tmp_path: Path) -> None:
    one = load_article(_write(tmp_path, "a.txt", f"Titre un\n\n{PARA_1}"))
    two = load_article(_write(tmp_path, "b.txt", f"Titre deux\n\n{PARA_1}"))
    assert one.text == two.text
    assert one.sha256 != two.sha256


def test_markdown(tmp_path: Path) -> None:
    source = (
        "Intro line before the title.\n\n"
        "# Les *abeilles* sauvages\n\n"
        "![Une abeille](https://example.org/abeille.jpg)\n\n"
        'Il existe **vingt mille** espèces, selon [le muséum](https://mnhn.fr "MNHN").\n\n'
        "## Où vivent-elles ?\n\n"
        "* Dans le _bois mort_ ;\n"
        "* dans le sol.\n\n"
        "> Elles ne piquent presque jamais.\n\n"
        "```\nnid = trouver_nid(sol)\n```\n\n"
        "Le nom `snake_case_name` reste intact.\n\n"
        "---\n\n"
        "[1]: https://example.org/ref\n"
    )
    article = load_article(_write(tmp_path, "bees.md", source))
    assert article.title == "Les abeilles sauvages"
    assert article.text == (
        "Intro line before the title.\n\n"
        "Il existe vingt mille espèces, selon le muséum.\n\n"
        "Où vivent-elles ?\n\n"
        "- Dans le bois mort ;\n"
        "- dans le sol.\n\n"
        "Elles ne piquent presque jamais.\n\n"
        "nid = trouver_nid(sol)\n\n"
        "Le nom snake_case_name reste intact."
    )


def test_markdown_front_matter_and_first_line_title(tmp_path: Path) -> None:
    source = (
        "---\ndate: 2024-03-05\nurl: https://example.org/bees\n---\n"
        "**Bees** of the world\n\n"
        "Bees are flying insects closely related to wasps and ants, known for pollination.\n"
    )
    article = load_article(_write(tmp_path, "bees.md", source))
    assert article.title == "Bees of the world"
    assert article.text.startswith("Bees are flying insects")
    assert (article.date, article.url, article.lang) == (
        "2024-03-05",
        "https://example.org/bees",
        "en",
    )


@pytest.mark.parametrize(
    "header",
    [
        "outlet: Le Journal\ntags: Grève, transports",
        "source: 'Le Journal'\ntags: [grève, \"Transports\"]\npublished: 2026-12-01",
    ],
)
def test_markdown_front_matter_gives_outlet_and_tags(tmp_path: Path, header: str) -> None:
    source = f"---\ntitle: Les grèves\ndate: 2026-12-01\n{header}\n---\n\n{PARA_1}\n"
    article = load_article(_write(tmp_path, "greves.md", source))
    assert (article.title, article.outlet, article.tags) == (
        "Les grèves",
        "Le Journal",
        ("grève", "transports"),
    )
    assert article.published == "2026-12-01"


def test_a_markdown_title_repeated_as_its_heading_leaves_the_text(tmp_path: Path) -> None:
    # Issue 23, item 8: with the title in the front matter, the "# title" under it stayed in the
    # text, and the title became the bold "best sentence" of the answers.
    for heading in ("# Les grèves", "Les grèves\n==========", "#  LES  GRÈVES  #"):
        source = (
            f"---\ntitle: Les grèves\n---\n\n{heading}\n\n{PARA_1}\n\n## Le bilan\n\n{PARA_2}\n"
        )
        article = load_article(_write(tmp_path, "greves.md", source))
        assert (article.title, article.text) == ("Les grèves", f"{PARA_1}\n\nLe bilan\n\n{PARA_2}")
    other = f"---\ntitle: Les grèves\n---\n\n# Un autre titre\n\n{PARA_1}\n"
    assert load_article(_write(tmp_path, "autre.md", other)).text == f"Un autre titre\n\n{PARA_1}"


def test_a_pdf_title_repeated_as_its_first_line_leaves_the_text() -> None:
    page = ["Les abeilles en danger", PARA_1, PARA_2]
    article = article_from_bytes(
        "abeilles.pdf", pdf_with_text([page], title="Les abeilles en danger")
    )
    assert article.title == "Les abeilles en danger"
    assert article.text == f"{PARA_1} {PARA_2}"  # two lines of one paragraph


def test_markdown_setext_title(tmp_path: Path) -> None:
    article = load_article(_write(tmp_path, "s.md", f"Le titre\n========\n\n{PARA_1}\n"))
    assert (article.title, article.text) == ("Le titre", PARA_1)


HTML = f"""<!doctype html><html lang="fr"><head><meta charset="utf-8">
<title>Les abeilles en danger | Le Journal</title>
<meta property="og:title" content="Les abeilles en danger">
<meta property="og:url" content="https://example.org/abeilles">
<meta property="article:published_time" content="2024-03-05T10:00:00Z">
</head><body><nav><a href="/">Accueil</a> <a href="/monde">Monde</a></nav>
<article><h1>Les abeilles en danger</h1>
<p>{PARA_1}</p><p>{PARA_2}</p><p>{PARA_3}</p>
</article><footer>© 2024 Le Journal. Tous droits réservés.</footer></body></html>"""


@pytest.mark.parametrize("suffix", [".html", ".htm"])
def test_html(tmp_path: Path, suffix: str) -> None:
    article = load_article(_write(tmp_path, f"page{suffix}", HTML))
    assert article.title == "Les abeilles en danger"
    assert article.text == f"{PARA_1}\n\n{PARA_2}\n\n{PARA_3}"
    assert (article.url, article.date, article.lang) == (
        "https://example.org/abeilles",
        "2024-03-05",
        "fr",
    )


def test_html_without_metadata_uses_the_given_url() -> None:
    html = f"<html><body><p>{PARA_1}</p><p>{PARA_2}</p></body></html>"
    article = article_from_bytes("page.html", html.encode(), url="https://example.org/x")
    assert article.url == "https://example.org/x"
    assert article.title == PARA_1  # no <title>: the first short line stands in
    assert article.text == PARA_2
    assert article.source_path is None


def test_html_without_text(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "empty.html", "<html><head><title>Rien</title></head><body></body></html>"
    )
    assert _error(path) == "no article text found in the HTML"


def test_json(tmp_path: Path) -> None:
    data = {"title": "Abeilles", "text": f"{PARA_1}\n\n© AFP\n\n{PARA_2}", "url": "https://x.org"}
    article = load_article(_write(tmp_path, "a.json", json.dumps(data, ensure_ascii=False)))
    assert (article.title, article.url, article.date) == ("Abeilles", "https://x.org", None)
    assert article.text == f"{PARA_1}\n\n{PARA_2}"


def test_json_with_date_and_upload_url() -> None:
    data = json.dumps({"title": "T", "text": PARA_1, "date": "2022-01-08"}).encode()
    article = article_from_bytes("upload.json", data, url="https://fetched.example")
    assert (article.date, article.url, article.id) == (
        "2022-01-08",
        "https://fetched.example",
        "upload",
    )


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ('["title", "text"]', "JSON must be an object with 'title' and 'text'"),
        ('"just a string"', "JSON must be an object with 'title' and 'text'"),
        ('{"title": "T"}', "JSON must be an object with 'title' and 'text'"),
        ('{"text": "Du texte."}', "JSON must be an object with 'title' and 'text'"),
        ('{"title": 3, "text": "Du texte."}', "JSON must be an object with 'title' and 'text'"),
        ('{"title": "T", "text": ["a", "b"]}', "JSON must be an object with 'title' and 'text'"),
        ('{"title": "T", "text": "Du texte.", "url": 5}', "JSON field 'url' must be a string"),
        ('{"title": "T", "text": "Du texte.", "date": {}}', "JSON field 'date' must be a string"),
        ('{"title": "T", "text": "   "}', "no article text found"),
        ('{"title": "T", "text": ', "invalid JSON: Expecting value (line 1)"),
        ("[" * 100_000 + "]" * 100_000, "invalid JSON: nested too deeply"),
        (
            '{"title": "T", "text": "Du texte \\ud800 ici."}',
            "invalid JSON: text contains a lone surrogate (\\ud800-\\udfff)",
        ),
        (
            '{"title": "\\udfffT", "text": "Du texte."}',
            "invalid JSON: text contains a lone surrogate (\\ud800-\\udfff)",
        ),
    ],
)
def test_bad_json(tmp_path: Path, content: str, reason: str) -> None:
    assert _error(_write(tmp_path, "bad.json", content)) == reason


# --- bad files -------------------------------------------------------------------------------


def test_empty_file(tmp_path: Path) -> None:
    assert _error(_write(tmp_path, "empty.txt", b"")) == "empty file"
    assert _error(_write(tmp_path, "blank.txt", "  \n\n\t\n")) == "empty file"


def test_title_only(tmp_path: Path) -> None:
    assert _error(_write(tmp_path, "t.txt", "Un titre seul\n")) == "no article text found"


def test_only_boilerplate(tmp_path: Path) -> None:
    path = _write(tmp_path, "b.txt", "Titre\n\nLaisser un commentaire\n\nNom *")
    assert _error(path) == "no article text found"


def test_latin1_file_is_decoded(tmp_path: Path) -> None:
    text = (
        "Les abeilles\n\nLes abeilles sont très menacées à cause des pesticides, déclare l'été.\n"
    )
    article = load_article(_write(tmp_path, "latin.txt", text.encode("latin-1")))
    assert article.text == "Les abeilles sont très menacées à cause des pesticides, déclare l'été."


def test_cp1251_russian_is_not_read_as_latin1(tmp_path: Path) -> None:
    text = "Пчёлы\n\nПчёлы очень важны для сельского хозяйства, говорят учёные во всём мире.\n"
    article = load_article(_write(tmp_path, "ru.txt", text.encode("cp1251")))
    assert article.title == "Пчёлы"
    assert article.lang == "ru"


def test_utf8_bom_and_utf16(tmp_path: Path) -> None:
    text = f"Titre\n\n{PARA_1}\n"
    for name, data in (
        ("bom.txt", b"\xef\xbb\xbf" + text.encode()),
        ("u16.txt", text.encode("utf-16")),
    ):
        article = load_article(_write(tmp_path, name, data))
        assert (article.title, article.text) == ("Titre", PARA_1)


def test_random_bytes_are_rejected(tmp_path: Path) -> None:
    noise = random.Random(0).randbytes(4096)
    assert _error(_write(tmp_path, "noise.txt", noise)) == "binary file, not text"
    without_nul = bytes(b for b in noise if b)
    assert _error(_write(tmp_path, "noise2.txt", without_nul)) == (
        "not valid UTF-8 or any known encoding"
    )


def test_control_characters_are_rejected(tmp_path: Path) -> None:
    data = bytes(range(1, 9)) * 100 + b"un peu de texte"
    assert _error(_write(tmp_path, "ctl.txt", data)) == "binary file, not text"


def test_oversized_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "big.txt", f"Titre\n\n{PARA_1}\n" * 20)
    assert _error(path, max_bytes=100) == "file is larger than 100 bytes"
    assert _error(path, max_bytes=1_000) == "file is larger than 1 KB"
    with pytest.raises(ArticleLoadError) as caught:
        article_from_bytes("big.txt", b"x" * 5_000_001)
    assert str(caught.value) == "file is larger than 5 MB"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("paper.odt", "unsupported file type '.odt' (use .txt, .md, .html, .json, .pdf or .docx)"),
        ("Photo.JPG", "unsupported file type '.jpg' (use .txt, .md, .html, .json, .pdf or .docx)"),
        (
            "README",
            "unsupported file type (no extension) (use .txt, .md, .html, .json, .pdf or .docx)",
        ),
    ],
)
def test_unsupported_suffix(tmp_path: Path, name: str, reason: str) -> None:
    assert _error(_write(tmp_path, name, "Titre\n\nTexte.")) == reason


def test_upper_case_suffix_is_supported(tmp_path: Path) -> None:
    assert load_article(_write(tmp_path, "NOTES.TXT", f"Titre\n\n{PARA_1}")).id == "notes"


def test_missing_file(tmp_path: Path) -> None:
    assert _error(tmp_path / "nope.txt") == "cannot read the file (No such file or directory)"


# --- folders ---------------------------------------------------------------------------------


def test_load_articles(tmp_path: Path) -> None:
    shutil.copy(SEED, tmp_path / SEED.name)
    _write(tmp_path, "b.md", f"# B\n\n{PARA_1}")
    _write(tmp_path, "B.txt", f"B again\n\n{PARA_2}")
    _write(tmp_path, "c.odt", b"PK")
    _write(tmp_path, "d.txt", b"")
    _write(tmp_path, ".hidden.txt", f"Hidden\n\n{PARA_1}")
    (tmp_path / "sub").mkdir()
    _write(tmp_path / "sub", "e.txt", f"Nested\n\n{PARA_1}")

    articles, problems = load_articles(tmp_path)

    assert [a.id for a in articles] == ["000_7774940a137d78f0", "b"]
    assert [a.title for a in articles] == ["« Tirez sur les manifestants »", "B again"]
    assert [(p.path, str(p.reason)) for p in problems] == [
        (str(tmp_path / "b.md"), "duplicate article id 'b' (also from B.txt)"),
        (
            str(tmp_path / "c.odt"),
            "unsupported file type '.odt' (use .txt, .md, .html, .json, .pdf or .docx)",
        ),
        (str(tmp_path / "d.txt"), "empty file"),
    ]


def test_hostile_files_are_named_and_the_rest_is_loaded(tmp_path: Path) -> None:
    # Each of these once stalled or aborted a whole reindex (issue 8, findings 2, 3 and 8).
    shutil.copy(SEED, tmp_path / SEED.name)
    _write(tmp_path, "deep.json", "[" * 100_000 + "]" * 100_000)
    _write(tmp_path, "surrogate.json", '{"title": "T", "text": "\\ud800"}')
    _write(tmp_path, "stars.md", "# Étoiles\n\n" + " *a" * 20_000)
    _write(tmp_path, "dots.txt", "Points\n\n" + "a. " * 60_000)

    articles, problems = load_articles(tmp_path)

    assert [a.id for a in articles] == ["000_7774940a137d78f0", "dots", "stars"]
    assert [(p.path, str(p.reason)) for p in problems] == [
        (str(tmp_path / "deep.json"), "invalid JSON: nested too deeply"),
        (
            str(tmp_path / "surrogate.json"),
            "invalid JSON: text contains a lone surrogate (\\ud800-\\udfff)",
        ),
    ]


def test_load_articles_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ArticleLoadError) as caught:
        load_articles(tmp_path / "missing")
    assert str(caught.value) == f"the articles folder '{tmp_path / 'missing'}' does not exist"


# --- names -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("000_7774940a137d78f0.txt", "000_7774940a137d78f0"),
        ("Élection Présidentielle 2022.md", "election-presidentielle-2022"),
        ("a  b!!c.txt", "a-b-c"),
        ("--x--.txt", "x"),
        ("x" * 100 + ".txt", "x" * 55 + "-" + "09ecb6eb"),  # cut, with a hash of the whole
    ],
)
def test_article_id_for(name: str, expected: str) -> None:
    assert article_id_for(Path(name)) == expected


def test_article_id_for_unusable_name_is_stable_and_distinct() -> None:
    one, two = article_id_for(Path("💥.md")), article_id_for(Path("🔥.md"))
    assert one.startswith("article-") and two.startswith("article-")
    assert one != two and one == article_id_for(Path("💥.md"))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd.txt"),
        ("..\\..\\win.ini", "win.txt"),
        ("/abs/path.txt", "path.txt"),
        ("\x00evil.txt", "evil.txt"),
        ("   ", "article.txt"),
        ("", "article.txt"),
        ("..", "article.txt"),
        (".bashrc", "bashrc.txt"),
        ("💥.md", "article.md"),
        ("Mon article (v2).HTML", "Mon-article-v2.html"),
        ("ﬁchier.json", "fichier.json"),
        ("report.odt", "report.txt"),
        ("report.PDF", "report.pdf"),
        ("-rf .txt", "rf.txt"),
    ],
)
def test_safe_filename(name: str, expected: str) -> None:
    assert safe_filename(name) == expected


def test_safe_filename_long_name_and_default_ext() -> None:
    long = safe_filename("a" * 300 + ".md")
    assert long == "a" * 77 + ".md"
    assert len(long) == 80
    assert safe_filename("page", default_ext=".html") == "page.html"


def test_safe_filename_output_is_always_loadable_suffix() -> None:
    for name in ("../../etc/passwd", "x.exe", "💥", "a.b.c.htm"):
        assert Path(safe_filename(name)).suffix in SUPPORTED_SUFFIXES


def test_long_names_that_share_a_beginning_keep_distinct_ids() -> None:
    # Cut to 64 characters they were equal, and one article was skipped as a duplicate.
    stem = "organisation-des-nations-unies-pour-l-education-la-science-et-la-culture"
    first, second = (article_id_for(Path(f"{stem}-copy{n}.txt")) for n in (1, 2))
    assert first != second
    assert len(first) == len(second) == 64


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("stars.md", "# Étoiles\n\n" + " *a" * 66_000),  # finding 2: minutes before, now ms
        ("dots.txt", "Points\n\n" + "a. " * 66_000),  # finding 3: pysbd took minutes
    ],
)
def test_the_reviews_worst_inputs_no_longer_stall_a_process(
    tmp_path: Path, name: str, content: str
) -> None:
    # A hang guard, not a speed target (bench.ingest_worst has the figures): 200 KB that kept
    # the old code busy for minutes must load and chunk in a process given 30 s.
    path = _write(tmp_path, name, content)
    script = (
        "import sys; from pathlib import Path; from index.ingest.loader import load_article; "
        "from index.retrieval.chunk import chunk_article; "
        "print(len(chunk_article(load_article(Path(sys.argv[1])))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert int(done.stdout) > 0
