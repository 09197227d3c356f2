"""The command line: exit codes, reports on disk, clear one-line errors, no secrets."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest
from click.testing import CliRunner

from conformance.cli import main

SECRETS = ("ref-key-org-a", "ref-key-org-b", "ref-oauth-org-a", "ref-oauth-org-b")


def invoke(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def assert_no_secret_in(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text


def test_run_with_no_target_checks_the_embedded_server_and_writes_three_reports(tmp_path):
    result = invoke("run", "--profile", "quick", "--seed", "3", "--report-dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "verdict: pass" in result.output
    files = {path.name: path.read_text() for path in tmp_path.iterdir()}
    assert set(files) == {"report.json", "junit.xml", "report.html"}
    report = json.loads(files["report.json"])
    assert (report["verdict"], report["seed"]) == ("pass", 3)
    assert_no_secret_in(result.output, *files.values())


def test_run_against_a_broken_server_exits_1_naming_the_rule(tmp_path):
    result = invoke(
        "run",
        "--profile",
        "quick",
        "--seed",
        "1",
        "--report-dir",
        str(tmp_path),
        "--fault",
        "create-answers-201",
    )
    assert result.exit_code == 1
    assert "FAIL sms/create/answers-200" in result.output
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["failures"][0]["replay"]["curl"]
    assert_no_secret_in(result.output, (tmp_path / "report.html").read_text())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--base-url", "http://example.test/v2"], "must end in /api/v1"),
        (["--base-url", "ftp://example.test/api/v1", "--api-key", "k"], "http:// or https://"),
        (["--base-url", "http://example.test/api/v1"], "needs --api-key or --oauth-token"),
        (["--fault", "no-such-fault"], "unknown fault"),
        (["--base-url", "http://x.test/api/v1", "--api-key", "k", "--recipient", "555"], "E.164"),
    ],
)
def test_bad_configuration_exits_2_with_one_clear_line(tmp_path, args, message):
    result = CliRunner().invoke(
        main,
        ["run", "--report-dir", str(tmp_path), *args],
        env={"CLOSE_API_KEY": "", "CLOSE_API_URL": ""},
    )
    assert result.exit_code == 2
    assert message in result.output


def test_an_unreachable_target_exits_3(tmp_path):
    result = invoke(
        "run",
        "--base-url",
        "http://127.0.0.1:9/api/v1",
        "--api-key",
        "secret-key",
        "--profile",
        "quick",
        "--report-dir",
        str(tmp_path),
    )
    assert result.exit_code == 3
    assert "inconclusive" in result.output
    assert "secret-key" not in result.output
    assert "secret-key" not in (tmp_path / "report.json").read_text()


def test_credentials_come_from_the_environment(tmp_path):
    result = invoke(
        "run",
        "--profile",
        "quick",
        "--report-dir",
        str(tmp_path),
        env={"CLOSE_API_URL": "http://127.0.0.1:9/api/v1", "CLOSE_API_KEY": "env-key"},
    )
    assert result.exit_code == 3  # it tried the target from the environment


def test_self_test_on_chosen_faults_writes_its_kill_matrix(tmp_path):
    result = invoke(
        "self-test",
        "--profile",
        "quick",
        "--seed",
        "1",
        "--jobs",
        "1",
        "--fault",
        "create-answers-201",
        "--fault",
        "edit-sent-accepted",
        "--report-dir",
        str(tmp_path),
    )
    assert result.exit_code == 0, result.output
    matrix = json.loads((tmp_path / "selftest.json").read_text())
    assert matrix["summary"]["kill_rate"] == 1.0
    assert matrix["summary"]["false_alarms"] == 0
    assert {kill["fault"] for kill in matrix["kills"]} == {
        "create-answers-201",
        "edit-sent-accepted",
    }


def test_serve_rejects_an_unknown_fault():
    result = CliRunner().invoke(main, ["serve", "--fault", "nope"])
    assert result.exit_code == 2
    assert "unknown fault" in result.output


@pytest.mark.parametrize("forget", [False, True])
def test_an_interrupt_caught_inside_exec_leaves_the_exit_code_alone_once_forgotten(
    tmp_path, forget
):
    # A Ctrl-C landing while code from a string runs (dataclass set-up, say) is caught by
    # the run, yet `python -m` would still die by SIGINT at exit: the run's exit code lost.
    (tmp_path / "caught_inside_exec.py").write_text(
        "import sys\n"
        "from conformance.cli import forget_a_caught_interrupt\n"
        "try:\n"
        "    exec('raise KeyboardInterrupt')\n"
        "except KeyboardInterrupt:\n"
        "    pass\n"
        f"if {forget}:\n"
        "    forget_a_caught_interrupt()\n"
        "sys.exit(3)\n"
    )
    process = subprocess.run(
        [sys.executable, "-m", "caught_inside_exec"], cwd=tmp_path, capture_output=True
    )
    assert process.returncode == (3 if forget else -signal.SIGINT)
