"""A fixed-window rate limiter per API key, and the ``RateLimit`` header it reports.

Windows are one second long on the server's clock (a virtual clock only opens a new window
when it is advanced). With no limit configured nothing is ever refused, but the header is
still sent, with a large limit, so clients can parse it. ``reset`` is given in whole
seconds, rounded up: the official client's header regex only reads integers.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from datetime import datetime

from conformance.refserver.faults import NO_FAULTS, Faults

__all__ = ["RateDecision", "RateLimiter"]

UNLIMITED = 1_000_000
WINDOW_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class RateDecision:
    """The outcome for one request: allowed or not, and the header values."""

    allowed: bool
    limit: int
    remaining: int
    reset: float  # seconds until the window ends

    def headers(self, faults: Faults = NO_FAULTS) -> dict[str, str]:
        """Return ``RateLimit`` (and ``Retry-After`` when refused) response headers."""
        reset = max(1, math.ceil(self.reset))
        separator = " " if "ratelimit-header-malformed" in faults else ", "
        parts = (f"limit={self.limit}", f"remaining={self.remaining}", f"reset={reset}")
        headers = {"RateLimit": separator.join(parts)}
        if not self.allowed and "429-without-retry-after" not in faults:
            retry_after = reset + 1 if "retry-after-off-by-one" in faults else reset
            headers["Retry-After"] = str(retry_after)
        return headers


class RateLimiter:
    """Allows ``limit`` requests per key per one-second window; ``None`` disables it."""

    def __init__(self, limit: int | None) -> None:
        if limit is not None and (isinstance(limit, bool) or limit < 1):
            raise ValueError(f"rate_limit must be a positive integer or None, got {limit!r}")
        self.limit = limit
        self._windows: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, now: datetime) -> RateDecision:
        """Count one request by ``key`` at ``now`` and return whether it is allowed."""
        if self.limit is None:
            return RateDecision(True, UNLIMITED, UNLIMITED, WINDOW_SECONDS)
        t = now.timestamp()
        start = math.floor(t / WINDOW_SECONDS) * WINDOW_SECONDS
        with self._lock:
            window_start, count = self._windows.get(key, (start, 0))
            if window_start != start:
                count = 0
            count += 1
            self._windows[key] = (start, count)
        reset = start + WINDOW_SECONDS - t
        allowed = count <= self.limit
        return RateDecision(allowed, self.limit, max(0, self.limit - count), reset)
