"""The clients of parallel workers share one rate-limit hold, one request budget, one end."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from conformance.client import ApiClient, BudgetExhausted, Credentials, Crew, Halted


class StillClock:
    """A clock whose time stands still; it records the waits asked of it."""

    def __init__(self) -> None:
        self.slept: list[float] = []

    def now(self) -> datetime:
        return datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


def client(clock: StillClock, answers: list[int], **kwargs) -> ApiClient:
    def handle(request: httpx.Request) -> httpx.Response:
        status = answers.pop(0) if answers else 200
        headers = {"retry-after": "5"} if status == 429 else {}
        return httpx.Response(status, json={}, headers=headers)

    http = httpx.Client(transport=httpx.MockTransport(handle), base_url="http://t/api/v1/")
    return ApiClient(http, Credentials("key"), clock, deadline=None, **kwargs)


def test_a_429_one_client_meets_makes_every_other_client_of_the_crew_hold():
    clock = StillClock()
    crew = Crew(clock, shared_rate_limit=True)
    first, second = client(clock, [429]), client(clock, [])
    crew.join(first)
    crew.join(second)
    first.send("GET", "activity/sms/")
    assert clock.slept == [5.0]  # the throttled client waited
    second.send("GET", "activity/sms/")
    assert clock.slept == [5.0, 5.0]  # and the other held as long before its request


def test_without_a_shared_rate_limit_the_other_client_does_not_hold():
    clock = StillClock()
    crew = Crew(clock, shared_rate_limit=False)
    first, second = client(clock, [429]), client(clock, [])
    crew.join(first)
    crew.join(second)
    first.send("GET", "activity/sms/")
    second.send("GET", "activity/sms/")
    assert clock.slept == [5.0]


def test_the_request_budget_counts_every_client_of_the_crew():
    clock = StillClock()
    crew = Crew(clock, shared_rate_limit=True)
    first, second = client(clock, [], max_requests=3), client(clock, [], max_requests=3)
    crew.join(first)
    crew.join(second)
    first.send("GET", "a/")
    first.send("GET", "a/")
    second.send("GET", "a/")
    with pytest.raises(BudgetExhausted):
        second.send("GET", "a/")


def test_a_halted_crew_refuses_every_request_but_a_delete():
    clock = StillClock()
    crew = Crew(clock, shared_rate_limit=True)
    one = client(clock, [])
    crew.join(one)
    crew.halt("worker 1 stopped: TargetUnreachable")
    with pytest.raises(Halted, match="worker 1 stopped"):
        one.send("GET", "activity/sms/")
    exchange, _ = one.send("DELETE", "activity/sms/acti_1/")
    assert exchange.response is not None and exchange.response.status_code == 200
