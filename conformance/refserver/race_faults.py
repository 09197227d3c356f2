"""Race variants: bugs that only show when requests run at the same time (issue 14).

They are registered here, apart from :data:`~conformance.refserver.faults.FAULTS`: the
sequential self-test's kill matrix is over ``FAULTS``, and a race variant cannot be caught
by one request at a time (its bug needs a second request inside its window). A
:class:`~conformance.refserver.faults.Faults` set accepts these names as well, so
``ReferenceServer(faults=["race-lost-update"])`` switches one on the usual way; the races
(:func:`conformance.races.run.run_races`) catch them.

Each race opens a real window: :func:`race_window` lets go of the server's lock (the one
every request and sender run holds, so the clean server never races) for
:data:`RACE_WINDOW` seconds of real time and takes it back, so a request from another
thread can run inside it, as it would in a server whose handlers read, do something slow,
then write.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from conformance.refserver.settle import Settle

__all__ = [
    "RACE_FAULTS",
    "RACE_WINDOW",
    "IndexLag",
    "RaceFault",
    "double_send",
    "race_window",
]

RACE_WINDOW = 0.03  # seconds of real time a racy handler works without the lock


@dataclass(frozen=True, slots=True)
class RaceFault:
    """One race bug: its ``name``, the catalogue ``rule`` its shrunk history is named
    under on the races' own target (:mod:`conformance.races.rules`, by its fixed
    precedence), what it does, and the rules ``also`` broken by the same bug in other
    histories or through a list filtered otherwise: a lost update of an edit reads as
    ``sms/update/draft-edit`` or ``sms/update/partial`` where it is not two sends that both
    took; a list taken by ``lead_id`` (``run --races``) is held to
    ``sms/list/filter-lead-id`` rather than one unfiltered page's ``sms/list/pagination``."""

    name: str
    rule: str
    description: str
    also: tuple[str, ...] = ()

    @property
    def rules(self) -> tuple[str, ...]:
        """Every rule a history of this bug may be named under: ``rule``, then ``also``."""
        return (self.rule, *self.also)


RACE_FAULTS: dict[str, RaceFault] = {
    fault.name: fault
    for fault in (
        RaceFault(
            "race-lost-update",
            "sms/update/drafts-only",
            "a PUT reads the SMS, works a moment without the lock, then writes back the whole "
            "copy it read: a concurrent PUT's change (an edit, a schedule, a send) is lost, "
            "and two moves of one draft are both answered 200",
            ("sms/update/draft-edit", "sms/update/partial"),
        ),
        RaceFault(
            "race-cancel-sent-anyway",
            "sms/send/cancelled-never-sent",
            "the sender takes a due SMS off its queue, sends it (a moment without the lock) "
            "and stores it sent without looking again: a cancel answered draft meanwhile, "
            "and the SMS goes out anyway",
        ),
        RaceFault(
            "race-create-unlisted",
            "sms/list/pagination",
            "the list index is written after the create answers: for a moment after a create "
            "completed, a list leaves the new SMS out (under the visibility=eventual reading "
            "that lag is documented-compatible, and this variant is off)",
            ("sms/list/filter-lead-id",),
        ),
        RaceFault(
            "race-double-send",
            "sms/list/pagination",
            "a PUT that sends a draft now (status outbox, or scheduled at a date that has "
            "come) reads it, hands it to the carrier "
            "(a moment without the lock) and only then looks whether it is still a draft: "
            "when a concurrent send got in first, its own message has gone out too, and it "
            "is logged as a second SMS activity (sent, a new id) before the PUT is refused. "
            "No documented sentence forbids an SMS activity nobody created; it shows in a "
            "list, which then holds one more SMS than the requests made (on one unfiltered "
            "page, sms/list/pagination's whole result; filtered by lead, "
            "sms/list/filter-lead-id)",
            ("sms/list/filter-lead-id",),
        ),
        RaceFault(
            "race-delete-resurrected",
            "sms/delete/then-get-404",
            "a PUT in flight while the SMS is deleted writes its copy back (an upsert): the "
            "deleted SMS is back, as the PUT left it (it reads the SMS again after its "
            "window, so alone it loses no update)",
            ("sms/delete/then-not-listed", "sms/update/unknown-id-404"),
        ),
    )
}


def race_window(lock: Any, seconds: float | None = None) -> None:
    """Release ``lock`` (a ``threading.RLock`` the caller holds, however many times) for
    ``seconds`` (default :data:`RACE_WINDOW`, read at the call), then take it back as it
    was held."""
    # Condition.wait releases an RLock fully (every level) and restores it after; nobody
    # notifies, so it waits the whole time.
    threading.Condition(lock).wait(RACE_WINDOW if seconds is None else seconds)


def double_send(
    lock: Any,
    doc: dict[str, Any],
    reread: Callable[[], dict[str, Any]],
    log: Callable[[dict], None],
) -> dict[str, Any]:
    """The ``race-double-send`` variant's PUT sending a draft now (to ``outbox``, or
    scheduled at a date that has come): ``doc`` (the draft it read) goes to the carrier
    during a window without ``lock``; then the SMS is read again (``reread``, which raises
    404 when it is gone). If it is no draft any more, a concurrent send came first and the
    message went out twice: ``log`` is given the copy that went out, to store as a new SMS
    activity. Returns the SMS as read again, for the PUT to go on with (a clean server's
    answer to what it finds)."""
    race_window(lock)
    fresh = reread()
    if fresh.get("status") != "draft":
        log(dict(doc))
    return fresh


class IndexLag(Settle):
    """The ``race-create-unlisted`` variant's list index: a new SMS joins it
    :data:`RACE_WINDOW` seconds of real time after its create answered (whatever the
    server's clock says); deletes leave it at once (nothing lingers)."""

    def __init__(self, seconds: float | None = None) -> None:
        super().__init__()
        self.seconds = RACE_WINDOW if seconds is None else seconds
        self._indexed: dict[str, float] = {}
        self._gone: set[str] = set()

    def created(self, sms_id: str, now: datetime) -> None:
        self._indexed[sms_id] = time.monotonic() + self.seconds

    def deleted(self, sms_id: str, now: datetime) -> None:
        self._gone.add(sms_id)

    def unlisted(self, sms_id: str, now: datetime) -> bool:
        return time.monotonic() < self._indexed.get(sms_id, 0.0)

    def was_deleted(self, sms_id: str) -> bool:
        return sms_id in self._gone

    def lingering(self, sms_id: str, now: datetime) -> bool:
        return False
