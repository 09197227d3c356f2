"""What HTTP answers mean, as plain functions with no I/O and no HTTP library: which
statuses are transient noise, what a ``RateLimit`` header says, how long a 429 asks to wait.

The client paces and retries by these, and the checks judge by the same ones, so importing
the checks never pulls in an HTTP client.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

__all__ = [
    "DEFAULT_WAIT",
    "DOCUMENTED_MEMBERS",
    "MAX_WAIT",
    "TRANSIENT_STATUSES",
    "bounded_wait",
    "parse_ratelimit",
    "retry_after",
]

TRANSIENT_STATUSES = frozenset({502, 503, 504})  # a gateway's or an overloaded server's: noise
MAX_WAIT = 60.0  # the longest single wait for a rate limit
DEFAULT_WAIT = 1.0  # when a 429 says nothing usable about how long
DOCUMENTED_MEMBERS = ("limit", "remaining", "reset")

# One member of a RateLimit header: key=value, the value a token or a quoted string (which
# may hold "," or ";"). Members are separated by "," or ";".
_MEMBER = re.compile(r'\s*([A-Za-z0-9_.-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,;"]*?)\s*(?:[,;]|$)')
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def parse_ratelimit(header: str | None) -> dict[str, float] | None:
    """The documented members of a RateLimit header (``limit``, ``remaining``, ``reset``, as
    numbers), or None when it is not a list of ``key=value`` members holding all three.
    Other members are allowed: the header follows "the IETF draft", whose members the docs
    do not list (audit R1); only the three the docs name are read."""
    if header is None:
        return None
    members: dict[str, str] = {}
    position = 0
    text = header.strip()
    while position < len(text):
        match = _MEMBER.match(text, position)
        if match is None or match.end() == position:
            return None
        members[match.group(1).lower()] = match.group(2)
        position = match.end()
    if not all(name in members for name in DOCUMENTED_MEMBERS):
        return None
    if not all(_NUMBER.fullmatch(members[name]) for name in DOCUMENTED_MEMBERS):
        return None
    return {name: float(members[name]) for name in DOCUMENTED_MEMBERS}


def retry_after(headers: Mapping[str, str], now: datetime) -> float:
    """How long a 429 with ``headers`` (lower-case names) asks to wait at ``now``:
    ``Retry-After`` (seconds or an HTTP date), else the ``RateLimit`` reset, else
    :data:`DEFAULT_WAIT`; never less than 0 nor more than :data:`MAX_WAIT`."""
    value = headers.get("retry-after")
    if value is None:
        parsed = parse_ratelimit(headers.get("ratelimit"))
        return bounded_wait(parsed["reset"]) if parsed else DEFAULT_WAIT
    try:
        return bounded_wait(float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return DEFAULT_WAIT
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return bounded_wait((when - now).total_seconds())


def bounded_wait(seconds: float) -> float:
    """``seconds`` within [0, MAX_WAIT]; NaN (no sense at all) waits the default."""
    if math.isnan(seconds):
        return DEFAULT_WAIT
    return min(max(seconds, 0.0), MAX_WAIT)
