"""The schema phase's checks: schemathesis's built-in checks, wrapped to judge only what a
documented sentence backs, and the catalogue rule each outcome is filed under.

Each check in :data:`_SKIPS` is registered (at import) as a wrapped copy named
``sms_conformance_<check>``: noise (a 429, a 502/503/504) and what no rule backs are skipped,
and an SMS answer's dates are judged as the model reads them. :func:`_rule_for` files an
outcome under the rule of its check, refined by what it saw (see the package docstring).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import schemathesis
from schemathesis.core.failures import Failure as CheckFailure

from conformance.client import TRANSIENT_STATUSES
from conformance.compat import builtin_check, responses_to_requests_made_for
from conformance.dates import parse_shown_datetime
from conformance.openapi import SMS_PATHS
from conformance.schema_phase.refusals import _breaks_documented_schema

PREFIX = "sms_conformance_"

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

# -- what the docs back: dates as the model reads them --------------------------------------

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


# -- which rule an outcome is filed under ------------------------------------------------------


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
