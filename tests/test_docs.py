"""The docs name every command the bot offers (as sqlite-utils' test_docs does for its CLI)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.admin import ADMIN_COMMANDS, READER_COMMANDS
from bot.i18n import LANGUAGES, MESSAGES

ROOT = Path(__file__).resolve().parent.parent
BOT_DOC = (ROOT / "docs" / "bot.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("command", READER_COMMANDS + ADMIN_COMMANDS)
def test_every_command_is_documented_and_in_the_menus(command: str) -> None:
    assert re.search(rf"`/{command}[` ]", BOT_DOC), f"/{command} is not in docs/bot.md"
    assert set(MESSAGES[f"command_{command}"]) >= set(LANGUAGES)  # its menu description


@pytest.mark.parametrize("command", ADMIN_COMMANDS)
def test_every_admin_command_is_in_the_admins_help(command: str) -> None:
    for lang in LANGUAGES:
        assert f"/{command}" in MESSAGES["admin_help"][lang], (command, lang)


def _index_commands() -> list[str]:
    from index.cli import _parser

    [sub] = [a for a in _parser()._actions if a.dest == "command"]
    return sorted(sub.choices)  # type: ignore[arg-type]


@pytest.mark.parametrize("command", _index_commands())
def test_every_index_command_is_documented(command: str) -> None:
    """Each ``python -m index`` subcommand is shown in the README or docs/ (where the README's
    sections go)."""
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    text = "\n".join(path.read_text(encoding="utf-8") for path in docs)
    assert re.search(rf"python -m index {re.escape(command)}\b", text), command
