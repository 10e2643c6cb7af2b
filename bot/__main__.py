"""``python -m bot``: long polling, a webhook server (WEBHOOK_URL), or a console chat."""

from __future__ import annotations

import argparse
import logging
import secrets
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from urllib.parse import unquote, urlsplit

from prometheus_client import disable_created_metrics
from pydantic import ValidationError
from telegram import Update
from telegram.error import InvalidToken, NetworkError, TelegramError

from bot.app import build_application
from bot.console import console_progress, run_console
from bot.i18n import reply_language
from bot.logs import configure_logging
from bot.metrics import BotMetrics, MetricsServer, serve_metrics
from bot.settings import Settings, describe_validation_error
from index import IndexFailure, IndexService

__all__ = ["WebhookOptions", "main", "start_failure", "webhook_options"]

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


def start_failure(error: TelegramError, settings: Settings) -> str:
    """What to check when the bot cannot start talking to Telegram, in one line.

    >>> start_failure(InvalidToken("Not Found"), Settings(_env_file=None)).split(":")[0]
    'cannot start'
    """
    api = urlsplit(settings.telegram_base_url).netloc or settings.telegram_base_url
    if isinstance(error, InvalidToken):
        return (
            f"cannot start: the Bot API at {api} refused the token (401 Unauthorized): check "
            "TELEGRAM_BOT_TOKEN against @BotFather (/mybots → API Token); a revoked token "
            "stops working at once"
        )
    if isinstance(error, NetworkError):  # TimedOut included
        return (
            f"cannot start: the Bot API at {api} cannot be reached ({error.message}): check "
            "the network, the DNS, a firewall or proxy (HTTPS_PROXY), and TELEGRAM_BASE_URL"
        )
    return (
        f"cannot start: the Bot API at {api} answered {error.message!r}: check "
        "TELEGRAM_BOT_TOKEN, and WEBHOOK_URL in webhook mode"
    )


def warm_up(service: IndexService, settings: Settings) -> None:
    """The model loaded and one question embedded and searched, its language identified:
    done before the first update is taken, so that the first answer is as quick as the next."""
    service.warm_up()
    reply_language("De quoi parlent les articles ?", None, settings.default_language)


def _serve_metrics(metrics: BotMetrics, settings: Settings) -> MetricsServer | None:
    """Start the metrics server when METRICS_PORT is set (OSError when it cannot bind)."""
    if settings.metrics_port is None:
        return None
    server = serve_metrics(metrics, settings.metrics_host, settings.metrics_port)
    logger.info(
        "metrics on http://%s:%s/metrics, health check on /healthz",
        settings.metrics_host,
        server.port,
    )
    return server


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
    # No "<name>_created" twin of every counter and histogram: a series per label set that
    # Prometheus stores and nobody reads (a setting of this process's prometheus_client).
    disable_created_metrics()
    metrics = BotMetrics()
    try:
        metrics_server = None if console else _serve_metrics(metrics, settings)
    except OSError as exc:
        print(
            f"cannot start: {settings.metrics_host}:{settings.metrics_port} cannot be bound "
            f"({exc.strerror or exc}): check METRICS_PORT and METRICS_HOST",
            file=sys.stderr,
        )
        return 2
    try:
        return _run(settings, console, metrics)
    finally:
        if metrics_server is not None:
            metrics_server.close()


def _run(settings: Settings, console: bool, metrics: BotMetrics) -> int:
    """Load (or build) the index, then chat in the console or serve Telegram until stopped."""
    try:
        service = IndexService(settings, on_embed=metrics.embedded)
        if console:
            if not service.has_index():
                print(f"Building the index from {settings.seeds_dir}…", file=sys.stderr)
            report = service.ensure_built(console_progress(sys.stderr))
        else:
            report = service.ensure_built()
        caught_up = service.catch_up() if report is None else None
        if not console:
            warm_up(service, settings)
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
    metrics.mark_ready()
    application = build_application(settings, service, metrics)
    try:
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
    except TelegramError as exc:  # raised by the start only: once running, PTB retries
        logger.error("%s", start_failure(exc, settings))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
