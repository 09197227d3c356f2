"""Races against the run's own target: ``run --races`` and ``races --base-url`` (issue 14,
deliverable 5).

The histories go through the run's :class:`~conformance.target.Target`: its client (so the
guard, the request and time budgets, the rate-limit waits and the deadlines of ``run`` hold
for every race request), its fixtures (the SMS are created on the run's first lead, from
its first internal number, to its first recipient; lists are filtered by that lead) and its
clean-up. Safe on a live target:

- **opt-in**: nothing here runs unless asked (``--races``);
- **bounded**: at most ``histories`` histories, ``max_requests`` requests (clean-up's
  DELETEs apart, as in ``run``) and ``max_seconds`` of wall time; a history is only begun
  when its requests fit in what is left (:data:`HISTORY_ALLOWANCE` per planned operation)
  and the time left exceeds the longest history so far. The report says how many ran and
  why they stopped;
- **no send without --allow-send**: on a target that may not send, every plan is turned
  into drafts (:func:`~conformance.races.plans.without_sends`) and the guard refuses a send
  anyway;
- **cleaned up**: each history deletes the SMS it created when it ends, whatever ended it
  (an abort, an interrupt: the branches under way are waited for first, so that every SMS
  they made is known); a DELETE that fails is tried again by the target's clean-up and, that
  failing, listed among the run's leftovers with the ``cleanup`` command. The SMS are on the
  run's own lead, which the run deletes last;
- **noise is never a violation**: a 429 is waited out by the client as in ``run``; one still
  rate limited, a 502/503/504, a timeout or a reset is a lost answer, which the checker
  treats as indeterminate (it may or may not have taken effect).

**Time.** On a real-time target invoke and complete are ``time.monotonic()``; the suite's
clock and the server's may disagree, so the races do not judge when a send happens (see
:meth:`conformance.races.record._Runner.when`): a skew between them cannot make a
conforming server fail. Reads may lag behind deletes and creates on a live target (Close's
did, for 30-60 s: close-sms-api.md, observed fact 1), so unless ``--settle 0`` the spec
is the ``visibility=eventual`` reading with a lag as long as the history.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from conformance.checks import Finding
from conformance.races.plans import Plan, without_sends
from conformance.races.record import NEVER
from conformance.races.rules import Attribution, attribute
from conformance.races.run import RaceReport, run_races, spec_for
from conformance.races.sms_spec import SmsSpec
from conformance.target import Target
from conformance.target.naming import SMS

__all__ = ["HISTORY_ALLOWANCE", "RaceLimits", "TargetRaces", "races_on_target"]

HISTORY_ALLOWANCE = 3  # requests budgeted per planned operation (its own, read-back, delete)


@dataclass(frozen=True, slots=True)
class RaceLimits:
    """How much racing a run may do: ``histories`` of ``branches`` branches, within
    ``max_requests`` requests and ``max_seconds`` of wall time."""

    histories: int = 20
    branches: int = 3
    max_requests: int = 500
    max_seconds: float = 120.0


@dataclass
class TargetRaces:
    """What the races on a target found: the report, the rule a failure breaks (None:
    none failed, or the failure names no documented rule) and the requests sent."""

    report: RaceReport
    attribution: Attribution | None
    requests: int
    limits: RaceLimits
    may_send: bool

    def note(self) -> str:
        """One line for the run's reason: what ran, and how it ended."""
        report = self.report
        ran = f"races: {report.histories} of {self.limits.histories} histories run"
        ran += "" if self.may_send else " (drafts only: no --allow-send)"
        ran += f", {self.requests} requests"
        if report.failure is not None:
            ran += ", 1 not linearizable"
            if self.attribution is None:
                ran += " (informational: it breaks no rule the docs state)"
            else:
                ran += f" ({self.attribution.rule})"
        elif report.unknown:
            ran += f", {report.unknown} left unknown by the checker's budget"
        else:
            ran += ", every one explained"
        if report.stopped:
            ran += f"; stopped early: {report.stopped}"
        return ran

    def finding(self) -> Finding | None:
        """The violation, as the run's tally records it."""
        if self.attribution is None or self.report.failure is None:
            return None
        failure, at = self.report.failure, self.attribution
        return Finding(
            at.rule,
            ok=False,
            expected=at.expected,
            actual=at.actual,
            message=(
                f"a concurrent history no order of its requests explains: {at.operation} "
                f"(shape {failure.shrunk.plan.shape!r}, {failure.shrunk.plan.size} "
                "operations after shrinking)"
            ),
        )


