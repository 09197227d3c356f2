"""The replays in a real report, executed as pasted.

The suite runs over HTTP against a faulty reference server (``serve`` on a thread); the
failure's curl and Python replays are taken from the report.json it wrote, written to
files and executed with bash and python, and ``sms-conformance replay`` re-runs the report:
against a fresh faulty server on the recorded address, with nothing but the API key in the
environment, all three exit 1 (reproduced); against a fresh clean server
(``CLOSE_API_URL``) they exit 0 (fixed).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from conformance.refserver.seed import ORGS
from tests.replaying import needs_curl_and_jq, report_of_a_failing_run

SOURCE = str(Path(__file__).resolve().parents[2])  # this checkout, for `-m conformance.cli`

pytestmark = [
    pytest.mark.slow,
    needs_curl_and_jq,
]


def _failing_report(base_url: str, directory: Path) -> dict:
    report = report_of_a_failing_run(
        directory,
        *("--base-url", base_url, "--api-key", ORGS[0].api_key, "--allow-send"),
        *("--profile", "quick", "--seed", "2", "--grace", "1"),
    )
    return json.loads(report.read_text())


def _replays(report: dict, rule: str, directory: Path) -> tuple[Path, Path]:
    (failure,) = [f for f in report["failures"] if f["rule"] == rule]
    shell = directory / "replay.sh"
    shell.write_text("\n".join(failure["replay"]["curl"]) + "\n")
    script = directory / "replay.py"
    script.write_text(failure["replay"]["python"])
    return shell, script


def _start(command: list[str], base_url: str | None) -> subprocess.Popen[str]:
    env = {"PATH": os.environ["PATH"], "CLOSE_API_KEY": ORGS[0].api_key, "PYTHONPATH": SOURCE}
    if base_url is not None:
        env["CLOSE_API_URL"] = base_url
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def _exit_codes(report: Path, faulty: str | None, clean: str) -> dict[str, int]:
    """Run both pasted replays and the replay command against both servers at once;
    return each exit code."""
    shell, script = report.parent / "replay.sh", report.parent / "replay.py"
    command = [sys.executable, "-m", "conformance.cli", "replay", str(report), "--allow-send"]
    command += ["--retries", "1"]
    runs = {
        "bash faulty": _start(["bash", str(shell)], faulty),
        "python faulty": _start([sys.executable, str(script)], faulty),
        "replay faulty": _start(command, faulty),
        "bash clean": _start(["bash", str(shell)], clean),
        "python clean": _start([sys.executable, str(script)], clean),
        "replay clean": _start(command, clean),
    }
    codes = {}
    for name, process in runs.items():
        output, _ = process.communicate(timeout=120)
        codes[name] = process.returncode
        print(f"--- {name} -> {process.returncode}\n{output}")
    return codes


@pytest.mark.parametrize(
    ("fault", "rule", "waits"),
    [
        ("edit-sent-accepted", "sms/update/drafts-only", False),
        ("cancelled-still-sent", "sms/send/cancelled-never-sent", True),
    ],
)
def test_the_replays_of_a_real_report_reproduce_on_the_faulty_server_only(
    reference_over_http, tmp_path, fault, rule, waits
):
    with reference_over_http(faults=[fault]) as recorded:
        report = _failing_report(recorded, tmp_path)
    shell, script = _replays(report, rule, tmp_path)
    text = shell.read_text() + script.read_text()
    for org in ORGS:
        assert org.api_key not in text
    # The recorded waits (the helpers that wait out a 429 sleep too, only when throttled).
    assert (
        any(
            line.startswith("sleep ") and line.endswith("# as recorded")
            for line in shell.read_text().splitlines()
        )
        is waits
    )
    assert (
        any(
            line.strip().startswith("time.sleep(") and line.endswith("# as recorded")
            for line in script.read_text().splitlines()
        )
        is waits
    )
    port = urlsplit(recorded).port
    # The faulty server comes back fresh on the recorded address: the replays run as pasted.
    with (
        reference_over_http(faults=[fault], port=port) as again,
        reference_over_http() as clean,
    ):
        assert again == recorded
        codes = _exit_codes(tmp_path / "report.json", None, clean)
    assert codes == {
        "bash faulty": 1,
        "python faulty": 1,
        "replay faulty": 1,
        "bash clean": 0,
        "python clean": 0,
        "replay clean": 0,
    }
