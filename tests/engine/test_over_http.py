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
    # Isolation was judged over HTTP too (which of its rules a short run reaches varies).
    isolation = [status[rule] for rule in ("isolation/get", "isolation/list", "isolation/modify")]
    assert "pass" in isolation
    for secret in (ORGS[0].api_key, ORGS[1].api_key, ORGS[0].oauth_token):
        assert secret not in result.output
        assert secret not in json.dumps(report)


def test_without_allow_send_no_sms_is_sent_and_the_sending_rules_say_why(
    reference_over_http, tmp_path
):
    from conformance.refserver.storage import Storage

    db = str(tmp_path / "audit.sqlite3")
    with reference_over_http(db_path=db) as base_url:
        result, report = run_against(base_url, tmp_path)
    assert result.exit_code == 0, result.output
    # The server's own audit: no SMS was ever stored in a status that delivers it.
    audit = Storage(db)
    assert audit.statuses_ever("sms") & {"outbox", "scheduled"} == set()
    assert "draft" in audit.statuses_ever("sms")
    audit.close()
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


def test_a_rate_limited_noisy_server_still_passes_and_the_noise_is_counted(reference_over_http):
    from conformance.client import Credentials
    from conformance.engine import run_target
    from conformance.model import Timing
    from conformance.profiles import Profile
    from conformance.target import remote_target

    with reference_over_http(rate_limit=5, transient_share=0.02) as base_url:
        target = remote_target(
            base_url,
            Credentials(ORGS[0].api_key, None, ORGS[1].api_key),
            allow_send=True,
            timing=Timing(early=2, grace=2),
        )
        report = run_target(target, profile=Profile("tiny", 8, 15, 3), seed_value=1)
    assert report.verdict == "pass", (report.reason, report.failures)
    assert report.stats.transient_errors > 0


def test_an_interrupted_run_leaves_nothing_behind(reference_over_http, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    import httpx

    with reference_over_http(latency=0.01) as base_url:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "conformance.cli",
                "run",
                "--base-url",
                base_url,
                "--api-key",
                ORGS[0].api_key,
                "--allow-send",
                "--profile",
                "deep",
                "--report-dir",
                str(tmp_path),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        client = httpx.Client(base_url=base_url + "/", auth=(ORGS[0].api_key, ""))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # wait until the run is creating SMS
            leads = client.get("lead/").json()["data"]
            if (
                leads
                and client.get("activity/sms/", params={"lead_id": leads[0]["id"]}).json()["data"]
            ):
                break
            time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
        assert process.returncode == 3, output
        assert "interrupted" in output
        leads = client.get("lead/").json()["data"]
        assert [lead for lead in leads if lead["name"].startswith("sms-conformance")] == []
        assert client.get("sms_template/").json()["data"] == []
        assert client.get("activity/sms/").json()["data"] == []


def test_fixtures_named_by_option_are_used_and_kept(reference_over_http, tmp_path):
    import httpx

    with reference_over_http() as base_url:
        client = httpx.Client(base_url=base_url + "/", auth=(ORGS[0].api_key, ""))
        lead = client.post("lead/", json={"name": "Mine", "contacts": [{"name": "Zoe Q"}]}).json()
        template = client.post(
            "sms_template/", json={"name": "mine", "text": "Yo {{contact.first_name}}!"}
        ).json()
        result, report = run_against(
            base_url,
            tmp_path,
            "--lead-id",
            lead["id"],
            "--template-id",
            template["id"],
            "--local-phone",
            ORGS[0].internal_numbers[1],
        )
        assert result.exit_code == 0, result.output
        status = {rule["id"]: rule["status"] for rule in report["rules"]}
        assert status["sms/create/template-renders"] == "pass"
        assert client.get(f"lead/{lead['id']}/").status_code == 200
        assert client.get(f"sms_template/{template['id']}/").status_code == 200
        assert client.get("activity/sms/", params={"lead_id": lead["id"]}).json()["data"] == []
