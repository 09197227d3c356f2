"""run_races: the clean embedded server passes, every race variant is caught and shrunk,
and the report shows the failing history as a timeline."""

from __future__ import annotations

import random

import pytest

from conformance.races.history import Operation
from conformance.races.plans import draw_plan
from conformance.races.record import EmbeddedRaceTarget, embedded_races
from conformance.races.rules import candidates
from conformance.races.run import (
    SelfTestRow,
    embedded_run_races,
    race_self_test,
    replay,
    run_races,
    spec_for,
    timeline,
)
from conformance.races.sms_spec import Answer, get, put
from conformance.refserver.race_faults import RACE_FAULTS
from conformance.refserver.readings import SERVED


def test_the_clean_embedded_server_passes_thirty_histories():
    report = run_races(embedded_races, seed=1, histories=30)
    assert report.verdict == "pass" and report.histories == 30 and report.failure is None
    assert sum(report.shapes.values()) == 30 and len(report.shapes) >= 5
    assert report.describe() == "races: pass (30 histories on seed 1)"


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_the_clean_embedded_server_passes_two_hundred_histories_on_each_seed(seed):
    assert run_races(embedded_races, seed=seed, histories=200).verdict == "pass"


@pytest.mark.slow
@pytest.mark.parametrize("branches", [2, 3])
@pytest.mark.parametrize("fault", sorted(RACE_FAULTS))
def test_every_race_variant_is_caught_within_thirty_histories_on_seed_1(fault, branches):
    report = run_races(lambda: embedded_races([fault]), seed=1, histories=30, branches=branches)
    assert report.verdict == "fail" and report.failure is not None, report.describe()
    failure = report.failure
    assert failure.shrunk.plan.size <= failure.found.plan.size
    assert not failure.result.linearizable
    assert "not linearizable" in report.describe() and "branch 0" in report.describe()


def test_a_sequential_bug_is_caught_at_once_and_shrunk_to_a_plan_that_still_shows_it():
    # draft-edit-refused answers every draft edit 400: the first plan with an edit fails,
    # whatever the threads do, and every smaller plan keeping an edit fails too.
    def factory() -> EmbeddedRaceTarget:
        return embedded_races(["draft-edit-refused"])

    report = run_races(factory, seed=1, histories=30)
    assert report.verdict == "fail" and report.failure is not None
    shrunk = report.failure.shrunk.plan
    assert shrunk.size < report.failure.found.plan.size or report.failure.found.plan.size <= 3
    assert any(op.kind == "edit" for branch in shrunk.branches for op in branch)
    assert len(shrunk.branches) == 2 and all(len(branch) >= 1 for branch in shrunk.branches)
    assert report.failure.replays <= 60
    again, result = replay(factory, shrunk)
    assert not result.linearizable and again.plan == shrunk


def test_shrinking_is_bounded_by_its_re_runs():
    report = run_races(
        lambda: embedded_races(["draft-edit-refused"]), seed=1, histories=30, max_replays=2
    )
    assert report.failure is not None and report.failure.replays <= 2


def test_the_timeline_puts_each_branch_in_its_column_and_shows_lost_answers():
    ops = [
        Operation("prefix", 0.0, 0.001, put("s0", text="a"), Answer(200, "draft", "a")),
        Operation(0, 0.002, 0.004, get("s0"), Answer(200, "draft", "a")),
        Operation(1, 0.003, None, put("s0", text="b"), None),
    ]
    lines = timeline(ops, width=30).splitlines()
    assert "branch 0" in lines[0] and "branch 1" in lines[0]
    assert lines[2].index("get s0") == lines[0].index("branch 0")
    assert lines[3].index("put s0") == lines[0].index("branch 1")
    assert lines[3].rstrip().endswith("-> lost") and lines[3].split()[1] == "lost"


def test_under_eventual_visibility_the_races_hold_the_server_to_the_lagging_spec():
    readings = {"visibility": "eventual"}
    assert spec_for(readings).settle_lag > 0 and spec_for({}).settle_lag == 0
    assert embedded_run_races(1, histories=30, readings=readings).verdict == "pass"


@pytest.mark.slow
@pytest.mark.parametrize(
    "point, alternative",
    [(point, alt) for point, alts in sorted(SERVED.items()) for alt in sorted(alts)],
)
def test_the_clean_embedded_server_passes_under_every_reading(point, alternative):
    report = embedded_run_races(1, histories=50, readings={point: alternative})
    assert report.verdict == "pass", report.describe()


def test_the_clean_server_behind_noise_is_never_flagged_and_its_lost_answers_are_indeterminate():
    # A 504 comes after the request was handled (it happened), a 503 before (it did not):
    # both are lost answers the checker must let go either way.
    rng, indeterminate = random.Random(2), 0
    for n in range(15):
        plan = draw_plan(rng, 3)
        target = embedded_races(transient_share=0.3, latency=0.002, noise_seed=n)
        recorded, result = replay(lambda: target, plan)  # noqa: B023 - called at once
        assert result.linearizable, timeline(recorded.operations)
        indeterminate += sum(op.indeterminate for op in recorded.operations)
    assert indeterminate > 0  # 30% of some hundred SMS requests


@pytest.mark.slow
def test_the_race_self_test_passes_the_clean_server_and_catches_every_variant():
    rows = race_self_test(seed=1, histories=30)
    assert [row.fault for row in rows] == [None, *sorted(RACE_FAULTS)]
    assert all(row.ok for row in rows), rows
    # Each caught variant reports its shrunk history. How small it gets depends on whether the
    # threads meet the race again in the shrinker's re-runs (3 or 4 operations on a quiet
    # machine, more under load: CI once saw more than 4), so its size is measured (README,
    # Races), not pinned; shrinking itself is pinned on a sequential bug above.
    assert all(row.shrunk_size is not None and row.shrunk_size >= 2 for row in rows[1:])
    # Each names a rule its variant is registered as breaking, by the fixed precedence.
    assert all(row.names_its_rule for row in rows[1:]), rows
    assert all(row.rule == row.candidates[0] for row in rows[1:])


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_the_double_send_variant_is_caught_on_each_seed_and_shrunk_to_few_operations(seed):
    report = embedded_run_races(seed, histories=30, faults=["race-double-send"])
    assert report.verdict == "fail" and report.failure is not None, report.describe()
    found = candidates(report.failure.result, spec_for(), report.failure.shrunk.operations)
    assert found and found[0].rule in RACE_FAULTS["race-double-send"].rules
    # Its race is two sends meeting, which the shrinker meets again on each re-run (both
    # PUTs open the window): the prefix's draft and the two sends, a few more under load.
    assert report.failure.shrunk.plan.size <= 5


def test_a_self_test_row_says_whether_the_rule_named_is_one_its_variant_breaks():
    def row(fault, verdict, rule, expected=()):
        rules = (rule,) if rule else ()
        return SelfTestRow(fault, verdict, 3, 3 if rule else None, rule, rules, expected)

    assert row(None, "pass", None).names_its_rule is None
    assert row("race-x", "pass", None, ("sms/a",)).names_its_rule is None  # not caught
    assert row("race-x", "fail", "sms/a", ("sms/b", "sms/a")).names_its_rule is True
    assert row("race-x", "fail", "sms/c", ("sms/b", "sms/a")).names_its_rule is False
    assert row("race-x", "fail", None, ("sms/a",)).names_its_rule is False  # informational
