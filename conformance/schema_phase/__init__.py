"""The schema phase: schemathesis against the target, judged by catalogue rules.

:func:`run_schema_phase` loads the suite's own OpenAPI document
(:mod:`conformance.openapi`), points schemathesis 4.x at the target (the embedded ASGI app
in-process, or the remote base URL over HTTP) with the target's API key, runs the chosen
phases, and turns every check outcome into a :class:`~conformance.checks.Finding` keyed by a
catalogue rule id, and every violation into a :class:`~conformance.records.Failure` whose
steps hold no credential.

Only the SMS endpoints are under test (the fixture endpoints are set-up), and each check
judges only what a documented sentence backs (the rule's quote in the catalogue). Which
schemathesis check judges which rule (see :data:`CHECK_RULES` and :func:`_rule_for`)::

    not_a_server_error            protocol/no-5xx
    content_type_conformance      protocol/json-content-type (answers the document gives
                                  content: 2xx, 400, 401, 403)
    response_schema_conformance   sms/object/schema (2xx), sms/delete/answers-200-empty
                                  (DELETE), protocol/error-body (400), auth/error-body (401);
                                  a body that is not JSON at all: protocol/json-content-type
    status_code_conformance       protocol/documented-status-code (non-5xx)
    negative_data_rejection       protocol/invalid-input-rejected: only a request that breaks
                                  a documented type, enum or required field as sent
    unsupported_method            protocol/method-not-allowed: GET, POST, PUT, PATCH or DELETE
                                  where the endpoint has none answered 405 (no Allow demanded)
    use_after_free                sms/delete/then-get-404
    ensure_resource_availability  roundtrip/create-readback (sms/delete/answers-200-empty for
                                  a DELETE)
    ignored_auth                  auth/missing-rejected, auth/wrong-rejected

What no documented sentence backs is not judged: RFC details (an ``Allow`` header on a 405,
405 rather than 501 for methods nobody documents, which are never sent), RFC 3339 date-times
(a date field is judged by the model's own reading of ISO 8601, naive or ``+0000`` offsets
included: section 1.7 shows dates without an offset), formats, patterns and bounds of request
fields (``send_in``, dates: the catalogue leaves some of them open), the shape of 402 and 403
bodies, and any answer that is noise: a 429 or a 502/503/504, to the case or to any request a
check made for it (ignored_auth's probes).

False alarms are avoided by construction: a positive case answered 4xx is never judged
(business rules such as ``scheduled`` without ``date_scheduled`` rightly refuse
schema-valid bodies), response schemas are not judged on ``_fields`` requests (trimmed on
purpose), and 5xx answers count only against ``protocol/no-5xx``.

Safety (issue 9): the phase touches only what the run made, whatever ids schemathesis
harvests. In its ``before_call`` hook (:class:`_Run`): every ``GET /activity/sms/`` names one
of the run's leads, so other SMS never enter schemathesis's pools; every method but GET, HEAD
and OPTIONS on an item path (``activity/sms/``, ``lead/``, ``sms_template/``) whose id the
run does not own gets the run's made-up id instead (owned, and on no server); an SMS body's
phone-like ``remote_phone`` outside the run's recipients becomes one of them; without
``allow_send`` ``outbox``/``scheduled`` become ``draft``; and on a remote target every SMS
body is pinned on the run's leads (``lead_id`` added to creates, foreign ``lead_id`` and
``contact_id`` replaced) so ``cleanup`` can find what the phase made. Then, as the choke point,
every ``requests`` send of the phase (its cases, its checks' control requests and probes,
redirects) passes the target's own :class:`~conformance.safety.Guard` first; a refused
request never leaves, and the phase ends with :class:`~conformance.client.Refused`. The ids
the phase's creates return are owned by that guard, and deleted at the end.
"""

from __future__ import annotations

import asyncio
import json
import posixpath
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from unittest import mock
from urllib.parse import parse_qs, urlsplit

import jsonschema_rs
import requests
import schemathesis
from hypothesis import strategies as st
from schemathesis.core.failures import Failure as CheckFailure
from schemathesis.engine import Status, events, from_schema

