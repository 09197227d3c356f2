"""Protocol readings: the reference server serves each documented-compatible reading of the
open points on error bodies, list limits and the sending number, and only where each lives."""

from __future__ import annotations

import httpx
import pytest

from .conftest import LOCAL, REMOTE

UNKNOWN_ID = "acti_0000000000000000000000"


@pytest.fixture
def serving(serve):
    """``serving(point, alternative)`` gives a client of a fresh server taking that reading."""
    return lambda point, alternative: serve(point, alternative)[0]


def media_type(response: httpx.Response) -> str:
    return response.headers["content-type"].split(";")[0].strip()


# -- not-found-body ---------------------------------------------------------------------------


def test_not_found_json_error_answers_an_unknown_sms_with_a_json_error(serving):
    client = serving("not-found-body", "json-error")
    response = client.get(f"activity/sms/{UNKNOWN_ID}/")
    assert response.status_code == 404
    assert media_type(response) == "application/json"
    assert response.json() == {"error": "Not found"}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"activity/sms/{UNKNOWN_ID}/"),
        ("PUT", f"activity/sms/{UNKNOWN_ID}/"),
        ("DELETE", f"activity/sms/{UNKNOWN_ID}/"),
        ("GET", "no/such/path/"),
    ],
)
def test_not_found_html_answers_every_404_with_an_html_page(serving, method, path):
    client = serving("not-found-body", "html")
    response = client.request(method, path, json={"text": "x"} if method == "PUT" else None)
    assert response.status_code == 404
    assert media_type(response) == "text/html"
    assert "404" in response.text


def test_not_found_html_leaves_every_other_answer_json(serving):
    client = serving("not-found-body", "html")
    created = client.post(
        "activity/sms/", json={"status": "draft", "local_phone": LOCAL, "remote_phone": REMOTE}
    )
    refused = client.post("activity/sms/", json={"status": "nope", "local_phone": LOCAL})
    not_allowed = client.patch(f"activity/sms/{created.json()['id']}/", json={"text": "x"})
    assert (created.status_code, media_type(created)) == (200, "application/json")
    assert (refused.status_code, media_type(refused)) == (400, "application/json")
    assert (not_allowed.status_code, media_type(not_allowed)) == (405, "application/json")


# -- error-body-shape -------------------------------------------------------------------------

DRAFT = {"status": "draft", "local_phone": LOCAL, "remote_phone": REMOTE, "text": "hi"}
# Requests a documented rule refuses although every value in them is well-formed.
REFUSALS = {
    "scheduled without date_scheduled": ("POST", "activity/sms/", {**DRAFT, "status": "scheduled"}),
    "an external local_phone": ("POST", "activity/sms/", {**DRAFT, "local_phone": "+14151231230"}),
    "send_in of 60": ("POST", "activity/sms/", {**DRAFT, "status": "outbox", "send_in": 60}),
    "_limit over the maximum": ("GET", "activity/sms/?_limit=101", None),
}
# Requests with a malformed value.
MALFORMED = {
    "a status outside the enum": ("POST", "activity/sms/", {**DRAFT, "status": "nope"}),
    "text of a wrong type": ("POST", "activity/sms/", {**DRAFT, "text": 5}),
    "a malformed remote_phone": ("POST", "activity/sms/", {**DRAFT, "remote_phone": "call me"}),
    "_limit that is no number": ("GET", "activity/sms/?_limit=abc", None),
}


def answer_to(client: httpx.Client, request: tuple) -> httpx.Response:
    method, path, body = request
    response = client.request(method, path, json=body)
    assert response.status_code == 400, response.text
    assert media_type(response) == "application/json"
    return response


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_error_message_answers_a_refusal_by_a_documented_rule_with_a_message(serving, case):
    client = serving("error-body-shape", "error-message")
    body = answer_to(client, REFUSALS[case]).json()
    assert list(body) == ["error"] and isinstance(body["error"], str) and body["error"]


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_field_errors_answers_a_refusal_naming_the_field(serving, case):
    client = serving("error-body-shape", "field-errors")
    body = answer_to(client, REFUSALS[case]).json()
    assert body["errors"] == [] and len(body["field-errors"]) == 1


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_error_message_still_answers_a_malformed_value_with_field_errors(serving, case):
    client = serving("error-body-shape", "error-message")
    body = answer_to(client, MALFORMED[case]).json()
    assert "error" not in body and len(body["field-errors"]) == 1


def test_error_message_names_the_field_and_the_rule_in_its_message(serving):
    client = serving("error-body-shape", "error-message")
    body = answer_to(client, REFUSALS["scheduled without date_scheduled"]).json()
    assert body == {"error": "date_scheduled: Required when status is scheduled."}


def test_error_message_answers_an_edit_of_a_sent_sms_with_a_message(serving):
    client = serving("error-body-shape", "error-message")
    sent = client.post("activity/sms/", json={**DRAFT, "status": "sent"}).json()
    response = client.put(f"activity/sms/{sent['id']}/", json={"text": "rewritten"})
    assert response.status_code == 400
    assert response.json() == {"error": "text: Only drafts can be modified; this SMS is sent."}


