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
    interrupted: bool = False

    def _run_sender(self) -> None:
        if self.period is None:
            return
        seconds = (self.clock.now() - START).total_seconds()
        last_run = START + timedelta(seconds=math.floor(seconds / self.period) * self.period)
        for sms in self.sms.values():
            if sms["status"] in ("outbox", "scheduled") and sms["due"] <= last_run:
                sms.update(status="sent", date_sent=last_run.isoformat())

    def send(self, method: str, path: str, json_body: Any = None, **_: Any):
        now = self.clock.now()
        self._run_sender()
        sms_id = path.rstrip("/").rsplit("/", 1)[-1]
        code = 200
        if method == "POST":
            sms_id = f"acti_{len(self.sms)}"
            self.sms[sms_id] = {**json_body, "id": sms_id, "due": self._due(json_body, now)}
            body: Any = self._shown(sms_id)
        elif sms_id not in self.sms:
            code, body = 404, {"error": "Not found"}
        elif method == "PUT":
            self.sms[sms_id].update(status=json_body["status"], due=self._due(json_body, now))
            body = self._shown(sms_id)
        elif method == "DELETE":
            del self.sms[sms_id]
            body = {}
        else:
            self.reads += 1
            body = self._shown(sms_id)
        response = RecordedResponse(code, {"content-type": "application/json"}, body)
        exchange = Exchange(
            RecordedRequest(method, path, {}, json_body), response, sent_at=now.isoformat()
        )
        return exchange, TimeWindow(now, now)

    @staticmethod
    def _due(body: dict[str, Any], now: datetime) -> datetime | None:
        if body["status"] == "outbox":
            return now + timedelta(seconds=body.get("send_in", 0))
        if body["status"] == "scheduled":
            return parse_datetime(body["date_scheduled"])
        return None

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
    assert ledger.tally.passed["sms/send/cancelled-never-sent"] >= 5  # five probes cancelled


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


# -- the plan: what a timing bug on real time looks like through the API ---------------------


@dataclass
class EarlyServer(Server):
    """Sends every SMS ``early`` seconds before its due time, and says so in date_sent."""

    early: float = 2.0

    def _run_sender(self) -> None:
        now = self.clock.now()
        for sms in self.sms.values():
            if (
                sms["status"] in ("outbox", "scheduled")
                and sms["due"] - timedelta(seconds=self.early) <= now
            ):
                sent = sms["due"] - timedelta(seconds=self.early)
                sms.update(status="sent", date_sent=sent.isoformat())


def test_a_scheduled_sms_sent_two_seconds_early_is_caught_by_its_date_sent():
    """Two seconds is within the clock skew a status read allows (Timing.early): only the
    server's own date_sent, against the date_scheduled it was given, tells it."""
    clock = Clock()
    ledger = TimingLedger(Target(clock, EarlyServer(clock, 1)), Tally())  # type: ignore[arg-type]
    ledger.open()
    ledger.close()
    assert "sms/send/scheduled-not-early" in sending_failures(ledger)


def test_a_sender_on_time_to_the_second_is_not_caught_by_date_sent():
    clock = Clock()
    ledger = TimingLedger(Target(clock, EarlyServer(clock, 1, early=0.0)), Tally())  # type: ignore[arg-type]
    ledger.open()
    ledger.close()
    assert sending_failures(ledger) == set()
    assert ledger.tally.passed["sms/send/scheduled-not-early"] >= 3


@dataclass
class FirstDueServer(Server):
    """A cancel leaves the SMS queued at its first due time; scheduled again, it goes then."""

    def send(self, method: str, path: str, json_body: Any = None, **kwargs: Any):
        sms_id = path.rstrip("/").rsplit("/", 1)[-1]
        first = self.sms.get(sms_id, {}).get("first") or self.sms.get(sms_id, {}).get("due")
        exchange, window = super().send(method, path, json_body, **kwargs)
        if method == "PUT" and sms_id in self.sms and first is not None:
            sms = self.sms[sms_id]
            sms["first"] = first
            if sms["due"] is not None:
                sms["due"] = min(sms["due"], first)
        return exchange, window

    def _run_sender(self) -> None:
        super()._run_sender()
        for sms in self.sms.values():
            if sms["status"] == "sent":
                sms["date_sent"] = sms["due"].isoformat()


