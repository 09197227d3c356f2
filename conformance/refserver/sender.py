"""The sender: moves SMS whose due time has come to ``sent``.

An ``outbox`` SMS is due at its creation (or PUT) time plus ``send_in``; a ``scheduled``
SMS at ``date_scheduled``. Sending sets ``status: sent``, ``date_sent`` (and
``date_updated``) to the due time and ``cost: "1"``, and forgets the due time. Cancelling
and deleting forget it too, so those SMS are never sent.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from conformance.refserver.dates import format_dt, parse_datetime
from conformance.refserver.faults import NO_FAULTS, Faults
from conformance.refserver.readings import Readings
from conformance.refserver.storage import Storage

__all__ = ["EMPTY_ERROR", "EARLY_SECONDS", "is_empty", "send_due", "sent_early"]

EMPTY_ERROR = "The message has no text and no attachment."
EARLY_SECONDS = 2  # how early the outbox-sent-early and scheduled-sent-early faults send


def sent_early(ctx: Any, scheduled: str | None) -> str | None:
    """Return the due time of an SMS scheduled at ``scheduled``: that time, or under the
    ``scheduled-sent-early`` fault :data:`EARLY_SECONDS` before it."""
    if scheduled is None or "scheduled-sent-early" not in ctx.faults:
        return scheduled
    moment = parse_datetime(scheduled)
    assert moment is not None  # stored by the server itself
    return format_dt(moment - timedelta(seconds=EARLY_SECONDS))


def is_empty(doc: dict) -> bool:
    """True for an SMS with nothing to send: no text (or only "") and no attachment."""
    return not doc.get("text") and not doc.get("attachments")


def send_due(
    storage: Storage,
    now: datetime,
    faults: Faults = NO_FAULTS,
    readings: Readings | None = None,
    pause: Callable[[], None] | None = None,
) -> int:
    """Send every SMS due at or before ``now``; return how many were sent (or failed).

    With the ``empty-send=accept-then-error`` reading an SMS with no text and no attachment
    fails at send time: ``status: error`` with an ``error_message``, no cost. With the
    ``activity-at-on-send=send-time`` reading a sent SMS's ``activity_at`` becomes its
    ``date_sent``.

    Under the ``race-cancel-sent-anyway`` race variant the sender takes the due SMS off its
    queue, then ``pause`` s (the send, with the server's lock let go) and stores the copies
    it took as sent, without looking again."""
    readings = readings if readings is not None else Readings()
    sent = 0
    due = storage.due("sms", format_dt(now))
    if due and "race-cancel-sent-anyway" in faults and pause is not None:
        for _, doc in due:
            storage.update("sms", doc, due_at=None)  # off the queue, still outbox/scheduled
        pause()
    for due_at, doc in due:
        if doc["status"] == "outbox" and "outbox-never-sent" in faults:
            continue  # the sender only picks up scheduled SMS
        if doc["status"] == "draft" and "rescheduled-sent-at-first-due" in faults:
            # Cancelled, still queued: skipped, unless scheduled again before it falls due.
            storage.update("sms", doc, due_at=None)
            continue
        if readings["empty-send"] == "accept-then-error" and is_empty(doc):
            doc.update(status="error", error_message=EMPTY_ERROR, date_updated=due_at)
            storage.update("sms", doc, due_at=None)
            sent += 1
            continue
        cost: str | int = 1 if "cost-as-int" in faults else "1"
        doc.update(status="sent", date_sent=due_at, date_updated=due_at, cost=cost)
        if readings["activity-at-on-send"] == "send-time":
            doc["activity_at"] = due_at  # the activity happened when it was sent
        storage.update("sms", doc, due_at=None)
        sent += 1
    return sent
