"""What a replay's plan makes and maps (:func:`conformance.replay.plan_for`): a contact stays
on the lead a body named it with when a list names it with another lead, and the objects of
another organisation the failing step names are made as another organisation's.

The plan tests read recorded steps written out here; the replays record real requests
through the run's client to the in-process reference server (``tests.replaying.record``)
and replay them on a fresh one, with the fault and without.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from conformance.records import Exchange, RecordedRequest, RecordedResponse
from conformance.refserver.seed import ORGS
from conformance.replay import foreign_of, plan_for, replay_on_embedded
from conformance.reporting.replay import curl_commands, python_script
from tests.conftest import served
from tests.replaying import SMS, needs_curl_and_jq, record, run_pasted, sms_body

LEAD, OTHER_LEAD, CONTACT = "lead_recorded1", "lead_recorded2", "cont_recorded1"
FOREIGN_REFERENCE = "isolation/foreign-reference"
TEMPLATE_UNKNOWN = "sms/create/template-unknown-rejected"


def _step(method: str, path: str, *, body=None, answer=None, status: int = 200) -> Exchange:
    return Exchange(
        RecordedRequest(method, path, {}, body=body),
        RecordedResponse(status, {}, answer if answer is not None else {"data": []}),
    )


def _create(answer_id: str = "acti_made1", **body) -> Exchange:
    return _step("POST", SMS, body={"status": "draft", **body}, answer={"id": answer_id, **body})


# -- a contact and the leads a list names ----------------------------------------------------


def test_a_contact_a_list_names_with_another_lead_stays_on_the_lead_it_was_created_with():
    steps = [
        _create(lead_id=LEAD, contact_id=CONTACT),
        _step("GET", f"{SMS}?contact_id={CONTACT}&lead_id={OTHER_LEAD}"),
    ]
    plan = plan_for(steps)
    # Two fresh leads: the contact on the first, the listed lead with none of the recorded
    # contacts (the filter has the contact's SMS to leave out).
    assert plan.leads == ((LEAD, (CONTACT,)), (OTHER_LEAD, ()))
    assert (plan.names[LEAD], plan.names[OTHER_LEAD]) == ("lead_1", "lead_2")


def test_a_contact_listed_before_the_body_that_names_its_lead_goes_with_that_lead():
    steps = [
        _step("GET", f"{SMS}?contact_id={CONTACT}&lead_id={OTHER_LEAD}"),
        _create(lead_id=LEAD, contact_id=CONTACT),
    ]
    assert plan_for(steps).leads == ((OTHER_LEAD, ()), (LEAD, (CONTACT,)))


def test_a_contact_only_a_list_names_goes_with_the_lead_that_list_names():
    other_contact = "cont_recorded2"
    steps = [
        _create(lead_id=LEAD, contact_id=CONTACT),
        _step("GET", f"{SMS}?contact_id={other_contact}&lead_id={LEAD}"),
    ]
    assert plan_for(steps).leads == ((LEAD, (CONTACT, other_contact)),)


def test_a_lead_filter_failure_replays_reproduced_on_its_variant_and_fixed_when_clean():
    # The SMS is on lead 1's contact; the list asks for that contact on lead 2: nothing.
    def create_then_filter(target, fixtures):
        (lead, contact), (other_lead, _) = fixtures.leads[0], fixtures.leads[1]
        body = sms_body(fixtures, status="draft", lead_id=lead, contact_id=contact)
        created, _ = target.api.send("POST", SMS, json_body=body)
        params = {"contact_id": contact, "lead_id": other_lead}
        listed, _ = target.api.send("GET", SMS, params=params)
        return [created, listed]

    failure = record(["lead-filter-ignored"], create_then_filter, "sms/list/filter-lead-id")
    assert len(failure.steps[-1].response.body["data"]) == 1  # the variant listed it
    on_variant = replay_on_embedded(failure, faults=["lead-filter-ignored"], retries=0)
    clean = replay_on_embedded(failure, retries=0)
    assert (on_variant.verdict, clean.verdict) == ("reproduced", "fixed"), on_variant.detail


# -- another organisation's objects ------------------------------------------------------------


def test_the_lead_a_failing_foreign_reference_create_names_is_another_organisations():
    steps = [_create("acti_made1"), _create("acti_made2", lead_id="lead_theirs1")]
    assert foreign_of(steps, FOREIGN_REFERENCE) == {"lead_theirs1": "lead_id"}
    plan = plan_for(steps, FOREIGN_REFERENCE)
    assert plan.foreign == {"lead_theirs1": "lead_id"}
    assert plan.leads == ()  # not one of the replay's own leads
    assert plan.names["lead_theirs1"] == "foreign_lead"


def test_a_lead_an_earlier_step_named_is_the_runs_own_whatever_the_rule():
    steps = [_create("acti_made1", lead_id=LEAD), _create("acti_made2", lead_id=LEAD)]
    assert foreign_of(steps, FOREIGN_REFERENCE) == {}
    assert plan_for(steps, FOREIGN_REFERENCE).leads == ((LEAD, ()),)


def test_without_the_rule_no_id_is_taken_for_another_organisations():
    steps = [_create("acti_made1", lead_id="lead_theirs1")]
    assert plan_for(steps).foreign == {}
    assert plan_for(steps, "sms/create/status-required").foreign == {}


def test_a_template_the_server_took_is_another_organisations_and_a_made_up_one_is_kept():
    taken = [_create(lead_id=LEAD, template_id="smstmpl_theirs1")]
    plan = plan_for(taken, TEMPLATE_UNKNOWN)
    assert plan.foreign == {"smstmpl_theirs1": "template_id"}
    assert plan.templates == ()
    assert plan.names["smstmpl_theirs1"] == "foreign_template"
    made_up = [
        _step(
            "POST",
            SMS,
            body={"status": "draft", "template_id": "smstmpl_madeup"},
            answer={"id": "acti_made1"},  # ignored: no template_id in the answer
        )
    ]
    plan = plan_for(made_up, TEMPLATE_UNKNOWN)
    assert (plan.foreign, plan.templates) == ({}, ())
    assert "smstmpl_madeup" not in plan.names  # sent as recorded


def _name_the_other_organisations(kind: str):
    def send(target, fixtures):
        assert fixtures.foreign is not None and fixtures.foreign.lead is not None
        if kind == "lead":
            body = sms_body(fixtures, status="draft", lead_id=fixtures.foreign.lead[0])
        elif kind == "contact":
            body = sms_body(fixtures, status="draft", contact_id=fixtures.foreign.lead[1])
            del body["lead_id"]
        else:
            body = sms_body(
                fixtures,
                status="draft",
                contact_id=fixtures.contact_id,
                template_id=fixtures.foreign.template_id,
            )
        return [target.api.send("POST", SMS, json_body=body)[0]]

    return send


FOREIGN_FAULTS = {
    "foreign-lead-accepted": ("lead", FOREIGN_REFERENCE),
    "foreign-template-accepted": ("template", TEMPLATE_UNKNOWN),
}
FOREIGN_KINDS = [(fault, kind, rule) for fault, (kind, rule) in FOREIGN_FAULTS.items()] + [
    ("foreign-lead-accepted", "contact", FOREIGN_REFERENCE)
]


@pytest.mark.parametrize(("fault", "kind", "rule"), FOREIGN_KINDS)
def test_naming_another_organisations_object_replays_reproduced_on_its_variant_and_fixed(
    fault, kind, rule
):
    failure = record([fault], _name_the_other_organisations(kind), rule)
    assert failure.steps[-1].response.status_code == 200  # the variant took it
    on_variant = replay_on_embedded(failure, faults=[fault], retries=0)
    clean = replay_on_embedded(failure, retries=0)
    assert (on_variant.verdict, clean.verdict) == ("reproduced", "fixed"), on_variant.detail
    assert "the rule's check found it" in on_variant.detail
    assert on_variant.leftovers == [] and clean.leftovers == []


@pytest.mark.slow
@pytest.mark.parametrize("language", ["python", pytest.param("bash", marks=needs_curl_and_jq)])
@pytest.mark.parametrize("fault", FOREIGN_FAULTS)
def test_the_pasted_replays_make_the_other_organisations_object_with_its_key_from_the_env(
    fault, language, tmp_path: Path
):
    kind, rule = FOREIGN_FAULTS[fault]
    failure = record([fault], _name_the_other_organisations(kind), rule)
    if language == "python":
        text = python_script(failure, "http://recorded.invalid/api/v1")
        command = [sys.executable, str(tmp_path / "replay.py")]
    else:
        lines = curl_commands(failure.steps, "http://recorded.invalid/api/v1", rule=rule)
        text = "\n".join(lines) + "\n"
        command = ["bash", str(tmp_path / "replay.sh")]
    assert "CLOSE_SECOND_API_KEY" in text
    assert ORGS[1].api_key not in text and ORGS[0].api_key not in text
    Path(command[-1]).write_text(text)
    with served(faults=[fault]) as faulty, served() as clean:
        codes = {
            where: run_pasted(command, url) for where, url in (("faulty", faulty), ("clean", clean))
        }
    assert {where: code for where, (code, _) in codes.items()} == {"faulty": 1, "clean": 0}, {
        where: output for where, (_, output) in codes.items()
    }
