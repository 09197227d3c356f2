"""The sender: moves SMS whose due time has come to ``sent``.

An ``outbox`` SMS is due at its creation (or PUT) time plus ``send_in``; a ``scheduled``
SMS at ``date_scheduled``. Sending sets ``status: sent``, ``date_sent`` (and
``date_updated``) to the due time and ``cost: "1"``, and forgets the due time. Cancelling
and deleting forget it too, so those SMS are never sent.
"""

from __future__ import annotations

from datetime import datetime

from conformance.refserver.dates import format_dt
from conformance.refserver.storage import Storage

__all__ = ["send_due"]


def send_due(storage: Storage, now: datetime, faults: frozenset[str] = frozenset()) -> int:
    """Send every SMS due at or before ``now``; return how many were sent."""
    sent = 0
    for due_at, doc in storage.due("sms", format_dt(now)):
        if doc["status"] == "outbox" and "outbox-never-sent" in faults:
            continue  # the sender only picks up scheduled SMS
        cost: str | int = 1 if "cost-as-int" in faults else "1"
        doc.update(status="sent", date_sent=due_at, date_updated=due_at, cost=cost)
        storage.update("sms", doc, due_at=None)
        sent += 1
    return sent