from conformance.bounded_requests import bounded_sessions
from conformance.checks import Finding
from conformance.client import (
    TRANSIENT_STATUSES,
    AnswerTooLarge,
    ApiClient,
    BudgetExhausted,
    Interrupted,
    MalformedAnswer,
    Refused,
    TimeBudgetExhausted,
    decode_body,
    parse_ratelimit,
)
from conformance.compat import (
    builtin_check,
    no_basic_auth_seeding,
    pinned_local_constants,
    responses_to_requests_made_for,
)
from conformance.constant_pool import frozen_pool
from conformance.dates import parse_shown_datetime
from conformance.machine import given_leads_bound
from conformance.model import without_loose_values
from conformance.openapi import SMS_PATHS, load_openapi
from conformance.records import Exchange, Failure, RecordedRequest, RecordedResponse
from conformance.safety import SMS, Guard

if TYPE_CHECKING:
    from conformance.target import Target

__all__ = ["CHECK_RULES", "PHASES", "SchemaPhaseResult", "run_schema_phase"]

PHASES = ("examples", "coverage", "fuzzing", "stateful")
PREFIX = "sms_conformance_"
SENDING_STATUSES = frozenset({"outbox", "scheduled"})
RECORDED_HEADERS = ("content-type", "x-tz-offset")
# The operations under test: the SMS endpoints only. The fixture endpoints (/me/,
# /phone_number/, /lead/, /sms_template/) are the run's set-up, not the API under test
# (issue 10, item 8): the phase sends them nothing and judges nothing of them.
TESTED_OPERATIONS = (
    "GET /activity/sms/",
    "POST /activity/sms/",
    "GET /activity/sms/{id}/",
    "PUT /activity/sms/{id}/",
    "DELETE /activity/sms/{id}/",
)
# The methods sent where an SMS endpoint has none, to be answered 405 (section 2.6: "405
# method not supported"): those of the API itself, and PATCH (section 2.5 names PUT, not
# PATCH, for partial updates). TRACE, QUERY, OPTIONS and other methods nobody documents
# are never sent: what they get (405, 501, ...) is an RFC's matter, not Close's.
UNEXPECTED_METHODS = frozenset({"get", "post", "put", "patch", "delete"})

# schemathesis check -> catalogue rule (the default; see _rule_for for the per-status cases)
CHECK_RULES: dict[str, str] = {
    "not_a_server_error": "protocol/no-5xx",
    "content_type_conformance": "protocol/json-content-type",
    "response_schema_conformance": "sms/object/schema",
    "status_code_conformance": "protocol/documented-status-code",
    "negative_data_rejection": "protocol/invalid-input-rejected",
    "unsupported_method": "protocol/method-not-allowed",
    "use_after_free": "sms/delete/then-get-404",
    "ensure_resource_availability": "roundtrip/create-readback",
    "ignored_auth": "auth/missing-rejected",
}


@dataclass(slots=True)
class SchemaPhaseResult:
    """What the phase observed: one finding per check outcome, the violations, and the
    number of requests sent (probes included)."""

    findings: list[Finding] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    requests: int = 0
    created: list[str] = field(default_factory=list)  # SMS ids created (and deleted)
    errors: list[str] = field(default_factory=list)  # schemathesis errors, not violations


# -- wrapped checks ---------------------------------------------------------------------------


def _is_sms(case: Any) -> bool:
    return case.operation.path in SMS_PATHS


def _is_5xx(response: Any) -> bool:
    return response.status_code >= 500


def _empty_delete(response: Any, case: Any) -> bool:
    """A DELETE answered with no body at all: "Empty response body" (1.6 Delete) has no
    media type or schema to judge (audit D1)."""
    return case.method.upper() == "DELETE" and not response.content


def _uses_fields(case: Any) -> bool:
    return bool(case.query) and "_fields" in case.query


def _is_noise_status(status: int) -> bool:
    """A 429 or a 502/503/504: the rate limiter's or a gateway's answer, not the API's."""
    return status == 429 or status in TRANSIENT_STATUSES


