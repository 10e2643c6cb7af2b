"""Outgoing Bot API calls that survive Telegram's bad moments, without sending anything twice.

``DeliveryRateLimiter`` is PTB's ``AIORateLimiter`` (at most 30 calls/s, 20/min per group)
plus one retry loop for every transient failure, within one budget of ``max_retries + 1``
attempts per call. What is retried depends on whether Telegram may already have done it:

- **429** (``RetryAfter``): Telegram refused the call. Every outgoing call waits
  ``retry_after`` + 0.1 s (flood control is per bot: the others would only collect more
  429s), then it is retried.
- **5xx** ("Internal Server Error", "Bad Gateway", "Service Unavailable"…): Telegram answered
  that it failed; retried after a backoff.
- **never sent**: no connection (connect error or timeout) or no free one in the pool; retried
  after a backoff.
- **unknown outcome**: the request went out but no answer came back (read or write timeout,
  connection dropped, 504 Gateway Timeout, an unknown error of the HTTP library). Telegram
  may have done it, so it is retried only for calls whose repetition changes nothing: reads
  (``get*``), settings (commands, descriptions, menu button, webhook), edits and
  ``sendChatAction``. A message, a document or an answer to a query is not sent again: a
  duplicate in the chat cannot be taken back, while the handler, told ``TimedOut``, can say
  that something went wrong and the reader can ask again.
- anything else (400, 401, 403, 404, 409, a migrated chat) is final.

Backoff: 0.5 s doubled at each attempt, capped at 4 s, times a random factor in [0.5, 1] so
that calls that failed together do not come back together. With the default 3 retries a call
gives up after 4 attempts and at most ~3.5 s of backoff (plus any ``retry_after``), and the
error reaches the handler as before.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import enum
import logging
import random
import warnings
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import AIORateLimiter

__all__ = ["DeliveryRateLimiter", "Outcome", "classify", "repeatable", "retry_delay"]

logger = logging.getLogger(__name__)

Result = bool | dict[str, Any] | list[dict[str, Any]]
Callback = Callable[..., Coroutine[Any, Any, Result]]

BASE_DELAY = 0.5  # seconds before the first retry of a failed call (before jitter)
MAX_DELAY = 4.0  # the longest backoff
RETRY_AFTER_MARGIN = 0.1  # seconds added to Telegram's retry_after, as PTB does

# Calls whose repetition changes nothing: safe to repeat when their outcome is unknown.
_REPEATABLE = frozenset(
    {
        "sendChatAction",
        "editMessageText",
        "editMessageCaption",
        "editMessageReplyMarkup",
        "setMyCommands",
        "deleteMyCommands",
        "setMyDescription",
        "setMyShortDescription",
        "setChatMenuButton",
        "setWebhook",
        "deleteWebhook",
    }
)
# httpx errors raised before the request left: Telegram cannot have seen it.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class Outcome(enum.Enum):
    """What a failed call tells about Telegram's side."""

    RATE_LIMITED = "rate limited"  # 429: refused, retry after retry_after
    NOT_DONE = "not done"  # 5xx or never sent: safe to retry
    UNKNOWN = "unknown"  # may have been done: retry only repeatable calls
    FINAL = "final"  # retrying cannot help


def classify(error: TelegramError) -> Outcome:
    """What ``error``, raised by a Bot API call, says about the call.

    >>> classify(NetworkError("Bad Gateway")).value
    'not done'
    """
    if isinstance(error, RetryAfter):
        return Outcome.RATE_LIMITED
    if isinstance(error, BadRequest) or not isinstance(error, NetworkError):
        return Outcome.FINAL
    cause = error.__cause__
    if isinstance(cause, _NOT_SENT):
        return Outcome.NOT_DONE
    if isinstance(error, TimedOut) or (cause is not None and not isinstance(cause, TelegramError)):
        return Outcome.UNKNOWN
    # Telegram answered with an error status. The 4xx it uses have their own classes
    # (BadRequest, Forbidden, InvalidToken, Conflict, RetryAfter): this is a 5xx, or a rare
    # status where one wasted retry is the only cost. A 504 means a gateway stopped waiting.
    if "Gateway Timeout" in error.message or "(504)" in error.message:
        return Outcome.UNKNOWN
    return Outcome.NOT_DONE


