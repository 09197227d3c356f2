"""The state machine on a live target: what it creates hangs off its leads, what it deletes
after a lost answer is only what that answer made, and SMS that were on the user's leads
before the run never count in its lists.

The target is the reference server through httpx in-process, presented as a remote target
(``embedded=False``: real clock, ``--lead-id`` fixtures, the client's guard on).
"""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from conformance.client import ApiClient, Credentials
from conformance.clock import SystemClock
from conformance.machine import Session, build_machine
from conformance.model import TimeWindow, Timing
from conformance.refserver import ReferenceServer
from conformance.safety import Guard
from conformance.target import FICTIONAL_RECIPIENTS, GivenFixtures, Target
from conformance.transport import SyncASGITransport

SMS = "activity/sms/"


@pytest.fixture
def server():
    with ReferenceServer() as server:
        yield server


def customer_lead(server: ReferenceServer, texts: list[str]) -> tuple[str, list[str]]:
    """A lead the run did not create, with SMS on it; returns its id and the SMS ids."""
    with server.client() as client:
        lead = client.post(
            "lead/",
            json={
                "name": "a customer",
                "contacts": [
                    {"name": "Ann", "phones": [{"type": "mobile", "phone": "+15555550100"}]}
                ],
            },
        ).json()
        local = next(
            n["number"]
            for n in client.get("phone_number/").json()["data"]
            if n["type"] == "internal"
        )
        ids = []
        for text in texts:
            sms = client.post(
                SMS,
                json={
                    "status": "draft",
                    "lead_id": lead["id"],
                    "text": text,
                    "local_phone": local,
                    "remote_phone": "+15555550100",
                },
            ).json()
            ids.append(sms["id"])
    return lead["id"], ids


def remote_like(server: ReferenceServer, lead_ids: tuple[str, ...]) -> Target:
    http = httpx.Client(transport=SyncASGITransport(server.app), base_url=server.base_url + "/")
    clock = SystemClock()
    org = server.orgs[0]
    target = Target(
        name="reference server as a live target",
        api=ApiClient(
            http, Credentials(org.api_key), clock, guard=Guard(recipients=FICTIONAL_RECIPIENTS)
        ),
        clock=clock,
        timing=Timing(early=2.0, grace=10.0),
        embedded=False,
        allow_send=False,
        given=GivenFixtures(lead_ids=lead_ids),
    )
    target.discover()
    return target


def a_machine(target: Target):
    return build_machine(Session(target))()


def sms_on(server: ReferenceServer, lead_id: str) -> set[str]:
    with server.client() as client:
        return {item["id"] for item in client.get(SMS, params={"lead_id": lead_id}).json()["data"]}


def test_a_lost_create_on_a_named_lead_deletes_nothing_when_several_sms_match(server):
    lead, customers = customer_lead(server, ["same words", "same words"])
    target = remote_like(server, (lead,))
    machine = a_machine(target)
    now = datetime(2000, 1, 1, tzinfo=UTC)
    body = {"text": "same words", "lead_id": lead, "remote_phone": "+15555550100"}
    machine._find_strays(body, TimeWindow(now, now))
    assert sms_on(server, lead) == set(customers)


def test_a_lost_create_on_a_named_lead_never_deletes_an_sms_unlike_what_was_sent(server):
    lead, customers = customer_lead(server, ["a customer's own words"])
    target = remote_like(server, (lead,))
    machine = a_machine(target)
    now = datetime(2000, 1, 1, tzinfo=UTC)
    machine._find_strays({"text": "the run's words", "lead_id": lead}, TimeWindow(now, now))
    assert sms_on(server, lead) == set(customers)


def test_a_lost_create_deletes_the_one_sms_that_matches_what_was_sent(server):
    lead, customers = customer_lead(server, ["a customer's own words", "the run's words"])
    target = remote_like(server, (lead,))
    machine = a_machine(target)
    now = datetime(2000, 1, 1, tzinfo=UTC)
    machine._find_strays({"text": "the run's words", "lead_id": lead}, TimeWindow(now, now))
    assert sms_on(server, lead) == {customers[0]}