def _is_noise(response: Any) -> bool:
    return _is_noise_status(response.status_code)


#: The statuses whose bodies the docs describe (section 2.6): success, 400 (an error body in
#: one of the documented shapes) and 401 ({"error": ...}). 402 and 403 bodies are not
#: described (403 "may carry error_code"), 404, 405, 415 and 429 bodies are left open.
SCHEMA_JUDGED = frozenset({400, 401})


def _schema_skipped(response: Any, case: Any) -> bool:
    code = response.status_code
    return _uses_fields(case) or not (200 <= code < 300 or code in SCHEMA_JUDGED)


_SKIPS: dict[str, Callable[[Any, Any], bool]] = {
    # 5xx answers are judged by protocol/no-5xx alone
    "content_type_conformance": lambda response, case: (
        _is_5xx(response) or _empty_delete(response, case)
    ),
    "status_code_conformance": lambda response, case: _is_5xx(response),
    "response_schema_conformance": lambda response, case: (
        _schema_skipped(response, case) or _empty_delete(response, case)
    ),
    "negative_data_rejection": lambda response, case: (
        _is_5xx(response) or not _breaks_documented_schema(response, case)
    ),
    "unsupported_method": lambda response, case: False,
    "not_a_server_error": lambda response, case: False,
    "use_after_free": lambda response, case: False,
    "ensure_resource_availability": lambda response, case: False,
    "ignored_auth": lambda response, case: False,
}


def _met_noise(ctx: Any, case: Any) -> bool:
    """True when a request a check sent for ``case`` (ignored_auth's probes) met noise."""
    return any(_is_noise(response) for response in responses_to_requests_made_for(ctx, case))


def _register_checks() -> None:
    """Register a wrapped copy of each check in ``_SKIPS``. A check that schemathesis no
    longer has raises :class:`~conformance.compat.UpstreamChanged` naming it, before anything
    is registered: a rule would otherwise lose its coverage quietly."""
    builtins = {name: builtin_check(name) for name in _SKIPS}
    for name, skip in _SKIPS.items():
        builtin = builtins[name]

        def wrapped(
            ctx: Any,
            response: Any,
            case: Any,
            _name: str = name,
            _builtin: Any = builtin,
            _skip: Any = skip,
        ) -> bool | None:
            if _is_noise(response) or not _is_sms(case) or _skip(response, case):
                return True  # skipped: noise is never judged, nor what no rule backs
            try:
                outcome = _builtin(ctx, response, case)
            except CheckFailure as failure:
                if _met_noise(ctx, case) or _undocumented(_name, failure):
                    return True
                raise
            if _name == "response_schema_conformance":
                _judge_dates(response, case)
            return outcome

        wrapped.__name__ = PREFIX + name
        wrapped.__qualname__ = wrapped.__name__
        schemathesis.check(wrapped)


def _undocumented(name: str, failure: Any) -> bool:
    """True for a failure whose demand no documented sentence backs: a 405 without an
    ``Allow`` header (RFC 9110's, not Close's; section 2.6 gives only the code)."""
    return name == "unsupported_method" and (
        getattr(failure, "failure_reason", None) == "missing_allow_header"
    )


_register_checks()


# -- what the docs back: dates as the model reads them, refusals by type, enum, required ----

#: The SMS object's date fields (section 1.7: "date-time"; nullable but date_created and
#: date_updated). The OpenAPI document gives them no ``format``: RFC 3339 would demand an
#: offset, while section 1.7 shows "some newer objects use no offset" and the model reads any
#: ISO 8601 date-time (with a T; no offset means UTC; ``+0000`` as well as ``+00:00``).
SMS_DATES = ("activity_at", "date_created", "date_scheduled", "date_sent", "date_updated")


