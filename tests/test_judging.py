"""One judging path: checks run on a step, a read that breaks a rule gets its settle window,
noise is never judged, every finding lands in the tally."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from conformance.checks import CheckDefinitionError, Finding, Step
from conformance.fixtures import Fixtures
from conformance.judging import Tally, declared, judge
from conformance.model import Expectation, Model, TimeWindow
from conformance.records import Exchange, RecordedRequest, RecordedResponse

NOON = datetime(2027, 1, 1, 12, 0, tzinfo=UTC)
WINDOW = TimeWindow(NOON, NOON)
FIXTURES = Fixtures(
    organization_id="orga_1",
    user_id="user_1",
    internal_phones=("+12015550100",),
    external_phones=(),
    leads=(("lead_1", "cont_1"),),
    contact_first_name="Ada",
    template_id="tmpl_1",
    template_text="Hi",
    rendered_template="Hi",
)


def get_step(status: int, body: object) -> Step:
    exchange = Exchange(
        RecordedRequest("GET", "/activity/sms/acti_1/", {}),
        RecordedResponse(status, {"content-type": "application/json"}, body),
    )
    return Step(
        "get",
        [exchange],
        WINDOW,
        Model(FIXTURES),
        expectation=Expectation("sms/get/returns-object", True),
    )


BROKEN = Finding("sms/get/returns-object", False, "the SMS", "404")
HELD = Finding("sms/get/returns-object", True, "the SMS", "200")


@pytest.fixture(autouse=True)
def checks_that_judge_by_status(monkeypatch):
    """The checks, reduced to one that fails a 404 and passes anything else: these tests
    are about what judging does with findings, not about any check."""
    monkeypatch.setattr(
        "conformance.judging.findings_of",
        lambda step: [BROKEN if step.status_code == 404 else HELD],
    )


def test_a_read_that_breaks_a_rule_and_never_settles_is_a_violation_after_the_window():
    waits: list[float] = []
    missing = get_step(404, {"error": "Not found"})
    judged = judge(missing, Tally(), reread=lambda: missing, wait=waits.append, settle=5)
    assert judged.violation is not None
    assert sum(waits) == 5 and waits[0] == 1  # doubling waits, cut at the window


def test_without_a_settle_window_a_read_that_breaks_a_rule_is_judged_at_once():
    missing = get_step(404, {"error": "Not found"})
    tally = Tally()
    rereads: list[Step] = []
    judged = judge(missing, tally, reread=lambda: rereads.append(missing) or missing, settle=0)
    assert judged.violation is not None and not rereads
    assert tally.failed[judged.violation.rule] == 1


def test_a_reread_that_meets_noise_ends_the_judging_with_nothing_counted():
    tally = Tally()
    missing, noisy = get_step(404, {"error": "Not found"}), get_step(503, None)
    judged = judge(missing, tally, reread=lambda: noisy, wait=lambda s: None, settle=10)
    assert judged.step is noisy and judged.violation is None
    assert not tally.failed


def test_a_noisy_answer_is_not_judged_and_counts_nothing():
    tally = Tally()
    judged = judge(get_step(503, None), tally)
    assert (judged.findings, judged.violation) == ([], None)
    assert not tally.passed and not tally.failed


def test_a_muted_rule_is_counted_but_not_a_violation():
    tally = Tally()
    judged = judge(get_step(404, {"error": "Not found"}), tally, muted={BROKEN.rule})
    assert judged.violation is None and judged.violations() == [BROKEN]
    assert tally.failed[BROKEN.rule] == 1


def test_a_read_that_settles_within_the_window_passes_and_says_how_long_it_took():
    reads = iter([get_step(404, {"error": "Not found"}), get_step(200, {"id": "acti_1"})])
    tally = Tally()
    judged = judge(next(reads), tally, reread=lambda: next(reads), wait=lambda s: None, settle=9)
    assert judged.violation is None and judged.step.status_code == 200
    assert tally.passed[HELD.rule] == 2  # the re-read, and the settled step


def test_findings_made_outside_the_checks_must_name_a_rule_declared_for_them():
    finding = Finding("sms/object/schema", True)
    assert declared([finding], ["sms/object/schema"], "the schema phase") == [finding]
    with pytest.raises(CheckDefinitionError, match="the schema phase"):
        declared([finding], ["protocol/no-5xx"], "the schema phase")


def test_the_tally_counts_each_boundary_a_finding_reached_under_its_rule():
    tally = Tally()
    rule = "sms/create/send-in-accepted"
    tally.record_all(
        [
            Finding(rule, True, boundary="send_in=59"),
            Finding(rule, False, boundary="send_in=59"),
            Finding(rule, True),
            Finding("sms/create/send-in-below-60", True, boundary="send_in=60"),
        ]
    )
    assert tally.checked(rule) == 3
    assert tally.reached(rule) == {"send_in=0": 0, "send_in=59": 2}  # listed order, 0 unreached
    assert tally.reached("sms/create/send-in-below-60") == {
        "send_in=60": 1,
        "send_in a string that spells 60 or more": 0,
    }
    assert tally.reached("sms/get/returns-object") == {}  # a rule that lists none


def test_findings_made_outside_the_checks_with_an_unlisted_boundary_fail_loudly():
    stray = Finding("sms/create/send-in-accepted", True, boundary="send_in=61")
    with pytest.raises(CheckDefinitionError, match="'send_in=61'"):
        declared([stray], {"sms/create/send-in-accepted"}, "the schema phase")
