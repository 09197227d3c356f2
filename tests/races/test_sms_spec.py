"""The SMS spec under the checker: the races issue 14 names (concurrent PUTs on one draft, a
cancel against the sender, a delete against an update, a create against a list), the
sender's nondeterminism, and histories recorded from concurrent runs of the spec itself."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.races.checker import LINEARIZABLE, NOT_LINEARIZABLE, check
from conformance.races.history import Operation
from conformance.races.simulate import simulate, sms_programs
from conformance.races.sms_spec import (
    Answer,
    SmsSpec,
    create,
    delete,
    get,
    list_ids,
    put,
)

from .brute import brute_force, is_witness

SPEC = SmsSpec()
A = "acti_a"


def op(process: Any, invoke: float, complete: float | None, request: Any, answer: Any = None):
    return Operation(process, invoke, complete, request, answer)


def draft(text: str = "t0") -> Operation:
    return op("prefix", 0, 1, create(A, "draft", text), Answer(200, "draft", text))


def shows(status: str, text: str | None = "t0") -> Answer:
    return Answer(200, status, text)


def verdict(history: list[Operation]) -> str:
    result = check(SPEC, history)
    assert result.verdict == check(SPEC, history, partition=False).verdict
    return result.verdict


def test_two_concurrent_puts_on_a_draft_leave_one_of_the_two_texts() -> None:
    puts = [
        op(0, 10, 20, put(A, text="mine"), shows("draft", "mine")),
        op(1, 10, 20, put(A, text="yours"), shows("draft", "yours")),
    ]
    for last in ("mine", "yours"):
        assert verdict([draft(), *puts, op(2, 30, 40, get(A), shows("draft", last))]) == (
            LINEARIZABLE
        )


def test_a_read_after_two_concurrent_puts_showing_a_text_neither_wrote_is_not_linearizable() -> (
    None
):
    history = [
        draft(),
        op(0, 10, 20, put(A, text="mine"), shows("draft", "mine")),
        op(1, 10, 20, put(A, text="yours"), shows("draft", "yours")),
        op(2, 30, 40, get(A), shows("draft", "t0")),  # a lost update
    ]
    result = check(SPEC, history)
    assert result.verdict == NOT_LINEARIZABLE
    assert result.blocked == (history[3],)
    assert len(result.prefix) == 3
    report = result.explain()
    assert "the spec may be in: {acti_a: draft 'mine'}" in report or "'yours'}" in report
    assert report.endswith("[2] 30..40 get acti_a -> 200 draft 't0'")


def scheduled(due: float) -> list[Operation]:
    request = put(A, status="scheduled", date_scheduled=due)
    return [draft(), op(0, 2, 3, request, shows("scheduled"))]


def test_a_cancel_answered_draft_then_a_read_showing_sent_is_not_linearizable() -> None:
    for due in (1000.0, 5.0):  # not due by the read; due before the cancel
        history = [
            *scheduled(due),
            op(0, 10, 20, put(A, status="draft"), shows("draft")),
            op(1, 30, 40, get(A), shows("sent")),
        ]
        assert verdict(history) == NOT_LINEARIZABLE  # sms/send/cancelled-never-sent


def test_a_cancel_refused_because_the_sender_ran_first_is_explained_only_once_it_was_due() -> None:
    refused = op(0, 10, 20, put(A, status="draft"), Answer(400))
    for status in ("sent", "error"):
        history = [*scheduled(15.0), refused, op(1, 30, 40, get(A), shows(status))]
        assert verdict(history) == LINEARIZABLE
    early = [*scheduled(1000.0), refused]
    assert verdict(early) == NOT_LINEARIZABLE  # sms/send/scheduled-not-early


def test_a_scheduled_sms_is_never_seen_sent_before_it_is_due() -> None:
    for seen_at, expected in ((10, NOT_LINEARIZABLE), (100, LINEARIZABLE)):
        history = [*scheduled(100.0), op(1, seen_at, seen_at + 10, get(A), shows("sent"))]
        assert verdict(history) == expected
    pending = [*scheduled(100.0), op(1, 200, 210, get(A), shows("scheduled"))]
    assert verdict(pending) == LINEARIZABLE  # the spec never forces a send (no grace bound)


def test_a_put_to_outbox_may_answer_outbox_or_already_sent() -> None:
    for status in ("outbox", "sent", "error"):
        history = [draft(), op(0, 10, 20, put(A, status="outbox"), shows(status))]
        assert verdict(history) == LINEARIZABLE
    cancelled = [
        draft(),
        op(0, 10, 20, put(A, status="outbox"), shows("sent")),
        op(0, 30, 40, put(A, status="draft"), shows("draft")),
    ]
    assert verdict(cancelled) == NOT_LINEARIZABLE  # sms/update/cancel-refused-after-send


def test_an_update_answered_200_after_a_delete_that_a_later_get_shows_is_not_linearizable() -> None:
    history = [
        draft(),
        op(0, 10, 20, delete(A), Answer(200)),
        op(1, 30, 40, put(A, text="back"), shows("draft", "back")),
        op(2, 50, 60, get(A), shows("draft", "back")),
    ]
    result = check(SPEC, history)
    assert result.verdict == NOT_LINEARIZABLE
    assert history[2] in result.blocked  # sms/update/unknown-id-404


def test_an_update_racing_a_delete_may_win_but_a_get_after_both_finds_nothing() -> None:
    racing = [
        draft(),
        op(0, 10, 20, delete(A), Answer(200)),
        op(1, 10, 20, put(A, text="back"), shows("draft", "back")),
    ]
    assert verdict([*racing, op(2, 30, 40, get(A), Answer(404))]) == LINEARIZABLE
    resurrected = [*racing, op(2, 30, 40, get(A), shows("draft", "back"))]
    assert verdict(resurrected) == NOT_LINEARIZABLE  # sms/delete/then-get-404


def test_a_create_is_listed_by_lists_after_it_and_maybe_by_lists_during_it() -> None:
    made = op(0, 10, 20, create(A, "draft", "new"), shows("draft", "new"))
    for listed in (frozenset(), frozenset({A})):
        during = [made, op(1, 15, 25, list_ids(A), Answer(200, ids=listed))]
        assert verdict(during) == LINEARIZABLE
    missing = [made, op(1, 30, 40, list_ids(A), Answer(200, ids=frozenset()))]
    assert verdict(missing) == NOT_LINEARIZABLE  # sms/list/filter-id-in


def test_a_list_showing_anything_beyond_the_history_s_sms_once_each_is_never_explained() -> None:
    # An SMS no request made (a send that went out twice), or one listed twice: under
    # either reading of visibility, whenever the list is taken.
    for spec in (SmsSpec(), SmsSpec(settle_lag=1e9)):
        for extra in ({"acti_nobody_made"}, {f"{A} listed twice"}):
            for invoke in (1, 30):
                listed = Answer(200, ids=frozenset({A}), extra=frozenset(extra))
                history = [draft(), op(1, invoke, invoke + 5, list_ids(A), listed)]
                assert check(spec, history).verdict == NOT_LINEARIZABLE
        plain = [draft(), op(1, 30, 35, list_ids(A), Answer(200, ids=frozenset({A})))]
        assert check(spec, plain).verdict == LINEARIZABLE


def test_a_list_over_two_sms_sees_them_at_one_instant() -> None:
    # b is created after a is deleted: a list showing both saw no single instant.
    b = "acti_b"
    history = [
        draft(),
        op(0, 10, 20, delete(A), Answer(200)),
        op(0, 30, 40, create(b, "draft", "b"), shows("draft", "b")),
        op(1, 5, 50, list_ids(A, b), Answer(200, ids=frozenset({A, b}))),
    ]
    assert verdict(history) == NOT_LINEARIZABLE


def test_a_create_whose_answer_was_lost_may_show_later_or_never() -> None:
    lost = op(0, 10, None, create(A, "draft", "new"))
    for answer in (Answer(404), shows("draft", "new")):
        assert verdict([lost, op(1, 30, 40, get(A), answer)]) == LINEARIZABLE
    wrong = [lost, op(1, 30, 40, get(A), shows("draft", "other"))]
    assert verdict(wrong) == NOT_LINEARIZABLE


def test_two_cancels_of_one_sms_both_succeed_or_are_both_refused_after_a_send() -> None:
    def cancels(first: Answer, second: Answer) -> list[Operation]:
        request = put(A, status="draft")
        return [*scheduled(15.0), op(0, 10, 20, request, first), op(1, 10, 20, request, second)]

    assert verdict(cancels(shows("draft"), shows("draft"))) == LINEARIZABLE
    assert verdict(cancels(Answer(400), Answer(400))) == LINEARIZABLE  # sent first (due 15)
    assert verdict(cancels(shows("draft"), Answer(400))) == NOT_LINEARIZABLE


def test_a_schedule_racing_a_cancel_leaves_either_but_a_sent_sms_never_goes_back() -> None:
    racing = [
        draft(),
        op(0, 10, 20, put(A, status="scheduled", date_scheduled=1000.0), shows("scheduled")),
        op(1, 10, 20, put(A, status="draft"), shows("draft")),
    ]
    for status in ("scheduled", "draft"):
        assert verdict([*racing, op(2, 30, 40, get(A), shows(status))]) == LINEARIZABLE
    sent = [
        draft(),
        op(0, 10, 20, put(A, status="outbox"), shows("outbox")),
        op(1, 30, 40, get(A), shows("sent")),
        op(1, 50, 60, get(A), shows("outbox")),
    ]
    assert verdict(sent) == NOT_LINEARIZABLE
    assert verdict(sent[:3]) == LINEARIZABLE


def test_a_schedule_may_be_refused_only_when_its_date_has_passed() -> None:
    # past-date-scheduled: taken (and sent at once) or refused; a future date is taken.
    for due, expected in ((5.0, LINEARIZABLE), (1000.0, NOT_LINEARIZABLE)):
        request = put(A, status="scheduled", date_scheduled=due)
        refused = [
            draft(),
            op(0, 10, 20, request, Answer(400)),
            op(1, 30, 40, get(A), shows("draft")),
        ]
        assert verdict(refused) == expected


def test_a_send_may_be_refused_only_when_the_draft_has_no_text() -> None:
    # empty-send: a draft with nothing in it may be refused when sent; one with text is not.
    for text, expected in ((None, LINEARIZABLE), ("t0", NOT_LINEARIZABLE)):
        made = op("prefix", 0, 1, create(A, "draft", text), Answer(200, "draft", text))
        assert verdict([made, op(0, 10, 20, put(A, status="outbox"), Answer(400))]) == expected


def test_under_eventual_visibility_reads_may_lag_a_delete_for_the_settle_lag_only() -> None:
    eventual = SmsSpec(settle_lag=30.0)
    deleted = [draft(), op(0, 10, 20, delete(A), Answer(200))]
    for start, expected in ((25, LINEARIZABLE), (60, NOT_LINEARIZABLE)):
        for read in (get(A), list_ids(A)):
            seen = shows("draft") if read.name == "get" else Answer(200, ids=frozenset({A}))
            history = [*deleted, op(1, start, start + 5, read, seen)]
            assert check(eventual, history).verdict == expected
            assert verdict(history) == NOT_LINEARIZABLE  # visibility=immediate
    made = op(0, 10, 20, create(A, "draft", "new"), shows("draft", "new"))
    for start, expected in ((25, LINEARIZABLE), (60, NOT_LINEARIZABLE)):
        history = [made, op(1, start, start + 5, list_ids(A), Answer(200, ids=frozenset()))]
        assert check(eventual, history).verdict == expected
    late_get = [made, op(1, 25, 30, get(A), Answer(404))]
    assert check(eventual, late_get).verdict == NOT_LINEARIZABLE  # lists lag, gets do not


def history_of(
    spec: SmsSpec, rng: random.Random, branches: int, length: int, lose: float
) -> list[Operation]:
    prefix, programs = sms_programs(rng, branches, length)
    return simulate(spec, programs, rng, prefix, lose=lose)


SPECS = st.sampled_from([SPEC, SmsSpec(settle_lag=5.0)])


@settings(max_examples=60, deadline=None)
@given(SPECS, st.randoms(use_true_random=False), st.integers(1, 6), st.sampled_from([0.0, 0.2]))
def test_every_history_of_a_concurrent_run_of_the_sms_spec_is_linearizable(
    spec: SmsSpec, rng: random.Random, length: int, lose: float
) -> None:
    history = history_of(spec, rng, 3, length, lose)
    result = check(spec, history)
    assert result.verdict == LINEARIZABLE, result.explain()
    assert is_witness(result.order, history)
    assert check(spec, history, partition=False).verdict == LINEARIZABLE


def mutated(rng: random.Random, history: list[Operation]) -> list[Operation]:
    """The history with one answer changed: to the answer of another operation of the same
    kind (a plausible mistake), or to an arbitrary one."""
    answered = [n for n, o in enumerate(history) if not o.indeterminate]
    n = rng.choice(answered)
    old = history[n]
    alike = [o.answer for o in history if o.request.name == old.request.name and o is not old]
    answer = rng.choice(
        [
            *alike,
            *alike,
            Answer(404),
            Answer(400),
            shows(rng.choice(["draft", "scheduled", "outbox", "sent"]), rng.choice(["t0", "x"])),
            Answer(200, ids=frozenset(rng.sample(["s0", "s1"], rng.randint(0, 2)))),
        ]
    )
    changed = op(old.process, old.invoke, old.complete, old.request, answer)
    return [*history[:n], changed, *history[n + 1 :]]


@settings(max_examples=80, deadline=None)
@given(SPECS, st.randoms(use_true_random=False), st.sampled_from([0.0, 0.3]))
def test_a_sms_history_with_one_answer_changed_is_flagged_exactly_when_no_order_explains_it(
    spec: SmsSpec, rng: random.Random, lose: float
) -> None:
    history = mutated(rng, history_of(spec, rng, 2, 2, lose))
    expected = brute_force(spec, history)
    result = check(spec, history)
    assert result.linearizable == expected, result.explain()
    assert check(spec, history, partition=False).linearizable == expected


def test_a_put_that_changes_nothing_on_a_scheduled_sms_may_be_answered_200_or_400() -> None:
    schedule = put(A, status="scheduled", date_scheduled=1000.0)
    scheduled = [draft(), op(0, 2, 3, schedule, shows("scheduled"))]
    again = op(1, 4, 5, schedule, shows("scheduled"))  # the same status and date: no change
    assert verdict([*scheduled, again]) == LINEARIZABLE
    assert verdict([*scheduled, op(1, 4, 5, schedule, Answer(400))]) == LINEARIZABLE
    later = put(A, status="scheduled", date_scheduled=2000.0)  # a change: drafts only
    assert verdict([*scheduled, op(1, 4, 5, later, shows("scheduled"))]) == NOT_LINEARIZABLE
