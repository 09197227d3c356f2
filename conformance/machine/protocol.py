"""Rules for the protocol around the SMS: credentials, methods, body formats, and ids that
name nothing (deleted, or never issued)."""

from __future__ import annotations

from collections.abc import Collection

from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule

from conformance.machine.base import SMS
from conformance.machine.operations import Operations
from conformance.model import Expectation
from conformance.safety import item_path

# method -> the operation, the rule for an id the run deleted, the rule for one never issued
TOUCH = {
    "GET": ("get", "sms/delete/then-get-404", "sms/get/unknown-id-404"),
    "PUT": ("update", "sms/update/unknown-id-404", "sms/update/unknown-id-404"),
    "DELETE": ("delete", "sms/delete/unknown-id-404", "sms/delete/unknown-id-404"),
}


class ProtocolRules(Operations):
    @rule(kind=st.sampled_from(["auth-none", "auth-wrong"]), data=st.data())
    def request_without_valid_credentials(self, kind: str, data: st.DataObject) -> None:
        path = SMS
        if self.model.records and data.draw(st.booleans(), label="one sms"):  # type: ignore[arg-type]
            path = item_path(SMS, self._pick(data).id)
        self._step(kind, "GET", path, auth="none" if kind == "auth-none" else "wrong")

    @precondition(lambda self: bool(self.model.records))
    @rule(data=st.data(), method=st.sampled_from(["PATCH", "POST"]))
    def unsupported_method(self, data: st.DataObject, method: str) -> None:
        self._step("method", method, item_path(SMS, self._pick(data).id), json_body={"text": "x"})

    @rule()
    def post_a_non_json_body(self) -> None:
        self._step(
            "format", "POST", SMS, content=b"status=draft", headers={"content-type": "text/plain"}
        )

    @precondition(lambda self: bool(self.model.deleted))
    @rule(data=st.data(), method=st.sampled_from(["GET", "PUT", "DELETE"]))
    def touch_deleted_sms(self, data: st.DataObject, method: str) -> None:
        sms_id = data.draw(st.sampled_from(list(self.model.deleted)), label="deleted id")
        operation, rule_id, _ = TOUCH[method]
        self._touch(operation, method, sms_id, rule_id, text="after delete")

    @precondition(lambda self: bool(self.created or self.state.gone))
    @rule(method=st.sampled_from(["GET", "PUT", "DELETE"]))
    def touch_unknown_sms(self, method: str) -> None:
        # Shaped like an id the server issued: an id of a shape it never issues may be
        # refused 400 ("400" is documented for get, update and delete, 1.1); one of its own
        # shape that names nothing is "404 Not found" (1.4) (audit G1).
        issued = next(iter(self.created), None) or next(iter(self.state.gone))
        taken = {*self.created, *self.state.gone, *self.model.records}
        sms_id = unknown_id_like(issued, self.steps + 1, taken)
        if self.target.api.guard is not None:
            self.target.api.guard.own(SMS, sms_id)  # made up by the run: its to touch
        operation, _, rule_id = TOUCH[method]
        self._touch(operation, method, sms_id, rule_id, text="nobody")

    def _touch(self, operation: str, method: str, sms_id: str, rule_id: str, text: str) -> None:
        """One request to an id that names no SMS: it must be refused (404), as ``rule_id``
        says. A PUT carries ``text``."""
        body = {"text": text} if method == "PUT" else None
        self._step(
            operation,
            method,
            item_path(SMS, sms_id),
            json_body=body,
            expectation=Expectation(rule_id, False),
        )


def unknown_id_like(issued: str, salt: int, taken: Collection[str] = ()) -> str:
    """An id of the same shape as ``issued`` (its prefix up to the last ``_`` kept, every
    digit and letter replaced by another of its kind at every position: hex stays hex) that
    is none of ``taken``."""
    prefix, _, tail = issued.rpartition("_")
    kinds: tuple[str, ...] = (
        "0123456789", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"
    )  # fmt: skip
    for hexadecimal in ("0123456789abcdef", "0123456789ABCDEF"):
        if {char for char in tail if char.isalnum()} <= set(hexadecimal):  # hex stays hex
            kinds = (hexadecimal[:10], hexadecimal[10:])
    for attempt in range(salt, salt + 1000):
        out = []
        for index, char in enumerate(tail):
            kind = next((k for k in kinds if char in k), None)
            if kind is None:
                out.append(char)
                continue
            shift = 1 + (attempt + index) % (len(kind) - 1)  # never 0: always another one
            out.append(kind[(kind.index(char) + shift) % len(kind)])
        made = f"{prefix}_{''.join(out)}" if prefix else "".join(out)
        if made not in taken:
            return made
    return f"{issued}0"  # pragma: no cover - a thousand shapes all taken
