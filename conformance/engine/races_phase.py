"""The races as a phase of a run (``run --races``): concurrent histories on the run's
target after the other phases, a failure recorded under the documented rule it breaks."""

from __future__ import annotations

from conformance.events import Event
from conformance.records import Failure
from conformance.run_state import RunState


def _races(state: RunState) -> None:
    """Concurrent histories on the run's target (``--races``), after the other phases;
    a failure is recorded under the documented rule it breaks, the summary in the reason."""
    from conformance.races.live import races_on_target

    state.on_event(Event("round", "races (concurrent histories)"))
    outcome = races_on_target(state.target, state.seed, state.races, settle=state.settle)
    state.notes.append(outcome.note())
    finding = outcome.finding()
    if finding is None or finding.rule in state.excluded:
        return
    state.tally.record(finding)
    failed = {failure.rule for failure in state.failures}
    if finding.rule in failed:
        return
    failure = outcome.report.failure
    assert failure is not None
    state.failures.append(
        Failure(
            rule=finding.rule,
            message=finding.message + "\n" + failure.describe(),
            expected=finding.expected,
            actual=finding.actual,
            length=failure.shrunk.plan.size,
        )
    )
    state.on_event(Event("violation", f"{finding.rule}: {finding.message}", rule=finding.rule))
