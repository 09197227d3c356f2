"""``sms-conformance replay``: re-run a saved counterexample and say reproduced, fixed or
flaky (exit 1, 0, 3).

The reports here hold transcripts recorded by sending real requests to the in-process
reference server with a fault on (the ``edit_sent`` and ``cancelled_sent`` fixtures of
``tests/conftest.py``); replays run against the embedded reference server.
Whole runs over HTTP, replayed against ``serve``, are in
``tests/reporting/test_replay_over_http.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from conformance.cli import main
from conformance.clock import VirtualClock
from conformance.records import Failure, RunReport, RunStats
from conformance.refserver import ReferenceServer
from conformance.refserver.seed import ORGS
from conformance.replay import replay_failure
from conformance.reporting import write_reports
from conformance.transport import SyncASGITransport


@pytest.fixture(scope="module")
def report(tmp_path_factory, edit_sent, cancelled_sent) -> Path:
    """A report.json with two failures: a business rule, then a timing rule."""
    run = RunReport(
        verdict="fail",
        seed=1,
        target="http://reference.invalid/api/v1",
        profile="quick",
        rules=[],
        failures=[edit_sent, cancelled_sent],
        stats=RunStats(),
    )
    directory = tmp_path_factory.mktemp("report")
    return write_reports(run, directory)["json"]


def _replay(*args: str):
    return CliRunner().invoke(main, ["replay", *map(str, args)], catch_exceptions=False)


def test_a_failure_replayed_against_its_faulty_variant_is_reproduced_exit_1(report):
    result = _replay(report, "--failure", "1", "--embedded", "--fault", "edit-sent-accepted")
    assert result.exit_code == 1, result.output
    assert "reproduced: sms/update/drafts-only" in result.output


def test_a_failure_replayed_against_the_clean_server_is_fixed_after_3_more_tries_exit_0(report):
    result = _replay(report, "--failure", "1", "--embedded")
    assert result.exit_code == 0, result.output
    assert "fixed: sms/update/drafts-only - none of 4 tries" in result.output


def test_a_timing_failure_reproduces_because_the_recorded_wait_is_kept(report):
    result = _replay(
        report,
        "--rule",
        "sms/send/cancelled-never-sent",
        "--embedded",
        "--fault",
        "cancelled-still-sent",
    )
    assert result.exit_code == 1, result.output
    assert "reproduced: sms/send/cancelled-never-sent" in result.output


def test_the_report_directory_may_be_given_and_every_failure_is_replayed(report):
    result = _replay(report.parent, "--embedded", "--fault", "edit-sent-accepted")
    # The first reproduces; the second (a timing fault this server does not have) is fixed.
    assert result.exit_code == 1, result.output
    assert "reproduced: sms/update/drafts-only" in result.output
    assert "fixed: sms/send/cancelled-never-sent" in result.output


def test_a_report_recorded_on_the_embedded_server_replays_there_by_default(report):
    result = _replay(report, "--failure", "1", "--retries", "0")
    assert result.exit_code == 0, result.output
    assert "against the embedded reference server" in result.output


def test_a_replay_that_would_send_needs_allow_send_on_a_remote_target(report):
    result = _replay(
        report,
        "--rule",
        "sms/send/cancelled-never-sent",
        "--base-url",
        "http://127.0.0.1:9/api/v1",
        "--api-key",
        "k",
    )
    assert result.exit_code == 2
    assert "--allow-send" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--failure", "3"), "the report has 2 failure(s)"),
        (("--rule", "sms/nope"), "no failure of that rule"),
        (("--failure", "1", "--rule", "sms/update/drafts-only"), "not both"),
        (("--fault", "edit-sent-accepted", "--base-url", "http://x.test/api/v1"), "embedded"),
        (("--base-url", "http://x.test/api/v1"), "--api-key"),
    ],
)
def test_a_wrong_selection_or_target_is_a_usage_error_exit_2(report, args, message, monkeypatch):
    monkeypatch.delenv("CLOSE_API_KEY", raising=False)
    result = _replay(report, *args)
    assert result.exit_code == 2
    assert message in result.output


def test_an_unreadable_report_is_a_usage_error(tmp_path):
    bad = tmp_path / "report.json"
    bad.write_text("{not json")
    result = _replay(bad)
    assert result.exit_code == 2
    assert "cannot read" in result.output


def test_a_failure_that_shows_only_on_a_later_try_is_flaky(report):
    """The first try meets a clean server, the later ones a faulty one."""
    (failure, _) = _failures(report)
    clean, faulty = (
        ReferenceServer(clock=VirtualClock()),
        ReferenceServer(clock=VirtualClock(), faults=["edit-sent-accepted"]),
    )
    servers = [SyncASGITransport(clean.app), SyncASGITransport(faulty.app)]
    leads_made = []

    class Switching(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if request.method == "POST" and request.url.path.endswith("/lead/"):
                leads_made.append(request)
            return servers[min(len(leads_made), 2) - 1].handle_request(request)

    http = httpx.Client(transport=Switching(), base_url=clean.base_url + "/")
    outcome = replay_failure(
        failure,
        http,
        credentials={"basic": ORGS[0].api_key},
        sleep=lambda seconds: None,
        local_phones=ORGS[0].internal_numbers,
    )
    assert (outcome.verdict, outcome.tries) == ("flaky", 2)
    assert outcome.leftovers == []


def _failures(report: Path) -> list[Failure]:
    from conformance.replay import failures_from_report

    return failures_from_report(json.loads(report.read_text()))


def test_a_fixed_verdict_names_the_earlier_steps_that_went_another_way(report):
    # On another sending number the reference server refuses the create (step 1), so the
    # edit of step 2 meets no SMS: not shown, and the output says where the replay diverged.
    result = _replay(
        report,
        "--failure",
        "1",
        "--embedded",
        "--fault",
        "edit-sent-accepted",
        "--local-phone",
        "+15550009999",
        "--retries",
        "0",
    )
    assert result.exit_code == 0, result.output
    assert "the replay went another way before the last step: step 1 answered 4" in result.output
