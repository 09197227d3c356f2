"""One judging path: run the checks on a step, give a read that breaks a rule its settle
window, count every finding in the run's :class:`Tally`. The state machine, the timing
ledger, the probes and the schema phase all judge through :func:`judge`.

Pure: the re-read and the wait between re-reads are the caller's callables (the client and
the clock live at the edges).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field, replace

import conformance.rules  # noqa: F401 - registers every check: judging runs them
from conformance.catalogue import CATALOGUE, Level
from conformance.checks import (
    CheckDefinitionError,
    Finding,
    Step,
    check_boundary,
    checks_for,
    is_violation,
)
from conformance.http_semantics import TRANSIENT_STATUSES
from conformance.records import Exchange

__all__ = [
    "MAX_OBSERVATIONS",
    "Judged",
    "Tally",
    "declared",
    "findings_of",
    "is_noise",
    "judge",
]

MAX_OBSERVATIONS = 5  # notes kept per unspecified rule


@dataclass
class Tally:
    """Per-rule counts over a whole run, and observations on undocumented behaviour."""

    passed: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    observations: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    readings: Counter[str] = field(default_factory=Counter)  # "POINT=ALTERNATIVE" -> times
    # rule -> boundary (one the catalogue lists for the rule) -> times a finding reached it
    boundaries: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    steps: int = 0
    examples: int = 0

    def checked(self, rule_id: str) -> int:
        """How many findings judged ``rule_id`` (passed, failed or observed)."""
        return self.passed[rule_id] + self.failed[rule_id]

    def reached(self, rule_id: str) -> dict[str, int]:
        """Every boundary the catalogue lists for ``rule_id``, in its order, with how many
        findings reached it (0: never)."""
        counts = self.boundaries.get(rule_id, Counter())
        return {name: counts[name] for name in CATALOGUE[rule_id].boundaries}

    def record(self, finding: Finding) -> None:
        if finding.reading is not None:
            self.readings[finding.reading] += 1
        if finding.boundary is not None:
            self.boundaries[finding.rule][finding.boundary] += 1
        undocumented = CATALOGUE[finding.rule].level is Level.UNSPECIFIED
        if finding.ok and not undocumented:
            self.passed[finding.rule] += 1
            return
        self.failed[finding.rule] += 1
        if undocumented:
            notes = self.observations[finding.rule]
            note = " ".join(filter(None, (finding.message, f"-> {finding.actual}")))
            if len(notes) < MAX_OBSERVATIONS and note not in notes:
                notes.append(note)

    def record_all(self, findings: Iterable[Finding]) -> None:
        for finding in findings:
            self.record(finding)


@dataclass(frozen=True, slots=True)
class Judged:
    """What judging a step gave: the step judged (a re-read one, when it was re-read), all
    its findings, and the first violation of a rule not muted (``None``: none)."""

    step: Step
    findings: list[Finding]
    violation: Finding | None

    def violations(self) -> list[Finding]:
        """Every violation among the findings, one per rule, in order."""
        seen: dict[str, Finding] = {}
        for finding in self.findings:
            if is_violation(finding):
                seen.setdefault(finding.rule, finding)
        return list(seen.values())


def findings_of(step: Step) -> list[Finding]:
    """Every finding of the checks registered for the step's operation."""
    return [f for registered in checks_for(step.operation) for f in registered.run(step)]


def declared(findings: Iterable[Finding], rules: Collection[str], by: str) -> list[Finding]:
    """``findings`` made outside the checks (by ``by``), each on one of ``rules``; raises
    :class:`~conformance.checks.CheckDefinitionError` naming any other rule."""
    findings = list(findings)
    stray = sorted({f.rule for f in findings} - set(rules))
    if stray:
        raise CheckDefinitionError(f"{by} reported rule(s) it does not declare: {stray}")
    for finding in findings:
        if finding.boundary is not None:
            check_boundary(by, finding)
    return findings


def is_noise(exchange: Exchange) -> bool:
    """An answer that is not the API's: none at all, a 429 left after the waits, or a
    502/503/504 from whatever stands in front of the API."""
    response = exchange.response
    return (
        response is None
        or exchange.error is not None
        or response.status_code == 429
        or response.status_code in TRANSIENT_STATUSES
    )


def judge(
    step: Step,
    tally: Tally,
    *,
    muted: Collection[str] = (),
    reread: Callable[[], Step] | None = None,
    wait: Callable[[float], None] | None = None,
    settle: float = 0.0,
) -> Judged:
    """Run every check on ``step`` and count its findings in ``tally``.

    A step that met noise (no answer, a 429 left after the waits, a 502/503/504) is not
    judged, except the throttling itself (operation ``throttled``, the rate-limit rules):
    what a gateway or a rate limiter said is not the API's answer.

    A read (``reread`` given) that breaks a rule not in ``muted`` is read again, after
    ``wait``s that double from one second, while ``settle`` seconds last: a target whose
    reads lag behind its writes gets that long before it is failed. Once a re-read holds,
    the checks of the ``settled`` operation see it (how long it took is observed)."""
    if step.operation != "throttled" and any(map(is_noise, step.exchanges)):
        return Judged(step, [], None)
    findings, violation = _run(step, muted)
    waited, pause = 0.0, 1.0
    while violation is not None and reread is not None and waited < settle:
        pause = min(pause, settle - waited)
        if wait is not None:
            wait(pause)
        waited, pause = waited + pause, pause * 2
        step = reread()
        if any(map(is_noise, step.exchanges)):
            return Judged(step, [], None)
        findings, violation = _run(step, muted)
        if violation is None:
            settled = replace(step, operation="settled", params={"waited": f"{waited:g}"})
            findings += _run(settled, muted)[0]
    tally.record_all(findings)
    return Judged(step, findings, violation)


def _run(step: Step, muted: Collection[str]) -> tuple[list[Finding], Finding | None]:
    findings = findings_of(step)
    violation = next((f for f in findings if is_violation(f) and f.rule not in muted), None)
    return findings, violation
