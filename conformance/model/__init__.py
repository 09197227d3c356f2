"""The oracle: what the documentation allows, computed by plain Python with no I/O.

For each operation the model returns an :class:`Expectation`: whether the server must
accept, must reject, or may do either (where the docs are silent), which catalogue rule
decides it, and what an accepted SMS must look like. Time is modelled, not guessed: an
``outbox`` or ``scheduled`` SMS is *pending* until its due time (minus ``early``, the
tolerance for clock skew), *must be sent* once ``grace`` seconds have passed since it fell
due, and may be either in between.

Where the docs leave a point open (the catalogue's open points), the model allows every
documented-compatible reading: a list expectation names the SMS that must be listed and
those that may be (times compared at the microsecond or the millisecond, a bare date as
midnight or the whole day, activity_at kept or moved to the send time).

Everything here works on plain dicts (JSON bodies) and :class:`SmsRecord` values; the
engine feeds it what the server answered and asks what that answer may be.
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeGuard

from conformance.dates import (
    is_bare_date,
    parse_date_or_datetime,
    parse_datetime,
    parse_tz_offset,
    read,
)
from conformance.fixtures import Fixtures
from conformance.vocabulary import (
    ATTACHMENT_TYPES,
    CREATE_STATUSES,
    DELIVERED,
    DIRECTIONS,
    SENDING,
    SOURCES,
    STATUSES,
)

__all__ = [
    "without_loose_values",
    "CREATE_STATUSES",
    "DEFAULT_LIMIT",
    "Expectation",
    "ListExpectation",
    "LostCreate",
    "Model",
    "SmsRecord",
    "Timing",
    "TimeWindow",
    "floor_ms",
    "parse_datetime",
    "parse_filter_datetime",
    "text_forms",
]

# Request fields and the JSON types the schema gives them (all nullable but status).
STRING_FIELDS = (
    "text", "lead_id", "contact_id", "user_id", "template_id", "local_phone", "remote_phone",
    "created_by_id", "organization_id",
)  # fmt: skip
DATE_FIELDS = ("activity_at", "date_created", "date_scheduled")
# The fields of UpdateSMSActivity (1.5), and date_scheduled from its prose.
UPDATE_FIELDS = (
    "activity_at", "attachments", "contact_id", "lead_id", "local_phone", "remote_phone",
    "template_id", "text", "user_id", "date_scheduled",
)  # fmt: skip
# What accepting and refusing a send with nothing in it show of the open point.
# Accepting one does not tell accept from accept-then-error (what the sender does later
# does, rules/sending.py); a refusal tells reject.
EMPTY_SEND = (None, "empty-send=reject")
NEVER = datetime.max.replace(tzinfo=UTC)


def floor_ms(moment: datetime) -> datetime:
    """Return ``moment`` truncated to the millisecond: the time a server that keeps
    milliseconds (the ``time-precision`` open point) stores and shows for it."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def same_millisecond(a: datetime, b: datetime) -> bool:
    return floor_ms(a.astimezone(UTC)) == floor_ms(b.astimezone(UTC))


def parse_filter_datetime(value: str, tz_offset: str | None) -> datetime:
    """Return the instant a date filter value names.

    A value with an offset names that instant; a date-time without one, or a bare date
    (local midnight), is local time at the ``x-tz-offset`` given (2.7 Timezone offsets).
    Raises ``ValueError`` for a value that is no date."""
    moment = parse_date_or_datetime(value, parse_tz_offset(tz_offset))
    if moment is None:
        raise ValueError(f"not a date: {value!r}")
    return moment


@dataclass(frozen=True, slots=True)
class Timing:
    """How strictly due times are judged: ``early`` seconds of tolerance before a due time
    (clock skew, latency), ``grace`` seconds after it within which the sender may still be
    catching up. Both 0 on a virtual clock."""

    early: float = 0.0
    grace: float = 0.0


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """The interval during which the server handled a request: it read its clock somewhere
    between ``start`` and ``end``."""

    start: datetime
    end: datetime


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


DEFAULT_LIMIT = 100  # "`_limit` | integer, default 100" (1.2): a maximum is never below it


@dataclass(frozen=True, slots=True)
class ListExpectation:
    """The SMS a list request returns, in some order (none is documented), with
    ``_skip``/``_limit`` applied to the whole result: every SMS of ``ids`` (they must be
    listed), any of ``maybe`` (an open point of the docs leaves it to the server whether
    they match) and nothing else. With ``maybe`` empty, page size and ``has_more`` are
    exact; with it, they range over the results the server may have.

    ``cut_to`` is set when ``_limit`` exceeds the default: the SMS list's maximum ``_limit``
    is not documented, and a server may cut such a page to its maximum (open point
    ``limit-over-maximum``), which is at least the default. A page may then hold from
    ``cut_to`` up to ``_limit`` SMS (as many as are left, if fewer)."""

    ids: frozenset[str]
    skip: int
    limit: int
    maybe: frozenset[str] = frozenset()
    cut_to: int | None = None
    # For an SMS of ``maybe`` left open by open points, the readings (``POINT=ALT``) listing
    # it (True) and leaving it out (False) show: the behaviour profile's evidence.
    shows: Mapping[str, Mapping[bool, frozenset[str]]] = field(default_factory=dict)

    @property
    def allowed(self) -> frozenset[str]:
        """Every SMS the list may show."""
        return self.ids | self.maybe

    def _size(self, total: int, limit: int | None = None) -> int:
        return max(0, min(self.limit if limit is None else limit, total - self.skip))

    @property
    def _least_limit(self) -> int:
        return self.limit if self.cut_to is None else min(self.cut_to, self.limit)

    @property
    def page_size(self) -> int:
        """The page size when only the SMS that must be listed are, and no cut."""
        return self._size(len(self.ids))

    @property
    def page_sizes(self) -> range:
        """Every page size the server may answer with."""
        low = self._size(len(self.ids), self._least_limit)
        return range(low, self._size(len(self.allowed)) + 1)

    @property
    def smallest_page(self) -> int:
        return self.page_sizes.start

    def allows_size(self, size: int) -> bool:
        """True when a page of ``size`` SMS is one the query may answer."""
        return size in self.page_sizes

    @property
    def has_more(self) -> bool:
        """``has_more`` when only the SMS that must be listed are, and no cut."""
        return self.skip + self.limit < len(self.ids)

    def has_more_allowed(self, listed: int) -> frozenset[bool]:
        """The ``has_more`` values a page of ``listed`` SMS may carry: for every result size
        the server may have (and page cut) that gives a page of that size, whether more
        follow it."""
        totals = range(len(self.ids), len(self.allowed) + 1)
        fitting = [
            total
            for total in totals
            if self._size(total, self._least_limit) <= listed <= self._size(total)
        ]
        return frozenset(self.skip + listed < total for total in fitting or totals)


