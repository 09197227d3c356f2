"""Time: the sender (1.3 rules 1-3). An ``outbox`` SMS is sent once ``send_in`` seconds have
passed, a ``scheduled`` one at ``date_scheduled``, and a cancelled one never.

Each status the server shows for a known SMS is judged against the statuses the model
allows at the time the server answered; outside the grace period both outcomes are fine.
When an SMS is sent is only observed where the docs leave it open (a negative ``send_in``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from conformance.checks import Finding, Step, check
from conformance.model import (
    DELIVERED,
    SENDING,
    SmsRecord,
    floor_ms,
    is_empty,
    parse_datetime,
    same_millisecond,
)
from conformance.rules._util import in_last_second, observed_objects


def _blame(record: SmsRecord, shown_status: str, context: str) -> str:
    if record.status in SENDING and shown_status in DELIVERED:
        return (
            "sms/send/send-in-delays"
            if record.status == "outbox"
            else ("sms/send/scheduled-not-early")
        )
    if record.status in SENDING and shown_status == record.status:
        return "sms/send/outbox-sent" if record.status == "outbox" else "sms/send/scheduled-sent"
    if record.cancelled and shown_status in (*DELIVERED, *SENDING):
        return "sms/send/cancelled-never-sent"
    if context == "create":
        return (
            f"sms/create/status-{record.status}"
            if record.status != "error"
            else ("sms/create/status-error")
        )
    if context == "update":
        return "roundtrip/update-readback"
    return "sms/get/returns-object"


@check(
    "sms/send/outbox-sent",
    "sms/send/send-in-delays",
    "sms/send/scheduled-sent",
    "sms/send/scheduled-not-early",
    "sms/send/cancelled-never-sent",
    "sms/create/status-inbox",
    "sms/create/status-draft",
    "sms/create/status-scheduled",
    "sms/create/status-outbox",
    "sms/create/status-sent",
    "sms/create/status-error",
    "roundtrip/update-readback",
    "sms/get/returns-object",
    "sms/create/send-in-negative",
    "sms/create/send-in-fraction",
    on=("create", "update", "get", "list", "list-walk", "observe"),
)
def status_is_one_the_clock_allows(step: Step) -> Iterator[Finding]:
    if "_fields" in step.params and "status" not in step.params["_fields"].split(","):
        return
    for record, obj, context in observed_objects(step):
        if not isinstance(obj, dict) or "status" not in obj:
            continue
        allowed = record.allowed_statuses(step.window, step.model.timing)
        shown_status = obj["status"]
        ok = shown_status in allowed
        if not ok:
            rule = _blame(record, shown_status, context)
        elif record.cancelled:
            rule = "sms/send/cancelled-never-sent"
        elif record.timing_open is not None and record.status in SENDING:
            rule = record.timing_open  # when it is sent is not documented: only observed
        else:
            rule = _passing_rule(record, context, allowed, shown_status)
        yield Finding(
            rule,
            ok,
            expected=f"status in {sorted(allowed)}",
            actual=f"status {shown_status!r}",
            message=f"SMS {record.id or '(new)'} due {_due(record)},"
            f" seen by {step.operation} at {step.window.start.isoformat()}",
            boundary="read in the last second before due"
            if rule in NOT_EARLY and in_last_second(record, step)
            else None,
        )


NOT_EARLY = ("sms/send/send-in-delays", "sms/send/scheduled-not-early")


@check(*NOT_EARLY, on=("get", "list", "list-walk", "observe"))
def a_sent_sms_shows_it_was_not_sent_before_its_due_time(step: Step) -> Iterator[Finding]:
    """A sent SMS's date_sent is not before its due time, both on the server's own clock:
    its date_scheduled, or its date_created plus send_in. Where the run's clock is not the
    server's, a status read can only tell a send early by more than the clock skew allowed
    (``--grace``'s sibling ``Timing.early``); date_sent tells one a second early. A second of
    slack covers times shown to the second (``time-precision``)."""
    if "_fields" in step.params and "date_sent" not in step.params["_fields"].split(","):
        return
    for record, obj, _ in observed_objects(step):
        if record.not_before is None or not isinstance(obj, dict) or obj.get("status") != "sent":
            continue
        sent = parse_datetime(obj.get("date_sent"))
        if sent is None:
            continue  # when a send is stamped is not documented (open question 3)
        due = record.not_before
        yield Finding(
            due.rule,
            not due.broken_by(sent),
            expected=f"date_sent not before {due.moment.isoformat()} (less a second)",
            actual=f"date_sent {obj.get('date_sent')!r}",
            message=f"SMS {record.id} shown sent",
        )


def _passing_rule(
    record: SmsRecord, context: str, allowed: frozenset[str], shown_status: str
) -> str:
    """The rule an allowed status shows held: one that left outbox/scheduled shows the SMS
    was sent (however soon after its due time: the docs give no precision), one still
    pending that it was not sent early."""
    if record.status in SENDING and (allowed == frozenset(DELIVERED) or shown_status in DELIVERED):
        return "sms/send/outbox-sent" if record.status == "outbox" else "sms/send/scheduled-sent"
    if record.status == "outbox":
        return "sms/send/send-in-delays"
    if record.status == "scheduled":
        return "sms/send/scheduled-not-early"
    if context == "create":
        return f"sms/create/status-{record.status}"
    return "sms/get/returns-object"


def _due(record: SmsRecord) -> str:
    if record.timing_open is not None and record.status in SENDING:
        return f"at a time left open ({record.timing_open})"
    if record.due is None and record.was_due is not None:
        return f"{_iso(record.was_due)} (cancelled before then)"
    return _iso(record.due)


def _iso(moment: object) -> str:
    return moment.isoformat() if hasattr(moment, "isoformat") else "-"


@check("sms/create/empty-send", on=("get", "list", "list-walk", "observe"))
def an_empty_sms_once_sent_shows_how_the_target_reads_it(step: Step) -> Iterator[Finding]:
    """An SMS with nothing in it that left outbox or scheduled: sent (``accept``) or failed
    at send time (``accept-then-error``); both are documented-compatible."""
    for record, obj, _ in observed_objects(step):
        shown_status = obj.get("status") if isinstance(obj, dict) else None
        if shown_status in DELIVERED and record.status in (*SENDING, "delivered"):
            if not is_empty(record):
                continue
            reading = "accept" if shown_status == "sent" else "accept-then-error"
            yield Finding(
                "sms/create/empty-send",
                False,
                "not documented",
                f"an SMS with no text, attachment or template became {shown_status}",
                reading=f"empty-send={reading}",
            )


@check("sms/get/returns-object", "sms/list/pagination", on=("get", "list"))
def a_sent_sms_shows_whether_its_activity_at_moved(step: Step) -> Iterator[Finding]:
    """The first answer that shows an SMS sent (sent or error) shows its activity_at as it
    was (``activity-at-on-send=kept``) or at the send time (``send-time``): both are
    documented-compatible. Told only where the two cannot be confused (a send time that may
    equal the activity_at known shows nothing)."""
    if "_fields" in step.params:
        return
    rule = "sms/get/returns-object" if step.operation == "get" else "sms/list/pagination"
    for record, obj, _ in observed_objects(step):
        if not isinstance(obj, dict) or obj.get("status") != "sent":
            continue  # a failed send (error) need not have a send time at all
        if record.status not in SENDING or record.activity_at is None or record.due is None:
            continue  # not sent as far as the model knew, or already seen sent
        if record.timing_open is not None:
            continue  # sent at a time left open (send_in 0.5 cut to 0): maybe at its creation
        shown = parse_datetime(obj.get("activity_at"))
        known = record.activity_at
        earliest = floor_ms(record.due) - timedelta(seconds=step.model.timing.early)
        if shown is None or known >= earliest:
            continue  # the send time may be the very time known
        if same_millisecond(shown, known):
            reading = "kept"
        elif earliest <= shown <= step.window.end:
            reading = "send-time"
        else:
            continue  # neither: the list filters judge the time known
        yield Finding(
            rule,
            True,
            message=f"SMS {record.id} shown {obj['status']} with activity_at {obj['activity_at']}",
            reading=f"activity-at-on-send={reading}",
        )


# How far off a send time may be from a due time and still tell which it was sent at.
_TELLING = timedelta(milliseconds=1)


@check("sms/create/send-in-fraction", on=("get", "list", "list-walk", "observe"))
def a_fractional_send_in_once_sent_shows_how_the_target_reads_it(step: Step) -> Iterator[Finding]:
    """An outbox SMS created with a send_in of a fraction of a second (5.5), once shown sent,
    shows by its date_sent whether the delay was taken as given (``as-given``: not before
    5.5 s after its date_created) or cut to whole seconds (``truncated``: from 5 s, before
    5.5 s). Both are documented-compatible; a send time later than the next whole second
    tells nothing (a slow sender)."""
    for record, obj, _ in observed_objects(step):
        if record.timing_open != "sms/create/send-in-fraction" or record.status not in SENDING:
            continue
        if not isinstance(obj, dict) or obj.get("status") not in DELIVERED:
            continue
        sent, created = parse_datetime(obj.get("date_sent")), record.date_created
        if sent is None or created is None or record.due is None:
            continue
        given = record.due - created
        whole = timedelta(seconds=int(given.total_seconds()))
        delay = sent - created
        if whole - _TELLING <= delay < given - _TELLING:
            reading = "truncated"
        elif given - _TELLING <= delay < whole + timedelta(seconds=1):
            reading = "as-given"
        else:
            continue
        yield Finding(
            "sms/create/send-in-fraction",
            False,
            "not documented",
            f"sent {delay.total_seconds():g} s after its creation, with send_in "
            f"{given.total_seconds():g}",
            message=f"SMS {record.id} shown {obj['status']}",
            reading=f"send-in-fraction={reading}",
        )
