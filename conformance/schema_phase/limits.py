"""The run's limits: what the schema phase may touch and whom it may address (issue 9).

:class:`_Run` holds one phase's state; :meth:`_Run.prepare` bends a case before it is sent
(lists scoped to the run's leads, foreign item ids swapped for a made-up one, SMS bodies made
safe for a live target), :meth:`_Run.check` is the choke point every send passes, and
:meth:`_Run.observe` owns what the run's creates made.
"""

from __future__ import annotations

import threading
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import requests

from conformance.client import (
    ApiClient,
    BudgetExhausted,
    MalformedAnswer,
    Refused,
    TimeBudgetExhausted,
)
from conformance.openapi import SMS_PATHS
from conformance.safety import SENDING_STATUSES, SMS, Guard

if TYPE_CHECKING:
    from conformance.target import Target

#: Methods that cannot modify anything; every other one on an item path names an owned id.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
COLLECTION_WRITES = frozenset({"PUT", "PATCH", "DELETE"})
GUARDED_COLLECTIONS = ("activity/sms/", "lead/", "sms_template/")
SMS_LIST = "/activity/sms/"
#: Operation path templates of single items -> the guard's collection of that item.
ITEM_TEMPLATES = {
    "/activity/sms/{id}/": "activity/sms/",
    "/lead/{id}/": "lead/",
    "/sms_template/{id}/": "sms_template/",
}
#: The prefix of an id the run makes up in each collection (Close's style).
MADE_UP_PREFIXES = {"activity/sms/": "acti_", "lead/": "lead_", "sms_template/": "smstmpl_"}


class RefusedRequest(requests.exceptions.RequestException):
    """A request the guard refused: it never left; schemathesis sees a failed send."""