def _judge_dates(response: Any, case: Any) -> None:
    """Fail an SMS answer whose date fields the model cannot read as ISO 8601 date-times."""
    if not 200 <= response.status_code < 300 or case.method.upper() == "DELETE":
        return
    try:
        body = json.loads(response.content)
    except (ValueError, TypeError):
        return  # not JSON: judged by response_schema_conformance itself
    items = body.get("data") if isinstance(body, dict) and "data" in body else [body]
    bad = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        for name in SMS_DATES:
            value = item.get(name)
            if isinstance(value, str) and parse_shown_datetime(value) is None:
                bad.append(f"{name}={value!r}")
    if bad:
        raise CheckFailure(
            operation=case.operation.label,
            title="Response violates schema",
            message="date fields that are no ISO 8601 date-time (section 1.7): "
            + ", ".join(bad[:5]),
        )


#: The keywords a refusal may rest on: protocol/invalid-input-rejected names "a wrong type, a
#: value outside an enum, a missing required field". Formats, patterns, lengths and bounds
#: are not refusals the docs demand (the catalogue leaves a negative send_in, send_in off
#: outbox and how dates are parsed open), so a request breaking only those is not judged.
REFUSAL_KEYWORDS = frozenset(
    {"type", "enum", "required", "properties", "items", "anyOf", "oneOf", "allOf", "$ref"}
)
# Query parameters are strings on the wire: only an integer one (_limit, _skip) can be of a
# wrong type. How boolean flags (send_to_inbox) are parsed is not documented, so none is.
_INTEGER = re.compile(r"-?[0-9]+")


