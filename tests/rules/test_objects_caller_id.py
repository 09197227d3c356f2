"""Read-back checks: a number Caller ID picked for a send that named none must be one of the
organisation's internal numbers (open point local-phone-on-sends)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from conformance.checks import Step
from conformance.rules.objects import what_was_written_reads_back
from tests.rules.helpers import FIXTURES, created, model_of

INTERNAL = ("+16505550001", "+16505550003")
EXTERNAL = "+14155550002"
SEND = {"status": "outbox", "remote_phone": "+15555550100", "text": "hi"}  # no local_phone


def created_showing(local_phone: Any) -> Step:
    """The create step of a send that named no local_phone, answered with ``local_phone``."""
    fixtures = replace(FIXTURES, internal_phones=INTERNAL, external_phones=(EXTERNAL,))
    answer = {"direction": "outbound", "local_phone": local_phone}
    return created(SEND, answer, model=model_of(fixtures=fixtures))


def verdict_on_the_number(step: Step) -> list[bool]:
    return [
        finding.ok
        for finding in what_was_written_reads_back(step)
        if finding.rule == "sms/create/local-phone-required"
    ]


@pytest.mark.parametrize("local_phone", [*INTERNAL, None])
def test_caller_id_may_show_any_internal_number_or_none_yet(local_phone):
    assert verdict_on_the_number(created_showing(local_phone)) == [True]


@pytest.mark.parametrize("local_phone", [EXTERNAL, "+16505559999"])
def test_caller_id_showing_a_number_that_is_not_internal_breaks_the_rule(local_phone):
    assert verdict_on_the_number(created_showing(local_phone)) == [False]


def test_a_send_that_named_its_number_is_not_judged_as_caller_id():
    step = created_showing(INTERNAL[0])
    step.expectation = step.model.expect_create({**SEND, "local_phone": INTERNAL[0]}, step.window)
    assert verdict_on_the_number(step) == []


def test_a_number_caller_id_picked_names_the_auto_reading_and_the_outcome_both_readings():
    step = created_showing(INTERNAL[1])
    shown = [
        f.reading
        for f in what_was_written_reads_back(step)
        if f.rule == "sms/create/local-phone-required"
    ]
    assert shown == ["local-phone-on-sends=auto"]
    assert step.expectation.readings == (
        "local-phone-on-sends=auto",
        "local-phone-on-sends=required",
    )
