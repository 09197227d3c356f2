"""Rate-limit headers are judged by what section 2.8 says, and no more."""

from __future__ import annotations

import pytest

from conformance.http_semantics import parse_ratelimit
from conformance.records import RecordedRequest, RecordedResponse
from conformance.rules.ratelimit import rate_limit_headers_are_well_formed
from tests.rules.helpers import SMS, step_of, verdicts


def judged(code: int, headers: dict[str, str]) -> dict[str, bool]:
    listed = step_of("list", RecordedRequest("GET", SMS, {}), RecordedResponse(code, headers))
    return verdicts(rate_limit_headers_are_well_formed(listed))


def test_a_429_of_a_stricter_limit_with_only_retry_after_keeps_the_rule():
    """2.8: "Some endpoints have stricter, unpredictable limits that may 429 inside the
    window, with only reset/`retry-after` set" (audit R2)."""
    assert judged(429, {"retry-after": "3"}) == {"ratelimit/429-headers": True}


def test_a_429_without_retry_after_breaks_the_rule():
    """2.8: "Every 429 carries `RateLimit` and `retry-after`"."""
    verdicts = judged(429, {"ratelimit": "limit=10, remaining=0, reset=3"})
    assert verdicts["ratelimit/429-headers"] is False


@pytest.mark.parametrize(
    "header",
    [
        "limit=100, remaining=50, reset=5",
        "limit=100; remaining=100; reset=1",
        'limit=100, remaining=50, reset=5, policy="100;w=15"',
        "limit=100, remaining=50, reset=2.5, window=15",
    ],
)
def test_a_ratelimit_header_with_the_documented_members_keeps_its_format(header):
    """2.8 `RateLimit: limit=100, remaining=50, reset=5` "per the IETF draft": members
    besides the three are not ruled out (audit R1)."""
    assert parse_ratelimit(header) is not None
    assert judged(200, {"ratelimit": header}) == {"ratelimit/header-format": True}


@pytest.mark.parametrize(
    "header",
    [
        "limit=100 remaining=50 reset=5",
        "limit=1, remaining=0, reset=1.2.3",
        "limit=100, remaining=50",
        'limit="many", remaining=50, reset=5',
        "100, 50, 5",
    ],
)
def test_a_ratelimit_header_without_the_documented_members_breaks_its_format(header):
    assert judged(200, {"ratelimit": header}) == {"ratelimit/header-format": False}
