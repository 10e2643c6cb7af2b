"""Markdown to plain text in time linear in its size: the syntax goes, the words stay.

>>> markdown_to_text("# Abeilles\\n\\nLes **abeilles** [butinent](https://x.org).")
('Abeilles', '\\n\\n\\n\\nLes abeilles butinent.', {})

Inline syntax used to be stripped by regexes such as ``\\*(.+?)\\*``: from every opening marker
they rescanned the rest of the line for a closing one, so a line of ``" *a" * 20_000`` (60 KB)
took 11 s, the time growing with the square of the size, with the GIL held throughout. Here each
construct is found by a scanner that gives exactly what those regexes gave (the tests compare
both) but remembers where the next closing marker is, so no character is read more than a few
times. Every pattern left in this module matches at one place or scans forward once.
"""

from __future__ import annotations

import re

__all__ = ["inline_markdown", "markdown_to_text"]

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*\n", re.DOTALL)
_FENCE = re.compile(r"^\s*(```|~~~)")
# Only the heading's opening: its text and closing hashes are cut with rstrip (see _heading).
_HEADING = re.compile(r"\s{0,3}(#{1,6})\s+")
_SETEXT_H1 = re.compile(r"^\s{0,3}=+\s*$")
_RULE = re.compile(r"^\s{0,3}(?:(?:-\s*){3,}|(?:\*\s*){3,}|(?:_\s*){3,})$")
_REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s+\S+.*$")
_BLOCKQUOTE = re.compile(r"^\s{0,3}>\s?")
_BULLET = re.compile(r"^(\s*)[*+]\s+")
# A code span ends at the next backtick, which is where the next one may start: one pass.
_CODE = re.compile(r"`([^`\n]+)`")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!>])")
_AUTOLINK_START = re.compile(r"<https?://")
_AUTOLINK_STOP = re.compile(r"[>\s]")
_CLOSE_BRACKET = re.compile(r"\]")
_CLOSE_PAREN = re.compile(r"\)")

# Emphasis: an opening marker, at least one character, the first closing marker after it.
# Closing markers depend only on their own neighbours, never on where the span opened.
_STRONG = (
    re.compile(r"(\*\*|__)(?=\S)"),
    {"**": re.compile(r"(?<=\S)\*\*"), "__": re.compile(r"(?<=\S)__")},
)
_STRIKE = (re.compile(r"~~(?=\S)"), {"~~": re.compile(r"(?<=\S)~~")})
_STAR = (re.compile(r"(?<![\w*])\*(?=[^\s*])"), {"*": re.compile(r"(?<=[^\s*])\*(?![\w*])")})
_UNDERSCORE = (re.compile(r"(?<!\w)_(?=\S)"), {"_": re.compile(r"(?<=\S)_(?!\w)")})


def markdown_to_text(raw: str) -> tuple[str, str, dict[str, str]]:
    """(title, plain text, front-matter fields); the title is "" when neither names one."""
    meta, body = _front_matter(raw.lstrip("\ufeff"))
    title = meta.get("title", "")
    out: list[str] = []
    in_fence = False
    for line in body.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
            out.append("")
            continue
        if in_fence:
            out.append(line)  # code is kept as text, verbatim
            continue
        heading = _heading(line)
        if heading:
            level, text = heading
            text = inline_markdown(text)
            if level == 1 and (not title or _same(text, title)):
                # The title, or the front matter's title again: it is not text to quote.
                title = title or text
                text = ""
            out.extend(["", text, ""])
        elif _SETEXT_H1.match(line) and out and out[-1].strip():
            if not title or _same(out[-1], title):
                title = title or out[-1]
                out.pop()
            out.append("")
        elif _RULE.match(line) or _REFERENCE.match(line):
            out.append("")
        else:
            line = _BULLET.sub(r"\1- ", _BLOCKQUOTE.sub("", line))
            out.append(inline_markdown(line))
    return title, "\n".join(out), meta


def _same(heading: str, title: str) -> bool:
    """A heading that says the title again (case and spaces aside)."""
    return " ".join(heading.split()).casefold() == " ".join(title.split()).casefold()


def _heading(line: str) -> tuple[int, str] | None:
    """An ATX heading's level and text, as ``^\\s{0,3}(#{1,6})\\s+(.*?)\\s*#*\\s*$`` would give.

    That regex tried every split of trailing spaces between its two ``\\s*``: cubic on a
    heading followed by a long run of spaces. The text is the rest of the line without
    trailing spaces, then closing hashes, then spaces.
    """
    match = _HEADING.match(line)
    if match is None:
        return None
    return len(match.group(1)), line[match.end() :].rstrip().rstrip("#").rstrip()


def inline_markdown(text: str) -> str:
    """One line without its inline markdown: comments, images, link syntax, code ticks,
    emphasis markers and backslash escapes (each pass works on the previous one's output)."""
    text = _strip_comments(text)
    text = _strip_bracketed(text, "![", "([", keep_label=False)  # images go
    text = _strip_bracketed(text, "[", "(", keep_label=True)  # [text](url) -> text
    text = _strip_bracketed(text, "[", "[", keep_label=True)  # [text][ref] -> text
    text = _strip_autolinks(text)
    text = _CODE.sub(r"\1", text)
    for opener, closers in (_STRONG, _STRIKE, _STAR, _UNDERSCORE):
        text = _unwrap(text, opener, closers)
    return _ESCAPE.sub(r"\1", text)


