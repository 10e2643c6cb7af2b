"""Telegram's bad days on demand: error replies, late answers and flood control.

Planned per method (case-insensitive), looked up before each call in this order:

- ``fail_next`` / ``delay_next``: the next calls, one planned fault each;
- ``flood``: for a while every call gets 429 with the seconds left as ``retry_after``;
- ``fail_randomly`` / ``delay_randomly``: each call, with a probability drawn from
  ``self.random`` (seeded, so a run can be repeated).

A late answer (``delay``) is given *after* the call was carried out, the case in which a
client that gave up cannot know whether it worked: retrying a sendMessage then duplicates it.
"""

from __future__ import annotations

import math
import time
from collections import deque
from http import HTTPStatus

from tests.support.botapi.rules import ApiError
from tests.support.botapi.state import Fault, ServerState


def _description(error_code: int, retry_after: int | None) -> str:
    """Telegram's description for an error status (429 names its wait)."""
    if error_code == 429:
        return f"Too Many Requests: retry after {retry_after}"
    try:
        return HTTPStatus(error_code).phrase
    except ValueError:
        return f"Error {error_code}"


class FaultInjection(ServerState):
    """Plan faults; the server asks ``_take_fault`` before handling each call."""

    def fail_next(
        self,
        method: str,
        error_code: int = 429,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail with ``error_code``.

        A 429 gets ``parameters: {"retry_after": N}`` (N defaults to 1) and the description
        "Too Many Requests: retry after N", as Telegram sends them; other statuses get their
        HTTP phrase ("Internal Server Error", "Bad Gateway") unless ``description`` is given.
        """
        if error_code == 429 and retry_after is None:
            retry_after = 1
        fault = Fault(error_code, description or _description(error_code, retry_after), retry_after)
        self._faults.setdefault(method.lower(), deque()).extend(fault for _ in range(times))

    def delay_next(self, method: str, seconds: float, times: int = 1) -> None:
        """Carry out the next ``times`` calls of ``method``, then answer ``seconds`` late."""
        fault = Fault(None, "", None, delay=seconds)
        self._faults.setdefault(method.lower(), deque()).extend(fault for _ in range(times))

    def flood(self, method: str, seconds: float) -> None:
        """Answer every call of ``method`` for ``seconds`` with 429 and the whole seconds left."""
        self._floods[method.lower()] = time.monotonic() + seconds

    def fail_randomly(
        self, method: str, probability: float, error_code: int = 500, description: str | None = None
    ) -> None:
        """Make each call of ``method`` fail with ``error_code`` with ``probability``."""
        fault = Fault(error_code, description or _description(error_code, None), None)
        self._random_faults.setdefault(method.lower(), []).append((probability, fault))

    def delay_randomly(self, method: str, probability: float, seconds: float) -> None:
        """Answer each call of ``method`` ``seconds`` late (after doing it) with ``probability``."""
        fault = Fault(None, "", None, delay=seconds)
        self._random_faults.setdefault(method.lower(), []).append((probability, fault))

    def clear_faults(self) -> None:
        """Forget every planned fault: calls succeed again."""
        self._faults.clear()
        self._floods.clear()
        self._random_faults.clear()

    def _take_fault(self, name: str) -> Fault | None:
        """The fault planned for this call of method ``name`` (lower case), if any."""
        planned = self._faults.get(name)
        if planned:
            return planned.popleft()
        left = self._floods.get(name, 0.0) - time.monotonic()
        if left > 0:
            retry_after = math.ceil(left)
            return Fault(429, _description(429, retry_after), retry_after)
        for probability, fault in self._random_faults.get(name, ()):
            if self.random.random() < probability:
                return fault
        return None

    @staticmethod
    def _raise_fault(fault: Fault | None) -> None:
        """Raise the error reply of ``fault`` (a late answer raises nothing)."""
        if fault is not None and fault.error_code is not None:
            retry = {"retry_after": fault.retry_after} if fault.retry_after else None
            raise ApiError(fault.error_code, fault.description, retry)
