"""The timing ledger: sending rules checked on real time without sleeping per SMS.

Against a target on real time, an SMS sent after ``send_in`` seconds or at
``date_scheduled`` can only be judged once that time has passed. Instead of waiting in
every example, the engine opens a ledger before the state machine runs: a handful of
SMS with due times a few seconds ahead (some cancelled at once). They fall due while the
machine works; at the end one wait covers them all, and each is read back and judged by
the same checks as any other step. Ledger SMS hang off a lead of their own, so the
machine's lists (always scoped to the run's other leads) never see them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from conformance.catalogue import CATALOGUE
from conformance.checks import Finding, Step
from conformance.judging import Tally, judge
from conformance.model import DELIVERED, SENDING, Expectation, Model, SmsRecord
from conformance.records import Exchange, Failure
from conformance.safety import item_path
from conformance.target import Target

__all__ = ["TimingLedger"]

SMS = "activity/sms/"
POLL_SECONDS = 5.0  # how often the probes are read while the ledger waits for the sender
# (status, seconds until due, cancel right away)
PROBES = (
    ("outbox", 0, False),
    ("outbox", 3, False),
    ("outbox", 10, True),
    ("scheduled", 5, False),
    ("scheduled", 8, True),
)


@dataclass
class TimingLedger:
    target: Target
    tally: Tally
    model: Model = field(init=False)
    transcripts: dict[str, list[Exchange]] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    seen_sent: set[str] = field(default_factory=set)  # probes read back sent while waiting

    def __post_init__(self) -> None:
        assert self.target.fixtures is not None
        self.model = Model(self.target.fixtures, self.target.timing)

    def open(self) -> None:
        """Create the probe SMS (and cancel those meant to be cancelled)."""
        fixtures = self.target.fixtures
        assert fixtures is not None
        # A lead of its own, or (a target without POST /lead/) the first of the run's.
        lead = self.target.create_lead("ledger") or fixtures.lead_id
        for status, seconds, cancel in PROBES:
            body: dict[str, Any] = {
                "lead_id": lead,
                "status": status,
                "local_phone": fixtures.internal_phones[0],
                "remote_phone": fixtures.remote_phones[0],
                "text": f"sms-conformance {self.target.run_id} timing probe",
            }
            now = self.target.clock.now()
            if status == "outbox":
                body["send_in"] = seconds
            else:
                body["date_scheduled"] = (now + timedelta(seconds=seconds)).isoformat()
            exchange, window = self.target.api.send("POST", SMS, json_body=body)
            transcript = [exchange]
            expectation = self.model.expect_create(body, window)
            response = exchange.response
            if (
                response is None
                or response.status_code != 200
                or not isinstance(response.body, dict)
                or "id" not in response.body
            ):
                continue  # the create itself is judged by the state machine's rules
            record = self.model.add(expectation.record, response.body, window)  # type: ignore[arg-type]
            self.transcripts[record.id] = transcript
            if cancel:
                update = self.model.expect_update(record.id, {"status": "draft"}, window)
                exchange, window = self.target.api.send(
                    "PUT", item_path(SMS, record.id), json_body={"status": "draft"}
                )
                transcript.append(exchange)
                if exchange.response is not None and exchange.response.status_code == 200:
                    if update.record is not None:
                        self.model.apply(update.record)
                else:
                    self.model.forget(record.id)  # a refused cancel is the machine's to judge

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
                self._judge(record)
        finally:
            self.target.delete_sms(list(self.transcripts))

    def _all_sent(self) -> bool:
        """Read the probes not cancelled that were not yet seen sent; True once all were.
        Only a wait: every probe is read again and judged at the end (:meth:`_judge`)."""
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

    def _judge(self, record: SmsRecord) -> None:
        exchange, window = self.target.api.send("GET", item_path(SMS, record.id))
        transcript = self.transcripts[record.id]
        transcript.append(exchange)
        step = Step(
            "get",
            [exchange],
            window,
            self.model,
            record=record,
            expectation=Expectation("sms/get/returns-object", True),
        )
        failed = {failure.rule for failure in self.failures}
        for finding in judge(step, self.tally).violations():
            if finding.rule not in failed:
                self.failures.append(_failure(finding, transcript))


def _failure(finding: Finding, transcript: list[Exchange]) -> Failure:
    """The failure as the engine tells any other: the rule's sentence first, then what
    was seen (the SMS's due time and when it was read)."""
    statement = CATALOGUE[finding.rule].statement
    return Failure(
        rule=finding.rule,
        message=f"{statement} {finding.message} (timing ledger: the SMS was read back once due)",
        expected=finding.expected,
        actual=finding.actual,
        steps=tuple(transcript),
        length=len(transcript),
    )
