"""The schema phase: schemathesis against the target, judged by catalogue rules.

:func:`run_schema_phase` loads the suite's own OpenAPI document
(:mod:`conformance.openapi`), points schemathesis 4.x at the target (the embedded ASGI app
in-process, or the remote base URL over HTTP) with the target's API key, runs the chosen
phases, and turns every check outcome into a :class:`~conformance.checks.Finding` keyed by a
catalogue rule id, and every violation into a :class:`~conformance.records.Failure` whose
steps hold no credential.

Which schemathesis check judges which rule (see :data:`CHECK_RULES`)::

    not_a_server_error            protocol/no-5xx
    content_type_conformance      protocol/json-content-type
    response_schema_conformance   sms/object/schema (2xx), sms/delete/answers-200-empty
                                  (DELETE), protocol/error-body (400), auth/error-body (401)
    status_code_conformance       protocol/documented-status-code (SMS endpoints, non-5xx)
    negative_data_rejection       protocol/invalid-input-rejected (non-5xx answers)
    unsupported_method            protocol/method-not-allowed (SMS endpoints)
    use_after_free                sms/delete/then-get-404
    ensure_resource_availability  roundtrip/create-readback
    ignored_auth                  auth/missing-rejected, auth/wrong-rejected

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

import requests
import schemathesis
from hypothesis import strategies as st
from schemathesis.engine import Status, events, from_schema
from schemathesis.specs.openapi import checks as openapi_checks

from conformance.bounded_requests import bounded_sessions
from conformance.checks import Finding
from conformance.client import (
    TRANSIENT_STATUSES,
    AnswerTooLarge,
    ApiClient,
    Interrupted,
    MalformedAnswer,
    Refused,
    decode_body,
    parse_ratelimit,
)
from conformance.machine import given_leads_bound
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
# The operations the phase exercises: every SMS operation, and only reads of the fixtures
# (creating leads or templates is the target's job, not this phase's).
TESTED_OPERATIONS = (
    "GET /activity/sms/",
    "POST /activity/sms/",
    "GET /activity/sms/{id}/",
    "PUT /activity/sms/{id}/",
    "DELETE /activity/sms/{id}/",
    "GET /me/",
    "GET /phone_number/",
    "GET /lead/",
    "GET /lead/{id}/",
    "GET /sms_template/",
    "GET /sms_template/{id}/",
)

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


# Boolean flags whose parsing the docs do not describe (a server may ignore an odd value).
BOOLEAN_FLAGS = ("send_to_inbox", "include_attachments", "include_embedded")


def _odd_boolean_flag(case: Any) -> bool:
    """True for a case whose query holds a boolean flag that is not a boolean."""
    query = case.query or {}
    return any(
        name in query and not isinstance(query[name], bool) and query[name] not in ("true", "false")
        for name in BOOLEAN_FLAGS
    )


def _is_noise(response: Any) -> bool:
    """A 429 or a 502/503/504: the rate limiter's or a gateway's answer, not the API's."""
    return response.status_code == 429 or response.status_code in TRANSIENT_STATUSES


_SKIPS: dict[str, Callable[[Any, Any], bool]] = {
    # 5xx answers are judged by protocol/no-5xx alone
    "content_type_conformance": lambda response, case: (
        _is_5xx(response) or _empty_delete(response, case)
    ),
    "status_code_conformance": lambda response, case: _is_5xx(response) or not _is_sms(case),
    "response_schema_conformance": lambda response, case: (
        _is_5xx(response)
        or not _is_sms(case)
        or _uses_fields(case)
        or _empty_delete(response, case)
    ),
    "negative_data_rejection": lambda response, case: _is_5xx(response) or _odd_boolean_flag(case),
    "unsupported_method": lambda response, case: not _is_sms(case),
    "not_a_server_error": lambda response, case: False,
    "use_after_free": lambda response, case: False,
    "ensure_resource_availability": lambda response, case: False,
    "ignored_auth": lambda response, case: False,
}


def _register_checks() -> None:
    for name, skip in _SKIPS.items():
        builtin = getattr(openapi_checks, name, None) or getattr(schemathesis.checks, name, None)
        if builtin is None:  # pragma: no cover - a schemathesis without this check
            continue

        def wrapped(
            ctx: Any, response: Any, case: Any, _builtin: Any = builtin, _skip: Any = skip
        ) -> bool | None:
            if _is_noise(response) or _skip(response, case):
                return True  # skipped: noise is never judged
            return _builtin(ctx, response, case)

        wrapped.__name__ = PREFIX + name
        wrapped.__qualname__ = wrapped.__name__
        schemathesis.check(wrapped)


_register_checks()


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
    target but the embedded server, which holds only the run's data and sends nowhere) also
    pins every SMS body's ``lead_id``/``contact_id`` on the run's own leads."""

    def __init__(self, schema: Any, target: Target, guard: Guard, *, allow_send: bool) -> None:
        self.schema = schema
        self.guard = guard
        self.allow_send = allow_send
        self.strict = not target.embedded
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
            if isinstance(anchored.get(name), str):
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
    run = _Run(schema, target, _guard_of(target), allow_send=target.embedded or target.allow_send)
    if run.strict:
        # On leads the user named, lists start after what was there before the run.
        run.given_bound = given_leads_bound(target, run.guard.owned(SMS))
    _RUNS.append(run)
    result = SchemaPhaseResult()
    try:
        # schemathesis seeds the Basic-auth username into its pool of ids; for Close that
        # username IS the API key, which would then travel in paths and bodies (and land in
        # the target's logs and data). Never let it.
        with (
            mock.patch(
                "schemathesis.specs.openapi.analysis.seed_pool_from_basic_auth", _seed_nothing
            ),
            bounded_sessions(target.api.max_body_bytes) as bounds,
            _guarded_sends(run, urlsplit(base_url).path.rstrip("/")),
        ):
            _collect(from_schema(schema).execute(), result, base_url, target.api)
    finally:
        _RUNS.remove(run)
        result.created = list(dict.fromkeys(run.created))
        target.delete_sms(result.created)
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
        live = not target.embedded
        target.api.guard = Guard(recipients=target.recipients if live else None, live=live)
    return target.api.guard


def _seed_nothing(*args: Any, **kwargs: Any) -> None:
    """Stands in for schemathesis's seeding of the Basic username into test data."""


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
    if name == "response_schema_conformance" and response is not None and case is not None:
        code = response.status_code
        if code == 400:
            return "protocol/error-body"
        if code == 401:
            return "auth/error-body"
        if case.method.upper() == "DELETE" and 200 <= code < 300:
            return "sms/delete/answers-200-empty"
    if name == "ignored_auth" and failure is not None:
        scenario = str(getattr(failure, "scenario", "")).lower()
        if "invalid" in scenario or "generated" in scenario:
            return "auth/wrong-rejected"
    return CHECK_RULES[name]


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
