"""Which documented rule a history no order explains breaks: the answer the checker
blocks on, read against the states the spec may be in; none named when the answers
contradict no documented sentence."""

from __future__ import annotations

from typing import Any

from conformance.races.checker import check
from conformance.races.history import Operation
from conformance.races.rules import PRECEDENCE, attribute, candidates
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


def test_a_list_showing_an_sms_nobody_made_breaks_the_list_contract_it_used():
    history = [
        DRAFT,
        op(0, 2, 3, list_ids(A), Answer(200, ids=frozenset({A}), extra=frozenset({B}))),
    ]
    assert rule_of(history) == "sms/list/pagination"  # one page: the whole result
    assert rule_of(history, listed_by="lead_id") == "sms/list/filter-lead-id"
    found = attribute(check(SPEC, history), SPEC, tuple(history))
    assert found is not None and "only the SMS the requests made" in found.expected


LOST_EDIT = [
    DRAFT,
    op(0, 2, 5, put(A, text="mine"), Answer(200, "draft", "mine")),
    op(1, 2, 5, put(A, status="scheduled", date_scheduled=1e9), Answer(200, "scheduled", "t0")),
    op(2, 6, 7, get(A), Answer(200, "scheduled", "t0")),
]


def _swapped(history: list[Operation]) -> list[Operation]:
    """The same answers, the two PUTs' processes and invoke order swapped."""
    _, edit, schedule, read = history
    return [
        history[0],
        op(1, 1.9, 5, schedule.request, schedule.answer),
        op(0, 2, 5, edit.request, edit.answer),
        read,
    ]


def test_the_rule_named_does_not_depend_on_which_put_the_search_tried_first():
    # Read one way the schedule lost the edit (partial), the other way the edit changed a
    # scheduled SMS (drafts-only): whichever order the search meets first, the candidates
    # are the same and the precedence names one.
    named = set()
    for history in (LOST_EDIT, _swapped(LOST_EDIT), list(reversed(LOST_EDIT))):
        found = candidates(check(SPEC, history), SPEC, tuple(history))
        assert {at.rule for at in found} >= {"sms/update/drafts-only", "sms/update/partial"}
        named.add(found[0].rule)
    assert named == {"sms/update/drafts-only"}


def test_the_candidates_come_in_the_fixed_precedence():
    found = candidates(check(SPEC, LOST_EDIT), SPEC, tuple(LOST_EDIT))
    ranks = [PRECEDENCE.index(at.rule) for at in found]
    assert ranks == sorted(ranks) and found[0] == attribute(
        check(SPEC, LOST_EDIT), SPEC, tuple(LOST_EDIT)
    )


def test_a_stuck_answer_that_names_no_rule_lets_the_answers_still_to_come_name_it():
    # Two cancels of a due SMS: one answered draft; the other refused, because the sender
    # sent the SMS anyway (the read-back shows it sent). The search is stuck on the refusal
    # (a cancel of a draft refused: no documented rule), and the read-back names the rule.
    due = op("prefix", 0, 1, create(A, "outbox", "t0"), Answer(200, "outbox", "t0"))
    history = [
        due,
        op(0, 2, 4, put(A, status="draft"), Answer(200, "draft", "t0")),
        op(1, 3, 9, put(A, status="draft"), Answer(400)),
        op("after", 10, 11, get(A), Answer(200, "sent", "t0")),
    ]
    result = check(SPEC, history)
    assert not result.linearizable
    assert all(end.blocked for end in result.dead_ends)
    assert rule_of(history) == "sms/send/cancelled-never-sent"


def test_a_get_reading_back_the_text_an_edit_replaced_breaks_draft_edit():
    # The edit was answered 200 as a draft, yet a later read shows the text it replaced,
    # with the SMS scheduled by then: the edit was not stored.
    history = [
        DRAFT,
        op(0, 2, 3, put(A, text="mine"), Answer(200, "draft", "mine")),
        op(
            1,
            4,
            5,
            put(A, status="scheduled", date_scheduled=1e9),
            Answer(200, "scheduled", "mine"),
        ),
        op(2, 6, 7, get(A), Answer(200, "scheduled", "t0")),
    ]
    assert rule_of(history) == "sms/update/draft-edit"
