"""The JUnit XML report: one suite, one test case per rule, counts CI servers trust."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conformance.records import RuleResult
from conformance.reporting.junit import write_junit


@pytest.fixture
def suite(report, tmp_path) -> ET.Element:
    path = tmp_path / "junit.xml"
    write_junit(report, path)
    (found,) = ET.parse(path).getroot().iter("testsuite")
    return found


def _case(suite: ET.Element, name: str) -> ET.Element:
    (case,) = [c for c in suite.iter("testcase") if c.get("name") == name]
    return case


def test_junit_has_one_suite_named_after_the_project(suite):
    assert suite.get("name") == "sms-conformance"


def test_junit_has_one_test_case_per_rule(report, suite):
    assert [case.get("name") for case in suite.iter("testcase")] == [r.id for r in report.rules]


def test_junit_counts_tests_failures_and_skipped(suite):
    assert suite.get("tests") == "4"
    assert suite.get("failures") == "1"
    assert suite.get("skipped") == "1"
    assert suite.get("errors") == "0"
    assert float(suite.get("time")) == pytest.approx(3.5)


JUNIT_XSD = Path(__file__).parent / "schemas" / "junit-10.xsd"  # Jenkins's; source inside


@pytest.fixture(scope="module")
def junit_schema():
    import xmlschema  # a [test] dependency: missing, the test must fail, not skip

    return xmlschema.XMLSchema(JUNIT_XSD)


@pytest.mark.parametrize(
    "statuses",
    [
        pytest.param({}, id="fail-informational-not-run-pass"),
        pytest.param({1: "warning"}, id="with-a-warning"),
        pytest.param({0: "not-run", 1: "not-run", 2: "not-run", 3: "not-run"}, id="all-not-run"),
    ],
)
def test_junit_is_valid_against_the_common_junit_schema(report, tmp_path, junit_schema, statuses):
    for index, status in statuses.items():
        report.rules[index].status = status
        report.rules[index].reason = report.rules[index].reason or "a reason"
    report.rules.append(
        RuleResult(
            id="sms/odd/control",
            status="fail",
            level="MUST",
            statement="bell \x07 and nul \x00",
            quote="",
            source="",
        )
    )
    path = tmp_path / "junit.xml"
    write_junit(report, path)
    junit_schema.validate(str(path))  # raises, naming the element, when invalid


def test_junit_testsuites_has_no_skipped_attribute_the_schema_refuses(report, tmp_path):
    path = tmp_path / "junit.xml"
    write_junit(report, path)
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites" and "skipped" not in root.attrib
    assert root.find("testsuite").get("skipped") == "1"  # the suite may carry it


def test_junit_time_is_the_runs_measured_duration_and_no_case_has_a_made_up_one(suite):
    assert float(suite.get("time")) == pytest.approx(3.5)  # report.stats.duration
    assert [case.get("time") for case in suite.iter("testcase")] == [None] * 4
    assert "0.000" not in ET.tostring(suite, encoding="unicode")


def test_junit_classname_is_the_rule_id_without_its_last_segment(suite):
    assert _case(suite, "sms/update/status-persists").get("classname") == "sms.update"


def test_junit_failed_rule_has_failure_with_expected_actual_and_steps(suite, failure):
    (element,) = _case(suite, "sms/update/status-persists").iter("failure")

    assert element.get("message").startswith(failure.message)
    assert f"expected {failure.expected}; got {failure.actual}" in element.get("message")
    assert f"expected: {failure.expected}" in element.text
    assert f"actual:   {failure.actual}" in element.text
    assert "1. POST /activity/sms/" in element.text
    assert "3. GET /activity/sms/" in element.text


def test_junit_not_run_rule_is_skipped_with_its_reason(suite):
    (element,) = _case(suite, "sms/webhook/delivered").iter("skipped")
    assert element.get("message") == "no webhook receiver configured"


def test_junit_informational_rule_passes_with_observations_in_system_out(suite):
    case = _case(suite, "sms/list/default-order")

    assert case.find("failure") is None
    assert case.find("skipped") is None
    assert case.find("system-out").text == "newest first by date_created\nties broken by id <asc>"


def test_junit_passed_rule_has_no_child(suite):
    assert len(_case(suite, "sms/create/answers-200")) == 0


def test_junit_properties_hold_seed_target_and_verdict(suite):
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["seed"] == "12345"
    assert properties["target"] == "http://127.0.0.1:8765/api/v1"
    assert properties["verdict"] == "fail"


def test_junit_stays_well_formed_with_control_characters(report, tmp_path):
    report.rules.append(
        RuleResult(
            id="sms/odd/control",
            status="informational",
            level="unspecified",
            statement="s",
            quote="",
            source="",
            observations=["bell \x07 and nul \x00"],
        )
    )
    path = tmp_path / "junit.xml"
    write_junit(report, path)

    assert ET.parse(path).getroot().find(".//testsuite").get("tests") == "5"


def test_junit_warning_rule_passes_with_expected_actual_and_steps_in_system_out(
    report, failure, tmp_path
):
    report.rules[1].status = "warning"
    report.rules[1].level = "SHOULD"
    path = tmp_path / "junit.xml"
    write_junit(report, path)
    (suite,) = ET.parse(path).getroot().iter("testsuite")
    case = _case(suite, "sms/update/status-persists")

    assert case.find("failure") is None and case.find("skipped") is None
    assert suite.get("failures") == "0"
    text = case.find("system-out").text
    assert text.startswith("WARNING (SHOULD rule not followed)")
    assert f"actual:   {failure.actual}" in text
    assert "1. POST /activity/sms/" in text


def test_junit_failure_message_and_text_carry_the_field_past_200_characters(report, tmp_path):
    from ..explained import drafts_only_failure

    failure = drafts_only_failure()
    report.failures = [failure]
    report.rules[1].id = failure.rule
    path = tmp_path / "junit.xml"
    write_junit(report, path)
    (suite,) = ET.parse(path).getroot().iter("testsuite")
    (element,) = _case(suite, failure.rule).iter("failure")

    assert "…" in failure.actual and '"status": "sent"' not in failure.actual
    assert 'got HTTP 200, status "sent"' in element.get("message")
    assert 'text expected "", got "0"' in element.get("message")
    assert '  text: expected "", got "0"' in element.text
    assert 'before (step 1): status "sent"' in element.text


def test_junit_properties_carry_the_tool_version_and_the_rerun_command(
    report, tmp_path, junit_schema
):
    from conformance import __version__

    report.command = 'sms-conformance run --api-key "$CLOSE_API_KEY" --seed 12345'
    path = tmp_path / "junit.xml"
    write_junit(report, path)
    junit_schema.validate(str(path))
    properties = {p.get("name"): p.get("value") for p in ET.parse(path).getroot().iter("property")}
    assert properties["tool_version"] == __version__
    assert properties["command"] == report.command


def test_junit_properties_carry_the_coverage_line_and_each_judged_rules_coverage(suite):
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["coverage"] == (
        "coverage: 2 of 3 MUST/SHOULD rules judged fewer than 20 times; "
        "1 of 2 listed boundaries not reached"
    )
    assert properties["coverage:sms/create/answers-200"] == (
        "judged 41 times; boundaries 1/2 reached (not: send_in=0)"
    )
    assert properties["coverage:sms/update/status-persists"] == "judged 7 times"
    assert "coverage:sms/webhook/delivered" not in properties  # never judged, lists none
