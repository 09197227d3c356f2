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

The package, one concern a module: :mod:`.checks` (the wrapped checks and the rule each
outcome is filed under), :mod:`.refusals` (which refusals the docs demand), :mod:`.limits`
(the run's state and the rewriting that keeps it on what it owns), :mod:`.sends` (the hook and
the guarded sends), :mod:`.transport` (the embedded app, paced; bodies anchored on fixtures),
:mod:`.collect` (events to findings and failures); :func:`run_schema_phase` is here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import schemathesis
from schemathesis.engine import from_schema

from conformance.bounded_requests import bounded_sessions
from conformance.client import AnswerTooLarge, Refused
from conformance.compat import (
    no_basic_auth_seeding,
    pinned_app_constants,
    pinned_local_constants,
)
from conformance.constant_pool import frozen_app_pool, frozen_pool
from conformance.machine import given_leads_bound
from conformance.openapi import load_openapi
from conformance.safety import SMS, Guard
from conformance.schema_phase.checks import _SKIPS as _SKIPS
from conformance.schema_phase.checks import CHECK_RULES as CHECK_RULES
from conformance.schema_phase.checks import PREFIX as PREFIX
from conformance.schema_phase.checks import SMS_DATES as SMS_DATES
from conformance.schema_phase.checks import _register_checks as _register_checks
from conformance.schema_phase.checks import _rule_for as _rule_for
from conformance.schema_phase.collect import SchemaPhaseResult as SchemaPhaseResult
from conformance.schema_phase.collect import _collect
from conformance.schema_phase.limits import RefusedRequest as RefusedRequest
from conformance.schema_phase.limits import _Run as _Run
from conformance.schema_phase.refusals import _Refusals as _Refusals
from conformance.schema_phase.sends import _RUNS, _guarded_sends
from conformance.schema_phase.sends import _relative_path as _relative_path
from conformance.schema_phase.transport import _anchor_body, _PacedApp

if TYPE_CHECKING:
    from conformance.target import Target

__all__ = ["CHECK_RULES", "PHASES", "SchemaPhaseResult", "run_schema_phase"]

PHASES = ("examples", "coverage", "fuzzing", "stateful")
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


# -- the phase -----------------------------------------------------------------------------


def run_schema_phase(
    target: Target,
    *,
    seed: int,
    max_examples: int,
    phases: tuple[str, ...] = PHASES,
    settle: float = 0.0,
    workers: int = 1,
) -> SchemaPhaseResult:
    """Run schemathesis against ``target`` and judge what it saw by catalogue rules.

    ``target`` should be discovered (fixtures help creates succeed). The embedded server is
    driven in-process through its ASGI app (over loopback HTTP when the target is served
    so), a remote one over HTTP at its base URL. With a
    ``settle`` window (a target whose reads may lag behind its writes), schemathesis's
    ``use_after_free`` (a GET right after a DELETE) is not judged: the state machine judges
    that rule with re-reads. ``workers`` (``run --workers``) is how many operations
    schemathesis tests at once, each on a thread of its own."""
    unknown = set(phases) - set(PHASES)
    if unknown:
        raise ValueError(f"unknown phases {sorted(unknown)}; known: {', '.join(PHASES)}")
    base_url = str(target.api.http.base_url).rstrip("/")
    config = schemathesis.Config()
    config.update(seed=seed, max_failures=None)
    project = config.projects.override
    project.update(
        base_url=base_url,
        headers=_schema_headers(target),
        basic_auth=_basic_auth(target),
        workers=workers,
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
    loopback = target.loopback
    paced: Any = None
    if target.embedded and target.server is not None:
        paced = _PacedApp(target.server.app, target.clock)  # type: ignore[attr-defined]
        if target.latency:  # run --latency: the schema phase's answers are as slow
            from conformance.refserver.noise import Noise

            paced = Noise(paced, latency=target.latency)
    if loopback is not None and paced is not None:
        # Over real TCP: only schemathesis's requests (marked) are paced, server-side.
        loopback.paced = paced
    elif paced is not None:
        schema.app = paced
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
        # schema phase, whatever modules are loaded (a test suite, an editable install); and
        # schemathesis's constants of the embedded app (its wrapper's module and what that
        # imports) pinned too, whatever the suite's modules hold or are called.
        with (
            pinned_local_constants(frozen_pool()),
            pinned_app_constants(frozen_app_pool()),
            no_basic_auth_seeding(),
            bounded_sessions(target.api.max_body_bytes) as bounds,
            _guarded_sends(run, urlsplit(base_url).path.rstrip("/")),
        ):
            _collect(from_schema(schema).execute(), result, base_url, target.api)
    finally:
        if loopback is not None:
            loopback.paced = None
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


def _schema_headers(target: Target) -> dict[str, str] | None:
    """The headers of every schemathesis request: :func:`_auth_headers`, and over loopback
    HTTP the mark that has the server pace them (:mod:`conformance.loopback`)."""
    headers = _auth_headers(target)
    if target.loopback is None:
        return headers
    from conformance.loopback import PACE_HEADER

    return {**(headers or {}), PACE_HEADER: "1"}


def _auth_headers(target: Target) -> dict[str, str] | None:
    """Bearer only when there is no API key (schemathesis sends basic auth itself)."""
    if target.api.credentials.api_key:
        return None
    return target.api.credentials.headers_for("basic")
