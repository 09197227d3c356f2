"""PUT /activity/sms/{id}/: partial edits of drafts, allowed and refused transitions."""

from __future__ import annotations

import pytest

LOCAL_2 = "+16503335551"
LATER = "2026-01-02T09:00:00+00:00"


def put(client, sms, **fields):
    return client.put(f"activity/sms/{sms['id']}/", json=fields)


def test_put_is_partial_and_keeps_omitted_fields(client, make_sms):
    sms = make_sms(text="before", attachments=[])
    response = put(client, sms, text="after")
    assert response.status_code == 200
    updated = response.json()
    assert updated["text"] == "after"
    for field in ("local_phone", "remote_phone", "status", "direction", "date_created"):
        assert updated[field] == sms[field]
    assert client.get(f"activity/sms/{sms['id']}/").json() == updated


def test_a_draft_may_change_every_editable_field(client, make_sms, make_lead, clock):
    sms = make_sms()
    lead = make_lead()
    clock.advance(5)
    response = put(
        client,
        sms,
        local_phone=LOCAL_2,
        remote_phone="+442071234567",
        lead_id=lead["id"],
        contact_id=lead["contacts"][0]["id"],
        attachments=[{"url": "u", "filename": "f.pdf", "content_type": "application/pdf"}],
        activity_at="2025-01-01T00:00:00Z",
    )
    updated = response.json()
    assert updated["local_phone"] == LOCAL_2
    assert updated["remote_country_iso"] == "GB"
    assert updated["lead_id"] == lead["id"]
    assert updated["attachments"][0]["filename"] == "f.pdf"
    assert updated["activity_at"] == "2025-01-01T00:00:00.000000+00:00"
    assert updated["date_updated"] == "2026-01-01T12:00:05.000000+00:00"


def test_put_ignores_direction_source_and_organization(client, make_sms):
    sms = make_sms()
    updated = put(client, sms, direction="inbound", source="External", organization_id="x").json()
    assert (updated["direction"], updated["source"]) == ("outbound", "Close.io")
    assert updated["organization_id"] == "orga_reference_a"


def test_draft_to_scheduled_uses_the_date_in_the_body(client, make_sms):
    sms = make_sms()
    updated = put(client, sms, status="scheduled", date_scheduled=LATER).json()
    assert updated["status"] == "scheduled"
    assert updated["date_scheduled"] == "2026-01-02T09:00:00.000000+00:00"


def test_draft_to_scheduled_may_use_a_stored_date(client, make_sms):
    sms = make_sms(date_scheduled=LATER)
    assert put(client, sms, status="scheduled").json()["status"] == "scheduled"


def test_draft_to_scheduled_without_a_date_is_rejected(client, make_sms, field_errors):
    assert "date_scheduled" in field_errors(put(client, make_sms(), status="scheduled"))


def test_draft_to_outbox_with_send_in(client, make_sms):
    assert put(client, make_sms(), status="outbox", send_in=10).json()["status"] == "outbox"


def test_draft_to_outbox_with_send_in_60_is_rejected(client, make_sms, field_errors):
    assert "send_in" in field_errors(put(client, make_sms(), status="outbox", send_in=60))


def test_draft_to_draft_is_a_no_op(client, make_sms):
    assert put(client, make_sms(), status="draft").json()["status"] == "draft"


@pytest.mark.parametrize("status", ["inbox", "sent", "error", "bogus", None, 7])
def test_draft_to_other_statuses_is_rejected(client, make_sms, field_errors, status):
    assert "status" in field_errors(put(client, make_sms(), status=status))


def test_invalid_edit_of_a_draft_changes_nothing(client, make_sms, field_errors):
    sms = make_sms(text="keep")
    assert "local_phone" in field_errors(put(client, sms, text="new", local_phone="+14151231230"))
    assert client.get(f"activity/sms/{sms['id']}/").json()["text"] == "keep"


def test_template_id_on_put_re_renders_the_text(client, make_sms, make_lead):
    lead = make_lead(contacts=("Grace Brewster Hopper",))
    template = client.post("sms_template/", json={"name": "t", "text": "Hi {{contact.last_name}}"})
    sms = make_sms(lead_id=lead["id"])
    updated = put(client, sms, template_id=template.json()["id"]).json()
    assert updated["text"] == "Hi Brewster Hopper"
    assert updated["template_id"] == template.json()["id"]


@pytest.mark.parametrize(
    "create",
    [{"status": "scheduled", "date_scheduled": LATER}, {"status": "outbox", "send_in": 30}],
    ids=["scheduled", "outbox"],
)
def test_scheduled_and_unsent_outbox_may_be_cancelled(client, make_sms, create):
    sms = make_sms(**create)
    assert put(client, sms, status="draft").json()["status"] == "draft"


def test_a_cancel_with_edits_applies_the_edits(client, make_sms):
    sms = make_sms(status="scheduled", date_scheduled=LATER)
    updated = put(client, sms, status="draft", text="changed").json()
    assert (updated["status"], updated["text"]) == ("draft", "changed")


@pytest.mark.parametrize(
    "create",
    [{"status": "scheduled", "date_scheduled": LATER}, {"status": "outbox", "send_in": 30}],
    ids=["scheduled", "outbox"],
)
@pytest.mark.parametrize(
    ("edit", "field"),
    [({"text": "x"}, "text"), ({"status": "sent"}, "status"), ({"status": "outbox"}, "status")],
)
def test_scheduled_and_outbox_refuse_anything_but_a_cancel(
    client, make_sms, field_errors, create, edit, field
):
    sms = make_sms(**create)
    assert field in field_errors(put(client, sms, **edit))


@pytest.mark.parametrize("status", ["inbox", "sent"])
@pytest.mark.parametrize(
    ("edit", "field"),
    [
        ({"text": "x"}, "text"),
        ({"status": "draft"}, "status"),
        ({"remote_phone": "+16505550199"}, "remote_phone"),
        ({"attachments": []}, "attachments"),
    ],
)
def test_logged_sms_refuse_every_change(client, make_sms, field_errors, status, edit, field):
    sms = make_sms(status=status, text="orig")
    assert field in field_errors(put(client, sms, **edit))
    assert client.get(f"activity/sms/{sms['id']}/").json()["text"] == "orig"


def test_an_empty_put_on_a_sent_sms_changes_nothing(client, make_sms):
    sms = make_sms(status="sent")
    assert put(client, sms).json() == sms


def test_a_sent_outbox_can_no_longer_be_cancelled(client, make_sms, clock, field_errors):
    sms = make_sms(status="outbox")
    clock.advance(1)
    assert "status" in field_errors(put(client, sms, status="draft"))


def test_put_on_an_unknown_id_is_404(client):
    response = client.put("activity/sms/acti_nope/", json={"text": "x"})
    assert response.status_code == 404
    assert response.json() == {"error": "Not found"}


def test_delete_answers_empty_object_then_404_everywhere(client, make_sms):
    sms = make_sms()
    path = f"activity/sms/{sms['id']}/"
    response = client.delete(path)
    assert (response.status_code, response.json()) == (200, {})
    assert client.get(path).status_code == 404
    assert client.put(path, json={"text": "x"}).status_code == 404
    assert client.delete(path).status_code == 404
    assert client.get("activity/sms/").json()["data"] == []


def test_a_deleted_outbox_is_never_sent(client, make_sms, clock, server):
    sms = make_sms(status="outbox", send_in=10)
    client.delete(f"activity/sms/{sms['id']}/")
    clock.advance(3600)
    assert server.run_sender() == 0
