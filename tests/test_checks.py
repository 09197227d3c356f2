"""The check registry fails loudly on mistakes, and every documented rule is judged."""

from __future__ import annotations

import pytest

import conformance.rules  # noqa: F401
from conformance.catalogue import CATALOGUE, Level, UnknownRule
from conformance.checks import CHECKS, CheckDefinitionError, Finding, check, covered_rules


def test_registering_a_check_for_an_unknown_rule_fails_with_a_suggestion():
    with pytest.raises(UnknownRule, match="sms/create/status-inbox"):
        check("sms/create/status-inboxx")(lambda step: ())


@pytest.fixture
def isolated_registry(monkeypatch):
    """The check registry as it is, restored after the test: what a test registers never
    reaches the checks of the tests after it."""
    import conformance.checks as checks

    monkeypatch.setattr(checks, "CHECKS", dict(checks.CHECKS))
    by_operation = {operation: list(found) for operation, found in checks._BY_OPERATION.items()}
    monkeypatch.setattr(checks, "_BY_OPERATION", by_operation)
    ranks = {operation: list(found) for operation, found in checks._RANKS.items()}
    monkeypatch.setattr(checks, "_RANKS", ranks)
    return checks


def test_registering_the_same_function_twice_fails(isolated_registry):
    def twice(step):
        return ()

    check("sms/get/returns-object", on=("get",))(twice)
    with pytest.raises(CheckDefinitionError, match="registered twice"):
        check("sms/get/returns-object", on=("get",))(twice)


def test_a_check_registered_in_a_test_leaves_the_registry_as_it_was():
    # Runs after the test above in the same process: the registry is the package's own.
    assert all(name.startswith("conformance.rules.") for name in CHECKS)
    from conformance.checks import checks_for

    assert all(c.name.startswith("conformance.rules.") for c in checks_for("get"))


def test_a_check_in_a_rules_module_the_catalogue_does_not_order_fails_naming_it(isolated_registry):
    def unordered(step):
        return ()

    unordered.__module__ = "conformance.rules.not_in_check_order"
    with pytest.raises(CheckDefinitionError, match="'not_in_check_order' is not in the catalogue"):
        check("sms/get/returns-object", on=("get",))(unordered)


def test_checks_run_in_the_catalogues_check_order_whatever_the_order_they_were_registered_in(
    isolated_registry,
):
    from conformance.checks import checks_for

    order = CATALOGUE.check_order
    for module in (order[-1], order[0], order[1]):  # registered last module first

        def judged(step):
            return ()

        judged.__module__ = f"conformance.rules.{module}"
        judged.__qualname__ = f"judged_in_{module}"
        check("sms/get/returns-object", on=("get",))(judged)
    ran = [c.name.split(".")[2] for c in checks_for("get") if ".judged_in_" in c.name]
    assert ran == [order[0], order[1], order[-1]]


def test_every_module_of_the_rules_package_is_in_the_check_order_once():
    import pkgutil

    found = pkgutil.iter_modules(conformance.rules.__path__)
    modules = {m.name for m in found if not m.name.startswith("_")}
    assert sorted(CATALOGUE.check_order) == sorted(modules)


def test_a_check_on_an_unknown_operation_fails():
    with pytest.raises(CheckDefinitionError, match="unknown operations"):
        check("sms/get/returns-object", on=("fetch",))(lambda step: ())


def test_a_check_reporting_a_rule_it_did_not_declare_fails():
    from conformance.checks import Check

    rogue = Check(
        "rogue",
        ("sms/get/returns-object",),
        frozenset({"get"}),
        lambda step: [Finding("auth/wrong-rejected", True)],
    )
    with pytest.raises(CheckDefinitionError, match="does not declare"):
        list(rogue.run(None))


def test_every_documented_rule_has_a_check_or_says_why_not():
    covered = covered_rules()
    orphans = [
        rule.id for rule in CATALOGUE.values() if rule.id not in covered and not rule.untested
    ]
    assert orphans == []


def test_every_unspecified_rule_is_only_observed():
    from conformance.checks import is_violation

    for rule in CATALOGUE.values():
        finding = Finding(rule.id, False)
        assert is_violation(finding) is (rule.level is not Level.UNSPECIFIED)


@pytest.mark.parametrize(
    ("rule", "boundary"),
    [
        ("sms/create/send-in-accepted", "send_in=58"),  # a typo of a listed one
        ("sms/create/send-in-accepted", "send_in=60"),  # another rule's boundary
        ("sms/get/returns-object", "send_in=0"),  # a rule that lists none
    ],
)
def test_a_check_reporting_a_boundary_its_rule_does_not_list_fails_loudly(rule, boundary):
    from conformance.checks import Check

    rogue = Check(
        "rogue",
        (rule,),
        frozenset({"create"}),
        lambda step: [Finding(rule, True, boundary=boundary)],
    )
    with pytest.raises(CheckDefinitionError, match=f"boundary {boundary!r} on {rule!r}"):
        list(rogue.run(None))  # type: ignore[arg-type]


def test_a_check_reporting_a_listed_boundary_passes_it_on():
    from conformance.checks import Check

    edge = Finding("sms/create/send-in-accepted", True, boundary="send_in=59")
    fine = Check("fine", (edge.rule,), frozenset({"create"}), lambda step: [edge])
    assert list(fine.run(None)) == [edge]  # type: ignore[arg-type]


def test_every_listed_boundary_belongs_to_a_rule_some_check_judges():
    judged = covered_rules()
    assert all(rule.id in judged for rule in CATALOGUE.values() if rule.boundaries)
