"""Rules for isolation: another organisation must not reach the run's SMS."""

from __future__ import annotations

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
