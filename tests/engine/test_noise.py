"""Noise is never a violation: 503s before handling, 504s after it, lost answers and 429s
are not judged, and what a write that got no real answer did is unknown until read back."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from conformance.engine import run_target
from conformance.machine import RuleViolation, Session, build_machine
from conformance.model import TimeWindow
from conformance.profiles import PROFILES, Profile
from conformance.target import Target, embedded_target
from conformance.transport import SyncASGITransport

QUICK = PROFILES["quick"]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_clean_server_behind_two_percent_noise_passes(seed):
    report = run_target(embedded_target(transient_share=0.02), profile=QUICK, seed_value=seed)
    assert report.verdict == "pass", (report.reason, [(f.rule, f.actual) for f in report.failures])
    assert report.stats.transient_errors > 0  # the noise was met, not avoided


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_clean_server_behind_two_percent_noise_passes_the_ci_profile(seed):
    # Seed 1 once failed nine list rules: a lost create with a template and a text made an
    # SMS showing the rendered template, which the stray search (comparing the text sent)
    # missed; every later list on the lead showed an SMS the model did not know.
    report = run_target(
        embedded_target(transient_share=0.02), profile=PROFILES["ci"], seed_value=seed
    )
    assert report.verdict == "pass", (report.reason, [(f.rule, f.actual) for f in report.failures])
    assert report.stats.transient_errors > 0


def test_a_broken_server_behind_noise_is_still_caught_by_its_rule():
    profile = Profile("noisy", max_examples=60, steps=15, max_failures=1)
    report = run_target(
        embedded_target(faults=["edit-sent-accepted"], transient_share=0.02),
        profile=profile,
        seed_value=1,
    )
    assert report.verdict == "fail"
    assert report.failures[0].rule == "sms/update/drafts-only"


# -- a create whose answer is lost ------------------------------------------------------------

SMS = "activity/sms/"
Rule = Callable[[str, str], int | None]  # (method, path) -> the status to answer instead


class Lose:
    """In front of the reference app: each request for which ``rule`` names a status is
    answered with it, unhandled (a 503, a 429 with ``Retry-After: 1``), or a 504 after being
    handled (its real answer lost)."""

    def __init__(self, app: Any, rule: Rule) -> None:
        self.app, self.rule = app, rule

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        status = self.rule(scope["method"], scope["path"]) if scope["type"] == "http" else None
        if status is None:
            await self.app(scope, receive, send)
            return
        if status == 504:

            async def swallow(message: dict[str, Any]) -> None:
                return None

            await self.app(scope, receive, swallow)
        body = json.dumps({"error": "injected"}).encode()
        headers = [(b"content-type", b"application/json")]
        if status == 429:  # as the docs have a 429 (2.8)
            headers += [(b"retry-after", b"1"), (b"ratelimit", b"limit=10, remaining=0, reset=1")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def losing(rule: Rule) -> Target:
    """The embedded target with ``rule`` in front of it, fixtures found."""
    target = embedded_target()
    server: Any = target.server
    target.api.http = httpx.Client(
        transport=SyncASGITransport(Lose(server.app, rule)), base_url=server.base_url + "/"
    )
    target.discover()
    return target


def the_first(method: str, status: int, then: tuple[str, int, int] | None = None) -> Rule:
    """Lose the first SMS ``method`` (answer ``status``); then, optionally, answer the next
    ``count`` requests of ``then``'s method with its status."""
    state = {"armed": True, "left": then[2] if then else 0}

    def rule(request_method: str, path: str) -> int | None:
        if not path.startswith("/api/v1/activity/sms"):
            return None
        if state["armed"] and request_method == method:
            state["armed"] = False
            return status
        if not state["armed"] and then and request_method == then[0] and state["left"] > 0:
            state["left"] -= 1
            return then[1]
        return None

    return rule


def sms_on(target: Target, lead: str) -> list[dict[str, Any]]:
    server: Any = target.server
    with server.client() as client:
        return client.get(SMS, params={"lead_id": lead}).json()["data"]


def template_and_text(target: Target) -> dict[str, Any]:
    fixtures = target.fixtures
    assert fixtures is not None
    lead, contact = fixtures.leads[0]
    return {
        "status": "draft",
        "lead_id": lead,
        "contact_id": contact,
        "local_phone": fixtures.internal_phones[0],
        "remote_phone": "+15555550100",
        "template_id": fixtures.template_id,
        "text": "explicit text",
    }


def test_a_lost_create_with_a_template_and_a_text_is_found_and_deleted_whatever_text_it_shows():
    target = losing(the_first("POST", 504))
    machine = build_machine(Session(target))()
    body = template_and_text(target)
    assert machine._create(body) is None
    assert sms_on(target, body["lead_id"]) == []  # the stray search deleted what it made
    machine._list(machine._scoped({}))  # and lists are judged as before: nothing to show


