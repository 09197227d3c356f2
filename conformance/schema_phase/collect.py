"""What the schema phase saw: schemathesis's events turned into findings keyed by catalogue
rules, and violations into failures whose steps hold no credential."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from schemathesis.engine import Status, events

from conformance.checks import Finding
from conformance.client import ApiClient, Interrupted, decode_body
from conformance.records import Exchange, Failure, RecordedRequest, RecordedResponse
from conformance.schema_phase.checks import CHECK_RULES, PREFIX, _rule_for

RECORDED_HEADERS = ("content-type", "x-tz-offset")


@dataclass(slots=True)
class SchemaPhaseResult:
    """What the phase observed: one finding per check outcome, the violations, and the
    number of requests sent (probes included)."""

    findings: list[Finding] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    requests: int = 0
    created: list[str] = field(default_factory=list)  # SMS ids created (and deleted)
    errors: list[str] = field(default_factory=list)  # schemathesis errors, not violations


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
