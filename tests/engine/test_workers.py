"""Parallel workers (``run --workers N``): N state machines, each on a target of its own,
sharing one budget; one seed still gives one run; findings merged per rule."""

from __future__ import annotations

import pytest

from conformance.engine import run_target
from conformance.engine.workers import given_share, spawn_workers, worker_profile, worker_seed
from conformance.profiles import PROFILES
from conformance.run_state import RunState
from conformance.target import ConfigurationError, GivenFixtures, embedded_target

QUICK = PROFILES["quick"]


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


def test_one_worker_sends_exactly_the_requests_of_a_run_without_workers():
    plain, plain_sent = recorded(embedded_target())
    one, one_sent = recorded(embedded_target())
    one.run_id = plain.run_id  # drawn at random; the names of the run's leads carry it
    first = run_target(plain, profile=QUICK, seed_value=5)
    second = run_target(one, profile=QUICK, seed_value=5, workers=1)
    assert plain_sent == one_sent
    assert [(r.id, r.checked) for r in first.rules] == [(r.id, r.checked) for r in second.rules]


def test_a_seed_gives_the_same_run_with_two_workers_however_the_threads_interleave():
    first = run_target(embedded_target(), profile=QUICK, seed_value=7, workers=2)
    second = run_target(embedded_target(), profile=QUICK, seed_value=7, workers=2)
    assert first.stats.requests == second.stats.requests
    assert [(r.id, r.checked) for r in first.rules] == [(r.id, r.checked) for r in second.rules]


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
