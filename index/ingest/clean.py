"""Strip what is not the article from its raw text: credits, captions, share lines, comment forms, bios.

The cleaned text is what gets stored and quoted, so cleaning only ever *drops* whole lines or
paragraphs and normalises whitespace: words are never rewritten.

>>> clean_text("Le texte.\\n\\n© AFP\\n\\nLaisser un commentaire\\n\\nVotre nom")
'Le texte.'
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["clean_text"]

# Lines longer than this are prose, whatever they start with: a real paragraph may begin with
# "Crédit :" or "Lire aussi", a credit or a share line never runs this long.
_MAX_BOILERPLATE_CHARS = 200
_MAX_CAPTION_CHARS = 120
_MAX_CAPTION_WORDS = 15
_MAX_BIO_CHARS = 400

_APOS = "['’]"

_CREDIT = re.compile(
    r"""^(?:
        ©
      | \(c\)\s
      | copyright\b
      | \(?\s*(?:photos?|images?|illustrations?|vid[ée]os?|infographies?|sources?\s+(?:photo|image)
               |cr[ée]dits?(?:\s+(?:photos?|images?))?|photo\s+cr[ée]dits?)\s*[:©]
      | \(\s*(?:photos?|cr[ée]dits?|images?)\b
      | photo(?:graph)?\s+by\b
    )""",
    re.IGNORECASE | re.VERBOSE,
)

# A comment form starts here: this line and everything after it go.
_FOOTER = re.compile(
    r"""^(?:
        (?:laisser|laissez|ajouter)\s+un\s+commentaire
      | laisser\s+une\s+r[ée]ponse
      | leave\s+a\s+(?:reply|comment)
      | (?:post|add)\s+a\s+comment
      | \d+\s+(?:commentaires?|comments?|r[ée]ponses?|responses?|replies)
      | commentaires?
      | comments?
    )[\s.:!*]*$
    | ^(?:
        votre\s+adresse\s+(?:e-?mail|[ée]lectronique|de\s+messagerie|courriel)\s+ne\s+sera\s+pas
      | your\s+e-?mail\s+address\s+will\s+not\s+be\s+published
      | required\s+fields\s+are\s+marked
      | les\s+champs\s+obligatoires\s+sont\s+(?:indiqu|marqu)[ée]s
      | vous\s+devez\s+[êe]tre\s+connect[ée]\s+pour\s+(?:publier|poster)
      | you\s+must\s+be\s+logged\s+in\s+to\s+post
    )""",
    re.IGNORECASE | re.VERBOSE,
)

# An author box: this line and everything after it go, when it sits in the second half.
_AUTHOR_BOX = re.compile(
    rf"^(?:[àa]\s+propos\s+de\s+l{_APOS}auteur(?:e|ice)?|about\s+the\s+author)[\s.:]*$",
    re.IGNORECASE,
)

_BYLINE = re.compile(
    r"^(?:(?:written|posted|published)\s+by|(?:[ée]crit|publi[ée]|r[ée]dig[ée])\s+par)\s+\S.{0,60}$",
    re.IGNORECASE,
)

_SOCIAL = r"(?:facebook|twitter|x|linkedin|whatsapp|pinterest|reddit|telegram|e-?mail|messenger)"
# Between two network names: spaces around a separator, or spaces, or nothing. Written as
# ``\s*[|,/·•]?\s*`` it let either ``\s*`` take a lone space, so a line of "x x x … x!" tried
# every split (2^n): 20 names took 0.6 s, a 200-character line would never end.
_SOCIAL_GAP = r"(?:\s*[|,/·•]\s*|\s+)?"
_SHARE = re.compile(
    rf"""^(?:
        (?:partager|partagez|share|tweet(?:er)?|imprimer|print)
            (?:\s+(?:sur|on|via|par|this|cet\s+article|l{_APOS}article|this\s+(?:article|story|post))\b.*)?
      | (?:abonnez-vous|inscrivez-vous|subscribe|sign\s+up|suivez-nous|follow\s+us|rejoignez-nous)\b.*
      | (?:[àa]\s+)?lire\s+(?:aussi|[ée]galement|la\s+suite)\b.*
      | voir\s+aussi\b.*
      | (?:read\s+(?:more|also|next)|see\s+also|related(?:\s+(?:articles?|posts?|stories))?)
            (?:\s*[:»>→|–—-].*)?
      | publicit[ée]|advertisement|annonce|sponsored|contenu\s+sponsoris[ée]
      | {_SOCIAL}(?:{_SOCIAL_GAP}{_SOCIAL})*
    )[\s.:!»>→]*$""",
    re.IGNORECASE | re.VERBOSE,
)

# "Lire aussi" on its own line: the linked title follows on the next line.
_READ_ALSO_ALONE = re.compile(
    r"^(?:(?:[àa]\s+)?lire\s+(?:aussi|[ée]galement)|voir\s+aussi|read\s+(?:more|also|next)|see\s+also"
    r"|related(?:\s+(?:articles?|posts?|stories))?)[\s:»>→]*$",
    re.IGNORECASE,
)

_SPACES = re.compile(r"[ \t\f\v\u2000-\u200a\u3000]+")
# Characters with no business in stored text; \ufeff is a BOM left mid-text by concatenation.
_INVISIBLE = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\ufeff\u200b]")
# "jours . ." -> "jours.": a stray second full stop at the end of a line, never three (ellipsis).
_STRAY_STOPS = re.compile(r"(?<=[\w»”\"')])[ \t]+\.(?:[ \t]+\.)?$")
_SENTENCE_END = '.!?…:;»"”'
_NAME_PARTICLES = frozenset({"de", "du", "des", "da", "di", "del", "van", "von", "der", "le", "la"})


@dataclass(slots=True)
class _Line:
    """One non-empty line and the paragraph it belongs to."""

    paragraph: int
    text: str
    alone: bool  # the only line of its paragraph
    keep: bool = True


def clean_text(text: str) -> str:
    """The article text without boilerplate, paragraphs joined by a blank line."""
    lines = _split(text)
    _cut_from(lines, _first(lines, lambda line: bool(_FOOTER.match(line.text))))
    author_box = _first(lines, lambda line: bool(_AUTHOR_BOX.match(line.text)))
    if author_box is not None and author_box >= len(lines) // 2:
        _cut_from(lines, author_box)
    _drop_marked_lines(lines)
    _drop_captions(lines)
    _drop_read_also_titles(lines)
    _drop_final_bio(lines)
    return _join(lines)


def _split(text: str) -> list[_Line]:
    """Normalise and split into lines tagged with their paragraph number."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _INVISIBLE.sub("", text)
    lines: list[_Line] = []
    for number, paragraph in enumerate(re.split(r"\n[ \t\f\v\u00a0\u3000]*\n", text)):
        texts = [_normalise_line(raw) for raw in paragraph.split("\n")]
        texts = [line for line in texts if line]
        lines.extend(_Line(number, line, alone=len(texts) == 1) for line in texts)
    return lines


def _normalise_line(line: str) -> str:
    """Collapse runs of spaces, strip, drop a stray trailing ' . .'."""
    line = _SPACES.sub(" ", line).strip()
    return _STRAY_STOPS.sub(".", line)


def _join(lines: list[_Line]) -> str:
    """Kept lines back into text: lines of a paragraph by newline, paragraphs by a blank line."""
    paragraphs: dict[int, list[str]] = {}
    for line in lines:
        if line.keep:
            paragraphs.setdefault(line.paragraph, []).append(line.text)
    return "\n\n".join("\n".join(texts) for texts in paragraphs.values())


def _first(lines: list[_Line], test: Callable[[_Line], bool]) -> int | None:
    """Index of the first line passing ``test``."""
    return next((i for i, line in enumerate(lines) if test(line)), None)


def _cut_from(lines: list[_Line], index: int | None) -> None:
    """Drop line ``index`` and everything after it."""
    if index is not None:
        for line in lines[index:]:
            line.keep = False


def _drop_marked_lines(lines: list[_Line]) -> None:
    """Credits, share/subscribe lines, ads and bylines: recognisable on their own."""
    for line in lines:
        if len(line.text) <= _MAX_BOILERPLATE_CHARS and (
            _CREDIT.match(line.text) or _SHARE.match(line.text) or _BYLINE.match(line.text)
        ):
            line.keep = False


def _drop_captions(lines: list[_Line]) -> None:
    """A short title-like paragraph right before or after a credit line is its photo's caption."""
    for i, line in enumerate(lines):
        if not _is_credit(line):
            continue
        for j in (i - 1, i + 1):
            if 0 <= j < len(lines) and lines[j].keep and _is_caption_like(lines[j]):
                lines[j].keep = False


def _drop_read_also_titles(lines: list[_Line]) -> None:
    """The linked title under a lone "Lire aussi" line."""
    for i, line in enumerate(lines[:-1]):
        following = lines[i + 1]
        if (
            _READ_ALSO_ALONE.match(line.text)
            and following.alone
            and len(following.text) <= _MAX_CAPTION_CHARS
        ):
            following.keep = False


def _drop_final_bio(lines: list[_Line]) -> None:
    """A person's name then a short quoted bio (or one opening with the name), ending the text."""
    kept = [line for line in lines if line.keep]
    if len(kept) < 3:  # never reduce an article to nothing on this guess
        return
    name, bio = kept[-2], kept[-1]
    if not (name.alone and bio.alone and _is_person_name(name.text)):
        return
    if len(bio.text) > _MAX_BIO_CHARS:
        return
    quoted = bio.text[0] in '"“«' and bio.text[-1] in '"”»'
    if quoted or bio.text.startswith(name.text):
        name.keep = bio.keep = False


def _is_credit(line: _Line) -> bool:
    """A photo credit line, whether or not it is still kept."""
    return len(line.text) <= _MAX_BOILERPLATE_CHARS and bool(_CREDIT.match(line.text))


def _is_caption_like(line: _Line) -> bool:
    """A short one-line paragraph that reads like a title: capitalised, no closing punctuation."""
    text = line.text
    if not line.alone or len(text) > _MAX_CAPTION_CHARS or text[-1] in _SENTENCE_END:
        return False
    first = next((char for char in text if char.isalnum()), "")
    return (first.isupper() or first.isdigit()) and len(text.split()) <= _MAX_CAPTION_WORDS


def _is_person_name(text: str) -> bool:
    """Two to four capitalised words (particles like "de" allowed inside), nothing else."""
    words = text.split()
    if not 2 <= len(words) <= 4 or len(text) > 50:
        return False
    if not (words[0][0].isupper() and words[-1][0].isupper()):
        return False
    for word in words:
        if word in _NAME_PARTICLES:
            continue
        if not (word[0].isupper() and all(char.isalpha() or char in "-'’." for char in word)):
            return False
    return True
