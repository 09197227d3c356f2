"""Rule coverage as a run's output: how often each rule was judged and which of its listed
boundary cases a request reached (issue 13, deliverable 1)."""

from __future__ import annotations

import pytest

from conformance.catalogue import CATALOGUE
from conformance.engine import run_target
from conformance.profiles import PROFILES
from conformance.records import Coverage
from conformance.target import embedded_target


@pytest.mark.slow
def test_a_ci_run_reaches_every_listed_boundary_and_judges_every_documented_rule_20_times():
    """Issue 13's coverage goal, on one seed (seeds 1-5: `benchmarks/bench_coverage.py`)."""
    report = run_target(embedded_target(), profile=PROFILES["ci"], seed_value=2)
    assert report.verdict == "pass", [(f.rule, f.actual) for f in report.failures]
    coverage = Coverage.of(report.rules)
    assert coverage.unreached == ()
    assert coverage.thin == ()
    # Every listed boundary is in the report, reached or not, in catalogue order.
    for rule in report.rules:
        assert tuple(rule.boundaries) == CATALOGUE[rule.id].boundaries, rule.id
