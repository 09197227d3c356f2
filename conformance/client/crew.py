"""What the clients of one run's parallel workers (``run --workers N``) share.

Each worker has a client of its own (its own connections, counts and last request), but
the run has one rate-limit budget, one request budget and one end:

- **the rate limit**: when any client is told to wait (a ``429`` with ``Retry-After``, or a
  ``RateLimit`` header with ``remaining=0``), every client holds until that moment before
  its next request, so one throttled worker makes them all hold, as a real API's limit per
  key and per organisation asks. Only when ``shared_rate_limit`` (workers against one
  server on one clock); on the embedded server each worker has a server and a virtual clock
  of its own, whose rate limit is its own;
- **the request budget** (``--max-requests``): counted over every client of the crew;
- **the end**: once one worker stops the run (a budget spent, a target gone, an answer it
  cannot handle), :meth:`Crew.halt` makes every other client's next request but a DELETE
  raise :class:`Halted`, so the others stop too and clean up.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from conformance.client.errors import RunAborted
from conformance.clock import Clock

if TYPE_CHECKING:
    from conformance.client import ApiClient

__all__ = ["Crew", "Halted"]


class Halted(RunAborted):
    """Another worker of the run stopped it; this one stops at its next request."""


class Crew:
    """The clients of one run's workers (:attr:`clients`) and what they share (see the
    module docstring)."""

    def __init__(self, clock: Clock, *, shared_rate_limit: bool) -> None:
        self.clock = clock
        self.shared_rate_limit = shared_rate_limit
        self.clients: list[ApiClient] = []
        self.halted: str | None = None
        self.holds = 0  # times a client's wait made the others hold
        self._lock = threading.Lock()
        self._hold_until: datetime | None = None
        self._holder: object | None = None  # the client told to wait (it waits by itself)

    def join(self, client: ApiClient) -> None:
        """Make ``client`` one of the crew's."""
        with self._lock:
            self.clients.append(client)
        client.crew = self

    def requests(self) -> int:
        """Requests sent (or spent) by every client of the crew."""
        return sum(c.requests + c.requests_elsewhere for c in list(self.clients))

    def hold(self, seconds: float, holder: object) -> None:
        """No client of the crew but ``holder`` (the one told to wait, which waits by
        itself) sends before ``seconds`` from now (the rate limit)."""
        if not self.shared_rate_limit or seconds <= 0:
            return
        until = self.clock.now() + timedelta(seconds=seconds)
        with self._lock:
            if self._hold_until is None or until > self._hold_until:
                self._hold_until = until
                self._holder = holder
                self.holds += 1

    def held_for(self, client: object) -> float:
        """Seconds ``client`` must hold before it may send (0: now)."""
        with self._lock:
            until, holder = self._hold_until, self._holder
        if until is None or holder is client:
            return 0.0
        return max(0.0, (until - self.clock.now()).total_seconds())

    def halt(self, reason: str) -> None:
        """Stop every client at its next request but a DELETE (the first reason stays)."""
        with self._lock:
            if self.halted is None:
                self.halted = reason
