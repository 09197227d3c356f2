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

Safety: against a remote target without ``allow_send`` every create or update whose status
is ``outbox`` or ``scheduled`` is turned into a ``draft`` before it is sent; every SMS the
phase created is deleted at the end.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from unittest import mock
from urllib.parse import urlsplit

import schemathesis
from hypothesis import strategies as st
from schemathesis.engine import Status, events, from_schema
from schemathesis.specs.openapi import checks as openapi_checks

from conformance.bounded_requests import bounded_sessions
from conformance.checks import Finding
from conformance.client import ApiClient, Interrupted, decode_body, parse_ratelimit
from conformance.openapi import SMS_PATHS, load_openapi
from conformance.records import Exchange, Failure, RecordedRequest, RecordedResponse

if TYPE_CHECKING:
    from conformance.target import Target

__all__ = ["CHECK_RULES", "PHASES", "SchemaPhaseResult", "run_schema_phase"]

PHASES = ("examples", "coverage", "fuzzing", "stateful")
PREFIX = "sms_conformance_"
SMS_CREATE = ("POST", "/activity/sms/")
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


_SKIPS: dict[str, Callable[[Any, Any], bool]] = {
    # 5xx answers are judged by protocol/no-5xx alone
    "content_type_conformance": lambda response, case: _is_5xx(response),
    "status_code_conformance": lambda response, case: _is_5xx(response) or not _is_sms(case),
    "response_schema_conformance": lambda response, case: (
        _is_5xx(response) or not _is_sms(case) or _uses_fields(case)
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
            if _skip(response, case):
                return True  # skipped
            return _builtin(ctx, response, case)

        wrapped.__name__ = PREFIX + name
        wrapped.__qualname__ = wrapped.__name__
        schemathesis.check(wrapped)


_register_checks()


# -- global hooks (schemathesis dispatches before_call/after_call globally) ------------------


class _Guard:
    """Per-run state the global hooks consult: safety mapping and created ids."""

    def __init__(self, schema: Any, *, allow_send: bool) -> None:
        self.schema = schema
        self.allow_send = allow_send
        self.created: list[str] = []
        self.lock = threading.Lock()

    def owns(self, case: Any) -> bool:
        return case.operation.schema is self.schema


_GUARDS: list[_Guard] = []


def _guard_for(case: Any) -> _Guard | None:
    for guard in _GUARDS:
        if guard.owns(case):
            return guard
    return None


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    guard = _guard_for(case)
    if guard is None or guard.allow_send:
        return
    if case.operation.path in SMS_PATHS and case.method.upper() in ("POST", "PUT"):
        body = case.body
        if isinstance(body, dict) and body.get("status") in SENDING_STATUSES:
            body["status"] = "draft"


@schemathesis.hook
def after_call(context: Any, case: Any, response: Any) -> None:
    guard = _guard_for(case)
    if guard is None:
        return
    if (
        case.method.upper(),
        case.operation.path,
    ) == SMS_CREATE and 200 <= response.status_code < 300:
        try:
            body = json.loads(response.content)
        except ValueError:
            return
        if isinstance(body, dict) and isinstance(body.get("id"), str):
            with guard.lock:
                guard.created.append(body["id"])


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
            "remote_phone": "+15555550100",
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
) -> SchemaPhaseResult:
    """Run schemathesis against ``target`` and judge what it saw by catalogue rules.

    ``target`` should be discovered (fixtures help creates succeed). The embedded server is
    driven in-process through its ASGI app, a remote one over HTTP at its base URL."""
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
    project.checks.update(included_check_names=[PREFIX + name for name in _SKIPS])
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
    guard = _Guard(schema, allow_send=target.embedded or target.allow_send)
    _GUARDS.append(guard)
    result = SchemaPhaseResult()
    try:
        # schemathesis seeds the Basic-auth username into its pool of ids; for Close that
        # username IS the API key, which would then travel in paths and bodies (and land in
        # the target's logs and data). Never let it.
        with (
            mock.patch(
                "schemathesis.specs.openapi.analysis.seed_pool_from_basic_auth", _seed_nothing
            ),
            bounded_sessions(target.api.max_body_bytes),
        ):
            _collect(from_schema(schema).execute(), result, base_url, target.api)
    finally:
        _GUARDS.remove(guard)
        result.created = list(dict.fromkeys(guard.created))
        target.delete_sms(result.created)
    return result


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
