"""Steering: each aim, taken on its own, judges the rule it aims at (or reaches its
boundary), and the aims come up in turn within an example."""

from __future__ import annotations

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from conformance.catalogue import CATALOGUE
from conformance.machine import Session, build_machine
from conformance.machine.steering import AIMS, TOP_UP_AIMS, Aim
from conformance.target import embedded_target


def judged(session: Session, aim: Aim) -> int:
    if aim.boundary is None:
        return session.tally.checked(aim.rule)
    return session.tally.reached(aim.rule)[aim.boundary]


@pytest.mark.parametrize(
    "aim", (*AIMS, *TOP_UP_AIMS), ids=lambda aim: f"{aim.rule}:{aim.boundary or ''}"
)
def test_each_aim_taken_alone_judges_its_rule_on_the_clean_server(aim):
    target = embedded_target()  # with a second organisation and its key
    target.discover()
    session = Session(target)

    @settings(max_examples=3, database=None, deadline=None, phases=[Phase.generate])
    @given(st.data())
    def take(data):
        machine = build_machine(session)()
        try:
            machine.start_with_an_sms(data)
            before = judged(session, aim)
            aim.act(machine, data)
        finally:
            machine.teardown()  # a list is judged once it settles, at the example's end
        assert judged(session, aim) > before

    try:
        take()
    finally:
        target.close()
    assert not session.failures, [(f.rule, f.actual) for f in session.failures]


def test_every_aim_names_a_documented_rule():
    assert all(CATALOGUE[aim.rule].level.name in ("MUST", "SHOULD") for aim in AIMS)
