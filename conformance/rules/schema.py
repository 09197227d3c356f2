"""Schemathesis's verdicts, mapped to catalogue rules (see :mod:`conformance.schema_phase`).

The schema phase runs schemathesis's own checks against the project's OpenAPI document;
each outcome arrives here as a finding already named by its rule. Registering them keeps
the catalogue's books straight: these are the rules schemathesis can judge.
"""

from __future__ import annotations

from collections.abc import Iterator

from conformance.checks import Finding, Step, check

SCHEMA_RULES = (
    "protocol/no-5xx",
    "protocol/json-content-type",
    "sms/object/schema",
    "sms/delete/answers-200-empty",
    "protocol/error-body",
    "auth/error-body",
    "protocol/documented-status-code",
    "protocol/invalid-input-rejected",
    "protocol/method-not-allowed",
    "sms/delete/then-get-404",
    "roundtrip/create-readback",
    "auth/missing-rejected",
    "auth/wrong-rejected",
)


@check(*SCHEMA_RULES, on=("schema",))
def schemathesis_verdicts(step: Step) -> Iterator[Finding]:
    yield from step.findings
