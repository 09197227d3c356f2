"""Races on the run's own target (``run --races``, ``races --base-url``): through the run's
client and guard, bounded, drafts only without --allow-send, everything deleted (also when
interrupted), noise never a violation. The remote target is the reference server served on
real time over loopback HTTP (``serve``), as a live one would be."""

from __future__ import annotations

import threading
from dataclasses import replace
from unittest.mock import ANY

import httpx
import pytest

from conformance.client import Credentials, Interrupted
from conformance.races.live import RaceLimits, races_on_target
from conformance.races.plans import sends
from conformance.safety import SENDING_STATUSES
from conformance.target import embedded_target, remote_target
from tests.conftest import served

KEY = "ref-key-org-a"  # the reference server's seeded organisation A


def _remote(base_url: str, *, allow_send: bool = False):
    target = remote_target(base_url, Credentials(KEY, None, None), allow_send=allow_send)
    target.discover()
    return target


def _sms_and_leads(base_url: str) -> tuple[list, list]:
    with httpx.Client(base_url=base_url + "/", auth=(KEY, "")) as http:
        sms = http.get("activity/sms/", params={"_limit": "100"}).json()["data"]
        leads = http.get("lead/").json()["data"]
    return sms, leads


def _sms(base_url: str) -> list:
    """The SMS on the server, read before the target's clean-up (deleting the run's lead
    would delete its SMS too, and hide a history that left its own behind)."""
    return _sms_and_leads(base_url)[0]


def _spy_bodies(target) -> list:
    """Every JSON body the target's client sends from now on."""
    bodies: list = []
    send = target.api.send

    def spy(method, path, **kwargs):
        bodies.append((method, kwargs.get("json_body")))
        return send(method, path, **kwargs)

    target.api.send = spy
    return bodies


def test_races_on_the_embedded_run_target_explain_every_history_and_leave_nothing():
    target = embedded_target()
    target.discover()
    try:
        outcome = races_on_target(target, 1, RaceLimits(histories=10))
        assert outcome.report.verdict == "pass" and outcome.report.histories == 10
        assert outcome.attribution is None and outcome.finding() is None
        assert outcome.note().startswith("races: 10 of 10 histories run")
        listed = target.api.send("GET", "activity/sms/")[0].response.body["data"]
        assert listed == []  # every SMS a history made is deleted when it ends
    finally:
        target.close()


def test_a_race_variant_on_the_run_target_fails_the_documented_rule_it_breaks():
    target = embedded_target(faults=["race-cancel-sent-anyway"])
    target.discover()
    try:
        outcome = races_on_target(target, 1, RaceLimits(histories=30))
    finally:
        target.close()
    assert outcome.report.verdict == "fail", outcome.note()
    # Which history fails first is the threads' doing; the one it names is this rule's
    # (or, for an interleaving the attribution cannot read, none: informational).
    finding = outcome.finding()
    if finding is None:
        assert "informational" in outcome.note()
    else:
        assert not finding.ok and finding.rule == "sms/send/cancelled-never-sent"
        assert finding.rule in outcome.note()


def test_a_named_race_failure_becomes_a_finding_and_an_unnamed_one_stays_informational():
    from conformance.races.live import TargetRaces
    from conformance.races.record import embedded_races
    from conformance.races.rules import Attribution
    from conformance.races.run import run_races

    report = run_races(lambda: embedded_races(["race-lost-update"]), seed=1, histories=30)
    assert report.failure is not None
    blocked = report.failure.result.blocked[0]
    named = TargetRaces(
        report, Attribution("sms/update/partial", blocked, "x", "y"), 40, RaceLimits(), True
    )
    finding = named.finding()
    assert finding is not None and not finding.ok and finding.rule == "sms/update/partial"
    assert finding.expected == "x" and finding.actual == "y" and str(blocked) in finding.message
    assert "(sms/update/partial)" in named.note()
    unnamed = TargetRaces(report, None, 40, RaceLimits(), True)
    assert unnamed.finding() is None
    assert "informational: it breaks no rule the docs state" in unnamed.note()


def test_the_races_stop_before_a_history_that_might_not_fit_the_request_budget():
    target = embedded_target()
    target.discover()
    try:
        outcome = races_on_target(target, 1, RaceLimits(histories=50, max_requests=60))
    finally:
        target.close()
    report = outcome.report
    assert 0 < report.histories < 50 and outcome.requests <= 60
    assert report.stopped is not None and "request budget of 60" in report.stopped
    assert "stopped early: the races' request budget of 60" in outcome.note()


def test_the_races_stop_once_their_time_budget_is_spent():
    target = embedded_target()
    target.discover()
    try:
        outcome = races_on_target(
            target, 1, RaceLimits(histories=10_000, max_requests=10**6, max_seconds=1.0)
        )
    finally:
        target.close()
    assert outcome.report.histories < 10_000
    assert "time budget of 1 s" in (outcome.report.stopped or "")


