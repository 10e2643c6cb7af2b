"""The docs name every command and every setting, and their links lead somewhere.

As sqlite-utils' test_docs does for its CLI: a command, a setting, a moved heading or a renamed
file that the documents no longer match fails here, not in a reader's browser.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

from bot.handlers.admin import ADMIN_COMMANDS, READER_COMMANDS
from bot.i18n import LANGUAGES, MESSAGES
from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
BOT_DOC = (DOCS / "bot.md").read_text(encoding="utf-8")
SETTINGS_DOC = (DOCS / "settings.md").read_text(encoding="utf-8")
DOCUMENTS = sorted([ROOT / "README.md", *DOCS.glob("*.md")])

# [text](target) outside code: the target up to a closing parenthesis or a space (a title).
_LINK = re.compile(r"(?<!\!)\[[^\]\n]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"`[^`\n]*`")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)


def _prose(markdown: str) -> str:
    """The text with fenced blocks and code spans blanked (a link inside code is not a link)."""
    return _CODE_SPAN.sub("", _FENCE.sub("", markdown))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation gone, spaces as hyphens.

    >>> slug("Hostile input, round two")
    'hostile-input-round-two'
    >>> slug("`/feeds` and what's new")
    'feeds-and-whats-new'
    """
    text = heading.replace("`", "").strip().lower()
    kept = "".join(
        c for c in text if c in " -_" or unicodedata.category(c)[0] in "LN"
    )  # letters, digits, spaces, hyphens and underscores, as GitHub keeps them
    return kept.replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    """Every heading's anchor; a repeated heading gets -1, -2… as on GitHub."""
    seen: Counter[str] = Counter()
    found = set()
    for heading in _HEADING.findall(_FENCE.sub("", markdown)):
        base = slug(heading)
        found.add(base if not seen[base] else f"{base}-{seen[base]}")
        seen[base] += 1
    return found


def links(document: Path) -> list[str]:
    return _LINK.findall(_prose(document.read_text(encoding="utf-8")))


@pytest.mark.parametrize("command", READER_COMMANDS + ADMIN_COMMANDS)
def test_every_command_is_documented_and_in_the_menus(command: str) -> None:
    assert re.search(rf"`/{command}[` ]", BOT_DOC), f"/{command} is not in docs/bot.md"
    assert set(MESSAGES[f"command_{command}"]) >= set(LANGUAGES)  # its menu description


@pytest.mark.parametrize("command", ADMIN_COMMANDS)
def test_every_admin_command_is_in_the_admins_help(command: str) -> None:
    for lang in LANGUAGES:
        assert f"/{command}" in MESSAGES["admin_help"][lang], (command, lang)


# A setting's environment name is its field's name in upper case (no prefix in model_config).
@pytest.mark.parametrize("name", sorted(field.upper() for field in Settings.model_fields))
def test_every_setting_is_in_the_settings_doc(name: str) -> None:
    # A table row's first cell, alone or beside related ones: "| `QUERY_PROMPT`, `PASSAGE_PROMPT` |".
    row = re.compile(
        rf"^\|(?:\s*`[A-Z0-9_]+`,)*\s*`{name}`(?:,\s*`[A-Z0-9_]+`)*\s*\|", re.MULTILINE
    )
    assert row.search(SETTINGS_DOC), f"{name} has no row in docs/settings.md"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_leads_to_a_file_and_heading_that_exist(document: Path) -> None:
    broken = []
    for target in links(document):
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:: not ours to check
            continue
        path, _, anchor = target.partition("#")
        linked = (document.parent / path).resolve() if path else document
        if not linked.exists():
            broken.append(f"{target}: no file {path}")
        elif (
            anchor
            and linked.suffix == ".md"
            and anchor not in anchors(linked.read_text(encoding="utf-8"))
        ):
            broken.append(f"{target}: no heading #{anchor} in {linked.name}")
    assert not broken, broken


def test_the_link_checker_sees_what_it_must() -> None:
    text = (
        "# Title\n\n## Title\n\nSee [a](other.md#x) and [b](#title-1).\n\n"
        "```\n[not a link](nowhere.md)\n```\n`[nor this](nowhere.md)`\n"
    )
    assert _LINK.findall(_prose(text)) == ["other.md#x", "#title-1"]
    assert anchors(text) == {"title", "title-1"}
    assert slug("Only the passages that answer") == "only-the-passages-that-answer"
    assert slug("What's new") == "whats-new"


def test_the_readme_stays_short_and_gives_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 250
    # .ci/run runs the README's test command; both must stay true.
    assert "make run " in readme and "make test " in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def _index_commands() -> list[str]:
    from index.tools.cli import _parser

    [sub] = [a for a in _parser()._actions if a.dest == "command"]
    return sorted(sub.choices)  # type: ignore[arg-type]


@pytest.mark.parametrize("command", _index_commands())
def test_every_index_command_is_documented(command: str) -> None:
    """Each ``python -m index`` subcommand is shown in the README or docs/ (where the README's
    sections go)."""
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    text = "\n".join(path.read_text(encoding="utf-8") for path in docs)
    assert re.search(rf"python -m index {re.escape(command)}\b", text), command
