"""The fake is the reference server: the suite's own profiles pass through it (its respx
route, as users' code reaches it), and a faulty variant switched on in it is caught."""

from __future__ import annotations

import httpx
import pytest

from conformance.client import ApiClient, Credentials
from conformance.clock import SystemClock
from conformance.compat import transport_of
from conformance.engine import run_target
from conformance.fake import CloseSmsFake
from conformance.model import Timing
from conformance.profiles import PROFILES
from conformance.safety import Guard
from conformance.target import EMBEDDED_ID_SEED, EMBEDDED_RATE_LIMIT, Target


def target_over(fake: CloseSmsFake) -> Target:
    """A target whose API client reaches the fake at its public base URL, through respx,
    as a user's httpx code does (the schema phase drives the same server's app)."""
    org, other = fake.server.orgs[0], fake.server.orgs[1]
    http = httpx.Client(base_url=fake.base_url)
    assert isinstance(transport_of(http), httpx.HTTPTransport)  # respx routes it, not us
    return Target(
        name=f"the fake at {fake.base_url}",
        api=ApiClient(
            http,
            Credentials(org.api_key, org.oauth_token, other.api_key),
            fake.clock,
            pace=False,
            guard=Guard(),
            deadline=None,
            max_rate_limit_wait_total=None,
            budget_clock=SystemClock(),
        ),
        clock=fake.clock,
        timing=Timing(early=0.0, grace=0.0),
        embedded=True,
        allow_send=True,
        server=fake.server,
    )


def _fake(**options: object) -> CloseSmsFake:
    return CloseSmsFake(rate_limit=EMBEDDED_RATE_LIMIT, id_seed=EMBEDDED_ID_SEED, **options)  # type: ignore[arg-type]


@pytest.mark.slow
def test_the_fake_passes_the_suites_ci_profile_through_its_respx_route():
    with _fake() as fake:
        report = run_target(target_over(fake), profile=PROFILES["ci"], seed_value=1, strict=True)
        served = len(fake.router.calls)
    assert report.verdict == "pass", (report.reason, [f.rule for f in report.failures])
    assert served > 100  # the run's requests went through the fake's route


@pytest.mark.slow
def test_a_faulty_variant_switched_on_in_the_fake_is_caught_through_it():
    with _fake(faults=["cancel-refused"]) as fake:
        report = run_target(target_over(fake), profile=PROFILES["quick"], seed_value=1)
    assert report.verdict == "fail"
    assert "sms/update/cancel-outbox" in [f.rule for f in report.failures]
