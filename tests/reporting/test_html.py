"""The HTML report: a self-contained page a person reads."""

from __future__ import annotations

import html

import pytest

from conformance.reporting.html import render_html, write_html
from conformance.reporting.replay import curl_commands


@pytest.fixture
def page(report) -> str:
    return render_html(report)


def test_html_shows_the_verdict_target_seed_and_reason(page):
    assert 'class="verdict verdict-fail"' in page
    assert "http://127.0.0.1:8765/api/v1" in page
    assert "12345" in page
    assert "1 MUST rule failed" in page


def test_html_shows_the_failure_with_expected_and_actual(page, failure):
    text = html.unescape(page)
    assert failure.rule in text
    assert failure.expected in text
    assert failure.actual in text
    assert 'id="failure-1"' in page


def test_html_links_the_documented_sentence_to_its_source(page):
    assert "Only draft SMS activities can be modified." in page
    assert '<a href="https://developer.close.com/api/resources/activities/sms/update">' in page


def test_html_escapes_recorded_bodies(page, sample):
    assert "<script" not in page
    assert "&lt;script&gt;alert(" in page
    assert sample.XSS_TEXT in html.unescape(page)


def test_html_escapes_observations(page):
    assert "ties broken by id &lt;asc&gt;" in page


def test_html_contains_the_curl_commands_and_the_python_script(page, failure, sample):
    text = html.unescape(page)
    for line in curl_commands(failure.steps, sample.TARGET, rule=failure.rule):
        assert line in text
    assert "def main(client: httpx.Client | None = None) -> int:" in text


def test_html_lists_failed_rules_first(page, report):
    positions = {rule.id: page.index(f"{rule.id}</") for rule in report.rules}
    failed = positions["sms/update/status-persists"]
    assert failed == min(positions.values())


def test_html_is_self_contained(page):
    assert "<link" not in page
    assert "src=" not in page
    assert "@import" not in page


def test_html_does_not_link_a_source_that_is_not_a_web_address(report):
    report.rules[1].source = "javascript:alert(1)"
    assert 'href="javascript' not in render_html(report)


def test_write_html_writes_utf8(report, tmp_path):
    path = tmp_path / "report.html"
    write_html(report, path)
    assert "café" in path.read_text(encoding="utf-8")


def test_html_marks_a_warning_as_a_should_rule_not_failed(report, failure):
    report.rules[1].status = "warning"
    text = html.unescape(render_html(report))
    assert "warning: a SHOULD rule, not failed without --strict" in text
    assert failure.actual in text  # told in full, as a failure is


def _long_report(report):
    """The report with one failure whose check cut the answer before ``status``."""
    from ..explained import drafts_only_failure

    report.failures = [drafts_only_failure()]
    report.rules[1].id = "sms/update/drafts-only"
    report.command = 'sms-conformance run --api-key "$CLOSE_API_KEY" --seed 12345'
    return report


def test_html_opens_with_the_summary_then_the_failures_then_the_rule_table(page):
    summary, failures, rules = (
        page.index(f'id="{name}"') for name in ("summary", "failures", "rules")
    )
    assert summary < failures < rules


def test_html_summary_bar_counts_every_status_and_says_version_seed_target_and_rerun(report):
    from conformance import __version__

    report.command = "sms-conformance run --seed 12345 --profile quick"
    page = render_html(report)
    summary = html.unescape(page[page.index('id="summary"') : page.index('id="failures"')])
    for count, status in ((1, "fail"), (1, "pass"), (1, "informational"), (1, "not run")):
        assert f"<b>{count}</b>{status}</li>" in summary
    assert "verdict-fail" in summary and "1 MUST rule failed" in summary
    assert "12345" in summary and "http://127.0.0.1:8765/api/v1" in summary
    assert f"sms-conformance {__version__}" in summary
    assert "sms-conformance run --seed 12345 --profile quick" in summary


def test_html_shows_the_field_that_differs_even_past_200_characters_of_the_answer(report):
    text = html.unescape(render_html(_long_report(report)))
    failure = text[text.index('id="failure-1"') :]
    assert 'HTTP 200, status "sent"' in failure  # the Actual box: not the cut body
    assert '<code>status: "sent"</code>' in failure  # the SMS before the request
    assert '<td><code>text</code></td><td class="expected"><code>""</code></td>' in failure
    assert '<td class="actual"><code>"0"</code></td>' in failure


def test_html_shows_each_steps_measured_time(page):
    assert "(took 12.0 ms)" in page and "(took 8.00 ms)" in page and "(took 4.00 ms)" in page


def test_html_rerun_command_never_carries_a_credential_even_if_one_was_put_in_it(report, sample):
    report.command = f"sms-conformance run --api-key {sample.FAKE_SECRETS[0]}"
    page = render_html(report, secrets=sample.FAKE_SECRETS)
    assert "sms-conformance run --api-key [redacted]" in page
    assert not any(secret in page for secret in sample.FAKE_SECRETS)


def test_html_rule_table_shows_each_rules_coverage_naming_the_boundaries_not_reached(page):
    text = html.unescape(page)
    assert "<th>Coverage</th>" in page
    assert "judged 41 times; boundaries 1/2 reached" in text
    assert "not reached: <code>send_in=0</code>" in text
    assert "judged 7 times</td>" in text  # a rule that lists no boundary
    assert "Coverage: 2 of 3 MUST/SHOULD rules judged fewer than 20 times;" in text
    assert "1 of 2 listed boundaries not reached." in text
