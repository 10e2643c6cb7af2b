"""The facades bot/ calls explain their parameters: Google style ``Args:`` (ruff's D417 then
checks that every parameter is named in it)."""

from __future__ import annotations

import inspect

import pytest

from index.collection.folder import ArticleCollection
from index.service import IndexService

FACADES = [IndexService, ArticleCollection]


def public_methods(cls: type) -> list[tuple[str, object]]:
    """The class's own public methods, ``__init__`` included."""
    return [
        (name, member)
        for name, member in vars(cls).items()
        if inspect.isfunction(member) and (name == "__init__" or not name.startswith("_"))
    ]


@pytest.mark.parametrize("cls", FACADES, ids=lambda cls: cls.__name__)
def test_facade_methods_with_parameters_have_an_args_section(cls: type) -> None:
    undocumented = [
        name
        for name, method in public_methods(cls)
        if len(inspect.signature(method).parameters) > 1  # self and more
        and "\nArgs:\n" not in f"\n{inspect.getdoc(method)}\n"
    ]
    assert undocumented == []
