"""What a replay sends again (:mod:`conformance.replay.steps`): the recorded numbers keep
their kind, the SMS a recorded list saw are made again, and a failure in a throttled answer
drives the rate limit until the target throttles.

Failures are recorded by real requests through the run's client to the in-process
reference server with the fault on (``tests.replaying.record``), or by the run's own probe.
"""

from __future__ import annotations

from conformance.records import Failure
from conformance.replay import plan_for, replay_on_embedded
from conformance.replay.steps import _phone_mapping
from conformance.target import embedded_target
from tests.replaying import SMS, record, sms_body

INTERNAL, OTHER_INTERNAL, EXTERNAL = "+16503335550", "+16503335551", "+14151231230"


def _with_phones(*phones):
    return record(
        [],
        lambda target, fixtures: [
            target.api.send("POST", SMS, json_body=sms_body(fixtures, local_phone=phone))[0]
            for phone in phones
        ],
        "r",
    ).steps


def test_a_recorded_number_that_is_the_targets_own_keeps_its_kind_and_others_are_mapped():
    steps = _with_phones(INTERNAL, EXTERNAL, "+19995550000")
    mapping = _phone_mapping(steps, [INTERNAL, OTHER_INTERNAL], [EXTERNAL])
    # The external number stays external, the internal one internal; the number the
    # target does not have (the recorded target's) takes a free internal one.
    assert mapping == {"+19995550000": OTHER_INTERNAL}


def test_with_the_recorded_internal_numbers_an_unknown_number_is_sent_as_it_was():
    steps = _with_phones("+19995550000", "+19995550001")
    mapping = _phone_mapping(steps, ["+16500000000"], [], recorded_internal=["+19995550000"])
    assert mapping == {"+19995550000": "+16500000000"}  # +19995550001 stays unknown


def test_an_external_local_phone_accepted_reproduces_on_its_variant_and_not_when_clean():
    def send_from_the_external_number(target, fixtures):
        body = sms_body(fixtures, status="outbox", local_phone=fixtures.external_phones[0])
        return [target.api.send("POST", SMS, json_body=body)[0]]

    failure = record(
        ["external-local-phone-accepted"],
        send_from_the_external_number,
        "sms/create/local-phone-internal",
    )
    on_variant = replay_on_embedded(failure, faults=["external-local-phone-accepted"], retries=0)
    clean = replay_on_embedded(failure, retries=0)
    assert (on_variant.verdict, clean.verdict) == ("reproduced", "fixed"), on_variant.detail


def _probe_failure(fault: str) -> Failure:
    from conformance.judging import Tally
    from conformance.probes import probe_default_limit

    target = embedded_target(faults=[fault])
    target.discover()
    try:
        (failure,) = probe_default_limit(target, Tally())
    finally:
        target.close()
    return failure


def test_the_sms_a_recorded_list_saw_but_the_transcript_left_out_are_made_again():
    # The default-limit probe keeps the first and last of its 101 creates: the list it
    # recorded shows 99 SMS no step makes. The replay makes them again before the list.
    failure = _probe_failure("default-limit-unbounded")
    assert len(failure.steps) == 3
    plan = plan_for(failure.steps)
    assert {index: len(items) for index, items in plan.fills.items()} == {2: 99}
    on_variant = replay_on_embedded(failure, faults=["default-limit-unbounded"], retries=0)
    clean = replay_on_embedded(failure, retries=0)
    assert (on_variant.verdict, clean.verdict) == ("reproduced", "fixed"), on_variant.detail
    assert "101 SMS" in on_variant.detail


def test_a_few_sms_a_list_shows_that_no_step_made_are_not_made_again():
    def list_what_is_there(target, fixtures):
        made, _ = target.api.send("POST", SMS, json_body=sms_body(fixtures, status="draft"))
        stray, _ = target.api.send("POST", SMS, json_body=sms_body(fixtures, status="draft"))
        listed, _ = target.api.send("GET", SMS, params={"lead_id": fixtures.lead_id})
        return [made, listed]  # the stray is not a step

    failure = record([], list_what_is_there, "r")
    assert plan_for(failure.steps).fills == {}


def _throttled_failure(fault: str) -> Failure:
    """One POST the in-process server throttled (the 16th in one virtual second), recorded
    through the run's client: the failure's only step, a 429."""

    def throttle(target, fixtures):
        for _ in range(20):
            target.api.send(
                "POST", SMS, content=b"status=draft", headers={"content-type": "text/plain"}
            )
            if target.api.last_throttled:
                return [target.api.last_throttled[-1]]
        raise AssertionError("never throttled")

    return record([fault], throttle, "ratelimit/429-headers")


def test_a_failure_in_a_throttled_answer_drives_the_rate_limit_until_the_target_throttles():
    failure = _throttled_failure("429-without-retry-after")
    assert [step.response.status_code for step in failure.steps] == [429]
    on_variant = replay_on_embedded(failure, faults=["429-without-retry-after"], retries=0)
    clean = replay_on_embedded(failure, retries=0)
    assert (on_variant.verdict, clean.verdict) == ("reproduced", "fixed"), on_variant.detail
    assert "Retry-After: None" in on_variant.detail
    assert "the rule's check judged it and it held" in clean.detail  # it was throttled too
