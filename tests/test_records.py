"""What a run's records say of themselves: rule coverage."""

from __future__ import annotations

from conformance.records import ENOUGH_JUDGINGS, Coverage, RuleResult


def result(rule_id: str, level: str, checked: int, **boundaries: int) -> RuleResult:
    return RuleResult(rule_id, "pass", level, "", "", "", checked=checked, boundaries=boundaries)


def test_coverage_counts_documented_rules_judged_too_rarely_and_every_boundary_not_reached():
    coverage = Coverage.of(
        [
            result("a/must/thin", "MUST", ENOUGH_JUDGINGS - 1, edge=1, other=0),
            result("a/should/enough", "SHOULD", ENOUGH_JUDGINGS),
            result("a/unspecified/thin", "unspecified", 0, seen=0),
        ]
    )
    assert coverage.thin == ("a/must/thin",)  # an unspecified rule is never thin
    assert coverage.unreached == (("a/must/thin", "other"), ("a/unspecified/thin", "seen"))
    assert coverage.line() == (
        "coverage: 1 of 2 MUST/SHOULD rules judged fewer than 20 times; "
        "2 of 3 listed boundaries not reached"
    )


def test_a_rule_result_names_its_unreached_boundaries_in_catalogue_order():
    assert result("a/b/c", "MUST", 5, z=0, a=2, m=0).unreached == ["z", "m"]
