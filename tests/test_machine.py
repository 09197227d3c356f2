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
    body = {
        "status": "draft",
        "text": "hi",
        "local_phone": local,
        "remote_phone": FICTIONAL_RECIPIENTS[0],
    }
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
    assert machine.state.tally.failed["sms/list/has-more"] == 0


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


# -- audit rows G1, L3, L4: what the machine sends is what the docs describe ----------------


@pytest.mark.parametrize(
    "params",
    [
        {"contact_id": "CONTACT"},
        {"user_id": "USER"},
        {"contact_id": "CONTACT", "lead_id": "LEADS"},
        {"user_id": "USER", "id__in": "acti_x"},
        {"user_id": "USER", "date_created__gt": "2026-01-01"},
    ],
)
def test_a_query_filtering_by_contact_or_user_names_a_single_lead(server, params):
    """1.2: on /activity/ "some filters there (`user_id`, `contact_id` ...) only work
    together with a single `lead_id`"; a server may hold the SMS list to it (audit L4)."""
    target = remote_like(server, ())
    machine = a_machine(target)
    leads = [lead for lead, _ in target.fixtures.leads]
    contact = target.fixtures.leads[-1][1]
    filled = {
        key: {"CONTACT": contact, "USER": target.fixtures.user_id, "LEADS": ",".join(leads)}.get(
            value, value
        )
        for key, value in params.items()
    }
    scoped = machine._scoped(filled)
    assert "," not in scoped["lead_id"] and scoped["lead_id"] in leads


def test_a_query_without_contact_or_user_filters_keeps_every_lead_of_the_run(server):
    target = remote_like(server, ())
    machine = a_machine(target)
    scoped = machine._scoped({"date_created__gt": "2026-01-01"})
    assert scoped["lead_id"].split(",") == [lead for lead, _ in target.fixtures.leads]


def test_the_offsets_the_machine_sends_are_whole_or_half_hours():
    """2.7: "e.g. `-4` for EDT, half hours as `-2.5`" (audit L3: 12.75 is undocumented)."""
    from conformance.machine import TZ_OFFSETS

    assert all(float(offset) * 2 == int(float(offset) * 2) for offset in TZ_OFFSETS)


@pytest.mark.parametrize(
    "issued",
    [
        "acti_0000001aXyZ9qRsTuVwXyZ0123456789abcdefGHIJK",
        "acti_3f2a9c0d4b5e6f708192a3b4c5d6e7f8",
        "7d1f9e2c-0000-4a4a-8b8b-123456789abc",
    ],
)
def test_an_unknown_id_has_the_shape_of_an_id_the_server_issued(issued):
    """1.1 documents 400 for get, update and delete: an id of a shape the server never
    issues may get it; the made-up id keeps the shape so that only "404 Not found" fits
    (audit G1)."""
    from conformance.machine import unknown_id_like

    made = {unknown_id_like(issued, salt, {issued}) for salt in range(1, 40)}
    for sms_id in made:
        assert sms_id != issued and len(sms_id) == len(issued)
        for mine, theirs in zip(sms_id, issued, strict=True):
            assert mine.isdigit() == theirs.isdigit()
            assert mine.isupper() == theirs.isupper() and mine.islower() == theirs.islower()
            if not theirs.isalnum():
                assert mine == theirs
        if set(issued.split("_")[-1]) <= set("0123456789abcdef-"):
            assert set(sms_id.split("_")[-1]) <= set("0123456789abcdef-")
    assert len(made) > 1
