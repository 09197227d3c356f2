"""The recorder: plans run against the embedded server in threads, recorded as histories
the checker can judge (times, overlap, lost answers, dates on the frozen clock, lists)."""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import pytest

from conformance.races.checker import check
from conformance.races.plans import SHAPES, Plan, Planned, draw_plan
from conformance.races.record import NEVER, EmbeddedRaceTarget, Recorded, record
from conformance.races.sms_spec import SmsSpec


class Wrapped:
    """The embedded server behind a hook: ``slow`` real seconds per request, and
    ``lose(method, path, body)`` saying which answer to lose (None: keep it; else what
    :meth:`send` gives instead)."""

    def __init__(self, slow: float = 0.0, lose: Any = None, faults: tuple = ()) -> None:
        self.inner = EmbeddedRaceTarget(faults)
        self.local_phone = self.inner.local_phone
        self.slow, self.lose = slow, lose

    def now(self) -> datetime:
        return self.inner.now()

    def advance(self, seconds: float) -> None:
        self.inner.advance(seconds)

    def send(
        self, method: str, path: str, body: Any = None, params: Mapping[str, str] | None = None
    ) -> tuple[int, Any] | None:
        answer = self.inner.send(method, path, body, params)
        time.sleep(self.slow)
        if self.lose is not None and self.lose(method, path, body):
            return self.lose(method, path, body)[1]
        return answer

    def close(self) -> None:
        self.inner.close()


def run(plan: Plan, target: Any = None) -> Recorded:
    target = target or EmbeddedRaceTarget()
    try:
        return record(target, plan)
    finally:
        target.close()


EDITS = Plan(
    (Planned("create", "s0", "draft", "a"),),
    ((Planned("edit", "s0", text="b"), Planned("get", "s0")), (Planned("edit", "s0", text="c"),)),
)


def test_every_operation_is_invoked_before_it_completes_and_the_branches_overlap():
    recorded = run(draw_plan(random.Random(3), 3, "concurrent puts"), Wrapped(slow=0.02))
    ops = recorded.operations
    assert all(op.complete is not None and op.invoke <= op.complete for op in ops)
    branch = [op for op in ops if isinstance(op.process, int)]
    overlapping = [
        (a, b)
        for a in branch
        for b in branch
        if a.process != b.process and a.invoke < b.returned and b.invoke < a.returned
    ]
    assert overlapping  # released together by the barrier, 20 ms each
    assert {op.process for op in ops} == {"prefix", 0, 1, 2, "after"}


def test_the_prefix_completes_before_the_clock_jumps_and_the_branches_start_after():
    recorded = run(EDITS)
    prefix = [op for op in recorded.operations if op.process == "prefix"]
    branch = [op for op in recorded.operations if isinstance(op.process, int)]
    assert max(op.returned for op in prefix) <= recorded.barrier
    assert min(op.invoke for op in branch) >= recorded.barrier


def test_a_lost_answer_is_recorded_as_indeterminate_and_the_history_still_checks():
    def lose(method: str, path: str, body: Any) -> Any:
        return (True, None) if method == "PUT" and body == {"text": "c"} else None

    recorded = run(EDITS, Wrapped(lose=lose))
    (lost,) = [op for op in recorded.operations if op.indeterminate]
    assert lost.complete is None and lost.answer is None and str(lost.request).startswith("put")
    assert check(SmsSpec(), recorded.operations).linearizable


@pytest.mark.parametrize("code", [503, 504, 429])
def test_a_transient_status_is_a_lost_answer(code):
    def lose(method: str, path: str, body: Any) -> Any:
        return (True, (code, {"error": "busy"})) if method == "PUT" else None

    recorded = run(EDITS, Wrapped(lose=lose))
    puts = [op for op in recorded.operations if op.request.name == "put"]
    assert len(puts) == 2 and all(op.indeterminate for op in puts)


def test_an_answer_the_spec_cannot_explain_is_recorded_as_given():
    def lose(method: str, path: str, body: Any) -> Any:
        return (True, (500, {"error": "bug"})) if method == "PUT" else None

    recorded = run(EDITS, Wrapped(lose=lose))
    puts = [op for op in recorded.operations if op.request.name == "put"]
    assert [op.answer.code for op in puts] == [500, 500]
    assert not check(SmsSpec(), recorded.operations).linearizable


def test_due_dates_map_to_history_times_on_the_frozen_clock():
    plan = Plan(
        (
            Planned("create", "s0", "scheduled", "a", "soon"),
            Planned("create", "s1", "scheduled", "b", "later"),
        ),
        ((Planned("get", "s0"),), (Planned("get", "s1"),)),
    )
    recorded = run(plan)
    creates = {op.request.id: op.request.field("date_scheduled") for op in recorded.operations
               if op.request.name == "create"}  # fmt: skip
    assert creates == {"s0": recorded.barrier, "s1": NEVER}
    # The SMS due "soon" was sent by the sender's run as the branches started; the other not.
    answers = {op.request.id: op.answer.status for op in recorded.operations
               if op.process == "after" and op.request.name == "get"}  # fmt: skip
    assert answers == {"s0": "sent", "s1": "scheduled"}


