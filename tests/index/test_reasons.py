"""index.reasons: a refusal is a code and values, its English derived, kept on disk as JSON.

The same refusals said in each language by the bot are in tests/test_i18n.py.
"""

from __future__ import annotations

import ast
import pickle
from pathlib import Path

import pytest

from index.collection.feeds import FeedError
from index.errors import ArticleLoadError
from index.ingest.fetch import FetchError
from index.reasons import ENGLISH, Reason, stored_english, stored_reason

INDEX = Path(__file__).resolve().parents[2] / "index"
# The errors whose reason an admin reads.
SAID = {"ArticleLoadError", "FetchError", "FeedError", "_Stop"}


def test_the_english_sentence_is_the_code_with_its_values() -> None:
    assert str(Reason("http_status", {"status": 404})) == "the server answered HTTP 404"
    assert str(Reason("pdf_pages", {"pages": 1})) == "the PDF has more than 1 page"
    assert str(Reason("pdf_pages", {"pages": 500})) == "the PDF has more than 500 pages"
    error = FetchError(Reason("private_address", {"host": "h", "address": "10.0.0.1"}))
    assert str(error) == "h is a private address (10.0.0.1); FETCH_PRIVATE_ADDRESSES=true allows it"


def test_an_unknown_code_or_a_bare_sentence_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown reason code 'nope'"):
        Reason("nope")
    with pytest.raises(TypeError, match="ArticleLoadError takes a Reason, not str"):
        ArticleLoadError("binary file, not text")  # type: ignore[arg-type]


def test_a_reason_survives_json_and_pickling() -> None:
    reason = Reason("invalid_json", {"error": "Expecting value", "line": 3})
    assert Reason.from_json(reason.to_json()) == reason
    copy = pickle.loads(pickle.dumps(ArticleLoadError(reason)))
    assert (type(copy), copy.reason, str(copy)) == (
        ArticleLoadError,
        reason,
        "invalid JSON: Expecting value (line 3)",
    )
    assert pickle.loads(pickle.dumps(FeedError(Reason("not_a_feed")))).reason.code == "not_a_feed"


@pytest.mark.parametrize(
    "stored",
    [
        "the server answered HTTP 404",  # a row written before reasons had codes
        "https://a.example/1: not a valid URL",
        '{"code": "gone_code", "params": {}}',  # a code this version no longer has
        '{"code": "http_status", "params": {}}',  # its value missing
        '{"code": "http_status", "params": {"status": [404]}}',
        "[1, 2]",
        "404",
    ],
)
def test_a_stored_reason_without_a_usable_code_is_shown_as_it_is(stored: str) -> None:
    assert stored_reason(stored) == (None, stored)
    assert stored_english(stored) == stored


def test_a_stored_reason_reads_back_with_its_entry() -> None:
    line = '{"entry": "https://a.example/1", "code": "http_status", "params": {"status": 404}}'
    assert stored_reason(line) == ("https://a.example/1", Reason("http_status", {"status": 404}))
    assert stored_english(line) == "https://a.example/1: the server answered HTTP 404"


def _unsaid_raises() -> list[str]:
    """Every ``raise`` in index/ of an error an admin reads whose argument is a sentence
    (a string, an f-string, ``str(…)``) rather than a ``Reason``."""
    found = []
    for path in sorted(INDEX.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
                continue
            called = node.exc.func
            name = called.id if isinstance(called, ast.Name) else getattr(called, "attr", "")
            argument = node.exc.args[0] if node.exc.args else None
            if name in SAID and (
                argument is None
                or isinstance(argument, ast.Constant | ast.JoinedStr | ast.BinOp)
                or (isinstance(argument, ast.Call) and getattr(argument.func, "id", "") == "str")
            ):
                found.append(f"{path.name}:{node.lineno}")
    return found


def test_every_refusal_an_admin_reads_has_a_code() -> None:
    assert _unsaid_raises() == []
    assert len(ENGLISH) >= 50  # the scan saw the codes' raise sites, not an empty folder


def test_the_scan_finds_a_sentence_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "bad.py").write_text(
        'def f(x):\n    raise ArticleLoadError(f"bad {x}")\n\n'
        "def g(e):\n    raise FetchError(str(e))\n\n"
        'def h():\n    raise ArticleLoadError(Reason("binary"))\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(f"{__name__}.INDEX", tmp_path)
    assert _unsaid_raises() == ["bad.py:2", "bad.py:5"]
