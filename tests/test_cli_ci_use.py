"""The command line in a CI job: exclusions, a baseline of known deviations, a time budget,
quiet output, plain progress lines when no one watches a terminal, a Markdown summary."""

from __future__ import annotations

import json

from click.testing import CliRunner

from conformance.cli import EXIT_FAIL, EXIT_PASS, EXIT_USAGE, main

BROKEN = ("--fault", "create-answers-201")  # every create breaks sms/create/answers-200
QUICK = ("--profile", "quick", "--seed", "1")


def invoke(*args: str):
    return CliRunner().invoke(main, ["run", *QUICK, *args], catch_exceptions=False)


def test_excluded_rules_let_a_run_that_only_breaks_them_pass(tmp_path):
    # A 201 breaks two rules: the create's own and the list of documented status codes.
    broken = ("sms/create/answers-200", "protocol/documented-status-code")
    excluded = [arg for rule in broken for arg in ("--exclude-rule", rule)]
    result = invoke(*BROKEN, *excluded, "--report-dir", str(tmp_path))
    assert result.exit_code == EXIT_PASS, result.output
    rules = {r["id"]: r for r in json.loads((tmp_path / "report.json").read_text())["rules"]}
    for rule in broken:
        assert (rules[rule]["status"], rules[rule]["reason"]) == (
            "not-run",
            "excluded by --exclude-rule",
        )


def test_an_excluded_rule_with_a_typo_exits_2_naming_the_rule_it_resembles(tmp_path):
    result = invoke("--exclude-rule", "sms/create/answer-200", "--report-dir", str(tmp_path))
    assert result.exit_code == EXIT_USAGE
    assert "--exclude-rule sms/create/answer-200: no such rule; did you mean" in result.output
    assert "sms/create/answers-200" in result.output
    assert not (tmp_path / "report.json").exists()


def test_a_baseline_of_a_failing_run_passes_the_same_failures_and_says_they_are_known(tmp_path):
    first = invoke(*BROKEN, "--report-dir", str(tmp_path / "before"))
    assert first.exit_code == EXIT_FAIL
    baseline = tmp_path / "before" / "report.json"
    again = invoke(*BROKEN, "--baseline", str(baseline), "--report-dir", str(tmp_path / "after"))
    assert again.exit_code == EXIT_PASS, again.output
    assert "known deviation(s) from the baseline still broken" in again.output


def test_a_baseline_does_not_excuse_a_new_violation(tmp_path):
    clean = invoke("--report-dir", str(tmp_path / "clean"))
    assert clean.exit_code == EXIT_PASS
    broken = invoke(
        *BROKEN,
        "--baseline",
        str(tmp_path / "clean" / "report.json"),
        "--report-dir",
        str(tmp_path),
    )
    assert broken.exit_code == EXIT_FAIL


def test_a_baseline_that_is_missing_or_not_a_report_exits_2_in_one_line(tmp_path):
    (tmp_path / "other.json").write_text('{"verdict": "pass"}')
    (tmp_path / "text.json").write_text("not json")
    for path, says in (
        (tmp_path / "missing.json", "cannot read it"),
        (tmp_path / "other.json", "not a report.json of sms-conformance"),
        (tmp_path / "text.json", "not a JSON report"),
    ):
        result = invoke("--baseline", str(path), "--report-dir", str(tmp_path / "r"))
        assert result.exit_code == EXIT_USAGE, result.output
        assert f"error: --baseline {path}: {says}" in result.output


def test_quiet_prints_the_verdict_line_only(tmp_path):
    result = invoke("--quiet", "--report-dir", str(tmp_path))
    assert result.exit_code == EXIT_PASS
    assert result.output.splitlines() == [result.output.strip()]
    assert result.output.startswith("verdict: pass - ")


def test_without_a_terminal_progress_comes_as_plain_lines_naming_each_phase(tmp_path):
    result = invoke("--report-dir", str(tmp_path))
    lines = result.output.splitlines()
    assert "[round] state machine, round 1" in lines
    assert "[round] schema phase (schemathesis)" in lines
    assert lines.count("[round] state machine, round 1") == 1
    assert not any("\x1b[" in line for line in lines)  # no terminal control codes


def test_a_markdown_summary_is_appended_to_the_file_named(tmp_path):
    summary = tmp_path / "summary.md"
    summary.write_text("# earlier step\n")
    result = invoke(*BROKEN, "--summary-md", str(summary), "--report-dir", str(tmp_path / "r"))
    assert result.exit_code == EXIT_FAIL
    text = summary.read_text()
    assert text.startswith("# earlier step\n## ❌ sms-conformance: fail")
    assert "| `sms/create/answers-200` | fail |" in text
    assert "### Behaviour profile" in text


def test_a_summary_file_that_cannot_be_written_exits_2_before_the_run(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = invoke(
        "--summary-md", str(blocker / "summary.md"), "--report-dir", str(tmp_path / "r")
    )
    assert result.exit_code == EXIT_USAGE
    assert "--summary-md" in result.output and "cannot be written to" in result.output
    assert not (tmp_path / "r" / "report.json").exists()


def test_max_time_and_its_old_name_are_accepted_on_the_embedded_server(tmp_path):
    for option in ("--max-time", "--max-duration"):
        result = invoke(option, "600", "--report-dir", str(tmp_path))
        assert result.exit_code == EXIT_PASS, result.output