class _Run:
    """Per-run state the global hooks and the guarded sends consult.

    ``guard`` is the target's own (:attr:`ApiClient.guard`), so the ids the phase creates
    are owned by the whole run and ``target.delete_sms`` may delete them. ``strict`` (any
    target whose data is not private: see :attr:`Target.data_is_private`) also
    pins every SMS body's ``lead_id``/``contact_id`` on the run's own leads."""

    def __init__(self, schema: Any, target: Target, guard: Guard, *, allow_send: bool) -> None:
        self.schema = schema
        self.guard = guard
        self.api: ApiClient | None = getattr(target, "api", None)  # whose budget counts
        # The run's request or time budget, when it ran out during the phase.
        self.spent: BudgetExhausted | TimeBudgetExhausted | None = None
        self.allow_send = allow_send
        self.strict = not target.data_is_private
        fixtures = target.fixtures
        self.leads: dict[str, str] = dict(fixtures.leads) if fixtures is not None else {}
        # The numbers a body may carry: the target's recipients the guard lets through.
        self.recipients = tuple(n for n in target.recipients if guard.may_address(n)) or tuple(
            sorted(guard.recipients or ())
        )
        self.created: list[str] = []
        self.refusals: list[str] = []
        self.withheld: list[str] = []  # collection-wide writes never sent to a live target
        self.disowned: list[str] = []  # create answers naming what the run cannot own
        self.seen: set[str] = set()  # SMS ids seen in answers other than the run's creates
        # A date_created bound after the SMS on the user's --lead-id leads ("" = none).
        self.given_bound = ""
        self._made_up: dict[str, str] = {}
        self._next_recipient = 0
        self.lock = threading.Lock()

    def owns(self, case: Any) -> bool:
        return case.operation.schema is self.schema

    @property
    def lead_id(self) -> str | None:
        return next(iter(self.leads), None)

    def made_up(self, collection: str) -> str:
        """This run's one made-up id in ``collection`` (owned, and on no server)."""
        with self.lock:
            if collection not in self._made_up:
                prefix = MADE_UP_PREFIXES.get(collection, "")
                self._made_up[collection] = self.guard.made_up(collection, prefix=prefix)
            return self._made_up[collection]

    def recipient(self) -> str:
        """The next of the run's recipients, in turn."""
        with self.lock:
            number = self.recipients[self._next_recipient % len(self.recipients)]
            self._next_recipient += 1
        return number

    # -- before a case is sent ---------------------------------------------------------------

    def prepare(self, case: Any) -> None:
        """Bend ``case`` so that it can only touch what the run owns and address whom it may."""
        method = case.method.upper()
        if case.path == SMS_LIST and method != "POST":
            self._scope_list(case)
        collection = ITEM_TEMPLATES.get(case.path)
        if collection is not None and method not in SAFE_METHODS:
            self._own_item(case, collection)
        if case.path in SMS_PATHS and method not in SAFE_METHODS and isinstance(case.body, dict):
            create = case.path == SMS_LIST and method == "POST"
            case.body = self._safe_body(case.body, create=create)

    def _scope_list(self, case: Any) -> None:
        """Lists name one of the run's leads, so foreign SMS never enter schemathesis's pools."""
        if self.lead_id is None:
            return
        query = dict(case.query or {})
        value = query.get("lead_id")
        if "lead_id" not in query or (self.strict and not self._names_run_leads(value)):
            query["lead_id"] = self.lead_id
            case.query = query
        if self.given_bound:
            case.query = self._after_given_leads(dict(case.query or {}))

    def _after_given_leads(self, query: dict[str, Any]) -> dict[str, Any]:
        """Bound a list after the SMS the user's leads held before the run, so they never
        enter schemathesis's pools or its judgements: on a free ``date_created__gt`` (or
        ``__gte``), else on one whose value is a date (a valid value for a valid one, so a
        negative case stays one). Both values invalid: a conforming server refuses the list."""
        for key in ("date_created__gt", "date_created__gte"):
            if key not in query:
                query[key] = self.given_bound
                return query
        for key in ("date_created__gte", "date_created__gt"):
            if _is_a_date(query[key]):
                query[key] = self.given_bound
                return query
        return query

    def _names_run_leads(self, value: object) -> bool:
        """False for a string naming a lead that is not the run's (ids are comma-separated)."""
        if not isinstance(value, str):
            return True  # a wrong type names no lead at all
        return all(part.strip() in self.leads for part in value.split(",") if part.strip())

    def _own_item(self, case: Any, collection: str) -> None:
        """An id the run does not own becomes the run's made-up one (an id no server has)."""
        item_id = (case.path_parameters or {}).get("id")
        if isinstance(item_id, str) and self.guard.owns(collection, item_id):
            return
        case.path_parameters = {**(case.path_parameters or {}), "id": self.made_up(collection)}

    def _safe_body(self, body: dict[str, Any], *, create: bool) -> dict[str, Any]:
        """A copy of an SMS body that sends nothing without ``allow_send``, addresses only the
        run's recipients and (on a remote target) hangs off the run's leads."""
        body = dict(body)
        if not self.allow_send and body.get("status") in SENDING_STATUSES:
            body["status"] = "draft"
        if "remote_phone" in body and not self.guard.may_address(body["remote_phone"]):
            body["remote_phone"] = self._harmless_phone(body["remote_phone"])
        sending = body.get("status") in SENDING_STATUSES
        if self.strict and sending and not body.get("remote_phone") and self.recipients:
            # A live send names one of the run's recipients, never nobody (absent, null, ""
            # or another empty value; nor the number an earlier write left): what a send
            # without remote_phone does is not documented.
            body["remote_phone"] = self.recipient()
        if self.strict and self.lead_id is not None:
            self._pin_lead(body, create=create)
        return body

    def _harmless_phone(self, phone: object) -> object:
        """A phone the run may address in place of ``phone``: one of its recipients for a
        string; an empty value of the same type otherwise (a wrong type stays wrong)."""
        if isinstance(phone, str) or not self.recipients:
            return self.recipient() if self.recipients else ""
        return type(phone)() if isinstance(phone, (int, float, list, dict)) else None

    def _pin_lead(self, body: dict[str, Any], *, create: bool) -> None:
        """Every SMS the run writes hangs off one of its leads (so ``cleanup`` finds it).

        A ``lead_id`` that would not name one of the run's leads and that a server may
        accept (absent on a create, ``null``, a string naming another lead: all valid by
        the schema) becomes one of the run's leads: the contact's, when the body names one
        of the run's contacts, so the pair still agrees. Only a ``lead_id`` of a wrong JSON
        type stays, so the negative case stays one: a conforming server must refuse it (and
        should one accept it, the SMS is the run's, owned, and deleted by id at the end)."""
        lead = body.get("lead_id")
        contact = body.get("contact_id")
        contact_lead = next(
            (lead_id for lead_id, contact_id in self.leads.items() if contact_id == contact), None
        )
        # On a create an absent lead_id leaves the SMS on no lead; on a PUT it keeps its lead.
        unpinned = lead is None and (create or "lead_id" in body)
        if unpinned or (isinstance(lead, str) and lead not in self.leads):
            body["lead_id"] = lead = contact_lead or self.lead_id
        if isinstance(contact, str) and contact not in self.leads.values():
            own_lead = lead if isinstance(lead, str) and lead in self.leads else self.lead_id
            body["contact_id"] = self.leads[own_lead or ""]

    # -- around every request ----------------------------------------------------------------

    def check(self, method: str, path: str, body: Any) -> None:
        """The choke point: raise :class:`RefusedRequest` for what the guard refuses.

        On a live target a write to a whole collection (the coverage phase's undeclared
        ``DELETE /lead/``, say) is withheld, not refused: Close has no such operation, but a
        server that had one could touch what the run did not create. It is noted, and the
        run goes on (the machine judges undeclared methods on the run's own SMS)."""
        if self.strict and method.upper() in COLLECTION_WRITES and path in GUARDED_COLLECTIONS:
            with self.lock:
                self.withheld.append(f"{method.upper()} /{path}")
            raise RefusedRequest(f"withheld {method.upper()} /{path} (a collection-wide write)")
        try:
            if self.api is not None:
                self.api.spend(method)  # --max-requests and the time bound count these too
        except (BudgetExhausted, TimeBudgetExhausted) as spent:
            self.spent = self.spent or spent
            raise RefusedRequest(str(spent)) from None
        try:
            self.guard.check(method, path, body)
        except (Refused, MalformedAnswer) as refusal:
            with self.lock:
                self.refusals.append(str(refusal))
            raise RefusedRequest(str(refusal)) from None

    def observe(self, method: str, path: str, status: int, body: Any) -> None:
        """Own what the run's creates made; remember the SMS ids other answers showed."""
        relative = path.strip("/") + "/"
        if not 200 <= status < 300 or not relative.startswith(SMS):
            return
        if method == "POST" and relative == SMS and isinstance(body, dict):
            self._note_create(body)
        elif method == "GET":
            items = body.get("data") if isinstance(body, dict) else None
            for item in items if isinstance(items, list) else [body]:
                if isinstance(item, dict) and isinstance(item.get("id"), str):
                    with self.lock:
                        self.seen.add(item["id"])

    def _note_create(self, body: dict[str, Any]) -> None:
        sms_id, lead = body.get("id"), body.get("lead_id")
        if not isinstance(sms_id, str):
            return
        with self.lock:
            foreign = sms_id in self.seen and sms_id not in self.created
            if foreign or (isinstance(lead, str) and self.leads and lead not in self.leads):
                self.disowned.append(f"{sms_id!r} (lead_id {lead!r})")
                return
            self.created.append(sms_id)
        self.guard.own(SMS, sms_id)


def _is_a_date(value: object) -> bool:
    """True for an ISO 8601 date or date-time string (what ``DateOrDateTime`` allows)."""
    if not isinstance(value, str):
        return False
    for parse in (datetime.fromisoformat, date.fromisoformat):
        try:
            parse(value)
        except ValueError:
            continue
        return True
    return False
