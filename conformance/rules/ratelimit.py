"""Rate-limit headers (2.8): every 429 says when to come back."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator

from conformance.checks import Finding, Step, check

# One member of a RateLimit header: key=value, the value a token or a quoted string (which
# may hold "," or ";"). Members are separated by "," or ";".
_MEMBER = re.compile(r'\s*([A-Za-z0-9_.-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,;"]*?)\s*(?:[,;]|$)')
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
DOCUMENTED_MEMBERS = ("limit", "remaining", "reset")


def parse_members(header: str) -> dict[str, float] | None:
    """The documented members of a RateLimit header (``limit``, ``remaining``, ``reset``, as
    numbers), or None when it is not a list of ``key=value`` members holding all three.
    Other members are allowed: the header follows "the IETF draft", whose members the docs
    do not list (audit R1); only the three the docs name are judged."""
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


@check("ratelimit/429-headers", "ratelimit/header-format", "ratelimit/retry-after-matches-reset")
def rate_limit_headers_are_well_formed(step: Step) -> Iterator[Finding]:
    for exchange in step.exchanges:
        response = exchange.response
        if response is None:
            continue
        header = response.headers.get("ratelimit")
        parsed = parse_members(header) if header is not None else None
        if header is not None:
            yield Finding(
                "ratelimit/header-format",
                parsed is not None,
                expected="RateLimit: limit=N, remaining=N, reset=S",
                actual=f"RateLimit: {header}",
            )
        if response.status_code != 429:
            continue
        # "Every 429 carries `RateLimit` and `retry-after`", but "some endpoints have
        # stricter, unpredictable limits that may 429 inside the window, with only
        # reset/`retry-after` set" (2.8): Retry-After is the one both allow (audit R2).
        retry_after = response.headers.get("retry-after")
        yield Finding(
            "ratelimit/429-headers",
            retry_after is not None,
            expected="a 429 with a Retry-After header (and RateLimit, unless a stricter limit)",
            actual=f"RateLimit: {header!r}, Retry-After: {retry_after!r}",
        )
        if parsed is not None and retry_after is not None and retry_after.isdigit():
            yield Finding(
                "ratelimit/retry-after-matches-reset",
                int(retry_after) == math.ceil(parsed["reset"]),
                expected=f"Retry-After: {math.ceil(parsed['reset'])}",
                actual=f"Retry-After: {retry_after}",
            )
