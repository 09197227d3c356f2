"""The replay judges its steps with the failing rule's own check, on a model rebuilt from
the replayed exchanges (:mod:`conformance.replay.judge`): violations a body symptom cannot
show (a header, a JSON type, a filter that needs the model, a walk over pages) reproduce on
their variant and not on the clean server.

The failures are recorded by sending real requests through the run's client to the
in-process reference server with the fault on (``tests.replaying.record``).
"""

from __future__ import annotations

from conformance.replay import judge_by_rule, replay_on_embedded, replay_steps
from conformance.replay.judge import replay_fixtures, step_operation
from tests.replaying import SMS, record, sms_body


def _verdicts(failure, fault):
    return tuple(replay_on_embedded(failure, faults=faults, retries=0) for faults in ([fault], []))


def test_a_json_answer_served_as_html_is_reproduced_by_the_rules_check_and_fixed_when_clean():
    def create_then_read(target, fixtures):
        created, _ = target.api.send("POST", SMS, json_body=sms_body(fixtures, status="draft"))
        read, _ = target.api.send("GET", f"{SMS}{created.response.body['id']}/")
        return [created, read]

    failure = record(["get-served-as-html"], create_then_read, "protocol/json-content-type")
    on_variant, clean = _verdicts(failure, "get-served-as-html")
    assert on_variant.verdict == "reproduced", on_variant.detail
    assert "the rule's check found it" in on_variant.detail
    assert "text/html" in on_variant.detail
    assert clean.verdict == "fixed", clean.detail


def test_a_contact_filter_failure_is_judged_against_the_sms_the_replay_made_on_two_contacts():
    # The SMS is on lead 1's contact; the list asks for another contact on the same lead.
    # A replay that gave both recorded contacts one contact would list the SMS rightly.
    def create_then_filter(target, fixtures):
        (lead, contact), (_, other) = fixtures.leads[0], fixtures.leads[1]
        body = sms_body(fixtures, status="draft", lead_id=lead, contact_id=contact)
        created, _ = target.api.send("POST", SMS, json_body=body)
        listed, _ = target.api.send("GET", SMS, params={"contact_id": other, "lead_id": lead})
        return [created, listed]

    failure = record(["contact-filter-ignored"], create_then_filter, "sms/list/filter-contact-id")
    on_variant, clean = _verdicts(failure, "contact-filter-ignored")
    assert on_variant.verdict == "reproduced", on_variant.detail
    assert clean.verdict == "fixed", clean.detail


def test_a_bare_date_filter_at_an_offset_reproduces_because_the_day_moves_with_the_clock():
    # Made at noon UTC, 02:00 the next day at +14: the bare date of that next day lists it
    # when read at the offset, not when read as UTC midnight (bare-date-as-utc).
    def create_then_list_the_local_day(target, fixtures):
        created, _ = target.api.send("POST", SMS, json_body=sms_body(fixtures, status="draft"))
        made = created.response.body["date_created"]
        from datetime import datetime, timedelta

        local_day = (datetime.fromisoformat(made) + timedelta(hours=14)).date().isoformat()
        params = {"date_created__gte": local_day, "lead_id": fixtures.lead_id}
        listed, _ = target.api.send("GET", SMS, params=params, headers={"x-tz-offset": "14"})
        return [created, listed]

    failure = record(
        ["bare-date-as-utc"], create_then_list_the_local_day, "sms/list/filter-bare-date"
    )
    assert failure.steps[-1].response.body["data"] == []  # the variant missed it
    on_variant, clean = _verdicts(failure, "bare-date-as-utc")
    assert on_variant.verdict == "reproduced", on_variant.detail
    assert clean.verdict == "fixed", clean.detail


def test_pages_of_a_walk_are_judged_whole_so_a_walk_cut_short_by_has_more_reproduces():
    def create_two_then_page(target, fixtures):
        steps = []
        for text in ("one", "two"):
            made, _ = target.api.send(
                "POST", SMS, json_body=sms_body(fixtures, status="draft", text=text)
            )
            steps.append(made)
        params = {"lead_id": fixtures.lead_id, "_skip": "0", "_limit": "1"}
        page, _ = target.api.send("GET", SMS, params=params)
        return [*steps, page]

    failure = record(["has-more-always-false"], create_two_then_page, "sms/list/pagination")
    on_variant, clean = _verdicts(failure, "has-more-always-false")
    assert on_variant.verdict == "reproduced", on_variant.detail
    assert "across pages" in on_variant.detail  # the walk's own finding, not a symptom
    # On the clean server the page says has_more: the replay sent no second page, so the
    # walk is not judged whole (it would miss the second SMS) and nothing shows.
    assert clean.verdict == "fixed", clean.detail


def test_the_rules_check_says_nothing_of_steps_it_never_judges_and_false_when_it_held():
    def create(target, fixtures):
        made, _ = target.api.send("POST", SMS, json_body=sms_body(fixtures, status="draft"))
        return [made]

    failure = record([], create, "ratelimit/429-headers")
    import httpx

    from conformance.clock import VirtualClock
    from conformance.refserver import ReferenceServer
    from conformance.transport import SyncASGITransport

    clock = VirtualClock()
    server = ReferenceServer(clock=clock)
    org = server.orgs[0]
    http = httpx.Client(transport=SyncASGITransport(server.app), base_url=server.base_url + "/")
    try:
        done = replay_steps(
            http,
            failure.steps,
            credentials={"basic": org.api_key},
            sleep=clock.sleep,
            local_phones=org.internal_numbers,
            now=clock.now,
        )
    finally:
        http.close()
        server.close()
    fixtures = replay_fixtures(done.leads, done.templates, org.internal_numbers)
    assert [step_operation(exchange) for exchange, _ in done.sent] == ["create"]
    # No 429 among the steps: the rule's check never judged them.
    assert judge_by_rule("ratelimit/429-headers", done.sent, fixtures).shows is None
    # The RateLimit header was judged, and held.
    held = judge_by_rule("ratelimit/header-format", done.sent, fixtures)
    assert held.shows is False and held.finding is not None and held.finding.ok