def repeatable(endpoint: str) -> bool:
    """Whether calling ``endpoint`` twice has the effect of calling it once."""
    return endpoint.startswith("get") or endpoint in _REPEATABLE


def retry_after_seconds(error: RetryAfter) -> float:
    """``retry_after`` in seconds, whichever type PTB returns (int now, timedelta later)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the int → timedelta deprecation notice
        value = error.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


def retry_delay(
    error: TelegramError, endpoint: str, attempt: int, rng: random.Random | None = None
) -> float | None:
    """Seconds to wait before retrying after failed attempt number ``attempt`` (1-based).

    None when the call must not be retried (final error, or an unknown outcome for a call
    that is not repeatable). The caller enforces the attempt budget.
    """
    outcome = classify(error)
    if outcome is Outcome.RATE_LIMITED:
        assert isinstance(error, RetryAfter)
        return retry_after_seconds(error) + RETRY_AFTER_MARGIN
    if outcome is Outcome.FINAL or (outcome is Outcome.UNKNOWN and not repeatable(endpoint)):
        return None
    backoff = min(MAX_DELAY, BASE_DELAY * 2 ** (attempt - 1))
    return backoff * (rng or random).uniform(0.5, 1.0)


class _Deferred(Exception):
    """Carries a RetryAfter past AIORateLimiter's own retry loop, to be retried here."""

    def __init__(self, error: RetryAfter) -> None:
        super().__init__(str(error))
        self.error = error


class DeliveryRateLimiter(AIORateLimiter):
    """``AIORateLimiter`` that also retries 5xx, unsent calls and repeatable timeouts.

    ``max_retries``: retries after the first attempt, for every kind of failure together.
    The other arguments are ``AIORateLimiter``'s.
    """

    __slots__ = ("_paused_until", "_retries", "_rng")

    def __init__(
        self, max_retries: int = 3, rng: random.Random | None = None, **limits: float
    ) -> None:
        super().__init__(max_retries=0, **limits)
        self._retries = max_retries
        self._rng = rng or random.Random()
        self._paused_until = 0.0  # event-loop time before which no call goes out (429)

    async def process_request(
        self,
        callback: Callback,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Result:
        """Throttle the call as AIORateLimiter does; retry it as the module docstring says.

        ``rate_limit_args``, if given, replaces ``max_retries`` for this call.
        """
        retries = self._retries if rate_limit_args is None else rate_limit_args

        async def send(*call_args: Any, **call_kwargs: Any) -> Result:
            # Checked after the throttle's wait, right before the request goes out.
            loop = asyncio.get_running_loop()
            while (wait := self._paused_until - loop.time()) > 0:
                await asyncio.sleep(wait)
            try:
                return await callback(*call_args, **call_kwargs)
            except RetryAfter as exc:
                raise _Deferred(exc) from exc

        for attempt in range(1, retries + 2):
            try:
                return await super().process_request(send, args, kwargs, endpoint, data, 0)
            except _Deferred as deferred:
                error: TelegramError = deferred.error
            except TelegramError as exc:
                error = exc
            delay = retry_delay(error, endpoint, attempt, self._rng)
            if delay is None or attempt > retries:
                raise error
            if isinstance(error, RetryAfter):
                loop = asyncio.get_running_loop()
                self._paused_until = max(self._paused_until, loop.time() + delay)
            # getMe is the start's first call: if it fails for good, ``python -m bot`` says
            # why in one line; its retries are not worth a warning each.
            logger.log(
                logging.DEBUG if endpoint == "getMe" else logging.WARNING,
                "%s failed (%s), attempt %d of %d: retrying in %.1f s",
                endpoint,
                error.message,
                attempt,
                retries + 1,
                delay,
            )
            await asyncio.sleep(delay)
        raise AssertionError("unreachable: the last attempt returns or raises")
