"""``python -m bot``: long polling, a webhook server (WEBHOOK_URL), or a console chat."""

from __future__ import annotations

import argparse
import logging
import secrets
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from urllib.parse import unquote, urlsplit

from pydantic import ValidationError
from telegram import Update

from bot.app import build_application
from bot.console import console_progress, run_console
from bot.logs import configure_logging
from bot.settings import Settings, describe_validation_error
from index.errors import IndexFailure
from index.service import IndexService

__all__ = ["WebhookOptions", "main", "webhook_options"]

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


@dataclass(frozen=True, slots=True)
class WebhookOptions:
    """What ``run_webhook``/``Updater.start_webhook`` get: where to listen, and the secret."""

    listen: str
    port: int
    url_path: str
    webhook_url: str
    secret_token: str


def webhook_options(settings: Settings) -> WebhookOptions:
    """The webhook server's options; never without a secret.

    Without ``X-Telegram-Bot-Api-Secret-Token`` anyone who reaches the port could post an
    update "from" an admin. When WEBHOOK_SECRET is unset a random one is made for this run and
    registered with ``setWebhook``; PTB's server then answers 403 to any request without it.
    """
    if settings.webhook_url is None:
        raise ValueError("WEBHOOK_URL is not set")
    secret = settings.webhook_secret
    return WebhookOptions(
        listen=settings.webhook_listen,
        port=settings.webhook_port,
        url_path=urlsplit(settings.webhook_url).path.lstrip("/"),
        webhook_url=settings.webhook_url,
        secret_token=secret.get_secret_value() if secret else secrets.token_urlsafe(32),
    )


def bot_secrets(settings: Settings) -> list[str]:
    """What must never appear in a log line."""
    values = [
        settings.telegram_bot_token,
        settings.webhook_secret,
        settings.database_url,
        settings.readers_key,
    ]
    found = [v.get_secret_value() for v in values if v is not None]
    if settings.database_url is not None:  # its password alone, should a driver log it
        password = urlsplit(settings.database_url.get_secret_value()).password
        found += [password, unquote(password)] if password else []
    return found


def main(argv: Sequence[str] | None = None) -> int:
    """Run the bot (or the console); return the process exit code."""
    args = _parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:
        print(describe_validation_error(exc), file=sys.stderr)
        return 2
    configure_logging(settings.log_level, bot_secrets(settings))
    console = args.console or settings.telegram_bot_token is None
    try:
        service = IndexService(settings)
        if console:
            if not service.has_index():
                print(f"Building the index from {settings.seeds_dir}…", file=sys.stderr)
            report = service.ensure_built(console_progress(sys.stderr))
        else:
            report = service.ensure_built()
        caught_up = service.catch_up() if report is None else None
    except (IndexFailure, ValueError) as exc:
        print(f"cannot start: {exc}", file=sys.stderr)
        return 2
    if report is not None:
        print(
            f"Index built: {report.articles} article{'' if report.articles == 1 else 's'}, "
            f"{report.chunks} passage{'' if report.chunks == 1 else 's'} "
            f"in {report.seconds:.1f} s.",
            file=sys.stderr,
        )
    elif caught_up is not None and (caught_up.added or caught_up.updated or caught_up.removed):
        print(
            f"Index caught up with {settings.seeds_dir}: {caught_up.added} added, "
            f"{caught_up.updated} updated, {caught_up.removed} removed.",
            file=sys.stderr,
        )
    if console:
        return run_console(settings, service)
    application = build_application(settings, service)
    if settings.webhook_url:
        options = webhook_options(settings)
        logger.info(
            "webhook server on %s:%s, path /%s, secret token required",
            options.listen,
            options.port,
            options.url_path,
        )
        application.run_webhook(**asdict(options), allowed_updates=Update.ALL_TYPES)
    else:
        logger.info("long polling")
        application.run_polling(allowed_updates=Update.ALL_TYPES)
    return 0


if __name__ == "__main__":
    sys.exit(main())
