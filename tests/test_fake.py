"""The reference server as a fake for users' own code (conformance.fake): code written
against the public API, with httpx or the official closeio client, runs unchanged."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
import requests
from closeio_api import Client

from conformance.fake import CloseSmsFake
from conformance.refserver.faults import FAULTS

RECIPIENT = "+15555550123"


# -- "the user's code": written against the documented API, knowing nothing of the fake --


def schedule_sms(client: httpx.Client, lead: dict, local_phone: str, at: str) -> dict:
    answer = client.post(
        "activity/sms/",
        json={
            "lead_id": lead["id"],
            "contact_id": lead["contacts"][0]["id"],
            "local_phone": local_phone,
            "remote_phone": RECIPIENT,
            "text": "See you tomorrow",
            "status": "scheduled",
            "date_scheduled": at,
        },
    )
    answer.raise_for_status()
    return answer.json()


def cancel_sms(client: httpx.Client, sms_id: str) -> dict:
    answer = client.put(f"activity/sms/{sms_id}/", json={"status": "draft"})
    answer.raise_for_status()
    return answer.json()


def status_of(client: httpx.Client, sms_id: str) -> str:
    answer = client.get(f"activity/sms/{sms_id}/")
    answer.raise_for_status()
    return answer.json()["status"]


def get_with_retry(
    client: httpx.Client, path: str, sleep: Callable[[float], None] = time.sleep
) -> httpx.Response:
    """Retry a 429 after the server's Retry-After, five times at most."""
    for _ in range(5):
        answer = client.get(path)
        if answer.status_code != 429:
            return answer
        sleep(float(answer.headers["Retry-After"]))
    answer.raise_for_status()
    return answer


# -- helpers ----------------------------------------------------------------------------


def _lead(fake: CloseSmsFake) -> dict[str, Any]:
    return fake.add_lead("Acme", contacts=[{"name": "Jane Doe", "phones": [{"phone": RECIPIENT}]}])


def _in(fake: CloseSmsFake, seconds: float) -> str:
    return (fake.clock.now() + timedelta(seconds=seconds)).isoformat()


def _client(fake: CloseSmsFake, base_url: str | None = None) -> httpx.Client:
    return httpx.Client(base_url=base_url or fake.base_url, auth=(fake.api_key, ""))


# -- httpx ------------------------------------------------------------------------------


def test_an_sms_scheduled_with_httpx_is_sent_when_the_fake_clock_reaches_its_time():
    with CloseSmsFake() as fake, _client(fake) as client:
        sms = schedule_sms(client, _lead(fake), fake.internal_numbers[0], _in(fake, 3600))
        fake.clock.advance(3599)
        assert status_of(client, sms["id"]) == "scheduled"
        assert fake.sent() == []
        fake.clock.advance(1)
        assert [s["id"] for s in fake.sent()] == [sms["id"]]
        assert fake.sent()[0]["date_sent"] == sms["date_scheduled"]
        assert status_of(client, sms["id"]) == "sent"


def test_an_sms_cancelled_with_httpx_before_its_time_is_never_sent():
    with CloseSmsFake() as fake, _client(fake) as client:
        sms = schedule_sms(client, _lead(fake), fake.internal_numbers[0], _in(fake, 3600))
        fake.clock.advance(60)
        assert cancel_sms(client, sms["id"])["status"] == "draft"
        fake.clock.advance(7200)
        assert fake.sent() == []
        assert status_of(client, sms["id"]) == "draft"
        assert [s["status"] for s in fake.sms()] == ["draft"]


def test_the_clock_advancing_sends_due_sms_without_any_request():
    with CloseSmsFake() as fake, _client(fake) as client:
        sms = schedule_sms(client, _lead(fake), fake.internal_numbers[0], _in(fake, 10))
        fake.clock.advance(10)
        stored = fake.server.storage.get("sms", fake.organization_id, sms["id"])
        assert stored is not None and stored["status"] == "sent"


def test_async_httpx_code_is_served_by_the_fake_too():
    async def my_async_code(fake: CloseSmsFake) -> tuple[int, str]:
        headers = {"Authorization": f"Bearer {fake.oauth_token}"}
        async with httpx.AsyncClient(base_url=fake.base_url, headers=headers) as client:
            answer = await client.get("me/")
            return answer.status_code, answer.json()["id"]

    with CloseSmsFake() as fake:
        assert asyncio.run(my_async_code(fake)) == (200, fake.user_id)


