"""What a run saw, turned into a report: each rule's result, the behaviour profile on the
docs' open points, and the verdict with its one-line reason.
"""

from __future__ import annotations

from typing import Any

from conformance.catalogue import CATALOGUE, Level
from conformance.checks import covered_rules, fails_the_run
from conformance.engine.endings import _Ending, _leftover_note
from conformance.records import (
    OpenPointResult,
    RuleResult,
    RuleStatus,
    Verdict,
)
from conformance.run_state import RunState

SENDING_RULES = frozenset(rule.id for rule in CATALOGUE.values() if "send" in rule.needs)


def _judge(
    state: RunState,
    rules: list[RuleResult],
    ending: _Ending,
    leftovers: list[str],
    command: str | None,
) -> tuple[Verdict, str]:
    """The verdict and its one-line reason. Rules found broken are real whatever stopped
    the run (``fail``, with why it stopped); else an early end is ``inconclusive``."""
    leftover_note = _leftover_note(leftovers, command)
    stopped = ending.reason
    if ending.interrupted:
        stopped = "interrupted; " + (leftover_note or "clean-up deleted everything the run created")
        leftover_note = None
    elif stopped is None and state.flaky and not state.failures:
        stopped = state.flaky
    broken = [f.rule for f in state.failures if fails_the_run(f.rule, strict=state.strict)]
    violated = [rule for rule in broken if rule not in state.known]
    known = [rule for rule in broken if rule in state.known]
    warned = [f.rule for f in state.failures if f.rule not in broken]
    verdict: Verdict
    if violated:
        verdict = "fail"
        reason = f"{len(violated)} rule(s) violated: " + ", ".join(violated)
        if stopped:
            reason = f"{reason}; stopped early: {stopped}"
    elif stopped:
        verdict, reason = "inconclusive", stopped
        if ending.spent:
            reason += f"; {sum(r.status == 'not-run' for r in rules)} rule(s) not run"
    else:
        verdict = "pass"
        reason = f"every checked rule held ({sum(r.status == 'pass' for r in rules)} passed)"
    if known:
        reason = (
            f"{reason}; {len(known)} known deviation(s) from the baseline still broken (they "
            "do not fail the run): " + ", ".join(known)
        )
    for note in state.notes:
        reason = f"{reason}; {note}"
    if warned:
        reason = (
            f"{reason}; {len(warned)} SHOULD rule(s) not followed (warnings, --strict fails "
            "them): " + ", ".join(warned)
        )
    for said in (ending.cleanup, leftover_note):
        if said:
            reason = f"{reason}; {said}"
    return verdict, reason


def _rule_results(state: RunState) -> list[RuleResult]:
    failed = {failure.rule for failure in state.failures}
    covered = covered_rules()
    tally = state.tally
    results = []
    for rule in CATALOGUE.values():
        checked = tally.checked(rule.id)
        reason = None
        observations = list(tally.observations.get(rule.id, []))
        status: RuleStatus
        if rule.id in state.excluded:
            status, reason = "not-run", "excluded by --exclude-rule"
        elif rule.id in failed:
            status = "fail" if fails_the_run(rule.id, strict=state.strict) else "warning"
            if rule.id in state.known:
                reason = "a known deviation (--baseline): it does not fail the run"
        elif rule.level is Level.UNSPECIFIED and observations:
            status = "informational"
        elif checked and rule.level is not Level.UNSPECIFIED:
            status = "pass"
        else:
            status = "not-run"
            if rule.untested:
                reason = f"untested: {rule.untested}"
            elif rule.id not in covered:
                reason = "no check judges this rule yet"
            elif rule.id in SENDING_RULES and not state.target.allow_send:
                reason = "needs --allow-send: it would put an SMS into a status that sends it"
            else:
                reason = (
                    getattr(state.target, "lacking", {}).get(
                        rule.id
                    )  # a fixture the target could not give
                    or _known_cause(rule.id, state.target.api)
                    or "the run never produced a request this rule judges"
                )
        results.append(
            RuleResult(
                id=rule.id,
                status=status,
                level=str(rule.level),
                statement=rule.statement,
                quote=rule.quote,
                source=rule.url,
                checked=checked,
                observations=observations,
                reason=reason,
                boundaries=tally.reached(rule.id),
            )
        )
    return results


_JUDGE_A_429 = frozenset({"ratelimit/429-headers", "ratelimit/retry-after-matches-reset"})


def _known_cause(rule_id: str, api: Any) -> str | None:
    """Why a covered rule was not run, when the run knows: a credential not given, a target
    that never throttled it."""
    credentials = getattr(api, "credentials", None)
    needs = CATALOGUE[rule_id].needs
    if "second-api-key" in needs and not getattr(credentials, "second_api_key", None):
        return (
            "needs --second-api-key (CLOSE_SECOND_API_KEY), the API key of a second "
            "organisation: the isolation rules read one organisation's SMS with the other's key"
        )
    if "oauth-token" in needs and not getattr(credentials, "oauth_token", None):
        return "needs --oauth-token (CLOSE_OAUTH_TOKEN): no OAuth bearer token was given"
    if rule_id in _JUDGE_A_429 and not getattr(api, "rate_limited", 0):
        return "the target never throttled the run (no 429 answer), so there was no 429 to judge"
    return None


def _behaviour_profile(state: RunState) -> list[OpenPointResult]:
    """Per open point of the docs, the readings the target was seen to take."""
    results = []
    for point in CATALOGUE.open_points.values():
        seen = {
            name: state.tally.readings[f"{point.id}={name}"]
            for name in point.alternatives
            if state.tally.readings[f"{point.id}={name}"]
        }
        results.append(
            OpenPointResult(
                id=point.id,
                question=point.question,
                quote=point.quote,
                source=point.source.url,
                default=point.default,
                alternatives=dict(point.alternatives),
                readings=seen,
            )
        )
    return results
