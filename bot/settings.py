"""Settings of the bot: one pydantic-settings object that also carries the index's settings."""

from __future__ import annotations

import datetime
import json
import re
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode

from index import IndexSettings, describe_validation_error

__all__ = ["Settings", "describe_validation_error"]

_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")


class Settings(IndexSettings):
    """Everything the bot reads from the environment (and ``.env``), on top of ``IndexSettings``.

    >>> Settings(admin_ids="1,2").admin_ids
    [1, 2]
    """

    telegram_bot_token: SecretStr | None = Field(
        default=None, description="Token from @BotFather; without it the bot runs as a console."
    )
    telegram_base_url: str = Field(
        default="https://api.telegram.org/bot", description="Bot API endpoint (tests, local API)."
    )
    telegram_base_file_url: str = Field(
        default="https://api.telegram.org/file/bot", description="Bot API file download endpoint."
    )
    admin_ids: Annotated[list[int], NoDecode] = Field(
        default_factory=list, description="Telegram user ids allowed to manage the articles."
    )
    webhook_url: str | None = Field(
        default=None, description="Public HTTPS URL of the webhook; unset means long polling."
    )
    webhook_listen: str = Field(
        default="127.0.0.1",
        description="Address the webhook server binds: loopback behind a reverse proxy; "
        "0.0.0.0 only where the port is meant to be reached (a container).",
    )
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    webhook_secret: SecretStr | None = Field(
        default=None, description="X-Telegram-Bot-Api-Secret-Token checked on every webhook call."
    )
    default_language: Literal["fr", "en", "es", "de", "it"] = Field(
        default="fr",
        description="Language of the bot's replies when neither the question's language nor "
        "the reader's Telegram language is one of fr, en, es, de, it.",
    )
    rate_limit_per_minute: int = Field(default=20, ge=0, description="Questions per user; 0: off.")
    max_question_chars: int = Field(
        default=500, ge=10, le=4096, description="Longer questions are cut (embedding cost)."
    )
    answer_cache_size: int = Field(
        default=500, ge=10, le=100_000, description="Answers per chat kept for More/Context."
    )
    typing_delay: float = Field(
        default=0.3,
        ge=0,
        le=10,
        description="Seconds before 'typing…' is shown; quicker answers need none.",
    )
    feed_interval_seconds: int = Field(
        default=900,
        ge=0,
        le=7 * 86_400,
        description="How often every feed of /feeds is polled; 0: never (the feeds stay listed).",
    )
    gaps_digest_weekday: (
        Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] | None
    ) = Field(
        default=None,
        description="Day the weekly /gaps digest is sent to the admins, at 09:00 in TIMEZONE; "
        "unset: no digest.",
    )
    feeds_digest_time: datetime.time | None = Field(
        default=None,
        description="Time of day (HH:MM in TIMEZONE) the admins get a note of what the feeds "
        "added since the last one; unset: no note.",
    )
    metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="Port of the Prometheus metrics (/metrics) and the health check "
        "(/healthz: 503 while starting, 200 once the index and model are loaded); unset: off.",
    )
    metrics_host: str = Field(
        default="127.0.0.1",
        description="Address the metrics server binds: loopback by default; 0.0.0.0 in a "
        "container, where Prometheus or the health check reach it from outside.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _parse_admin_ids(cls, value: Any) -> Any:
        """Accept ``1,2``, ``[1,2]``, ``1`` (environment strings) as well as real lists."""
        if isinstance(value, int) and not isinstance(value, bool):
            return [value]
        if not isinstance(value, str):
            return value
        text = value.strip()
        if not text:
            return []
        if text.startswith("["):
            try:
                parsed = json.loads(text)
            except json.JSONDecodeError:
                parsed = None
            if isinstance(parsed, list):
                return parsed
        parts = [p.strip() for p in text.strip("[]").split(",") if p.strip()]
        if not all(re.fullmatch(r"-?\d+", p) for p in parts):
            raise ValueError(
                f"ADMIN_IDS must be numeric Telegram user ids separated by commas, "
                f"like 12345,67890 (got {value!r})"
            )
        return [int(p) for p in parts]

    @field_validator(
        "telegram_bot_token",
        "webhook_url",
        "webhook_secret",
        "metrics_port",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        """``TELEGRAM_BOT_TOKEN=`` in a .env file means "no token", not an empty one."""
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("feeds_digest_time", mode="before")
    @classmethod
    def _clock_time(cls, value: Any) -> Any:
        """``09:00`` (a time of day, in TIMEZONE); blank: no note."""
        if not isinstance(value, str):
            return value
        if not value.strip():
            return None
        found = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", value.strip())
        if found is None:
            raise ValueError(
                f"FEEDS_DIGEST_TIME must be a time of day as HH:MM, like 09:00 (got {value!r})"
            )
        return datetime.time(int(found[1]), int(found[2]))

    @field_validator("telegram_bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not re.fullmatch(r"\d+:[\w-]+", value.get_secret_value()):
            raise ValueError("TELEGRAM_BOT_TOKEN must look like 123456:ABC-DEF… (from @BotFather)")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _webhook_https(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"https?://[^/\s]+", value):
            raise ValueError(f"WEBHOOK_URL must be an http(s) URL (got {value!r})")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _SECRET_TOKEN.fullmatch(value.get_secret_value()):
            raise ValueError("WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("default_language", "log_level", mode="before")
    @classmethod
    def _normalise_case(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        return value.strip().upper() if value.strip().upper() in _LEVELS else value.strip().lower()


_LEVELS = frozenset({"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"})
