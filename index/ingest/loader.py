"""Load articles from files (.txt, .md, .html, .json, .pdf, .docx) into cleaned ``Article``s.

Besides title and text, each format gives what it knows of the article's source: its URL,
publication date (kept as ISO 8601 in ``published`` for the date filters, as written in
``date``), outlet and tags: HTML metadata (trafilatura: site name, date, tags), JSON fields,
Markdown front matter, a PDF's or DOCX's document properties.

>>> article = load_article(Path("seeds/000_7774940a137d78f0.txt"))
>>> article.id, article.lang
('000_7774940a137d78f0', 'fr')
"""

from __future__ import annotations

import codecs
import hashlib
import json
import logging
import re
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path, PurePath, PurePosixPath
from urllib.parse import urlsplit

import charset_normalizer
import trafilatura

from index.errors import ArticleLoadError
from index.ingest.clean import clean_text
from index.ingest.corrections import correction_bytes, read_correction
from index.ingest.dates import published_iso
from index.ingest.documents import pdf_text, size_text
from index.ingest.lang import detect_language
from index.ingest.markdown import markdown_to_text
from index.ingest.wordml import docx_text
from index.models import Article, LoadProblem
from index.reasons import Reason

__all__ = [
    "MAX_BYTES",
    "PARSER_VERSION",
    "SUPPORTED_SUFFIXES",
    "article_from_bytes",
    "article_id_for",
    "load_article",
    "load_articles",
    "load_or_problem",
    "safe_filename",
    "source_digest",
    "source_file_digest",
]

logger = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".json", ".pdf", ".docx")
_BINARY_SUFFIXES = (".pdf", ".docx")
# Bump when loading or cleaning changes what a file gives: a sync then parses every file again
# (and embeds only the passages whose text changed).
# 2: outlet, publication date and tags. 3: a Markdown or PDF title said again by the first
# heading leaves the text; sentences keep their closing quotes and headings stand alone;
# front matter outlet and tags; no NUL in any field; DOCX read as a stream.
PARSER_VERSION = 3
MAX_BYTES = 5_000_000
_MAX_ID_CHARS = 64
_MAX_FILENAME_CHARS = 80
# Decoded text with more control characters than this is not an article, whatever its bytes.
_MAX_CONTROL_RATIO = 0.1
# Latin-1/cp1252 text: accented letters are a minority among letters; in a cp1251 Russian or
# cp1253 Greek file decoded as cp1252 nearly every letter is "accented".
_MAX_WESTERN_ACCENT_RATIO = 0.3
_WESTERN_EXTRAS = frozenset("«»‘’‚“”„–—…•€œŒšŠžŽŸ°·§©®±×÷¡¿ªº¼½¾\u00a0")
_UTF_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Unicode "Cc" characters other than tab and line breaks.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")
_JSON_SHAPE = "JSON must be an object with 'title' and 'text'"
MAX_TAGS = 20
MAX_TAG_CHARS = 50
MAX_OUTLET_CHARS = 200


@dataclass(frozen=True, slots=True)
class _Source:
    """What one file says about its article, before cleaning."""

    title: str
    text: str
    url: str | None = None
    date: str | None = None
    outlet: str | None = None
    tags: tuple[str, ...] = ()
    feed: str | None = None


def load_article(path: Path, max_bytes: int = MAX_BYTES) -> Article:
    """Read and clean one article file; ``ArticleLoadError`` says why it is not usable."""
    _check_suffix(path.name)
    try:
        if path.stat().st_size > max_bytes:
            raise ArticleLoadError(_too_large(max_bytes))
        data = path.read_bytes()
    except OSError as exc:
        raise ArticleLoadError(
            Reason("unreadable_file", {"error": str(exc.strerror or exc)})
        ) from exc
    return _parse(
        path.name,
        data,
        url=None,
        source_path=str(path),
        max_bytes=max_bytes,
        correction=read_correction(path),  # /edit's fields
    )


def article_from_bytes(
    filename: str, data: bytes, url: str | None = None, max_bytes: int = MAX_BYTES
) -> Article:
    """An article from uploaded or fetched bytes; ``url`` is used when the content names none."""
    _check_suffix(filename)
    return _parse(filename, data, url=url, source_path=None, max_bytes=max_bytes)


