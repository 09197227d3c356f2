"""The reference server serves each reading of the open points of a create: what it stores
for a direction, an attachment url, a text and a negative send_in under every alternative."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from .conftest import LOCAL, REMOTE


def create(client: httpx.Client, **fields: Any) -> dict[str, Any]:
    body = {"status": "draft", "local_phone": LOCAL, "remote_phone": REMOTE, "text": "hi"}
    response = client.post("activity/sms/", json={**body, **fields})
    assert response.status_code == 200, response.text
    return response.json()


def read(client: httpx.Client, sms: dict[str, Any]) -> dict[str, Any]:
    return client.get(f"activity/sms/{sms['id']}/").json()


# -- direction-override -------------------------------------------------------------------

CONTRADICTING = [("inbox", "outbound", "inbound"), ("sent", "inbound", "outbound")]


@pytest.mark.parametrize(("status", "given", "implied"), CONTRADICTING)
def test_direction_kept_stores_a_contradicting_direction_as_given(serve, status, given, implied):
    client, _ = serve("direction-override", "kept")
    sms = create(client, status=status, direction=given)
    assert sms["direction"] == read(client, sms)["direction"] == given != implied


@pytest.mark.parametrize(("status", "given", "implied"), CONTRADICTING)
def test_direction_status_decides_stores_what_the_status_implies(serve, status, given, implied):
    client, _ = serve("direction-override", "status-decides")
    sms = create(client, status=status, direction=given)
    assert sms["direction"] == read(client, sms)["direction"] == implied


@pytest.mark.parametrize(("status", "given", "implied"), CONTRADICTING)
def test_direction_reject_refuses_a_contradicting_direction_naming_it(
    serve, status, given, implied
):
    """Audit C16: rule 6 names the direction only when it is omitted; a server may refuse a
    pair that contradicts itself."""
    client, _ = serve("direction-override", "reject")
    body = {"status": status, "local_phone": LOCAL, "remote_phone": REMOTE, "text": "hi"}
    response = client.post("activity/sms/", json={**body, "direction": given})
    assert response.status_code == 400
    assert "direction" in response.json()["field-errors"]


@pytest.mark.parametrize("alternative", ["kept", "status-decides", "reject"])
@pytest.mark.parametrize(
    ("status", "direction"),
    [("inbox", "inbound"), ("sent", "outbound"), ("draft", "outbound"), ("inbox", None)],
)
def test_a_direction_that_agrees_with_the_status_or_none_reads_the_same_either_way(
    serve, alternative, status, direction
):
    client, _ = serve("direction-override", alternative)
    sms = create(client, status=status, direction=direction)
    assert sms["direction"] == ("inbound" if status == "inbox" else "outbound")


# -- attachment-url -----------------------------------------------------------------------

PDF = {
    "url": "https://example.com/media/a/a.pdf",
    "filename": "a.pdf",
    "content_type": "application/pdf",
}


def test_attachment_url_as_given_reads_back_the_url_the_request_gave(serve):
    client, _ = serve("attachment-url", "as-given")
    sms = create(client, attachments=[PDF])
    assert [item["url"] for item in read(client, sms)["attachments"]] == [PDF["url"]]


def test_attachment_url_rehosted_answers_the_servers_own_media_url_and_keeps_the_rest(serve):
    client, _ = serve("attachment-url", "rehosted")
    sms = create(client, attachments=[PDF])
    (item,) = read(client, sms)["attachments"]
    assert item["url"] == f"https://app.close.com/go/sms/{sms['id']}/media/{item['media_id']}/"
    assert (item["filename"], item["content_type"]) == (PDF["filename"], PDF["content_type"])
    assert sms["attachments"] == [item]


def test_a_url_the_faulty_server_left_empty_stays_empty_when_rehosted():
    """attachment-url-missing is a bug under every reading: rehosting must not mend it."""
    from conformance.refserver import ReferenceServer

    server = ReferenceServer(
        readings={"attachment-url": "rehosted"}, faults=["attachment-url-missing"]
    )
    try:
        sms = create(server.client(), attachments=[PDF])
        assert [item["url"] for item in sms["attachments"]] == [None]
    finally:
        server.close()


def test_attachment_url_rehosted_also_rehosts_what_a_put_attaches(serve):
    client, _ = serve("attachment-url", "rehosted")
    sms = create(client)
    answer = client.put(f"activity/sms/{sms['id']}/", json={"attachments": [PDF, PDF]}).json()
    urls = [item["url"] for item in answer["attachments"]]
    assert all(url.startswith(f"https://app.close.com/go/sms/{sms['id']}/media/") for url in urls)
    assert len(set(urls)) == 2  # one per attachment


# -- text-normalisation -------------------------------------------------------------------

DECOMPOSED = "Cafe\u0301 \U0001f600 \U0001d518 \uff0c"  # e + combining acute, emoji, compat forms
COMPOSED = "Caf\u00e9 \U0001f600 \U0001d518 \uff0c"


def test_text_as_given_reads_back_the_code_points_written(serve):
    client, _ = serve("text-normalisation", "as-given")
    sms = create(client, text=DECOMPOSED)
    assert sms["text"] == read(client, sms)["text"] == DECOMPOSED


def test_text_nfc_reads_back_the_nfc_form_and_nothing_else_changes(serve):
    client, _ = serve("text-normalisation", "nfc")
    sms = create(client, text=DECOMPOSED)
    assert sms["text"] == read(client, sms)["text"] == COMPOSED
    edited = client.put(f"activity/sms/{sms['id']}/", json={"text": "a\u0308" * 200}).json()
    assert edited["text"] == read(client, sms)["text"] == "\u00e4" * 200


# -- send-in-negative ---------------------------------------------------------------------


def test_send_in_negative_reject_refuses_it_naming_send_in_on_create_and_put(serve):
    client, _ = serve("send-in-negative", "reject")
    response = client.post(
        "activity/sms/",
        json={"status": "outbox", "local_phone": LOCAL, "text": "hi", "send_in": -5},
    )
    assert response.status_code == 400 and "send_in" in response.json()["field-errors"]
    draft = create(client)
    put = client.put(f"activity/sms/{draft['id']}/", json={"status": "outbox", "send_in": -1})
    assert put.status_code == 400 and "send_in" in put.json()["field-errors"]


def test_send_in_negative_as_zero_sends_it_at_once_on_create_and_put(serve):
    client, _ = serve("send-in-negative", "as-zero")
    sms = create(client, status="outbox", send_in=-5)
    assert sms["status"] == "outbox"
    assert read(client, sms)["status"] == "sent"  # the sender's next run, with no time passed
    draft = create(client)
    put = client.put(f"activity/sms/{draft['id']}/", json={"status": "outbox", "send_in": -0.5})
    assert put.status_code == 200
    assert read(client, draft)["status"] == "sent"


@pytest.mark.parametrize("alternative", ["reject", "as-zero"])
def test_send_in_bounds_other_than_negative_are_the_same_under_either_reading(serve, alternative):
    client, clock = serve("send-in-negative", alternative)
    for refused in (60, 1e9, "ten", True, [-1]):
        body = {"status": "outbox", "local_phone": LOCAL, "text": "hi", "send_in": refused}
        assert client.post("activity/sms/", json=body).status_code == 400, refused
    sms = create(client, status="outbox", send_in=59)
    clock.advance(58)
    assert read(client, sms)["status"] == "outbox"


# -- send-in-numeric-string ---------------------------------------------------------------


def test_send_in_numeric_string_reject_refuses_a_string_that_spells_seconds(serve):
    client, _ = serve("send-in-numeric-string", "reject")
    for spelled in ("5", "30.0", "75"):
        body = {"status": "outbox", "local_phone": LOCAL, "text": "hi", "send_in": spelled}
        response = client.post("activity/sms/", json=body)
        assert response.status_code == 400 and "send_in" in response.json()["field-errors"]


def test_send_in_numeric_string_as_seconds_delays_by_the_seconds_it_spells(serve):
    client, clock = serve("send-in-numeric-string", "as-seconds")
    sms = create(client, status="outbox", send_in="30")
    clock.advance(29)
    assert read(client, sms)["status"] == "outbox"
    clock.advance(2)
    assert read(client, sms)["status"] == "sent"


@pytest.mark.parametrize("alternative", ["reject", "as-seconds"])
def test_send_in_spelling_60_or_more_or_no_number_is_refused_under_either_reading(
    serve, alternative
):
    client, _ = serve("send-in-numeric-string", alternative)
    for refused in ("60", "75.5", "1e3", "ten", " 5", "nan", "inf"):
        body = {"status": "outbox", "local_phone": LOCAL, "text": "hi", "send_in": refused}
        assert client.post("activity/sms/", json=body).status_code == 400, refused