_VANITY = re.compile(r"^\+?[0-9A-Za-z() .-]+$")


def _is_clearly_not_a_phone(value: Any) -> bool:
    """True for strings no server could read as a phone number (under 3 digits, or letters
    that are no vanity spelling).

    A number in another notation, such as ``(650) 555-0100``, is not flagged: a server may
    legitimately normalise it to E.164. Nor are ``""`` (a server may read it as null) and a
    vanity number such as ``+1650555abcd`` (libphonenumber reads its letters as the keypad's
    digits): see :func:`_loose_phone`."""
    if not isinstance(value, str) or _loose_phone(value):
        return False
    digits = sum(ch.isdigit() for ch in value)
    return digits < 3 or any(ch.isalpha() for ch in value)


def _loose_phone(value: Any) -> bool:
    """True for a phone value a server may read or refuse (audit C5): ``""`` (as null), or a
    vanity number, letters among at least 7 digits and letters in a phone's notation."""
    if value == "":
        return True
    if not isinstance(value, str) or not any(ch.isalpha() for ch in value):
        return False
    return _VANITY.match(value) is not None and sum(ch.isalnum() for ch in value) >= 7


def _wrong_type(body: Mapping[str, Any], status: str) -> tuple[str, bool] | None:
    """Return the first field whose JSON type or value the schema does not allow, and whether
    a server may read it anyway (``loose``), else None.

    Loose (the docs say neither way, audit C4): a number where a string or a date-time is
    typed (a framework may coerce 12345 to "12345", or read a number as a Unix time), ``""``
    where an enum is typed (read as null), and a ``date_scheduled`` that is no date on an SMS
    that is not scheduled (a server may ignore the field there). Not loose: a bool, a list or
    an object where a string is typed, a non-empty string outside an enum, a string that is
    no date where a date-time is typed (section 1.3 types each field; 2.6 "`400` problem with
    the request")."""
    for name in STRING_FIELDS:
        value = body.get(name)
        if value is not None and not isinstance(value, str):
            return name, _is_number(value)
    for name in DATE_FIELDS:
        value = body.get(name)
        if value is None:
            continue
        if _is_number(value):
            return name, True
        if not isinstance(value, str):
            return name, False
        if read(value) is None and not (name == "date_scheduled" and status == "scheduled"):
            return name, name == "date_scheduled"
    for name, allowed in (("direction", DIRECTIONS), ("source", SOURCES)):
        value = body.get(name)
        if value is not None and value not in allowed:
            return name, value == ""
    if body.get("attachments") is not None and not isinstance(body["attachments"], list):
        return "attachments", False
    for name in ("local_phone", "remote_phone"):
        if _loose_phone(body.get(name)):
            return name, True
    return None


def without_loose_values(body: Any) -> Any:
    """``body`` (a create or update body) without the values a server may read either way
    or refuse (audit C4, C5, C11: :func:`_wrong_type`'s loose values, a loose ``send_in``):
    what is left must still be refused when it breaks a documented type, enum or required
    field. Anything but a JSON object is returned as it is."""
    if not isinstance(body, Mapping):
        return body
    body = dict(body)
    status = body.get("status")
    while (wrong := _wrong_type(body, status if isinstance(status, str) else "")) is not None:
        if not wrong[1]:
            break
        # Read as the server may read it: a string, a date, an enum left out (null).
        name = wrong[0]
        if name in DATE_FIELDS:
            body[name] = "2026-01-01T00:00:00+00:00"
        elif name in ("direction", "source"):
            body.pop(name)
        else:
            body[name] = "+15555550100" if name in ("local_phone", "remote_phone") else "0"
    if _loose_seconds(body.get("send_in")):
        body["send_in"] = 0
    return body


def _odd_date(body: Mapping[str, Any], names: Iterable[str]) -> str | None:
    """The first of ``names`` ``body`` gives a date in a spelling beyond the documented one
    (:mod:`conformance.dates`): a server may read it or refuse it."""
    for name in names:
        spelling = read(body.get(name))
        if spelling is not None and not spelling.documented:
            return name
    return None


def _attachments_invalid(items: Any) -> bool:
    if not isinstance(items, list):
        return False
    for item in items:
        if not isinstance(item, dict):
            return True
        for key in ("url", "filename", "content_type"):
            if not isinstance(item.get(key), str):
                return True
        if item["content_type"] not in ATTACHMENT_TYPES:
            return True
    return False


# Where the docs require attachment urls for notes, e-mail and WhatsApp to come from (the
# Files API); for SMS this is not stated (1.7), so other urls may be accepted or refused.
FILES_API_URL = "https://app.close.com/go/file/"


def _foreign_attachment(items: Any) -> bool:
    """True when an attachment's url is not a Files API url (audit C20)."""
    return isinstance(items, list) and any(
        isinstance(item, dict) and not str(item.get("url", "")).startswith(FILES_API_URL)
        for item in items
    )


