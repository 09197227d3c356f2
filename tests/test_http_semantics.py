"""What answers mean, without an HTTP client: transient statuses, RateLimit headers, waits."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import pytest

from conformance.http_semantics import (
    DEFAULT_WAIT,
    MAX_WAIT,
    TRANSIENT_STATUSES,
    parse_ratelimit,
    retry_after,
)

NOW = datetime(2027, 1, 1, 12, 0, tzinfo=UTC)


def test_importing_the_checks_pulls_in_no_http_client():
    code = "import conformance.rules, sys; assert 'httpx' not in sys.modules, 'httpx imported'"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_gateway_errors_and_an_overloaded_server_are_transient_and_nothing_else():
    assert {502, 503, 504} == TRANSIENT_STATUSES


@pytest.mark.parametrize(
    ("header", "parsed"),
    [
        ("limit=100, remaining=50, reset=5", {"limit": 100, "remaining": 50, "reset": 5}),
        ("limit=100; remaining=0; reset=1.5", {"limit": 100, "remaining": 0, "reset": 1.5}),
        (
            'limit=1, remaining=0, reset=2, policy="1;w=60"',
            {"limit": 1, "remaining": 0, "reset": 2},
        ),
        ("limit=1, remaining=0", None),  # reset missing
        ("limit=1, remaining=0, reset=1.2.3", None),
        ("limit=., remaining=0, reset=1", None),
        ("garbage", None),
        (None, None),
    ],
)
def test_a_ratelimit_header_gives_its_three_documented_members_or_none(header, parsed):
    assert parse_ratelimit(header) == parsed


@pytest.mark.parametrize(
    ("headers", "wait"),
    [
        ({"retry-after": "7"}, 7.0),
        ({"retry-after": "Fri, 01 Jan 2027 12:00:30 GMT"}, 30.0),
        ({"retry-after": "-5"}, 0.0),
        ({"retry-after": "3600"}, MAX_WAIT),
        ({"retry-after": "soon"}, DEFAULT_WAIT),
        ({"ratelimit": "limit=1, remaining=0, reset=4"}, 4.0),
        ({}, DEFAULT_WAIT),
    ],
)
def test_a_429_asks_to_wait_by_retry_after_then_the_reset_within_bounds(headers, wait):
    assert retry_after(headers, NOW) == wait