def load_articles(
    folder: Path, max_bytes: int = MAX_BYTES
) -> tuple[list[Article], list[LoadProblem]]:
    """Every article file of ``folder`` (sorted, not recursive); bad files are reported, not fatal."""
    if not folder.is_dir():
        raise ArticleLoadError(Reason("no_folder", {"folder": str(folder)}))
    articles: list[Article] = []
    problems: list[LoadProblem] = []
    seen: dict[str, Path] = {}
    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        if path.name.startswith(".") or not path.is_file():
            continue
        article = load_or_problem(path, max_bytes)
        if isinstance(article, LoadProblem):
            problems.append(article)
            continue
        if article.id in seen:
            reason = Reason("duplicate_id", {"id": article.id, "other": seen[article.id].name})
            problems.append(LoadProblem(str(path), reason))
            continue
        seen[article.id] = path
        articles.append(article)
    for problem in problems:
        logger.warning("skipped %s: %s", problem.path, problem.reason)
    return articles, problems


def load_or_problem(path: Path, max_bytes: int = MAX_BYTES) -> Article | LoadProblem:
    """One file of a folder: its article, or the problem to report; never raises, so one
    hostile file cannot stop the others."""
    try:
        return load_article(path, max_bytes=max_bytes)
    except ArticleLoadError as exc:
        return LoadProblem(str(path), exc.reason)
    except Exception as exc:  # a parser's own bug on strange input: named, not fatal
        return LoadProblem(str(path), Reason("unexpected", {"kind": type(exc).__name__}))


def source_digest(data: bytes, correction: bytes = b"") -> str:
    """What says a file is unchanged: the hash of its bytes, of its correction's
    (``index.ingest.corrections``; none leaves the hash as it was) and of the parser's version."""
    extra = b"\x00correction\x00" + correction if correction else b""
    return hashlib.sha256(f"{PARSER_VERSION}\x00".encode() + data + extra).hexdigest()


def source_file_digest(path: Path, data: bytes) -> str:
    """``source_digest`` of the file ``path`` whose bytes are ``data``, with its correction."""
    return source_digest(data, correction_bytes(path))


def article_id_for(path: PurePath) -> str:
    """Stable id from the file name: ``000_Abc.txt`` -> ``000_abc``; [a-z0-9_-], at most 64 chars."""
    stem = _ascii_fold(PurePosixPath(str(path).replace("\\", "/")).stem).lower()
    slug = re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9_-]", "-", stem))
    if not slug.strip("-"):
        # Names with nothing usable ("💥.md") still need distinct ids.
        return "article-" + hashlib.sha256(path.name.encode("utf-8", "replace")).hexdigest()[:8]
    if len(slug) > _MAX_ID_CHARS:
        # Cut, long names that share a beginning would share an id (and one would be skipped
        # as a duplicate): the cut slug ends with a hash of the whole one.
        digest = hashlib.sha256(slug.encode()).hexdigest()[:8]
        return f"{slug[: _MAX_ID_CHARS - 9].strip('-')}-{digest}"
    return slug.strip("-")


def safe_filename(name: str, default_ext: str = ".txt") -> str:
    """A file name safe to write into SEEDS_DIR: no directories, [A-Za-z0-9._-], never empty."""
    base = name.replace("\x00", "").replace("\\", "/").rsplit("/", 1)[-1]
    base = unicodedata.normalize("NFKC", base).strip()
    base = re.sub(r"-{2,}", "-", re.sub(r"[^A-Za-z0-9._-]", "-", base)).lstrip(".")
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    suffix = f".{ext.lower()}" if f".{ext.lower()}" in SUPPORTED_SUFFIXES else default_ext
    stem = stem.strip(".-")[: _MAX_FILENAME_CHARS - len(suffix)].rstrip(".-")
    return (stem or "article") + suffix


def _check_suffix(filename: str) -> None:
    """Refuse file types we cannot read before touching their bytes."""
    suffix = PurePosixPath(filename.replace("\\", "/")).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise ArticleLoadError(
            Reason("unsupported_type", {"suffix": suffix})
            if suffix
            else Reason("unsupported_type_none")
        )


def _too_large(max_bytes: int) -> Reason:
    """'file is larger than 5 MB' in the unit that reads best."""
    return Reason("file_too_large", {"size": size_text(max_bytes)})


