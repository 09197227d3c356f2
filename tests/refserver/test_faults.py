"""Each fault changes exactly the behaviour it names, and nothing when switched off."""

from __future__ import annotations

import pytest

from conformance.catalogue import load_catalogue
from conformance.clock import VirtualClock
from conformance.refserver import FAULTS, Fault, ReferenceServer

LOCAL = "+16503335550"


@pytest.fixture
def faulty():
    servers = []

    def make(name):
        clock = VirtualClock()
        server = ReferenceServer(clock=clock, faults=[name])
        servers.append(server)
        return server, server.client(), clock

    yield make
    for server in servers:
        server.close()


def create(client, **fields):
    body = {"status": "draft", "local_phone": LOCAL, "text": "hi", **fields}
    response = client.post("activity/sms/", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_faults_are_frozen_records_naming_catalogue_rules():
    catalogue = load_catalogue()
    for name, fault in FAULTS.items():
        assert isinstance(fault, Fault) and fault.name == name and fault.description
        assert fault.rule in catalogue


def test_an_unknown_fault_is_a_value_error_listing_the_known_ones():
    with pytest.raises(ValueError, match="cancel-refused"):
        ReferenceServer(faults=["no-such-fault"])


def test_edit_sent_accepted(faulty, client):
    server, faulty_client, _ = faulty("edit-sent-accepted")
    for c, expected in ((client, 400), (faulty_client, 200)):
        sms = create(c, status="sent")
        response = c.put(f"activity/sms/{sms['id']}/", json={"text": "rewritten"})
        assert response.status_code == expected
    assert faulty_client.get(f"activity/sms/{sms['id']}/").json()["text"] == "rewritten"
    # drafts and inbox behave as without the fault
    inbox = create(faulty_client, status="inbox")
    assert faulty_client.put(f"activity/sms/{inbox['id']}/", json={"text": "x"}).status_code == 400


def test_send_in_60_accepted(faulty, client):
    _, faulty_client, _ = faulty("send-in-60-accepted")
    body = {"status": "outbox", "local_phone": LOCAL, "send_in": 60}
    assert client.post("activity/sms/", json=body).status_code == 400
    assert faulty_client.post("activity/sms/", json=body).status_code == 200
    assert faulty_client.post("activity/sms/", json={**body, "send_in": 61}).status_code == 400


def test_cancel_refused(faulty):
    _, faulty_client, _ = faulty("cancel-refused")
    outbox = create(faulty_client, status="outbox", send_in=30)
    response = faulty_client.put(f"activity/sms/{outbox['id']}/", json={"status": "draft"})
    assert response.status_code == 400
    scheduled = create(faulty_client, status="scheduled", date_scheduled="2026-02-01T00:00:00Z")
    response = faulty_client.put(f"activity/sms/{scheduled['id']}/", json={"status": "draft"})
    assert response.status_code == 200


def test_skip_off_by_one(faulty, client):
    _, faulty_client, _ = faulty("skip-off-by-one")
    for c in (client, faulty_client):
        for index in range(4):
            create(c, text=str(index))

    def texts(c, skip):
        data = c.get("activity/sms/", params={"_skip": skip}).json()["data"]
        return [s["text"] for s in data]

    assert texts(client, 1) == texts(client, 0)[1:]
    assert len(texts(faulty_client, 0)) == 4
    assert texts(faulty_client, 1) == texts(faulty_client, 0)[2:]


def test_cancelled_still_sent(faulty):
    _, faulty_client, clock = faulty("cancelled-still-sent")
    sms = create(faulty_client, status="outbox", send_in=30)
    path = f"activity/sms/{sms['id']}/"
    response = faulty_client.put(path, json={"status": "draft"})
    assert (response.status_code, response.json()["status"]) == (200, "draft")
    assert faulty_client.get(path).json()["status"] == "draft"
    clock.advance(30)
    assert faulty_client.get(path).json()["status"] == "sent"


def test_faults_are_off_by_default(server):
    assert server.faults == frozenset()
