"""Checks that read off an answer which reading of an open point the target took, where the
answer's status code alone does not tell: the text of a create with a template and a text,
the text of a PUT that cancels and edits, the date_sent of an SMS sent with a fractional
send_in."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from conformance.checks import Step, is_violation
from conformance.model import Model, SmsRecord, TimeWindow
from conformance.records import Exchange, RecordedRequest, RecordedResponse
from conformance.rules.outcomes import (
    a_cancel_with_edits_shows_what_was_done,
    a_create_with_a_template_and_a_text_shows_which_won,
)
from conformance.rules.sending import (
    a_fractional_send_in_once_sent_shows_how_the_target_reads_it,
)
from tests.rules.helpers import FIXTURES, NOON, WINDOW

LOCAL = "+16505550001"


def step(
    operation: str,
    method: str,
    request: Any,
    status: int,
    answer: Any,
    model: Model,
    expectation: Any = None,
    record: SmsRecord | None = None,
    window: TimeWindow = WINDOW,
) -> Step:
    return Step(
        operation,
        [
            Exchange(
                RecordedRequest(method, "/activity/sms/", {}, request),
                RecordedResponse(status, {}, answer),
            )
        ],
        window,
        model,
        expectation=expectation,
        record=record,
    )


# -- template-and-text --------------------------------------------------------------------

TEMPLATE_AND_TEXT = {
    "status": "draft",
    "lead_id": "lead_1",
    "contact_id": "cont_1",
    "local_phone": LOCAL,
    "template_id": "smstmpl_1",
    "text": "given",
}


def template_and_text_readings(shown_text: str) -> list[tuple[str | None, bool]]:
    model = Model(FIXTURES)
    expectation = model.expect_create(TEMPLATE_AND_TEXT, WINDOW)
    answer = {"id": "acti_1", "text": shown_text}
    findings = a_create_with_a_template_and_a_text_shows_which_won(
        step("create", "POST", TEMPLATE_AND_TEXT, 200, answer, model, expectation)
    )
    return [(f.reading, is_violation(f)) for f in findings]


@pytest.mark.parametrize(
    ("shown_text", "reading"),
    [("Hi Ada", "template-and-text=template-wins"), ("given", "template-and-text=text-wins")],
)
def test_the_text_a_create_with_a_template_and_a_text_shows_names_which_won(shown_text, reading):
    assert template_and_text_readings(shown_text) == [(reading, False)]


def test_a_text_that_is_neither_names_no_reading_and_fails_nothing():
    assert template_and_text_readings("something else") == []


# -- cancel-and-edit ----------------------------------------------------------------------


def cancel_and_edit(
    answer: dict[str, Any], due_in: float = 600
) -> list[tuple[str, str | None, bool]]:
    model = Model(FIXTURES)
    record = SmsRecord(
        "acti_1",
        "scheduled",
        {"status": "scheduled", "text": "before"},
        due=NOON + timedelta(seconds=due_in),
    )
    model.apply(record)
    request = {"status": "draft", "text": "after"}
    expectation = model.expect_update("acti_1", request, WINDOW)
    findings = a_cancel_with_edits_shows_what_was_done(
        step("update", "PUT", request, 200, answer, model, expectation, record)
    )
    return [(f.rule, f.reading, is_violation(f)) for f in findings]


def test_a_cancel_with_an_edit_that_stored_the_edit_names_both():
    assert cancel_and_edit({"status": "draft", "text": "after"}) == [
        ("sms/update/cancel-scheduled", None, False),
        ("sms/update/cancel-with-edits", "cancel-and-edit=both", False),
    ]


def test_a_cancel_with_an_edit_that_ignored_the_edit_names_cancel_only():
    assert cancel_and_edit({"status": "draft", "text": "before"}) == [
        ("sms/update/cancel-scheduled", None, False),
        ("sms/update/cancel-with-edits", "cancel-and-edit=cancel-only", False),
    ]


def test_a_cancel_with_an_edit_taken_on_a_pending_sms_that_is_no_draft_after_fails():
    """1.3 rule 3: a scheduled SMS "can be cancelled by setting status back to draft"; a
    server that takes the PUT must have cancelled it."""
    findings = cancel_and_edit({"status": "scheduled", "text": "after"})
    assert ("sms/update/cancel-scheduled", None, True) in findings


def test_a_cancel_with_an_edit_of_an_sms_that_may_be_sent_is_not_held_to_draft():
    findings = cancel_and_edit({"status": "sent", "text": "before"}, due_in=0)
    assert not any(violation for _, _, violation in findings)


# -- send-in-fraction ---------------------------------------------------------------------


def sent_after(send_in: float, delay: float) -> list[tuple[str | None, bool]]:
    model = Model(FIXTURES)
    body = {"status": "outbox", "local_phone": LOCAL, "text": "hi", "send_in": send_in}
    expected = model.expect_create(body, WINDOW).record
    assert expected is not None
    record = model.add(expected, {"id": "acti_1", "date_created": NOON.isoformat()}, WINDOW)
    moment = NOON + timedelta(seconds=delay + 1)
    answer = {
        "id": "acti_1",
        "status": "sent",
        "date_sent": (NOON + timedelta(seconds=delay)).isoformat(),
    }
    findings = a_fractional_send_in_once_sent_shows_how_the_target_reads_it(
        step("get", "GET", None, 200, answer, model, None, record, TimeWindow(moment, moment))
    )
    return [(f.reading, is_violation(f)) for f in findings]


@pytest.mark.parametrize(
    ("send_in", "delay", "reading"),
    [
        (5.5, 5.5, "send-in-fraction=as-given"),
        (5.5, 5.9, "send-in-fraction=as-given"),
        (5.5, 5.0, "send-in-fraction=truncated"),
        (0.5, 0.0, "send-in-fraction=truncated"),
    ],
)
def test_the_date_sent_of_a_fractional_send_in_names_how_it_was_read(send_in, delay, reading):
    assert sent_after(send_in, delay) == [(reading, False)]


@pytest.mark.parametrize("delay", [4.0, 6.5, 90.0])
def test_a_send_time_outside_both_readings_names_none_and_fails_nothing(delay):
    assert sent_after(5.5, delay) == []