def _open_fields(
    body: Mapping[str, Any],
    wrong: tuple[str, bool] | None,
    caller_id: bool,
    internal_phones: Iterable[str] = (),
) -> set[str]:
    """The fields of a create (that no documented rule refuses) for which a server may refuse
    it: one for each point the docs leave open that the body touches."""
    status = body["status"]
    fields = set()
    if wrong is not None:
        fields.add(wrong[0])
    odd = _odd_date(body, DATE_FIELDS)
    if odd is not None:
        fields.add(odd)
    implied = "inbound" if status == "inbox" else "outbound"
    if body.get("direction") in DIRECTIONS and body["direction"] != implied:
        fields.add("direction")
    if status == "error":
        fields.add("status")
    if _foreign_attachment(body.get("attachments")):
        fields.add("attachments")
    send_in = body.get("send_in")
    if "send_in" in body and (
        status != "outbox" or _is_number(send_in) and (send_in < 0 or _fractional(send_in))
    ):
        fields.add("send_in")  # send-in-other-status, send-in-negative, send-in-fraction
    if status in SENDING and _nothing_to_send(
        body.get("text"), body.get("attachments"), body.get("template_id")
    ):
        fields.add("text")
    if caller_id or status not in SENDING and body.get("local_phone") not in tuple(internal_phones):
        fields.add("local_phone")  # local-phone-on-sends; a logged SMS's (local-phone-logging)
    if body.get("template_id") is not None and body.get("text") is not None:
        fields.add("template_id")  # template-and-text
    return fields


def _nothing_to_send(text: Any, attachments: Any, template_id: Any) -> bool:
    """True for an SMS that carries nothing: no text (null or ""), no attachment, no
    template. Whether it may be sent is an open point (``empty-send``)."""
    return not text and not attachments and template_id is None


def text_forms(text: Any) -> tuple[str, ...]:
    """The forms besides ``text`` itself it may read back as: its NFC normalisation, when
    that differs (open point text-normalisation: nothing documents byte-exact storage)."""
    if not isinstance(text, str):
        return ()
    composed = unicodedata.normalize("NFC", text)
    return (composed,) if composed != text else ()


def _with_text_forms(texts: tuple[Any, ...]) -> tuple[Any, ...]:
    """``texts`` and the other forms each may read back as, without repeats."""
    out: list[Any] = []
    for text in texts:
        for form in (text, *text_forms(text)):
            if form not in out:
                out.append(form)
    return tuple(out)


def _loose_seconds(value: Any) -> bool:
    """True for a send_in a server may read as seconds or refuse (audit C11): a bool (an int
    to Python), ``""`` (as absent) or a numeric string (``"5"``, as a form field)."""
    if isinstance(value, bool) or value == "":
        return True
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return False
        return value.strip() == value and value.lower() not in ("nan", "inf", "-inf", "infinity")
    return False


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _fractional(value: Any) -> bool:
    """True for a finite number of seconds that is not whole (5.5): kept, cut to whole
    seconds or refused (open point ``send-in-fraction``)."""
    return _is_number(value) and math.isfinite(value) and value != int(value)


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


