"""Telegram's HTML parse mode as tdlib parses it, the entities clients attach, UTF-16 lengths."""

from __future__ import annotations

import re

from telegram import MessageEntity

from tests.support.botapi.rules import PARSE_ERROR, ApiError, JSONDict


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the unit Telegram uses for offsets and limits."""
    return len(text.encode("utf-16-le")) // 2


_HTML_TAGS = frozenset(
    {"a", "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler"}
    | {"tg-emoji", "code", "pre", "blockquote"}
)
_TAG_ENTITY = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
    "a": "text_link",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _decode_entity(text: str, i: int) -> tuple[str, int] | None:
    """Decode the HTML entity at ``text[i] == "&"``; return (character, next index) or None."""
    m = re.compile(r"&(?:#[xX]([0-9a-fA-F]{1,8})|#([0-9]{1,10})|([a-zA-Z]{1,10}));").match(text, i)
    if not m:
        return None
    if m.group(3) is not None:
        char = _NAMED_ENTITIES.get(m.group(3))
        return (char, m.end()) if char else None
    code = int(m.group(1), 16) if m.group(1) is not None else int(m.group(2))
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code), m.end()


def parse_html(text: str, *, strict_entities: bool = False) -> tuple[str, list[JSONDict]]:
    """Parse Telegram's HTML parse mode like tdlib does: return (plain text, entities).

    Raises ApiError 400 "can't parse entities: ..." with tdlib's messages (offsets in UTF-8
    bytes) for unsupported, unclosed or unbalanced tags. As on Telegram, an ``&`` that does not
    start one of ``&lt; &gt; &amp; &quot;`` or a numeric entity is kept literally, unless
    ``strict_entities`` is set, which rejects it (useful to prove the bot escapes everything).
    """

    def byte_offset(pos: int) -> int:
        return len(text[:pos].encode())

    def fail(message: str) -> ApiError:
        return ApiError(400, PARSE_ERROR + message)

    n = len(text)
    out: list[str] = []
    offset16 = 0
    stack: list[tuple[str, str, bool, int, int]] = []  # tag, arg, expandable, utf16/char start
    entities: list[JSONDict] = []
    i = 0
    while i < n:
        c = text[i]
        if c == "&":
            decoded = _decode_entity(text, i)
            if decoded:
                out.append(decoded[0])
                offset16 += utf16_len(decoded[0])
                i = decoded[1]
                continue
            if strict_entities:
                raise fail(f'Unescaped "&" at byte offset {byte_offset(i)}')
        if c != "<":
            out.append(c)
            offset16 += utf16_len(c)
            i += 1
            continue
        begin = i
        i += 1
        if i < n and text[i] == "/":  # end tag
            if not stack:
                raise fail(f"Unexpected end tag at byte offset {byte_offset(begin)}")
            j = i + 1
            while j < n and not text[j].isspace() and text[j] != ">":
                j += 1
            end_name = text[i + 1 : j]
            while j < n and text[j].isspace():
                j += 1
            if j >= n or text[j] != ">":
                raise fail(f"Unclosed end tag at byte offset {byte_offset(begin)}")
            tag, argument, expandable, start, char_start = stack.pop()
            if end_name and end_name != tag:
                raise fail(
                    f"Unmatched end tag at byte offset {byte_offset(begin)}, "
                    f'expected "</{tag}>", found "</{end_name}>"'
                )
            i = j + 1
            if offset16 > start:
                entity: JSONDict = {"type": _TAG_ENTITY[tag], "offset": start}
                entity["length"] = offset16 - start
                if tag == "a":
                    entity["url"] = argument or "".join(out[char_start:])
                elif tag == "blockquote" and expandable:
                    entity["type"] = "expandable_blockquote"
                elif tag == "pre" and argument:
                    entity["language"] = argument
                elif tag == "tg-emoji":
                    entity["custom_emoji_id"] = argument
                entities.append(entity)
            continue
        # start tag
        while i < n and not text[i].isspace() and text[i] != ">":
            i += 1
        if i >= n:
            raise fail(f"Unclosed start tag at byte offset {byte_offset(begin)}")
        tag = text[begin + 1 : i].lower()
        if tag not in _HTML_TAGS:
            raise fail(f'Unsupported start tag "{tag}" at byte offset {byte_offset(begin)}')
        argument, expandable = "", False
        while True:
            while i < n and text[i].isspace():
                i += 1
            if i >= n:
                raise fail(f"Unclosed start tag at byte offset {byte_offset(begin)}")
            if text[i] == ">":
                break
            name_start = i
            while i < n and not text[i].isspace() and text[i] not in "=>":
                i += 1
            name = text[name_start:i]
            if not name:
                raise fail(
                    f'Empty attribute name in the tag "{tag}" at byte offset {byte_offset(begin)}'
                )
            while i < n and text[i].isspace():
                i += 1
            if i >= n or text[i] != "=":
                if tag == "blockquote" and name == "expandable":
                    expandable = True
                    continue
                raise fail(
                    "Expected equal sign in declaration of an attribute of the tag "
                    f'"{tag}" at byte offset {byte_offset(begin)}'
                )
            i += 1
            while i < n and text[i].isspace():
                i += 1
            if i >= n:
                raise fail(f'Unclosed start tag "{tag}" at byte offset {byte_offset(begin)}')
            if text[i] in "'\"":
                quote, value_chars = text[i], []
                i += 1
                while i < n and text[i] != quote:
                    decoded = _decode_entity(text, i) if text[i] == "&" else None
                    if decoded:
                        value_chars.append(decoded[0])
                        i = decoded[1]
                    else:
                        value_chars.append(text[i])
                        i += 1
                value = "".join(value_chars)
                i += 1
            else:
                token_start = i
                while i < n and (text[i].isalnum() or text[i] in ".-"):
                    i += 1
                value = text[token_start:i].lower()
                if i >= n or not (text[i].isspace() or text[i] == ">"):
                    raise fail(f"Unexpected end of name token at byte offset {byte_offset(i)}")
            if tag == "a" and name == "href":
                argument = value
            elif tag in ("code", "pre") and name == "class" and value.startswith("language-"):
                argument = value[len("language-") :]
            elif tag == "span" and name == "class" and value.startswith("tg-"):
                argument = value[len("tg-") :]
            elif tag == "tg-emoji" and name == "emoji-id":
                argument = value
        if tag == "span" and argument != "spoiler":
            raise fail(
                f'Tag "span" must have class "tg-spoiler" at byte offset {byte_offset(begin)}'
            )
        stack.append((tag, argument, expandable, offset16, len(out)))
        i += 1
    if stack:
        raise fail(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def strip_text(text: str, entities: list[JSONDict]) -> tuple[str, list[JSONDict]]:
    """Trim surrounding whitespace as Telegram does, shifting and clipping entities."""
    stripped = text.strip()
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    size = utf16_len(stripped)
    result = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, size)
        if end > start:
            result.append({**entity, "offset": start, "length": end - start})
    return stripped, result


_COMMAND_RE = re.compile(r"(?<![\w/@])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
_MENTION_RE = re.compile(r"(?<![\w@/])@[A-Za-z0-9_]{5,32}\b")
_URL_RE = re.compile(r"https?://[^\s<>\"]+")


def auto_entities(text: str) -> tuple[MessageEntity, ...]:
    """The entities Telegram's clients attach to a user's text: commands, mentions and URLs."""
    spans: list[tuple[int, int, str]] = []
    for kind, pattern in (("url", _URL_RE), ("bot_command", _COMMAND_RE), ("mention", _MENTION_RE)):
        for m in pattern.finditer(text):
            if all(m.end() <= s or m.start() >= e for s, e, _ in spans):
                spans.append((m.start(), m.end(), kind))
    return tuple(
        MessageEntity(kind, offset=utf16_len(text[:s]), length=utf16_len(text[s:e]))
        for s, e, kind in sorted(spans)
    )
