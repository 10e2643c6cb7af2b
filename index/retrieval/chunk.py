"""Sentence-aware chunking: passages that keep their character offsets into the article.

Sentences come from pysbd, a rule-based segmenter with French and English rules
(abbreviations such as "M.", "Mme", "etc.", quotes « … »): it returns the text
unchanged, so every sentence is found back at an exact offset, it needs no model
download, and it segments all of PIAF in about 2 s.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

import pysbd

from index.models import Article, Chunk

__all__ = ["chunk_article", "is_heading", "opening_closers", "paragraph_spans", "sentence_spans"]

_PYSBD_LANGS = {"fr", "en", "de", "es", "it", "nl", "ru", "pl", "da", "el", "ar", "ja", "zh"}
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
# pysbd splits after some French abbreviations it does not know ("janv.", "p."):
# a fragment this short is glued to the sentence that follows.
_MIN_SENTENCE_CHARS = 20
# pysbd's time grows faster than the square of a paragraph's length on some texts ("a. a. a. …":
# 8 KB in 0.7 s, 32 KB in 11 s, 200 KB in minutes, holding the build lock). Real paragraphs are
# far shorter (PIAF's longest is 996 characters), so longer ones are cut by the linear rule below.
_SEGMENTER_MAX_CHARS = 2000
# A sentence end for long paragraphs: terminal punctuation, closing quotes or brackets (French
# puts a space before "»"), spaces. Possessive, and only at the start of a run of punctuation, so
# a run of 200,000 "!" is read once rather than once per position.
_SENTENCE_END = re.compile(r"(?<![.!?…])[.!?…]++(?:\s*+[\"'»”’)\]])*+\s+")

# A heading: a line of its own, this long at most, that ends no sentence (a title, a subheading,
# a quoted headline). It is a sentence of its own, never glued to the next, never a highlight.
MAX_HEADING_CHARS = 150
_CLOSERS = "»”’)]\"'"
_ENDS_SENTENCE = ".!?…:;,"
_LIST_ITEM = re.compile(r"[-•*–—]|\d+[.)]\s")
_NEXT_VISIBLE = re.compile(r"\s*+(\S)")
# Closing quotes or brackets that open a sentence, then spaces: pysbd cut before them (a quote
# opened in an earlier paragraph, "» Les négociations…"); they end the sentence before.
_LEADING_CLOSERS = re.compile(r"([»”’)\]\"']++)(?=\s|$)\s*+")

Span = tuple[int, int]


@lru_cache(maxsize=16)
def _segmenter(lang: str) -> pysbd.Segmenter:
    return pysbd.Segmenter(language=lang if lang in _PYSBD_LANGS else "en", clean=False)


def paragraph_spans(text: str) -> list[Span]:
    """(start, end) of each non-blank paragraph, without its surrounding white space."""
    spans: list[Span] = []
    cursor = 0
    for match in [*_PARAGRAPH_BREAK.finditer(text), None]:
        end = match.start() if match else len(text)
        spans.extend(_strip_span(text, cursor, end))
        if match:
            cursor = match.end()
    return spans


def _strip_span(text: str, start: int, end: int) -> Iterator[Span]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        yield (start, end)


def sentence_spans(
    text: str, lang: str = "fr", start: int = 0, end: int | None = None
) -> list[Span]:
    """Sentences of ``text[start:end]`` as offsets into ``text``; they never cross a paragraph."""
    end = len(text) if end is None else end
    spans: list[Span] = []
    for p_start, p_end in paragraph_spans(text[start:end]):
        spans.extend(_paragraph_sentences(text, lang, start + p_start, start + p_end))
    return spans


def is_heading(text: str, start: int, end: int) -> bool:
    """True when ``text[start:end]`` is a heading: a whole line of at most
    ``MAX_HEADING_CHARS`` that ends no sentence (closing quotes aside), neither a list item
    nor a line that the next one goes on in lower case.

    >>> is_heading("Le bilan\\nDeux cents vols annulés.", 0, 8)
    True
    """
    line = text[start:end]
    if not line or len(line) > MAX_HEADING_CHARS or "\n" in line:
        return False
    if (start > 0 and text[start - 1] != "\n") or (end < len(text) and text[end] != "\n"):
        return False
    words = line.rstrip(_CLOSERS + " \u00a0")
    if not words or words[-1] in _ENDS_SENTENCE or _LIST_ITEM.match(line):
        return False
    first = next((char for char in line if char.isalnum()), "")
    following = _NEXT_VISIBLE.match(text, end)
    return not first.islower() and not (following and following.group(1).islower())


def opening_closers(text: str, start: int, end: int) -> int:
    """Where ``text[start:end]`` starts once the closing quotes or brackets (and spaces) that
    open it are skipped: ``start`` when there are none."""
    found = _LEADING_CLOSERS.match(text, start, end)
    return found.end() if found else start


def _paragraph_sentences(text: str, lang: str, start: int, end: int) -> list[Span]:
    paragraph = text[start:end]
    if len(paragraph) > _SEGMENTER_MAX_CHARS:
        raw = _plain_sentences(paragraph, _SEGMENTER_MAX_CHARS)
    else:
        raw = _segmented_sentences(paragraph, lang)
    if not raw:
        raw = [(0, len(paragraph))]
    # Keep full coverage: the first sentence starts at the paragraph, the last ends with it.
    raw[0] = (0, raw[0][1])
    raw[-1] = (raw[-1][0], len(paragraph))
    closed: list[Span] = []
    for s, e in raw:
        closers = _LEADING_CLOSERS.match(paragraph, s, e) if closed else None
        if closers:  # "» Les négociations…": the "»" closes the sentence before
            closed[-1] = (closed[-1][0], closers.end(1))
            s = closers.end()
        if s < e:
            closed.append((s, e))
    merged: list[Span] = []
    for s, e in closed:
        if merged and _fragment(paragraph, *merged[-1]):
            merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    if (
        len(merged) > 1
        and _fragment(paragraph, *merged[-1])
        and not is_heading(paragraph, *merged[-2])
    ):
        last = merged.pop()
        merged[-1] = (merged[-1][0], last[1])
    return [(start + s, start + e) for s, e in merged]


def _fragment(paragraph: str, start: int, end: int) -> bool:
    """A piece too short to be a sentence (pysbd cut after an abbreviation it does not know),
    unless it is a heading."""
    return end - start < _MIN_SENTENCE_CHARS and not is_heading(paragraph, start, end)


def _segmented_sentences(paragraph: str, lang: str) -> list[Span]:
    """pysbd's sentences, found back at their exact offsets."""
    raw: list[Span] = []
    cursor = 0
    for piece in _segmenter(lang).segment(paragraph):
        found = paragraph.find(piece.strip(), cursor) if piece.strip() else -1
        if found < 0:
            continue
        raw.extend(_strip_span(paragraph, found, found + len(piece.strip())))
        cursor = found + len(piece.strip())
    return raw


