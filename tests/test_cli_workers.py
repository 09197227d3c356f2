"""``run --workers N`` and ``run --latency``: the flags, their errors, the rerun command."""

from __future__ import annotations

import json

from click.testing import CliRunner

from conformance.cli import EXIT_USAGE, main


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_run_with_two_workers_passes_the_embedded_server_and_the_rerun_command_keeps_them(
    tmp_path,
):
    result = invoke(
        "run", "--profile", "quick", "--seed", "3", "--workers", "2",
        "--report-dir", str(tmp_path),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "2 workers" in result.output
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["verdict"] == "pass"
    assert "--workers 2" in report["command"]


def test_zero_workers_is_a_usage_error():
    result = invoke("run", "--workers", "0")
    assert result.exit_code == EXIT_USAGE
    assert "--workers" in result.output


def test_latency_with_a_base_url_is_a_usage_error_naming_the_option(tmp_path):
    result = invoke(
        "run", "--latency", "0.05", "--base-url", "http://127.0.0.1:9/api/v1",
        "--api-key", "k", "--report-dir", str(tmp_path),
    )  # fmt: skip
    assert result.exit_code == EXIT_USAGE
    assert "--latency applies to the embedded server only" in result.output
