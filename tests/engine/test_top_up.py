"""The coverage top-up: a run short of its coverage goal aims more rounds at what it missed."""

from __future__ import annotations

from typing import Any

from conformance.catalogue import CATALOGUE, Level
from conformance.checks import Finding
from conformance.engine import run_target
from conformance.engine.rounds import short_of
from conformance.engine.workers import add_tally
from conformance.judging import Tally
from conformance.machine.steering import AIMS, aims_for
from conformance.profiles import Profile
from conformance.records import ENOUGH_JUDGINGS
from conformance.target import embedded_target

DOCUMENTED = [rule.id for rule in CATALOGUE.rules() if rule.level in (Level.MUST, Level.SHOULD)]


def judged_enough(*but: str) -> Tally:
    """A tally that judged every documented rule enough times and reached every listed
    boundary, except the rules ``but`` (never judged)."""
    tally = Tally()
    for rule in CATALOGUE.rules():
        if rule.id in but:
            continue
        for _ in range(ENOUGH_JUDGINGS):
            tally.record(Finding(rule.id, True))
        for name in rule.boundaries:
            tally.record(Finding(rule.id, True, boundary=name))
    return tally


def test_a_tally_that_judged_everything_enough_is_short_of_nothing():
    assert short_of(judged_enough(), muted=set()) == (set(), set())


def test_a_documented_rule_judged_too_rarely_and_its_boundaries_are_what_a_run_is_short_of():
    rule = "sms/create/send-in-below-60"
    thin, unreached = short_of(judged_enough(rule), muted=set())
    assert thin == {rule}
    assert unreached == {(rule, boundary) for boundary in CATALOGUE[rule].boundaries}


def test_a_rule_found_broken_is_never_aimed_at_again():
    rule = "sms/create/send-in-below-60"
    assert short_of(judged_enough(rule), muted={rule}) == (set(), set())


def test_the_aims_for_a_rule_are_every_aim_reaching_it_and_for_a_boundary_its_own():
    by_rule = aims_for({"sms/create/send-in-accepted"}, set())
    assert {(aim.rule, aim.boundary) for aim in by_rule} == {
        ("sms/create/send-in-accepted", "send_in=0"),
        ("sms/create/send-in-accepted", "send_in=59"),
    }
    (by_boundary,) = aims_for(set(), {("sms/create/send-in-accepted", "send_in=59")})
    assert by_boundary.boundary == "send_in=59"


def test_every_rule_an_aim_reaches_is_documented():
    assert {aim.rule for aim in AIMS} <= set(DOCUMENTED)


def test_a_run_short_of_its_coverage_goal_tops_up_aiming_at_what_it_missed():
    """A profile far too small to reach its goal: the top-up round aims at what the
    rounds left thin, and every example of it starts with every aim."""
    small = Profile("small", 3, 5, 10)
    topped = Profile("small", 3, 5, 10, top_up_rounds=1, top_up_examples=4)
    events: list[Any] = []
    before = run_target(embedded_target(), profile=small, seed_value=1)
    after = run_target(embedded_target(), profile=topped, seed_value=1, on_event=events.append)

    top_up, *_ = [e for e in events if "coverage top-up" in e.detail]
    aimed = top_up.detail.split("aiming at ", 1)[1].split(", ")
    assert aimed and set(aimed) <= set(CATALOGUE)
    checked = {rule.id: rule.checked for rule in before.rules}
    more = {rule.id: rule.checked for rule in after.rules}
    assert sum(more[rule] for rule in aimed) > sum(checked[rule] for rule in aimed)
    assert after.verdict == "pass"


def test_workers_that_judged_a_rule_enough_times_between_them_are_not_short_of_it():
    rule = "sms/create/send-in-below-60"
    tallies = [judged_enough(rule), judged_enough(rule)]
    for tally in tallies:
        for _ in range(ENOUGH_JUDGINGS // 2):
            tally.record(Finding(rule, True))
    assert short_of(tallies[0], muted=set())[0] == {rule}
    both = Tally()
    for tally in tallies:
        add_tally(both, tally)
    assert short_of(both, muted=set())[0] == set()
