"""The JUnit XML report: one test suite, one test case per catalogue rule.

``fail`` becomes ``<failure>``, ``not-run`` becomes ``<skipped>``, a ``warning`` (a SHOULD
rule not followed) passes with its expected, actual and steps in ``<system-out>``, and an
``informational`` rule passes with its observations in ``<system-out>``. The run's seed,
target, verdict, reason, run id, leftovers, clean-up command, tool version and the command
that repeats the run are ``<property>`` elements of the suite. A failure's message and text
tell what differs (:func:`conformance.explain.explain`), not a cut body. The suite (and
``<testsuites>``) carries the run's measured duration; the cases carry no ``time``: the
rules are judged together, step by step, and none has a time of its own. The document is
valid against the common JUnit schema (Jenkins's ``junit-10.xsd``, checked by
``tests/reporting/test_junit.py``).
CI servers read this file; people read the HTML report. The final text is scrubbed of the
run's secrets by value (``_safety.scrub_text``).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from conformance.explain import explain, format_elapsed
from conformance.records import Coverage, Exchange, Failure, RuleResult, RunReport
from conformance.reporting._safety import Secrets, safe_headers, scrub_text

__all__ = ["SUITE_NAME", "to_junit_element", "to_junit_text", "write_junit"]

SUITE_NAME = "sms-conformance"

# Characters XML 1.0 cannot carry at all, even escaped.
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|[\ud800-\udfff]")
_BODY_LIMIT = 2000


def write_junit(report: RunReport, path: Path, *, secrets: Secrets = None) -> None:
    """Write ``report`` as JUnit XML to ``path`` (UTF-8, with declaration); returns nothing."""
    Path(path).write_text(to_junit_text(report, secrets=secrets), encoding="utf-8")


def to_junit_text(report: RunReport, *, secrets: Secrets = None) -> str:
    """Return the JUnit XML document for ``report`` (with its declaration, indented),
    scrubbed of ``secrets`` in every form."""
    root = to_junit_element(report)
    ET.indent(root)
    text = ET.tostring(root, encoding="unicode")
    return "<?xml version='1.0' encoding='utf-8'?>\n" + scrub_text(text, secrets) + "\n"


def to_junit_element(report: RunReport) -> ET.Element:
    """Return the ``<testsuites>`` element holding the run's single ``<testsuite>``."""
    failures: dict[str, list[Failure]] = {}
    for failure in report.failures:
        failures.setdefault(failure.rule, []).append(failure)
    counts = {
        "tests": str(len(report.rules)),
        "failures": str(sum(rule.status == "fail" for rule in report.rules)),
        "errors": "0",
        # The run's measured wall time. Rules are judged together, step by step, so no rule
        # has a time of its own: the cases carry none rather than a made-up share.
        "time": f"{report.stats.duration:.3f}",
    }
    # <testsuites> takes no `skipped` in the common JUnit schema (Jenkins's junit-10.xsd).
    root = ET.Element("testsuites", {"name": SUITE_NAME, **counts})
    skipped = str(sum(rule.status == "not-run" for rule in report.rules))
    suite_attributes = {"name": SUITE_NAME, **counts, "skipped": skipped}
    if report.started_at:
        suite_attributes["timestamp"] = _text(report.started_at)
    suite = ET.SubElement(root, "testsuite", suite_attributes)
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("seed", report.seed),
        ("target", report.target),
        ("verdict", report.verdict),
        ("profile", report.profile),
        ("tool_version", report.tool_version or None),
        ("command", report.command or None),
        ("reason", report.reason),
        ("run_id", report.run_id or None),
        ("leftovers", " ".join(report.leftovers) or None),
        ("cleanup_command", report.cleanup_command),
        *((f"reading:{point.id}", point.seen) for point in report.open_points),
        ("coverage", Coverage.of(report.rules).line()),
        *(
            (f"coverage:{rule.id}", _coverage(rule))
            for rule in report.rules
            if rule.boundaries or rule.checked
        ),
    ):
        if value is not None:
            ET.SubElement(properties, "property", {"name": name, "value": _text(str(value))})
    for rule in report.rules:
        suite.append(_testcase(rule, failures.get(rule.id, [])))
    return root


def _testcase(rule: RuleResult, failures: list[Failure]) -> ET.Element:
    failure = failures[0] if failures else None
    case = ET.Element("testcase", {"classname": _classname(rule.id), "name": _text(rule.id)})
    if rule.status == "fail":
        # What differs, not a cut body: CI shows this attribute as the failure's headline.
        message = (
            f"{failure.message} | {explain(failure).line()}"
            if failure is not None
            else "rule failed"
        )
        element = ET.SubElement(case, "failure", {"message": _text(message), "type": rule.level})
        text = _failure_text(rule, failure)
        if len(failures) > 1:
            text += f"\n\n{len(failures) - 1} more failure(s) of this rule: see the HTML report."
        element.text = _text(text)
    elif rule.status == "warning":
        # A SHOULD rule not followed: the case passes (the verdict does), the story is told.
        out = ET.SubElement(case, "system-out")
        out.text = _text("WARNING (SHOULD rule not followed)\n" + _failure_text(rule, failure))
    elif rule.status == "not-run":
        reason = rule.reason or "not run"
        ET.SubElement(case, "skipped", {"message": _text(reason)})
    elif rule.status == "informational" and rule.observations:
        out = ET.SubElement(case, "system-out")
        out.text = _text("\n".join(rule.observations))
    return case


def _coverage(rule: RuleResult) -> str:
    """``judged 12 times; boundaries 1/2 reached (not: send_in=0)``."""
    text = f"judged {rule.checked} times"
    if rule.boundaries:
        reached = len(rule.boundaries) - len(rule.unreached)
        text += f"; boundaries {reached}/{len(rule.boundaries)} reached"
        if rule.unreached:
            text += f" (not: {', '.join(rule.unreached)})"
    return text


def _classname(rule_id: str) -> str:
    """Return the rule id's segments but the last, dot-joined (``sms/create/x`` -> ``sms.create``).

    CI servers group test cases into packages on the dots of ``classname``.
    """
    segments = [segment for segment in re.split(r"[/.]", rule_id) if segment]
    return _text(".".join(segments[:-1]) or SUITE_NAME)


def _failure_text(rule: RuleResult, failure: Failure | None) -> str:
    lines = [rule.statement]
    if rule.quote:
        lines.append(f"Documented: {rule.quote} ({rule.source})")
    if failure is None:
        return "\n".join(lines)
    lines += ["", *explain(failure).lines(), "", "Steps:"]
    for number, step in enumerate(failure.steps, start=1):
        lines.extend(_step_lines(number, step))
    return "\n".join(lines)


def _step_lines(number: int, step: Exchange) -> list[str]:
    request = step.request
    lines = [
        f"{number}. {request.method} {request.path} (auth: {request.auth}; "
        f"sent {step.sent_at or '-'}, took {format_elapsed(step.elapsed)})"
    ]
    headers = safe_headers(request.headers)
    if headers:
        lines.append("   headers: " + _compact(headers))
    if request.body is not None:
        lines.append("   body: " + _compact(request.body))
    if step.response is None:
        lines.append(f"   -> no response: {step.error or 'unknown error'}")
    else:
        lines.append(f"   -> {step.response.status_code} {_compact(step.response.body)}")
    return lines


def _compact(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= _BODY_LIMIT else text[:_BODY_LIMIT] + "…"


def _text(value: str) -> str:
    return _ILLEGAL_XML.sub("\ufffd", value)
