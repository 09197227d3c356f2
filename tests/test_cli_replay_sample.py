"""A sample of faulty variants, each run by the suite on the embedded server; every recorded
failure is then re-run with ``sms-conformance replay``: ``reproduced`` against that variant,
``fixed`` against the clean server. The sample spans business rules, timing (send_in,
date_scheduled), lists, isolation (a second organisation) and authentication."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from conformance.cli import main
from tests.replaying import report_of_a_failing_run

pytestmark = pytest.mark.slow

SAMPLE = (
    "edit-sent-accepted",
    "cancelled-still-sent",
    "send-in-ignored",
    "isolation-get-leak",
    "wrong-key-accepted",
    "template-unrendered",
    "deleted-still-readable",
)


@pytest.mark.parametrize("fault", SAMPLE)
def test_every_failure_of_a_run_replays_reproduced_on_its_variant_and_fixed_on_the_clean_server(
    fault, tmp_path
):
    # quick reaches the isolation rules only on some seeds; ci, on every variant (kill matrix).
    profile = "ci" if fault.startswith("isolation-") else "quick"
    args = ("--fault", fault, "--profile", profile, "--seed", "1")
    report = report_of_a_failing_run(tmp_path, *args)
    runner = CliRunner()
    faulty = runner.invoke(main, ["replay", str(report), "--embedded", "--fault", fault])
    clean = runner.invoke(main, ["replay", str(report), "--embedded", "--retries", "0"])
    verdicts = [line.split(":")[0] for line in faulty.output.splitlines() if ": " in line]
    assert verdicts and set(verdicts) == {"reproduced"}, faulty.output
    assert faulty.exit_code == 1
    assert clean.exit_code == 0, clean.output
    assert "reproduced" not in clean.output
