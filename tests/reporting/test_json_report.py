"""The JSON report: its shape, key order and encoding."""

from __future__ import annotations

import json

from conformance.reporting.json_report import to_json_dict, write_json

TOP_LEVEL = [
    "verdict",
    "seed",
    "target",
    "profile",
    "reason",
    "started_at",
    "run_id",
    "leftovers",
    "cleanup_command",
    "strict",
    "tool_version",
    "command",
    "numbers",
    "rules",
    "failures",
    "open_points",
]
RULE_KEYS = [
    "id",
    "status",
    "level",
    "statement",
    "quote",
    "source",
    "checked",
    "boundaries",
    "observations",
    "reason",
]


def test_json_report_top_level_keys_come_in_the_documented_order(report):
    assert list(to_json_dict(report)) == [*TOP_LEVEL, "stats"]


def test_json_report_round_trips_through_json_loads(report, tmp_path):
    path = tmp_path / "report.json"
    write_json(report, path)

    assert json.loads(path.read_text(encoding="utf-8")) == to_json_dict(report)


def test_json_report_is_indented_utf8_with_non_ascii_kept(report, tmp_path):
    path = tmp_path / "report.json"
    write_json(report, path)
    text = path.read_bytes().decode("utf-8")

    assert "café" in text
    assert "\\u00e9" not in text
    assert text.startswith('{\n  "verdict": "fail",')


def test_json_report_has_one_entry_per_rule_with_every_field(report):
    rules = to_json_dict(report)["rules"]

    assert [rule["id"] for rule in rules] == [rule.id for rule in report.rules]
    assert all(list(rule) == RULE_KEYS for rule in rules)
    assert rules[2]["observations"] == report.rules[2].observations
    assert rules[3]["reason"] == "no webhook receiver configured"


def test_json_report_failure_carries_its_steps_and_replay(report, failure):
    (entry,) = to_json_dict(report)["failures"]

    assert list(entry) == [
        "rule",
        "message",
        "expected",
        "actual",
        "summary",
        "differences",
        "before",
        "timing",
        "length",
        "steps",
        "replay",
    ]
    assert entry["expected"] == failure.expected
    assert [step["request"]["method"] for step in entry["steps"]] == ["POST", "PUT", "GET"]
    step = entry["steps"][0]
    assert list(step) == ["request", "response", "elapsed", "sent_at", "error"]
    assert list(step["request"]) == ["method", "path", "headers", "body", "auth"]
    assert list(step["response"]) == ["status_code", "headers", "body"]
    assert step["request"]["body"] == failure.steps[0].request.body
    assert entry["replay"]["curl"][0] == "#!/usr/bin/env bash"
    assert "\ncall POST /activity/sms/ " in "\n".join(entry["replay"]["curl"])
    assert entry["replay"]["python"].startswith("#!/usr/bin/env python3")


def test_json_report_step_without_response_has_null_response(report, failure):
    from dataclasses import replace

    broken = replace(failure.steps[2], response=None, error="connection reset")
    report.failures = [replace(failure, steps=(*failure.steps[:2], broken))]

    step = to_json_dict(report)["failures"][0]["steps"][2]
    assert step["response"] is None
    assert step["error"] == "connection reset"


def test_json_report_stats_hold_every_counter(report):
    assert to_json_dict(report)["stats"] == {
        "requests": 120,
        "duration": 3.5,
        "steps": 60,
        "examples": 20,
        "transient_errors": 1,
        "rate_limited": 2,
    }


def test_json_report_holds_the_behaviour_profile_of_each_open_point(report):
    from conformance.records import OpenPointResult

    report.open_points = [
        OpenPointResult(
            id="empty-send",
            question="Whether an empty SMS may be sent.",
            quote="`text` | string or null | no",
            source="https://developer.close.com/api/resources/activities/sms/create",
            default="accept",
            alternatives={"accept": "sent", "reject": "400"},
            readings={"reject": 3},
        )
    ]
    (point,) = to_json_dict(report)["open_points"]
    assert point["id"] == "empty-send"
    assert point["readings_seen"] == {"reject": 3}
    assert point["default"] == "accept" and set(point["alternatives"]) == {"accept", "reject"}


def test_json_report_carries_the_tool_version_and_the_rerun_command(report):
    from conformance import __version__

    report.command = "sms-conformance run --seed 12345"
    document = to_json_dict(report)
    assert (document["tool_version"], document["command"]) == (__version__, report.command)


def test_json_report_failure_says_what_differs_past_200_characters_of_the_answer(report):
    from ..explained import drafts_only_failure

    report.failures = [drafts_only_failure()]
    (entry,) = to_json_dict(report)["failures"]
    assert 'got HTTP 200, status "sent"' in entry["summary"]
    assert {"field": "text", "expected": '""', "actual": '"0"'} in entry["differences"]
    assert entry["before"] == {"status": '"sent"', "text": '""'}


def test_json_report_gives_each_rule_its_judgings_and_every_listed_boundary_with_its_count(
    report,
):
    rule = to_json_dict(report)["rules"][0]
    assert rule["checked"] == 41
    assert rule["boundaries"] == {"send_in=0": 0, "send_in=59": 12}
    assert to_json_dict(report)["rules"][1]["boundaries"] == {}  # a rule that lists none
