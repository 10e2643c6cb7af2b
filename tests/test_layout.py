"""The layout docs/DESIGN.md describes, checked: who may import what."""

from __future__ import annotations

import ast
from pathlib import Path

import index

ROOT = Path(__file__).resolve().parent.parent


def imports(package: str) -> dict[str, list[ast.Import | ast.ImportFrom]]:
    """For each module of a package, its import statements (at any depth)."""
    found: dict[str, list[ast.Import | ast.ImportFrom]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found[str(path.relative_to(ROOT))] = [
            node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)
        ]
    return found


def module_names(node: ast.Import | ast.ImportFrom) -> list[str]:
    """The absolute module names an import statement names (a relative import: none)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    return [node.module] if node.module and node.level == 0 else []


def imported_modules(package: str) -> dict[str, set[str]]:
    """For each module of a package, the modules it imports (absolute names)."""
    return {
        module: {name for node in nodes for name in module_names(node)}
        for module, nodes in imports(package).items()
    }


def is_index(name: str) -> bool:
    return name == "index" or name.startswith("index.")


def past_the_top(node: ast.Import | ast.ImportFrom) -> list[str]:
    """``import index.x`` or ``from index.x import``: a way into index/ besides its top level."""
    if isinstance(node, ast.Import):
        return [f"import {alias.name}" for alias in node.names if is_index(alias.name)]
    if node.level == 0 and node.module and is_index(node.module) and node.module != "index":
        return [f"from {node.module} import"]
    return []


def test_bot_reaches_index_only_through_its_top_level() -> None:
    # ``from index import X`` only: the facades, their plain data and errors, the settings
    # bot.settings extends. What bot/ needs is added to index/__init__.py's __all__, where it is
    # seen as part of the index's public API.
    wrong = {
        module: [line for node in nodes for line in past_the_top(node)]
        for module, nodes in imports("bot").items()
    }
    assert {m: lines for m, lines in wrong.items() if lines} == {}


def test_bot_imports_from_index_only_what_it_exports() -> None:
    exported = set(index.__all__)
    missing = {
        module: sorted(
            alias.name
            for node in nodes
            if isinstance(node, ast.ImportFrom) and node.module == "index"
            for alias in node.names
            if alias.name not in exported
        )
        for module, nodes in imports("bot").items()
    }
    assert {m: names for m, names in missing.items() if names} == {}


def test_index_exports_what_its_all_names() -> None:
    assert len(set(index.__all__)) == len(index.__all__)
    assert [name for name in index.__all__ if not hasattr(index, name)] == []


def test_bot_never_imports_numpy_or_faiss_and_index_never_imports_telegram_or_bot() -> None:
    heavy = {"numpy", "faiss"}
    bot = {m: names & heavy for m, names in imported_modules("bot").items()}
    index_imports = {
        m: {n for n in names if n.split(".")[0] in ("telegram", "bot")}
        for m, names in imported_modules("index").items()
    }
    assert {m: n for m, n in bot.items() if n} == {}
    assert {m: n for m, n in index_imports.items() if n} == {}
