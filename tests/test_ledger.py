"""The timing ledger on a real clock: a sender that runs now and then conforms, one that
never sends does not, and the wait ends once the SMS are sent (audit S1)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from conformance.fixtures import Fixtures
from conformance.judging import Tally
from conformance.ledger import TimingLedger
from conformance.model import TimeWindow, Timing, parse_datetime
from conformance.records import Exchange, RecordedRequest, RecordedResponse
from tests.rules.helpers import FIXTURES as RULE_FIXTURES

START = datetime(2026, 3, 1, 12, 0, 7, tzinfo=UTC)
# The checks' fixtures, with a template that renders to itself (nothing here reads the text).
FIXTURES = replace(RULE_FIXTURES, template_text="Hi", rendered_template="Hi")


@dataclass
class Clock:
    now_: datetime = START
    slept: list[float] = field(default_factory=list)

    def now(self) -> datetime:
        return self.now_

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.slept.append(seconds)
            self.now_ += timedelta(seconds=seconds)


@dataclass
class Server:
    """SMS whose sender runs every ``period`` seconds (never, with None)."""

    clock: Clock
    period: float | None
    sms: dict[str, dict[str, Any]] = field(default_factory=dict)
    reads: int = 0

    def _run_sender(self) -> None:
        if self.period is None:
            return
        seconds = (self.clock.now() - START).total_seconds()
        last_run = START + timedelta(seconds=math.floor(seconds / self.period) * self.period)
        for sms in self.sms.values():
            if sms["status"] in ("outbox", "scheduled") and sms["due"] <= last_run:
                sms["status"] = "sent"

    def send(self, method: str, path: str, json_body: Any = None, **_: Any):
        now = self.clock.now()
        self._run_sender()
        if method == "POST":
            sms_id = f"acti_{len(self.sms)}"
            due = (
                now + timedelta(seconds=json_body.get("send_in", 0))
                if json_body["status"] == "outbox"
                else parse_datetime(json_body["date_scheduled"])
            )
            self.sms[sms_id] = {**json_body, "id": sms_id, "due": due}
            body: Any = self._shown(sms_id)
        elif method == "PUT":
            sms_id = path.rstrip("/").rsplit("/", 1)[-1]
            self.sms[sms_id]["status"] = json_body["status"]
            body = self._shown(sms_id)
        else:
            self.reads += 1
            body = self._shown(path.rstrip("/").rsplit("/", 1)[-1])
        response = RecordedResponse(200, {"content-type": "application/json"}, body)
        exchange = Exchange(
            RecordedRequest(method, path, {}, json_body), response, sent_at=now.isoformat()
        )
        return exchange, TimeWindow(now, now)

    def _shown(self, sms_id: str) -> dict[str, Any]:
        sms = self.sms[sms_id]
        return {key: value for key, value in sms.items() if key not in ("due", "send_in")}


@dataclass
class Target:
    clock: Clock
    api: Server
    timing: Timing = field(default_factory=lambda: Timing(early=2.0, grace=90.0))
    fixtures: Fixtures = FIXTURES
    run_id: str = "run"

    def create_lead(self, name: str) -> str:
        return "lead_1"

    def delete_sms(self, ids: list[str]) -> list[str]:
        return []


def ledger_run(period: float | None) -> tuple[TimingLedger, Clock, Server]:
    clock = Clock()
    server = Server(clock, period)
    ledger = TimingLedger(Target(clock, server), Tally())  # type: ignore[arg-type]
    ledger.open()
    ledger.close()
    return ledger, clock, server


def sending_failures(ledger: TimingLedger) -> set[str]:
    """The sending rules the ledger found broken (the fake SMS are not whole objects)."""
    return {f.rule for f in ledger.failures if f.rule.startswith("sms/send/")}


def test_a_sender_that_runs_once_a_minute_passes_the_ledger():
    ledger, _, _ = ledger_run(period=60)
    assert sending_failures(ledger) == set()
    assert ledger.tally.passed["sms/send/outbox-sent"] >= 2
    assert ledger.tally.passed["sms/send/cancelled-never-sent"] == 2


def test_a_sender_that_never_sends_fails_the_ledger():
    ledger, _, _ = ledger_run(period=None)
    assert sending_failures(ledger) == {"sms/send/outbox-sent", "sms/send/scheduled-sent"}


def test_the_ledger_stops_waiting_once_its_sms_are_sent():
    _, clock, _ = ledger_run(period=1)
    assert sum(clock.slept) < 30  # due within 10 s: far short of the 90 s grace


def test_the_default_grace_lets_a_sender_that_runs_once_a_minute_pass():
    """1.3 "`outbox` — actually send now" gives no precision: the default --grace covers a
    sender run once a minute plus latency (audit S1: 10 s failed one)."""
    from conformance.cli import run

    (grace,) = [p for p in run.params if p.name == "grace"]
    assert grace.default >= 60 + 10


def test_a_sender_that_runs_once_a_minute_fails_a_grace_shorter_than_its_period():
    clock = Clock()
    server = Server(clock, 60)
    target = Target(clock, server, timing=Timing(early=2.0, grace=10.0))
    ledger = TimingLedger(target, Tally())  # type: ignore[arg-type]
    ledger.open()
    ledger.close()
    assert "sms/send/outbox-sent" in sending_failures(ledger)


def test_on_a_target_without_post_lead_the_ledger_files_its_sms_on_the_runs_first_lead():
    clock = Clock()
    server = Server(clock, 60)
    given = replace(FIXTURES, leads=(("lead_given", "cont_given"),))
    target = Target(clock, server, fixtures=given)
    target.create_lead = lambda name: None  # type: ignore[method-assign]  # POST /lead/ is 404
    ledger = TimingLedger(target, Tally())  # type: ignore[arg-type]
    ledger.open()
    ledger.close()
    assert server.sms
    assert {sms["lead_id"] for sms in server.sms.values()} == {"lead_given"}
    assert sending_failures(ledger) == set()


@dataclass
class CancelIgnoringServer(Server):
    """Answers a cancel (PUT status draft) as done, and sends the SMS anyway."""

    def send(self, method: str, path: str, json_body: Any = None, **kwargs: Any):
        if method == "PUT":
            now = self.clock.now()
            self._run_sender()
            sms_id = path.rstrip("/").rsplit("/", 1)[-1]
            body = {**self._shown(sms_id), "status": "draft"}
            response = RecordedResponse(200, {"content-type": "application/json"}, body)
            exchange = Exchange(
                RecordedRequest(method, path, {}, json_body), response, sent_at=now.isoformat()
            )
            return exchange, TimeWindow(now, now)
        return super().send(method, path, json_body, **kwargs)


def test_a_ledger_failure_carries_the_rule_sentence_and_the_due_time():
    from conformance.catalogue import CATALOGUE
    from conformance.explain import explain

    clock = Clock()
    ledger = TimingLedger(Target(clock, CancelIgnoringServer(clock, 1)), Tally())  # type: ignore[arg-type]
    ledger.open()
    ledger.close()
    (failure,) = [f for f in ledger.failures if f.rule == "sms/send/cancelled-never-sent"]

    assert failure.message.startswith(CATALOGUE[failure.rule].statement)
    assert "due -" not in failure.message
    assert f"due {START.replace(second=17).isoformat()} (cancelled before then)" in failure.message
    timing = dict(explain(failure).timing)
    assert timing["due"].startswith(START.replace(second=17).isoformat())
    assert timing["cancelled"] == START.isoformat()
    assert timing["seen"] > timing["due"][:25]
