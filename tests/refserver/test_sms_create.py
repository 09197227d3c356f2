"""POST /activity/sms/: each status, defaults, and each rejection with its field error."""

from __future__ import annotations

import pytest

from conformance.refserver.validation import ATTACHMENT_CONTENT_TYPES

LOCAL = "+16503335550"
REMOTE = "+16505550100"
REQUIRED_FIELDS = [
    "_type",
    "activity_at",
    "contact_id",
    "cost",
    "created_by",
    "date_created",
    "date_scheduled",
    "date_sent",
    "date_updated",
    "direction",
    "error_message",
    "id",
    "lead_id",
    "local_country_iso",
    "local_phone",
    "local_phone_formatted",
    "organization_id",
    "remote_country_iso",
    "remote_phone",
    "remote_phone_formatted",
    "source",
    "status",
    "template_id",
    "text",
    "updated_by",
    "user_id",
    "users",
    "attachments",
    "caller_id_mode",
    "caller_id_reason",
]


def body(**fields):
    base = {"status": "draft", "local_phone": LOCAL, "remote_phone": REMOTE, "text": "hi"}
    base.update(fields)
    return {k: v for k, v in base.items() if v is not ...}


@pytest.mark.parametrize("status", ["inbox", "draft", "outbox", "sent"])
def test_each_create_status_answers_200_with_a_full_object(client, status):
    response = client.post("activity/sms/", json=body(status=status))
    assert response.status_code == 200
    sms = response.json()
    assert set(REQUIRED_FIELDS) <= set(sms)
    assert sms["status"] == status
    assert sms["_type"] == "SMS"
    assert sms["id"].startswith("acti_")
    assert sms["users"] == []
    assert sms["organization_id"] == "orga_reference_a"
    assert sms["user_id"] == sms["created_by"] == sms["updated_by"] == "user_reference_a"


def test_scheduled_with_date_scheduled_is_created(client):
    response = client.post(
        "activity/sms/", json=body(status="scheduled", date_scheduled="2026-01-02T09:30:00Z")
    )
    assert response.status_code == 200
    assert response.json()["date_scheduled"] == "2026-01-02T09:30:00.000000+00:00"


def test_dates_are_iso8601_with_microseconds_and_offset(make_sms):
    sms = make_sms()
    assert sms["date_created"] == "2026-01-01T12:00:00.000000+00:00"
    assert sms["activity_at"] == sms["date_created"] == sms["date_updated"]


def test_phones_are_formatted_with_country(make_sms):
    sms = make_sms()
    assert sms["local_phone_formatted"] == "+1 650-333-5550"
    assert sms["remote_phone_formatted"] == "+1 650-555-0100"
    assert sms["local_country_iso"] == sms["remote_country_iso"] == "US"


@pytest.mark.parametrize(
    ("status", "direction", "source"),
    [
        ("inbox", "inbound", "External"),
        ("sent", "outbound", "External"),
        ("draft", "outbound", "Close.io"),
        ("outbox", "outbound", "Close.io"),
    ],
)
def test_default_direction_and_source_follow_the_status(make_sms, status, direction, source):
    sms = make_sms(status=status)
    assert (sms["direction"], sms["source"]) == (direction, source)


def test_explicit_direction_and_source_are_kept(make_sms):
    sms = make_sms(status="inbox", direction="outbound", source="Close.io")
    assert (sms["direction"], sms["source"]) == ("outbound", "Close.io")


@pytest.mark.parametrize(
    "text", ["", "  padded  \n", "emoji 😀🎉 and ünïcödé", "x" * 5000, "\t\r\n", "\u200b"]
)
def test_text_is_stored_exactly_as_given(client, make_sms, text):
    sms = make_sms(text=text)
    assert sms["text"] == text
    assert client.get(f"activity/sms/{sms['id']}/").json()["text"] == text


def test_lone_surrogate_text_round_trips_as_an_escape(client):
    raw = b'{"status":"draft","local_phone":"+16503335550","text":"a\\ud800b"}'
    response = client.post(
        "activity/sms/", content=raw, headers={"content-type": "application/json"}
    )
    assert response.status_code == 200
    assert response.json()["text"] == "a\ud800b"


def test_attachments_get_media_ids(make_sms):
    sms = make_sms(
        attachments=[
            {"url": "https://x.test/a.png", "filename": "a.png", "content_type": "image/png"}
        ]
    )
    (item,) = sms["attachments"]
    assert item["media_id"].startswith("media_")
    assert (item["url"], item["filename"], item["content_type"], item["size"]) == (
        "https://x.test/a.png",
        "a.png",
        "image/png",
        None,
    )


def test_every_documented_content_type_is_accepted(make_sms):
    files = [{"url": "u", "filename": "f", "content_type": t} for t in ATTACHMENT_CONTENT_TYPES]
    assert len(make_sms(attachments=files)["attachments"]) == len(ATTACHMENT_CONTENT_TYPES)


def test_a_contact_without_lead_brings_its_lead(make_sms, make_lead):
    lead = make_lead()
    sms = make_sms(contact_id=lead["contacts"][0]["id"])
    assert sms["lead_id"] == lead["id"]


