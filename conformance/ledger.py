"""The timing ledger: the sending rules on real time, without sleeping per SMS.

Against a target on real time, an SMS sent after ``send_in`` seconds or at
``date_scheduled`` can only be judged once that time has passed. Instead of waiting in
every example, the engine opens a ledger before the state machine runs: a set of timed SMS
(:data:`PLAN`) made to send a few seconds ahead, each one way the docs allow (an outbox
create with ``send_in``, a scheduled create, a draft scheduled or sent by PUT), some of them
read before they are due, cancelled (at once, or in the last seconds before the due
time), cancelled and scheduled again later, or deleted while pending. They fall due while
the machine works; at the end one wait covers them all, and each is read back and judged
by the same checks as any other step: a status shown before the due time, a ``date_sent``
before it (on the server's own clock), an SMS never sent after the grace, one sent after
it was cancelled, one readable after it was deleted. Every request the ledger makes is
judged so. Ledger SMS hang off a lead of their own, so the machine's lists (always scoped
to the run's other leads) never see them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from conformance.catalogue import CATALOGUE
from conformance.checks import Finding, Step
from conformance.judging import Tally, is_noise, judge
from conformance.model import DELIVERED, SENDING, Expectation, Model, SmsRecord
from conformance.model.timing import TimeWindow
from conformance.records import Exchange, Failure
from conformance.safety import item_path
from conformance.target import Target

__all__ = ["PLAN", "Probe", "TimingLedger"]

SMS = "activity/sms/"
POLL_SECONDS = 5.0  # how often the probes are read while the ledger waits for the sender
RESCHEDULE_LATER = 15  # seconds a cancelled probe is scheduled again after its first due time


@dataclass(frozen=True, slots=True)
class Probe:
    """One timed SMS: made to send ``seconds`` from now, ``how`` (``outbox``: a create
    with ``send_in``; ``scheduled``: a create with ``date_scheduled``; ``put-scheduled``
    and ``put-outbox``: a draft created, then scheduled or sent by PUT), then ``then``:
    ``read`` at once, ``cancel`` at once (with ``seconds`` of 2-3, in the last seconds
    before the due time), ``reschedule`` (cancel, then schedule again
    :data:`RESCHEDULE_LATER` s after the first due time) or ``delete`` while pending."""

    how: str
    seconds: int
    then: str = ""


PLAN = (
    Probe("outbox", 0),
    Probe("outbox", 4, "read"),
    Probe("outbox", 10, "cancel"),
    Probe("outbox", 2, "cancel"),
    Probe("scheduled", 5, "read"),
    Probe("scheduled", 8, "cancel"),
    Probe("scheduled", 3, "cancel"),
    Probe("scheduled", 6, "reschedule"),
    Probe("scheduled", 6, "delete"),
    Probe("put-scheduled", 5),
    Probe("put-outbox", 0),
)


@dataclass
class TimingLedger:
    target: Target
    tally: Tally
    plan: tuple[Probe, ...] = PLAN
    model: Model = field(init=False)
    transcripts: dict[str, list[Exchange]] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    seen_sent: set[str] = field(default_factory=set)  # probes read back sent while waiting
    deleted: list[str] = field(default_factory=list)  # deleted while pending: read at the end
    settle: float = 0.0  # seconds a read that breaks a rule is tried again (the run's)
    lead: str = ""

    def __post_init__(self) -> None:
        assert self.target.fixtures is not None
        self.model = Model(self.target.fixtures, self.target.timing)

    # -- opening: the probes made and handled ----------------------------------------------

    def open(self) -> None:
        """Make every probe of the plan and do to it what the plan says."""
        fixtures = self.target.fixtures
        assert fixtures is not None
        # A lead of its own, or (a target without POST /lead/) the first of the run's.
        self.lead = self.target.create_lead("ledger") or fixtures.lead_id
        for probe in self.plan:
            if self.target.api.interrupted:
                return
            record = self._make(probe)
            if record is None or not probe.then:
                continue
            if probe.then == "read":
                self._read(record)
            elif probe.then == "delete":
                self._delete(record)
            else:
                cancelled = self._update(record, {"status": "draft"})
                if probe.then == "reschedule" and cancelled is not None and record.due:
                    later = record.due + timedelta(seconds=RESCHEDULE_LATER)
                    self._update(cancelled, _scheduled_at(later))

    def _make(self, probe: Probe) -> SmsRecord | None:
        """Create the probe's SMS (and send a draft by PUT): its record, or None when the
        model does not follow it (a refusal, noise: judged, nothing more done)."""
        fixtures = self.target.fixtures
        assert fixtures is not None
        body: dict[str, Any] = {
            "lead_id": self.lead,
            "status": probe.how.removeprefix("put-"),
            "local_phone": fixtures.internal_phones[0],
            "remote_phone": fixtures.remote_phones[0],
            "text": f"sms-conformance {self.target.run_id} timing probe",
        }
        due = self.target.clock.now() + timedelta(seconds=probe.seconds)
        sending = {"status": body["status"]}
        if body["status"] == "scheduled":
            sending["date_scheduled"] = due.isoformat()
        elif probe.seconds:
            sending["send_in"] = probe.seconds
        if probe.how.startswith("put-"):
            body["status"] = "draft"
        else:
            body.update(sending)
        step = self._judged(
            "create", "POST", SMS, body, lambda window: self.model.expect_create(body, window)
        )
        if not _accepted(step) or not isinstance(step.body, dict) or "id" not in step.body:
            return None
        record = self.model.add(step.expectation.record, step.body, step.window)  # type: ignore[union-attr,arg-type]
        self.transcripts[record.id] = list(step.exchanges)
        self.model.apply(record.observe_status(step.body.get("status", record.status)))
        record = self.model.records[record.id]
        if probe.how.startswith("put-"):
            return self._update(record, sending)
        return record

    def _update(self, record: SmsRecord, body: dict[str, Any]) -> SmsRecord | None:
        step = self._judged(
            "update",
            "PUT",
            item_path(SMS, record.id),
            body,
            lambda window: self.model.expect_update(record.id, body, window),
            record=record,
        )
        expectation = step.expectation
        if not _accepted(step) or expectation is None or expectation.record is None:
            self.model.forget(record.id)  # refused, or not followed: judged no further
            return None
        updated = expectation.record.settled(step.body)
        if updated.status == "outbox":
            updated = replace(updated, due=step.window.start)
        self.model.apply(updated)
        return updated

    def _delete(self, record: SmsRecord) -> None:
        step = self._judged(
            "delete",
            "DELETE",
            item_path(SMS, record.id),
            None,
            lambda _: self.model.expect_delete(record.id),
            record=record,
        )
        self.model.forget(record.id)
        if _accepted(step):
            self.deleted.append(record.id)

    def _read(self, record: SmsRecord) -> None:
        step = self._judged(
            "get",
            "GET",
            item_path(SMS, record.id),
            None,
            lambda _: Expectation("sms/get/returns-object", True),
            record=record,
        )
        body = step.body
        if _accepted(step) and isinstance(body, dict) and isinstance(body.get("status"), str):
            self.model.apply(record.observe(body, step.window, self.model.timing))

    def _judged(
        self,
        operation: str,
        method: str,
        path: str,
        body: Any,
        expect: Callable[[TimeWindow], Expectation],
        record: SmsRecord | None = None,
        sms_id: str | None = None,
    ) -> Step:
        """Send one request and judge it as the machine would (the expectation for the
        window the server handled it in; a read that breaks a rule read again while the
        run's settle window lasts), keeping its failures with the SMS's transcript so far."""

        def send() -> Step:
            exchange, window = self.target.api.send(method, path, json_body=body)
            return Step(operation, [exchange], window, self.model, expect(window), record=record)

        sms_id = sms_id or (record.id if record is not None else None)
        transcript = self.transcripts.setdefault(sms_id, []) if sms_id else []
        judged = judge(
            send(),
            self.tally,
            reread=send if operation == "get" else None,
            wait=self.target.clock.sleep,
            settle=self.settle,
        )
        transcript.append(judged.step.exchange)
        failed = {failure.rule for failure in self.failures}
        for finding in judged.violations():
            if finding.rule not in failed:
                failed.add(finding.rule)
                self.failures.append(_failure(finding, list(transcript)))
        return judged.step

    # -- closing: the wait, the reads, the judgments ---------------------------------------

    def close(self, *, wait: bool = True) -> None:
        """Wait until every probe is due, then until the ones not cancelled show they were
        sent (read every ``POLL_SECONDS``) or the grace period is over; judge each, delete
        them. A sender that runs now and then (a job once a minute) is as good as one that
        runs at once: the docs give no precision (audit S1), ``--grace`` bounds the wait.
        With ``wait=False`` (the run was cut short) only delete them."""
        try:
            if not wait:
                return
            dues = [
                moment
                for r in self.model.records.values()
                for moment in (r.due, r.was_due)
                if moment is not None
            ]
            if dues:
                clock = self.target.clock
                ready = max(dues) + timedelta(seconds=self.target.timing.early + 1)
                deadline = max(dues) + timedelta(seconds=self.target.timing.grace + 1)
                clock.sleep((ready - clock.now()).total_seconds())
                while clock.now() < deadline and not self._all_sent():
                    clock.sleep(min(POLL_SECONDS, (deadline - clock.now()).total_seconds()))
            for record in list(self.model.records.values()):
                self._read(record)
            for sms_id in self.deleted:
                self._judged(
                    "get",
                    "GET",
                    item_path(SMS, sms_id),
                    None,
                    lambda _: Expectation("sms/delete/then-get-404", False),
                    sms_id=sms_id,
                )
        finally:
            self.target.delete_sms([i for i in self.transcripts if i not in self.deleted])

    def _all_sent(self) -> bool:
        """Read the probes not cancelled that were not yet seen sent; True once all were.
        Only a wait: every probe is read again and judged at the end."""
        for record in list(self.model.records.values()):
            if record.cancelled or record.status not in SENDING or record.id in self.seen_sent:
                continue
            exchange, _ = self.target.api.send("GET", item_path(SMS, record.id))
            response = exchange.response
            body = response.body if response is not None else None
            if not isinstance(body, dict) or body.get("status") not in DELIVERED:
                return False
            self.seen_sent.add(record.id)
        return True


def _accepted(step: Step) -> bool:
    return step.succeeded and not is_noise(step.exchange)


def _scheduled_at(moment: Any) -> dict[str, Any]:
    return {"status": "scheduled", "date_scheduled": moment.isoformat()}


def _failure(finding: Finding, transcript: list[Exchange]) -> Failure:
    """The failure as the engine tells any other: the rule's sentence first, then what
    was seen (the SMS's due time and when it was read)."""
    statement = CATALOGUE[finding.rule].statement
    return Failure(
        rule=finding.rule,
        message=f"{statement} {finding.message} (timing ledger: a timed SMS on real time)",
        expected=finding.expected,
        actual=finding.actual,
        steps=tuple(transcript),
        length=len(transcript),
    )
