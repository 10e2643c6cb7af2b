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

__all__ = ["BootstrapFailureFilter", "RedactingFormatter", "configure_logging", "redact"]

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
    # faiss's loader says at INFO which CPU build it tries ("Could not load library with
    # AVX512 support due to: ModuleNotFoundError…", 8 lines a start): normal, yet read as errors.
    logging.getLogger("faiss").setLevel(logging.WARNING)
    # The JobQueue's scheduler says at INFO each job it adds and runs ("Adding job
    # tentatively…", "Running job…" every FEED_INTERVAL_SECONDS): noise in an operator's log.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # A start that cannot reach Telegram is said in one line by ``python -m bot``; PTB's own
    # traceback of the same failure would come first (tens of lines of httpx frames).
    ptb = logging.getLogger("telegram.ext")
    if not any(isinstance(f, BootstrapFailureFilter) for f in ptb.filters):
        ptb.addFilter(BootstrapFailureFilter())


class BootstrapFailureFilter(logging.Filter):
    """Drops PTB's log of a failed start (``initialize``, ``deleteWebhook``, ``setWebhook``):
    the failure is raised to ``python -m bot`` as well, which says what to check. Failures
    once running (a ``getUpdates`` that fails) are still logged.

    >>> record = logging.LogRecord("telegram.ext", logging.ERROR, "", 0,
    ...     "%s Failed run number %s of %s. Aborting.",
    ...     ("Network Retry Loop (Bootstrap Initialize Application):", 0, 0), None)
    >>> BootstrapFailureFilter().filter(record)
    False
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Drop PTB's error record of a failed bootstrap: the bot says why in one line."""
        return not (
            record.levelno >= logging.ERROR
            and record.getMessage().startswith("Network Retry Loop (Bootstrap")
        )