@dataclass
class Model:
    """The model of one organisation's SMS as this run knows them.

    ``records`` keeps creation order (the engine draws from it, and server ids are random,
    so order by id would make runs depend on them).
    """

    fixtures: Fixtures
    timing: Timing = field(default_factory=Timing)
    records: dict[str, SmsRecord] = field(default_factory=dict)
    deleted: dict[str, None] = field(default_factory=dict)  # ordered, unlike a set
    # SMS deleted by earlier examples of the run: never drawn from (a replay must draw the
    # same things), only consulted to name the rule when one of them shows up again.
    deleted_before: frozenset[str] = frozenset()
    # SMS whose fate the run does not know: a write to them (a DELETE, a PUT) got no real
    # answer. They may exist or not, in any state: lists may show them or not.
    uncertain: set[str] = field(default_factory=set)
    # Creates that got no real answer and whose SMS, if any, no answer has shown yet.
    lost: list[LostCreate] = field(default_factory=list)
    # Reads may lag writes (the run has a settle window): an SMS a list leaves out may be
    # one the index has not taken in yet, so leaving one out tells no reading.
    reads_may_lag: bool = False

    def was_deleted(self, sms_id: object) -> bool:
        return sms_id in self.deleted or sms_id in self.deleted_before

    # -- create --------------------------------------------------------------------------

    def expect_create(self, body: Any, window: TimeWindow) -> Expectation:
        """Return what the docs allow for ``POST /activity/sms/`` with ``body``."""
        if not isinstance(body, dict):
            return Expectation(
                "protocol/invalid-input-rejected", False, note="the body is not a JSON object"
            )
        status = body.get("status")
        if "status" not in body or status is None:
            return Expectation("sms/create/status-required", False, "status")
        if not isinstance(status, str) or status not in STATUSES:
            return Expectation("sms/create/status-unknown-rejected", False, "status")
        wrong = _wrong_type(body, status)
        if wrong is not None and not wrong[1]:
            return Expectation(
                "protocol/invalid-input-rejected",
                False,
                wrong[0],
                note=f"{wrong[0]} has a wrong type",
            )
        for name in ("local_phone", "remote_phone"):
            if _is_clearly_not_a_phone(body.get(name)):
                return Expectation("sms/create/phone-malformed", False, name)
        if _attachments_invalid(body.get("attachments")):
            return Expectation("sms/create/attachment-invalid", False, "attachments")
        template_id = body.get("template_id")
        if template_id is not None and template_id != self.fixtures.template_id:
            return Expectation("sms/create/template-unknown-rejected", False, "template_id")
        scheduled_on = body.get("date_scheduled")
        if status == "scheduled" and not _is_number(scheduled_on) and read(scheduled_on) is None:
            return Expectation(
                "sms/create/scheduled-requires-date-scheduled", False, "date_scheduled"
            )
        local_phone = body.get("local_phone")
        # A send naming no number: refused, or Caller ID picks one (local-phone-on-sends).
        caller_id = status in SENDING and local_phone is None
        if status in SENDING and not caller_id and local_phone not in self.fixtures.internal_phones:
            return Expectation("sms/create/local-phone-internal", False, "local_phone")
        if "send_in" in body and status == "outbox":
            send_in = body["send_in"]
            if _loose_seconds(send_in):
                return Expectation(
                    "sms/create/loose-type",
                    None,
                    "send_in",
                    note=f"send_in = {send_in!r}: read as seconds, ignored or refused",
                )
            if not _is_number(send_in):
                return Expectation("sms/create/send-in-invalid-type", False, "send_in")
            if send_in >= 60:
                return Expectation("sms/create/send-in-below-60", False, "send_in")
        # No documented rejection applies. Now what is left open.
        expectation = self._open_create(body, window, wrong, caller_id)
        opens = _open_fields(body, wrong, caller_id, self.fixtures.internal_phones)
        if expectation.field == "date_scheduled" and expectation.accept is None:
            opens.add("date_scheduled")  # past, or within the clock skew
        scheduled_at = parse_date_or_datetime(body.get("date_scheduled"))
        if status == "scheduled" and scheduled_at is not None and self._past(scheduled_at, window):
            opens.add("date_scheduled")  # past-date-scheduled
        if expectation.accept is None and len(opens) > 1:
            # Open on several counts: a refusal may name any of them, and shows no one
            # reading for sure.
            expectation = replace(expectation, field=None, readings=(expectation.readings[0], None))
        return expectation

    def _open_create(
        self,
        body: Mapping[str, Any],
        window: TimeWindow,
        wrong: tuple[str, bool] | None,
        caller_id: bool,
    ) -> Expectation:
        """The decision on a create no documented rejection applies to: the first point the
        docs leave open, else the must-accept of its status."""
        status = body["status"]
        template_id = body.get("template_id")
        local_phone = body.get("local_phone")
        if wrong is not None:
            return Expectation(
                "sms/create/loose-type",
                None,
                wrong[0],
                note=f"{wrong[0]} = {body[wrong[0]]!r}: coerced, ignored or refused",
            )
        record = self._created_record(body, window)
        odd = _odd_date(body, DATE_FIELDS)
        if odd is not None:
            return Expectation(
                "sms/create/date-spelling",
                None,
                odd,
                record=record,
                note=f"{odd} = {body[odd]!r} is not the documented extended ISO 8601 form",
            )
        if caller_id:
            record = replace(record, local_phone_choices=frozenset(self.fixtures.internal_phones))
        implied = "inbound" if status == "inbox" else "outbound"
        if body.get("direction") in DIRECTIONS and body["direction"] != implied:
            # Stored as given, replaced by the status's, or refused (direction-override).
            return Expectation(
                "sms/create/direction-explicit",
                None,
                "direction",
                record=record,
                note=f"direction {body['direction']} contradicts status {status}",
                readings=(None, "direction-override=reject"),
            )
        if status == "error":
            # What a server makes of it (an error SMS, a draft, ...) is as open as whether it
            # takes it: the SMS is not followed (audit C3).
            return Expectation("sms/create/status-error", None)
        if _foreign_attachment(body.get("attachments")):
            return Expectation(
                "sms/create/attachment-foreign-url",
                None,
                "attachments",
                record=record,
                note="an attachment url outside the Files API: taken, or refused as for notes",
            )
        if "send_in" in body and status != "outbox":
            # Ignored, or a delay of a send that is not outbox: not followed either.
            return Expectation("sms/create/send-in-other-status", None)
        if status == "outbox" and _is_number(body.get("send_in")) and body["send_in"] < 0:
            return Expectation(
                "sms/create/send-in-negative",
                None,
                record=record,
                readings=("send-in-negative=as-zero", "send-in-negative=reject"),
            )
        if status in SENDING and _nothing_to_send(
            body.get("text"), body.get("attachments"), template_id
        ):
            # With no local_phone either, a refusal may name one or the other, and then it
            # does not tell how the target reads an empty send.
            field = None if caller_id else "text"
            readings = (None, None) if caller_id else EMPTY_SEND
            return Expectation(
                "sms/create/empty-send", None, field, record=record, readings=readings
            )
        if caller_id:
            return Expectation(
                "sms/create/local-phone-required",
                None,
                "local_phone",
                record=record,
                note="no local_phone: refused, or Caller ID sends from an internal number",
                readings=("local-phone-on-sends=auto", "local-phone-on-sends=required"),
            )
        if status == "outbox" and _fractional(body.get("send_in")):
            # Kept, cut to whole seconds, or refused (send-in-fraction); when it is sent is
            # observed (a check tells the two acceptances apart by its date_sent).
            return Expectation(
                "sms/create/send-in-fraction",
                None,
                "send_in",
                record=record,
                note=f"send_in = {body['send_in']!r}: not a whole number of seconds",
                readings=(None, "send-in-fraction=reject"),
            )
        if status == "outbox" and "send_in" in body:
            return Expectation("sms/create/send-in-accepted", True, record=record)
        if status not in SENDING and (
            local_phone is None or local_phone not in self.fixtures.internal_phones
        ):
            # Kept as given, or dropped: whatever it reads back as is not judged.
            written = {k: v for k, v in record.written.items() if k != "local_phone"}
            return Expectation(
                "sms/create/local-phone-logging", None, record=replace(record, written=written)
            )
        if template_id is not None and body.get("text") is not None:
            # The template rendered over the text, the text kept, or refused naming either
            # (template-and-text); a check tells the two acceptances apart by the text.
            return Expectation(
                "sms/create/template-and-text",
                None,
                record=record,
                readings=(None, "template-and-text=reject"),
            )
        scheduled_at = parse_date_or_datetime(body.get("date_scheduled"))
        if status == "scheduled" and scheduled_at is not None and self._past(scheduled_at, window):
            return Expectation(
                "sms/create/status-scheduled",
                None,
                "date_scheduled",
                record=record,
                note="date in the past, or too close to now to be sure on the server's clock",
                readings=self._past_readings(scheduled_at, window),
            )
        return Expectation(f"sms/create/status-{status}", True, record=record)

    def _created_record(self, body: Mapping[str, Any], window: TimeWindow) -> SmsRecord:
        written: dict[str, Any] = {
            key: body[key]
            for key in ("local_phone", "remote_phone", "lead_id", "contact_id", "template_id")
            if body.get(key) is not None
        }
        written["status"] = body["status"]
        alternatives: dict[str, tuple[Any, ...]] = {}
        # Rule 6 names the direction only when it is omitted; one that contradicts the status
        # may be stored as given or replaced by the status's (open point direction-override).
        implied = "inbound" if body["status"] == "inbox" else "outbound"
        written["direction"] = body.get("direction") or implied
        if written["direction"] != implied:
            alternatives["direction"] = (implied,)
        text_choices: tuple[Any, ...] | None = None
        if body.get("template_id") is not None:
            # Both a template and a text (not documented, audit O7): the text that results
            # (the one given, the rendered one, none, ...) is not judged.
            if body.get("text") is None:
                written["text"] = self.fixtures.rendered_template
            # The template_id may read back as given, or cleared once rendered (audit C18).
            alternatives["template_id"] = (None,)
        elif "text" in body:
            written["text"] = body["text"]
        if text_forms(written.get("text")):
            alternatives["text"] = text_forms(written["text"])
        if body.get("attachments"):
            written["attachments"] = [
                {key: item[key] for key in ("url", "filename", "content_type")}
                for item in body["attachments"]
            ]
        due = None
        timing_open = None
        if body["status"] == "scheduled":
            spelling = read(body["date_scheduled"])
            assert spelling is not None
            # A date finer than a microsecond may be truncated or rounded: not read back.
            if spelling.exact:
                written["date_scheduled"] = spelling.instant
            # A date already past falls due at once: the create may still show scheduled.
            due = max(spelling.instant, window.start)
        elif body["status"] == "outbox":
            send_in = body.get("send_in", 0)
            send_in = send_in if _is_number(send_in) else 0
            if send_in < 0:
                # Not documented (open point send-in-negative): sent at once, or whenever.
                send_in, timing_open = 0, "sms/create/send-in-negative"
            elif _fractional(send_in):
                # Nor is a fraction of a second (send-in-fraction): due at send_in as given,
                # or at its whole seconds; when it is sent is observed, never judged.
                timing_open = "sms/create/send-in-fraction"
            due = window.start + timedelta(seconds=send_in)
        return SmsRecord(
            id="",
            status=body["status"],
            written=written,
            due=due,
            text_choices=text_choices,
            alternatives=alternatives,
            timing_open=timing_open,
        )

    def add(
        self, expected: SmsRecord, response: Mapping[str, Any], window: TimeWindow
    ) -> SmsRecord:
        """Record an SMS the server created, with the values only the server knows."""
        created = parse_datetime(response.get("date_created"))
        due = expected.due
        if expected.status == "outbox" and due is not None and created is not None:
            # send_in counts from the server's own creation time, not ours.
            due = created + (due - window.start)
        record = replace(
            expected.settled(response),
            id=response["id"],
            due=due,
            date_created=created,
            activity_at=parse_datetime(response.get("activity_at")),
            user_id=response.get("user_id"),
        )
        self.records[record.id] = record
        return record

    # -- update --------------------------------------------------------------------------

    def expect_update(
        self, sms_id: str, body: Mapping[str, Any], window: TimeWindow
    ) -> Expectation:
        """Return what the docs allow for ``PUT /activity/sms/{id}/`` with ``body``."""
        record = self.records.get(sms_id)
        if record is None:
            return Expectation("sms/update/unknown-id-404", False)
        statuses = record.allowed_statuses(window, self.timing)
        status = body.get("status")
        edits = {key: value for key, value in body.items() if key != "status"}
        if record.status == "draft":
            refused = self._malformed_edit(body)
            if refused is not None:
                return refused
            if status in (None, "draft"):
                odd = _odd_date(body, DATE_FIELDS)
                if odd is None and _foreign_attachment(body.get("attachments")):
                    return Expectation(
                        "sms/update/attachment-foreign-url",
                        None,
                        "attachments",
                        record=self._edited(record, body),
                    )
                return Expectation(
                    "sms/update/draft-edit" if odd is None else "sms/update/date-spelling",
                    True if odd is None else None,
                    odd,
                    record=self._edited(record, body),
                )
            if status == "scheduled":
                date_scheduled = body.get("date_scheduled", record.written.get("date_scheduled"))
                if _is_number(date_scheduled):
                    return Expectation(
                        "sms/update/date-spelling",
                        None,
                        "date_scheduled",
                        note="date_scheduled given as a number: read as a Unix time, or refused",
                    )
                spelling = read(date_scheduled) if isinstance(date_scheduled, str) else None
                if spelling is not None:
                    date_scheduled = spelling.instant
                elif not isinstance(date_scheduled, datetime):
                    date_scheduled = None
                if date_scheduled is None:
                    return Expectation(
                        "sms/update/scheduled-requires-date-scheduled", False, "date_scheduled"
                    )
                if "date_scheduled" not in body:
                    # Reusing a date kept from before a cancel is not documented either way.
                    return Expectation(
                        "sms/update/draft-to-other-status",
                        None,
                        note="status scheduled with no date_scheduled in the body, reusing one"
                        " kept from before a cancel",
                    )
                edited = self._edited(record, body)
                odd = _odd_date(body, DATE_FIELDS)
                if odd is not None:
                    return Expectation(
                        "sms/update/date-spelling",
                        None,
                        odd,
                        record=replace(edited, status="scheduled", due=date_scheduled),
                        note=f"{odd} = {body[odd]!r} is not the documented extended ISO 8601 form",
                    )
                return self._sending(
                    "sms/update/draft-to-scheduled",
                    replace(edited, status="scheduled", due=date_scheduled),
                    window,
                )
            if status == "outbox":
                edited = self._edited(record, body)
                return self._sending(
                    "sms/update/draft-to-outbox",
                    replace(edited, status="outbox", due=window.start),
                    window,
                )
            return Expectation("sms/update/draft-to-other-status", None, "status")
        is_cancel = status == "draft"
        if is_cancel and record.status in SENDING:
            if edits:
                # Both done, the cancel only, or refused (cancel-and-edit); the SMS is not
                # followed after. A refusal tells the reading only while the SMS is surely
                # unsent (else it may be refused as sent); a check reads an acceptance.
                pending = statuses == {record.status}
                return Expectation(
                    "sms/update/cancel-with-edits",
                    None,
                    note="a cancel (status draft) and an edit at once",
                    readings=(None, "cancel-and-edit=reject" if pending else None),
                )
            rule = f"sms/update/cancel-{record.status}"
            cancelled = replace(
                record,
                status="draft",
                due=None,
                was_due=record.due,
                cancelled=True,
                written={**record.written, "status": "draft"},
                timing_open=None,
            )
            if statuses == frozenset(DELIVERED):
                return Expectation("sms/update/cancel-refused-after-send", False)
            if statuses == {record.status}:
                return Expectation(rule, True, record=cancelled)
            return Expectation(rule, None, record=cancelled, note="sent or not, by timing")
        if is_cancel:
            return Expectation("sms/update/cancel-refused-after-send", False)
        return Expectation("sms/update/drafts-only", False)

    def _malformed_edit(self, body: Mapping[str, Any]) -> Expectation | None:
        """What a PUT on a draft gets for a value the update schema does not allow (1.5): a
        wrong type, a phone no server reads, a broken attachment list must be refused; a
        value a server may read (a number for a string, "" for a phone) is open, and the
        draft is not followed after. None when the body has neither."""
        given = {key: body[key] for key in UPDATE_FIELDS if key in body}
        status = body["status"] if isinstance(body.get("status"), str) else "draft"
        wrong = _wrong_type(given, status)
        if wrong is not None and not wrong[1]:
            return Expectation("protocol/invalid-input-rejected", False, wrong[0])
        for name in ("local_phone", "remote_phone"):
            if _is_clearly_not_a_phone(given.get(name)):
                return Expectation("protocol/invalid-input-rejected", False, name)
        if _attachments_invalid(given.get("attachments")):
            return Expectation("protocol/invalid-input-rejected", False, "attachments")
        if wrong is not None:
            return Expectation("sms/update/loose-type", None, wrong[0])
        return None

    def _past(self, moment: datetime, window: TimeWindow) -> bool:
        """True when ``moment`` may be past on the server's clock when it handles a request
        during ``window``: before the window ends, or within the clock skew the run allows
        (``Timing.early``) after it (audit C14). Whether a past date_scheduled is taken is
        not documented."""
        return moment <= window.end + timedelta(seconds=self.timing.early)

    def _past_readings(self, moment: datetime, window: TimeWindow) -> tuple[str | None, str | None]:
        """The readings of ``past-date-scheduled`` an acceptance and a refusal show: only for
        a date past on the server's clock for sure (before the window, by more than the
        clock skew); one within the skew may be refused as too close, or taken as future."""
        if moment < window.start - timedelta(seconds=self.timing.early):
            return ("past-date-scheduled=accept", "past-date-scheduled=reject")
        return (None, None)

    def _sending(self, rule: str, sent: SmsRecord, window: TimeWindow) -> Expectation:
        """What a PUT that sends a draft (``sent``: the draft as the PUT leaves it) may get.

        Sending needs an internal ``local_phone`` (1.3 rule 4, "You must give a
        `local_phone`, used to send; it must belong to a Phone Number of type `internal`"),
        so a draft that holds none, or another number, may be refused (audit U2); one that
        holds none may also be sent from a number Caller ID picks (local-phone-on-sends)."""
        # A date already past may be refused as well (past-date-scheduled): then a refusal
        # names no one field for sure and tells no reading of another point.
        past = sent.status == "scheduled" and sent.due is not None and self._past(sent.due, window)
        if _empty(sent):
            readings = (EMPTY_SEND[0], None) if past else EMPTY_SEND
            return Expectation("sms/update/empty-send", None, record=sent, readings=readings)
        if "attachments" in sent.updated and _foreign_attachment(sent.written.get("attachments")):
            # A draft without an internal number may be refused for that as well.
            internal = sent.written.get("local_phone") in self.fixtures.internal_phones
            return Expectation(
                "sms/update/attachment-foreign-url",
                None,
                "attachments" if internal and not past else None,
                record=sent,
            )
        local_phone = sent.written.get("local_phone")
        if local_phone is None:
            return Expectation(
                rule,
                None,
                None if past else "local_phone",
                record=replace(sent, local_phone_choices=frozenset(self.fixtures.internal_phones)),
                note="the draft has no local_phone: refused, or Caller ID sends it",
            )
        if local_phone not in self.fixtures.internal_phones:
            return Expectation(
                rule,
                None,
                None if past else "local_phone",
                record=sent,
                note=f"the draft's local_phone {local_phone!r} is no internal number: sending"
                " needs one (1.3 rule 4)",
            )
        if past:
            assert sent.due is not None
            return Expectation(
                rule,
                None,
                "date_scheduled",
                record=sent,
                note="date in the past, or too close to now to be sure on the server's clock",
                readings=self._past_readings(sent.due, window),
            )
        return Expectation(rule, True, record=sent)

    def _edited(self, record: SmsRecord, body: Mapping[str, Any]) -> SmsRecord:
        written = dict(record.written)
        alternatives = dict(record.alternatives)
        text_choices = record.text_choices
        for key, value in body.items():
            if key not in UPDATE_FIELDS:
                continue  # status, send_in, or a field the update schema lacks (ignored)
            if key == "date_scheduled":
                spelling = read(value)
                if spelling is None or not spelling.exact:
                    written.pop(key, None)  # not read back: see _created_record
                    continue
                written[key] = spelling.instant
            elif key == "attachments":
                written[key] = [
                    {k: item[k] for k in ("url", "filename", "content_type")}
                    for item in value or []
                ]
            else:
                written[key] = value
            if key == "text":
                text_choices = None
        local_phone_choices = None if "local_phone" in body else record.local_phone_choices
        if "template_id" in body and "text" not in body and body["template_id"] is not None:
            written["text"] = self.fixtures.rendered_template
        if "template_id" in body:
            alternatives.pop("template_id", None)
            if body["template_id"] is not None:
                alternatives["template_id"] = (None,)  # cleared once rendered (audit C18)
        if "text" in written and written.get("text") != record.written.get("text"):
            alternatives.pop("text", None)
            if text_forms(written["text"]):
                alternatives["text"] = text_forms(written["text"])
        updated = record.updated | {key for key in body if key in UPDATE_FIELDS}
        activity_at = record.activity_at
        if isinstance(body.get("activity_at"), str):
            activity_at = parse_date_or_datetime(body["activity_at"])
        return replace(
            record,
            written=written,
            text_choices=text_choices,
            updated=updated,
            activity_at=activity_at,
            alternatives=alternatives,
            local_phone_choices=local_phone_choices,
        )

    def apply(self, record: SmsRecord) -> None:
        """Adopt ``record`` as the known state of its SMS (after the server accepted it)."""
        self.records[record.id] = record

    # -- delete, get, list ---------------------------------------------------------------

    def expect_delete(self, sms_id: str) -> Expectation:
        if sms_id not in self.records:
            return Expectation("sms/delete/unknown-id-404", False)
        return Expectation("sms/delete/answers-200-empty", True)

    def forget(self, sms_id: str) -> None:
        self.records.pop(sms_id, None)
        self.deleted[sms_id] = None

    def lose(self, sms_id: str) -> None:
        """Stop following an SMS whose fate is unknown (a write to it got no real answer):
        it is neither known nor deleted, and nothing about it is judged any more."""
        self.records.pop(sms_id, None)
        self.deleted.pop(sms_id, None)
        self.uncertain.add(sms_id)

    def lose_create(
        self, body: Any, expectation: Expectation | None, window: TimeWindow
    ) -> LostCreate | None:
        """Note a create that got no real answer (``expectation`` is what the docs allowed
        for it): it may have made an SMS the run cannot name. Return the note, or None when
        such an SMS could not show in the run's lists (it names none of the run's leads)."""
        if not isinstance(body, Mapping):
            return None
        lead = body.get("lead_id")
        leads = dict(self.fixtures.leads)
        if lead is None and "lead_id" not in body:
            # A server may put an SMS that names only a contact on the contact's lead.
            contact = body.get("contact_id")
            lead = next((lead for lead, c in self.fixtures.leads if c == contact), None)
        if lead not in leads:
            return None
        record = expectation.record if expectation is not None else None
        lost = LostCreate(lead, window.start - LOST_CREATE_SLACK, _lost_values(body, record))
        self.lost.append(lost)
        return lost

    def knows(self, sms_id: object) -> bool:
        """True when the run has heard of ``sms_id``: followed, deleted, or of unknown fate."""
        return sms_id in self.records or self.was_deleted(sms_id) or sms_id in self.uncertain

    def adopt(self, items: Any, among: Iterable[LostCreate] | None = None) -> list[str]:
        """Read lost creates back from a list answer: each SMS of ``items`` the run has not
        heard of that a lost create (of ``among``, else any) may have made is taken for
        that create's SMS, one SMS per create, and becomes of unknown fate (``uncertain``:
        lists may show it or not). Return the ids adopted. An SMS no lost create accounts
        for stays unknown, and the list rules judge it."""
        adopted: list[str] = []
        for item in items if isinstance(items, list) else []:
            sms_id = item.get("id") if isinstance(item, Mapping) else None
            if not isinstance(sms_id, str) or self.knows(sms_id):
                continue
            candidates = self.lost if among is None else [c for c in among if c in self.lost]
            lost = next((c for c in candidates if c.may_have_made(item)), None)
            if lost is not None:
                self.lost.remove(lost)
                self.uncertain.add(sms_id)
                adopted.append(sms_id)
        return adopted

    def expect_list(
        self,
        params: Mapping[str, str],
        tz_offset: str | None = None,
        window: TimeWindow | None = None,
    ) -> ListExpectation:
        """Return the SMS ``GET /activity/sms/`` with ``params``, answered during ``window``
        (``None``: at some unknown time), must return and may return."""
        outcomes = {
            record.id: _match_by_reading(record, params, tz_offset, window, self.timing)
            for record in self.records.values()
        }
        verdicts = {}
        shows = {}
        for sms_id, by_reading in outcomes.items():
            seen = frozenset().union(*by_reading.values())
            verdicts[sms_id] = next(iter(seen)) if len(seen) == 1 else None
            if verdicts[sms_id] is None:
                shows[sms_id] = readings_shown(by_reading)
        limit = int(params.get("_limit", DEFAULT_LIMIT))
        return ListExpectation(
            shows=shows,
            ids=frozenset(sms_id for sms_id, verdict in verdicts.items() if verdict is True),
            skip=int(params.get("_skip", 0)),
            limit=limit,
            maybe=frozenset(sms_id for sms_id, verdict in verdicts.items() if verdict is None)
            | frozenset(self.uncertain),  # of unknown fate: may be listed or not
            cut_to=DEFAULT_LIMIT if limit > DEFAULT_LIMIT else None,
        )

    def in_status(self, *statuses: str) -> list[SmsRecord]:
        return [record for record in self.records.values() if record.status in statuses]


