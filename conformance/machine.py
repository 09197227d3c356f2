"""The stateful test: a Hypothesis state machine with one rule per API operation.

Each rule is a fixed pipeline (the schemathesis ``APIStateMachine`` shape): draw a
request, ask the model what the docs allow, send it, run the registered checks on the
exchange, then let the model adopt what the server did. A violated rule raises
:class:`RuleViolation` carrying the example's transcript, so Hypothesis shrinks it to the
shortest request sequence that still breaks the rule.

Users never subclass this: :func:`build_machine` returns a machine class bound to one
run's :class:`Session`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, timezone
from functools import partial
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule

import conformance.rules  # noqa: F401  (registers the checks)
import strategies as sms_st
from conformance.checks import Finding, Step
from conformance.http_semantics import TRANSIENT_STATUSES
from conformance.judging import Tally, is_noise, judge
from conformance.model import (
    DEFAULT_LIMIT,
    SENDING,
    Expectation,
    LostCreate,
    Model,
    TimeWindow,
    parse_datetime,
)
from conformance.records import Exchange
from conformance.safety import item_path
from conformance.target import Target

__all__ = ["RuleViolation", "Session", "build_machine", "given_leads_bound"]

SMS = "activity/sms/"
# Strategies get this fixed "now", never the clock's: Hypothesis needs the same choices to
# draw the same shapes in every example, and the clock moves on between examples. Dates
# that must be relative to the real now (date_scheduled) are drawn as offsets instead.
STRATEGY_NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
WRONG_TYPE_FIELDS = (
    "text",
    "lead_id",
    "contact_id",
    "local_phone",
    "remote_phone",
    "template_id",
    "direction",
    "date_scheduled",
    "activity_at",
    "attachments",
)
# Offsets far from UTC put a local midnight on the other side of noon UTC, where examples run.
# Every example's SMS are made around noon UTC, so only an offset over +12 h puts one of them on
# another local date than its UTC date: there a bare date read as local midnight and one read
# as UTC midnight disagree about it (hence two such offsets, real ones both). Whole and half
# hours only: "e.g. `-4` for EDT, half hours as `-2.5`" (2.7) says no more (audit L3: a
# quarter-hour offset such as 12.75 is not documented).
TZ_OFFSETS = ("0", "-4", "5.5", "-0.0", "14", "-11.5", "13", "-2.5")
FOCUSED_FILTERS = ("lead_id", "contact_id", "user_id", "id__in", "date_created", "activity_at")
BOUNDARY_NUDGES = st.sampled_from([0, 0, -1e-6, 1e-6])
NUDGES = st.one_of(st.just(0), st.sampled_from([-1e-6, 1e-6, -1, 1, -3600, 86400]))
SEND_IN = st.one_of(st.none(), st.sampled_from([0, 1, 59]), st.integers(0, 59))
# Media types outside the documented attachment enum that a server might take for valid ones.
UNLISTED_CONTENT_TYPES = ("text/html", "image/webp", "application/octet-stream", "image/svg+xml")
WALK_MAX_PAGES = 30


class RuleViolation(AssertionError):
    """A documented rule was broken. Carries the transcript that led to it."""

    def __init__(self, finding: Finding, transcript: list[Exchange], steps: int) -> None:
        super().__init__(f"{finding.rule}: expected {finding.expected}; got {finding.actual}")
        self.finding = finding
        self.transcript = tuple(transcript)
        self.steps = steps


@dataclass
class Session:
    """What every example of one run shares: the target, rules already found broken
    (muted, so the next round looks for others), and the tally."""

    target: Target
    muted: set[str] = field(default_factory=set)
    tally: Tally = field(default_factory=Tally)
    schedule_seconds: tuple[int, int] = (300, 30 * 86400)
    schema_requests: int = 0
    first_violation: RuleViolation | None = None
    gone: set[str] = field(default_factory=set)  # every SMS the run deleted
    uncertain: set[str] = field(default_factory=set)  # SMS whose deletion was not confirmed
    lost: list[LostCreate] = field(default_factory=list)  # creates whose SMS no answer showed
    settle: float = 0.0  # seconds a read that breaks a rule may be re-tried (--settle)
    # On leads the user named (--lead-id): the latest date_created of the SMS that were
    # there before the run; lists are bounded after it, so they never count. "" = none.
    given_leads_bound: str | None = None


def build_machine(session: Session) -> type[RuleBasedStateMachine]:
    """Return a state machine class bound to ``session``."""

    class SmsMachine(_SmsMachine):
        pass

    SmsMachine.session = session
    return SmsMachine


class _SmsMachine(RuleBasedStateMachine):
    session: Session

    def __init__(self) -> None:
        super().__init__()
        target = self.session.target
        assert target.fixtures is not None
        self.target = target
        self.fixtures = target.fixtures
        self.model = Model(
            target.fixtures,
            target.timing,
            deleted_before=frozenset(self.session.gone),
            uncertain=set(self.session.uncertain),
            lost=list(self.session.lost),
            reads_may_lag=self.session.settle > 0,
        )
        self.transcript: list[Exchange] = []
        self.steps = 0
        self.failed = False  # once a step broke a rule, teardown only cleans up
        self.created: dict[str, None] = {}  # every SMS the server created, to delete at the end
        if target.embedded:
            # Start every example at noon UTC of a new day: a fresh rate-limit window and
            # the same time of day, so the same choices meet the same 429s and the same
            # date boundaries. Hypothesis needs a replay to behave as the original did.
            now = target.clock.now()
            noon = (now + timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)
            target.clock.sleep((noon - now).total_seconds())
        self.session.tally.examples += 1

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
        session = self.session
        judged = judge(
            step,
            session.tally,
            muted=session.muted,
            reread=reread,
            wait=self.target.clock.sleep,
            settle=session.settle,
        )
        if judged.violation is not None:
            self.failed = True
            error = RuleViolation(judged.violation, self.transcript, self.steps)
            if session.first_violation is None:
                session.first_violation = error  # kept in case replays differ (flaky)
            raise error
        return judged.step

    def _step(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        expectation: Expectation | Callable[[TimeWindow], Expectation] | None = None,
        record: Any = None,
        **kwargs: Any,
    ) -> Step:
        """Send one request and judge it. ``expectation`` may be a function of the time
        window the server answered in: what the docs allow depends on when it happened
        (after a 429 was waited out, say), not on when the request was first tried."""
        self.steps += 1
        self.session.tally.steps += 1

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

        return self._judge(send(), reread=send if method == "GET" else None)

    def _now(self):
        return self.target.clock.now()

    def _pick(self, data: st.DataObject, *statuses: str) -> Any:
        records = self.model.in_status(*statuses) if statuses else list(self.model.records.values())
        return data.draw(st.sampled_from(records), label="sms")

    def _has(*statuses: str):  # noqa: N805 - a precondition factory used in the class body
        return precondition(lambda self: bool(self.model.in_status(*statuses)))

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

    # -- create ----------------------------------------------------------------------------

    def _create(self, body: dict[str, Any]) -> Any:
        """Create an SMS and return its record, or None when the model does not follow it."""
        if not self.target.embedded and isinstance(body, dict) and self._unpinned(body):
            # On a live target every SMS hangs off one of the run's leads, so that clean-up
            # (and `sms-conformance cleanup`) can always find what a run left behind.
            body = {**body, **self._a_lead_for(body)}
        step = self._step(
            "create",
            "POST",
            SMS,
            json_body=body,
            expectation=partial(self.model.expect_create, body),
        )
        expectation = step.expectation
        assert expectation is not None
        if _transient(step):
            self._find_strays(body, step.window)
            return None
        if not step.succeeded or not isinstance(step.body, dict) or "id" not in step.body:
            return None
        if expectation.record is None or expectation.accept is False:
            # Accepted what it must not, or where the model cannot follow: keep lists clean.
            if not self._discard(step.body["id"]):
                self.model.uncertain.add(step.body["id"])  # may still be there
            return None
        record = self.model.add(expectation.record, step.body, step.window)
        self.model.apply(record.observe_status(step.body.get("status", record.status)))
        return self.model.records.get(record.id)

    def _unpinned(self, body: dict[str, Any]) -> bool:
        """True when a server could store the SMS on none of the run's leads: no
        ``lead_id``, ``null``, or a string naming another lead. A ``lead_id`` of a wrong type
        is a negative case a conforming server refuses (one that accepts it gets the SMS
        deleted at once, by id: see :meth:`_create`), so it stays."""
        lead = body.get("lead_id")
        if isinstance(lead, str):
            return lead not in {lead_id for lead_id, _ in self.fixtures.leads}
        return lead is None

    def _a_lead_for(self, body: dict[str, Any]) -> dict[str, str]:
        """The lead (and contact, when the body names none) an SMS body is given."""
        for lead_id, contact_id in self.fixtures.leads:
            if body.get("contact_id") == contact_id:
                return {"lead_id": lead_id}
        lead_id, contact_id = self.fixtures.leads[-1]
        return (
            {"lead_id": lead_id}
            if "contact_id" in body
            else {"lead_id": lead_id, "contact_id": contact_id}
        )

    def _discard(self, sms_id: str) -> bool:
        """Delete an SMS the run made; True when the target confirmed it is gone."""
        exchange, _ = self._send("DELETE", item_path(SMS, sms_id))
        response = exchange.response
        return (
            exchange.error is None
            and response is not None
            and response.status_code
            in (
                200,
                204,
                404,
            )
        )

    def _find_strays(self, body: dict[str, Any], window: TimeWindow) -> None:
        """A create got no usable answer: it may or may not have happened. The model notes
        it (:meth:`Model.lose_create`); look on the body's lead (one of the run's) for an SMS
        the run does not know, created since, that may be what the create made (with every
        form the docs allow: a template rendered, a text normalised, ...), and delete it.
        What this search misses, any later list on the lead may show: the model takes it for
        the lost create's SMS then (:meth:`_adopt_strays`). On a lead the user named
        (``--lead-id``), where others may create SMS meanwhile, only a single match counts;
        anything else on the lead is left alone."""
        lost = self.model.lose_create(body, self.model.expect_create(body, window), window)
        if lost is None:
            return  # an SMS no list of the run can show: nothing to look for
        params = {"lead_id": lost.lead_id, "date_created__gte": lost.since.isoformat()}
        exchange, _ = self._send("GET", SMS, params=params)
        listed = exchange.response.body if exchange.response is not None else None
        items = listed.get("data") if isinstance(listed, dict) and not is_noise(exchange) else None
        if not isinstance(items, list):
            return  # the search itself met noise: the lists will tell
        if lost.lead_id in self.target.given.lead_ids:
            unknown = [
                item
                for item in items
                if isinstance(item, dict) and not self.model.knows(item.get("id"))
            ]
            if sum(map(lost.may_have_made, unknown)) != 1:
                return
        for sms_id in self._adopt_strays(items, among=[lost]):
            if self._discard(sms_id):
                self.model.uncertain.discard(sms_id)  # confirmed gone: known not listed

    def _adopt_strays(self, items: Any, among: list[LostCreate] | None = None) -> list[str]:
        """Take each SMS of a list answer that a lost create may have made for that create's
        SMS (of unknown fate from now on: lists may show it or not), as the run's own, to
        delete at the end. Return their ids."""
        adopted = self.model.adopt(items, among)
        for sms_id in adopted:
            if self.target.api.guard is not None:
                self.target.api.guard.own(SMS, sms_id)  # what the lost create made
            self.created[sms_id] = None
        return adopted

    def _adopt_from(self, exchange: Exchange) -> None:
        """Read back, from a list answer, any SMS a create that got no answer made."""
        if not self.model.lost or is_noise(exchange) or exchange.response is None:
            return
        body = exchange.response.body
        if isinstance(body, dict):
            self._adopt_strays(body.get("data"))

    def _lose(self, record: Any) -> None:
        """An update or delete got no usable answer: the SMS leaves the run, deleted when
        the target confirms it, else of unknown fate (never judged again)."""
        if self._discard(record.id):
            self.model.forget(record.id)
        else:
            self.model.lose(record.id)

    @initialize(data=st.data())
    def start_with_an_sms(self, data: st.DataObject) -> None:
        self.create_sms(data)

    @rule(data=st.data())
    def create_sms(self, data: st.DataObject) -> None:
        statuses = sms_st.CREATE_STATUSES if self.target.allow_send else ("inbox", "draft", "sent")
        status = data.draw(st.sampled_from(statuses), label="status")
        body = data.draw(sms_st.create_payloads(self.fixtures, now=STRATEGY_NOW, status=status))
        if status == "scheduled":
            body["date_scheduled"] = self._future(data)
        if status == "outbox":
            # Mostly with an undo window (only then is a cancel sure to be owed), and often
            # at its edges.
            send_in = data.draw(SEND_IN, label="send_in")
            if send_in is None:
                body.pop("send_in", None)
            else:
                body["send_in"] = send_in
        self._create(body)

    @rule(data=st.data())
    def create_invalid_sms(self, data: st.DataObject) -> None:
        invalid = data.draw(sms_st.invalid_create_payloads(self.fixtures, now=STRATEGY_NOW))
        body = invalid.body
        if not self.target.allow_send and body.get("status") in SENDING:
            body = (
                {**body, "status": "draft"} if invalid.violation.startswith("protocol/") else body
            )
            if body.get("status") in SENDING:
                return
        self._create(body)

    @precondition(lambda self: self.target.allow_send)
    @rule(data=st.data(), send_in=st.sampled_from([59, 60, 59.5, 60.5]))
    def send_at_the_bound_of_send_in(self, data: st.DataObject, send_in: float) -> None:
        """ "must be less than 60", at the bound itself: 59 must be accepted (59.5 too, or
        refused for its fraction: send-in-fraction), 60 (and 60.5) refused. ``SEND_IN``
        reaches these edges too rarely to count on."""
        body = data.draw(sms_st.create_payloads(self.fixtures, now=STRATEGY_NOW, status="outbox"))
        if not body.get("text") and "template_id" not in body:
            body["text"] = "send_in at its bound"  # an empty send is an open point of its own
        self._create({**body, "send_in": send_in})

    @rule(data=st.data(), content_type=st.sampled_from(UNLISTED_CONTENT_TYPES))
    def attach_an_unlisted_media_type(self, data: st.DataObject, content_type: str) -> None:
        """The attachment content_type enum is documented: a draft with an attachment of
        another media type must be refused (the invalid-payload families reach it rarely)."""
        body = data.draw(sms_st.create_payloads(self.fixtures, now=STRATEGY_NOW, status="draft"))
        item = {"url": "https://example.com/media/x/page", "filename": "page"}
        body["attachments"] = [*body.get("attachments", []), {**item, "content_type": content_type}]
        self._create(body)

    @precondition(lambda self: self.target.allow_send)
    @rule(data=st.data(), send_in=st.integers(10, 59))
    def send_then_undo(self, data: st.DataObject, send_in: int) -> None:
        """What ``send_in`` is for: an SMS put in outbox with an undo window, cancelled at
        once, must go back to draft (and never be sent)."""
        body = data.draw(sms_st.create_payloads(self.fixtures, now=STRATEGY_NOW, status="outbox"))
        record = self._create({**body, "send_in": send_in})
        if record is not None:
            self._update(record, {"status": "draft"})

    @rule(data=st.data(), status=st.sampled_from(["inbox", "sent", "scheduled"]))
    def log_then_edit(self, data: st.DataObject, status: str) -> None:
        """Only drafts may be edited: an SMS logged as received or sent, or scheduled for
        later, then edited at once (without cancelling it), must be refused."""
        if status == "scheduled" and not self.target.allow_send:
            return
        body = data.draw(sms_st.create_payloads(self.fixtures, now=STRATEGY_NOW, status=status))
        if status == "scheduled":
            body["date_scheduled"] = self._future(data)  # not yet due: still scheduled
        record = self._create(body)
        if record is not None:
            text = data.draw(sms_st.texts().filter(lambda t: t != record.written.get("text")))
            self._update(record, {"text": text})

    def _future(self, data: st.DataObject) -> str:
        low, high = self.session.schedule_seconds
        seconds = data.draw(st.integers(low, high), label="seconds ahead")
        return (self._now() + timedelta(seconds=seconds)).isoformat()

    # -- update ----------------------------------------------------------------------------

    def _update(self, record: Any, body: dict[str, Any]) -> None:
        step = self._step(
            "update",
            "PUT",
            item_path(SMS, record.id),
            json_body=body,
            expectation=partial(self.model.expect_update, record.id, body),
            record=record,
        )
        expectation = step.expectation
        assert expectation is not None
        if _transient(step):
            self._lose(record)
            return
        if step.status_code == 429:
            return  # still throttled after the waits: not handled, nothing changed
        if not step.succeeded:
            timing_decides = expectation.rule in (
                "sms/update/cancel-outbox",
                "sms/update/cancel-scheduled",
            )
            if timing_decides and expectation.accept is None:
                # A refused cancel in the grace period: the sender got there first.
                self.model.apply(
                    replace(record, status="delivered", due=None, sent_after=record.due)
                )
            return
        if expectation.record is None:
            # Accepted where the docs say nothing of the result: the model cannot follow,
            # so the SMS leaves the run (of unknown fate, unless its deletion is confirmed).
            self._lose(record)
            return
        if expectation.accept is not False:
            updated = expectation.record.settled(step.body)
            if updated.status == "outbox":
                updated = replace(updated, due=step.window.start)
            self.model.apply(updated)
            self._observe_statuses(step)

    @_has("draft")
    @rule(data=st.data())
    def edit_draft(self, data: st.DataObject) -> None:
        record = self._pick(data, "draft")
        self._update(record, data.draw(sms_st.update_payloads(self.fixtures, now=STRATEGY_NOW)))

    @_has("draft")
    @precondition(lambda self: self.target.allow_send)
    @rule(data=st.data())
    def schedule_draft(self, data: st.DataObject) -> None:
        record = self._pick(data, "draft")
        self._update(record, {"status": "scheduled", "date_scheduled": self._future(data)})

    @_has("draft")
    @precondition(lambda self: self.target.allow_send)
    @rule(data=st.data())
    def send_draft(self, data: st.DataObject) -> None:
        self._update(self._pick(data, "draft"), {"status": "outbox"})

    @_has(*SENDING)
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        self._update(self._pick(data, *SENDING), {"status": "draft"})

    @_has("inbox", "sent", "error", "delivered", *SENDING)
    @rule(data=st.data())
    def edit_non_draft(self, data: st.DataObject) -> None:
        record = self._pick(data, "inbox", "sent", "error", "delivered", *SENDING)
        text = data.draw(sms_st.texts().filter(lambda t: t != record.written.get("text")))
        self._update(record, {"text": text})

    @_has("inbox", "sent", "error", "delivered")
    @rule(data=st.data())
    def cancel_non_cancellable(self, data: st.DataObject) -> None:
        self._update(self._pick(data, "inbox", "sent", "error", "delivered"), {"status": "draft"})

    # -- read, delete ----------------------------------------------------------------------

    @precondition(lambda self: bool(self.model.records))
    @rule(data=st.data(), with_fields=st.booleans())
    def get_sms(self, data: st.DataObject, with_fields: bool) -> None:
        record = self._pick(data)
        auths = ["basic", "bearer"] if self.target.has_oauth else ["basic"]
        auth = data.draw(st.sampled_from(auths), label="auth")
        params = {}
        if with_fields:
            fields = data.draw(
                st.lists(
                    st.sampled_from(
                        ("id", "status", "text", "lead_id", "local_phone", "direction")
                    ),
                    min_size=1,
                    max_size=3,
                    unique=True,
                ),
                label="_fields",
            )
            params["_fields"] = ",".join(fields)
        expectation = Expectation("sms/get/returns-object", True)
        step = self._step(
            "get",
            "GET",
            item_path(SMS, record.id),
            params=params,
            auth=auth,
            expectation=expectation,
            record=record,
        )
        self._observe_statuses(step)

    @_has("draft")
    @rule(data=st.data(), to=st.sampled_from(["inbox", "sent", "error"]))
    def move_draft_to_an_undocumented_status(self, data: st.DataObject, to: str) -> None:
        self._update(self._pick(data, "draft"), {"status": to})

    @_has(*SENDING)
    @rule(data=st.data())
    def cancel_and_edit_at_once(self, data: st.DataObject) -> None:
        self._update(self._pick(data, *SENDING), {"status": "draft", "text": "cancel+edit"})

    @_has("draft")
    @precondition(lambda self: self.target.allow_send)
    @rule(data=st.data())
    def schedule_draft_without_a_date(self, data: st.DataObject) -> None:
        self._update(self._pick(data, "draft"), {"status": "scheduled"})

    @rule(
        data=st.data(),
        kind=st.sampled_from(
            [
                "error",
                "send-in-negative",
                "send-in-draft",
                "external-logged",
                "template-and-text",
                "whitespace",
                "past-date-scheduled",
                "send-in-fraction",
                "send-without-local-phone",
            ]
        ),
    )
    def create_where_the_docs_are_silent(self, data: st.DataObject, kind: str) -> None:
        fixtures = self.fixtures
        body = data.draw(sms_st.create_payloads(fixtures, now=STRATEGY_NOW, status="draft"))
        if kind in ("past-date-scheduled", "send-in-fraction", "send-without-local-phone"):
            self._send_where_the_docs_are_silent(data, kind, body)
            return
        if kind == "error":
            body["status"] = "error"
        elif kind == "send-in-negative":
            if not self.target.allow_send:
                return
            # Open on this one count only, so either answer shows the reading taken.
            body = {k: v for k, v in body.items() if k in ("lead_id", "contact_id", "remote_phone")}
            body.update(
                status="outbox",
                send_in=data.draw(st.integers(-100, -1)),
                text="a negative send_in",
                local_phone=fixtures.internal_phones[0],
            )
        elif kind == "send-in-draft":
            body["send_in"] = data.draw(st.integers(0, 59))
        elif kind == "external-logged":
            if not fixtures.external_phones:
                return
            body.update(
                status=data.draw(st.sampled_from(["inbox", "sent", "draft"])),
                local_phone=fixtures.external_phones[0],
            )
        elif kind == "template-and-text":
            if fixtures.template_id is None:
                return  # no template on this target (Target.lacking says why)
            # Open on this one count only, so either answer shows the reading taken.
            body = {
                "status": "draft",
                "lead_id": fixtures.lead_id,
                "contact_id": fixtures.contact_id,
                "local_phone": fixtures.internal_phones[0],
                "template_id": fixtures.template_id,
                "text": "explicit text",
            }
        else:
            body["text"] = data.draw(
                sms_st.texts(edge_whitespace=True).filter(lambda text: text != text.strip())
            )
            body.pop("template_id", None)
        self._create(body)

    def _send_where_the_docs_are_silent(
        self, data: st.DataObject, kind: str, drawn: dict[str, Any]
    ) -> None:
        """A send open on one count only, so that either answer shows the reading taken: a
        date_scheduled already past (past-date-scheduled), a send naming no local_phone
        (local-phone-on-sends), or a send_in with a fraction of a second (send-in-fraction;
        on a virtual clock, read back once sent, its date_sent shows whether the fraction
        was kept)."""
        if not self.target.allow_send:
            return
        body = {k: v for k, v in drawn.items() if k in ("lead_id", "contact_id", "remote_phone")}
        if kind == "send-without-local-phone":
            self._create({**body, "status": "outbox", "text": "no local_phone"})
            return
        body["local_phone"] = self.fixtures.internal_phones[0]
        if kind == "past-date-scheduled":
            ago = data.draw(st.integers(60, 86400), label="seconds ago")
            past = self._now() - timedelta(seconds=ago)
            body.update(status="scheduled", date_scheduled=past.isoformat(), text="a past date")
            self._create(body)
            return
        send_in = data.draw(st.sampled_from([0.5, 5.5, 30.25]), label="send_in")
        body.update(status="outbox", send_in=send_in, text="a fraction of a second")
        record = self._create(body)
        if record is None or not self.target.embedded:
            return
        self.target.clock.sleep(send_in + 1)
        step = self._step(
            "get",
            "GET",
            item_path(SMS, record.id),
            expectation=Expectation("sms/get/returns-object", True),
            record=self.model.records.get(record.id, record),
        )
        self._observe_statuses(step)

    @precondition(lambda self: bool(self.model.records))
    @rule(data=st.data())
    def delete_sms(self, data: st.DataObject) -> None:
        self._delete_record(self._pick(data))

    def _delete_record(self, record: Any) -> None:
        step = self._step(
            "delete",
            "DELETE",
            item_path(SMS, record.id),
            expectation=self.model.expect_delete(record.id),
        )
        if _transient(step):
            self._lose(record)
        elif step.status_code != 429:  # a 429 left after the waits: not handled
            self.model.forget(record.id)

    @precondition(lambda self: bool(self.model.deleted))
    @rule(data=st.data(), method=st.sampled_from(["GET", "PUT", "DELETE"]))
    def touch_deleted_sms(self, data: st.DataObject, method: str) -> None:
        sms_id = data.draw(st.sampled_from(list(self.model.deleted)), label="deleted id")
        rule_id = {
            "GET": "sms/delete/then-get-404",
            "PUT": "sms/update/unknown-id-404",
            "DELETE": "sms/delete/unknown-id-404",
        }[method]
        operation = {"GET": "get", "PUT": "update", "DELETE": "delete"}[method]
        body = {"text": "after delete"} if method == "PUT" else None
        self._step(
            operation,
            method,
            item_path(SMS, sms_id),
            json_body=body,
            expectation=Expectation(rule_id, False),
        )

    @precondition(lambda self: bool(self.model.records))
    @rule(data=st.data())
    def delete_then_read(self, data: st.DataObject) -> None:
        """What a delete owes: the SMS is gone from a GET by id and from a list naming it
        (read at once; a target whose reads lag gets the settle window)."""
        record = self._pick(data)
        self._delete_record(record)
        if record.id not in self.model.deleted:
            return  # the delete met noise: its fate is unknown
        self._step(
            "get",
            "GET",
            item_path(SMS, record.id),
            expectation=Expectation("sms/delete/then-get-404", False),
        )
        self._list(self._scoped({"id__in": record.id}))

    @precondition(lambda self: bool(self.created or self.session.gone))
    @rule(method=st.sampled_from(["GET", "PUT", "DELETE"]))
    def touch_unknown_sms(self, method: str) -> None:
        # Shaped like an id the server issued: an id of a shape it never issues may be
        # refused 400 ("400" is documented for get, update and delete, 1.1); one of its own
        # shape that names nothing is "404 Not found" (1.4) (audit G1).
        issued = next(iter(self.created), None) or next(iter(self.session.gone))
        taken = {*self.created, *self.session.gone, *self.model.records}
        sms_id = unknown_id_like(issued, self.steps + 1, taken)
        if self.target.api.guard is not None:
            self.target.api.guard.own(SMS, sms_id)  # made up by the run: its to touch
        rule_id = {
            "GET": "sms/get/unknown-id-404",
            "PUT": "sms/update/unknown-id-404",
            "DELETE": "sms/delete/unknown-id-404",
        }[method]
        operation = {"GET": "get", "PUT": "update", "DELETE": "delete"}[method]
        body = {"text": "nobody"} if method == "PUT" else None
        self._step(
            operation,
            method,
            item_path(SMS, sms_id),
            json_body=body,
            expectation=Expectation(rule_id, False),
        )

    # -- lists -----------------------------------------------------------------------------

    def _scoped(self, params: dict[str, Any]) -> dict[str, str]:
        """Scope a list query to this run's leads, so other SMS on the target don't count."""
        params = {k: str(v) for k, v in params.items()}
        if "contact_id" in params or "user_id" in params:
            params["lead_id"] = self._single_lead(params)
        if "lead_id" not in params and "id__in" not in params:
            params["lead_id"] = ",".join(lead for lead, _ in self.fixtures.leads)
        if "id__in" not in params and self.target.given.lead_ids:
            bound = self._given_leads_bound()
            # Both keys already taken (a drawn query bounds date_created itself): the
            # ``__gte`` one gives way, so the list stays bounded after what was there. The
            # expectation is the model's for the params sent, so it still holds.
            key = next(
                (k for k in ("date_created__gt", "date_created__gte") if k not in params),
                "date_created__gte",
            )
            if bound:
                params[key] = bound
        if "_fields" in params and "id" not in params["_fields"].split(","):
            params["_fields"] += ",id"
        return params

    def _single_lead(self, params: dict[str, str]) -> str:
        """One lead for a query filtering by contact_id or user_id: on Close's /activity/
        list those filters "only work together with a single `lead_id`" (1.2), and a server
        may hold /activity/sms/ to the same (audit L4). The lead named first, else that of
        the run's latest SMS: sometimes the contact's own lead, sometimes another (where a
        contact filter that is ignored shows)."""
        named = [lead for lead in params.get("lead_id", "").split(",") if lead]
        if named:
            return named[0]
        runs = [lead for lead, _ in self.fixtures.leads]
        used = [r.written.get("lead_id") for r in self.model.records.values()]
        return ([lead for lead in reversed(used) if lead in runs] or runs)[0]

    def _given_leads_bound(self) -> str:
        """A ``date_created`` bound after every SMS the user's leads held before the run (a
        millisecond past the latest), found once per run; "" when they held none."""
        session = self.session
        if session.given_leads_bound is None:
            # The run's own SMS (made before the first list) are no reason to hide anything.
            own = {*self.created, *self.model.records, *session.gone}
            session.given_leads_bound = given_leads_bound(self.target, own)
        return session.given_leads_bound

    @precondition(lambda self: bool(self.model.records))
    @rule(data=st.data(), kind=st.sampled_from(["date_created", "activity_at"]))
    def list_at_a_date_boundary(self, data: st.DataObject, kind: str) -> None:
        """A date filter whose bound is exactly some SMS's own date as the server showed it
        (unambiguous at any precision the server keeps times at), or a microsecond off."""
        self.list_with_one_filter(data, kind, nudges=BOUNDARY_NUDGES, styles=("offset", "local"))

    @precondition(lambda self: bool(self._dated_on_own_leads("date_created")))
    @rule(
        data=st.data(),
        kind=st.sampled_from(["date_created", "activity_at"]),
        op=st.sampled_from(["gt", "lt"]),
    )
    def list_strictly_past_an_sms_own_date(self, data: st.DataObject, kind: str, op: str) -> None:
        """``__gt``/``__lt`` exactly at an SMS's own date as the server showed it, on its
        lead, one whole page: that SMS must not be listed (a bound compared inclusively
        shows only here; drawn among every filter, it came up too rarely to count on)."""
        dated = self._dated_on_own_leads(kind)
        if not dated:
            return
        record = data.draw(st.sampled_from(dated), label="at")
        moment = getattr(record, kind)
        params = {"lead_id": record.written["lead_id"], f"{kind}__{op}": moment.isoformat()}
        self._list(self._scoped(params))

    @precondition(lambda self: bool(self._dated_on_own_leads("date_created")))
    @rule(
        data=st.data(),
        kind=st.sampled_from(["date_created", "activity_at"]),
        edge=st.sampled_from(["lt", "gte", "gt-day", "lte-day"]),
    )
    def list_where_a_reading_shows(self, data: st.DataObject, kind: str, edge: str) -> None:
        """A bound where the readings of an open point disagree about an SMS, on its lead,
        one whole page that shows which the server took: ``__lt``/``__gte`` one microsecond
        after its date (before the bound at the microsecond, on it at the millisecond:
        time-precision), or ``__gt``/``__lte`` its bare local date (midnight at its start,
        or the whole day: bare-date-filter). Drawn among every filter, both came up too
        rarely to count on."""
        dated = self._dated_on_own_leads(kind)
        if not dated:
            return
        record = data.draw(st.sampled_from(dated), label="at")
        moment, tz_offset = getattr(record, kind), None
        op, _, day = edge.partition("-")
        if day:
            tz_offset = data.draw(st.sampled_from(TZ_OFFSETS), label="tz")
            bound = _render_bound(moment, "date", tz_offset)
        else:
            bound = (moment + timedelta(microseconds=1)).isoformat()
        params = {"lead_id": record.written["lead_id"], f"{kind}__{op}": bound}
        self._list(self._scoped(params), tz_offset)

    def _dated_on_own_leads(self, kind: str) -> list[Any]:
        leads = {lead for lead, _ in self.fixtures.leads}
        return [
            r
            for r in self.model.records.values()
            if getattr(r, kind) is not None and r.written.get("lead_id") in leads
        ]

    @precondition(lambda self: self.target.allow_send)
    @rule(data=st.data(), date_scheduled=st.sampled_from([None, "absent"]))
    def schedule_without_a_date(self, data: st.DataObject, date_scheduled: str | None) -> None:
        """ "must be specified in the `date_scheduled` field": a scheduled create without
        one (absent or null) must be refused (the invalid-payload families reach it rarely
        once other draws shift)."""
        body = data.draw(sms_st.create_payloads(self.fixtures, now=STRATEGY_NOW, status="draft"))
        body = {**body, "status": "scheduled", "text": "scheduled without a date"}
        body.pop("date_scheduled", None)
        if date_scheduled is None:
            body["date_scheduled"] = None
        self._create(body)

    @precondition(lambda self: len(self.fixtures.leads) >= 2)
    @rule(data=st.data())
    def list_by_a_contact_on_another_lead(self, data: st.DataObject) -> None:
        """``contact_id`` with a single ``lead_id`` that is not the contact's: only SMS of
        that contact may be listed, so an ignored contact filter shows whenever the lead has
        SMS (on the contact's own lead every SMS may well be the contact's)."""
        (lead, _), (_, contact) = data.draw(
            st.permutations(self.fixtures.leads).map(lambda leads: leads[:2]), label="leads"
        )
        self._list(self._scoped({"contact_id": contact, "lead_id": lead}))

    @rule(data=st.data(), field=st.sampled_from(["remote_phone", "local_phone"]))
    def create_with_a_phone_that_is_no_number(self, data: st.DataObject, field: str) -> None:
        """ "Phone number in E.164 format": a draft whose number has letters or too few
        digits must be refused (among every invalid create it came up too rarely)."""
        body = data.draw(sms_st.create_payloads(self.fixtures, now=STRATEGY_NOW, status="draft"))
        body[field] = data.draw(st.sampled_from(["not a phone", "12", "call me later", "+"]))
        self._create(body)

    @precondition(lambda self: bool(self.model.records))
    @rule(data=st.data(), kind=st.sampled_from(["date_created", "activity_at"]))
    def list_from_a_bare_date(self, data: st.DataObject, kind: str) -> None:
        """A date filter given as a bare date: local midnight at ``x-tz-offset``. (Drawn
        among other styles, the bare date came up a few times in a thousand steps.)"""
        self.list_with_one_filter(data, kind, styles=("date",))

    @precondition(lambda self: len(self.model.records) >= 2)
    @rule(data=st.data())
    def list_some_by_id(self, data: st.DataObject) -> None:
        """``id__in`` naming some but not all known SMS: the others must stay out. (A
        filter that is ignored is invisible while only one SMS exists.)"""
        records = list(self.model.records.values())
        count = data.draw(st.integers(1, min(3, len(records) - 1)), label="how many")
        chosen = data.draw(st.permutations(records), label="order")[:count]
        self._list(self._scoped({"id__in": ",".join(record.id for record in chosen)}))

    @precondition(lambda self: bool(self.model.records))
    @rule(data=st.data(), kind=st.sampled_from(FOCUSED_FILTERS))
    def list_with_one_filter(
        self,
        data: st.DataObject,
        kind: str,
        nudges: st.SearchStrategy[float] | None = None,
        styles: tuple[str, ...] = ("offset", "local", "date"),
    ) -> None:
        """One filter at a time, its bound often exactly at an SMS's own date: where an
        off-by-one lives. (Many random filters at once mostly match nothing.)"""
        records = list(self.model.records.values())
        params: dict[str, Any] = {}
        tz_offset = None
        if kind == "lead_id":
            params["lead_id"] = data.draw(
                st.sampled_from([lead for lead, _ in self.fixtures.leads])
            )
        elif kind == "contact_id":
            contacts = [contact for _, contact in self.fixtures.leads]
            params["contact_id"] = data.draw(st.sampled_from(contacts))
        elif kind == "user_id":
            if self.fixtures.user_id is None:
                return  # the target has no GET /me/ and no --user-id was given
            params["user_id"] = self.fixtures.user_id
        elif kind == "id__in":
            chosen = data.draw(st.lists(st.sampled_from(records), min_size=1, max_size=3))
            params["id__in"] = ",".join(dict.fromkeys(record.id for record in chosen))
        else:
            op = data.draw(st.sampled_from(["gt", "gte", "lt", "lte"]), label="op")
            # The bound comes from an SMS the scoped list can show: one without a lead is
            # outside the lead_id scope, and a bound at its date tests nothing.
            leads = {lead for lead, _ in self.fixtures.leads}
            dated = [
                r
                for r in records
                if getattr(r, kind) is not None and r.written.get("lead_id") in leads
            ]
            if not dated:
                return
            moment = getattr(data.draw(st.sampled_from(dated), label="at"), kind)
            moment += timedelta(
                seconds=data.draw(NUDGES if nudges is None else nudges, label="nudge")
            )
            style = data.draw(st.sampled_from(styles), label="style")
            if style != "offset":
                tz_offset = data.draw(st.sampled_from(TZ_OFFSETS), label="tz")
            params[f"{kind}__{op}"] = _render_bound(moment, style, tz_offset)
        if data.draw(st.booleans(), label="paged"):
            params["_limit"] = data.draw(st.integers(1, 5), label="_limit")
            params["_skip"] = data.draw(st.integers(0, 3), label="_skip")
        self._list(self._scoped(params), tz_offset)

    def _list(self, params: dict[str, str], tz_offset: str | None = None) -> None:
        """One list request (``tz_offset`` sent as ``x-tz-offset``), judged against the
        model's expectation of exactly which SMS it returns."""
        headers = {"x-tz-offset": tz_offset} if tz_offset is not None else {}
        self.steps += 1
        self.session.tally.steps += 1

        def send() -> Step:
            exchange, window = self._send("GET", SMS, params=params, headers=headers)
            self._adopt_from(exchange)
            return Step(
                "list",
                [exchange],
                window,
                self.model,
                params=params,
                tz_offset=tz_offset,
                list_expectation=self.model.expect_list(params, tz_offset, window),
            )

        self._observe_statuses(self._judge(send(), reread=send))

    @rule(data=st.data())
    def list_sms(self, data: st.DataObject) -> None:
        records = list(self.model.records.values())
        dates = [d for r in records for d in (r.date_created, r.activity_at) if d is not None]
        query = data.draw(
            sms_st.list_queries(
                self.fixtures, known_ids=[r.id for r in records], reference_dates=dates
            )
        )
        self._list(self._scoped(query.params), query.tz_offset)

    def _scoped_records(self) -> int:
        leads = {lead_id for lead_id, _ in self.fixtures.leads}
        return sum(1 for r in self.model.records.values() if r.written.get("lead_id") in leads)

    @precondition(lambda self: self._scoped_records() >= 2)
    @rule(limit=st.integers(1, 4))
    def walk_all_pages(self, limit: int) -> None:
        # At least two pages: a walk that fits on one page says nothing about _skip.
        limit = min(limit, self._scoped_records() - 1)
        params = self._scoped({})
        self.steps += 1
        self.session.tally.steps += 1

        def walk() -> Step:
            exchanges, start = [], self._now()
            for page in range(WALK_MAX_PAGES):
                exchange, window = self._send(
                    "GET", SMS, params={**params, "_skip": str(page * limit), "_limit": str(limit)}
                )
                exchanges.append(exchange)
                self._adopt_from(exchange)
                body = exchange.response.body if exchange.response else None
                if not isinstance(body, dict) or body.get("has_more") is not True:
                    break
            walked = TimeWindow(start, window.end)
            return Step(
                "list-walk",
                exchanges,
                walked,
                self.model,
                params=params,
                list_expectation=replace(
                    self.model.expect_list(params, window=walked), skip=0, limit=limit
                ),
            )

        self._observe_statuses(self._judge(walk(), reread=walk))

    # -- time ------------------------------------------------------------------------------

    @precondition(lambda self: self.target.embedded)
    @rule(seconds=st.one_of(st.integers(0, 90), st.sampled_from([300, 3600, 86400 * 31])))
    def wait(self, seconds: int) -> None:
        self.steps += 1
        self.target.clock.sleep(seconds)

    @precondition(lambda self: self.target.embedded and bool(self._pending()))
    @rule(data=st.data(), before=st.integers(1, 5))
    def cancel_a_moment_before_it_is_sent(self, data: st.DataObject, before: int) -> None:
        """Races live here: a cancel a moment before the sender runs must still win."""
        record = data.draw(st.sampled_from(self._pending()), label="sms")
        ahead = (record.due - self._now()).total_seconds() - before
        if ahead > 0:
            self.target.clock.sleep(ahead)
        self._update(self.model.records[record.id], {"status": "draft"})

    @rule(
        data=st.data(),
        field=st.sampled_from(WRONG_TYPE_FIELDS),
        value=st.sampled_from([12345, 1.5, True, ["x"], {"x": 1}]),
    )
    def create_with_a_wrong_type(self, data: st.DataObject, field: str, value: Any) -> None:
        """Bad input must get a 4xx, never a 5xx: one field of the wrong JSON type."""
        body = data.draw(sms_st.create_payloads(self.fixtures, now=STRATEGY_NOW, status="draft"))
        body[field] = value
        self._create(body)

    def _pending(self) -> list[Any]:
        now = self._now()
        return [r for r in self.model.in_status(*SENDING) if r.due is not None and r.due > now]

    @precondition(lambda self: bool(self.model.records))
    @rule(data=st.data())
    def list_one_exactly_full_page(self, data: st.DataObject) -> None:
        """A page that holds exactly what is left: ``has_more`` must be false."""
        lead = data.draw(st.sampled_from([lead for lead, _ in self.fixtures.leads]))
        # Scoped like every judged list: on a lead the user named, what was there before the
        # run would otherwise fill the page and make has_more true.
        params = self._scoped({"lead_id": lead})
        matching = len(self.model.expect_list(params).ids)
        # Never over the default: what a larger _limit gets is an open point.
        self._list({**params, "_limit": str(min(max(matching, 1), DEFAULT_LIMIT))})

    # -- protocol, auth, isolation ---------------------------------------------------------

    @rule(kind=st.sampled_from(["auth-none", "auth-wrong"]), data=st.data())
    def request_without_valid_credentials(self, kind: str, data: st.DataObject) -> None:
        path = SMS
        if self.model.records and data.draw(st.booleans(), label="one sms"):  # type: ignore[arg-type]
            path = item_path(SMS, self._pick(data).id)
        self._step(kind, "GET", path, auth="none" if kind == "auth-none" else "wrong")

    @precondition(lambda self: bool(self.model.records))
    @rule(data=st.data(), method=st.sampled_from(["PATCH", "POST"]))
    def unsupported_method(self, data: st.DataObject, method: str) -> None:
        self._step("method", method, item_path(SMS, self._pick(data).id), json_body={"text": "x"})

    @rule()
    def post_a_non_json_body(self) -> None:
        self._step(
            "format", "POST", SMS, content=b"status=draft", headers={"content-type": "text/plain"}
        )

    @rule(limit=st.sampled_from([101, 250, 1000]))
    def list_with_a_large_limit(self, limit: int) -> None:
        params = self._scoped({"_limit": limit})
        self.steps += 1

        def send() -> Step:
            exchange, window = self._send("GET", SMS, params=params)
            self._adopt_from(exchange)
            step = Step("list", [exchange], window, self.model, params=params)
            if step.succeeded:  # a refusal is allowed: the maximum is not documented
                step.list_expectation = self.model.expect_list(params, window=window)
            return step

        self._judge(send(), reread=send)

    @precondition(lambda self: bool(self.model.records) and self.target.has_second_org)
    @rule(data=st.data(), kind=st.sampled_from(["get", "list", "put", "delete"]))
    def another_organisation_reaches_in(self, data: st.DataObject, kind: str) -> None:
        record = self._pick(data)
        if kind == "list":
            params = {"id__in": record.id}
            self._step("isolation-list", "GET", SMS, params=params, auth="second-org")
        elif kind == "get":
            self._step("isolation-get", "GET", item_path(SMS, record.id), auth="second-org")
        else:
            body = {"text": "not yours"} if kind == "put" else None
            self._step(
                "isolation-modify",
                kind.upper(),
                item_path(SMS, record.id),
                json_body=body,
                auth="second-org",
            )

    # -- the end of an example -------------------------------------------------------------

    def teardown(self) -> None:
        try:
            if not self.failed:
                self._check_due_times()
        finally:
            gone = self.model.deleted
            kept = self.target.delete_sms([sms_id for sms_id in self.created if sms_id not in gone])
            # What clean-up could not confirm deleted may still be there: never "gone".
            self.session.gone.update(set(self.created) - set(kept) - self.model.uncertain)
            self.session.uncertain.update(kept, self.model.uncertain)
            self.session.lost = list(self.model.lost)  # still unaccounted for

    def _check_due_times(self) -> None:
        """The example's last word: every known SMS reads back as the model has it. On a
        virtual clock, every due time is let pass first (instantly), so pending SMS must now
        be sent and cancelled ones must not; on real time the timing ledger does that."""
        records = list(self.model.records.values())
        timed = [r for r in records if r.due is not None or r.cancelled]
        if timed and self.target.embedded:
            dues = [moment for r in timed for moment in (r.due, r.was_due) if moment is not None]
            latest = max(dues, default=self._now())
            wait = (latest - self._now()).total_seconds() + self.target.timing.grace + 1
            self.target.clock.sleep(max(wait, 1))
        # The timed ones first (a stable sort): a broken due time ends the transcript at once.
        for record in sorted(records, key=lambda r: r.due is None and not r.cancelled):
            self._step(
                "get",
                "GET",
                item_path(SMS, record.id),
                record=self.model.records[record.id],
                expectation=Expectation("sms/get/returns-object", True),
            )


