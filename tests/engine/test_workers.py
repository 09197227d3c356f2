"""Parallel workers (``run --workers N``): N state machines, each on a target of its own,
sharing one budget; one seed still gives one run; findings merged per rule."""

from __future__ import annotations

import dataclasses

import pytest

from conformance.engine import run_target
from conformance.engine.workers import (
    given_share,
    spawn_workers,
    worker_profile,
    worker_seed,
    worker_share,
)
from conformance.profiles import PROFILES, Profile
from conformance.records import Coverage
from conformance.run_state import RunState
from conformance.target import ConfigurationError, GivenFixtures, embedded_target

QUICK = PROFILES["quick"]
CI = PROFILES["ci"]
# Far too small to reach the coverage goal: its rounds leave rules thin and boundaries
# unreached, so its top-up rounds always have something to aim at.
TOPPED = Profile("topped", 3, 5, 10, top_up_rounds=2, top_up_examples=5)
BELOW_60 = "sms/create/send-in-below-60"
# Only a top-up sends a send_in that spells a number (the strategies never draw one).
SPELLED = "send_in a string that spells 60 or more"


def recorded(target):
    """``target`` with every request that reaches its server written down (method, URL,
    body)."""
    sent: list[tuple[str, str, bytes]] = []
    send = target.api.http.send

    def record(request, **kwargs):
        sent.append((request.method, str(request.url), request.content))
        return send(request, **kwargs)

    target.api.http.send = record
    return target, sent


def rounds_in(rounds: list[str]):
    """An ``on_event`` that writes down what every ``round`` event tells into ``rounds``."""

    def tell(event):
        if event.kind == "round":
            rounds.append(event.detail)

    return tell


def test_two_workers_pass_the_clean_reference_server_on_the_quick_profile():
    report = run_target(embedded_target(), profile=QUICK, seed_value=3, workers=2, strict=True)
    assert (report.verdict, report.failures) == ("pass", []), report.reason
    # the examples are shared out: together about the profile's, not twice as many
    assert QUICK.max_examples <= report.stats.examples < 2 * QUICK.max_examples


def test_two_workers_catch_a_faulty_variant_and_say_which_worker_found_it():
    report = run_target(
        embedded_target(faults=["create-answers-201"]), profile=QUICK, seed_value=3, workers=2
    )
    assert report.verdict == "fail"
    [failure] = [f for f in report.failures if f.rule == "sms/create/answers-200"]
    assert "(found by worker 0 of 2, seed 3)" in failure.message
    assert failure.steps  # a transcript to replay, on worker 0's own fixtures


@pytest.mark.parametrize("profile", [QUICK, TOPPED], ids=["quick", "with a top-up"])
def test_one_worker_sends_exactly_the_requests_of_a_run_without_workers(profile):
    plain, plain_sent = recorded(embedded_target())
    one, one_sent = recorded(embedded_target())
    one.run_id = plain.run_id  # drawn at random; the names of the run's leads carry it
    first = run_target(plain, profile=profile, seed_value=5)
    second = run_target(one, profile=profile, seed_value=5, workers=1)
    assert plain_sent == one_sent
    assert [(r.id, r.checked) for r in first.rules] == [(r.id, r.checked) for r in second.rules]


@pytest.mark.parametrize("profile", [QUICK, TOPPED], ids=["quick", "with a top-up"])
def test_a_seed_gives_the_same_run_with_two_workers_however_the_threads_interleave(profile):
    told: list[list[str]] = [[], []]
    first, second = (
        run_target(
            embedded_target(), profile=profile, seed_value=7, workers=2, on_event=rounds_in(into)
        )
        for into in told
    )
    assert first.stats.requests == second.stats.requests
    assert [(r.id, r.checked, r.boundaries) for r in first.rules] == [
        (r.id, r.checked, r.boundaries) for r in second.rules
    ]
    top_ups = [[detail for detail in rounds if "coverage top-up" in detail] for rounds in told]
    assert top_ups[0] == top_ups[1]  # the same top-up rounds, aimed at the same rules
    assert bool(top_ups[0]) == bool(profile.top_up_rounds)


def test_with_two_workers_each_top_up_round_is_told_once_and_runs_on_every_state_machine():
    rounds: list[str] = []
    report = run_target(
        embedded_target(), profile=TOPPED, seed_value=1, workers=2, on_event=rounds_in(rounds)
    )
    opened = [i for i, detail in enumerate(rounds) if "coverage top-up" in detail]
    assert [rounds[i].split(":")[0] for i in opened] == [
        f"coverage top-up {n}" for n in range(1, len(opened) + 1)
    ]  # told by the run, once a round, not by each worker
    assert 1 <= len(opened) <= TOPPED.top_up_rounds
    after_the_first = rounds[opened[0] + 1 :]
    for worker in (0, 1):
        assert f"worker {worker}: state machine, round 1" in after_the_first
    assert report.verdict == "pass", report.reason


def test_with_two_workers_the_top_up_reaches_the_boundary_a_single_runs_top_up_reaches():
    alone = run_target(embedded_target(), profile=TOPPED, seed_value=1)
    untopped = dataclasses.replace(TOPPED, top_up_rounds=0)
    without = run_target(embedded_target(), profile=untopped, seed_value=1, workers=2)
    topped = run_target(embedded_target(), profile=TOPPED, seed_value=1, workers=2)

    def reached(report):
        [rule] = [rule for rule in report.rules if rule.id == BELOW_60]
        return rule.boundaries[SPELLED]

    assert reached(alone) > 0
    assert reached(without) == 0  # the rounds alone never send it
    assert reached(topped) > 0


