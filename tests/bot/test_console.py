"""``python -m bot --console``: the same answer pipeline on stdin/stdout, as a real process."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from index.stores.embedded import EmbeddedStore
from index.tools.cli import main as index_main
from tests.support.bot_fixtures import Workspace

ROOT = Path(__file__).resolve().parents[2]


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


def test_console_has_the_chats_commands_and_buttons(workspace: Workspace) -> None:
    # Issue 23, item 11: /help reprinted the intro, "/context 1" was taken as a question, and a
    # piped session was not echoed.
    done = run_console(
        workspace,
        "/context 1\n"
        "/help\n"
        "Qui a ordonné de tirer sur les manifestants ?\n"
        "/context 2\n"
        "/context 9\n"
        "/vote down 2\n"
        "/vote up\n"
        "/vote sideways\n"
        "/frobnicate\n"
        "De quoi parle l'article ?\n"
        "Quoi de neuf cette semaine ?\n"
        "/more\n",
    )
    assert done.returncode == 0, done.stderr
    replies = dict(_exchanges(done.stdout))
    assert replies["/context 1"] == "Aucune réponse affichée : posez d'abord une question."
    assert replies["/help"].startswith(
        "Je réponds aux questions sur 1 article en citant mot pour mot"
    )
    assert replies["/help"].endswith(
        "Dans la console : /ask question (ou la question seule), /more (Plus), /context N "
        "(Contexte N), /vote up ou /vote down [N] (👍, 👎 et ✗ N faux), /sources, /help, /quit."
    )
    answer = replies["Qui a ordonné de tirer sur les manifestants ?"]
    assert answer.startswith("[1] ") and "tirer pour tuer" in answer
    second = answer.split("\n\n[2] ")[1].split("\n    — ")[0].replace("**", "")
    context = replies["/context 2"]
    assert not context.startswith("[")  # the surroundings of a quote, not a new answer
    assert second.strip("…") in context.replace("**", "")
    assert context.endswith("— « Tirez sur les manifestants »")
    assert replies["/context 9"] == "La dernière réponse n'a pas de passage 9."
    assert replies["/vote down 2"] == replies["/vote up"] == "Merci, c'est noté."
    assert replies["/vote sideways"] == replies["/frobnicate"] == replies["/help"].split("\n\n")[-1]
    assert replies["De quoi parle l'article ?"].startswith(
        "Les articles de la collection (1), du plus récent au plus ancien\n\n"
        "• « Tirez sur les manifestants »\n  AGI – Le président kazakh"
    )
    assert replies["Quoi de neuf cette semaine ?"].startswith("Aucun article n'a été publié ")
    assert replies["/more"] == "Pas d'autres passages."
    with sqlite3.connect(workspace.data / "readers.sqlite") as db:
        votes = db.execute("SELECT question, value FROM reader_votes ORDER BY value").fetchall()
    question = "Qui a ordonné de tirer sur les manifestants ?"
    assert votes == [(question, -1), (question, 1)]  # quote 2 down, the first up


def _exchanges(out: str) -> list[tuple[str, str]]:
    """(line read, reply) of a piped console's transcript: "> line", a blank line, the reply."""
    turns = out.split("\n\n> ")[1:]
    return [(turn.split("\n\n", 1)[0], turn.split("\n\n", 1)[1].rstrip("\n")) for turn in turns]


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
    assert "Index built: 1 article, 10 passages" in done.stderr
    assert done.stdout.count("Console de questions sur 1 article.") == 1
    assert "\n> /help\n\nJe réponds aux questions sur 1 article " in done.stdout
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