def test_a_lost_create_finds_its_sms_on_a_server_that_stores_text_nfc_normalised():
    with ReferenceServer(readings={"text-normalisation": "nfc"}) as server:
        lead, customers = customer_lead(server, ["someone else's", "Cafe\u0301"])
        machine = a_machine(remote_like(server, (lead,)))
        now = datetime(2000, 1, 1, tzinfo=UTC)
        machine._find_strays({"text": "Cafe\u0301", "lead_id": lead}, TimeWindow(now, now))
        assert sms_on(server, lead) == {customers[0]}


def test_an_sms_created_without_a_lead_is_given_one_of_the_runs_leads(server):
    lead, _ = customer_lead(server, [])
    target = remote_like(server, (lead,))
    machine = a_machine(target)
    local = target.fixtures.internal_phones[0]
    body = {"status": "draft", "text": "hi", "local_phone": local, "remote_phone": "+15555550100"}
    machine._create(body)
    created = list(machine.created)
    assert created and sms_on(server, lead) >= set(created)


def test_lists_on_a_named_lead_leave_out_the_sms_it_held_before_the_run(server):
    lead, customers = customer_lead(server, ["before the run"] * 3)
    target = remote_like(server, (lead,))
    machine = a_machine(target)
    params = machine._scoped({"lead_id": lead})
    with server.client() as client:
        listed = client.get(SMS, params=params).json()["data"]
    assert "date_created__gt" in params
    assert not {item["id"] for item in listed} & set(customers)


@pytest.mark.parametrize("lead_id", [None, "lead_someone_elses"])
def test_an_sms_created_with_a_null_or_foreign_lead_is_given_one_of_the_runs_leads(server, lead_id):
    lead, _ = customer_lead(server, [])
    target = remote_like(server, (lead,))
    machine = a_machine(target)
    local = target.fixtures.internal_phones[0]
    body = {"status": "draft", "text": "hi", "local_phone": local, "lead_id": lead_id}
    machine._create(body)
    created = list(machine.created)
    assert created and sms_on(server, lead) >= set(created)


def test_the_full_page_list_on_a_named_lead_is_bounded_after_what_it_held(server):
    """A page of exactly the run's SMS on a --lead-id lead with 5 SMS of its own: the
    bound leaves those out, so has_more is false and nothing is found broken."""
    lead, _ = customer_lead(server, ["before the run"] * 5)
    target = remote_like(server, (lead,))
    machine = a_machine(target)
    local = target.fixtures.internal_phones[0]
    machine._create({"status": "draft", "text": "the run's", "local_phone": local})
    assert len(machine.model.records) == 1

    class Drawn:  # the one lead there is to draw
        def draw(self, strategy, label=None):
            return lead

    machine.list_one_exactly_full_page(Drawn())  # raises RuleViolation on a false has_more
    request = machine.transcript[-1].request
    assert "date_created__gt" in request.path and "_limit=1" in request.path
    assert machine.session.tally.failed["sms/list/has-more"] == 0


def test_the_bound_on_a_named_lead_ignores_the_runs_own_sms(server):
    """Found after the run's first create, the bound must not hide that SMS from lists."""
    lead, customers = customer_lead(server, ["before the run"] * 2)
    target = remote_like(server, (lead,))
    machine = a_machine(target)
    local = target.fixtures.internal_phones[0]
    machine._create({"status": "draft", "text": "the run's", "local_phone": local})
    params = machine._scoped({"lead_id": lead})
    with server.client() as client:
        listed = {item["id"] for item in client.get(SMS, params=params).json()["data"]}
    assert listed == set(machine.model.records) and not listed & set(customers)


def test_a_query_bounding_date_created_both_ways_still_leaves_out_what_the_lead_held(server):
    lead, customers = customer_lead(server, ["before the run"] * 2)
    target = remote_like(server, (lead,))
    machine = a_machine(target)
    params = machine._scoped(
        {"date_created__gt": "2000-01-01T00:00:00+00:00", "date_created__gte": "2000-01-01"}
    )
    with server.client() as client:
        listed = {item["id"] for item in client.get(SMS, params=params).json()["data"]}
    assert params["date_created__gt"] == "2000-01-01T00:00:00+00:00"
    assert not listed & set(customers)
