"""Rules for isolation: another organisation must not reach the run's SMS, and the run's
organisation must not reach another's objects."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule

from conformance.machine.base import SMS
from conformance.machine.operations import Operations
from conformance.safety import item_path


class IsolationRules(Operations):
    @precondition(lambda self: bool(self.model.records) and self.target.has_second_org)
    @rule(data=st.data(), kind=st.sampled_from(["get", "list", "put", "delete"]))
    def another_organisation_reaches_in(self, data: st.DataObject, kind: str) -> None:
        record = self._pick(data)
        if kind == "list":
            params = {"id__in": record.id}
            self._step("isolation-list", "GET", SMS, params=params, auth="second-org")
        elif kind == "get":
            self._step("isolation-get", "GET", item_path(SMS, record.id), auth="second-org")
        else:
            body = {"text": "not yours"} if kind == "put" else None
            self._step(
                "isolation-modify",
                kind.upper(),
                item_path(SMS, record.id),
                json_body=body,
                auth="second-org",
            )

    @precondition(lambda self: self.fixtures.foreign is not None)
    @rule(data=st.data(), kind=st.sampled_from(["lead", "contact", "template", "local_phone"]))
    def name_another_organisations_objects(self, data: st.DataObject, kind: str) -> None:
        """A create of the run's organisation naming another organisation's lead, contact,
        template or internal number (on a send: on a draft the number is open) must be
        refused: a server that looks an id up in every organisation takes it."""
        foreign = self.fixtures.foreign
        assert foreign is not None
        status = "outbox" if kind == "local_phone" and self.target.allow_send else "draft"
        body: dict[str, Any] = {
            "status": status,
            "text": "naming another organisation's object",
            "local_phone": self.fixtures.internal_phones[0],
            "remote_phone": self.fixtures.remote_phones[0],
        }
        lead_id, contact_id = self.fixtures.leads[0]
        if kind == "lead" and foreign.lead is not None:
            body["lead_id"] = foreign.lead[0]
        elif kind == "contact" and foreign.lead is not None:
            body["contact_id"] = foreign.lead[1]
        elif kind == "template" and foreign.template_id is not None:
            body.update(lead_id=lead_id, contact_id=contact_id, template_id=foreign.template_id)
            del body["text"]
        elif kind == "local_phone" and foreign.internal_phones and status == "outbox":
            body.update(lead_id=lead_id, contact_id=contact_id)
            body["local_phone"] = data.draw(st.sampled_from(foreign.internal_phones))
        else:
            return  # the other organisation holds no such object, or the run may not send
        self._create(body)
