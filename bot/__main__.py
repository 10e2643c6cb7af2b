"""``python -m bot``: long polling, a webhook server (WEBHOOK_URL), or a console chat."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from urllib.parse import urlsplit

from pydantic import ValidationError
from telegram import Update

from bot.app import build_application
from bot.console import console_progress, run_console
from bot.settings import Settings, describe_validation_error
from index.errors import IndexFailure
from index.service import IndexService

__all__ = ["main"]

logger = logging.getLogger("bot")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="Answer questions about the articles by quoting them, on Telegram or here.",
    )
    parser.add_argument(
        "--console",
        action="store_true",
        help="chat in this terminal even when TELEGRAM_BOT_TOKEN is set",
    )
    return parser


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    # httpx logs every request URL at INFO, and Bot API URLs contain the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # bm25s sets its own logger to DEBUG and would print a line on every build.
    logging.getLogger("bm25s").setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the bot (or the console); return the process exit code."""
    args = _parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:
        print(describe_validation_error(exc), file=sys.stderr)
        return 2
    _configure_logging(settings.log_level)
    console = args.console or settings.telegram_bot_token is None
    try:
        service = IndexService(settings)
        if console:
            if not service.has_index():
                print(f"Building the index from {settings.seeds_dir}…", file=sys.stderr)
            report = service.ensure_built(console_progress(sys.stderr))
        else:
            report = service.ensure_built()
    except (IndexFailure, ValueError) as exc:
        print(f"cannot start: {exc}", file=sys.stderr)
        return 2
    if report is not None:
        print(
            f"Index built: {report.articles} articles, {report.chunks} passages "
            f"in {report.seconds:.1f} s.",
            file=sys.stderr,
        )
    if console:
        return run_console(settings, service)
    application = build_application(settings, service)
    if settings.webhook_url:
        secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
        logger.info("webhook on %s:%s", settings.webhook_listen, settings.webhook_port)
        application.run_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path=urlsplit(settings.webhook_url).path.lstrip("/"),
            webhook_url=settings.webhook_url,
            secret_token=secret,
            allowed_updates=Update.ALL_TYPES,
        )
    else:
        logger.info("long polling")
        application.run_polling(allowed_updates=Update.ALL_TYPES)
    return 0


if __name__ == "__main__":
    sys.exit(main())