def test_the_fake_takes_the_api_key_and_the_oauth_token_and_refuses_a_wrong_key():
    with CloseSmsFake() as fake:
        assert httpx.get(fake.base_url + "me/", auth=(fake.api_key, "")).status_code == 200
        bearer = {"Authorization": f"Bearer {fake.oauth_token}"}
        assert httpx.get(fake.base_url + "me/", headers=bearer).status_code == 200
        assert httpx.get(fake.base_url + "me/", auth=("not-a-key", "")).status_code == 401
        assert httpx.get(fake.base_url + "me/").status_code == 401


def test_a_base_url_the_user_names_is_served_and_the_default_one_then_is_not():
    with CloseSmsFake(base_urls=["https://close.test/proxy/api/v1"]) as fake:
        assert fake.base_url == "https://close.test/proxy/api/v1/"
        with _client(fake) as client:
            assert client.get("me/").json()["id"] == fake.user_id
        with pytest.raises(AssertionError, match="not mocked"):
            httpx.get("https://api.close.com/api/v1/me/", auth=(fake.api_key, ""))


def test_a_base_url_not_ending_in_api_v1_is_refused():
    with pytest.raises(ValueError, match="/api/v1/"):
        CloseSmsFake(base_urls=["https://close.test/api/"])


def test_a_template_added_to_the_fake_fills_in_the_contact_name():
    with CloseSmsFake() as fake, _client(fake) as client:
        lead = _lead(fake)
        template = fake.add_template("hello", "Hi {{ contact.first_name }}!")
        answer = client.post(
            "activity/sms/",
            json={
                "lead_id": lead["id"],
                "contact_id": lead["contacts"][0]["id"],
                "local_phone": fake.internal_numbers[0],
                "remote_phone": RECIPIENT,
                "template_id": template["id"],
                "status": "outbox",
            },
        )
        assert answer.status_code == 200, answer.text
        fake.clock.advance(60)
        assert [s["text"] for s in fake.sent()] == ["Hi Jane!"]


def test_seeding_with_a_bad_value_fails_naming_the_field():
    with CloseSmsFake() as fake, pytest.raises(ValueError, match="contacts"):
        fake.add_lead("Acme", contacts=["not an object"])  # type: ignore[list-item]


# -- the official closeio client (requests) -------------------------------------------------


def test_closeio_client_code_schedules_sees_it_sent_and_a_cancelled_one_is_not_sent():
    with CloseSmsFake() as fake:
        api = Client(fake.api_key)  # the user's code builds its own client and session
        lead = _lead(fake)
        body = {
            "lead_id": lead["id"],
            "contact_id": lead["contacts"][0]["id"],
            "local_phone": fake.internal_numbers[0],
            "remote_phone": RECIPIENT,
            "text": "Reminder",
            "status": "scheduled",
        }
        kept = api.post("activity/sms", data={**body, "date_scheduled": _in(fake, 600)})
        cancelled = api.post("activity/sms", data={**body, "date_scheduled": _in(fake, 600)})
        api.put(f"activity/sms/{cancelled['id']}", data={"status": "draft"})
        fake.clock.advance(600)
        assert api.get(f"activity/sms/{kept['id']}")["status"] == "sent"
        assert api.get(f"activity/sms/{cancelled['id']}")["status"] == "draft"
        assert [s["id"] for s in fake.sent()] == [kept["id"]]


def test_requests_to_other_urls_and_after_the_fake_stops_are_not_intercepted():
    session = requests.Session()
    with CloseSmsFake() as fake:
        assert type(session.get_adapter(fake.base_url)).__name__ == "FakeRequestsAdapter"
        assert isinstance(
            session.get_adapter("https://example.com/"), requests.adapters.HTTPAdapter
        )
    assert isinstance(session.get_adapter(fake.base_url), requests.adapters.HTTPAdapter)


# -- knobs ------------------------------------------------------------------------------


def test_httpx_code_that_honours_retry_after_gets_through_the_rate_limit():
    slept: list[float] = []
    with CloseSmsFake(rate_limit=2) as fake, _client(fake) as client:

        def sleep(seconds: float) -> None:
            slept.append(seconds)
            fake.clock.sleep(seconds)

        refused = [client.get("me/") for _ in range(3)][-1]
        assert refused.status_code == 429
        assert "limit=2" in refused.headers["RateLimit"] and refused.headers["Retry-After"]
        answers = [get_with_retry(client, "activity/sms/", sleep) for _ in range(4)]
        assert [a.status_code for a in answers] == [200] * 4
        assert slept  # it met at least one more 429 and waited on the fake's clock