def _plain_sentences(paragraph: str, max_chars: int) -> list[Span]:
    """Sentences of a very long paragraph in one pass: cut after terminal punctuation, and a
    "sentence" still longer than ``max_chars`` at its last space before that length (or at it).

    >>> _plain_sentences("Un. Deux ! Trois", 100)
    [(0, 3), (4, 10), (11, 16)]
    """
    spans: list[Span] = []
    cursor = 0
    for match in [*_SENTENCE_END.finditer(paragraph), None]:
        end = match.end() if match else len(paragraph)
        while end - cursor > max_chars:
            cut = paragraph.rfind(" ", cursor + 1, cursor + max_chars)
            cut = cut if cut > cursor else cursor + max_chars
            spans.extend(_strip_span(paragraph, cursor, cut))
            cursor = cut
        spans.extend(_strip_span(paragraph, cursor, end))
        cursor = end
    return spans


def chunk_article(article: Article, max_chars: int = 700, overlap: int = 1) -> list[Chunk]:
    """Cut an article into passages of at most ``max_chars`` (unless one sentence is longer).

    Short paragraphs are packed together; a long paragraph is cut into windows of
    whole sentences that share ``overlap`` sentences, so an answer that straddles a
    cut is still whole in one passage. Passages never start mid-sentence.

    >>> art = Article(id="a", title="T", text="Un. Deux.\\n\\nTrois.", sha256="x")
    >>> [c.text for c in chunk_article(art)]
    ['Un. Deux.\\n\\nTrois.']
    """
    if max_chars < 1:
        raise ValueError(f"max_chars must be positive, got {max_chars}")
    if overlap < 0:
        raise ValueError(f"overlap must be zero or more, got {overlap}")
    text = article.text
    groups: list[list[Span]] = []
    current: list[Span] = []
    for p_start, p_end in paragraph_spans(text):
        sentences = _paragraph_sentences(text, article.lang, p_start, p_end)
        if p_end - p_start > max_chars:
            if current:
                groups.append(current)
                current = []
            groups.extend(_sentence_windows(sentences, max_chars, overlap))
        elif current and p_end - current[0][0] > max_chars:
            groups.append(current)
            current = list(sentences)
        else:
            current.extend(sentences)
    if current:
        groups.append(current)
    return [
        Chunk(
            article_id=article.id,
            start=group[0][0],
            end=group[-1][1],
            text=text[group[0][0] : group[-1][1]],
            sentences=tuple(group),
        )
        for group in groups
    ]


def _sentence_windows(sentences: list[Span], max_chars: int, overlap: int) -> list[list[Span]]:
    windows: list[list[Span]] = []
    i = 0
    while i < len(sentences):
        j = i + 1
        while j < len(sentences) and sentences[j][1] - sentences[i][0] <= max_chars:
            j += 1
        windows.append(sentences[i:j])
        if j >= len(sentences):
            break
        # Step back by ``overlap`` sentences, but always move forward.
        i = max(j - overlap, i + 1)
    return windows