def test_a_list_answers_with_the_plans_references_of_the_sms_it_showed():
    plan = Plan(
        (Planned("create", "s0", "draft", "a"),),
        ((Planned("create", "n0.0", "draft", "b"),), (Planned("delete", "s0"),)),
    )
    recorded = run(plan)
    (listed,) = [op for op in recorded.operations if op.request.name == "list"]
    assert listed.request.ids == {"s0", "n0.0"} and listed.answer.ids == {"n0.0"}
    assert set(recorded.ids) == {"s0", "n0.0"}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_the_clean_embedded_server_is_linearizable_on_every_shape(shape):
    for seed in range(3):
        recorded = run(draw_plan(random.Random(seed), 3, shape))
        assert check(SmsSpec(), recorded.operations).linearizable, recorded.operations


def test_a_request_whose_sending_raised_is_recorded_as_lost_not_dropped():
    class Broken(Wrapped):
        def send(self, method, path, body=None, params=None):
            answer = super().send(method, path, body, params)
            if method == "PUT":
                raise RuntimeError("the connection broke after the request went out")
            return answer

    recorded = run(EDITS, Broken())
    puts = [op for op in recorded.operations if op.request.name == "put"]
    assert len(puts) == 2 and all(op.indeterminate for op in puts)
    assert check(SmsSpec(), recorded.operations).linearizable


class Listing(Wrapped):
    """The embedded server, with ``rows`` added to every list's answer (each row's
    ``date_created`` as given, or a minute after the server's clock), and the creates of
    ``lost_creates`` answered with nothing."""

    def __init__(self, rows: list[dict], lost_creates: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.rows, self.lost_creates = rows, lost_creates

    def send(self, method, path, body=None, params=None):
        answer = super().send(method, path, body, params)
        if method == "POST" and isinstance(body, dict) and body.get("text") in self.lost_creates:
            return None
        if method == "GET" and path == "activity/sms/" and answer is not None:
            code, page = answer
            later = (self.now() + timedelta(minutes=1)).isoformat()
            rows = [{"date_created": later, **row} for row in self.rows]
            return code, {**page, "data": [*page["data"], *rows]}
        return answer


def _lists(recorded: Recorded) -> list:
    return [op.answer for op in recorded.operations if op.request.name == "list"]


def test_a_list_showing_a_copy_of_an_sms_no_request_made_during_the_history_is_never_explained():
    recorded = run(EDITS, Listing([{"id": "acti_nobody_made", "text": "b"}]))
    (after,) = _lists(recorded)
    assert after.ids == {"s0"} and after.extra == {"acti_nobody_made"}
    assert "+acti_nobody_made" in str(after)
    assert not check(SmsSpec(), recorded.operations).linearizable


def test_an_sms_made_meanwhile_with_no_text_of_the_history_is_let_be():
    # On a live target something else may text the lead meanwhile (a workflow): only a copy
    # of one of the history's SMS (one of its texts) is the history's doing.
    recorded = run(EDITS, Listing([{"id": "acti_workflow", "text": "Welcome aboard!"}]))
    (after,) = _lists(recorded)
    assert after.ids == {"s0"} and after.extra == frozenset()
    assert check(SmsSpec(), recorded.operations).linearizable


def test_an_sms_made_before_the_history_began_may_be_listed_beside_its_own():
    # Another phase's SMS on a live target's lead: made before the prefix's last create.
    old = {"id": "acti_older", "text": "a", "date_created": "2000-01-01T00:00:00+00:00"}
    undated = {"id": "acti_undated", "text": "a", "date_created": None}
    recorded = run(EDITS, Listing([old, undated]))
    (after,) = _lists(recorded)
    assert after.ids == {"s0"} and after.extra == frozenset()
    assert check(SmsSpec(), recorded.operations).linearizable


def test_an_sms_of_the_history_listed_twice_is_never_explained():
    class Twice(Wrapped):
        def send(self, method, path, body=None, params=None):
            answer = super().send(method, path, body, params)
            if method == "GET" and path == "activity/sms/" and answer is not None:
                code, page = answer
                return code, {**page, "data": page["data"] * 2}
            return answer

    recorded = run(EDITS, Twice())
    (after,) = _lists(recorded)
    assert after.extra == {"s0 listed twice"}
    assert not check(SmsSpec(), recorded.operations).linearizable


def test_after_a_create_whose_answer_was_lost_no_unknown_sms_is_judged():
    # The lost create may have made the SMS the list shows: its id is unknown to the history.
    plan = Plan(
        (Planned("create", "s0", "draft", "a"),),
        ((Planned("create", "n0.0", "draft", "b"),), (Planned("get", "s0"),)),
    )
    recorded = run(plan, Listing([{"id": "acti_maybe_n0", "text": "b"}], lost_creates=("b",)))
    (after,) = _lists(recorded)
    assert after.extra == frozenset()
    assert check(SmsSpec(), recorded.operations).linearizable


def test_under_the_double_send_variant_the_second_send_shows_as_an_sms_nobody_made(monkeypatch):
    monkeypatch.setattr("conformance.refserver.race_faults.RACE_WINDOW", 0.4)  # met surely
    plan = Plan(
        (Planned("create", "s0", "draft", "a"),),
        ((Planned("outbox", "s0"),), (Planned("outbox", "s0"),)),
    )
    recorded = run(plan, Wrapped(faults=("race-double-send",)))
    (after,) = _lists(recorded)
    puts = sorted(op.answer.code for op in recorded.operations if op.request.name == "put")
    assert puts == [200, 400]  # one send took; the other was refused, after it went out
    assert after.ids == {"s0"} and len(after.extra) == 1
    assert not check(SmsSpec(), recorded.operations).linearizable
