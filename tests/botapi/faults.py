"""Telegram's bad days on demand: error replies for the next calls of a method."""

from __future__ import annotations

from collections import deque

from tests.botapi.rules import ApiError
from tests.botapi.state import Fault, ServerState


class FaultInjection(ServerState):
    """``fail_next``; the server asks ``_raise_fault`` before handling each call."""

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
        "Too Many Requests: retry after N", as Telegram sends them.
        """
        if error_code == 429 and retry_after is None:
            retry_after = 1
        if description is None:
            description = (
                f"Too Many Requests: retry after {retry_after}"
                if error_code == 429
                else f"Error {error_code}"
            )
        queue = self._faults.setdefault(method.lower(), deque())
        queue.extend(Fault(error_code, description, retry_after) for _ in range(times))

    def _raise_fault(self, name: str) -> None:
        """Raise the error planned for this call of method ``name`` (lower case), if any."""
        faults = self._faults.get(name)
        if faults:
            fault = faults.popleft()
            retry = {"retry_after": fault.retry_after} if fault.retry_after else None
            raise ApiError(fault.error_code, fault.description, retry)