def _refusal_schema(node: Any) -> Any:
    """``node`` with only the keywords a documented refusal rests on."""
    if isinstance(node, list):
        return [_refusal_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    kept: dict[str, Any] = {}
    for key, value in node.items():
        if key == "properties":
            kept[key] = {name: _refusal_schema(sub) for name, sub in value.items()}
        elif key in REFUSAL_KEYWORDS:
            kept[key] = _refusal_schema(value)
    return kept


class _Refusals:
    """The request schemas of the SMS operations, reduced to what a refusal may rest on."""

    def __init__(self) -> None:
        document = load_openapi()
        schemas = document["components"]["schemas"]
        self.components = {"schemas": {name: _refusal_schema(s) for name, s in schemas.items()}}
        self.bodies: dict[tuple[str, str], Any] = {}
        self.integers: dict[tuple[str, str], set[str]] = {}
        parameters = document["components"]["parameters"]
        for path in SMS_PATHS:
            for method, operation in document["paths"][path].items():
                if method == "parameters":
                    continue
                key = (method.upper(), path)
                content = (operation.get("requestBody") or {}).get("content", {})
                schema = content.get("application/json", {}).get("schema")
                if schema is not None:
                    self.bodies[key] = jsonschema_rs.validator_for(
                        {**_refusal_schema(schema), "components": self.components}
                    )
                names = set()
                for parameter in operation.get("parameters", []):
                    if "$ref" in parameter:
                        parameter = parameters[parameter["$ref"].rsplit("/", 1)[-1]]
                    if parameter.get("schema", {}).get("type") == "integer":
                        names.add(parameter["name"])
                self.integers[key] = names

    def broken(self, method: str, path: str, query: str, body: bytes | str | None) -> bool:
        """True when the request as sent breaks a documented type, enum or required field."""
        key = (method.upper(), path)
        integers = self.integers.get(key, set())
        for name, values in parse_qs(query, keep_blank_values=True).items():
            if name in integers and any(not _INTEGER.fullmatch(v) for v in values):
                return True
        validator = self.bodies.get(key)
        if validator is None:
            return False
        if not body:
            return not validator.is_valid({})  # no body: no status on a create
        try:
            decoded = json.loads(body)
        except ValueError:
            return False  # not JSON: what it gets is unspecified (protocol/unsupported-format)
        # A number where a string is typed, "" for an enum, "5" as send_in: a server may read
        # those (the model's loose values), so only the rest must be refused.
        return not validator.is_valid(without_loose_values(decoded))


_REFUSALS: list[_Refusals] = []


def _breaks_documented_schema(response: Any, case: Any) -> bool:
    """True when the request ``case`` sent (as the server got it, after the run bent it)
    breaks a documented type, enum or required field: only then must it be refused."""
    if not _REFUSALS:
        _REFUSALS.append(_Refusals())
    request = response.request
    query = urlsplit(str(request.url)).query
    return _REFUSALS[0].broken(case.method, case.operation.path, query, request.body)


# -- the run's limits: what it may touch, whom it may address ---------------------------------

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


_RUNS: list[_Run] = []


def _run_for(case: Any) -> _Run | None:
    for run in _RUNS:
        if run.owns(case):
            return run
    return None


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    """schemathesis dispatches this hook globally: the run that owns ``case`` bends it."""
    run = _run_for(case)
    if run is not None:
        run.prepare(case)


@contextmanager
def _guarded_sends(run: _Run, base_path: str) -> Iterator[None]:
    """Within the block every ``requests`` send (schemathesis's cases, its checks' control
    requests and probes, redirects) passes the guard first, and every answer is observed."""
    send = requests.Session.send

    def guarded_send(session: requests.Session, request: Any, **kwargs: Any) -> Any:
        method = str(request.method or "GET").upper()
        path = _relative_path(str(request.url), base_path)
        run.check(method, path, _request_body(request))
        response = send(session, request, **kwargs)
        if method in ("POST", "GET") and path.startswith(SMS) and response.status_code < 300:
            run.observe(method, path, response.status_code, _answer_body(response))
        return response

    with mock.patch.object(requests.Session, "send", guarded_send):
        yield


def _relative_path(url: str, base_path: str) -> str:
    """The API path of ``url`` (no query) with dot segments resolved (``%2e`` too) and the
    base path removed: the path a server would route."""
    parts = urlsplit(url)
    path = re.sub(r"%2[eE]", ".", parts.path)
    resolved = posixpath.normpath(path) if path else "/"
    if path.endswith("/") and not resolved.endswith("/"):
        resolved += "/"
    if base_path and resolved.startswith(base_path + "/"):
        resolved = resolved[len(base_path) :]
    return resolved.lstrip("/")


def _request_body(request: Any) -> Any:
    """The body of a prepared request as the server would read it: JSON, or a form."""
    body = request.body
    if not body:
        return None
    text = body.decode(errors="replace") if isinstance(body, bytes) else str(body)
    try:
        return json.loads(text)
    except ValueError:
        pass
    form = parse_qs(text)
    return {name: values[-1] for name, values in form.items()} if form else None


def _answer_body(response: Any) -> Any:
    try:
        return json.loads(response.content)
    except (ValueError, TypeError):
        return None


# -- embedded transport --------------------------------------------------------------------


class _PacedApp:
    """Wrap the embedded ASGI app: a 429 advances the target's (virtual) clock by the
    advertised wait and the request is replayed, as :class:`~conformance.client.ApiClient`
    does, so the embedded rate limit never reaches schemathesis as a verdict."""

    def __init__(self, app: Any, clock: Any, *, max_waits: int = 5) -> None:
        self.app = app
        self.clock = clock
        self.max_waits = max_waits

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        for attempt in range(self.max_waits + 1):
            messages: list[dict] = []
            sent = False

            async def replay() -> dict:
                nonlocal sent
                if sent:
                    await asyncio.sleep(0)
                    return {"type": "http.disconnect"}
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}

            async def collect(message: dict, _into: list[dict] = messages) -> None:
                _into.append(message)

            await self.app(scope, replay, collect)
            start = messages[0] if messages else {}
            headers = {
                k.decode("latin-1").lower(): v.decode("latin-1")
                for k, v in start.get("headers", [])
            }
            if start.get("status") == 429 and attempt < self.max_waits:
                self.clock.sleep(_wait_seconds(headers))
                continue
            parsed = parse_ratelimit(headers.get("ratelimit"))
            if parsed is not None and parsed["remaining"] <= 0:
                self.clock.sleep(min(max(parsed["reset"], 0.0), 60.0))
            for message in messages:
                await send(message)
            return


def _wait_seconds(headers: dict[str, str]) -> float:
    value = headers.get("retry-after")
    if value is not None:
        try:
            return min(max(float(value), 0.0), 60.0)
        except ValueError:
            pass
    parsed = parse_ratelimit(headers.get("ratelimit"))
    return min(parsed["reset"], 60.0) if parsed else 1.0


