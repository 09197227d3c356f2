"""What the docs allow for an update (``PUT /activity/sms/{id}/``): edits of a draft, a
draft sent (scheduled or outbox), a cancel; and the record an accepted update leaves."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from conformance.dates import parse_date_or_datetime, read
from conformance.fixtures import Fixtures
from conformance.model.records import Expectation, NotBefore, SmsRecord
from conformance.model.timing import TimeWindow, Timing, is_past, past_readings
from conformance.model.values import (
    DATE_FIELDS,
    EMPTY_SEND,
    UPDATE_FIELDS,
    attachments_invalid,
    foreign_attachment,
    is_clearly_not_a_phone,
    is_empty,
    is_number,
    odd_date,
    text_forms,
    wrong_type,
)
from conformance.vocabulary import DELIVERED, SENDING

__all__ = ["UpdateModel"]


class UpdateModel:
    """The update half of :class:`conformance.model.Model` (a mixin: it reads the model's
    ``fixtures``, ``timing`` and ``records``)."""

    fixtures: Fixtures
    timing: Timing
    records: dict[str, SmsRecord]

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
                odd = odd_date(body, DATE_FIELDS)
                if odd is None and foreign_attachment(body.get("attachments")):
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
                if is_number(date_scheduled):
                    return Expectation(
                        "sms/update/date-spelling",
                        None,
                        "date_scheduled",
                        note="date_scheduled given as a number: read as a Unix time, or refused",
                    )
                spelling = read(date_scheduled) if isinstance(date_scheduled, str) else None
                not_before = None
                if spelling is not None:
                    date_scheduled = spelling.instant
                    if spelling.has_offset:  # local time may be read at another offset
                        not_before = NotBefore(date_scheduled, "sms/send/scheduled-not-early")
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
                odd = odd_date(body, DATE_FIELDS)
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
                    replace(edited, status="scheduled", due=date_scheduled, not_before=not_before),
                    window,
                )
            if status == "outbox":
                edited = self._edited(record, body)
                return self._sending(
                    "sms/update/draft-to-outbox",
                    # Sent now: due at a time only the run's clock knows.
                    replace(edited, status="outbox", due=window.start, not_before=None),
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
                not_before=None,
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
        wrong = wrong_type(given, status)
        if wrong is not None and not wrong[1]:
            return Expectation("protocol/invalid-input-rejected", False, wrong[0])
        for name in ("local_phone", "remote_phone"):
            if is_clearly_not_a_phone(given.get(name)):
                return Expectation("protocol/invalid-input-rejected", False, name)
        if attachments_invalid(given.get("attachments")):
            return Expectation("protocol/invalid-input-rejected", False, "attachments")
        if wrong is not None:
            return Expectation("sms/update/loose-type", None, wrong[0])
        return None

    def _sending(self, rule: str, sent: SmsRecord, window: TimeWindow) -> Expectation:
        """What a PUT that sends a draft (``sent``: the draft as the PUT leaves it) may get.

        Sending needs an internal ``local_phone`` (1.3 rule 4, "You must give a
        `local_phone`, used to send; it must belong to a Phone Number of type `internal`"),
        so a draft that holds none, or another number, may be refused (audit U2); one that
        holds none may also be sent from a number Caller ID picks (local-phone-on-sends)."""
        # A date already past may be refused as well (past-date-scheduled): then a refusal
        # names no one field for sure and tells no reading of another point.
        past = (
            sent.status == "scheduled"
            and sent.due is not None
            and is_past(sent.due, window, self.timing)
        )
        if is_empty(sent):
            readings = (EMPTY_SEND[0], None) if past else EMPTY_SEND
            return Expectation("sms/update/empty-send", None, record=sent, readings=readings)
        if "attachments" in sent.updated and foreign_attachment(sent.written.get("attachments")):
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
                readings=past_readings(sent.due, window, self.timing),
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
