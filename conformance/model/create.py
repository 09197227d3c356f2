"""What the docs allow for a create (``POST /activity/sms/``): the documented rejections,
then the points the docs leave open, then the must-accept of the status; and the record an
accepted create must read back as."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from typing import Any

from conformance.dates import parse_date_or_datetime, read
from conformance.fixtures import Fixtures
from conformance.model.records import Expectation, NotBefore, SmsRecord
from conformance.model.timing import TimeWindow, Timing, is_past, past_readings
from conformance.model.values import (
    DATE_FIELDS,
    EMPTY_SEND,
    attachments_invalid,
    foreign_attachment,
    fractional,
    is_clearly_not_a_phone,
    is_number,
    loose_seconds,
    nothing_to_send,
    numeric_string,
    odd_date,
    open_fields,
    text_forms,
    wrong_type,
)
from conformance.vocabulary import DIRECTIONS, SENDING, STATUSES

__all__ = ["CreateModel"]

#: What a create's answer to a send_in spelled as a number under 60 shows (accepted, refused).
NUMERIC_STRING = ("send-in-numeric-string=as-seconds", "send-in-numeric-string=reject")


class CreateModel:
    """The create half of :class:`conformance.model.Model` (a mixin: it reads the model's
    ``fixtures`` and ``timing``)."""

    fixtures: Fixtures
    timing: Timing

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
        wrong = wrong_type(body, status)
        if wrong is not None and not wrong[1]:
            return Expectation(
                "protocol/invalid-input-rejected",
                False,
                wrong[0],
                note=f"{wrong[0]} has a wrong type",
            )
        for name in ("local_phone", "remote_phone"):
            if is_clearly_not_a_phone(body.get(name)):
                return Expectation("sms/create/phone-malformed", False, name)
        if attachments_invalid(body.get("attachments")):
            return Expectation("sms/create/attachment-invalid", False, "attachments")
        template_id = body.get("template_id")
        if template_id is not None and template_id != self.fixtures.template_id:
            return Expectation("sms/create/template-unknown-rejected", False, "template_id")
        foreign = self.fixtures.foreign.lead if self.fixtures.foreign else None
        if foreign is not None:
            for name, value in zip(("lead_id", "contact_id"), foreign, strict=True):
                if body.get(name) == value:
                    return Expectation("isolation/foreign-reference", False, name)
        scheduled_on = body.get("date_scheduled")
        if status == "scheduled" and not is_number(scheduled_on) and read(scheduled_on) is None:
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
            spelled = numeric_string(send_in)
            if spelled is not None and spelled >= 60:
                # Read as seconds, 60 or more; or no number at all: refused either way.
                return Expectation("sms/create/send-in-below-60", False, "send_in")
            if loose_seconds(send_in):
                return Expectation(
                    "sms/create/loose-type",
                    None,
                    "send_in",
                    note=f"send_in = {send_in!r}: read as seconds, ignored or refused",
                    readings=NUMERIC_STRING if spelled is not None else (None, None),
                )
            if not is_number(send_in):
                return Expectation("sms/create/send-in-invalid-type", False, "send_in")
            if send_in >= 60:
                return Expectation("sms/create/send-in-below-60", False, "send_in")
        # No documented rejection applies. Now what is left open.
        expectation = self._open_create(body, window, wrong, caller_id)
        opens = open_fields(body, wrong, caller_id, self.fixtures.internal_phones)
        if expectation.field == "date_scheduled" and expectation.accept is None:
            opens.add("date_scheduled")  # past, or within the clock skew
        scheduled_at = parse_date_or_datetime(body.get("date_scheduled"))
        if (
            status == "scheduled"
            and scheduled_at is not None
            and is_past(scheduled_at, window, self.timing)
        ):
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
        odd = odd_date(body, DATE_FIELDS)
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
        if foreign_attachment(body.get("attachments")):
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
        if status == "outbox" and is_number(body.get("send_in")) and body["send_in"] < 0:
            return Expectation(
                "sms/create/send-in-negative",
                None,
                record=record,
                readings=("send-in-negative=as-zero", "send-in-negative=reject"),
            )
        if status in SENDING and nothing_to_send(
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
        if status == "outbox" and fractional(body.get("send_in")):
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
        if (
            status == "scheduled"
            and scheduled_at is not None
            and is_past(scheduled_at, window, self.timing)
        ):
            return Expectation(
                "sms/create/status-scheduled",
                None,
                "date_scheduled",
                record=record,
                note="date in the past, or too close to now to be sure on the server's clock",
                readings=past_readings(scheduled_at, window, self.timing),
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
        not_before = None
        if body["status"] == "scheduled":
            spelling = read(body["date_scheduled"])
            assert spelling is not None
            # A date finer than a microsecond may be truncated or rounded: not read back.
            if spelling.exact:
                written["date_scheduled"] = spelling.instant
            # A date already past falls due at once: the create may still show scheduled.
            due = max(spelling.instant, window.start)
            if spelling.has_offset:  # local time may be read at another offset (audit)
                not_before = NotBefore(spelling.instant, "sms/send/scheduled-not-early")
        elif body["status"] == "outbox":
            send_in = body.get("send_in", 0)
            send_in = send_in if is_number(send_in) else 0
            if send_in < 0:
                # Not documented (open point send-in-negative): sent at once, or whenever.
                send_in, timing_open = 0, "sms/create/send-in-negative"
            elif fractional(send_in):
                # Nor is a fraction of a second (send-in-fraction): due at send_in as given,
                # or at its whole seconds; when it is sent is observed, never judged.
                timing_open = "sms/create/send-in-fraction"
            due = window.start + timedelta(seconds=send_in)
            if timing_open is None:  # moved onto the server's clock by Model.add
                not_before = NotBefore(due, "sms/send/send-in-delays")
        return SmsRecord(
            id="",
            status=body["status"],
            written=written,
            due=due,
            text_choices=text_choices,
            alternatives=alternatives,
            timing_open=timing_open,
            not_before=not_before,
        )
