"""Protocol checks demand what the docs give and nothing more: JSON where a body is
documented, a documented 400 shape, and field naming only where field errors are given."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.checks import Step
from conformance.model import Expectation
from conformance.records import RecordedRequest, RecordedResponse
from conformance.rules.protocol import (
    answers_with_json,
    validation_errors_have_the_documented_body,
)
from tests.rules.helpers import step_of, verdicts

HTML = "text/html; charset=utf-8"
JSON = "application/json"


def answered(
    operation: str,
    code: int,
    body: Any,
    content_type: str = JSON,
    expectation: Expectation | None = None,
) -> Step:
    """A step of ``operation`` whose one answer is ``code`` with ``body``."""
    response = RecordedResponse(code, {"content-type": content_type}, body)
    return step_of(
        operation,
        RecordedRequest("GET", "/activity/sms/x/", {}),
        response,
        expectation=expectation,
    )


# -- protocol/json-content-type ---------------------------------------------------------------


@pytest.mark.parametrize("code", [404, 405, 415, 429])
def test_an_answer_whose_body_the_docs_leave_open_may_be_html(code):
    step = answered("get", code, "<html><body>nope</body></html>", HTML)
    assert all(finding.ok for finding in answers_with_json(step))


@pytest.mark.parametrize(
    ("content_type", "reading"),
    [(HTML, "not-found-body=html"), (JSON, "not-found-body=json-error")],
)
def test_a_404_tells_which_reading_of_its_body_the_server_took(content_type, reading):
    step = answered("get", 404, {"error": "Not found"}, content_type)
    assert [f.reading for f in answers_with_json(step)] == [reading]


def test_an_empty_200_answer_to_a_delete_needs_no_content_type():
    """1.6 Delete: "200 with empty object ... Empty response body" (audit D1)."""
    request = RecordedRequest("DELETE", "/activity/sms/x/", {})
    deleted = step_of("delete", request, RecordedResponse(200, {}, None))
    assert all(finding.ok for finding in answers_with_json(deleted))


@pytest.mark.parametrize("code", [200, 400, 401])
def test_an_answer_with_a_documented_json_body_served_as_html_breaks_the_rule(code):
    step = answered("get", code, {"id": "acti_1"}, HTML)
    assert verdicts(list(answers_with_json(step))) == {"protocol/json-content-type": False}


def test_a_json_answer_keeps_the_rule():
    step = answered("get", 200, {"id": "acti_1"}, "application/json; charset=utf-8")
    assert verdicts(list(answers_with_json(step))) == {"protocol/json-content-type": True}


# -- protocol/error-body and protocol/field-error-names-field ---------------------------------

ON_DATE = Expectation("sms/create/scheduled-requires-date-scheduled", False, "date_scheduled")


def judged_400(body: Any) -> dict[str, bool]:
    step = answered("create", 400, body, expectation=ON_DATE)
    return verdicts(list(validation_errors_have_the_documented_body(step)))


@pytest.mark.parametrize(
    "body",
    [
        {"errors": [], "field-errors": {"date_scheduled": "Required."}},
        {"field-errors": {"date_scheduled": "Required."}},
    ],
)
def test_field_errors_naming_the_field_keep_both_rules(body):
    assert judged_400(body) == {
        "protocol/error-body": True,
        "protocol/field-error-names-field": True,
    }


@pytest.mark.parametrize(
    "body",
    [
        {"error": "date_scheduled: Required when status is scheduled."},
        {"errors": ["date_scheduled: Required when status is scheduled."]},
        {"errors": ["date_scheduled: Required when status is scheduled."], "field-errors": {}},
    ],
)
def test_a_documented_body_without_field_errors_is_not_judged_on_field_naming(body):
    assert judged_400(body) == {"protocol/error-body": True}


def test_field_errors_naming_another_field_break_the_should_rule_only():
    body = {"errors": [], "field-errors": {"phone": "Required."}}
    assert judged_400(body) == {
        "protocol/error-body": True,
        "protocol/field-error-names-field": False,
    }


@pytest.mark.parametrize(
    "body",
    [
        {"detail": "date_scheduled: Required."},
        {"error": {"message": "Required."}},
        {"errors": "Required."},
        ["date_scheduled: Required."],
        "Bad Request",
        None,
    ],
)
def test_a_400_body_in_no_documented_shape_breaks_the_error_body_rule(body):
    assert judged_400(body) == {"protocol/error-body": False}


# -- error-body-shape: which body a refusal by a documented rule got --------------------------


def shape_readings(body: Any, expectation: Expectation | None) -> list[str | None]:
    step = answered("update", 400, body, expectation=expectation)
    return [f.reading for f in validation_errors_have_the_documented_body(step) if f.reading]


DRAFTS_ONLY = Expectation("sms/update/drafts-only", False)
MALFORMED = Expectation("sms/create/phone-malformed", False, "remote_phone")


@pytest.mark.parametrize(
    ("body", "expectation", "shown"),
    [
        ({"error": "text: Only drafts can be modified."}, DRAFTS_ONLY, ["error-message"]),
        ({"errors": [], "field-errors": {"text": "Only drafts."}}, DRAFTS_ONLY, ["field-errors"]),
        ({"error": "remote_phone: Not a phone number."}, MALFORMED, ["error-message"]),
        # a malformed value gets field-errors in either reading: it tells nothing
        ({"errors": [], "field-errors": {"remote_phone": "Not a number."}}, MALFORMED, []),
    ],
)
def test_a_refusal_names_the_reading_of_its_body_the_server_took(body, expectation, shown):
    assert shape_readings(body, expectation) == [f"error-body-shape={r}" for r in shown]


# -- protocol/method-not-allowed and protocol/documented-status-code (audit P4, P6) -----------


@pytest.mark.parametrize(("code", "ok"), [(405, True), (404, False), (200, False)])
def test_a_method_the_sms_item_does_not_list_is_answered_405(code, ok):
    """1.1 lists GET, PUT and DELETE on /activity/sms/{id}/; 2.6 "`405` method not
    supported"."""
    from conformance.rules.protocol import unsupported_methods_answer_405

    step = answered("method", code, {"error": "Method not allowed"})
    assert [f.ok for f in unsupported_methods_answer_405(step)] == [ok]


@pytest.mark.parametrize(("code", "ok"), [(200, True), (201, False), (203, False)])
def test_a_read_succeeds_with_the_one_documented_code(code, ok):
    """1.1: get "200 SMSActivity"; 2.6 "Documented: `200` success"."""
    from conformance.rules.outcomes import success_is_answered_200

    step = answered("get", code, {"id": "acti_1"})
    assert [f.ok for f in success_is_answered_200(step)] == [ok]


def test_a_malformed_date_scheduled_refused_with_field_errors_tells_no_reading():
    """Under error-message a malformed value still gets field-errors: only a missing
    date_scheduled is a refusal by the documented rule."""
    body = {"errors": [], "field-errors": {"date_scheduled": "Not a date."}}
    response = RecordedResponse(400, {"content-type": JSON}, body)
    for sent, shown in (({"date_scheduled": "not a date"}, []), ({}, ["field-errors"])):
        request = RecordedRequest("POST", "/activity/sms/", {}, {"status": "scheduled", **sent})
        refused = step_of("create", request, response, expectation=ON_DATE)
        readings = [
            f.reading for f in validation_errors_have_the_documented_body(refused) if f.reading
        ]
        assert readings == [f"error-body-shape={r}" for r in shown]