def test_activity_at_defaults_to_date_created_and_may_be_given(make_sms):
    sms = make_sms(activity_at="2025-06-01T08:00:00+02:00", date_created="2025-06-02T00:00:00Z")
    assert sms["activity_at"] == "2025-06-01T06:00:00.000000+00:00"
    assert sms["date_created"] == "2025-06-02T00:00:00.000000+00:00"


def test_naive_date_scheduled_is_local_in_x_tz_offset(client):
    response = client.post(
        "activity/sms/",
        json=body(status="scheduled", date_scheduled="2026-01-02T09:00:00"),
        headers={"x-tz-offset": "-4"},
    )
    assert response.json()["date_scheduled"] == "2026-01-02T13:00:00.000000+00:00"


def test_logged_sent_sms_has_date_sent_and_no_cost(make_sms):
    sms = make_sms(status="sent")
    assert sms["date_sent"] == sms["date_created"]
    assert sms["cost"] is None


def test_send_in_59_point_9_is_accepted(make_sms):
    assert make_sms(status="outbox", send_in=59.9)["status"] == "outbox"


REJECTIONS = [
    ("status missing", {"status": ...}, "status"),
    ("status null", {"status": None}, "status"),
    ("status error", {"status": "error"}, "status"),
    ("status unknown", {"status": "queued"}, "status"),
    ("status wrong type", {"status": 3}, "status"),
    ("scheduled without date", {"status": "scheduled"}, "date_scheduled"),
    ("scheduled bad date", {"status": "scheduled", "date_scheduled": "tomorrow"}, "date_scheduled"),
    (
        "scheduled month 13",
        {"status": "scheduled", "date_scheduled": "2026-13-01T00:00"},
        "date_scheduled",
    ),
    ("send_in 60", {"status": "outbox", "send_in": 60}, "send_in"),
    ("send_in negative", {"status": "outbox", "send_in": -1}, "send_in"),
    ("send_in string", {"status": "outbox", "send_in": "5"}, "send_in"),
    ("send_in bool", {"status": "outbox", "send_in": True}, "send_in"),
    ("send_in huge", {"status": "outbox", "send_in": 10**30}, "send_in"),
    ("local_phone missing", {"local_phone": ...}, "local_phone"),
    ("local_phone external", {"local_phone": "+14151231230"}, "local_phone"),
    ("local_phone other org", {"local_phone": "+16503336660"}, "local_phone"),
    ("local_phone unknown", {"local_phone": "+16509999999"}, "local_phone"),
    ("local_phone malformed", {"local_phone": "650-333-5550"}, "local_phone"),
    ("remote_phone malformed", {"remote_phone": "+0123"}, "remote_phone"),
    ("remote_phone number", {"remote_phone": 16505550100}, "remote_phone"),
    ("template unknown", {"template_id": "smstmpl_nope"}, "template_id"),
    ("direction unknown", {"direction": "sideways"}, "direction"),
    ("source unknown", {"source": "Twilio"}, "source"),
    ("lead unknown", {"lead_id": "lead_nope"}, "lead_id"),
    ("contact unknown", {"contact_id": "cont_nope"}, "contact_id"),
    ("text wrong type", {"text": ["a"]}, "text"),
    ("user unknown", {"user_id": "user_other"}, "user_id"),
    ("organization other", {"organization_id": "orga_reference_b"}, "organization_id"),
    ("date_created bad", {"date_created": "yesterday"}, "date_created"),
    ("activity_at bad", {"activity_at": 12}, "activity_at"),
    ("attachments not list", {"attachments": "a.png"}, "attachments"),
    (
        "attachment without url",
        {"attachments": [{"filename": "f", "content_type": "image/png"}]},
        "attachments",
    ),
    (
        "attachment bad type",
        {"attachments": [{"url": "u", "filename": "f", "content_type": "image/webp"}]},
        "attachments",
    ),
]


@pytest.mark.parametrize(("case", "fields", "field"), REJECTIONS, ids=[r[0] for r in REJECTIONS])
def test_invalid_create_is_rejected_naming_the_field(client, field_errors, case, fields, field):
    response = client.post("activity/sms/", json=body(**fields))
    assert field in field_errors(response)


def test_scheduled_without_date_scheduled_is_rejected_naming_the_field(client, field_errors):
    response = client.post("activity/sms/", json=body(status="scheduled"))
    assert list(field_errors(response)) == ["date_scheduled"]


def test_several_invalid_fields_are_all_named(client, field_errors):
    response = client.post("activity/sms/", json=body(status="outbox", send_in=99, text=1))
    assert set(field_errors(response)) == {"send_in", "text"}


def test_a_contact_of_another_lead_is_rejected(client, field_errors, make_lead):
    first, second = make_lead("One"), make_lead("Two")
    response = client.post(
        "activity/sms/", json=body(lead_id=first["id"], contact_id=second["contacts"][0]["id"])
    )
    assert "contact_id" in field_errors(response)


@pytest.mark.parametrize("raw", [b"[]", b'"x"', b"null", b"{", b"", b"NaN", b'{"a": NaN}'])
def test_a_body_that_is_not_a_json_object_is_a_400(client, raw):
    response = client.post(
        "activity/sms/", content=raw, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert "errors" in response.json()