def test_an_sms_rescheduled_later_but_sent_at_its_first_due_time_is_caught():
    clock = Clock()
    ledger = TimingLedger(Target(clock, FirstDueServer(clock, 1)), Tally())  # type: ignore[arg-type]
    ledger.open()
    ledger.close()
    assert "sms/send/scheduled-not-early" in sending_failures(ledger)


@dataclass
class PutScheduleIgnoringServer(Server):
    """A draft scheduled by PUT shows scheduled, and is never queued."""

    @staticmethod
    def _due(body: dict[str, Any], now: datetime) -> datetime | None:
        if "lead_id" not in body and body["status"] == "scheduled":  # a PUT's body
            return None
        return Server._due(body, now)

    def _run_sender(self) -> None:
        for sms in self.sms.values():
            if sms["due"] is None and sms["status"] == "scheduled":
                sms["due"] = datetime.max.replace(tzinfo=UTC)
        super()._run_sender()


def test_a_draft_scheduled_by_put_and_never_sent_is_caught():
    clock = Clock()
    ledger = TimingLedger(Target(clock, PutScheduleIgnoringServer(clock, 1)), Tally())  # type: ignore[arg-type]
    ledger.open()
    ledger.close()
    assert "sms/send/scheduled-sent" in sending_failures(ledger)


def test_some_cancels_reach_the_server_in_the_last_seconds_before_the_due_time():
    """Where a cancel racing the sender is lost (a cancel within a few seconds of the due
    time answered draft, and sent anyway), only a cancel that late shows it."""
    clock = Clock()
    server = Server(clock, 1)
    ledger = TimingLedger(Target(clock, server), Tally())  # type: ignore[arg-type]
    ledger.open()
    last_seconds = {
        record.status_before
        for record in _cancels(ledger)
        if timedelta(0) < record.due_at - record.cancelled_at <= timedelta(seconds=3)
    }
    ledger.close()
    assert last_seconds == {"outbox", "scheduled"}


@dataclass(frozen=True)
class _Cancel:
    status_before: str
    due_at: datetime
    cancelled_at: datetime


def _cancels(ledger: TimingLedger) -> list[_Cancel]:
    """Each cancel the ledger sent: the status it cancelled, the due time, when it was sent."""
    found = []
    for transcript in ledger.transcripts.values():
        create, *rest = transcript
        for exchange in rest:
            if exchange.request.method == "PUT" and exchange.request.body == {"status": "draft"}:
                body = create.request.body
                sent_at = datetime.fromisoformat(exchange.sent_at)
                due = (
                    datetime.fromisoformat(create.sent_at)
                    + timedelta(seconds=body.get("send_in", 0))
                    if body["status"] == "outbox"
                    else datetime.fromisoformat(body["date_scheduled"])
                )
                found.append(_Cancel(body["status"], due, sent_at))
    return found


def test_an_sms_deleted_while_pending_and_still_readable_is_caught():
    @dataclass
    class Undeleting(Server):
        def send(self, method: str, path: str, json_body: Any = None, **kwargs: Any):
            if method == "DELETE":
                now = self.clock.now()
                response = RecordedResponse(200, {"content-type": "application/json"}, {})
                request = RecordedRequest(method, path, {}, json_body)
                return Exchange(request, response, sent_at=now.isoformat()), TimeWindow(now, now)
            return super().send(method, path, json_body, **kwargs)

    clock = Clock()
    ledger = TimingLedger(Target(clock, Undeleting(clock, 1)), Tally())  # type: ignore[arg-type]
    ledger.open()
    ledger.close()
    assert "sms/delete/then-get-404" in {f.rule for f in ledger.failures}