def unknown_id_like(issued: str, salt: int, taken: Collection[str] = ()) -> str:
    """An id of the same shape as ``issued`` (its prefix up to the last ``_`` kept, every
    digit and letter replaced by another of its kind at every position: hex stays hex) that
    is none of ``taken``."""
    prefix, _, tail = issued.rpartition("_")
    kinds: tuple[str, ...] = (
        "0123456789", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"
    )  # fmt: skip
    for hexadecimal in ("0123456789abcdef", "0123456789ABCDEF"):
        if {char for char in tail if char.isalnum()} <= set(hexadecimal):  # hex stays hex
            kinds = (hexadecimal[:10], hexadecimal[10:])
    for attempt in range(salt, salt + 1000):
        out = []
        for index, char in enumerate(tail):
            kind = next((k for k in kinds if char in k), None)
            if kind is None:
                out.append(char)
                continue
            shift = 1 + (attempt + index) % (len(kind) - 1)  # never 0: always another one
            out.append(kind[(kind.index(char) + shift) % len(kind)])
        made = f"{prefix}_{''.join(out)}" if prefix else "".join(out)
        if made not in taken:
            return made
    return f"{issued}0"  # pragma: no cover - a thousand shapes all taken


def _render_bound(moment: datetime, style: str, tz_offset: str | None) -> str:
    """A date filter value: with an offset, as local time at ``tz_offset`` without one, or
    as the bare local date."""
    if style == "offset":
        return moment.isoformat()
    local = moment.astimezone(timezone(timedelta(hours=float(tz_offset or 0))))
    if style == "date":
        return local.date().isoformat()
    return local.replace(tzinfo=None).isoformat()


