"""The run id, what clean-up left behind and the command that removes it, in every format."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest

from conformance.reporting import write_reports

RUN_ID = "3f9c1e2a7b4d"
LEFTOVERS = ["lead/lead_Left1/", "sms_template/tmpl_Left2/"]
COMMAND = "sms-conformance cleanup --base-url http://127.0.0.1:8765/api/v1 --run-id 3f9c1e2a7b4d"


@pytest.fixture
def files(report, tmp_path) -> dict[str, str]:
    left = replace(report, run_id=RUN_ID, leftovers=list(LEFTOVERS), cleanup_command=COMMAND)
    paths = write_reports(left, tmp_path)
    return {fmt: path.read_text(encoding="utf-8") for fmt, path in paths.items()}


def test_the_json_report_holds_the_run_id_the_leftovers_and_the_cleanup_command(files):
    data = json.loads(files["json"])
    assert (data["run_id"], data["leftovers"], data["cleanup_command"]) == (
        RUN_ID,
        LEFTOVERS,
        COMMAND,
    )


def test_the_junit_suite_has_them_as_properties(files):
    (suite,) = ET.fromstring(files["junit"]).iter("testsuite")
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["run_id"] == RUN_ID
    assert properties["leftovers"].split() == LEFTOVERS
    assert properties["cleanup_command"] == COMMAND


def test_the_html_page_shows_the_run_id_every_leftover_and_the_command(files):
    page = files["html"]
    assert RUN_ID in page
    assert "Left behind" in page
    for path in LEFTOVERS:
        assert f"<code>{path}</code>" in page
    assert COMMAND in page


def test_a_run_that_left_nothing_shows_no_leftover_section_and_no_command(report, tmp_path):
    paths = write_reports(replace(report, run_id=RUN_ID), tmp_path)
    data = json.loads(paths["json"].read_text())
    assert (data["leftovers"], data["cleanup_command"]) == ([], None)
    assert "Left behind" not in paths["html"].read_text()
    names = {p.get("name") for p in ET.parse(paths["junit"]).getroot().iter("property")}
    assert "run_id" in names and not {"leftovers", "cleanup_command"} & names
