"""Specificity: the clean reference server passes the ``ci`` profile under every reading of
every open point, so no verdict rests on one reading of what the docs leave open."""

from __future__ import annotations

import pytest

from conformance.catalogue import CATALOGUE
from conformance.engine import run_target
from conformance.profiles import PROFILES
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
    )
    assert report.verdict == "pass", [(f.rule, f.actual) for f in report.failures]
