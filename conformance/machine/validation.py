"""Rules for what a create must refuse: bodies the docs rule out, each family drawn on its
own where drawing it among every invalid create came up too rarely to count on."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule

import strategies as sms_st
from conformance.machine.base import STRATEGY_NOW
from conformance.machine.operations import Operations
from conformance.model import SENDING

WRONG_TYPE_FIELDS = (
    "text",
    "lead_id",
    "contact_id",
    "local_phone",
    "remote_phone",
    "template_id",
    "direction",
    "date_scheduled",
    "activity_at",
    "attachments",
)
# Media types outside the documented attachment enum that a server might take for valid ones.
UNLISTED_CONTENT_TYPES = ("text/html", "image/webp", "application/octet-stream", "image/svg+xml")


class ValidationRules(Operations):
    def _drawn_body(self, data: st.DataObject, status: str = "draft") -> dict[str, Any]:
        return data.draw(sms_st.create_payloads(self.fixtures, now=STRATEGY_NOW, status=status))

    @rule(data=st.data())
    def create_invalid_sms(self, data: st.DataObject) -> None:
        invalid = data.draw(sms_st.invalid_create_payloads(self.fixtures, now=STRATEGY_NOW))
        body = invalid.body
        if not self.target.allow_send and body.get("status") in SENDING:
            body = (
                {**body, "status": "draft"} if invalid.violation.startswith("protocol/") else body
            )
            if body.get("status") in SENDING:
                return
        self._create(body)

    @rule(
        data=st.data(),
        field=st.sampled_from(WRONG_TYPE_FIELDS),
        value=st.sampled_from([12345, 1.5, True, ["x"], {"x": 1}]),
    )
    def create_with_a_wrong_type(self, data: st.DataObject, field: str, value: Any) -> None:
        """Bad input must get a 4xx, never a 5xx: one field of the wrong JSON type."""
        self._create({**self._drawn_body(data), field: value})

    @precondition(lambda self: self.target.allow_send)
    @rule(data=st.data(), send_in=st.sampled_from([59, 60, 59.5, 60.5]))
    def send_at_the_bound_of_send_in(self, data: st.DataObject, send_in: float) -> None:
        """ "must be less than 60", at the bound itself: 59 must be accepted (59.5 too, or
        refused for its fraction: send-in-fraction), 60 (and 60.5) refused. ``SEND_IN``
        reaches these edges too rarely to count on."""
        body = self._drawn_body(data, status="outbox")
        if not body.get("text") and "template_id" not in body:
            body["text"] = "send_in at its bound"  # an empty send is an open point of its own
        self._create({**body, "send_in": send_in})

    @rule(data=st.data(), content_type=st.sampled_from(UNLISTED_CONTENT_TYPES))
    def attach_an_unlisted_media_type(self, data: st.DataObject, content_type: str) -> None:
        """The attachment content_type enum is documented: a draft with an attachment of
        another media type must be refused (the invalid-payload families reach it rarely)."""
        body = self._drawn_body(data)
        item = {"url": "https://example.com/media/x/page", "filename": "page"}
        body["attachments"] = [*body.get("attachments", []), {**item, "content_type": content_type}]
        self._create(body)

    @precondition(lambda self: self.target.allow_send)
    @rule(data=st.data(), date_scheduled=st.sampled_from([None, "absent"]))
    def schedule_without_a_date(self, data: st.DataObject, date_scheduled: str | None) -> None:
        """ "must be specified in the `date_scheduled` field": a scheduled create without
        one (absent or null) must be refused (the invalid-payload families reach it rarely
        once other draws shift)."""
        body = {**self._drawn_body(data), "status": "scheduled", "text": "scheduled without a date"}
        body.pop("date_scheduled", None)
        if date_scheduled is None:
            body["date_scheduled"] = None
        self._create(body)

    @rule(data=st.data(), field=st.sampled_from(["remote_phone", "local_phone"]))
    def create_with_a_phone_that_is_no_number(self, data: st.DataObject, field: str) -> None:
        """ "Phone number in E.164 format": a draft whose number has letters or too few
        digits must be refused (among every invalid create it came up too rarely)."""
        body = self._drawn_body(data)
        body[field] = data.draw(st.sampled_from(["not a phone", "12", "call me later", "+"]))
        self._create(body)
