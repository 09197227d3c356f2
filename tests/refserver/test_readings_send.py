"""The reference server serves each reading of four open points of sending and editing: a
scheduled SMS whose date_scheduled has passed, a send_in with a fraction of a second, a create
with both a template and a text, and a PUT that cancels and edits at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from conformance.clock import VirtualClock

from .conftest import LOCAL, REMOTE

BODY = {"local_phone": LOCAL, "remote_phone": REMOTE, "text": "hi"}


def post(client: httpx.Client, **fields: Any) -> httpx.Response:
    return client.post("activity/sms/", json={**BODY, **fields})


def created(client: httpx.Client, **fields: Any) -> dict[str, Any]:
    response = post(client, **fields)
    assert response.status_code == 200, response.text
    return response.json()


def read(client: httpx.Client, sms: dict[str, Any]) -> dict[str, Any]:
    return client.get(f"activity/sms/{sms['id']}/").json()


def put(client: httpx.Client, sms: dict[str, Any], **fields: Any) -> httpx.Response:
    return client.put(f"activity/sms/{sms['id']}/", json=fields)


def ago(clock: VirtualClock, seconds: float) -> str:
    return (clock.now() - timedelta(seconds=seconds)).astimezone(UTC).isoformat()


def ahead(clock: VirtualClock, seconds: float) -> str:
    return (clock.now() + timedelta(seconds=seconds)).astimezone(UTC).isoformat()


# -- past-date-scheduled ------------------------------------------------------------------


def test_past_date_accept_takes_a_past_date_scheduled_and_sends_it_at_once(serve):
    client, clock = serve("past-date-scheduled", "accept")
    sms = created(client, status="scheduled", date_scheduled=ago(clock, 3600))
    assert sms["status"] == "scheduled"
    assert read(client, sms)["status"] == "sent"  # the sender's next run, no time passed
    draft = created(client, status="draft")
    assert put(client, draft, status="scheduled", date_scheduled=ago(clock, 60)).status_code == 200
    assert read(client, draft)["status"] == "sent"


def test_past_date_reject_refuses_a_past_date_scheduled_naming_it_on_create_and_put(serve):
    client, clock = serve("past-date-scheduled", "reject")
    response = post(client, status="scheduled", date_scheduled=ago(clock, 3600))
    assert response.status_code == 400 and "date_scheduled" in response.json()["field-errors"]
    draft = created(client, status="draft")
    refused = put(client, draft, status="scheduled", date_scheduled=ago(clock, 60))
    assert refused.status_code == 400 and "date_scheduled" in refused.json()["field-errors"]
    assert read(client, draft)["status"] == "draft"


@pytest.mark.parametrize("alternative", ["accept", "reject"])
def test_a_future_date_scheduled_and_a_past_one_on_a_draft_are_the_same_under_either_reading(
    serve, alternative
):
    client, clock = serve("past-date-scheduled", alternative)
    sms = created(client, status="scheduled", date_scheduled=ahead(clock, 60))
    clock.advance(59)
    assert read(client, sms)["status"] == "scheduled"
    assert created(client, status="draft", date_scheduled=ago(clock, 3600))["status"] == "draft"


# -- send-in-fraction ---------------------------------------------------------------------


def sent_after(client: httpx.Client, sms: dict[str, Any]) -> float:
    shown = read(client, sms)
    assert shown["status"] == "sent", shown
    sent = datetime.fromisoformat(shown["date_sent"])
    return (sent - datetime.fromisoformat(shown["date_created"])).total_seconds()


def test_send_in_fraction_as_given_sends_after_the_seconds_given(serve):
    client, clock = serve("send-in-fraction", "as-given")
    sms = created(client, status="outbox", send_in=5.5)
    clock.advance(5.2)
    assert read(client, sms)["status"] == "outbox"
    clock.advance(1)
    assert sent_after(client, sms) == 5.5


def test_send_in_fraction_truncated_sends_after_its_whole_seconds(serve):
    client, clock = serve("send-in-fraction", "truncated")
    sms = created(client, status="outbox", send_in=5.5)
    clock.advance(4.9)
    assert read(client, sms)["status"] == "outbox"
    clock.advance(0.2)
    assert sent_after(client, sms) == 5.0


def test_send_in_fraction_reject_refuses_it_naming_send_in_on_create_and_put(serve):
    client, _ = serve("send-in-fraction", "reject")
    response = post(client, status="outbox", send_in=5.5)
    assert response.status_code == 400 and "send_in" in response.json()["field-errors"]
    draft = created(client, status="draft")
    refused = put(client, draft, status="outbox", send_in=0.25)
    assert refused.status_code == 400 and "send_in" in refused.json()["field-errors"]


@pytest.mark.parametrize("alternative", ["as-given", "truncated", "reject"])
def test_whole_seconds_and_the_bounds_are_the_same_under_every_fraction_reading(serve, alternative):
    client, clock = serve("send-in-fraction", alternative)
    for refused in (60, 60.5, -0.5, "5.5"):
        assert post(client, status="outbox", send_in=refused).status_code == 400, refused
    sms = created(client, status="outbox", send_in=5.0)
    clock.advance(6)
    assert sent_after(client, sms) == 5.0


# -- template-and-text --------------------------------------------------------------------


def template(client: httpx.Client) -> str:
    made = client.post("sms_template/", json={"name": "t", "text": "Hello from a template"})
    assert made.status_code == 201
    return made.json()["id"]


def test_template_wins_renders_the_template_over_the_text(serve):
    client, _ = serve("template-and-text", "template-wins")
    sms = created(client, status="draft", template_id=template(client), text="given")
    assert sms["text"] == read(client, sms)["text"] == "Hello from a template"


def test_text_wins_keeps_the_text_given_and_the_template_id(serve):
    client, _ = serve("template-and-text", "text-wins")
    template_id = template(client)
    sms = created(client, status="draft", template_id=template_id, text="given")
    assert sms["text"] == read(client, sms)["text"] == "given"
    assert sms["template_id"] == template_id


def test_template_and_text_reject_refuses_the_pair_naming_template_id(serve):
    client, _ = serve("template-and-text", "reject")
    response = post(client, status="draft", template_id=template(client), text="given")
    assert response.status_code == 400 and "template_id" in response.json()["field-errors"]


@pytest.mark.parametrize("alternative", ["template-wins", "text-wins", "reject"])
def test_a_template_alone_renders_under_every_template_and_text_reading(serve, alternative):
    client, _ = serve("template-and-text", alternative)
    sms = created(client, status="draft", template_id=template(client), text=None)
    assert sms["text"] == "Hello from a template"


# -- cancel-and-edit ----------------------------------------------------------------------


def pending(client: httpx.Client, clock: VirtualClock, status: str) -> dict[str, Any]:
    when = {"send_in": 30} if status == "outbox" else {"date_scheduled": ahead(clock, 600)}
    return created(client, status=status, text="before", **when)


@pytest.mark.parametrize("status", ["scheduled", "outbox"])
def test_cancel_and_edit_both_cancels_and_stores_the_edit(serve, status):
    client, clock = serve("cancel-and-edit", "both")
    sms = pending(client, clock, status)
    answer = put(client, sms, status="draft", text="after")
    assert answer.status_code == 200
    assert (answer.json()["status"], answer.json()["text"]) == ("draft", "after")
    clock.advance(3600)
    assert (read(client, sms)["status"], read(client, sms)["text"]) == ("draft", "after")


@pytest.mark.parametrize("status", ["scheduled", "outbox"])
def test_cancel_only_cancels_and_ignores_the_edit(serve, status):
    client, clock = serve("cancel-and-edit", "cancel-only")
    sms = pending(client, clock, status)
    answer = put(client, sms, status="draft", text="after")
    assert answer.status_code == 200
    assert (answer.json()["status"], answer.json()["text"]) == ("draft", "before")
    clock.advance(3600)
    assert (read(client, sms)["status"], read(client, sms)["text"]) == ("draft", "before")


@pytest.mark.parametrize("status", ["scheduled", "outbox"])
def test_cancel_and_edit_reject_refuses_naming_the_edit_and_leaves_the_sms_pending(serve, status):
    client, clock = serve("cancel-and-edit", "reject")
    sms = pending(client, clock, status)
    answer = put(client, sms, status="draft", text="after")
    assert answer.status_code == 400 and "text" in answer.json()["field-errors"]
    assert (read(client, sms)["status"], read(client, sms)["text"]) == (status, "before")


@pytest.mark.parametrize("alternative", ["both", "cancel-only", "reject"])
def test_a_plain_cancel_is_the_same_under_every_cancel_and_edit_reading(serve, alternative):
    client, clock = serve("cancel-and-edit", alternative)
    sms = pending(client, clock, "scheduled")
    answer = put(client, sms, status="draft")
    assert answer.status_code == 200 and answer.json()["status"] == "draft"
    clock.advance(3600)
    assert read(client, sms)["status"] == "draft"
