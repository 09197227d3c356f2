"""Specificity: the clean reference server passes the ``ci`` profile under every reading of
every open point, so no verdict rests on one reading of what the docs leave open. The runs
give reads a settle window, as a remote run does (``--settle``): the ``visibility=eventual``
reading needs one, and it costs nothing elsewhere (a read is re-tried only when it breaks a
rule, on the virtual clock)."""

from __future__ import annotations

import pytest

from conformance.catalogue import CATALOGUE
from conformance.engine import REMOTE_SETTLE, run_target
from conformance.profiles import PROFILES, Profile
from conformance.target import embedded_target

ALTERNATIVES = [
    pytest.param(point.id, name, id=f"{point.id}={name}")
    for point in CATALOGUE.open_points.values()
    for name in point.alternatives
    if name != point.default
]


@pytest.mark.slow
@pytest.mark.parametrize(("point", "alternative"), ALTERNATIVES)
def test_the_clean_server_passes_the_ci_profile_under_each_reading(point, alternative):
    report = run_target(
        embedded_target(readings={point: alternative}),
        profile=PROFILES["ci"],
        seed_value=1,
        strict=True,
        settle=REMOTE_SETTLE,
    )
    assert report.verdict == "pass", [(f.rule, f.actual) for f in report.failures]


@pytest.mark.parametrize(
    ("fault", "rule"),
    [
        ("deleted-still-readable", "sms/delete/then-get-404"),
        ("deleted-still-listed", "sms/delete/then-not-listed"),
    ],
)
def test_a_delete_that_never_takes_effect_still_fails_within_a_settle_window(fault, rule):
    report = run_target(
        embedded_target(faults=[fault]),
        profile=Profile("settle", max_examples=60, steps=15, max_failures=1),
        seed_value=1,
        settle=REMOTE_SETTLE,
    )
    assert report.verdict == "fail"
    assert report.failures[0].rule == rule
    # the re-reads are in the transcript: the same request, answered the same, again
    paths = [step.request.path for step in report.failures[0].steps]
    assert len(paths) > len(set(paths))


def test_a_target_whose_reads_lag_fails_without_a_settle_window_and_passes_with_one():
    def run(settle: float):
        return run_target(
            embedded_target(readings={"visibility": "eventual"}),
            profile=Profile("settle", max_examples=40, steps=15, max_failures=1),
            seed_value=2,
            settle=settle,
        )

    assert run(0).verdict == "fail"
    settled = run(REMOTE_SETTLE)
    assert settled.verdict == "pass"
    (point,) = [p for p in settled.open_points if p.id == "visibility"]
    assert set(point.readings) == {"eventual"}


def test_an_embedded_server_whose_reads_lag_gets_a_settle_window_unless_one_is_given():
    from conformance.engine import default_settle

    assert default_settle(embedded_target()) == 0.0
    assert default_settle(embedded_target(readings={"visibility": "eventual"})) == REMOTE_SETTLE
