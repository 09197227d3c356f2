"""HTTP conventions every SMS response follows (2.6 HTTP response codes and error bodies)."""

from __future__ import annotations

from collections.abc import Iterator

from conformance.checks import Finding, Step, check
from conformance.client import TRANSIENT_STATUSES
from conformance.rules._util import shown, status_text

SMS_OPERATIONS = ("create", "update", "get", "delete", "list", "list-walk", "method", "format")
# Answers whose body the docs leave open: the 404 body "not confirmed" (open point
# not-found-body), 405 and 415 given by code alone, and the 429 body deprecated in favour of
# the headers. Each is judged by its status code, whatever media type it carries.
BODY_LEFT_OPEN = frozenset({404, 405, 415, 429})


@check("protocol/no-5xx")
def never_answers_with_a_server_error(step: Step) -> Iterator[Finding]:
    for exchange in step.exchanges:
        if exchange.response is None:
            continue
        code = exchange.response.status_code
        if code in TRANSIENT_STATUSES:
            continue  # gateway noise, counted in the stats; never blamed on the API
        yield Finding(
            "protocol/no-5xx",
            code < 500,
            expected="a 2xx or 4xx status",
            actual=status_text(code),
            message=f"{exchange.request.method} {exchange.request.path} answered {code}",
        )


@check("protocol/json-content-type", on=SMS_OPERATIONS)
def answers_with_json(step: Step) -> Iterator[Finding]:
    for exchange in step.exchanges:
        response = exchange.response
        if response is None or response.status_code >= 500 or response.status_code == 204:
            continue
        if response.status_code in BODY_LEFT_OPEN:
            continue
        content_type = response.headers.get("content-type", "")
        yield Finding(
            "protocol/json-content-type",
            content_type.split(";")[0].strip().lower() == "application/json",
            expected="content-type: application/json",
            actual=f"content-type: {content_type or '(none)'}",
        )


@check(
    "protocol/error-body",
    "protocol/field-error-names-field",
    on=("create", "update", "list"),
)
def validation_errors_have_the_documented_body(step: Step) -> Iterator[Finding]:
    """A 400 carries one of the documented bodies: the validation shape the official client
    parses (``errors``/``field-errors``) or an error message (``ErrorMessage``, "400 with a
    message"); which one a refusal by a business rule gets is open (``error-body-shape``).
    Field naming is judged only where the body gives ``field-errors``."""
    if step.status_code != 400:
        return
    body = step.body
    well_formed = isinstance(body, dict) and (
        isinstance(body.get("errors"), list)
        or isinstance(body.get("field-errors"), dict)
        or isinstance(body.get("error"), str)
    )
    yield Finding(
        "protocol/error-body",
        well_formed,
        expected='a JSON object with "errors" (list) and/or "field-errors" (object), '
        'or "error" (string)',
        actual=shown(body),
    )
    field = step.expectation.field if step.expectation else None
    field_errors = body.get("field-errors") if isinstance(body, dict) else None
    if well_formed and field and isinstance(field_errors, dict):
        named = field in field_errors or any(key.split(".")[0] == field for key in field_errors)
        yield Finding(
            "protocol/field-error-names-field",
            named,
            expected=f'"field-errors" naming {field!r}',
            actual=shown(body),
        )


@check("protocol/method-not-allowed", on=("method",))
def unsupported_methods_answer_405(step: Step) -> Iterator[Finding]:
    yield Finding(
        "protocol/method-not-allowed",
        step.status_code == 405,
        expected="HTTP 405",
        actual=status_text(step.status_code),
        message=f"{step.exchange.request.method} {step.exchange.request.path}",
    )


@check("protocol/unsupported-format", on=("format",))
def unsupported_format_is_observed(step: Step) -> Iterator[Finding]:
    yield Finding(
        "protocol/unsupported-format",
        False,
        "HTTP 415 (documented code)",
        status_text(step.status_code),
        message="POST with content-type text/plain",
    )