# -- generation help ---------------------------------------------------------------------------


def _anchor_body(target: Target) -> Callable[[Any, Any], Any]:
    """A ``flatmap_body`` hook: sometimes swap generated ids and phone numbers (strings) for
    the target's fixtures, so creates can succeed and stateful chains get going. A string
    stays a string, so a negative body stays negative."""
    fixtures = target.fixtures

    def flatmap_body(context: Any, body: Any) -> Any:
        operation = context.operation
        if (
            fixtures is None
            or operation is None
            or operation.path not in SMS_PATHS
            or operation.method.upper() not in ("POST", "PUT")
            or not isinstance(body, dict)
        ):
            return st.just(body)
        anchored = dict(body)
        lead_id, contact_id = fixtures.leads[0]
        swaps = {
            "local_phone": fixtures.internal_phones[0],
            "remote_phone": fixtures.remote_phones[0],
            "lead_id": lead_id,
            "contact_id": contact_id,
            "template_id": fixtures.template_id,
            "user_id": fixtures.user_id,
            "created_by_id": fixtures.user_id,
            "organization_id": fixtures.organization_id,
        }
        for name, value in swaps.items():
            if isinstance(anchored.get(name), str) and value is not None:
                anchored[name] = value
        if operation.method.upper() == "POST" and "local_phone" not in anchored:
            anchored["local_phone"] = fixtures.internal_phones[0]
        return st.sampled_from([anchored, body])

    return flatmap_body


# -- the phase -----------------------------------------------------------------------------


def run_schema_phase(
    target: Target,
    *,
    seed: int,
    max_examples: int,
    phases: tuple[str, ...] = PHASES,
    settle: float = 0.0,
) -> SchemaPhaseResult:
    """Run schemathesis against ``target`` and judge what it saw by catalogue rules.

    ``target`` should be discovered (fixtures help creates succeed). The embedded server is
    driven in-process through its ASGI app, a remote one over HTTP at its base URL. With a
    ``settle`` window (a target whose reads may lag behind its writes), schemathesis's
    ``use_after_free`` (a GET right after a DELETE) is not judged: the state machine judges
    that rule with re-reads."""
    unknown = set(phases) - set(PHASES)
    if unknown:
        raise ValueError(f"unknown phases {sorted(unknown)}; known: {', '.join(PHASES)}")
    base_url = str(target.api.http.base_url).rstrip("/")
    config = schemathesis.Config()
    config.update(seed=seed, max_failures=None)
    project = config.projects.override
    project.update(
        base_url=base_url,
        headers=_auth_headers(target),
        basic_auth=_basic_auth(target),
        workers=1,
        continue_on_failure=True,
        request_timeout=30.0,
    )
    project.phases.update(phases=list(phases))
    project.phases.coverage.unexpected_methods = set(UNEXPECTED_METHODS)
    judged = [name for name in _SKIPS if not (settle > 0 and name == "use_after_free")]
    project.checks.update(included_check_names=[PREFIX + name for name in judged])
    project.generation.update(
        modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE],
        max_examples=max_examples,
        database="none",
    )
    schema: Any = schemathesis.openapi.from_dict(load_openapi(), config=config)
    schema = schema.include(name=list(TESTED_OPERATIONS))
    if target.embedded and target.server is not None:
        schema.app = _PacedApp(target.server.app, target.clock)  # type: ignore[attr-defined]
    schema.hooks.register_hook_with_name(_anchor_body(target), "flatmap_body")
    allow_send = target.sends_nowhere or target.allow_send
    run = _Run(schema, target, _guard_of(target), allow_send=allow_send)
    if run.strict:
        # On leads the user named, lists start after what was there before the run.
        run.given_bound = given_leads_bound(target, run.guard.owned(SMS))
    _RUNS.append(run)
    result = SchemaPhaseResult()
    try:
        # schemathesis seeds the Basic-auth username into its pool of ids; for Close that
        # username IS the API key, which would then travel in paths and bodies (and land in
        # the target's logs and data). Never let it.
        # Hypothesis's local constants pinned as for the state machine: a seed gives one
        # schema phase, whatever modules are loaded (a test suite, an editable install).
        with (
            pinned_local_constants(frozen_pool()),
            no_basic_auth_seeding(),
            bounded_sessions(target.api.max_body_bytes) as bounds,
            _guarded_sends(run, urlsplit(base_url).path.rstrip("/")),
        ):
            _collect(from_schema(schema).execute(), result, base_url, target.api)
    finally:
        _RUNS.remove(run)
        result.created = list(dict.fromkeys(run.created))
        target.delete_sms(result.created)
    if run.spent is not None:
        raise run.spent
    if bounds.hits:
        # schemathesis judged what was cut at the bound: nothing it said can stand.
        more = f" (and {len(bounds.hits) - 1} more)" if len(bounds.hits) > 1 else ""
        raise AnswerTooLarge(
            f"the schema phase's answer to {bounds.hits[0]}{more}; a cut answer cannot be "
            "judged, so the phase is inconclusive past the body bound"
        )
    result.errors.extend(f"not owned, so never modified: create answered {d}" for d in run.disowned)
    result.errors.extend(f"withheld from a live target: {w}" for w in dict.fromkeys(run.withheld))
    if run.refusals:
        raise Refused(
            f"the schema phase refused {len(run.refusals)} request(s) that could have touched "
            f"what the run did not create; the first: {run.refusals[0]}"
        )
    return result