def _lost_values(body: Mapping[str, Any], record: SmsRecord | None) -> dict[str, tuple[Any, ...]]:
    """What an SMS made by a create of ``body`` may show, field by field: the model's
    ``record`` of it (with every form an open point allows) when the docs let the create
    through, else the body's own values. A field no value can be told for is left out."""
    values: dict[str, tuple[Any, ...]] = {}
    if record is not None:
        written = record.written
        if record.text_choices is not None:
            values["text"] = tuple(record.text_choices)
        elif "text" in written:
            values["text"] = (written["text"], *record.alternatives.get("text", ()))
        for name in ("local_phone", "remote_phone"):
            if name == "local_phone" and record.local_phone_choices is not None:
                values[name] = (None, *sorted(record.local_phone_choices))
            elif name in written:
                values[name] = (written[name], *record.alternatives.get(name, ()))
    else:
        for name in ("text", "local_phone", "remote_phone"):
            if isinstance(body.get(name), str):
                values[name] = (body[name], *text_forms(body[name]))
        if body.get("template_id") is not None:
            values.pop("text", None)  # whatever the template renders to
    if "text" in values and any(text in ("", None) for text in values["text"]):
        values["text"] = (*values["text"], "", None)  # no text: "" or null
    return values


def is_empty(record: SmsRecord) -> bool:
    """True for an SMS with nothing to send (no text, attachment or rendered template)."""
    return _empty(record)


