"""The pytest plugin: one test per catalogue rule, outcomes from one shared run."""

from __future__ import annotations

import pytest

from conformance.catalogue import CATALOGUE

pytest_plugins = ["pytester"]

QUICK = ("--sms-conformance", "--sms-profile", "quick", "--sms-seed", "1", "-p", "no:xdist")


def test_the_clean_reference_server_passes_every_rule_it_runs(pytester: pytest.Pytester):
    result = pytester.runpytest(*QUICK, "-rs")
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) == 0
    assert outcomes["passed"] + outcomes.get("skipped", 0) == len(CATALOGUE) + 1  # + the run
    assert outcomes["passed"] > len(CATALOGUE) // 2
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        [
            "sms-conformance: pass - * (target *, profile quick, seed 1; repeat with --sms-seed 1)",
            "sms-conformance coverage: * of * MUST/SHOULD rules judged fewer than 20 times; "
            "* of * listed boundaries not reached",
        ]
    )


def test_a_broken_rule_fails_its_test_with_expected_actual_and_a_replay(
    pytester: pytest.Pytester,
):
    result = pytester.runpytest(*QUICK, "--sms-fault", "cancel-refused")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*sms/update/cancel-outbox: *",
            "expected: *",
            "actual: *",
            "*curl *",
            "*/activity/sms/*",
        ]
    )
    result.stdout.fnmatch_lines(["FAILED sms-conformance::sms/update/cancel-outbox*"])
    assert "ref-key-org-a" not in result.stdout.str()


def test_without_the_flag_the_plugin_adds_nothing(pytester: pytest.Pytester):
    pytester.makepyfile("def test_mine():\n    assert True\n")
    result = pytester.runpytest("-p", "no:xdist")
    result.assert_outcomes(passed=1)


def test_an_unknown_profile_is_a_usage_error(pytester: pytest.Pytester):
    result = pytester.runpytest("--sms-conformance", "--sms-profile", "nope", "-p", "no:xdist")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--sms-profile must be one of*"])


def test_a_report_dir_gets_the_same_three_reports_as_the_command_line(
    pytester: pytest.Pytester, tmp_path
):
    import json

    result = pytester.runpytest(
        *QUICK, "--sms-fault", "cancel-refused", "--sms-report-dir", str(tmp_path / "out")
    )
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["verdict"] == "fail"
    # The variant's own rule is broken; what its effect breaks later rounds may vary.
    assert "sms/update/cancel-outbox" in [f["rule"] for f in report["failures"]]
    assert (tmp_path / "out" / "junit.xml").exists() and (tmp_path / "out" / "report.html").exists()
    result.stdout.fnmatch_lines(["sms-conformance reports: *report.json*"])
    assert report["command"] == (
        "pytest --sms-conformance --sms-profile quick --sms-seed 1 --sms-fault cancel-refused"
    )


def test_a_failed_rule_tells_the_field_past_200_characters_of_the_answer():
    from types import SimpleNamespace

    from conformance.pytest_plugin import _failure_text

    from .explained import drafts_only_failure

    failure = drafts_only_failure()
    report = SimpleNamespace(failures=[failure], target="http://127.0.0.1:1/api/v1")
    text = _failure_text(report, failure.rule)

    assert "…" in failure.actual and '"status": "sent"' not in failure.actual
    assert 'actual:   HTTP 200, status "sent"' in text
    assert '  text: expected "", got "0"' in text
    assert 'before (step 1): status "sent", text ""' in text


def _remote(base_url: str) -> tuple[str, ...]:
    return ("--sms-conformance", "--sms-base-url", base_url, "--sms-seed", "7", "-p", "no:xdist")


def assert_one_error_naming_the_seed(result: pytest.RunResult, why: str) -> None:
    result.assert_outcomes(errors=1, skipped=len(CATALOGUE))  # not one failure per rule
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            f"*inconclusive: {why}*",
            "target *, profile ci, seed 7 (repeat with --sms-seed 7); no rule was judged",
        ]
    )
    result.stdout.fnmatch_lines(["ERROR sms-conformance::run*"])
    result.stdout.fnmatch_lines(
        ["sms-conformance: inconclusive - * (target *, profile ci, seed 7; repeat with *)"]
    )
    assert "FAILED" not in result.stdout.str()


def test_an_unreachable_target_is_one_error_naming_the_seed_not_a_failure_per_rule(
    pytester: pytest.Pytester, monkeypatch
):
    monkeypatch.setenv("CLOSE_API_KEY", "a-key-1234")
    result = pytester.runpytest(*_remote("http://127.0.0.1:9/api/v1"))
    assert_one_error_naming_the_seed(result, "*")
    assert "a-key-1234" not in result.stdout.str()