def _guard_of(target: Target) -> Guard:
    """The target's own guard (one per run); a client without one gets one now."""
    if target.api.guard is None:
        recipients = None if target.sends_nowhere else target.recipients
        target.api.guard = Guard(
            recipients=recipients,
            live=not target.data_is_private,
            may_send=target.allow_send or target.sends_nowhere,
        )
    return target.api.guard


def _basic_auth(target: Target) -> tuple[str, str] | None:
    key = target.api.credentials.api_key
    return (key, "") if key else None


def _auth_headers(target: Target) -> dict[str, str] | None:
    """Bearer only when there is no API key (schemathesis sends basic auth itself)."""
    if target.api.credentials.api_key:
        return None
    return target.api.credentials.headers_for("basic")


def _collect(stream: Any, result: SchemaPhaseResult, base_url: str, api: ApiClient) -> None:
    seen_failures: set[tuple[str, str]] = set()
    # Held, not just their id()s: a freed interaction's id can be reused by a later one.
    seen_requests: dict[int, Any] = {}
    base_path = urlsplit(base_url).path.rstrip("/")
    for event in stream:
        # schemathesis turns Ctrl-C into an event and carries on to its end; the run stops.
        if api.interrupted or isinstance(event, events.Interrupted):
            raise Interrupted()
        if isinstance(event, events.NonFatalError):
            result.errors.append(f"{event.label}: {event.info.title}: {event.info.message}")
        elif isinstance(event, events.FatalError):
            result.errors.append(f"fatal: {event.exception!r}")
        if not isinstance(event, events.ScenarioFinished):
            continue
        recorder = event.recorder
        for interaction in recorder.interactions.values():
            if id(interaction) not in seen_requests:
                seen_requests[id(interaction)] = interaction
                result.requests += 1
        for case_id, nodes in recorder.checks.items():
            node_case = recorder.cases.get(case_id)
            case = node_case.value if node_case is not None else None
            for node in nodes:
                name = node.name.removeprefix(PREFIX)
                if name not in CHECK_RULES or node.status == Status.SKIP:
                    continue
                failure = node.failure_info.failure if node.failure_info else None
                response = recorder.find_response(case_id=case_id)
                rule = _rule_for(name, case, response, failure)
                ok = node.status == Status.SUCCESS
                if ok:
                    result.findings.append(Finding(rule, True, message=f"schemathesis {name}"))
                    continue
                if failure is None:
                    continue
                message = f"{failure.title}: {failure.message}".strip()
                result.findings.append(
                    Finding(rule, False, expected=_expected(rule), actual=message[:500],
                            message=f"schemathesis {name}")
                )  # fmt: skip
                key = (rule, failure.title + (case.operation.label if case else ""))
                if key in seen_failures:
                    continue
                seen_failures.add(key)
                steps = tuple(_steps(recorder, case_id, base_path))
                result.failures.append(
                    Failure(
                        rule=rule,
                        message=f"{failure.title} ({case.operation.label if case else name})",
                        expected=_expected(rule),
                        actual=_redact(failure.message)[:1000],
                        steps=steps,
                        length=len(steps),
                    )
                )


