"""Storage: a database file persists objects across server instances."""

from __future__ import annotations

from conformance.clock import VirtualClock
from conformance.refserver import ReferenceServer


def test_a_db_file_persists_sms_leads_and_due_times_across_restarts(tmp_path):
    db = str(tmp_path / "ref.sqlite3")
    clock = VirtualClock()
    first = ReferenceServer(clock=clock, db_path=db)
    client = first.client()
    lead = client.post("lead/", json={"name": "Kept", "contacts": [{"name": "A B"}]}).json()
    body = {"status": "outbox", "local_phone": "+16503335550", "send_in": 30, "text": "later"}
    sms = client.post("activity/sms/", json={**body, "lead_id": lead["id"]}).json()
    first.close()

    second = ReferenceServer(clock=clock, db_path=db)
    assert [org.api_key for org in second.orgs] == ["ref-key-org-a", "ref-key-org-b"]
    client = second.client()
    assert client.get(f"lead/{lead['id']}/").json() == lead
    assert client.get(f"activity/sms/{sms['id']}/").json()["status"] == "outbox"
    clock.advance(30)
    assert client.get(f"activity/sms/{sms['id']}/").json()["status"] == "sent"
    second.close()


def test_memory_databases_are_separate(clock):
    one, two = ReferenceServer(clock=clock), ReferenceServer(clock=clock)
    body = {"status": "draft", "local_phone": "+16503335550"}
    one.client().post("activity/sms/", json=body)
    assert two.client().get("activity/sms/").json()["data"] == []
    one.close()
    two.close()


def test_the_status_history_keeps_every_status_an_sms_had_even_once_deleted(clock):
    server = ReferenceServer(clock=clock)
    client = server.client()
    body = {"status": "draft", "local_phone": "+16503335550", "text": "x"}
    sms = client.post("activity/sms/", json=body).json()
    client.put(f"activity/sms/{sms['id']}/", json={"status": "outbox"})
    clock.advance(1)
    assert client.get(f"activity/sms/{sms['id']}/").json()["status"] == "sent"
    client.delete(f"activity/sms/{sms['id']}/")
    assert server.storage.statuses_ever("sms") == {"draft", "outbox", "sent"}
    server.close()
