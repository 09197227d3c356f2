"""The behaviour profile: which reading of each open point a target was seen to take."""

from __future__ import annotations

import pytest

from conformance.catalogue import CATALOGUE
from conformance.checks import Check, CheckDefinitionError, Finding
from conformance.engine import REMOTE_SETTLE, run_target
from conformance.profiles import PROFILES, Profile
from conformance.target import embedded_target

PROFILE = Profile("profile", max_examples=60, steps=15, max_failures=1)


def test_a_check_naming_a_reading_its_rule_cannot_show_fails_loudly():
    def tells_a_wrong_reading(step):
        yield Finding("sms/create/status-draft", False, reading="empty-send=reject")

    wrong = Check(
        "tells", ("sms/create/status-draft",), frozenset({"create"}), tells_a_wrong_reading
    )
    with pytest.raises(CheckDefinitionError, match="whose rules list that rule"):
        list(wrong.run(None))  # type: ignore[arg-type]


def _reading_sets() -> list:
    """The defaults, then every point's first other reading, then its last one (points with
    three readings differ between the two)."""
    others = [
        {p.id: [a for a in p.alternatives if a != p.default][i] for p in POINTS} for i in (0, -1)
    ]
    return [pytest.param({}, id="defaults")] + [
        pytest.param(chosen, id=f"others-{n}") for n, chosen in enumerate(others, 1)
    ]


POINTS = list(CATALOGUE.open_points.values())


@pytest.mark.slow
@pytest.mark.parametrize("chosen", _reading_sets())
def test_the_ci_profile_names_exactly_the_reading_the_server_took_of_every_point(chosen):
    """Every open point is met on the ci profile (directed rules see to the rare ones), and
    the profile names the reading the server serves, and no other."""
    report = run_target(
        embedded_target(readings=chosen),
        profile=PROFILES["ci"],
        seed_value=1,
        strict=True,
        settle=REMOTE_SETTLE,
    )
    assert report.verdict == "pass", [(f.rule, f.actual) for f in report.failures]
    seen = {point.id: set(point.readings) for point in report.open_points}
    for point in POINTS:
        taken = chosen.get(point.id, point.default)
        if point.id == "visibility" and taken == "immediate":
            continue  # nothing lagging is nothing to see
        assert seen[point.id] == {taken}, point.id