def _rule_for(name: str, case: Any, response: Any, failure: Any) -> str:
    """The rule a failed (or passed) check is filed under: by check, then by what it saw."""
    code = response.status_code if response is not None else None
    method = case.method.upper() if case is not None else ""
    if name == "response_schema_conformance":
        if type(failure).__name__ in CONTENT_TYPE_FAILURES:
            # no JSON body at all where the document gives one: a content-type matter
            return "protocol/json-content-type"
        if code == 400:
            return "protocol/error-body"
        if code == 401:
            return "auth/error-body"
        if method == "DELETE":
            return "sms/delete/answers-200-empty"
    if name == "ensure_resource_availability" and method == "DELETE":
        return "sms/delete/answers-200-empty"
    if name == "ignored_auth" and failure is not None:
        scenario = str(getattr(failure, "scenario", "")).lower()
        if "invalid" in scenario or "generated" in scenario:
            return "auth/wrong-rejected"
    return CHECK_RULES[name]


#: schemathesis failures of response_schema_conformance that say the body is not JSON.
CONTENT_TYPE_FAILURES = frozenset(
    {"MissingContentType", "UndefinedContentType", "MalformedMediaType", "MalformedJson"}
)


def _expected(rule: str) -> str:
    from conformance.catalogue import CATALOGUE

    return CATALOGUE[rule].statement


def _steps(recorder: Any, case_id: str, base_path: str) -> Iterator[Exchange]:
    chain = [case_id]
    parent = recorder.cases.get(case_id)
    while parent is not None and parent.parent_id is not None:
        chain.append(parent.parent_id)
        parent = recorder.cases.get(parent.parent_id)
    for step_id in reversed(chain):
        interaction = recorder.interactions.get(step_id)
        if interaction is not None:
            yield _exchange(interaction, base_path)


def _exchange(interaction: Any, base_path: str) -> Exchange:
    request = interaction.request
    parts = urlsplit(request.uri)
    path = parts.path
    if base_path and path.startswith(base_path):
        path = path[len(base_path) :]
    if parts.query:
        path += "?" + parts.query
    headers = {k.lower(): v for k, v in _flatten(request.headers).items()}
    body: Any = None
    if request.body:
        body = decode_body(request.body)
    response = interaction.response
    recorded_response = None
    if response is not None:
        recorded_response = RecordedResponse(
            status_code=response.status_code,
            headers={
                k.lower(): v
                for k, v in _flatten(response.headers).items()
                if k.lower() != "set-cookie"
            },
            body=decode_body(response.content or b""),
        )
    return Exchange(
        RecordedRequest(
            method=request.method,
            path=path,
            headers={k: v for k, v in headers.items() if k in RECORDED_HEADERS},
            body=body,
            auth=_auth_kind(headers.get("authorization")),
        ),
        recorded_response,
        elapsed=getattr(response, "elapsed", 0.0) if response is not None else 0.0,
    )


def _auth_kind(value: str | None) -> str:
    if not value:
        return "none"
    return "bearer" if value.lower().startswith("bearer") else "basic"


def _flatten(headers: Any) -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in dict(headers or {}).items():
        flat[key] = ", ".join(value) if isinstance(value, list) else str(value)
    return flat


def _redact(text: str) -> str:
    """Drop Authorization header values from schemathesis's messages (curl samples)."""
    lines = []
    for line in text.splitlines():
        lowered = line.lower()
        if "authorization" in lowered or "basic " in lowered or "bearer " in lowered:
            lines.append("[a line naming a credential was removed]")
        else:
            lines.append(line)
    return "\n".join(lines)