GIVEN_LEADS_PAGES = 20  # at most 2,000 SMS looked at on the user's leads


def given_leads_bound(target: Target, own: Collection[str] = ()) -> str:
    """A ``date_created`` bound after every SMS the leads the user named (``--lead-id``) hold
    now, the run's ``own`` ids aside: a millisecond past the latest, as ISO 8601; "" when
    they hold none (or the user named no lead). A list bounded by it (``date_created__gt``)
    never shows an SMS that was on the user's leads before the run."""
    lead_ids = tuple(getattr(getattr(target, "given", None), "lead_ids", ()) or ())
    if not lead_ids:
        return ""
    latest = None
    for page in range(GIVEN_LEADS_PAGES):
        params = {"lead_id": ",".join(lead_ids), "_skip": str(page * 100), "_limit": "100"}
        exchange, _ = target.api.send("GET", SMS, params=params)
        body = exchange.response.body if exchange.response is not None else None
        items = body.get("data") if isinstance(body, dict) else None
        for item in items if isinstance(items, list) else []:
            sms_id = item.get("id") if isinstance(item, dict) else None
            if not isinstance(item, dict) or (isinstance(sms_id, str) and sms_id in own):
                continue
            moment = parse_datetime(item.get("date_created"))
            if moment is not None and (latest is None or moment > latest):
                latest = moment
        if not isinstance(body, dict) or body.get("has_more") is not True:
            break
    return (latest + timedelta(milliseconds=1)).isoformat() if latest is not None else ""


def _transient(step: Step) -> bool:
    """True when the step got no usable answer: nothing, a 502/503/504, or an answer the
    client had to retry for (a retried DELETE's 404 says only that an earlier try worked)."""
    response = step.exchange.response
    return (
        response is None
        or response.status_code in TRANSIENT_STATUSES
        or step.exchange.error is not None
    )
