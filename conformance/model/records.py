"""What the model knows and expects: one SMS's record (its statuses over time, the values
that must read back), the expectation for one request, and a create that got no answer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from conformance.dates import parse_datetime
from conformance.model.timing import TimeWindow, Timing, floor_ms, same_millisecond
from conformance.vocabulary import DELIVERED, SENDING

__all__ = [
    "LOST_CREATE_SLACK",
    "SEND_TIME_SLACK",
    "Expectation",
    "LostCreate",
    "NotBefore",
    "SmsRecord",
]


@dataclass(frozen=True, slots=True)
class Expectation:
    """What the docs allow for one request.

    ``accept`` is True (must succeed), False (must be rejected with a 4xx) or None (either:
    the docs are silent, or timing leaves both open). ``rule`` is the catalogue rule that
    decides it; ``field`` the request field a rejection ought to name; ``record`` what an
    accepted SMS must look like; ``readings`` the readings of an open point (``POINT=ALT``)
    that an acceptance and a rejection show, when ``accept`` is None because of one.
    """

    rule: str
    accept: bool | None
    field: str | None = None
    record: SmsRecord | None = None
    note: str = ""
    readings: tuple[str | None, str | None] = (None, None)


# How far before its due time a date_sent may fall and still be on time: a server may show
# times truncated to the second (time-precision), and stamps date_created a moment after it
# read its clock for send_in.
SEND_TIME_SLACK = timedelta(seconds=1)


@dataclass(frozen=True, slots=True)
class NotBefore:
    """An SMS must not be sent before ``moment`` (the server's clock), by ``rule``."""

    moment: datetime
    rule: str

    def broken_by(self, date_sent: datetime) -> bool:
        """True when a ``date_sent`` shows the SMS was sent early, beyond the slack."""
        return date_sent < self.moment - SEND_TIME_SLACK


@dataclass(frozen=True, slots=True)
class SmsRecord:
    """What the model knows of one SMS: the values written to it (which must read back),
    its status as last confirmed, and when its sender is due. ``status`` is
    ``"delivered"`` when the SMS is known to have left ``outbox``/``scheduled`` but the
    server has not yet shown whether as ``sent`` or ``error``."""

    id: str
    status: str
    written: Mapping[str, Any]
    due: datetime | None = None
    cancelled: bool = False
    date_created: datetime | None = None
    activity_at: datetime | None = None
    user_id: str | None = None
    text_choices: tuple[Any, ...] | None = None  # when the text read back may be one of several
    updated: frozenset[str] = frozenset()  # fields last written by an update, not the create
    was_due: datetime | None = None  # when a cancelled SMS would have been sent
    # When the sender may have sent it (its due time): from then on its activity_at may be
    # the send time (the activity-at-on-send open point), until the server shows it.
    sent_after: datetime | None = None
    # Values besides ``written[name]`` a field may read back as, because an open point of the
    # docs allows them (the direction the status implies, the NFC form of the text). The
    # first answer that shows the field settles it (:meth:`settled`).
    alternatives: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    # The unspecified rule that leaves this SMS's send time open (a negative send_in: sent at
    # once, or whenever the server sends it); until it is seen delivered, it may show its
    # status or a delivered one at any time, and the sending rules do not judge it.
    timing_open: str | None = None
    # When a send named no local_phone and Caller ID may pick it (open point
    # local-phone-on-sends): the numbers it may show (or null, until one is picked).
    local_phone_choices: frozenset[str] | None = None
    # The earliest time, on the server's own clock, it may be sent (its date_scheduled, or
    # its date_created plus a whole send_in), and the rule a date_sent before it breaks;
    # None where the due time is only known on the run's clock. Kept once it is sent: every
    # later read shows its date_sent (:data:`SEND_TIME_SLACK`).
    not_before: NotBefore | None = None

    def allowed_statuses(self, window: TimeWindow, timing: Timing) -> frozenset[str]:
        """Return the statuses this SMS may show to a request handled during ``window``.

        A server that keeps milliseconds (``time-precision``) keeps the due time truncated,
        so it may send up to a millisecond before a due time given in microseconds."""
        if self.status == "delivered":
            return frozenset(DELIVERED)
        if self.status in SENDING and self.timing_open is not None:
            return frozenset({self.status, *DELIVERED})
        if self.status not in SENDING or self.due is None:
            return frozenset({self.status})
        if window.end < floor_ms(self.due) - timedelta(seconds=timing.early):
            return frozenset({self.status})
        if window.start > self.due + timedelta(seconds=timing.grace):
            return frozenset(DELIVERED)
        return frozenset({self.status, *DELIVERED})

    def is_pending(self, window: TimeWindow, timing: Timing) -> bool:
        return self.allowed_statuses(window, timing) == {self.status} and self.status in SENDING

    def may_have_been_sent(self, window: TimeWindow | None, timing: Timing) -> bool:
        """True when the sender may have sent this SMS by the end of ``window`` (``None``:
        at some unknown time)."""
        if self.sent_after is not None:
            return True
        if self.status not in SENDING or self.due is None:
            return False
        return window is None or self.allowed_statuses(window, timing) != {self.status}

    def may_read_back(self, name: str, value: Any) -> bool:
        """True when ``value`` is one of the forms an open point allows for field ``name``
        besides the one written."""
        return any(value == other for other in self.alternatives.get(name, ()))

    def settled(self, obj: Any) -> SmsRecord:
        """Return the record after the server showed ``obj``: a field an open point left open
        that ``obj`` shows as written, or in one of its allowed forms, is settled on that form
        (a server keeps to one reading); fields ``obj`` lacks or shows otherwise stay open."""
        if not self.alternatives or not isinstance(obj, Mapping):
            return self
        written, still_open = dict(self.written), dict(self.alternatives)
        for name in self.alternatives:
            if name not in obj:
                continue
            if obj[name] == written.get(name) or self.may_read_back(name, obj[name]):
                written[name] = obj[name]
                del still_open[name]
        return replace(self, written=written, alternatives=still_open)

    def observe_status(self, status: str) -> SmsRecord:
        """Return the record after the server showed ``status`` (an allowed one)."""
        if status in DELIVERED and self.status in (*SENDING, "delivered"):
            return replace(
                self,
                status=status,
                due=None,
                sent_after=self.due or self.sent_after,
                timing_open=None,
            )
        return self

    def observe(self, item: Mapping[str, Any], window: TimeWindow, timing: Timing) -> SmsRecord:
        """Return the record after the server showed ``item`` (already judged): the status
        it showed, and the ``activity_at`` it showed where the docs leave that time open
        to within a millisecond of the one known (``time-precision``) or, once the SMS is
        sent, to the send time (``activity-at-on-send``). A time outside those stays
        unadopted, so the list filters go on judging the one known."""
        record = self
        if isinstance(item.get("status"), str):
            record = record.observe_status(item["status"])
        shown, known = parse_datetime(item.get("activity_at")), record.activity_at
        if shown is None or known is None:
            return record
        if record.sent_after is not None:
            if record.status not in DELIVERED:
                return record
            earliest = floor_ms(record.sent_after) - timedelta(seconds=timing.early)
            if same_millisecond(shown, known) or earliest <= shown <= window.end:
                return replace(record, activity_at=shown, sent_after=None)
            return record
        if shown != known and same_millisecond(shown, known):
            return replace(record, activity_at=shown)
        return record


# How long before a lost create's request was sent the SMS it made may say it was created:
# the target's clock may run a little behind the run's.
LOST_CREATE_SLACK = timedelta(seconds=5)


@dataclass(frozen=True, slots=True)
class LostCreate:
    """A create that got no real answer (none, or a 502/503/504): it may have made one SMS,
    of an id nobody told the run, on ``lead_id``, created no earlier than ``since``, showing
    one of ``values[name]`` for each field named there. Until an answer shows that SMS, any
    list on the lead may hold it."""

    lead_id: str
    since: datetime
    values: Mapping[str, tuple[Any, ...]]

    def may_have_made(self, item: Any) -> bool:
        """True when ``item`` (an SMS as a list shows it) may be what this create made. A
        field the item does not show (``_fields``) rules nothing out."""
        if not isinstance(item, Mapping):
            return False
        if "lead_id" in item and item["lead_id"] != self.lead_id:
            return False
        created = parse_datetime(item.get("date_created"))
        if created is not None and created < self.since:
            return False
        return all(item[name] in allowed for name, allowed in self.values.items() if name in item)
