"""The whole suite over real HTTP against ``serve`` on loopback."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from conformance.cli import main
from conformance.refserver.seed import ORGS

pytestmark = pytest.mark.slow


def run_against(base_url: str, tmp_path, *extra: str):
    args = [
        "run",
        "--base-url",
        base_url,
        "--api-key",
        ORGS[0].api_key,
        "--second-api-key",
        ORGS[1].api_key,
        "--oauth-token",
        ORGS[0].oauth_token,
        "--profile",
        "quick",
        "--seed",
        "2",
        "--grace",
        "1",
        "--report-dir",
        str(tmp_path),
        *extra,
    ]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    return result, json.loads((tmp_path / "report.json").read_text())


def test_the_clean_server_passes_over_http_with_sending_rules_judged_on_real_time(
    reference_over_http, tmp_path
):
    with reference_over_http() as base_url:
        result, report = run_against(base_url, tmp_path, "--allow-send")
    assert result.exit_code == 0, result.output
    status = {rule["id"]: rule["status"] for rule in report["rules"]}
    assert status["sms/send/outbox-sent"] == "pass"
    assert status["sms/send/cancelled-never-sent"] == "pass"
    assert status["isolation/get"] == "pass"
    for secret in (ORGS[0].api_key, ORGS[1].api_key, ORGS[0].oauth_token):
        assert secret not in result.output
        assert secret not in json.dumps(report)


def test_without_allow_send_no_sms_is_sent_and_the_sending_rules_say_why(
    reference_over_http, tmp_path
):
    with reference_over_http() as base_url:
        result, report = run_against(base_url, tmp_path)
    assert result.exit_code == 0, result.output
    rules = {rule["id"]: rule for rule in report["rules"]}
    assert rules["sms/send/outbox-sent"]["status"] == "not-run"
    assert "--allow-send" in rules["sms/send/outbox-sent"]["reason"]
    sent = [
        step
        for failure in report["failures"]
        for step in failure["steps"]
        if isinstance(step["request"]["body"], dict)
        and step["request"]["body"].get("status") in ("outbox", "scheduled")
    ]
    assert sent == []


def test_a_broken_server_over_http_fails_naming_the_rule(reference_over_http, tmp_path):
    with reference_over_http(faults=["edit-sent-accepted"]) as base_url:
        result, report = run_against(base_url, tmp_path, "--allow-send")
    assert result.exit_code == 1
    assert report["failures"][0]["rule"] == "sms/update/drafts-only"
