"""What a CI gate needs of the engine: rules excluded, known deviations that do not fail
the run, a time budget on any target, and progress while it runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from conformance.engine import run_target
from conformance.profiles import Profile
from conformance.target import embedded_target

# No schema phase, few examples: a broken create shows on the first example.
SMALL = Profile("small", 10, 10, 3)
BROKEN_RULE = "sms/create/answers-200"  # every create breaks it under create-answers-201


class TickingClock:
    """A wall clock that moves ``tick`` seconds each time it is read."""

    def __init__(self, tick: float) -> None:
        self.moment = datetime(2027, 1, 1, tzinfo=UTC)
        self.tick = tick

    def now(self) -> datetime:
        self.moment += timedelta(seconds=self.tick)
        return self.moment

    def sleep(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)


def statuses(report) -> dict[str, str]:
    return {rule.id: rule.status for rule in report.rules}


def test_an_excluded_rule_is_never_judged_and_cannot_fail_the_run():
    target = embedded_target(faults=["create-answers-201"])
    report = run_target(target, profile=SMALL, seed_value=1, exclude=[BROKEN_RULE])
    assert report.verdict == "pass", report.reason
    assert BROKEN_RULE not in {failure.rule for failure in report.failures}
    result = next(rule for rule in report.rules if rule.id == BROKEN_RULE)
    assert (result.status, result.reason) == ("not-run", "excluded by --exclude-rule")


def test_an_excluded_rule_id_the_catalogue_lacks_is_refused():
    with pytest.raises(ValueError, match="sms/create/answer-200"):
        run_target(
            embedded_target(), profile=SMALL, seed_value=1, exclude=["sms/create/answer-200"]
        )


def test_a_known_deviation_is_still_reported_broken_but_does_not_fail_the_run():
    target = embedded_target(faults=["create-answers-201"])
    report = run_target(target, profile=SMALL, seed_value=1, baseline=[BROKEN_RULE])
    assert report.verdict == "pass", report.reason
    assert statuses(report)[BROKEN_RULE] == "fail"
    assert BROKEN_RULE in {failure.rule for failure in report.failures}
    assert "1 known deviation(s) from the baseline still broken" in report.reason


def test_a_violation_beside_the_known_deviations_still_fails_the_run():
    target = embedded_target(faults=["create-answers-201"])
    report = run_target(target, profile=SMALL, seed_value=1, baseline=["sms/list/order"])
    assert report.verdict == "fail"
    assert BROKEN_RULE in report.reason


def test_a_time_budget_on_the_embedded_server_runs_on_the_wall_clock_and_is_inconclusive():
    target = embedded_target(max_seconds=30)
    target.api.budget_clock = TickingClock(tick=1.0)  # one wall second per request or so
    report = run_target(target, profile=SMALL, seed_value=1)
    assert report.verdict == "inconclusive"
    assert "time budget of 30 s (--max-time) is spent" in report.reason
    assert "not reached" in report.reason and "rule(s) not run" in report.reason
    assert report.stats.requests < 40


def test_progress_events_name_the_phase_the_requests_and_the_budget_left(monkeypatch):
    monkeypatch.setattr("conformance.engine.progress.PROGRESS_EVERY", 0.0)
    events = []
    target = embedded_target(max_seconds=10**6)
    run_target(target, profile=SMALL, seed_value=1, on_event=events.append)
    progress = [event.detail for event in events if event.kind == "progress"]
    assert progress, [event.kind for event in events]
    assert any(line.startswith("the state machine: ") for line in progress)
    assert all(" requests, " in line and "s left of the time budget" in line for line in progress)
