"""Schemathesis's verdicts, mapped to catalogue rules (see :mod:`conformance.schema_phase`).

The schema phase runs schemathesis's own checks against the project's OpenAPI document;
each outcome arrives as a finding already named by its rule, and the engine records it
directly (:func:`conformance.judging.declared` refuses one on a rule not listed here).
Registering them keeps the catalogue's books straight: these are the rules schemathesis
can judge. The check runs on no operation of the state machine.
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


@check(*SCHEMA_RULES, on=())
def schemathesis_verdicts(step: Step) -> Iterator[Finding]:
    """Judged by the schema phase itself; never run on a step."""
    yield from ()
