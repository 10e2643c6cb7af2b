"""bench.fetch_piaf converts PIAF as ../shared/eval/piaf/convert.py does (offline, on a tiny
file of PIAF's shape), and ``make eval`` says where PIAF comes from when it is missing."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.fetch_piaf import convert, main, write

ROOT = Path(__file__).resolve().parent.parent
SHARED_CONVERT = ROOT.parent / "shared" / "eval" / "piaf" / "convert.py"

TINY = {
    "version": "1.0",
    "data": [
        {
            "title": " Château de Versailles ",
            "paragraphs": [
                {
                    "context": " Le château fut construit sous Louis XIV. ",
                    "qas": [
                        {
                            "id": "q-1",
                            "question": " Sous quel roi ? ",
                            "answers": [
                                {"text": "Louis XIV", "answer_start": 31},
                                {"text": "Louis XIV", "answer_start": 31},
                                {"text": "sous Louis XIV", "answer_start": 26},
                            ],
                        }
                    ],
                },
                {
                    "context": "Il compte 2 300 pièces.",
                    "qas": [
                        {
                            "id": "q-2",
                            "question": "Combien de pièces ?",
                            "answers": [{"text": "2 300", "answer_start": 10}],
                        },
                        {
                            "id": "q-3",
                            "question": "Combien de pièces compte-t-il ?",
                            "answers": [{"text": "2 300 pièces", "answer_start": 10}],
                        },
                    ],
                },
            ],
        },
        {
            "title": "Château de Versailles",  # the same slug: the second file is "-2"
            "paragraphs": [
                {
                    "context": "Une autre page.",
                    "qas": [
                        {
                            "id": "q-4",
                            "question": "Laquelle ?",
                            "answers": [{"text": "autre", "answer_start": 4}],
                        }
                    ],
                }
            ],
        },
    ],
}


def test_conversion_of_a_tiny_file() -> None:
    converted = convert(TINY)
    assert converted.articles == {
        "chateau-de-versailles.txt": (
            "Château de Versailles\n\nLe château fut construit sous Louis XIV.\n\n"
            "Il compte 2 300 pièces.\n"
        ),
        "chateau-de-versailles-2.txt": "Château de Versailles\n\nUne autre page.\n",
    }
    first = converted.questions[0]
    assert first == {
        "id": "q-1",
        "question": "Sous quel roi ?",
        "answers": ["Louis XIV", "sous Louis XIV"],
        "article": "chateau-de-versailles.txt",
        "context": "Le château fut construit sous Louis XIV.",
        "split": "dev",
    }
    # The hash rule of convert.py: sha256(id) % 10 < 3 is dev (worked out once, by hand).
    assert [q["split"] for q in converted.questions] == ["dev", "test", "dev", "test"]
    assert converted.questions[3]["article"] == "chateau-de-versailles-2.txt"


@pytest.mark.skipif(not SHARED_CONVERT.exists(), reason="../shared/eval/piaf/convert.py absent")
def test_same_bytes_as_the_shared_convert_script(tmp_path: Path) -> None:
    source = tmp_path / "piaf-v1.0.json"
    source.write_text(json.dumps(TINY, ensure_ascii=False), encoding="utf-8")
    subprocess.run(
        [sys.executable, str(SHARED_CONVERT), str(source), str(tmp_path / "theirs")],
        check=True,
        capture_output=True,
    )
    assert main(["--source", str(source), "--out", str(tmp_path / "ours")]) == 0
    for name in ("questions.jsonl", "articles/chateau-de-versailles.txt"):
        assert (tmp_path / "ours" / name).read_bytes() == (tmp_path / "theirs" / name).read_bytes()
    assert sorted(p.name for p in (tmp_path / "ours" / "articles").iterdir()) == sorted(
        p.name for p in (tmp_path / "theirs" / "articles").iterdir()
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "No such file"),
        (b"", "Expecting value"),
        (b"{not json", "Expecting property name"),
        (b"[1, 2]", 'no "data" list at the top'),
        (json.dumps({"data": [{"title": "T"}]}).encode(), "an article lacks 'paragraphs'"),
        (json.dumps({"data": [{"title": 3, "paragraphs": []}]}).encode(), "not a PIAF file"),
    ],
    ids=["missing", "empty", "malformed", "not-an-object", "no-paragraphs", "bad-title"],
)
def test_bad_sources_are_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes | None, message: str
) -> None:
    source = tmp_path / "piaf.json"
    if content is not None:
        source.write_bytes(content)
    assert main(["--source", str(source), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {source}: ") and message in err
    assert not (tmp_path / "out").exists()


def test_written_files_are_what_make_eval_reads(tmp_path: Path) -> None:
    write(convert(TINY), tmp_path)
    lines = (tmp_path / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["q-1", "q-2", "q-3", "q-4"]
    assert "é" in lines[0] or "â" in lines[0]  # ensure_ascii=False, as convert.py


@pytest.mark.skipif(shutil.which("make") is None, reason="no make")
def test_make_eval_says_where_piaf_comes_from(tmp_path: Path) -> None:
    done = subprocess.run(
        ["make", "-s", "piaf-check", f"PIAF={tmp_path / 'none'}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0
    assert "etalab-ia/piaf-code" in done.stdout and "make piaf" in done.stdout
    assert "python -m bench.fetch_piaf --source piaf-v1.0.json" in done.stdout
    (tmp_path / "piaf" / "articles").mkdir(parents=True)
    (tmp_path / "piaf" / "questions.jsonl").write_text("")
    ok = subprocess.run(
        ["make", "-s", "piaf-check", f"PIAF={tmp_path / 'piaf'}"], cwd=ROOT, capture_output=True
    )
    assert ok.returncode == 0