def _empty(record: SmsRecord) -> bool:
    written = record.written
    if record.text_choices is not None or written.get("template_id") is not None:
        return False  # a template was rendered into it
    return _nothing_to_send(written.get("text"), written.get("attachments"), None)


_ID_FILTERS = {"lead_id": "lead_id", "contact_id": "contact_id", "user_id": "user_id"}
_DATE_FILTERS = {
    "date_created": "date_created",
    "activity_at": "activity_at",
}
# A bare date given to these operators may name the whole day: after it (gt), up to its end
# (lte) -- the operator and bound they then amount to, from the day's midnight plus one day.
_WHOLE_DAY = {"gt": "gte", "lte": "lt"}
_COMPARE = {
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
}


# The open points a date filter's answer depends on, with their alternatives. A server holds
# to one reading of each: a list is judged under every combination, and what it shows of an
# SMS the docs leave open may tell which reading the server took.
DATE_POINTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("time-precision", ("microseconds", "milliseconds")),
    ("bare-date-filter", ("midnight", "whole-day")),
    ("activity-at-on-send", ("kept", "send-time")),
)
_COMBOS: tuple[tuple[str, ...], ...] = tuple(
    itertools.product(*(alternatives for _, alternatives in DATE_POINTS))
)


def _match(
    record: SmsRecord,
    params: Mapping[str, str],
    tz_offset: str | None,
    window: TimeWindow | None = None,
    timing: Timing | None = None,
) -> bool | None:
    """Whether a list with ``params`` (answered during ``window``) shows ``record``: True
    (it must), False (it must not) or None (the docs leave it open: it may)."""
    outcomes = _match_by_reading(record, params, tz_offset, window, timing)
    seen = frozenset().union(*outcomes.values())
    return next(iter(seen)) if len(seen) == 1 else None