def test_a_refusal_beside_a_malformed_value_keeps_the_field_errors(serving):
    client = serving("error-body-shape", "error-message")
    body = {**DRAFT, "status": "scheduled", "remote_phone": "call me"}
    answer = answer_to(client, ("POST", "activity/sms/", body)).json()
    assert set(answer["field-errors"]) == {"date_scheduled", "remote_phone"}


# -- limit-over-maximum -----------------------------------------------------------------------


def drafts(client: httpx.Client, count: int) -> None:
    for index in range(count):
        response = client.post("activity/sms/", json={**DRAFT, "text": f"draft {index}"})
        assert response.status_code == 200, response.text


def test_limit_reject_refuses_a_limit_over_the_maximum_naming_it(serving):
    client = serving("limit-over-maximum", "reject")
    response = client.get("activity/sms/", params={"_limit": 101})
    assert response.status_code == 400
    assert list(response.json()["field-errors"]) == ["_limit"]
    assert client.get("activity/sms/", params={"_limit": 100}).status_code == 200


def test_limit_clamp_cuts_the_page_to_the_maximum_and_says_more_follow(serving):
    client = serving("limit-over-maximum", "clamp")
    drafts(client, 102)
    page = client.get("activity/sms/", params={"_limit": 250})
    assert page.status_code == 200
    assert (len(page.json()["data"]), page.json()["has_more"]) == (100, True)
    rest = client.get("activity/sms/", params={"_limit": 250, "_skip": 100}).json()
    assert (len(rest["data"]), rest["has_more"]) == (2, False)


def test_limit_clamp_serves_a_small_result_whole(serving):
    client = serving("limit-over-maximum", "clamp")
    drafts(client, 3)
    page = client.get("activity/sms/", params={"_limit": 1000}).json()
    assert (len(page["data"]), page["has_more"]) == (3, False)


def test_limit_clamp_still_refuses_a_limit_that_is_no_number(serving):
    client = serving("limit-over-maximum", "clamp")
    response = client.get("activity/sms/", params={"_limit": "many"})
    assert response.status_code == 400 and "_limit" in response.json()["field-errors"]


# -- local-phone-on-sends ---------------------------------------------------------------------

INTERNAL = (LOCAL, "+16503335551")  # the first organisation's internal numbers
EXTERNAL = "+14151231230"  # its external number
FUTURE = "2026-01-02T12:00:00+00:00"
SENDS = {
    "outbox": {"status": "outbox"},
    "scheduled": {"status": "scheduled", "date_scheduled": FUTURE},
}


@pytest.mark.parametrize("status", sorted(SENDS))
def test_local_phone_required_refuses_a_send_naming_no_number(serving, status):
    client = serving("local-phone-on-sends", "required")
    response = client.post(
        "activity/sms/", json={"remote_phone": REMOTE, "text": "hi", **SENDS[status]}
    )
    assert response.status_code == 400
    assert list(response.json()["field-errors"]) == ["local_phone"]


@pytest.mark.parametrize("status", sorted(SENDS))
def test_local_phone_auto_lets_caller_id_pick_an_internal_number(serving, status):
    client = serving("local-phone-on-sends", "auto")
    response = client.post(
        "activity/sms/", json={"remote_phone": REMOTE, "text": "hi", **SENDS[status]}
    )
    assert response.status_code == 200, response.text
    sms = response.json()
    assert sms["status"] == status and sms["local_phone"] in INTERNAL
    assert (sms["caller_id_mode"], sms["caller_id_reason"]) == ("auto", "fallback")
    assert sms["local_phone_formatted"] and sms["local_country_iso"] == "US"
    assert client.get(f"activity/sms/{sms['id']}/").json()["local_phone"] == sms["local_phone"]


def test_local_phone_auto_sends_from_the_number_caller_id_picked(serving):
    client = serving("local-phone-on-sends", "auto")
    created = client.post(
        "activity/sms/", json={"status": "outbox", "remote_phone": REMOTE, "text": "hi"}
    )
    sms = client.get(f"activity/sms/{created.json()['id']}/").json()
    assert (sms["status"], sms["local_phone"]) == ("sent", created.json()["local_phone"])


def test_local_phone_auto_keeps_a_number_given_and_refuses_one_that_is_not_internal(serving):
    client = serving("local-phone-on-sends", "auto")
    given = client.post(
        "activity/sms/", json={**DRAFT, "status": "outbox", "local_phone": INTERNAL[1]}
    )
    assert (given.json()["local_phone"], given.json()["caller_id_mode"]) == (INTERNAL[1], None)
    external = client.post(
        "activity/sms/", json={**DRAFT, "status": "outbox", "local_phone": EXTERNAL}
    )
    assert external.status_code == 400 and "local_phone" in external.json()["field-errors"]


@pytest.mark.parametrize("status", ["draft", "inbox", "sent"])
def test_local_phone_auto_changes_only_sends(serving, status):
    client = serving("local-phone-on-sends", "auto")
    response = client.post(
        "activity/sms/", json={"status": status, "remote_phone": REMOTE, "text": "hi"}
    )
    assert response.status_code == 400 and "local_phone" in response.json()["field-errors"]
