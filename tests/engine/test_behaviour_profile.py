"""The behaviour profile: which reading of each open point a target was seen to take."""

from __future__ import annotations

import pytest

from conformance.checks import Check, CheckDefinitionError, Finding
from conformance.engine import run_target
from conformance.profiles import PROFILES, Profile
from conformance.target import embedded_target

PROFILE = Profile("profile", max_examples=60, steps=15, max_failures=1)


@pytest.mark.parametrize("reading", ["accept", "reject"])
def test_the_report_names_the_reading_of_an_empty_send_the_server_took(reading):
    report = run_target(
        embedded_target(readings={"empty-send": reading}), profile=PROFILE, seed_value=3
    )
    assert report.verdict == "pass"
    (point,) = [p for p in report.open_points if p.id == "empty-send"]
    assert set(point.readings) == {reading}


def test_a_check_naming_a_reading_its_rule_cannot_show_fails_loudly():
    def tells_a_wrong_reading(step):
        yield Finding("sms/create/status-draft", False, reading="empty-send=reject")

    wrong = Check(
        "tells", ("sms/create/status-draft",), frozenset({"create"}), tells_a_wrong_reading
    )
    with pytest.raises(CheckDefinitionError, match="whose rules list that rule"):
        list(wrong.run(None))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("point", "reading"),
    [
        ("direction-override", "status-decides"),
        ("direction-override", "kept"),
        ("text-normalisation", "nfc"),
        ("send-in-negative", "as-zero"),
        ("send-in-negative", "reject"),
    ],
)
def test_the_report_names_the_reading_the_server_took_of_each_point_it_met(point, reading):
    report = run_target(
        embedded_target(readings={point: reading}),
        profile=Profile("profile", max_examples=150, steps=20, max_failures=1),
        seed_value=1,
    )
    assert report.verdict == "pass"
    (seen,) = [p for p in report.open_points if p.id == point]
    assert set(seen.readings) == {reading}


@pytest.mark.slow
@pytest.mark.parametrize("reading", ["newest-first", "oldest-first"])
def test_the_report_names_the_list_order_the_server_took(reading):
    # Orders show on walks over every page of a list of several SMS, which the ci profile
    # takes (shorter runs may never walk one).
    report = run_target(
        embedded_target(readings={"list-order": reading}), profile=PROFILES["ci"], seed_value=1
    )
    assert report.verdict == "pass"
    (seen,) = [p for p in report.open_points if p.id == "list-order"]
    assert set(seen.readings) == {reading}


@pytest.mark.parametrize(
    ("point", "reading"),
    [
        ("time-precision", "microseconds"),
        ("time-precision", "milliseconds"),
        ("bare-date-filter", "midnight"),
        ("bare-date-filter", "whole-day"),
        ("activity-at-on-send", "kept"),
        ("activity-at-on-send", "send-time"),
        ("not-found-body", "json-error"),
        ("not-found-body", "html"),
        ("error-body-shape", "field-errors"),
        ("error-body-shape", "error-message"),
        ("limit-over-maximum", "reject"),
        ("limit-over-maximum", "clamp"),
    ],
)
def test_the_report_names_the_reading_of_lists_and_errors_the_server_took(point, reading):
    """Lists (a bound a microsecond past an SMS, a bare date on its own day, a sent SMS's
    activity_at), 404 bodies, refusal bodies and a _limit over the default each show the
    reading the server took, and only that one."""
    report = run_target(embedded_target(readings={point: reading}), profile=PROFILE, seed_value=2)
    assert report.verdict == "pass"
    (seen,) = [p for p in report.open_points if p.id == point]
    assert set(seen.readings) == {reading}
