"""The self-test itself: every faulty variant is caught, the clean server never fails."""

from __future__ import annotations

import pytest

from conformance.profiles import PROFILES
from conformance.refserver import FAULTS
from conformance.selftest import run_self_test


@pytest.mark.slow
def test_every_faulty_variant_is_caught_and_the_clean_server_passes_on_three_seeds():
    report = run_self_test(profile=PROFILES["ci"], seeds=(1, 2, 3), jobs=2)
    assert report.false_alarms == 0, report.clean
    assert report.missed == []
    assert len(report.kills) == len(FAULTS)


def test_a_kill_names_how_far_its_counterexample_is_from_the_minimal_one():
    report = run_self_test(profile=PROFILES["quick"], seeds=(1,), faults=["edit-sent-accepted"])
    (kill,) = report.kills
    assert kill.caught and kill.right_rule
    assert kill.extra_steps is None or kill.extra_steps >= 0
    assert report.summary()["kill_rate"] == 1.0


def test_an_unknown_fault_is_refused_by_name():
    with pytest.raises(ValueError, match="unknown fault"):
        run_self_test(profile=PROFILES["quick"], seeds=(1,), faults=["nope"])


def test_every_documented_rule_is_broken_by_some_faulty_variant_or_says_why_not():
    from conformance.catalogue import CATALOGUE, Level
    from conformance.refserver.faults import UNBROKEN

    broken = {fault.rule for fault in FAULTS.values()}
    untested = [
        rule.id
        for rule in CATALOGUE.values()
        if rule.level is not Level.UNSPECIFIED
        and rule.id not in broken
        and rule.id not in UNBROKEN
        and not rule.untested
    ]
    assert untested == [], "add a fault to conformance/refserver/faults.py for each"
    assert set(UNBROKEN) <= set(CATALOGUE.ids())
