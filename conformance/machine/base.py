"""The step pipeline every rule goes through, and an example's set-up and teardown.

A step is a fixed pipeline (the schemathesis ``APIStateMachine`` shape): send the request,
run the registered checks on the exchange (through :func:`conformance.judging.judge`), then
let the model adopt what the server did. :meth:`MachineBase._judged` is the one place a step
is counted. A violated rule raises :class:`RuleViolation` carrying the example's transcript,
so Hypothesis shrinks it to the shortest request sequence that still breaks the rule.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition

import conformance.rules  # noqa: F401  (registers the checks)
from conformance.checks import Finding, Step
from conformance.http_semantics import TRANSIENT_STATUSES
from conformance.judging import judge
from conformance.model import Expectation, Model, SmsRecord, TimeWindow
from conformance.records import Exchange
from conformance.run_state import RunState
from conformance.safety import item_path

SMS = "activity/sms/"
# Strategies get this fixed "now", never the clock's: Hypothesis needs the same choices to
# draw the same shapes in every example, and the clock moves on between examples. Dates
# that must be relative to the real now (date_scheduled) are drawn as offsets instead.
STRATEGY_NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


class RuleViolation(AssertionError):
    """A documented rule was broken. Carries the transcript that led to it."""

    def __init__(self, finding: Finding, transcript: list[Exchange], steps: int) -> None:
        super().__init__(f"{finding.rule}: expected {finding.expected}; got {finding.actual}")
        self.finding = finding
        self.transcript = tuple(transcript)
        self.steps = steps


def has(*statuses: str) -> Callable[[Any], Any]:
    """A precondition: the model knows an SMS in one of ``statuses``."""
    return precondition(lambda self: bool(self.model.in_status(*statuses)))


def transient(step: Step) -> bool:
    """True when the step got no usable answer: nothing, a 502/503/504, or an answer the
    client had to retry for (a retried DELETE's 404 says only that an earlier try worked)."""
    response = step.exchange.response
    return (
        response is None
        or response.status_code in TRANSIENT_STATUSES
        or step.exchange.error is not None
    )


class MachineBase(RuleBasedStateMachine):
    state: RunState  # the run's, shared by every example (set by build_machine)

    def __init__(self) -> None:
        super().__init__()
        target = self.state.target
        assert target.fixtures is not None
        self.target = target
        self.fixtures = target.fixtures
        self.model = Model(
            target.fixtures,
            target.timing,
            deleted_before=frozenset(self.state.gone),
            uncertain=set(self.state.uncertain),
            lost=list(self.state.lost),
            reads_may_lag=self.state.settle > 0,
        )
        self.transcript: list[Exchange] = []
        self.steps = 0
        self.failed = False  # once a step broke a rule, teardown only cleans up
        self.created: dict[str, None] = {}  # every SMS the server created, to delete at the end
        if target.clock_can_jump:
            # Start every example at noon UTC of a new day: a fresh rate-limit window and
            # the same time of day, so the same choices meet the same 429s and the same
            # date boundaries. Hypothesis needs a replay to behave as the original did.
            now = target.clock.now()
            noon = (now + timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)
            target.clock.sleep((noon - now).total_seconds())
        self.state.tally.examples += 1

    # -- the pipeline ----------------------------------------------------------------------

    def _send(self, method: str, path: str, **kwargs: Any) -> tuple[Exchange, TimeWindow]:
        exchange, window = self.target.api.send(method, path, **kwargs)
        if self.target.api.last_throttled:
            self.transcript.extend(self.target.api.last_throttled)
            self._judge(Step("throttled", list(self.target.api.last_throttled), window, self.model))
        self.transcript.append(exchange)
        response = exchange.response
        body = response.body if response is not None else None
        if method == "POST" and isinstance(body, dict) and isinstance(body.get("id"), str):
            self.created[body["id"]] = None  # whatever the status: delete it at the end
        return exchange, window

    def _judge(self, step: Step, reread: Callable[[], Step] | None = None) -> Step:
        """Run every check registered for the step's operation; raise on a violation.
        Return the step judged (a re-read one, when it was re-read).

        A step that met noise (no answer, a 429 left after the waits, a 502/503/504) is not
        judged: what a gateway or a rate limiter said is not the API's answer. Only the
        throttling itself is (the rate-limit rules).

        A read (``reread`` given) that breaks a rule is read again, after waits that double,
        while the run's settle window lasts (``--settle``): a target whose reads lag behind
        its writes (the ``visibility=eventual`` reading) gets that long to settle before it
        is failed; the re-reads are in the transcript."""
        state = self.state
        judged = judge(
            step,
            state.tally,
            muted=state.muted,
            reread=reread,
            wait=self.target.clock.sleep,
            settle=state.settle,
        )
        if judged.violation is not None:
            self.failed = True
            error = RuleViolation(judged.violation, self.transcript, self.steps)
            if state.first_violation is None:
                state.first_violation = error  # kept in case replays differ (flaky)
            raise error
        return judged.step

    def _judged(self, send: Callable[[], Step], *, reread: bool = False) -> Step:
        """One step: count it (the example's steps and the run's tally, here only), make it
        with ``send`` and judge it. A read (``reread``) that breaks a rule is made again
        while the settle window lasts."""
        self.steps += 1
        self.state.tally.steps += 1
        return self._judge(send(), reread=send if reread else None)

    def _step(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        expectation: Expectation | Callable[[TimeWindow], Expectation] | None = None,
        record: SmsRecord | None = None,
        **kwargs: Any,
    ) -> Step:
        """Send one request and judge it. ``expectation`` may be a function of the time
        window the server answered in: what the docs allow depends on when it happened
        (after a 429 was waited out, say), not on when the request was first tried."""

        def send() -> Step:
            exchange, window = self._send(method, path, **kwargs)
            return Step(
                operation,
                [exchange],
                window,
                self.model,
                expectation=expectation(window) if callable(expectation) else expectation,
                record=record,
                auth=kwargs.get("auth", "basic"),
                params={k: str(v) for k, v in (kwargs.get("params") or {}).items()},
            )

        return self._judged(send, reread=method == "GET")

    def _get(self, record: SmsRecord, **kwargs: Any) -> Step:
        """Read one SMS back by id: it must be there, as the model has it."""
        return self._step(
            "get",
            "GET",
            item_path(SMS, record.id),
            expectation=Expectation("sms/get/returns-object", True),
            record=record,
            **kwargs,
        )

    def _pass_time(self, seconds: float) -> None:
        """Let the (virtual) clock run: a machine step of its own that sends nothing, so
        the run's tally, which counts requests judged, does not count it."""
        self.steps += 1
        self.target.clock.sleep(seconds)

    def _now(self) -> datetime:
        return self.target.clock.now()

    def _pick(self, data: st.DataObject, *statuses: str) -> Any:
        records = self.model.in_status(*statuses) if statuses else list(self.model.records.values())
        return data.draw(st.sampled_from(records), label="sms")

    def _observe_statuses(self, step: Step) -> None:
        """Let the model adopt the statuses the server showed (already judged allowed), and
        the activity_at it showed where the docs leave it open (see SmsRecord.observe)."""
        for exchange in step.exchanges:
            body = exchange.response.body if exchange.response else None
            items = body.get("data") if isinstance(body, dict) and "data" in body else [body]
            for item in items if isinstance(items, list) else []:
                if isinstance(item, dict) and item.get("id") in self.model.records:
                    record = self.model.records[item["id"]]
                    self.model.apply(record.observe(item, step.window, self.model.timing))

    # -- the end of an example -------------------------------------------------------------

    def teardown(self) -> None:
        try:
            if not self.failed:
                self._check_due_times()
        finally:
            gone = self.model.deleted
            kept = self.target.delete_sms([sms_id for sms_id in self.created if sms_id not in gone])
            # What clean-up could not confirm deleted may still be there: never "gone".
            self.state.gone.update(set(self.created) - set(kept) - self.model.uncertain)
            self.state.uncertain.update(kept, self.model.uncertain)
            self.state.lost = list(self.model.lost)  # still unaccounted for

    def _check_due_times(self) -> None:
        """The example's last word: every known SMS reads back as the model has it. On a
        virtual clock, every due time is let pass first (instantly), so pending SMS must now
        be sent and cancelled ones must not; on real time the timing ledger does that."""
        records = list(self.model.records.values())
        timed = [r for r in records if r.due is not None or r.cancelled]
        if timed and self.target.clock_can_jump:
            dues = [moment for r in timed for moment in (r.due, r.was_due) if moment is not None]
            latest = max(dues, default=self._now())
            wait = (latest - self._now()).total_seconds() + self.target.timing.grace + 1
            self.target.clock.sleep(max(wait, 1))
        # The timed ones first (a stable sort): a broken due time ends the transcript at once.
        for record in sorted(records, key=lambda r: r.due is None and not r.cancelled):
            self._get(self.model.records[record.id])
