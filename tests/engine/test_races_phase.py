"""``run --races``: race histories after the other phases, on the same target, with the same
fixtures and clean-up; what ran is in the reason, a race that breaks a documented rule
fails that rule."""

from __future__ import annotations

from dataclasses import replace

import pytest
from click.testing import CliRunner

from conformance.cli import EXIT_PASS, main
from conformance.engine import run_target
from conformance.profiles import PROFILES
from conformance.races.live import RaceLimits
from conformance.target import embedded_target

# A short main run (no schema phase): the races come after it.
SHORT = replace(PROFILES["quick"], max_examples=3, steps=5, schema_examples=0)


def test_without_races_the_run_runs_none():
    report = run_target(embedded_target(), profile=SHORT, seed_value=1)
    assert "races:" not in (report.reason or "")


def test_the_races_run_after_the_other_phases_and_the_reason_says_what_ran():
    target = embedded_target()
    report = run_target(target, profile=SHORT, seed_value=1, races=RaceLimits(histories=5))
    assert report.verdict == "pass", report.reason
    assert "races: 5 of 5 histories run" in report.reason and "every one explained" in report.reason
    assert report.leftovers == []


def test_a_race_variant_fails_the_rule_its_history_breaks_with_the_timeline():
    target = embedded_target(faults=["race-cancel-sent-anyway"])
    report = run_target(target, profile=SHORT, seed_value=1, races=RaceLimits(histories=30))
    assert report.verdict == "fail", report.reason
    (failure,) = [f for f in report.failures if f.rule == "sms/send/cancelled-never-sent"]
    assert "not linearizable" in failure.message and "branch 0" in failure.message
    rule = next(r for r in report.rules if r.id == failure.rule)
    assert rule.status == "fail"


def test_an_excluded_rule_is_not_failed_by_the_races():
    target = embedded_target(faults=["race-cancel-sent-anyway"])
    report = run_target(
        target,
        profile=SHORT,
        seed_value=1,
        races=RaceLimits(histories=30),
        exclude=["sms/send/cancelled-never-sent"],
    )
    assert all(f.rule != "sms/send/cancelled-never-sent" for f in report.failures)
    assert "not linearizable" in report.reason  # still said


@pytest.mark.slow
def test_run_races_on_the_command_line(tmp_path):
    result = CliRunner().invoke(
        main,
        ["run", "--profile", "quick", "--seed", "1", "--races", "--race-histories", "3",
         "--report-dir", str(tmp_path)],
    )  # fmt: skip
    assert result.exit_code == EXIT_PASS, result.output
    assert "races: 3 of 3 histories run" in result.output
    report = (tmp_path / "report.json").read_text()
    assert "--races" in report and "--race-histories 3" in report  # the rerun command


def test_the_runs_request_budget_spent_during_the_races_ends_it_inconclusive_and_clean():
    alone = run_target(embedded_target(), profile=SHORT, seed_value=1)
    budget = alone.stats.requests + 12  # the same seed sends the same requests first
    target = embedded_target(max_requests=budget)
    report = run_target(target, profile=SHORT, seed_value=1, races=RaceLimits(histories=20))
    assert report.verdict == "inconclusive", report.reason
    assert f"the request budget of {budget} is spent during the races" in report.reason
    assert report.leftovers == []