class _Next:
    """The first match of ``pattern`` at or after a position, for positions that only grow.

    It keeps its last answer: asking again from anywhere between the last question and that
    answer costs nothing, so a run of openers that share one closing marker (or find none)
    scans the text once rather than once each.
    """

    def __init__(self, text: str, pattern: re.Pattern[str]) -> None:
        self._text = text
        self._pattern = pattern
        self._asked: int | None = None
        self._found: re.Match[str] | None = None

    def at(self, pos: int) -> re.Match[str] | None:
        found, asked = self._found, self._asked
        if asked is None or pos < asked or (found is not None and found.start() < pos):
            self._found = self._pattern.search(self._text, pos)
            self._asked = pos
        return self._found


def _strip_comments(text: str) -> str:
    """``<!--.*?-->`` -> "" (once no ``-->`` follows, no later comment can close either)."""
    out: list[str] = []
    copied = 0
    while (start := text.find("<!--", copied)) >= 0:
        end = text.find("-->", start + 4)
        if end < 0:
            break
        out.append(text[copied:start])
        copied = end + 3
    out.append(text[copied:])
    return "".join(out)


def _strip_bracketed(text: str, prefix: str, tails: str, *, keep_label: bool) -> str:
    """``[label](url)`` and ``[label][ref]`` forms: the label or nothing in their place.

    As ``\\[([^\\]]+)\\]\\([^)]*\\)`` (links, label kept, never empty) or
    ``!\\[[^\\]]*\\]\\([^)]*\\)|!\\[[^\\]]*\\]\\[[^\\]]*\\]`` (images, dropped, label may be empty):
    the label ends at the first "]", the tail opens right after it with one of ``tails`` and
    ends at the first ")" or "]".
    """
    label_end = _Next(text, _CLOSE_BRACKET)
    tail_end = {"(": _Next(text, _CLOSE_PAREN), "[": _Next(text, _CLOSE_BRACKET)}
    min_label = 1 if keep_label else 0
    open_tails = set(tails)  # tails that still have a closing character ahead
    out: list[str] = []
    copied = pos = 0
    while open_tails and (start := text.find(prefix, pos)) >= 0:
        label_start = start + len(prefix)
        close = label_end.at(label_start)
        if close is None:
            break  # no "]" is left for any later label either
        mid = close.start()
        tail = text[mid + 1 : mid + 2]
        end = tail_end[tail].at(mid + 2) if tail in open_tails else None
        if end is None and tail in open_tails:
            open_tails.discard(tail)  # later labels end further on: none of them can close it
        if mid - label_start < min_label or end is None:
            pos = start + 1
            continue
        out.append(text[copied:start])
        if keep_label:
            out.append(text[label_start:mid])
        copied = pos = end.end()
    out.append(text[copied:])
    return "".join(out)


def _strip_autolinks(text: str) -> str:
    """``<(https?://[^>\\s]+)>`` -> the URL: it runs to the first ">" or space."""
    stop = _Next(text, _AUTOLINK_STOP)
    out: list[str] = []
    copied = pos = 0
    while (start := _AUTOLINK_START.search(text, pos)) is not None:
        end = stop.at(start.end())
        if end is None:
            break  # nothing can close this link or any later one
        if end.start() == start.end() or end.group() != ">":
            pos = start.start() + 1
            continue
        out.append(text[copied : start.start()])
        out.append(text[start.start() + 1 : end.start()])
        copied = pos = end.end()
    out.append(text[copied:])
    return "".join(out)


def _unwrap(text: str, opener: re.Pattern[str], closers: dict[str, re.Pattern[str]]) -> str:
    """Each span from an opening marker to the first closing marker after at least one
    character is replaced by its content, like ``re.sub(opener (.+?) closer, r"\\1")``."""
    nexts = {marker: _Next(text, closer) for marker, closer in closers.items()}
    out: list[str] = []
    copied = pos = 0
    while nexts and (start := opener.search(text, pos)) is not None:
        marker = start.group()
        end = nexts[marker].at(start.end() + 1) if marker in nexts else None
        if end is None:
            # No closing marker ahead: later spans of this marker cannot close either.
            nexts.pop(marker, None)
            pos = start.start() + 1
            continue
        out.append(text[copied : start.start()])
        out.append(text[start.end() : end.start()])
        copied = pos = end.end()
    out.append(text[copied:])
    return "".join(out)


_FRONT_MATTER_KEYS = ("title", "date", "url", "outlet", "tags")
_FRONT_MATTER_ALIASES = {"link": "url", "published": "date", "source": "outlet", "site": "outlet"}


def _front_matter(raw: str) -> tuple[dict[str, str], str]:
    """YAML-ish ``---`` header fields (title, date or published, url or link, outlet or
    source, tags as ``a, b`` or ``[a, b]``) and the body after it."""
    match = _FRONT_MATTER.match(raw)
    if not match:
        return {}, raw
    meta: dict[str, str] = {}
    for line in match.group(1).splitlines():
        key, colon, value = line.partition(":")
        key = key.strip().lower()
        key = _FRONT_MATTER_ALIASES.get(key, key)
        if colon and key in _FRONT_MATTER_KEYS and value.strip():
            value = value.strip().strip("'\"")
            if key == "tags":
                value = ",".join(t.strip().strip("'\"") for t in value.strip("[]").split(","))
            meta.setdefault(key, value)
    return meta, raw[match.end() :]