def test_a_target_refusing_the_credentials_is_one_error_naming_the_seed(
    pytester: pytest.Pytester, monkeypatch, reference_over_http
):
    monkeypatch.setenv("CLOSE_API_KEY", "a-wrong-key-1234")
    with reference_over_http() as base_url:
        result = pytester.runpytest(*_remote(base_url), "-rsE")
    assert_one_error_naming_the_seed(result, "*401*")
    result.stdout.fnmatch_lines(
        ["SKIPPED [[]*] *not judged: the run was inconclusive (see the error of *::run)"]
    )
    assert "a-wrong-key-1234" not in result.stdout.str()


# -- the close_sms_api fixture: the reference server as a fake for users' own code ---------

FAKE_TESTS = """
import socket

import httpx
import pytest


def _lead(fake):
    return fake.add_lead("Acme", contacts=[{"name": "Jo", "phones": [{"phone": "+15555550123"}]}])


def test_first_writes(close_sms_api):
    lead = _lead(close_sms_api)
    answer = httpx.post(
        "https://api.close.com/api/v1/activity/sms/",
        auth=(close_sms_api.api_key, ""),
        json={"lead_id": lead["id"], "contact_id": lead["contacts"][0]["id"],
              "local_phone": close_sms_api.internal_numbers[0],
              "remote_phone": "+15555550123", "text": "hi", "status": "outbox"},
    )
    assert answer.status_code == 200, answer.text
    close_sms_api.clock.advance(60)
    assert len(close_sms_api.sent()) == 1


def test_second_sees_nothing_of_the_first(close_sms_api):
    answer = httpx.get("https://api.close.com/api/v1/activity/sms/",
                       auth=(close_sms_api.api_key, ""))
    assert answer.json()["data"] == []
    assert close_sms_api.sms() == []


def test_no_network_socket_is_opened(close_sms_api, monkeypatch):
    opened = socket.socket

    def refuse_network(family=socket.AF_INET, *args, **kwargs):
        if family in (socket.AF_INET, socket.AF_INET6):
            raise AssertionError("a network socket was opened")
        return opened(family, *args, **kwargs)

    monkeypatch.setattr(socket, "socket", refuse_network)
    answer = httpx.get("https://api.close.com/api/v1/me/", auth=(close_sms_api.api_key, ""))
    assert answer.status_code == 200


@pytest.mark.close_sms_api(rate_limit=1, readings={"not-found-body": "html"})
def test_the_mark_configures_the_fake(close_sms_api):
    assert close_sms_api.server.limiter.limit == 1
    assert close_sms_api.server.readings["not-found-body"] == "html"
"""


def test_the_close_sms_api_fixture_gives_each_test_a_fresh_fake_configured_by_its_mark(
    pytester: pytest.Pytester,
):
    pytester.makepyfile(test_users_code=FAKE_TESTS)
    result = pytester.runpytest("-p", "no:xdist")
    result.assert_outcomes(passed=4)


def test_the_close_sms_api_mark_with_an_unknown_fault_errors_naming_the_known_ones(
    pytester: pytest.Pytester,
):
    pytester.makepyfile(
        "import pytest\n\n"
        "@pytest.mark.close_sms_api(faults=['no-such-fault'])\n"
        "def test_mine(close_sms_api):\n"
        "    pass\n"
    )
    result = pytester.runpytest("-p", "no:xdist")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*no-such-fault*cancelled-still-sent*"])


def test_under_xdist_the_suite_runs_once_with_a_state_machine_per_xdist_worker(
    pytester: pytest.Pytester, tmp_path
):
    result = pytester.runpytest(
        "--sms-conformance", "--sms-profile", "quick", "--sms-seed", "1", "-n", "2",
        "--sms-report-dir", str(tmp_path),
    )  # fmt: skip
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) == 0, result.stdout.str()
    assert outcomes["passed"] + outcomes.get("skipped", 0) == len(CATALOGUE) + 1
    import json

    report = json.loads((tmp_path / "report.json").read_text())
    assert "--sms-workers 2" in report["command"]


def test_the_xdist_workers_share_one_run_through_the_session_file(monkeypatch, tmp_path):
    from types import SimpleNamespace

    import conformance.pytest_plugin as plugin

    monkeypatch.setattr("tempfile.gettempdir", lambda: str(tmp_path))
    runs = []
    monkeypatch.setattr(plugin, "_run", lambda config: runs.append(config) or ("report", "r"))
    first = SimpleNamespace(workerinput={"testrunuid": "abc", "workercount": 2})
    second = SimpleNamespace(workerinput={"testrunuid": "abc", "workercount": 2})
    assert plugin._run_once_for_xdist(first) == ("report", "r")
    assert plugin._run_once_for_xdist(second) == ("report", "r")
    assert runs == [first]  # the second xdist worker read the first one's run
