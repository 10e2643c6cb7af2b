"""``python -m bot --console``: the same answer pipeline on stdin/stdout, as a real process."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from index.cli import main as index_main
from index.stores.embedded import EmbeddedStore
from tests.bot_fixtures import Workspace

ROOT = Path(__file__).resolve().parent.parent


def run_console(
    space: Workspace, stdin: str, *args: str, default_language: str = "fr"
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.update(
        SEEDS_DIR=str(space.seeds),
        DATA_DIR=str(space.data),
        TELEGRAM_BOT_TOKEN="123:ABC",  # --console wins over a token
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
        DEFAULT_LANGUAGE=default_language,
    )
    return subprocess.run(
        [sys.executable, "-m", "bot", "--console", *args],
        cwd=space.seeds.parent,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def generation(space: Workspace) -> int:
    store = EmbeddedStore(space.data)
    try:
        return store.counts().generation
    finally:
        store.close()


def test_console_answers_from_the_prepared_index(workspace: Workspace) -> None:
    before = generation(workspace)
    done = run_console(
        workspace,
        "Qui a ordonné de tirer sur les manifestants ?\n"
        "/more\n"
        "\n"
        "How many Russian planes fly to Kazakhstan?\n"
        "Quelle est la recette du gâteau au chocolat ?\n"
        "/sources\n"
        "/quit\n"
        "never read\n",
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith("Console de questions sur 1 article.")
    blocks = out.split("\n\n")
    first = next(b for b in blocks if b.startswith("[1] "))
    assert "**AGI – Le président kazakh" in first and "tirer pour tuer" in first
    assert "\n    — « Tirez sur les manifestants »" in out
    assert "[4] " in out  # /more continued the numbering
    assert "**75 avions russes volent 24 heures sur 24" in out
    assert "Les articles ne répondent pas à cette question." in out
    assert "000_7774940a137d78f0 — « Tirez sur les manifestants »" in out
    assert "never read" not in out
    assert generation(workspace) == before  # nothing rebuilt
    assert "Traceback" not in done.stderr


def test_console_answers_small_talk_in_its_language(workspace: Workspace) -> None:
    done = run_console(workspace, "bonjour\nthanks!\nQui est Ablyazov ?\n")
    assert done.returncode == 0, done.stderr
    assert "Bonjour ! Je réponds aux questions sur 1 article en citant" in done.stdout
    assert "You're welcome! Ask another question any time." in done.stdout
    assert "Ablyazov" in done.stdout.split("You're welcome!")[1]


def test_console_replies_in_the_questions_language_else_the_default(
    workspace: Workspace,
) -> None:
    """Issue 23, item 5: the console follows the chat's rule, with DEFAULT_LANGUAGE for the
    reader's own language (here Italian)."""
    done = run_console(
        workspace,
        "¿Cómo se hace una mayonesa casera?\nWie backt man einen Schokoladenkuchen?\n"
        "Crêpes ?\n/sources\n",
        default_language="it",
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith("Console di domande su 1 articolo. Scriva una domanda")
    assert "Los artículos no responden a esta pregunta." in out
    assert "Die Artikel beantworten diese Frage nicht." in out
    assert "Gli articoli non rispondono a questa domanda." in out  # one word: the default's
    assert "Les articles ne répondent pas" not in out


def test_console_builds_the_index_on_first_start(workspace: Workspace, tmp_path: Path) -> None:
    fresh = Workspace(workspace.seeds, tmp_path / "fresh-data")
    fresh.data.mkdir()
    # The embedding cache of the prepared index makes this build instant.
    (fresh.data / "embeddings.sqlite").write_bytes(
        (workspace.data / "embeddings.sqlite").read_bytes()
    )
    done = run_console(fresh, "/help\nQui a ordonné de tirer sur les manifestants ?\n")  # then EOF
    assert done.returncode == 0, done.stderr
    assert "Building the index from" in done.stderr
    assert "Index built: 1 articles, 10 passages" in done.stderr
    assert done.stdout.count("Console de questions sur 1 article.") == 2
    assert "[1] " in done.stdout
    assert generation(fresh) == 1  # built once


def test_a_restart_takes_in_what_changed_in_the_folder(
    workspace: Workspace, tmp_path: Path
) -> None:
    # A file saved by an /add that was killed before indexing, or dropped in while no bot ran:
    # the next start indexes it, so the folder and the index agree again.
    copy = Workspace(tmp_path / "copy" / "seeds", tmp_path / "copy" / "data")
    shutil.copytree(workspace.seeds, copy.seeds)
    shutil.copytree(workspace.data, copy.data)
    (copy.seeds / "abeilles.txt").write_text(
        "Les abeilles\n\nLes abeilles domestiques produisent le miel de la ruche en butinant les "
        "fleurs du printemps, et une colonie compte jusqu'à cinquante mille ouvrières.",
        encoding="utf-8",
    )
    done = run_console(copy, "Combien d'ouvrières compte une colonie d'abeilles ?\n")
    assert done.returncode == 0, done.stderr
    assert f"Index caught up with {copy.seeds}: 1 added, 0 updated, 0 removed." in done.stderr
    assert "cinquante mille ouvrières" in done.stdout
    again = run_console(copy, "")
    assert "caught up" not in again.stderr  # nothing changed: nothing said


def test_console_and_search_json_say_answer_closest_or_declined(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    done = run_console(
        workspace,
        "Pourquoi les manifestations ont-elles commencé ?\nComment faire une pâte à crêpes ?\n",
    )
    assert done.returncode == 0, done.stderr
    note = (
        "\nJe ne trouve pas de réponse sûre. Voici les passages les plus proches ; "
        "ils n'y répondent peut-être pas.\n\n[1] "
    )
    closest, _ = done.stdout.split(note)[1].split("Les articles ne répondent pas")  # then declined
    assert re.findall(r"^\[(\d)\] ", "[1] " + closest, re.M) == ["1", "2"]  # fewer quotes
    assert "**Les protestations qui ont commencé" in closest
    monkeypatch.setenv("SEEDS_DIR", str(workspace.seeds))
    args = ["--data", str(workspace.data), "--json"]
    answers: dict[str, list[str]] = {}
    for question in (
        "Qui a ordonné de tirer sur les manifestants ?",
        "Pourquoi les manifestations ont-elles commencé ?",
        "Comment faire une pâte à crêpes ?",
    ):
        assert index_main(["search", question, *args]) == 0
        answers[question] = [q["confidence"] for q in json.loads(capsys.readouterr().out)]
    assert answers == {
        "Qui a ordonné de tirer sur les manifestants ?": ["answer"] * 3,
        "Pourquoi les manifestations ont-elles commencé ?": ["closest"] * 2,
        "Comment faire une pâte à crêpes ?": [],  # declined: an empty list, as before
    }