class _Budget:
    def __init__(self, limits: RaceLimits) -> None:
        self.limits = limits
        self.started = time.monotonic()
        self.requests = 0
        self.longest = 0.0
        self.lock = threading.Lock()

    def count(self, method: str) -> None:
        if method != "DELETE":
            with self.lock:
                self.requests += 1

    def stop(self, plan: Plan) -> str | None:
        needed = HISTORY_ALLOWANCE * plan.size
        if self.requests + needed > self.limits.max_requests:
            return (
                f"the races' request budget of {self.limits.max_requests} is spent "
                f"({self.requests} sent; the next history may need {needed})"
            )
        elapsed = time.monotonic() - self.started
        if elapsed + self.longest > self.limits.max_seconds:
            return f"the races' time budget of {self.limits.max_seconds:g} s is spent"
        return None


class _History:
    """One history on the run's target (a :class:`~conformance.races.record.RaceTarget`):
    requests through the run's client; :meth:`close` deletes the SMS it created."""

    def __init__(self, target: Target, budget: _Budget) -> None:
        fixtures = target.fixtures
        assert fixtures is not None, "the races run after the fixtures are found"
        self.target = target
        self.budget = budget
        self.local_phone = fixtures.internal_phones[0]
        self.recipient = target.recipients[0]
        self.lead_id = fixtures.leads[0][0] if fixtures.leads else None
        self.real_time = not target.clock_can_jump
        self.created: list[str] = []
        self._lock = threading.Lock()
        self._began = time.monotonic()

    def now(self) -> datetime:
        return self.target.clock.now()

    def advance(self, seconds: float) -> None:
        self.target.clock.sleep(seconds)  # a virtual clock jumps; real time is waited

    def made_up(self, ref: str | None) -> str:
        guard = self.target.api.guard
        return guard.made_up(SMS) if guard is not None else f"acti_never_made_{ref}"

    def send(
        self, method: str, path: str, body: Any = None, params: Any = None
    ) -> tuple[int, Any] | None:
        self.budget.count(method)
        exchange, _ = self.target.api.send(method, path, json_body=body, params=params)
        response = exchange.response
        if response is None:
            return None
        answer = response.body
        created = method == "POST" and response.status_code == 200
        if created and isinstance(answer, dict) and isinstance(answer.get("id"), str):
            with self._lock:
                self.created.append(answer["id"])
        if exchange.error is not None:
            # An answer the client could not take as this request's: a DELETE retried
            # after a lost answer, now 404 (the first try, or another request, deleted
            # it), a body cut short. Lost: it may or may not have taken effect.
            return None
        return response.status_code, answer

    def close(self) -> None:
        with self._lock:
            created = list(self.created)
        try:
            self.target.delete_sms(created)  # what fails is retried by the target's close
        finally:
            took = time.monotonic() - self._began
            self.budget.longest = max(self.budget.longest, took)


def target_spec(target: Target, settle: float) -> SmsSpec:
    """The spec the target is held to: the embedded server's by the readings it serves; a
    live target's reads may lag behind its writes for the whole history unless ``settle``
    is 0 (``visibility=eventual``, as Close's were seen to)."""
    server = target.server
    if target.embedded and server is not None:
        return spec_for(getattr(getattr(server, "readings", None), "chosen", None))
    return SmsSpec(settle_lag=NEVER) if settle > 0 else SmsSpec()


def races_on_target(
    target: Target,
    seed: int,
    limits: RaceLimits,
    *,
    settle: float = 0.0,
    on_history: Callable[[], None] | None = None,
) -> TargetRaces:
    """Run the races on ``target`` (fixtures found, not yet closed) within ``limits``; see
    the module's docstring. A :class:`~conformance.client.RunAborted` (the run's own
    budgets, a refusal, an unreachable target) and an interrupt are raised after the
    history under way is cleaned up."""
    budget = _Budget(limits)
    may_send = target.allow_send or target.sends_nowhere
    spec = target_spec(target, settle)

    def factory() -> _History:
        if on_history is not None:
            on_history()
        return _History(target, budget)

    report = run_races(
        factory,
        seed,
        limits.histories,
        limits.branches,
        spec=spec,
        tries=2,
        max_replays=20,
        prepare=None if may_send else without_sends,
        stop=budget.stop,
    )
    attribution = None
    if report.failure is not None:
        shrunk = report.failure.shrunk
        attribution = attribute(
            report.failure.result,
            spec,
            shrunk.operations,
            listed_by="lead_id" if target.fixtures and target.fixtures.leads else "",
        )
    return TargetRaces(report, attribution, budget.requests, limits, may_send)