def test_on_a_live_target_without_allow_send_the_races_send_nothing_and_clean_up():
    with served() as base_url:
        target = _remote(base_url)
        bodies = _spy_bodies(target)
        try:
            outcome = races_on_target(target, 3, RaceLimits(histories=8))
            assert _sms(base_url) == []
        finally:
            target.close()
        assert outcome.report.verdict == "pass", outcome.report.describe()
        assert not outcome.may_send and "drafts only" in outcome.note()
        sent = [b for _, b in bodies if isinstance(b, dict) and b.get("status") in SENDING_STATUSES]
        assert sent == []
        assert any(m == "PUT" for m, _ in bodies)  # the histories did race PUTs
        assert _sms_and_leads(base_url) == ([], [])


@pytest.mark.slow
def test_on_a_live_target_with_allow_send_the_histories_send_and_everything_is_deleted():
    with served() as base_url:
        target = _remote(base_url, allow_send=True)
        bodies = _spy_bodies(target)
        try:
            outcome = races_on_target(target, 1, RaceLimits(histories=8))
            assert _sms(base_url) == []
        finally:
            target.close()
        assert outcome.report.verdict == "pass", outcome.report.describe()
        assert any(isinstance(b, dict) and b.get("status") in SENDING_STATUSES for _, b in bodies)
        assert _sms_and_leads(base_url) == ([], [])


def test_lost_answers_on_a_live_target_are_never_violations():
    # 5% of the SMS requests answered 503 before being handled or 504 after.
    with served(transient_share=0.05) as base_url:
        target = _remote(base_url)
        try:
            outcome = races_on_target(target, 2, RaceLimits(histories=10))
        finally:
            target.close()
    assert outcome.report.verdict != "fail", outcome.report.describe()
    assert target.api.transient > 0  # the noise was met


def test_an_interrupted_history_deletes_what_it_created_and_the_interrupt_goes_up():
    with served() as base_url:
        target = _remote(base_url)
        send = target.api.send
        count = [0]

        def interrupt_after_a_few(method, path, **kwargs):
            count[0] += 1
            if count[0] == 4:
                target.api.interrupt()  # as Ctrl-C does: every later request but a DELETE stops
            return send(method, path, **kwargs)

        target.api.send = interrupt_after_a_few
        try:
            with pytest.raises(Interrupted):
                races_on_target(target, 1, RaceLimits(histories=5))
            assert count[0] > 4  # the history had created SMS before the interrupt...
            assert _sms(base_url) == []  # ...and deleted them on its way out
        finally:
            target.close()
        assert _sms_and_leads(base_url) == ([], [])
        assert target.leftovers == []


@pytest.mark.slow
def test_a_race_variant_on_a_live_target_is_caught_over_real_http():
    with served(faults=["race-lost-update"]) as base_url:
        target = _remote(base_url, allow_send=True)
        try:
            outcome = races_on_target(target, 1, RaceLimits(histories=30), settle=0.0)
            assert _sms(base_url) == []
        finally:
            target.close()
        assert outcome.report.verdict == "fail", outcome.note()
        assert outcome.attribution is not None
        assert outcome.attribution.rule.startswith("sms/update/")
        assert _sms_and_leads(base_url) == ([], [])


def test_the_drafts_only_plans_of_a_live_target_keep_their_branches_racing():
    from random import Random

    from conformance.races.plans import draw_plan, without_sends

    rng = Random(1)
    for _ in range(50):
        plan = draw_plan(rng)
        drafts = without_sends(plan)
        assert not sends(drafts)
        assert len(drafts.branches) == len(plan.branches) and drafts.size == plan.size


def test_no_branch_thread_is_left_running_after_the_races():
    before = threading.active_count()
    target = embedded_target()
    target.discover()
    try:
        races_on_target(target, 1, RaceLimits(histories=5))
    finally:
        target.close()
    assert threading.active_count() <= before + 1  # (a transport's loop thread at most)


def test_an_answer_the_client_could_not_take_as_the_request_s_is_a_lost_answer():
    # A DELETE whose first try got no usable answer, retried by the client and then
    # answered 404: the first try (or another request) deleted it; the history may not
    # read the 404 as the DELETE's answer. A create's id is kept for the clean-up anyway.
    from conformance.races.live import _Budget, _History

    target = embedded_target()
    target.discover()
    try:
        history = _History(target, _Budget(RaceLimits()))
        send = target.api.send

        def spoiled(method, path, **kwargs):
            exchange, window = send(method, path, **kwargs)
            return replace(exchange, error="the answer is not this request's"), window

        target.api.send = spoiled
        body = {"status": "draft", "text": "x", "local_phone": history.local_phone}
        assert history.send("POST", "activity/sms/", body) is None
        assert len(history.created) == 1  # still deleted at the end
        target.api.send = send
        path = f"activity/sms/{history.created[0]}/"
        assert history.send("GET", path) == (200, ANY)
        history.close()
        assert history.send("GET", path)[0] == 404
    finally:
        target.close()