def _match_by_reading(
    record: SmsRecord,
    params: Mapping[str, str],
    tz_offset: str | None,
    window: TimeWindow | None = None,
    timing: Timing | None = None,
) -> dict[tuple[str, ...], frozenset[bool]]:
    """Per combination of readings of :data:`DATE_POINTS` (alternatives in their order),
    whether a list with ``params`` may show ``record`` (True), leave it out (False), or
    either (the send time an SMS's activity_at may take is not known)."""
    listed = dict.fromkeys(_COMBOS, True)  # no parameter has ruled it out yet
    unlisted = dict.fromkeys(_COMBOS, False)  # some parameter may rule it out
    for name, value in params.items():
        wanted = value.split(",")
        if name in _ID_FILTERS:
            actual = record.user_id if name == "user_id" else record.written.get(name)
            if actual not in wanted:
                return dict.fromkeys(_COMBOS, frozenset({False}))
        elif name == "id__in":
            if record.id not in wanted:
                return dict.fromkeys(_COMBOS, frozenset({False}))
        elif "__" in name:
            field_name, op = name.rsplit("__", 1)
            if field_name in _DATE_FILTERS and op in _COMPARE:
                sides = _date_sides(
                    record, field_name, op, value, tz_offset, window, timing or Timing()
                )
                for combo in _COMBOS:
                    listed[combo] = listed[combo] and True in sides[combo]
                    unlisted[combo] = unlisted[combo] or False in sides[combo]
    return {
        combo: frozenset(
            outcome
            for outcome, possible in ((True, listed[combo]), (False, unlisted[combo]))
            if possible
        )
        for combo in _COMBOS
    }