def _parse(
    filename: str,
    data: bytes,
    *,
    url: str | None,
    source_path: str | None,
    max_bytes: int,
    correction: dict[str, str] | None = None,
) -> Article:
    """Bytes of a supported file type to a cleaned Article, with ``correction``'s fields."""
    if len(data) > max_bytes:
        raise ArticleLoadError(_too_large(max_bytes))
    suffix = PurePosixPath(filename.replace("\\", "/")).suffix.lower()
    if not data:
        raise ArticleLoadError(Reason("empty_file"))
    source = _binary(suffix, data, max_bytes) if suffix in _BINARY_SUFFIXES else None
    if source is None:
        raw = _decode(data)
        if not raw.strip():
            raise ArticleLoadError(Reason("empty_file"))
        source = _from_text(suffix, raw, url)
    if correction:
        source = replace(
            source,
            title=correction.get("title", source.title),
            date=correction.get("date", source.date),
            outlet=correction.get("outlet", source.outlet),
        )
    source = _storable(source)
    url = url.replace("\x00", "") if url else url
    # Only a page without <title> or heading lacks one: its file name is the best we have.
    title = _clean_title(source.title) or PurePosixPath(filename.replace("\\", "/")).stem
    text = clean_text(source.text)
    if not text:
        html = suffix in (".html", ".htm")
        raise ArticleLoadError(Reason("no_text_html" if html else "no_text"))
    page = source.url or url
    host = _host(page)
    outlet = source.outlet or (host.removeprefix("www.") if host else None)
    return Article(
        id=article_id_for(PurePosixPath(filename.replace("\\", "/"))),
        title=title,
        text=text,
        sha256=hashlib.sha256(f"{text}\n{title}".encode()).hexdigest(),
        lang=detect_language(text),
        url=page,
        date=source.date,
        source_path=source_path,
        outlet=_clean_title(outlet)[:MAX_OUTLET_CHARS] if outlet else None,
        feed=source.feed,
        tags=source.tags,
        published=published_iso(source.date),
    )


def _storable(source: _Source) -> _Source:
    """Every field without NUL: PostgreSQL refuses it in text (a JSON "\\u0000", a UTF-16
    page), and one place here keeps it out of every store, whichever is in use."""

    def strip(value: str | None) -> str | None:
        return value.replace("\x00", "") if value else value

    return _Source(
        title=source.title.replace("\x00", ""),
        text=source.text.replace("\x00", ""),
        url=strip(source.url),
        date=strip(source.date),
        outlet=strip(source.outlet),
        tags=_tags([tag.replace("\x00", "") for tag in source.tags]),
        feed=strip(source.feed),
    )


def _host(url: str | None) -> str | None:
    """The host of a URL, None when there is none or the URL cannot be parsed."""
    try:
        return urlsplit(url).hostname if url else None
    except ValueError:  # "http://[::1": an unclosed IPv6 bracket
        return None


def _binary(suffix: str, data: bytes, max_bytes: int) -> _Source:
    # The upload limit bounds their text too: it is what a text file of that size could hold.
    document = pdf_text(data, max_bytes) if suffix == ".pdf" else docx_text(data, max_bytes)
    title, text = document.title, document.text
    first, _, rest = text.partition("\n\n")
    if not title and rest and len(first) <= 150:  # no title in the metadata: the first line
        title, text = first, rest
    elif title and rest and _clean_title(first).casefold() == _clean_title(title).casefold():
        text = rest  # the first line says the metadata's title again: not text to quote
    return _Source(title, text, date=document.date)


def _from_text(suffix: str, raw: str, url: str | None) -> _Source:
    if suffix == ".json":
        return _from_json(raw, url)
    if suffix in (".html", ".htm"):
        return _from_html(raw, url)
    if suffix == ".md":
        title, text, meta = markdown_to_text(raw)
        if not title:
            title, text = _split_title(text)
        return _Source(
            title,
            text,
            meta.get("url") or url,
            meta.get("date") or meta.get("published"),
            meta.get("outlet") or None,
            _tags(meta.get("tags", "").split(",")),
        )
    title, text = _split_title(raw)
    return _Source(title, text, url)


def _tags(values: list[str]) -> tuple[str, ...]:
    """Tags as the filters compare them: trimmed, lower case, unique, at most ``MAX_TAGS``."""
    cleaned = (re.sub(r"\s+", " ", value).strip().casefold()[:MAX_TAG_CHARS] for value in values)
    return tuple(dict.fromkeys(tag for tag in cleaned if tag))[:MAX_TAGS]


