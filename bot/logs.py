"""Logging for the bot: one format on stderr, and secrets never written, at any level.

python-telegram-bot logs the Bot API URL (``https://api.telegram.org/bot<TOKEN>``) at DEBUG,
and httpx error messages carry request URLs. Rather than chase every logger, each record's
message and the formatted traceback are redacted on their way out.

>>> redact("GET /bot123:ABC/getMe", ["123:ABC"])
'GET /bot<redacted>/getMe'
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import TextIO

__all__ = ["RedactingFormatter", "configure_logging", "redact"]

REDACTED = "<redacted>"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret replaced by ``<redacted>``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


class RedactingFormatter(logging.Formatter):
    """A formatter whose output (message, arguments, traceback) never contains the secrets."""

    def __init__(self, secrets: Iterable[str], fmt: str = FORMAT) -> None:
        super().__init__(fmt)
        # Longest first, so a secret that contains another is replaced whole.
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        """The record as the base format writes it, every secret replaced."""
        return redact(super().format(record), self.secrets)


def configure_logging(level: str, secrets: Iterable[str], stream: TextIO | None = None) -> None:
    """Log ``level`` and above to ``stream`` (stderr), with ``secrets`` redacted everywhere."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(RedactingFormatter(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # httpx logs every request URL at INFO; the redaction covers it, but it is noise.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # bm25s sets its own logger to DEBUG and would print a line on every build.
    logging.getLogger("bm25s").setLevel(logging.WARNING)
