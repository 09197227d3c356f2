"""The oracle: what the documentation allows, computed by plain Python with no I/O.

For each operation the model returns an :class:`Expectation`: whether the server must
accept, must reject, or may do either (where the docs are silent), which catalogue rule
decides it, and what an accepted SMS must look like. Time is modelled, not guessed: an
``outbox`` or ``scheduled`` SMS is *pending* until its due time (minus ``early``, the
tolerance for clock skew), *must be sent* once ``grace`` seconds have passed since it fell
due, and may be either in between.

Everything here works on plain dicts (JSON bodies) and :class:`SmsRecord` values; the
engine feeds it what the server answered and asks what that answer may be.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from conformance.fixtures import Fixtures

__all__ = [
    "CREATE_STATUSES",
    "DEFAULT_LIMIT",
    "Expectation",
    "ListExpectation",
    "Model",
    "SmsRecord",
    "Timing",
    "TimeWindow",
    "parse_datetime",
    "parse_filter_datetime",
]

CREATE_STATUSES = ("inbox", "draft", "scheduled", "outbox", "sent")
STATUSES = (*CREATE_STATUSES, "error")
SENDING = ("scheduled", "outbox")
DELIVERED = ("sent", "error")  # where an SMS goes once its sender has run (open question 3)
DIRECTIONS = ("inbound", "outbound")
SOURCES = ("Close.io", "External")
E164 = re.compile(r"^\+[1-9]\d{1,14}$")
# The content_type enum of SMSAttachmentInput (SPEC), in the schema's order.
ATTACHMENT_CONTENT_TYPES: tuple[str, ...] = (
    "application/pdf",
    "application/vcard",
    "audio/3gpp",
    "audio/3gpp2",
    "audio/L24",
    "audio/ac3",
    "audio/amr",
    "audio/amr-nb",
    "audio/basic",
    "audio/mp4",
    "audio/mpeg",
    "audio/ogg",
    "audio/vnd.rn-realaudio",
    "audio/vnd.wave",
    "audio/webm",
    "image/bmp",
    "image/gif",
    "image/jpeg",
    "image/jpg",
    "image/png",
    "image/tiff",
    "text/calendar",
    "text/csv",
    "text/directory",
    "text/richtext",
    "text/rtf",
    "text/vcard",
    "text/x-vcard",
    "video/3gpp",
    "video/3gpp-tt",
    "video/3gpp2",
    "video/H261",
    "video/H263",
    "video/H263-1998",
    "video/H263-2000",
    "video/H264",
    "video/mp4",
    "video/mpeg",
    "video/quicktime",
    "video/webm",
)
ATTACHMENT_TYPES = frozenset(ATTACHMENT_CONTENT_TYPES)
# Request fields and the JSON types the schema gives them (all nullable but status).
STRING_FIELDS = (
    "text", "lead_id", "contact_id", "user_id", "template_id", "local_phone", "remote_phone",
    "created_by_id", "organization_id",
)  # fmt: skip
DATE_FIELDS = ("activity_at", "date_created", "date_scheduled")


def parse_datetime(value: Any) -> datetime | None:
    """Return the aware datetime an ISO 8601 string names, or None if it is not one.

    A value without an offset is taken as UTC (the docs' examples always carry one).
    """
    if not isinstance(value, str) or "T" not in value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_tz_offset(header: str | None) -> timezone:
    """Return the timezone an ``x-tz-offset`` header value (hours, e.g. ``-4``, ``5.5``) names."""
    if not header:
        return UTC
    return timezone(timedelta(hours=float(header)))


def parse_filter_datetime(value: str, tz_offset: str | None) -> datetime:
    """Return the instant a date filter value names.

    A value with an offset names that instant; a date-time without one, or a bare date
    (local midnight), is local time at the ``x-tz-offset`` given (2.7 Timezone offsets).
    """
    local = parse_tz_offset(tz_offset)
    if "T" not in value:
        return datetime.combine(date.fromisoformat(value), datetime.min.time(), tzinfo=local)
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=local)


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
    accepted SMS must look like; ``text_choices`` the texts an accepted SMS may carry when
    more than one is allowed.
    """

    rule: str
    accept: bool | None
    field: str | None = None
    record: SmsRecord | None = None
    note: str = ""


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
    # When a send named no local_phone and Caller ID may pick it (open point
    # local-phone-on-sends): the numbers it may show (or null, until one is picked).
    local_phone_choices: frozenset[str] | None = None

    def allowed_statuses(self, window: TimeWindow, timing: Timing) -> frozenset[str]:
        """Return the statuses this SMS may show to a request handled during ``window``."""
        if self.status == "delivered":
            return frozenset(DELIVERED)
        if self.status not in SENDING or self.due is None:
            return frozenset({self.status})
        if window.end < self.due - timedelta(seconds=timing.early):
            return frozenset({self.status})
        if window.start > self.due + timedelta(seconds=timing.grace):
            return frozenset(DELIVERED)
        return frozenset({self.status, *DELIVERED})

    def is_pending(self, window: TimeWindow, timing: Timing) -> bool:
        return self.allowed_statuses(window, timing) == {self.status} and self.status in SENDING

    def observe_status(self, status: str) -> SmsRecord:
        """Return the record after the server showed ``status`` (an allowed one)."""
        if status in DELIVERED and self.status in (*SENDING, "delivered"):
            return replace(self, status=status, due=None)
        return self


DEFAULT_LIMIT = 100  # "`_limit` | integer, default 100" (1.2): a maximum is never below it


@dataclass(frozen=True, slots=True)
class ListExpectation:
    """The SMS a list request must return: exactly ``ids`` (in some order, as no order is
    documented), ``_skip``/``_limit`` applied to that many.

    ``cut_to`` is set when ``_limit`` exceeds the default: the SMS list's maximum ``_limit``
    is not documented, and a server may cut such a page to its maximum (open point
    ``limit-over-maximum``), which is at least the default. The page may then hold from
    ``cut_to`` up to ``_limit`` SMS (as many as are left, if fewer), ``has_more`` telling
    whether more follow the page it gave."""

    ids: frozenset[str]
    skip: int
    limit: int
    cut_to: int | None = None

    @property
    def left(self) -> int:
        return max(0, len(self.ids) - self.skip)

    @property
    def page_size(self) -> int:
        return min(self.limit, self.left)

    @property
    def smallest_page(self) -> int:
        return self.page_size if self.cut_to is None else min(self.cut_to, self.left)

    def allows_size(self, size: int) -> bool:
        """True when a page of ``size`` SMS is one the query may answer."""
        return self.smallest_page <= size <= self.page_size

    @property
    def has_more(self) -> bool:
        return self.skip + self.limit < len(self.ids)

    def has_more_after(self, size: int) -> bool:
        """``has_more`` as a page of ``size`` SMS must show it: true when more follow."""
        if self.cut_to is None:
            return self.has_more
        return self.skip + size < len(self.ids)


def _is_clearly_not_a_phone(value: Any) -> bool:
    """True for strings no server could read as a phone number (letters, under 3 digits).

    A number in another notation, such as ``(650) 555-0100``, is not flagged: a server may
    legitimately normalise it to E.164.
    """
    if not isinstance(value, str):
        return False
    digits = sum(ch.isdigit() for ch in value)
    return digits < 3 or any(ch.isalpha() for ch in value)


def _wrong_type(body: Mapping[str, Any]) -> str | None:
    """Return the first field whose JSON type the schema does not allow, else None."""
    for name in STRING_FIELDS:
        if name in body and body[name] is not None and not isinstance(body[name], str):
            return name
    for name in DATE_FIELDS:
        value = body.get(name)
        if value is not None and not isinstance(value, str):
            return name
    if (
        "direction" in body
        and body["direction"] is not None
        and body["direction"] not in DIRECTIONS
    ):
        return "direction"
    if "source" in body and body["source"] is not None and body["source"] not in SOURCES:
        return "source"
    if body.get("attachments") is not None and not isinstance(body["attachments"], list):
        return "attachments"
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


def _nothing_to_send(text: Any, attachments: Any, template_id: Any) -> bool:
    """True for an SMS that carries nothing: no text (null or ""), no attachment, no
    template. Whether it may be sent is an open point (``empty-send``)."""
    return not text and not attachments and template_id is None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


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

    def was_deleted(self, sms_id: object) -> bool:
        return sms_id in self.deleted or sms_id in self.deleted_before

    # -- create --------------------------------------------------------------------------

    def expect_create(self, body: Any, window: TimeWindow) -> Expectation:
        """Return what the docs allow for ``POST /activity/sms/`` with ``body``."""
        if not isinstance(body, dict):
            return Expectation("protocol/no-5xx", False, note="the body is not a JSON object")
        status = body.get("status")
        if "status" not in body or status is None:
            return Expectation("sms/create/status-required", False, "status")
        if not isinstance(status, str) or status not in STATUSES:
            return Expectation("sms/create/status-unknown-rejected", False, "status")
        wrong = _wrong_type(body)
        if wrong is not None:
            return Expectation("protocol/no-5xx", False, wrong, note=f"{wrong} has a wrong type")
        for name in ("local_phone", "remote_phone"):
            if _is_clearly_not_a_phone(body.get(name)):
                return Expectation("sms/create/phone-malformed", False, name)
        if _attachments_invalid(body.get("attachments")):
            return Expectation("sms/create/attachment-invalid", False, "attachments")
        template_id = body.get("template_id")
        if template_id is not None and template_id != self.fixtures.template_id:
            return Expectation("sms/create/template-unknown-rejected", False, "template_id")
        if status == "scheduled" and parse_datetime(body.get("date_scheduled")) is None:
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
            if not _is_number(send_in):
                return Expectation("sms/create/send-in-invalid-type", False, "send_in")
            if send_in >= 60:
                return Expectation("sms/create/send-in-below-60", False, "send_in")
        # No documented rejection applies. Now what is left open.
        record = self._created_record(body, window)
        if caller_id:
            record = replace(record, local_phone_choices=frozenset(self.fixtures.internal_phones))
        if status == "error":
            return Expectation("sms/create/status-error", None, record=record)
        if "send_in" in body and status != "outbox":
            return Expectation("sms/create/send-in-other-status", None, record=record)
        if status == "outbox" and _is_number(body.get("send_in")) and body["send_in"] < 0:
            return Expectation("sms/create/send-in-negative", None, record=record)
        if status in SENDING and _nothing_to_send(
            body.get("text"), body.get("attachments"), template_id
        ):
            # With no local_phone either, a refusal may name one or the other.
            field = None if caller_id else "text"
            return Expectation("sms/create/empty-send", None, field, record=record)
        if caller_id:
            return Expectation(
                "sms/create/local-phone-required",
                None,
                "local_phone",
                record=record,
                note="no local_phone: refused, or Caller ID sends from an internal number",
            )
        if status == "outbox" and "send_in" in body:
            return Expectation("sms/create/send-in-accepted", True, record=record)
        if status not in SENDING and (
            local_phone is None or local_phone not in self.fixtures.internal_phones
        ):
            return Expectation("sms/create/local-phone-logging", None, record=record)
        if template_id is not None and body.get("text") is not None:
            return Expectation("sms/create/template-and-text", None, record=record)
        scheduled_at = parse_datetime(body.get("date_scheduled"))
        if status == "scheduled" and scheduled_at is not None and scheduled_at <= window.start:
            return Expectation(
                "sms/create/status-scheduled", None, record=record, note="date in the past"
            )
        return Expectation(f"sms/create/status-{status}", True, record=record)

    def _created_record(self, body: Mapping[str, Any], window: TimeWindow) -> SmsRecord:
        written: dict[str, Any] = {
            key: body[key]
            for key in ("local_phone", "remote_phone", "lead_id", "contact_id", "template_id")
            if body.get(key) is not None
        }
        written["status"] = body["status"]
        written["direction"] = body.get("direction") or (
            "inbound" if body["status"] == "inbox" else "outbound"
        )
        text_choices: tuple[Any, ...] | None = None
        if body.get("template_id") is not None:
            rendered = self.fixtures.rendered_template
            if body.get("text") is None:
                written["text"] = rendered
            else:
                text_choices = (rendered, body["text"])
        elif "text" in body:
            written["text"] = body["text"]
        if body.get("attachments"):
            written["attachments"] = [
                {key: item[key] for key in ("url", "filename", "content_type")}
                for item in body["attachments"]
            ]
        due = None
        if body["status"] == "scheduled":
            written["date_scheduled"] = parse_datetime(body["date_scheduled"])
            # A date already past falls due at once: the create may still show scheduled.
            due = max(written["date_scheduled"], window.start)
        elif body["status"] == "outbox":
            send_in = body.get("send_in", 0)
            due = window.start + timedelta(seconds=send_in if _is_number(send_in) else 0)
        return SmsRecord(
            id="", status=body["status"], written=written, due=due, text_choices=text_choices
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
            expected,
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
            if status in (None, "draft"):
                return Expectation("sms/update/draft-edit", True, record=self._edited(record, body))
            if status == "scheduled":
                date_scheduled = body.get("date_scheduled", record.written.get("date_scheduled"))
                if isinstance(date_scheduled, str):
                    date_scheduled = parse_datetime(date_scheduled)
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
                return Expectation(
                    "sms/update/empty-send" if _empty(edited) else "sms/update/draft-to-scheduled",
                    None if _empty(edited) else True,
                    record=replace(edited, status="scheduled", due=date_scheduled),
                )
            if status == "outbox":
                edited = self._edited(record, body)
                return Expectation(
                    "sms/update/empty-send" if _empty(edited) else "sms/update/draft-to-outbox",
                    None if _empty(edited) else True,
                    record=replace(edited, status="outbox", due=window.start),
                )
            return Expectation("sms/update/draft-to-other-status", None, "status")
        is_cancel = status == "draft"
        if is_cancel and record.status in SENDING:
            if edits:
                return Expectation("sms/update/cancel-with-edits", None)
            rule = f"sms/update/cancel-{record.status}"
            cancelled = replace(
                record,
                status="draft",
                due=None,
                was_due=record.due,
                cancelled=True,
                written={**record.written, "status": "draft"},
            )
            if statuses == frozenset(DELIVERED):
                return Expectation("sms/update/cancel-refused-after-send", False)
            if statuses == {record.status}:
                return Expectation(rule, True, record=cancelled)
            return Expectation(rule, None, record=cancelled, note="sent or not, by timing")
        if is_cancel:
            return Expectation("sms/update/cancel-refused-after-send", False)
        return Expectation("sms/update/drafts-only", False)

    def _edited(self, record: SmsRecord, body: Mapping[str, Any]) -> SmsRecord:
        written = dict(record.written)
        text_choices = record.text_choices
        for key, value in body.items():
            if key in ("status", "send_in"):
                continue
            if key == "date_scheduled":
                written[key] = parse_datetime(value)
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
        updated = record.updated | {key for key in body if key not in ("status", "send_in")}
        activity_at = record.activity_at
        if isinstance(body.get("activity_at"), str):
            activity_at = parse_datetime(body["activity_at"])
        return replace(
            record,
            written=written,
            text_choices=text_choices,
            updated=updated,
            activity_at=activity_at,
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

    def expect_list(
        self, params: Mapping[str, str], tz_offset: str | None = None
    ) -> ListExpectation:
        """Return the SMS ``GET /activity/sms/`` with ``params`` must return."""
        ids = {record.id for record in self.records.values() if _matches(record, params, tz_offset)}
        limit = int(params.get("_limit", DEFAULT_LIMIT))
        return ListExpectation(
            ids=frozenset(ids),
            skip=int(params.get("_skip", 0)),
            limit=limit,
            cut_to=DEFAULT_LIMIT if limit > DEFAULT_LIMIT else None,
        )

    def in_status(self, *statuses: str) -> list[SmsRecord]:
        return [record for record in self.records.values() if record.status in statuses]


def _empty(record: SmsRecord) -> bool:
    written = record.written
    if record.text_choices is not None:
        return False  # a template was rendered into it
    return _nothing_to_send(written.get("text"), written.get("attachments"), None)


_ID_FILTERS = {"lead_id": "lead_id", "contact_id": "contact_id", "user_id": "user_id"}
_DATE_FILTERS = {
    "date_created": "date_created",
    "activity_at": "activity_at",
}
_COMPARE = {
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
}


def _matches(record: SmsRecord, params: Mapping[str, str], tz_offset: str | None) -> bool:
    for name, value in params.items():
        wanted = value.split(",")
        if name in _ID_FILTERS:
            actual = record.user_id if name == "user_id" else record.written.get(name)
            if actual not in wanted:
                return False
        elif name == "id__in":
            if record.id not in wanted:
                return False
        elif "__" in name:
            field_name, op = name.rsplit("__", 1)
            if field_name in _DATE_FILTERS and op in _COMPARE:
                actual = getattr(record, _DATE_FILTERS[field_name])
                bound = parse_filter_datetime(value, tz_offset)
                if actual is None or not _COMPARE[op](actual, bound):
                    return False
    return True


def ids_of(items: Iterable[Mapping[str, Any]]) -> list[Any]:
    return [item.get("id") for item in items if isinstance(item, Mapping)]
