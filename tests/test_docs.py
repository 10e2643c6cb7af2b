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
