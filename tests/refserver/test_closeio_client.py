"""End to end over real HTTP: ``serve(port=0)`` on a thread, driven by the official client."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from closeio_api import API, APIError, ValidationError

from conformance.refserver.seed import ORGS
from conformance.refserver.serve import serve

pytestmark = pytest.mark.slow

LOCAL = ORGS[0].internal_numbers[0]


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    lines: list[str] = []
    stop = threading.Event()
    thread = threading.Thread(
        target=serve, kwargs={"port": 0, "out": lines.append, "stop": stop}, daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 10
    while not lines and time.monotonic() < deadline:
        time.sleep(0.01)
    assert lines, "serve() printed no base URL"
    url = lines[0].split(": ", 1)[1]
    assert url.startswith("http://127.0.0.1:") and url.endswith("/api/v1")
    assert any("ref-key-org-a" in line and "ref-oauth-org-a" in line for line in lines)
    yield url
    stop.set()
    thread.join(10)
    assert not thread.is_alive(), "serve() did not shut down"


@pytest.fixture
def api(base_url: str) -> API:
    return API(base_url + "/", api_key=ORGS[0].api_key, max_retries=1)


def test_create_get_update_list_delete(api: API):
    lead = api.post("lead", data={"name": "Client Lead", "contacts": [{"name": "Ada Lovelace"}]})
    sms = api.post(
        "activity/sms",
        data={"status": "draft", "local_phone": LOCAL, "remote_phone": "+16505550100",
              "text": "hello 😀", "lead_id": lead["id"]},
    )  # fmt: skip
    assert sms["status"] == "draft"
    assert api.get("activity/sms/" + sms["id"]) == sms
    updated = api.put("activity/sms/" + sms["id"], data={"text": "edited"})
    assert (updated["text"], updated["remote_phone"]) == ("edited", "+16505550100")
    listed = api.get("activity/sms", params={"lead_id": lead["id"]})
    assert [item["id"] for item in listed["data"]] == [sms["id"]]
    assert listed["has_more"] is False
    assert api.delete("activity/sms/" + sms["id"]) == {}
    with pytest.raises(APIError):
        api.get("activity/sms/" + sms["id"])
    api.delete("lead/" + lead["id"])


def test_cancel_a_scheduled_sms(api: API):
    sms = api.post(
        "activity/sms",
        data={"status": "scheduled", "local_phone": LOCAL, "text": "later",
              "date_scheduled": "2099-01-01T00:00:00"},
    )  # fmt: skip
    assert sms["date_scheduled"].startswith("2099-01-01T")
    cancelled = api.put("activity/sms/" + sms["id"], data={"status": "draft"})
    assert cancelled["status"] == "draft"
    api.delete("activity/sms/" + sms["id"])


def test_an_outbox_sms_is_sent_in_real_time(api: API):
    sms = api.post("activity/sms", data={"status": "outbox", "local_phone": LOCAL, "send_in": 1})
    deadline = time.monotonic() + 5
    while api.get("activity/sms/" + sms["id"])["status"] != "sent":
        assert time.monotonic() < deadline, "the background sender never sent it"
        time.sleep(0.1)


def test_a_scheduled_sms_without_date_is_a_validation_error(api: API):
    with pytest.raises(ValidationError) as caught:
        api.post("activity/sms", data={"status": "scheduled", "local_phone": LOCAL})
    assert "date_scheduled" in caught.value.field_errors


def test_wrong_api_key_is_an_api_error(base_url: str):
    with pytest.raises(APIError):
        API(base_url + "/", api_key="nope", max_retries=1).get("me")
