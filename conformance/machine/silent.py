"""Rules where the docs are silent: requests whose answer is an open point, each drawn so
that either answer shows the reading the server took (judged ``informational``, recorded
with its reading)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import rule

import strategies as sms_st
from conformance.fixtures import Fixtures
from conformance.machine.base import STRATEGY_NOW, has
from conformance.machine.operations import Operations
from conformance.model import SENDING

SILENT_CREATES = (
    "error",
    "send-in-negative",
    "send-in-draft",
    "external-logged",
    "template-and-text",
    "whitespace",
    "past-date-scheduled",
    "send-in-fraction",
    "send-without-local-phone",
)
SILENT_SENDS = ("past-date-scheduled", "send-in-fraction", "send-without-local-phone")


class SilentRules(Operations):
    @has("draft")
    @rule(data=st.data(), to=st.sampled_from(["inbox", "sent", "error"]))
    def move_draft_to_an_undocumented_status(self, data: st.DataObject, to: str) -> None:
        self._update(self._pick(data, "draft"), {"status": to})

    @has(*SENDING)
    @rule(data=st.data())
    def cancel_and_edit_at_once(self, data: st.DataObject) -> None:
        self._update(self._pick(data, *SENDING), {"status": "draft", "text": "cancel+edit"})

    @rule(data=st.data(), kind=st.sampled_from(list(SILENT_CREATES)))
    def create_where_the_docs_are_silent(self, data: st.DataObject, kind: str) -> None:
        body = data.draw(sms_st.create_payloads(self.fixtures, now=STRATEGY_NOW, status="draft"))
        if kind in SILENT_SENDS:
            self._send_where_the_docs_are_silent(data, kind, body)
            return
        silent = silent_create_body(data, kind, body, self.fixtures, self.target.allow_send)
        if silent is not None:
            self._create(silent)

    def _send_where_the_docs_are_silent(
        self, data: st.DataObject, kind: str, drawn: dict[str, Any]
    ) -> None:
        """A send open on one count only, so that either answer shows the reading taken: a
        date_scheduled already past (past-date-scheduled), a send naming no local_phone
        (local-phone-on-sends), or a send_in with a fraction of a second (send-in-fraction;
        on a virtual clock, read back once sent, its date_sent shows whether the fraction
        was kept)."""
        if not self.target.allow_send:
            return
        body = {k: v for k, v in drawn.items() if k in ("lead_id", "contact_id", "remote_phone")}
        if kind == "send-without-local-phone":
            self._create({**body, "status": "outbox", "text": "no local_phone"})
            return
        body["local_phone"] = self.fixtures.internal_phones[0]
        if kind == "past-date-scheduled":
            ago = data.draw(st.integers(60, 86400), label="seconds ago")
            past = self._now() - timedelta(seconds=ago)
            body.update(status="scheduled", date_scheduled=past.isoformat(), text="a past date")
            self._create(body)
            return
        send_in = data.draw(st.sampled_from([0.5, 5.5, 30.25]), label="send_in")
        body.update(status="outbox", send_in=send_in, text="a fraction of a second")
        record = self._create(body)
        if record is None or not self.target.clock_can_jump:
            return
        self.target.clock.sleep(send_in + 1)
        self._observe_statuses(self._get(self.model.records.get(record.id, record)))


def silent_create_body(
    data: st.DataObject,
    kind: str,
    body: dict[str, Any],
    fixtures: Fixtures,
    allow_send: bool,
) -> dict[str, Any] | None:
    """The create body (from a drawn draft, ``body``) whose answer the docs leave open on
    one count, ``kind``; None when the target cannot take it (no sending, no external
    phone, no template)."""
    if kind == "error":
        body["status"] = "error"
    elif kind == "send-in-negative":
        if not allow_send:
            return None
        # Open on this one count only, so either answer shows the reading taken.
        body = {k: v for k, v in body.items() if k in ("lead_id", "contact_id", "remote_phone")}
        body.update(
            status="outbox",
            send_in=data.draw(st.integers(-100, -1)),
            text="a negative send_in",
            local_phone=fixtures.internal_phones[0],
        )
    elif kind == "send-in-draft":
        body["send_in"] = data.draw(st.integers(0, 59))
    elif kind == "external-logged":
        if not fixtures.external_phones:
            return None
        body.update(
            status=data.draw(st.sampled_from(["inbox", "sent", "draft"])),
            local_phone=fixtures.external_phones[0],
        )
    elif kind == "template-and-text":
        if fixtures.template_id is None:
            return None  # no template on this target (Target.lacking says why)
        # Open on this one count only, so either answer shows the reading taken.
        return {
            "status": "draft",
            "lead_id": fixtures.lead_id,
            "contact_id": fixtures.contact_id,
            "local_phone": fixtures.internal_phones[0],
            "template_id": fixtures.template_id,
            "text": "explicit text",
        }
    else:
        body["text"] = data.draw(
            sms_st.texts(edge_whitespace=True).filter(lambda text: text != text.strip())
        )
        body.pop("template_id", None)
    return body
