"""Property-based tests: hostile input of any shape never crashes ingest, cleaning, chunking,
rendering or callback parsing, and offsets always point at verbatim text.

Examples are derandomized (the same ones on every run, so CI is stable) and few enough to keep
the file under a few seconds; ``HYPOTHESIS_PROFILE=deep`` runs a hundred times more.
"""

from __future__ import annotations

import json
import os
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.handlers.callbacks import CONTEXT, MORE, REMOVE, SOURCES
from bot.render import MAX_MESSAGE, render_answer, render_inline, utf16_len
from index.errors import ArticleLoadError
from index.ingest.clean import clean_text
from index.ingest.loader import article_from_bytes
from index.ingest.markdown import inline_markdown, markdown_to_text
from index.models import Answer, Article, Quote
from index.retrieval.chunk import chunk_article, sentence_spans
from tests.support.botapi import parse_html

settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("deep", max_examples=6000, deadline=None, database=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Text that looks like articles and like attacks: letters, accents, punctuation, markup, quotes,
# line breaks, astral and control characters.
PIECES = st.sampled_from(
    [
        *list("aeé É.!?…,;:«»\"'()[]<>&*_~`#-=|\\/\n\t "),
        "\n\n",
        "😀",
        "\x00",
        "\u200b",
        "M. ",
        "Le mot ",
        "&amp;",
        "<b>",
        "https://x.org",
    ]
)
TEXT = st.lists(PIECES, max_size=150).map("".join) | st.text(max_size=200)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


@given(st.binary(max_size=600), st.sampled_from([".txt", ".md", ".html", ".json"]))
def test_any_bytes_load_as_an_article_or_a_named_refusal(data: bytes, suffix: str) -> None:
    try:
        article = article_from_bytes(f"fuzz{suffix}", data)
    except ArticleLoadError as exc:
        assert str(exc)
    else:
        assert article.text.strip()
        article.text.encode()  # no lone surrogate survives


@given(JSON_VALUES)
def test_any_json_shape_loads_or_is_refused_by_name(value: object) -> None:
    data = json.dumps(value).encode()
    try:
        article_from_bytes("fuzz.json", data)
    except ArticleLoadError as exc:
        assert str(exc).startswith(("JSON", "invalid JSON", "empty", "no article text"))


@given(TEXT, TEXT)
def test_a_json_article_with_any_text_loads_or_is_refused_by_name(title: str, text: str) -> None:
    data = json.dumps({"title": title, "text": text}).encode()
    try:
        article = article_from_bytes("fuzz.json", data)
    except ArticleLoadError as exc:
        assert str(exc)
    else:
        article.text.encode()
        article.title.encode()


@given(TEXT)
def test_cleaning_is_stable(text: str) -> None:
    once = clean_text(text)
    assert clean_text(once) == once


@given(TEXT, st.sampled_from(["fr", "en", "de", "xx"]), st.integers(50, 900), st.integers(0, 2))
def test_chunks_and_sentences_are_verbatim_spans(
    text: str, lang: str, max_chars: int, overlap: int
) -> None:
    article = Article(id="a", title="t", text=text, sha256="x", lang=lang)
    for chunk in chunk_article(article, max_chars=max_chars, overlap=overlap):
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.text.strip()
        for start, end in chunk.sentences:
            assert chunk.start <= start < end <= chunk.end
    for start, end in sentence_spans(text, lang):
        assert text[start:end].strip() == text[start:end]


@given(st.text(st.sampled_from(list("ab *_~`[]()<>!#-\\h:/tps")), max_size=300))
def test_inline_markdown_gives_what_the_old_regexes_gave(line: str) -> None:
    # The regexes the scanner replaced (quadratic on " *a" * n): its reference behaviour.
    old = (
        (re.compile(r"<!--.*?-->", re.DOTALL), ""),
        (re.compile(r"!\[[^\]]*\]\([^)]*\)|!\[[^\]]*\]\[[^\]]*\]"), ""),
        (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),
        (re.compile(r"\[([^\]]+)\]\[[^\]]*\]"), r"\1"),
        (re.compile(r"<(https?://[^>\s]+)>"), r"\1"),
        (re.compile(r"`([^`\n]+)`"), r"\1"),
        (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),
        (re.compile(r"~~(?=\S)(.+?)(?<=\S)~~"), r"\1"),
        (re.compile(r"(?<![\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])"), r"\1"),
        (re.compile(r"(?<!\w)_(?=\S)(.+?)(?<=\S)_(?!\w)"), r"\1"),
        (re.compile(r"\\([\\`*_{}\[\]()#+\-.!>])"), r"\1"),
    )
    expected = line
    for pattern, replacement in old:
        expected = pattern.sub(replacement, expected)
    assert inline_markdown(line) == expected


def test_the_quadratic_markdown_of_the_hardening_review_parses() -> None:
    # 60 KB that took 11 s with the GIL held; `python -m bench.ingest_worst` times it.
    title, text, _ = markdown_to_text("# T\n\n" + " *a" * 20_000)
    assert title == "T"
    assert text.strip() == (" *a" * 20_000).strip()


@given(TEXT, TEXT, st.data())
def test_rendered_answers_are_valid_telegram_html_within_the_limit(
    text: str, question: str, data: st.DataObject
) -> None:
    if not text:
        text = "x"
    quotes = []
    for _ in range(data.draw(st.integers(1, 4))):
        start = data.draw(st.integers(0, len(text) - 1))
        end = data.draw(st.integers(start + 1, len(text)))
        hl_start = data.draw(st.integers(start, end))
        hl_end = data.draw(st.integers(hl_start, end))
        title = data.draw(TEXT)
        url = data.draw(st.none() | st.just('https://example.org/a?b=1&c="<>') | TEXT)
        quotes.append(Quote("a", title, url, text[start:end], start, end, hl_start, hl_end, 0.5))
    answer = Answer(question, tuple(quotes))
    for message in [*render_answer(answer, "fr"), render_inline(quotes[0], question)]:
        assert utf16_len(message) <= MAX_MESSAGE
        plain, _ = parse_html(message, strict_entities=True)
        assert plain.strip()


@given(st.text(max_size=80) | st.from_regex(r"(more|ctx|src|rm):.{0,20}", fullmatch=True))
def test_callback_patterns_accept_only_their_own_ascii_shapes(data: str) -> None:
    for pattern in (MORE, CONTEXT, SOURCES, REMOVE):
        match = pattern.fullmatch(data)
        if match is not None:
            assert data.isascii()
            assert len(data.encode()) <= 64
            for group in match.groups():
                assert group.isascii()