def test_the_closeio_client_waits_out_a_429_on_the_fake_clock(monkeypatch: pytest.MonkeyPatch):
    with CloseSmsFake(rate_limit=1) as fake:
        start = fake.clock.now()
        monkeypatch.setattr("closeio_api.time.sleep", fake.clock.sleep)
        api = Client(fake.api_key)
        assert [api.get("me")["id"] for _ in range(3)] == [fake.user_id] * 3
        assert fake.clock.now() > start  # the client slept on 429, the fake's clock moved


def test_transient_noise_answers_sms_requests_with_503_or_504_and_leaves_others_alone():
    with CloseSmsFake(transient_share=1.0) as fake, _client(fake) as client:
        assert {client.get("activity/sms/").status_code for _ in range(20)} == {503, 504}
        assert client.get("me/").status_code == 200


def test_latency_noise_slows_every_answer():
    with CloseSmsFake(latency=0.05) as fake, _client(fake) as client:
        began = time.monotonic()
        client.get("me/")
        assert time.monotonic() - began >= 0.05


def test_a_reading_changes_what_the_fake_answers():
    with CloseSmsFake(readings={"not-found-body": "html"}) as fake, _client(fake) as client:
        answer = client.get("activity/sms/acti_unknown/")
        assert answer.status_code == 404
        assert answer.headers["content-type"].startswith("text/html")


def test_a_fault_reaches_the_users_code():
    with CloseSmsFake(faults=["cancelled-still-sent"]) as fake, _client(fake) as client:
        sms = schedule_sms(client, _lead(fake), fake.internal_numbers[0], _in(fake, 3600))
        cancel_sms(client, sms["id"])
        fake.clock.advance(3600)
        assert [s["id"] for s in fake.sent()] == [sms["id"]]  # the bug: it went out anyway


def test_an_unknown_reading_fails_naming_the_known_points():
    with pytest.raises(ValueError, match="known: .*not-found-body"):
        CloseSmsFake(readings={"no-such-point": "x"})
    with pytest.raises(ValueError, match="its readings: .*json-error"):
        CloseSmsFake(readings={"not-found-body": "no-such-reading"})


def test_an_unknown_fault_fails_naming_the_known_ones():
    with pytest.raises(ValueError) as raised:
        CloseSmsFake(faults=["no-such-fault"])
    assert "no-such-fault" in str(raised.value)
    assert "cancelled-still-sent" in str(raised.value)
    assert len(FAULTS) > 1


# -- isolation ----------------------------------------------------------------------------


def test_two_fakes_one_after_the_other_do_not_share_state():
    with CloseSmsFake() as first, _client(first) as client:
        schedule_sms(client, _lead(first), first.internal_numbers[0], _in(first, 60))
        assert len(first.sms()) == 1
    with CloseSmsFake() as second, _client(second) as client:
        assert client.get("activity/sms/").json()["data"] == []
        assert second.sms() == []


def test_two_fakes_at_once_on_different_base_urls_do_not_share_state():
    with (
        CloseSmsFake(base_urls=["https://one.test/api/v1/"]) as one,
        CloseSmsFake(base_urls=["https://two.test/api/v1/"]) as two,
        _client(one) as client_one,
        _client(two) as client_two,
    ):
        schedule_sms(client_one, _lead(one), one.internal_numbers[0], _in(one, 60))
        two.clock.advance(3600)
        assert len(client_one.get("activity/sms/").json()["data"]) == 1
        assert client_two.get("activity/sms/").json()["data"] == []
        assert one.clock.now() != two.clock.now()


def test_the_second_organisation_does_not_see_the_first_ones_sms():
    with CloseSmsFake() as fake, _client(fake) as client:
        sms = schedule_sms(client, _lead(fake), fake.internal_numbers[0], _in(fake, 60))
        other = httpx.Client(base_url=fake.base_url, auth=(fake.other_api_key, ""))
        assert other.get(f"activity/sms/{sms['id']}/").status_code == 404


def test_code_sending_from_several_threads_at_once_is_served():
    from concurrent.futures import ThreadPoolExecutor

    with CloseSmsFake() as fake:

        def call(_: int) -> int:
            return httpx.get(fake.base_url + "me/", auth=(fake.api_key, "")).status_code

        with ThreadPoolExecutor(max_workers=4) as pool:
            assert set(pool.map(call, range(40))) == {200}


def test_a_sync_client_called_from_a_worker_thread_of_async_code_is_served():
    async def my_async_code(fake: CloseSmsFake) -> int:
        def sync_call() -> int:
            return httpx.get(fake.base_url + "me/", auth=(fake.api_key, "")).status_code

        return await asyncio.to_thread(sync_call)

    with CloseSmsFake() as fake:
        assert asyncio.run(my_async_code(fake)) == 200