@pytest.fixture
def patient(monkeypatch):
    """Five failures in a row would stop the run as unreachable: these lose more on purpose."""
    monkeypatch.setattr("conformance.client.MAX_CONSECUTIVE_FAILURES", 10)


@pytest.mark.usefixtures("patient")
def test_an_sms_a_lost_create_made_that_its_stray_search_missed_is_not_blamed_on_the_lists():
    # The create's answer is lost, and so is every try of the stray search's list.
    target = losing(the_first("POST", 504, then=("GET", 503, 4)))
    machine = build_machine(Session(target))()
    body = template_and_text(target)
    machine._create(body)
    [made] = [item["id"] for item in sms_on(target, body["lead_id"])]
    machine._list(machine._scoped({"lead_id": body["lead_id"]}))  # no violation
    assert made in machine.model.uncertain and made in machine.created  # deleted at the end


@pytest.mark.usefixtures("patient")
def test_an_sms_no_lost_create_accounts_for_is_still_blamed_on_the_lists():
    target = losing(the_first("POST", 504, then=("GET", 503, 4)))
    machine = build_machine(Session(target))()
    body = template_and_text(target)
    machine._create(body)
    server: Any = target.server
    with server.client() as client:  # a second one, like it: no create of the run made it
        client.post(SMS, json=body).raise_for_status()
    with pytest.raises(RuleViolation) as raised:
        machine._list(machine._scoped({"lead_id": body["lead_id"]}))
    assert raised.value.finding.rule == "sms/list/filter-lead-id"


@pytest.mark.usefixtures("patient")
def test_a_lost_create_noted_in_one_example_is_read_back_in_the_next():
    target = losing(the_first("POST", 504, then=("GET", 503, 4)))
    session = Session(target)
    first = build_machine(session)()
    body = template_and_text(target)
    first._create(body)
    first.teardown()  # the lost create's SMS was never seen: still unaccounted for
    assert session.lost
    second = build_machine(session)()
    second._list(second._scoped({"lead_id": body["lead_id"]}))  # no violation
    assert not second.model.lost


def test_a_create_the_docs_say_must_be_accepted_still_throttled_after_the_waits_is_not_judged():
    """Audit row P10: a 429 left after the client's five waits is the rate limiter's answer,
    not a refusal: the create rule (a MUST accept) is not failed on it."""
    tries = {"left": 6}  # the first try and five waits

    def throttle_the_first_create(method: str, path: str) -> int | None:
        if method == "POST" and path.startswith("/api/v1/activity/sms") and tries["left"] > 0:
            tries["left"] -= 1
            return 429
        return None

    target = losing(throttle_the_first_create)
    session = Session(target)
    machine = build_machine(session)()
    fixtures = target.fixtures
    assert fixtures is not None
    body = {
        "status": "draft",
        "lead_id": fixtures.leads[0][0],
        "local_phone": fixtures.internal_phones[0],
        "remote_phone": "+15555550100",
        "text": "throttled",
    }
    now = target.clock.now()
    assert machine.model.expect_create(body, TimeWindow(now, now)).accept is True
    assert machine._create(body) is None  # no violation raised
    assert tries["left"] == 0 and target.api.rate_limited == 6
    assert not session.tally.failed  # nor any rule counted failed
    assert "sms/create/status-draft" not in session.tally.passed  # not judged at all


def _flaky_once(monkeypatch) -> list[int]:
    """The first round's state machine ends as Hypothesis does when an example's replay
    drew otherwise than its first run; the rounds after run as usual."""
    from hypothesis.errors import FlakyStrategyDefinition

    import conformance.engine.rounds as rounds

    calls: list[int] = []
    real = rounds.run_state_machine_as_test

    def flaky_once(machine, settings):
        calls.append(1)
        if len(calls) == 1:
            raise FlakyStrategyDefinition("Inconsistent data generation!")
        return real(machine, settings=settings)

    monkeypatch.setattr(rounds, "run_state_machine_as_test", flaky_once)
    return calls


def test_a_replay_a_real_clock_sent_another_way_starts_the_round_afresh(monkeypatch):
    calls = _flaky_once(monkeypatch)
    monkeypatch.setattr(Target, "clock_can_jump", property(lambda self: False))
    report = run_target(embedded_target(), profile=Profile("tiny", 3, 3, 1), seed_value=1)
    assert report.verdict == "pass", report.reason
    assert len(calls) == 2


def test_a_replay_that_drew_otherwise_on_a_virtual_clock_without_noise_is_inconclusive(
    monkeypatch,
):
    _flaky_once(monkeypatch)
    report = run_target(embedded_target(), profile=Profile("tiny", 3, 3, 1), seed_value=1)
    assert report.verdict == "inconclusive"
    assert "answered the same requests differently" in report.reason
