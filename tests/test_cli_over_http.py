"""``--over-http``: the embedded reference server on a loopback port, reached over real HTTP
(its virtual clock stays in this process), for ``run``, ``replay --embedded`` and
``self-test``; refused, with exit 2, where there is no embedded server to serve."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from conformance.cli import EXIT_FAIL, EXIT_PASS, EXIT_USAGE, main
from tests.replaying import report_of_a_failing_run


def test_over_http_with_a_base_url_is_a_usage_error_naming_the_option(tmp_path):
    result = CliRunner().invoke(
        main,
        ["run", "--over-http", "--base-url", "http://127.0.0.1:9/api/v1", "--api-key", "k",
         "--report-dir", str(tmp_path)],
    )  # fmt: skip
    assert result.exit_code == EXIT_USAGE, result.output
    assert "--over-http applies to the embedded server only" in result.output


def test_replay_over_http_without_embedded_is_a_usage_error(tmp_path):
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"target": "http://127.0.0.1:9/api/v1", "failures": []}))
    result = CliRunner().invoke(main, ["replay", str(report), "--over-http", "--api-key", "k"])
    assert result.exit_code == EXIT_USAGE, result.output


@pytest.mark.slow
def test_a_run_over_http_reports_the_loopback_address_and_catches_a_variant(tmp_path):
    result = CliRunner().invoke(
        main,
        ["run", "--over-http", "--profile", "quick", "--seed", "1", "--fault",
         "edit-sent-accepted", "--report-dir", str(tmp_path)],
    )  # fmt: skip
    assert result.exit_code == EXIT_FAIL, result.output
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["target"].startswith("http://127.0.0.1:")  # a real socket, not in-process
    assert "sms/update/drafts-only" in {failure["rule"] for failure in report["failures"]}


@pytest.mark.slow
def test_a_failure_replays_over_http_reproduced_on_its_variant(tmp_path):
    report = report_of_a_failing_run(
        tmp_path, "--fault", "edit-sent-accepted", "--profile", "quick", "--seed", "1"
    )
    runner = CliRunner()
    args = ["replay", str(report), "--embedded", "--over-http", "--rule", "sms/update/drafts-only"]
    faulty = runner.invoke(main, [*args, "--fault", "edit-sent-accepted"])
    clean = runner.invoke(main, [*args, "--retries", "0"])
    assert faulty.exit_code == EXIT_FAIL, faulty.output
    assert "reproduced" in faulty.output
    assert clean.exit_code == EXIT_PASS, clean.output