def test_two_workers_catch_a_send_in_string_unchecked_only_the_top_up_sends():
    untopped = dataclasses.replace(TOPPED, top_up_rounds=0)
    faulty = ["send-in-string-unchecked"]
    missed = run_target(embedded_target(faults=faulty), profile=untopped, seed_value=1, workers=2)
    caught = run_target(embedded_target(faults=faulty), profile=TOPPED, seed_value=1, workers=2)
    assert BELOW_60 not in {failure.rule for failure in missed.failures}
    assert caught.verdict == "fail"
    [failure] = [f for f in caught.failures if f.rule == BELOW_60]
    assert " of 2, seed " in failure.message
    assert failure.steps  # shrunk to a transcript to replay


@pytest.mark.slow  # a ci run with two workers: ~40 s
def test_a_ci_run_with_two_workers_meets_the_coverage_goal_its_top_up_aims_at():
    report = run_target(embedded_target(), profile=CI, seed_value=1, workers=2)
    coverage = Coverage.of(report.rules)
    assert coverage.thin == ()
    assert (BELOW_60, SPELLED) not in coverage.unreached
    assert report.verdict == "pass", report.reason


@pytest.mark.slow  # a ci run with two workers: ~40 s
def test_a_ci_run_with_two_workers_catches_a_send_in_string_unchecked():
    report = run_target(
        embedded_target(faults=["send-in-string-unchecked"]), profile=CI, seed_value=1, workers=2
    )
    assert report.verdict == "fail"
    assert BELOW_60 in {failure.rule for failure in report.failures}


def test_worker_zero_keeps_the_run_seed_and_the_others_get_seeds_of_their_own():
    seeds = [worker_seed(41, index) for index in range(8)]
    assert seeds[0] == 41
    assert len(set(seeds)) == 8


def test_the_workers_shares_of_the_examples_add_up_to_the_profiles():
    profile = PROFILES["ci"]
    for count in (1, 2, 3, 8):
        shares = [worker_profile(profile, i, count).max_examples for i in range(count)]
        assert sum(shares) == profile.max_examples
        assert max(shares) - min(shares) <= 1
        top_up = [worker_share(profile.top_up_examples, i, count) for i in range(count)]
        assert sum(top_up) == profile.top_up_examples
        assert max(top_up) - min(top_up) <= 1


def test_each_worker_gets_leads_of_its_own_from_the_lead_ids_given():
    given = GivenFixtures(lead_ids=("a", "b", "c", "d"), contact_ids=("ca", "cb", "cc"))
    assert given_share(given, 0, 2).lead_ids == ("a", "c")
    assert given_share(given, 0, 2).contact_ids == ("ca", "cc")
    assert given_share(given, 1, 2).lead_ids == ("b", "d")
    assert given_share(given, 1, 2).contact_ids == ("cb",)


def test_more_workers_than_lead_ids_given_is_a_configuration_error():
    target = embedded_target(given=GivenFixtures(lead_ids=("lead_1",)))
    with pytest.raises(ConfigurationError, match="--workers 2 needs at least 2 --lead-id"):
        spawn_workers(RunState(target, QUICK, 1), 2, lambda event: None)


def test_on_the_embedded_server_each_worker_has_a_server_and_a_clock_of_its_own():
    target = embedded_target()
    workers = spawn_workers(RunState(target, QUICK, 1), 3, lambda event: None)
    servers = {id(w.state.target.server) for w in workers}
    clocks = {id(w.state.target.clock) for w in workers}
    assert len(servers) == len(clocks) == 4  # three state machines and the schema worker
    crew = target.api.crew
    assert crew is not None and not crew.shared_rate_limit
    assert [w.state.target.api.crew for w in workers] == [crew] * 4
    for worker in workers:
        worker.state.target.close()


def test_the_request_budget_is_the_runs_and_spending_it_stops_every_worker():
    report = run_target(embedded_target(max_requests=300), profile=QUICK, seed_value=1, workers=2)
    assert report.verdict == "inconclusive"
    assert "the request budget of 300 is spent" in report.reason
    # every worker counted against one budget (clean-up's DELETEs are exempt)
    assert 300 <= report.stats.requests < 400


def test_beside_the_state_machines_a_schema_worker_runs_the_whole_schema_phase():
    workers = spawn_workers(RunState(embedded_target(), QUICK, 1), 2, lambda event: None)
    assert [w.schema for w in workers] == [False, False, True]
    schema = workers[-1].state
    assert (schema.profile, schema.seed) == (QUICK, 1)  # the run's schema phase, whole
    for worker in workers:
        worker.state.target.close()


def test_with_the_leads_named_the_workers_share_them_and_no_schema_worker_runs_beside():
    given = GivenFixtures(lead_ids=("lead_1", "lead_2"))
    workers = spawn_workers(RunState(embedded_target(given=given), QUICK, 1), 2, lambda event: None)
    assert [w.schema for w in workers] == [False, False]
    for worker in workers:
        worker.state.target.close()


def test_the_schema_phase_of_a_run_with_workers_is_the_schema_workers_and_is_counted():
    events = []
    report = run_target(
        embedded_target(), profile=QUICK, seed_value=3, workers=2, on_event=events.append
    )
    assert any(e.detail == "worker 2: schema phase (schemathesis)" for e in events)
    [judged] = [r.checked for r in report.rules if r.id == "protocol/documented-status-code"]
    assert judged > 0  # only the schema phase judges it
