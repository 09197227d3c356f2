"""The sender on the virtual clock: outbox after send_in, scheduled at date_scheduled."""

from __future__ import annotations


def fetch(client, sms):
    return client.get(f"activity/sms/{sms['id']}/").json()


def test_outbox_with_send_in_30_waits_30_seconds(client, make_sms, clock):
    sms = make_sms(status="outbox", send_in=30)
    clock.advance(29)
    assert fetch(client, sms)["status"] == "outbox"
    clock.advance(1)
    sent = fetch(client, sms)
    assert sent["status"] == "sent"
    assert sent["date_sent"] == "2026-01-01T12:00:30.000000+00:00"
    assert sent["cost"] == "1"


def test_outbox_at_29_seconds_is_still_cancellable_and_then_never_sent(client, make_sms, clock):
    sms = make_sms(status="outbox", send_in=30)
    clock.advance(29)
    response = client.put(f"activity/sms/{sms['id']}/", json={"status": "draft"})
    assert response.json()["status"] == "draft"
    clock.advance(86400)
    assert fetch(client, sms)["status"] == "draft"
    assert fetch(client, sms)["date_sent"] is None


def test_outbox_without_send_in_is_sent_on_the_next_request(client, make_sms):
    sms = make_sms(status="outbox")
    assert sms["status"] == "outbox"
    assert fetch(client, sms)["status"] == "sent"


def test_scheduled_is_sent_exactly_at_date_scheduled_not_before(client, make_sms, clock):
    sms = make_sms(status="scheduled", date_scheduled="2026-01-01T13:00:00Z")
    clock.advance(3599.999)
    assert fetch(client, sms)["status"] == "scheduled"
    clock.advance(0.001)
    sent = fetch(client, sms)
    assert sent["status"] == "sent"
    assert sent["date_sent"] == "2026-01-01T13:00:00.000000+00:00"


def test_a_cancelled_scheduled_sms_is_never_sent(client, make_sms, clock):
    sms = make_sms(status="scheduled", date_scheduled="2026-01-01T12:10:00Z")
    client.put(f"activity/sms/{sms['id']}/", json={"status": "draft"})
    clock.advance(30 * 86400)
    assert fetch(client, sms)["status"] == "draft"


def test_a_rescheduled_draft_is_sent_at_its_new_date(client, make_sms, clock):
    sms = make_sms(status="scheduled", date_scheduled="2026-01-01T12:10:00Z")
    path = f"activity/sms/{sms['id']}/"
    client.put(path, json={"status": "draft"})
    client.put(path, json={"status": "scheduled", "date_scheduled": "2026-01-01T12:20:00Z"})
    clock.advance(600)
    assert fetch(client, sms)["status"] == "scheduled"
    clock.advance(600)
    assert fetch(client, sms)["date_sent"] == "2026-01-01T12:20:00.000000+00:00"


def test_draft_to_outbox_by_put_is_sent_after_send_in(client, make_sms, clock):
    sms = make_sms()
    client.put(f"activity/sms/{sms['id']}/", json={"status": "outbox", "send_in": 5})
    clock.advance(4)
    assert fetch(client, sms)["status"] == "outbox"
    clock.advance(1)
    assert fetch(client, sms)["status"] == "sent"


def test_run_sender_reports_how_many_were_sent(server, make_sms, clock):
    make_sms(status="outbox", send_in=1)
    make_sms(status="outbox", send_in=2)
    clock.advance(1)
    assert server.run_sender() == 1
    clock.advance(1)
    assert server.run_sender() == 1


def test_a_scheduled_sms_whose_date_has_passed_is_sent_at_once_never_before_it_was_made(
    client, make_sms, clock
):
    """past-date-scheduled=accept: "taken, and sent at once"; stamped sent at its create,
    not at the past date (the send-time activity_at of a list filter read it so)."""
    clock.advance(3600)  # 13:00
    sms = make_sms(status="scheduled", date_scheduled="2026-01-01T12:30:00Z")
    sent = fetch(client, sms)
    assert sent["status"] == "sent"
    assert sent["date_sent"] == sent["date_created"] == "2026-01-01T13:00:00.000000+00:00"


def test_a_draft_scheduled_by_put_for_a_passed_date_is_sent_at_the_put(client, make_sms, clock):
    sms = make_sms()
    clock.advance(3600)
    path = f"activity/sms/{sms['id']}/"
    client.put(path, json={"status": "scheduled", "date_scheduled": "2026-01-01T12:30:00Z"})
    assert fetch(client, sms)["date_sent"] == "2026-01-01T13:00:00.000000+00:00"
