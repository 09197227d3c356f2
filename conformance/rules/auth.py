"""Authentication (2.1 API key, 2.2 OAuth): who gets in, who gets 401."""

from __future__ import annotations

from collections.abc import Iterator

from conformance.checks import Finding, Step, check
from conformance.rules._util import shown, status_text


@check("auth/missing-rejected", "auth/wrong-rejected", on=("auth-none", "auth-wrong"))
def requests_without_valid_credentials_get_401(step: Step) -> Iterator[Finding]:
    rule = "auth/missing-rejected" if step.operation == "auth-none" else "auth/wrong-rejected"
    yield Finding(rule, step.status_code == 401, "HTTP 401", status_text(step.status_code))


@check("auth/error-body", on=("auth-none", "auth-wrong"))
def unauthorized_body_carries_an_error(step: Step) -> Iterator[Finding]:
    if step.status_code != 401:
        return
    body = step.body
    yield Finding(
        "auth/error-body",
        isinstance(body, dict) and isinstance(body.get("error"), str),
        expected='{"error": "<message>"}',
        actual=shown(body),
    )


@check("auth/api-key-basic", "auth/oauth-bearer")
def valid_credentials_are_accepted(step: Step) -> Iterator[Finding]:
    """Valid credentials never get 401 ("needs authentication", 2.6). A 403 is not a refusal
    of the credentials: 2.6 documents it as "operation not allowed", an answer a server may
    give to an operation the docs refuse (editing a sent SMS, audit U8); whether the
    operation was owed is the deciding rule's to judge."""
    for exchange in step.exchanges:
        auth = exchange.request.auth
        if auth not in ("basic", "bearer") or exchange.response is None:
            continue
        rule = "auth/api-key-basic" if auth == "basic" else "auth/oauth-bearer"
        code = exchange.response.status_code
        yield Finding(rule, code != 401, "not 401", status_text(code))
