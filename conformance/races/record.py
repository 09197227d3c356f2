"""Running a plan against a target, with threads, and recording its history (issue 14).

This is the races' I/O edge. :func:`record` runs a :class:`~conformance.races.plans.Plan`:
its prefix one request at a time, then its branches in threads released together by a
barrier, then a read-back (process ``"after"``: a get of every SMS and one list), and
returns a :class:`Recorded` history of :class:`~conformance.races.history.Operation` s the
checker (:func:`conformance.races.checker.check` with
:class:`~conformance.races.sms_spec.SmsSpec`) can judge.

**Times.** Invoke and complete times are ``time.monotonic()`` seconds since the history
began, taken just before a request is sent and just after its answer is read: real time,
so that precedence between threads is real. The embedded server runs on a virtual clock
that does not move by itself, so the histories freeze it, with one step: it stands at
``T0`` during the prefix; just before the branches are released it jumps :data:`ADVANCE`
seconds, at history time ``B``; it stands still during the branches and the read-back.
Dates on the target's clock map to history times accordingly: at or before ``T0`` to 0
(due from the start), in ``(T0, T0 + ADVANCE]`` to ``B`` (they fall due as the branches
start: an SMS "soon" due is sent by the sender's run at the start of whichever branch
request comes first: cancel vs the sender), later ones to :data:`NEVER`. The reference
server runs its sender at the start of each request, under its lock, so "the sender may
run between requests" is exactly what a history can see.

**Answers.** Each answer becomes the spec's :class:`~conformance.races.sms_spec.Answer`
(code, status, text; a list's ids, as the plan's references, restricted to the SMS the
plan made). A transport error, a timeout, a 429 or a 502/503/504 is a lost answer
(``complete`` None): the operation is indeterminate. Requests are sent once, never retried.

**Targets** (:mod:`conformance.races.targets`, re-exported here). A :class:`RaceTarget`
sends one request from any thread.
:class:`EmbeddedRaceTarget` is the reference server in-process (each thread its own event
loop: :class:`~conformance.fake.PerThreadTransport`), on a fresh server per history, with
no rate limit (the frozen clock would never refill it). ``over_http`` serves it on a
loopback port. :mod:`conformance.races.live` runs histories on a run's own target (the
embedded one, or a live one on real time: ``real_time``, see :meth:`_Runner.when`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from conformance.races import sms_spec as sms
from conformance.races.history import Operation
from conformance.races.listed import stamp, unexplained
from conformance.races.plans import Plan, Planned, sends
from conformance.races.targets import (
    BRANCH_TIMEOUT,
    RECIPIENT,
    EmbeddedRaceTarget,
    RaceTarget,
    embedded_races,
)

__all__ = [
    "ADVANCE",
    "NEVER",
    "EmbeddedRaceTarget",
    "RaceTarget",
    "Recorded",
    "embedded_races",
    "record",
]

ADVANCE = 60.0  # seconds the target's clock jumps as the branches start
REAL_TIME_ADVANCE = 2.0  # real seconds waited at the barrier on a real-time target
REAL_TIME_SOON = 2.0  # on a real-time target, "soon" is this long after the request
SKEW = 600.0  # seconds of clock skew between the suite and a real-time target tolerated
SOON = 30.0  # a "soon" due time: this long after T0, so within the jump
LATER = 3600.0  # a "later" due time: after the jump, never due in a history
NEVER = 1e9  # the history time of a date past the jump
LOST_STATUSES = frozenset({429, 502, 503, 504})
SMS = "activity/sms/"


@dataclass(frozen=True, slots=True)
class _Raw:
    process: Any
    planned: Planned
    invoke: float
    complete: float | None
    code: int | None
    body: Any
    date: datetime | None  # the date a scheduled create or schedule sent


@dataclass(frozen=True)
class Recorded:
    """A history as run: its ``operations`` (spec requests and answers, by reference),
    ``ids`` (reference -> the server's id), ``barrier`` (history time ``B``) and
    ``started`` (the target's clock at ``T0``)."""

    plan: Plan
    operations: tuple[Operation, ...]
    ids: Mapping[str, str] = field(default_factory=dict)
    barrier: float = 0.0


class _Runner:
    def __init__(self, target: RaceTarget, plan: Plan) -> None:
        self.target = target
        self.plan = plan
        self.real_time = bool(getattr(target, "real_time", False))
        self.lead_id: str | None = getattr(target, "lead_id", None)
        self.recipient: str = getattr(target, "recipient", RECIPIENT)
        self.t0_clock = target.now()
        self.t0 = time.monotonic()
        self.ids: dict[str, str] = {}
        self.lock = threading.Lock()
        self.raw: list[_Raw] = []
        self.barrier_at = 0.0
        self.clock_at_barrier = self.t0_clock  # the target's clock just before the jump
        self.clock_at_end = self.t0_clock
        self.stop = threading.Event()  # set on an abort or interrupt: branches stop
        self.aborted: BaseException | None = None  # what stopped a branch (RunAborted)

    def elapsed(self) -> float:
        return time.monotonic() - self.t0

    def date(self, when: str | None) -> datetime:
        now = self.target.now()
        if when == "soon" and self.real_time:
            return now + timedelta(seconds=REAL_TIME_SOON)
        if when == "soon":
            return self.t0_clock + timedelta(seconds=SOON)
        if when == "past":
            return now - timedelta(seconds=10)
        return now + timedelta(seconds=LATER)

    def path(self, ref: str | None) -> str:
        with self.lock:
            sms_id = self.ids.get(ref or "")
        if sms_id is None:
            made_up = getattr(self.target, "made_up", None)
            sms_id = made_up(ref) if made_up is not None else f"acti_never_made_{ref}"
        return f"{SMS}{sms_id}/"

    def request(self, op: Planned) -> tuple[str, str, Any, Mapping[str, str] | None, Any]:
        """(method, path, body, params, the date sent) for ``op``."""
        if op.kind == "create":
            body: dict[str, Any] = {
                "status": op.status,
                "text": op.text,
                "local_phone": self.target.local_phone,
                "remote_phone": self.recipient,
            }
            if self.lead_id is not None:
                body["lead_id"] = self.lead_id
            date = None
            if op.status == "scheduled":
                date = self.date(op.when)
                body["date_scheduled"] = date.isoformat()
            if op.status == "outbox":
                soon = REAL_TIME_SOON if self.real_time else SOON
                body["send_in"] = soon if op.when == "soon" else 0
            return "POST", SMS, body, None, date
        if op.kind == "list":
            params = {"_limit": "100"}
            if self.lead_id is not None:
                params["lead_id"] = self.lead_id
            return "GET", SMS, None, params, None
        if op.kind == "get":
            return "GET", self.path(op.ref), None, None, None
        if op.kind == "delete":
            return "DELETE", self.path(op.ref), None, None, None
        if op.kind == "edit":
            return "PUT", self.path(op.ref), {"text": op.text}, None, None
        if op.kind == "schedule":
            date = self.date(op.when)
            body = {"status": "scheduled", "date_scheduled": date.isoformat()}
            return "PUT", self.path(op.ref), body, None, date
        if op.kind == "outbox":
            return "PUT", self.path(op.ref), {"status": "outbox"}, None, None
        if op.kind == "cancel":
            return "PUT", self.path(op.ref), {"status": "draft"}, None, None
        raise ValueError(f"unknown planned operation {op.kind!r}")

    def run_op(self, process: Any, op: Planned) -> None:
        if self.stop.is_set():
            return
        method, path, body, params, date = self.request(op)
        invoke = self.elapsed()
        try:
            answer = self.target.send(method, path, body, params)
        except Exception:  # whatever broke, the request may have been handled: lost
            answer = None
        except BaseException as error:  # a run that must stop (a budget, a refusal): stop
            with self.lock:
                self.aborted = self.aborted or error
            self.stop.set()
            answer = None
        complete = self.elapsed()
        code, decoded = answer if answer is not None else (None, None)
        if code is None or code in LOST_STATUSES or _a_later_page(op, code, decoded):
            # No answer, or a page that is not the last (it says nothing of what it lacks).
            code, complete_at = None, None
        else:
            complete_at = complete
        if op.kind == "create" and code == 200 and isinstance(decoded, dict) and op.ref:
            with self.lock:
                self.ids[op.ref] = str(decoded.get("id"))
        with self.lock:
            self.raw.append(_Raw(process, op, invoke, complete_at, code, decoded, date))

    def branch(self, process: int, ops: tuple[Planned, ...], barrier: threading.Barrier) -> None:
        try:
            barrier.wait(BRANCH_TIMEOUT)
        except threading.BrokenBarrierError:
            return
        for op in ops:
            self.run_op(process, op)

    def release(self) -> None:
        """The barrier's action: the clock jumps (on a real-time target: the time passes),
        and the branches start."""
        self.clock_at_barrier = self.target.now()
        if not self.real_time:
            self.target.advance(ADVANCE)
        elif sends(self.plan):
            self.target.advance(REAL_TIME_ADVANCE)  # real time: let "soon" fall due
        self.barrier_at = self.elapsed()

    def run(self) -> None:
        for op in self.plan.prefix:
            self.run_op("prefix", op)
        count = len(self.plan.branches)
        barrier = threading.Barrier(count, action=self.release) if count else None
        threads = [
            threading.Thread(target=self.branch, args=(n, ops, barrier), daemon=True)
            for n, ops in enumerate(self.plan.branches)
        ]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(BRANCH_TIMEOUT)
        except BaseException:
            # An interrupt: the branches send nothing more; wait for the requests under
            # way, so that every SMS they create is known to the clean-up.
            self.stop.set()
            if barrier is not None:
                barrier.abort()
            for thread in threads:
                thread.join(BRANCH_TIMEOUT)
            raise
        if not threads:
            self.release()
        for ref in self.plan.refs:
            self.run_op("after", Planned("get", ref))
        self.run_op("after", Planned("list"))
        self.clock_at_end = self.target.now()

    # -- the spec's view -------------------------------------------------------------------

    def when(self, date: datetime | None) -> float | None:
        """A date on the target's clock as a history time: the earliest time the history
        grants that the target's clock may have reached it (a due time only ever allows a
        send from then on, so an earlier one can hide a send too early, never make a
        conforming target fail).

        - A clock that jumps (the embedded server's virtual one): a date the clock had
          reached before the jump is due from the start (0); one it reached by the end of
          the history (the jump, or a rate-limit wait that moved it), from the barrier
          ``B``; later ones never (:data:`NEVER`). Frozen as the histories keep it, this
          is exactly the module docstring's mapping.
        - A real-time target: the suite's clock and the server's may disagree (skew), and
          its sender may run at any moment; the races do not judge when a send happens
          (the sequential run does, with its tolerance for skew). Every date before the
          end of the history plus :data:`SKEW` is due from the start; later ones
          (:data:`LATER`, an hour ahead) never."""
        if date is None:
            return None
        if self.real_time:
            horizon = self.clock_at_end + timedelta(seconds=SKEW)
            return 0.0 if date <= horizon else NEVER
        if date <= self.clock_at_barrier:
            return 0.0
        return self.barrier_at if date <= self.clock_at_end else NEVER

    def spec_request(self, raw: _Raw) -> sms.SmsRequest:
        op = raw.planned
        ref = op.ref or ""
        if op.kind == "create":
            assert op.status is not None
            return sms.create(ref, op.status, op.text, self.when(raw.date))
        if op.kind == "list":
            return sms.list_ids(*self.plan.refs)
        if op.kind == "get":
            return sms.get(ref)
        if op.kind == "delete":
            return sms.delete(ref)
        if op.kind == "edit":
            return sms.put(ref, text=op.text)
        if op.kind == "schedule":
            return sms.put(ref, status="scheduled", date_scheduled=self.when(raw.date))
        if op.kind == "outbox":
            return sms.put(ref, status="outbox")
        return sms.put(ref, status="draft")  # cancel

    def spec_answer(self, raw: _Raw) -> sms.Answer | None:
        if raw.code is None:
            return None
        body = raw.body if isinstance(raw.body, dict) else {}
        if raw.code != 200:
            return sms.Answer(raw.code)
        if raw.planned.kind == "list":
            refs = {sms_id: ref for ref, sms_id in self.ids.items()}
            data = body.get("data")
            rows = data if isinstance(data, list) else []
            found = {row.get("id") for row in rows if isinstance(row, dict)}
            listed = {ref for sms_id, ref in refs.items() if sms_id in found}
            texts = {op.text for op in (*self.plan.prefix, *sum(self.plan.branches, ())) if op.text}
            extra = unexplained(rows, refs, self.judged_after(), texts)
            return sms.Answer(200, ids=frozenset(listed), extra=extra)
        if raw.planned.kind == "delete":
            return sms.Answer(200)
        return sms.Answer(200, body.get("status"), body.get("text"))

    def judged_after(self) -> datetime | None:
        """A list may show SMS the history did not make (another phase's, on a live
        target's lead); a copy of one of its SMS made *during* it is no request's. The line
        is the server's ``date_created`` of the prefix's last create (the server's clock
        against itself, so no skew). None (judge none) when a create's answer was lost: the
        SMS it may have made has no id the history knows."""
        stamps = []
        for raw in self.raw:
            if raw.planned.kind == "create" and raw.code is None:
                return None
            if raw.process == "prefix" and raw.planned.kind == "create" and raw.code == 200:
                stamps.append(stamp(raw.body))
        known = [stamp for stamp in stamps if stamp is not None]
        return max(known) if known and len(known) == len(stamps) else None

    def history(self) -> tuple[Operation, ...]:
        ops = [
            Operation(r.process, r.invoke, r.complete, self.spec_request(r), self.spec_answer(r))
            for r in self.raw
        ]
        return tuple(sorted(ops, key=lambda op: op.invoke))


def record(target: RaceTarget, plan: Plan) -> Recorded:
    """Run ``plan`` against ``target`` (see the module's docstring) and return its history.
    The caller closes the target. A ``BaseException`` a request raised (a
    :class:`~conformance.client.RunAborted`: a budget spent, a request the guard refused)
    stops the history's other requests and is raised here once the branches are done,
    as is an interrupt of the calling thread."""
    runner = _Runner(target, plan)
    runner.run()
    if runner.aborted is not None:
        raise runner.aborted
    return Recorded(plan, runner.history(), dict(runner.ids), runner.barrier_at)


def _a_later_page(op: Planned, code: int | None, body: Any) -> bool:
    """A list answered 200 with ``has_more`` not false: it shows one page of several."""
    return (
        op.kind == "list"
        and code == 200
        and isinstance(body, dict)
        and body.get("has_more") is not False
    )
