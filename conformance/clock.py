"""Clocks: the one source of "now" for the reference server and the engine.

Time-based rules (an ``outbox`` SMS is sent after ``send_in`` seconds, a ``scheduled``
SMS at ``date_scheduled``) run on a :class:`VirtualClock` in-process, so a test can jump
an hour ahead without sleeping, and on the :class:`SystemClock` over real HTTP.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

__all__ = ["Clock", "SystemClock", "VirtualClock"]


class Clock(Protocol):
    def now(self) -> datetime:
        """Return the current time as an aware UTC datetime."""
        ...

    def sleep(self, seconds: float) -> None:
        """Let ``seconds`` pass on this clock."""
        ...


class SystemClock:
    """Real time."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)

    def __repr__(self) -> str:
        return "SystemClock()"


class VirtualClock:
    """A clock that only moves when told to; ``sleep`` advances it instantly.

    Thread-safe, so an in-process server and the engine can share one.
    """

    def __init__(self, start: datetime | None = None) -> None:
        if start is None:
            start = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
        if start.tzinfo is None:
            raise ValueError(f"VirtualClock needs an aware start time, got start={start!r}")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> datetime:
        """Move the clock ``seconds`` forward and return the new time."""
        if seconds < 0:
            raise ValueError(f"A clock cannot go backwards: seconds={seconds!r}")
        with self._lock:
            self._now += timedelta(seconds=seconds)
            return self._now

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.advance(seconds)

    def __repr__(self) -> str:
        return f"VirtualClock({self.now().isoformat()})"
