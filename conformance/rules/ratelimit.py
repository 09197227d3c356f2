"""Rate-limit headers (2.8): every 429 says when to come back."""

from __future__ import annotations

import math
from collections.abc import Iterator

from conformance.checks import Finding, Step, check
from conformance.http_semantics import parse_ratelimit


@check("ratelimit/429-headers", "ratelimit/header-format", "ratelimit/retry-after-matches-reset")
def rate_limit_headers_are_well_formed(step: Step) -> Iterator[Finding]:
    for exchange in step.exchanges:
        response = exchange.response
        if response is None:
            continue
        header = response.headers.get("ratelimit")
        parsed = parse_ratelimit(header) if header is not None else None
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