def _decode(data: bytes) -> str:
    """Bytes to text: UTF BOMs, then UTF-8, then Western (cp1252), then charset_normalizer's guess."""
    if not data:
        raise ArticleLoadError(Reason("empty_file"))
    for bom, encoding in _UTF_BOMS:
        if data.startswith(bom):
            try:
                return _check_text(data.decode(encoding))
            except UnicodeDecodeError as exc:
                raise ArticleLoadError(Reason("bad_encoding")) from exc
    if b"\x00" in data:
        raise ArticleLoadError(Reason("binary"))
    try:
        return _check_text(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        pass
    western = _as_western(data)
    if western is not None:
        return _check_text(western)
    best = charset_normalizer.from_bytes(data).best()
    if best is None:
        raise ArticleLoadError(Reason("bad_encoding"))
    return _check_text(str(best))


def _as_western(data: bytes) -> str | None:
    """cp1252 text when the bytes read as plausible Western European text, else None.

    charset_normalizer takes short French Latin-1 files for cp1250 ("très" -> "trčs"); French
    and other Western files are the common case here, so they are tried first, strictly.
    """
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        return None
    accented = 0
    for char in text:
        if char.isascii():
            continue
        if not ("\u00c0" <= char <= "\u00ff" or char in _WESTERN_EXTRAS):
            return None
        accented += char.isalpha()
    letters = sum(char.isalpha() for char in text)
    return text if accented <= _MAX_WESTERN_ACCENT_RATIO * letters else None


def _check_text(text: str) -> str:
    """Refuse decoded 'text' that is mostly control characters (a binary file in disguise)."""
    controls = len(_CONTROL.findall(text))
    if controls > _MAX_CONTROL_RATIO * max(len(text), 1):
        raise ArticleLoadError(Reason("binary"))
    return text


def _split_title(raw: str) -> tuple[str, str]:
    """Plain text: the first non-empty line is the title, the rest the text."""
    lines = raw.lstrip("\ufeff").splitlines()
    for i, line in enumerate(lines):
        if line.strip():
            return line, "\n".join(lines[i + 1 :])
    return "", ""


def _clean_title(title: str) -> str:
    """One line, NFC, single spaces."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", title)).strip()


def _from_json(raw: str, url: str | None) -> _Source:
    """``{"title", "text", "url"?, "date"?, "outlet"?, "feed"?, "tags"?: [...]}``."""
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ArticleLoadError(
            Reason("invalid_json", {"error": exc.msg, "line": exc.lineno})
        ) from exc
    except RecursionError as exc:  # [[[[…]]]] thousands deep: the decoder recurses per level
        raise ArticleLoadError(Reason("json_too_deep")) from exc
    if not (
        isinstance(value, dict)
        and isinstance(value.get("title"), str)
        and isinstance(value.get("text"), str)
    ):
        raise ArticleLoadError(Reason("json_shape"))
    optional: dict[str, str | None] = {}
    for key in ("url", "date", "outlet", "feed"):
        field = value.get(key)
        if field is not None and not isinstance(field, str):
            raise ArticleLoadError(Reason("json_field_string", {"field": key}))
        optional[key] = (field.strip() or None) if isinstance(field, str) else None
    tags = value.get("tags", [])
    if not (isinstance(tags, list) and all(isinstance(tag, str) for tag in tags)):
        raise ArticleLoadError(Reason("json_tags"))
    fields = (value["title"], value["text"], *optional.values(), *tags)
    if any(_LONE_SURROGATE.search(field) for field in fields if field):
        # A JSON "\ud800" escape gives a string no encoder accepts: hashing it would fail.
        raise ArticleLoadError(Reason("json_surrogate"))
    return _Source(
        value["title"],
        value["text"],
        optional["url"] or url,
        optional["date"],
        optional["outlet"],
        _tags(tags[: MAX_TAGS * 2]),
        optional["feed"],
    )


def _from_html(raw: str, url: str | None) -> _Source:
    """Main text and metadata of a web page, paragraphs separated by blank lines."""
    try:
        document = trafilatura.bare_extraction(
            raw,
            url=url,
            with_metadata=True,
            include_comments=False,
            include_tables=True,
            # The page's own date only (metadata, markup): htmldate's extensive search takes
            # "en avril 2007" in the text for the publication date.
            date_extraction_params={"extensive_search": False, "original_date": True},
        )
    except Exception as exc:  # trafilatura/lxml raise many types on broken markup
        raise ArticleLoadError(Reason("no_text_html")) from exc
    text = (getattr(document, "text", None) or "").strip()
    if not text:
        raise ArticleLoadError(Reason("no_text_html"))
    title = (getattr(document, "title", None) or "").strip()
    lines = [line for line in text.split("\n") if line.strip()]
    if title and lines and _clean_title(lines[0]) == _clean_title(title):
        lines = lines[1:]  # the <h1> repeats the title
    elif not title and len(lines) > 1 and len(lines[0]) <= 150:
        title, lines = lines[0], lines[1:]
    # trafilatura separates paragraphs with a single newline; our paragraphs are blank-line based.
    url = getattr(document, "url", None) or url
    tags = [
        *(getattr(document, "tags", None) or []),
        *(getattr(document, "categories", None) or []),
    ]
    sitename = getattr(document, "sitename", None)
    host = _host(url)
    if sitename and host and host.removeprefix("www.") in sitename.lower():
        sitename = None  # trafilatura's guess from the URL, not a name the page gives
    return _Source(
        title,
        "\n\n".join(lines),
        url,
        getattr(document, "date", None),
        sitename,
        _tags([part for tag in tags for part in str(tag).split(",")]),
    )


def _ascii_fold(text: str) -> str:
    """Drop accents so 'Élection' gives 'election' rather than '-lection'."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))