def readings_shown(
    outcomes: Mapping[tuple[str, ...], frozenset[bool]],
) -> dict[bool, frozenset[str]]:
    """For each answer a list may give about one SMS (listed: True, left out: False), the
    readings (``POINT=ALT``) that answer shows: those of a point every combination allowing
    the answer takes the same alternative of (a server holds to one reading)."""
    shown: dict[bool, frozenset[str]] = {}
    for answer in (True, False):
        fitting = [combo for combo, possible in outcomes.items() if answer in possible]
        found = set()
        for index, (point, _) in enumerate(DATE_POINTS):
            alternatives = {combo[index] for combo in fitting}
            if len(alternatives) == 1:
                found.add(f"{point}={alternatives.pop()}")
        shown[answer] = frozenset(found)
    return shown


def _date_sides(
    record: SmsRecord,
    field_name: str,
    op: str,
    value: str,
    tz_offset: str | None,
    window: TimeWindow | None,
    timing: Timing,
) -> dict[tuple[str, ...], frozenset[bool]]:
    """Per combination of readings, the sides of the bound ``value`` that ``record``'s date
    may be on for ``op`` (``{True}`` kept, ``{False}`` left out, both when the send time is
    not known):

    - ``time-precision``: a server may keep times and compare bounds to the microsecond, or
      both truncated to the millisecond (the time it showed already is).
    - ``bare-date-filter``: a bare date may be local midnight for every operator, or, for
      ``__gt``/``__lte``, the whole day (after it ends, up to its end).
    - ``activity-at-on-send``: once the sender may have sent the SMS, its activity_at may
      be the send time, some time from its due time up to the end of ``window``.
    """
    known = getattr(record, _DATE_FILTERS[field_name])
    if known is None:
        return dict.fromkeys(_COMBOS, frozenset({False}))
    kept = [(known, known)]
    moved = list(kept)
    if field_name == "activity_at" and record.may_have_been_sent(window, timing):
        since = record.sent_after or record.due
        assert since is not None
        earliest = since - timedelta(seconds=timing.early)
        moved.append((earliest, window.end if window is not None else NEVER))
    bound = parse_filter_datetime(value, tz_offset)
    whole_day = is_bare_date(value) and op in _WHOLE_DAY
    out = {}
    for combo in _COMBOS:
        precision, bare, activity = combo
        reading_op, reading_bound = (
            (_WHOLE_DAY[op], bound + timedelta(days=1))
            if whole_day and bare == "whole-day"
            else (op, bound)
        )
        compare = _COMPARE[reading_op]
        sides = set()
        for low, high in moved if activity == "send-time" else kept:
            for moment in (low, high):  # each comparison is monotonic: a span's ends decide
                if precision == "milliseconds":
                    sides.add(compare(floor_ms(moment), floor_ms(reading_bound)))
                else:
                    sides.add(compare(moment, reading_bound))
        out[combo] = frozenset(sides)
    return out


def ids_of(items: Iterable[Mapping[str, Any]]) -> list[Any]:
    return [item.get("id") for item in items if isinstance(item, Mapping)]
