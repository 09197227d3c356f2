"""HTTP conventions every SMS response follows (2.6 HTTP response codes and error bodies)."""

from __future__ import annotations

from collections.abc import Iterator

from conformance.checks import Finding, Step, check
from conformance.http_semantics import TRANSIENT_STATUSES
from conformance.model import without_loose_values
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
        if response.body is None and step.operation == "delete":
            # "Empty response body" (1.6 Delete): an answer with no body has no media type
            # to judge; whether {} or nothing came is sms/delete/answers-200-empty's to say.
            continue
        content_type = response.headers.get("content-type", "")
        if response.status_code == 404:
            json_body = _media_type(content_type) == "application/json"
            yield Finding(
                "protocol/json-content-type",
                True,
                message=f"404 with content-type {content_type or '(none)'}",
                reading=f"not-found-body={'json-error' if json_body else 'html'}",
            )
            continue
        if response.status_code in BODY_LEFT_OPEN:
            continue
        yield Finding(
            "protocol/json-content-type",
            _media_type(content_type) == "application/json",
            expected="content-type: application/json",
            actual=f"content-type: {content_type or '(none)'}",
        )


def _media_type(content_type: str) -> str:
    return content_type.split(";")[0].strip().lower()


# Refusals of a well-formed request by a documented rule (not a malformed value): which body
# they get is the open point error-body-shape. Malformed values get the validation shape in
# either reading, so only these show which one the server took.
REFUSAL_RULES = frozenset(
    {
        "sms/update/drafts-only",
        "sms/update/cancel-refused-after-send",
        "sms/create/scheduled-requires-date-scheduled",
        "sms/update/scheduled-requires-date-scheduled",
        "sms/create/local-phone-internal",
        "sms/create/local-phone-required",
        "sms/create/send-in-below-60",
        "sms/create/template-unknown-rejected",
    }
)


def _shape_reading(step: Step, body: object) -> str | None:
    """The reading of error-body-shape a well-formed 400 shows: a message body shows
    ``error-message`` wherever it comes; the validation shape shows ``field-errors`` only on
    a refusal by a documented rule."""
    if not isinstance(body, dict):
        return None
    validation = isinstance(body.get("errors"), list) or isinstance(body.get("field-errors"), dict)
    if not validation:
        return "error-body-shape=error-message"
    rule = step.expectation.rule if step.expectation else None
    over_limit = step.operation == "list" and int(step.params.get("_limit", "0") or 0) > 100
    request = step.request_body if isinstance(step.request_body, dict) else {}
    if without_loose_values(request) != request:
        return None  # a value a server may read as malformed (template_id 12345): no refusal
    if rule is not None and rule.endswith("scheduled-requires-date-scheduled"):
        # a malformed date_scheduled is a malformed value; only a missing one is a refusal
        rule = rule if request.get("date_scheduled") is None else None
    if rule in REFUSAL_RULES or over_limit:
        return "error-body-shape=field-errors"
    return None


@check(
    "protocol/error-body",
    "protocol/field-error-names-field",
    on=("create", "update", "list"),
)
def validation_errors_have_the_documented_body(step: Step) -> Iterator[Finding]:
    """A 400 carries one of the documented bodies: the validation shape the official client
    parses (``errors``/``field-errors``) or an error message (``ErrorMessage``, "400 with a
    message"); which one a refusal by a business rule gets is open (``error-body-shape``).
    Field naming is judged only where the body names fields in ``field-errors``."""
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
        reading=_shape_reading(step, body) if well_formed else None,
    )
    field = step.expectation.field if step.expectation else None
    field_errors = body.get("field-errors") if isinstance(body, dict) else None
    # An empty field-errors object names no field at all: the message is in errors, a
    # shape Close itself gives business-rule refusals (audit P2); only a body that names
    # fields is judged on naming the right one.
    if well_formed and field and isinstance(field_errors, dict) and field_errors:
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
