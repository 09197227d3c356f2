"""The accept-or-reject check names the boundary case of its deciding rule a request sat on:
``send_in`` at either edge of the documented range (1.3 "must be less than 60"), a cancel in
the last second before the SMS was due."""

from __future__ import annotations

from datetime import timedelta

import pytest

from conformance.model import SmsRecord, TimeWindow
from conformance.records import RecordedRequest, RecordedResponse
from conformance.rules.outcomes import answer_is_among_those_the_docs_allow
from tests.rules.helpers import BASE, NOON, SMS, WINDOW, model_of, settled, step_of


def boundaries_of_create(send_in: object) -> dict[str, str | None]:
    body = {**BASE, "status": "outbox", "send_in": send_in}
    model = model_of()
    expectation = model.expect_create(body, WINDOW)
    accepted = expectation.accept is not False
    step = step_of(
        "create",
        RecordedRequest("POST", SMS, {}, body),
        RecordedResponse(200 if accepted else 400, {}, {"id": "acti_1"} if accepted else {}),
        model=model,
        expectation=expectation,
    )
    return {f.rule: f.boundary for f in answer_is_among_those_the_docs_allow(step)}


@pytest.mark.parametrize(
    ("send_in", "rule", "boundary"),
    [
        (0, "sms/create/send-in-accepted", "send_in=0"),
        (59, "sms/create/send-in-accepted", "send_in=59"),
        (60, "sms/create/send-in-below-60", "send_in=60"),
        (30, "sms/create/send-in-accepted", None),
        (61, "sms/create/send-in-below-60", None),
        (59.0, "sms/create/send-in-accepted", None),  # not a whole-number edge as sent
    ],
)
def test_a_create_reaches_the_send_in_boundary_it_sat_on(send_in, rule, boundary):
    assert boundaries_of_create(send_in) == {rule: boundary}


def cancelled(seconds_before_due: float) -> dict[str, str | None]:
    record = settled(
        {**BASE, "status": "outbox", "send_in": 30}, {"date_created": NOON.isoformat()}
    )
    assert isinstance(record, SmsRecord) and record.due is not None
    body = {"status": "draft"}
    at = record.due - timedelta(seconds=seconds_before_due)
    model = model_of(record)
    step = step_of(
        "update",
        RecordedRequest("PUT", f"{SMS}{record.id}/", {}, body),
        RecordedResponse(200, {}, {"id": record.id, "status": "draft"}),
        model=model,
        at=at,
        record=record,
        expectation=model.expect_update(record.id, body, TimeWindow(at, at)),
    )
    return {f.rule: f.boundary for f in answer_is_among_those_the_docs_allow(step)}


def test_a_cancel_in_the_last_second_before_due_reaches_that_boundary():
    assert cancelled(0.5) == {"sms/update/cancel-outbox": "a cancel in the last second before due"}


def test_a_cancel_well_before_due_reaches_no_boundary():
    assert cancelled(5) == {"sms/update/cancel-outbox": None}


@pytest.mark.parametrize(
    ("extra", "boundary"),
    [({}, "date_scheduled missing"), ({"date_scheduled": None}, "date_scheduled null")],
)
def test_a_scheduled_create_without_a_date_reaches_the_boundary_it_sat_on(extra, boundary):
    body = {**BASE, "status": "scheduled", **extra}
    model = model_of()
    expectation = model.expect_create(body, WINDOW)
    step = step_of(
        "create",
        RecordedRequest("POST", SMS, {}, body),
        RecordedResponse(400, {}, {"errors": [], "field-errors": {"date_scheduled": "required"}}),
        model=model,
        expectation=expectation,
    )
    assert {f.rule: f.boundary for f in answer_is_among_those_the_docs_allow(step)} == {
        "sms/create/scheduled-requires-date-scheduled": boundary
    }


@pytest.mark.parametrize(
    ("status", "body", "boundary"),
    [
        ("sent", {"text": "x"}, "a non-draft edited without a status"),
        ("inbox", {"status": "sent"}, "a non-draft moved to a status other than draft"),
        ("sent", {"status": "scheduled"}, "a non-draft moved to a status other than draft"),
        ("outbox", {"status": "sent"}, "a pending SMS moved to a status other than draft"),
    ],
)
def test_a_put_on_a_non_draft_reaches_the_cell_of_the_status_by_body_matrix_it_sat_on(
    status, body, boundary
):
    due = NOON + timedelta(seconds=30) if status == "outbox" else None
    record = SmsRecord("acti_1", status, {**BASE, "status": status}, due=due)
    model = model_of(record)
    step = step_of(
        "update",
        RecordedRequest("PUT", f"{SMS}acti_1/", {}, body),
        RecordedResponse(400, {}, {"error": "only drafts"}),
        model=model,
        record=record,
        expectation=model.expect_update("acti_1", body, WINDOW),
    )
    assert {f.rule: f.boundary for f in answer_is_among_those_the_docs_allow(step)} == {
        "sms/update/drafts-only": boundary
    }
