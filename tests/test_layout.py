"""The layout docs/DESIGN.md describes, checked: who may import what."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# bot/ reaches index/ through its facades, their plain data and the settings it extends.
BOT_MAY_IMPORT = {
    "index.service",
    "index.collection",
    "index.session",
    "index.models",
    "index.errors",
    "index.feeds",  # FeedRegistry and poll_feed, the feeds' facade
    "index.dates",  # TimeFrame, plain data, and display_date
    "index.stores.readers",  # the readers' store: votes, gaps, scopes
    "index.gaps",  # the gaps report's grouping, plain data
    "index.smalltalk",  # greetings and thanks told from questions: a pure function
    "index.lang",  # sure_language: the language of a reply to a question, a pure function
    "index.overview",  # questions about the collection itself, and its summaries: plain data
    "index.reasons",  # a refusal's code and values (plain data), rendered in the bot's language
    "index.indexer",  # SyncReport, the summary of a reindex
    "index.settings",  # bot.settings.Settings extends IndexSettings
}


def imported_modules(package: str) -> dict[str, set[str]]:
    """For each module of a package, the modules it imports (absolute names)."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[str(path.relative_to(ROOT))] = names
    return found


def test_bot_reaches_index_only_through_its_facades() -> None:
    wrong = {
        module: sorted(n for n in names if n.startswith("index") and n not in BOT_MAY_IMPORT)
        for module, names in imported_modules("bot").items()
    }
    assert {m: names for m, names in wrong.items() if names} == {}


def test_bot_never_imports_numpy_or_faiss_and_index_never_imports_telegram() -> None:
    heavy = {"numpy", "faiss"}
    bot = {m: names & heavy for m, names in imported_modules("bot").items()}
    index = {
        m: {n for n in names if n.split(".")[0] == "telegram"}
        for m, names in imported_modules("index").items()
    }
    assert {m: n for m, n in bot.items() if n} == {}
    assert {m: n for m, n in index.items() if n} == {}
