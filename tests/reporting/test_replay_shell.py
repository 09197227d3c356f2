"""The curl replay run for real by bash against fresh reference servers over HTTP.

The transcript is recorded by sending real requests to the in-process reference server with
the fault on (as a run does: ``tests/replaying.py``; ``edit_sent`` is a fixture of
``tests/conftest.py``, its text one a shell must not read); whole runs over HTTP are in
``test_replay_over_http.py``.
"""

from __future__ import annotations

import os
import subprocess

import httpx
import pytest

from conformance.refserver.seed import ORGS
from conformance.reporting.replay import curl_commands
from tests.replaying import SMS, needs_curl_and_jq, post_text, record, schedule_cancel_read

pytestmark = needs_curl_and_jq


def _bash(script: list[str], base_url: str, **env: str) -> subprocess.CompletedProcess[str]:
    variables = {
        "PATH": os.environ["PATH"],
        "CLOSE_API_URL": base_url,
        "CLOSE_API_KEY": ORGS[0].api_key,
        **env,
    }
    return subprocess.run(
        ["bash", "-c", "\n".join(script)],
        env={k: v for k, v in variables.items() if v},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_curl_replay_exits_1_on_a_fresh_faulty_server_and_leaves_nothing(
    edit_sent, reference_over_http
):
    script = curl_commands(edit_sent.steps, "http://recorded.invalid/api/v1", rule=edit_sent.rule)
    with reference_over_http(faults=["edit-sent-accepted"]) as base_url:
        done = _bash(script, base_url)
        client = httpx.Client(base_url=base_url + "/", auth=(ORGS[0].api_key, ""))
        leads = client.get("lead/").json()["data"]
        sms = client.get(SMS).json()["data"]
    assert done.returncode == 1, done.stdout + done.stderr
    assert "REPRODUCED" in done.stdout
    assert "POST /lead/ -> 200" in done.stdout
    assert (leads, sms) == ([], [])


def test_the_curl_replay_exits_0_on_a_fresh_clean_server(edit_sent, reference_over_http):
    script = curl_commands(edit_sent.steps, "http://recorded.invalid/api/v1", rule=edit_sent.rule)
    with reference_over_http() as base_url:
        done = _bash(script, base_url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "not reproduced" in done.stdout


def test_the_curl_replay_sends_the_recorded_text_unchanged(edit_sent, reference_over_http):
    script = curl_commands(edit_sent.steps, "http://recorded.invalid/api/v1", rule=edit_sent.rule)
    with reference_over_http(faults=["edit-sent-accepted"]) as base_url:
        done = _bash(script, base_url)
    assert '"text":"it\'s \\"quoted\\" $HOME `x`"' in done.stdout


def test_without_the_api_key_the_curl_replay_exits_2_before_sending(edit_sent, reference_over_http):
    script = curl_commands(edit_sent.steps, "http://recorded.invalid/api/v1")
    with reference_over_http() as base_url:
        done = _bash(script, base_url, CLOSE_API_KEY="")
    assert done.returncode == 2
    assert "set CLOSE_API_KEY first" in done.stderr
    assert "->" not in done.stdout


def test_an_unreachable_target_makes_the_curl_replay_exit_2(edit_sent):
    script = curl_commands(edit_sent.steps, "http://recorded.invalid/api/v1")
    done = _bash(script, "http://127.0.0.1:9/api/v1")
    assert done.returncode == 2, done.stdout + done.stderr


@pytest.mark.slow
def test_the_curl_replay_moves_a_date_scheduled_and_keeps_the_waits(reference_over_http):
    """Scheduled 5 s ahead, cancelled after 2 s, read after 7 s: recorded in-process on a
    virtual clock, replayed in real time. Only a server that sends a cancelled SMS shows it."""
    send = schedule_cancel_read(due_in=5, cancel_after=2, read_after=5)
    steps = record(["cancelled-still-sent"], send, "sms/send/cancelled-never-sent").steps
    assert steps[-1].response.body["status"] == "sent"
    script = curl_commands(steps, "http://recorded.invalid/api/v1", rule="r")
    assert "sleep 2  # as recorded" in script and "sleep 5  # as recorded" in script
    with (
        reference_over_http(faults=["cancelled-still-sent"]) as faulty,
        reference_over_http() as clean,
    ):
        runs = [
            subprocess.Popen(
                ["bash", "-c", "\n".join(script)],
                env={
                    "PATH": os.environ["PATH"],
                    "CLOSE_API_URL": url,
                    "CLOSE_API_KEY": ORGS[0].api_key,
                },
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for url in (faulty, clean)
        ]
        outputs = [run.communicate(timeout=60)[0] for run in runs]
    assert [run.returncode for run in runs] == [1, 0], outputs


def test_a_text_body_is_sent_by_curl_as_text(reference_over_http):
    (posted,) = record([], post_text, "protocol/json-body").steps
    script = curl_commands((posted,), "http://recorded.invalid/api/v1", symptom=None)
    script = [line for line in script if line != "exit 3"]
    script.append('echo "answer: $STATUS"')
    with reference_over_http() as base_url:
        done = _bash(script, base_url)
    assert f"answer: {posted.response.status_code}" in done.stdout, done.stdout + done.stderr
