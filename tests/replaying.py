"""Failures to replay, recorded as a run records them, for the replay tests
(``tests/reporting/test_replay*.py``, ``tests/test_cli_replay*.py``; the ``edit_sent`` and
``cancelled_sent`` fixtures in ``tests/conftest.py`` are built from these).

A recording sends real requests to the in-process reference server (with the faults given)
through the run's own client, on a virtual clock; a whole run can also be made to write its
report (``report_of_a_failing_run``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from conformance.cli import main
from conformance.fixtures import Fixtures
from conformance.records import Exchange, Failure
from conformance.refserver.seed import ORGS
from conformance.target import Target, embedded_target

SMS = "activity/sms/"
#: The text of the edited SMS: quotes, a dollar and a backtick, which a shell must not read.
AWKWARD_TEXT = 'it\'s "quoted" $HOME `x`'

Send = Callable[[Target, Fixtures], list[Exchange]]

#: The curl replay runs under bash and reads answers with jq: a machine without them cannot
#: run it (CI sets CI and never skips: there a missing tool fails the test).
needs_curl_and_jq = pytest.mark.skipif(
    not os.environ.get("CI") and not all(shutil.which(t) for t in ("bash", "curl", "jq")),
    reason="the curl replay needs bash, curl and jq; install them to run it (CI never skips)",
)


def record(faults: list[str], send: Send, rule: str) -> Failure:
    """A failure of ``rule`` whose steps are what ``send`` sent to the in-process reference
    server with ``faults`` on, and its answers."""
    target = embedded_target(faults=faults)
    fixtures = target.discover()
    try:
        steps = send(target, fixtures)
    finally:
        target.close()
    return Failure(rule=rule, message="m", expected="e", actual="a", steps=tuple(steps))


def sms_body(fixtures: Fixtures, **fields: Any) -> dict[str, Any]:
    """A create body from the fixtures' first number and lead to +15555550100, and ``fields``."""
    return {
        "local_phone": fixtures.internal_phones[0],
        "remote_phone": "+15555550100",
        "lead_id": fixtures.lead_id,
        **fields,
    }


def edit_a_sent_sms(target: Target, fixtures: Fixtures) -> list[Exchange]:
    """Create a sent SMS (to the fixtures' contact, with ``AWKWARD_TEXT``), then edit it."""
    body = sms_body(fixtures, status="sent", text=AWKWARD_TEXT, contact_id=fixtures.contact_id)
    created, _ = target.api.send("POST", SMS, json_body=body)
    edited, _ = target.api.send(
        "PUT", f"{SMS}{created.response.body['id']}/", json_body={"text": "changed"}
    )
    return [created, edited]


def cancel_then_read_later(target: Target, fixtures: Fixtures) -> list[Exchange]:
    """Create an SMS in outbox with send_in 10, cancel it, read it 12 s later."""
    body = sms_body(fixtures, status="outbox", send_in=10, text="timing")
    created, _ = target.api.send("POST", SMS, json_body=body)
    path = f"{SMS}{created.response.body['id']}/"
    cancelled, _ = target.api.send("PUT", path, json_body={"status": "draft"})
    target.clock.sleep(12)
    read, _ = target.api.send("GET", path)
    return [created, cancelled, read]


def schedule_cancel_read(due_in: float, cancel_after: float, read_after: float) -> Send:
    """Create a draft, schedule it ``due_in`` seconds ahead, cancel it ``cancel_after``
    seconds later, read it ``read_after`` seconds after that."""

    def send(target: Target, fixtures: Fixtures) -> list[Exchange]:
        body = sms_body(fixtures, status="draft", text="scheduled")
        created, _ = target.api.send("POST", SMS, json_body=body)
        path = f"{SMS}{created.response.body['id']}/"
        due = (target.clock.now() + timedelta(seconds=due_in)).isoformat()
        scheduled, _ = target.api.send(
            "PUT", path, json_body={"status": "scheduled", "date_scheduled": due}
        )
        target.clock.sleep(cancel_after)
        cancelled, _ = target.api.send("PUT", path, json_body={"status": "draft"})
        target.clock.sleep(read_after)
        read, _ = target.api.send("GET", path)
        return [created, scheduled, cancelled, read]

    return send


def post_text(target: Target, fixtures: Fixtures) -> list[Exchange]:
    """Create an SMS with a body sent as text/plain."""
    posted, _ = target.api.send(
        "POST", SMS, content=b"status=draft", headers={"content-type": "text/plain"}
    )
    return [posted]


def report_of_a_failing_run(directory: Path, *args: str) -> Path:
    """``sms-conformance run ARGS --report-dir DIRECTORY``, which must find a rule broken
    (exit 1); the report.json it wrote."""
    result = CliRunner().invoke(
        main, ["run", *args, "--report-dir", str(directory)], catch_exceptions=False
    )
    assert result.exit_code == 1, result.output
    return directory / "report.json"


def run_pasted(command: list[str], url: str) -> tuple[int, str]:
    """Run a pasted replay (``command``) against ``url`` as a user would: both organisations'
    keys and the URL from the environment, nothing else; its exit code and its output's tail."""
    env = {
        "PATH": os.environ["PATH"],
        "CLOSE_API_KEY": ORGS[0].api_key,
        "CLOSE_SECOND_API_KEY": ORGS[1].api_key,
        "CLOSE_API_URL": url,
    }
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    return done.returncode, (done.stdout + done.stderr)[-2000:]
