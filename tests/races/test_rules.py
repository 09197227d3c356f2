"""Which documented rule a history no order explains breaks: the answer the checker
blocks on, read against the states the spec may be in; none named when the answers
contradict no documented sentence."""

from __future__ import annotations

from typing import Any

from conformance.races.checker import check
from conformance.races.history import Operation
from conformance.races.rules import attribute
from conformance.races.sms_spec import Answer, SmsSpec, create, delete, get, list_ids, put

SPEC = SmsSpec()
A, B = "acti_a", "acti_b"


def op(process: Any, invoke: float, complete: float | None, request: Any, answer: Any = None):
    return Operation(process, invoke, complete, request, answer)


def rule_of(history: list[Operation], **kwargs: Any) -> str | None:
    found = attribute(check(SPEC, history), SPEC, tuple(history), **kwargs)
    return None if found is None else found.rule


DRAFT = op("prefix", 0, 1, create(A, "draft", "t0"), Answer(200, "draft", "t0"))


def test_a_linearizable_history_breaks_no_rule():
    assert rule_of([DRAFT, op(0, 2, 3, get(A), Answer(200, "draft", "t0"))]) is None


def test_a_read_of_a_deleted_sms_answered_200_breaks_then_get_404():
    history = [
        DRAFT,
        op(0, 2, 3, delete(A), Answer(200)),
        op(1, 4, 5, get(A), Answer(200, "draft", "t0")),
    ]
    assert rule_of(history) == "sms/delete/then-get-404"


def test_a_cancel_answered_draft_on_an_sms_read_as_sent_breaks_cancelled_never_sent():
    scheduled = op(
        "prefix", 0, 1, create(A, "scheduled", "t0", 0.0), Answer(200, "scheduled", "t0")
    )
    history = [
        scheduled,
        op(0, 2, 3, put(A, status="draft"), Answer(200, "draft", "t0")),
        op(1, 4, 5, get(A), Answer(200, "sent", "t0")),
    ]
    assert rule_of(history) == "sms/send/cancelled-never-sent"


def test_an_edit_lost_to_a_concurrent_schedule_breaks_a_put_rule():
    history = [
        DRAFT,
        op(0, 2, 5, put(A, text="mine"), Answer(200, "draft", "mine")),
        op(1, 2, 5, put(A, status="scheduled", date_scheduled=1e9), Answer(200, "scheduled", "t0")),
        op(2, 6, 7, get(A), Answer(200, "scheduled", "t0")),
    ]
    assert rule_of(history) in {"sms/update/partial", "sms/update/drafts-only"}


def test_two_sends_of_one_draft_both_answered_200_break_drafts_only():
    history = [
        DRAFT,
        op(0, 2, 5, put(A, status="outbox"), Answer(200, "outbox", "t0")),
        op(1, 2, 5, put(A, status="scheduled", date_scheduled=1e9), Answer(200, "scheduled", "t0")),
    ]
    assert rule_of(history) == "sms/update/drafts-only"


def test_a_list_missing_an_sms_created_before_it_breaks_the_filter_it_used():
    history = [DRAFT, op(0, 2, 3, list_ids(A), Answer(200, ids=frozenset()))]
    assert rule_of(history, listed_by="lead_id") == "sms/list/filter-lead-id"
    assert rule_of(history) == "sms/list/pagination"  # one page, has_more false


def test_a_list_showing_a_deleted_sms_breaks_then_not_listed():
    history = [
        DRAFT,
        op(0, 2, 3, delete(A), Answer(200)),
        op(0, 4, 5, list_ids(A), Answer(200, ids=frozenset({A}))),
    ]
    assert rule_of(history) == "sms/delete/then-not-listed"


def test_an_answer_no_documented_rule_speaks_of_names_none():
    # A get that shows a status no operation could have given (inbox), with nothing else
    # wrong: the answer is unexplained, yet no rule the attribution knows is broken.
    history = [DRAFT, op(0, 2, 3, get(B), Answer(200, "inbox", "t0"))]
    result = check(SPEC, history)
    assert not result.linearizable
    assert rule_of(history) == "sms/get/unknown-id-404"  # B was never created: that rule
    history = [DRAFT, op(0, 2, 3, get(A), Answer(200, "inbox", "t0"))]
    assert not check(SPEC, history).linearizable
    assert rule_of(history) is None
