"""Rules for an SMS's life as the docs tell it: create, read, edit, schedule, send, cancel,
delete; and, on a virtual clock, time passing."""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.stateful import initialize, precondition, rule

import strategies as sms_st
from conformance.machine.base import SMS, STRATEGY_NOW, has
from conformance.machine.operations import Operations
from conformance.model import SENDING, Expectation
from conformance.safety import item_path

SEND_IN = st.one_of(st.none(), st.sampled_from([0, 1, 59]), st.integers(0, 59))
#: Seconds before a due time that fall in its last second.
LAST_SECOND = (0.25, 0.5, 0.9)
GET_FIELDS = ("id", "status", "text", "lead_id", "local_phone", "direction")
# Strategies built once, at import: one built afresh at every step is validated afresh, and a
# strategy holds no state, so sharing one draws exactly what a new one would.
_CREATED_SENDING = st.sampled_from(sms_st.CREATE_STATUSES)
_CREATED_NOT_SENDING = st.sampled_from(("inbox", "draft", "sent"))
_MOVED_SENDING = st.sampled_from([s for s in sms_st.CREATE_STATUSES if s != "draft"])
_MOVED_NOT_SENDING = st.sampled_from(("inbox", "sent"))
_GET_FIELD_LISTS = st.lists(st.sampled_from(GET_FIELDS), min_size=1, max_size=3, unique=True)


class LifecycleRules(Operations):
    # -- create ----------------------------------------------------------------------------

    @initialize(data=st.data())
    def start_with_an_sms(self, data: st.DataObject) -> None:
        self.create_sms(data)
        if self.state.aims is not None:  # a coverage top-up round: every aim, first thing
            for aim in self.state.aims:
                aim.act(self, data)

    @rule(data=st.data())
    def create_sms(self, data: st.DataObject) -> None:
        statuses = _CREATED_SENDING if self.target.allow_send else _CREATED_NOT_SENDING
        status = data.draw(statuses, label="status")
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

    # -- update ----------------------------------------------------------------------------

    @has("draft")
    @rule(data=st.data())
    def edit_draft(self, data: st.DataObject) -> None:
        record = self._pick(data, "draft")
        self._update(record, data.draw(sms_st.update_payloads(self.fixtures, now=STRATEGY_NOW)))

    @has("draft")
    @precondition(lambda self: self.target.allow_send)
    @rule(data=st.data())
    def schedule_draft(self, data: st.DataObject) -> None:
        record = self._pick(data, "draft")
        self._update(record, {"status": "scheduled", "date_scheduled": self._future(data)})

    @has("draft")
    @precondition(lambda self: self.target.allow_send)
    @rule(data=st.data())
    def send_draft(self, data: st.DataObject) -> None:
        self._update(self._pick(data, "draft"), {"status": "outbox"})

    @has(*SENDING)
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        self._update(self._pick(data, *SENDING), {"status": "draft"})

    @has("inbox", "sent", "error", "delivered", *SENDING)
    @rule(data=st.data())
    def edit_non_draft(self, data: st.DataObject) -> None:
        record = self._pick(data, "inbox", "sent", "error", "delivered", *SENDING)
        text = data.draw(sms_st.texts().filter(lambda t: t != record.written.get("text")))
        self._update(record, {"text": text})

    @has("inbox", "sent", "error", "delivered", *SENDING)
    @rule(data=st.data())
    def move_non_draft(self, data: st.DataObject) -> None:
        """Only drafts may be edited, their status too: a non-draft (pending or not) moved
        to any status but ``draft`` (which cancels a pending one) must be refused."""
        record = self._pick(data, "inbox", "sent", "error", "delivered", *SENDING)
        statuses = _MOVED_SENDING if self.target.allow_send else _MOVED_NOT_SENDING
        status = data.draw(statuses, label="to")
        body: dict[str, object] = {"status": status}
        if status == "scheduled":
            body["date_scheduled"] = self._future(data)
        self._update(record, body)

    @has("inbox", "sent", "error", "delivered")
    @rule(data=st.data())
    def cancel_non_cancellable(self, data: st.DataObject) -> None:
        self._update(self._pick(data, "inbox", "sent", "error", "delivered"), {"status": "draft"})

    @has("draft")
    @precondition(lambda self: self.target.allow_send)
    @rule(data=st.data())
    def schedule_draft_without_a_date(self, data: st.DataObject) -> None:
        self._update(self._pick(data, "draft"), {"status": "scheduled"})

    # -- read, delete ----------------------------------------------------------------------

    @precondition(lambda self: bool(self.model.records))
    @rule(data=st.data(), with_fields=st.booleans())
    def get_sms(self, data: st.DataObject, with_fields: bool) -> None:
        record = self._pick(data)
        auths = ["basic", "bearer"] if self.target.has_oauth else ["basic"]
        auth = data.draw(st.sampled_from(auths), label="auth")
        params = {}
        if with_fields:
            params["_fields"] = ",".join(data.draw(_GET_FIELD_LISTS, label="_fields"))
        self._observe_statuses(self._get(record, params=params, auth=auth))

    @precondition(lambda self: bool(self.model.records))
    @rule(data=st.data())
    def delete_sms(self, data: st.DataObject) -> None:
        self._delete_record(self._pick(data))

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

    # -- time ------------------------------------------------------------------------------

    @precondition(lambda self: self.target.clock_can_jump)
    @rule(seconds=st.one_of(st.integers(0, 90), st.sampled_from([300, 3600, 86400 * 31])))
    def wait(self, seconds: int) -> None:
        self._pass_time(seconds)

    @precondition(lambda self: self.target.clock_can_jump and bool(self._pending()))
    @rule(data=st.data(), before=st.one_of(st.sampled_from(LAST_SECOND), st.integers(1, 5)))
    def cancel_a_moment_before_it_is_sent(self, data: st.DataObject, before: int) -> None:
        """Races live here: a cancel a moment before the sender runs must still win."""
        record = data.draw(st.sampled_from(self._pending()), label="sms")
        assert record.due is not None
        ahead = (record.due - self._now()).total_seconds() - before
        if ahead > 0:
            self.target.clock.sleep(ahead)
        self._update(self.model.records[record.id], {"status": "draft"})

    @precondition(lambda self: self.target.clock_can_jump and bool(self._pending()))
    @rule(data=st.data(), before=st.sampled_from(LAST_SECOND))
    def read_a_moment_before_it_is_due(self, data: st.DataObject, before: float) -> None:
        """A sender that runs early shows in the last second before the due time: the SMS
        read then must still be pending."""
        record = data.draw(st.sampled_from(self._pending()), label="sms")
        assert record.due is not None
        ahead = (record.due - self._now()).total_seconds() - before
        if ahead > 0:
            self.target.clock.sleep(ahead)
        self._observe_statuses(self._get(self.model.records[record.id]))
