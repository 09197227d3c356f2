"""List checks blame the rule the server broke, not the one it happened to be using."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from conformance.checks import Step, is_violation
from conformance.model import SmsRecord, TimeWindow, Timing
from conformance.records import Exchange, RecordedRequest, RecordedResponse
from conformance.rules.lists import (
    a_page_holds_exactly_the_matching_sms,
    pages_tile_the_whole_result,
)
from tests.rules.helpers import NOON, SMS, broken, list_step, model_of, page, readings

LEAD = {"lead_id": "lead_1"}
AT_NOON = SmsRecord("acti_noon", "inbox", LEAD, date_created=NOON)


def listed(params: dict[str, str], tz_offset: str | None, ids: list[str]) -> Step:
    """A list step whose answer holds ``ids``, judged against a model holding one SMS
    created at noon UTC."""
    return list_step(model_of(AT_NOON), {**LEAD, **params}, page(ids), tz_offset=tz_offset)


def violated(step: Step) -> list[str]:
    return broken(a_page_holds_exactly_the_matching_sms(step))


@pytest.mark.parametrize(
    ("bound", "tz_offset"),
    [("2026-03-01T12:00:00+00:00", None), ("2026-03-01T08:00:00", "-4")],
)
def test_an_sms_listed_exactly_on_a_gt_bound_breaks_the_filter_however_the_bound_was_written(
    bound, tz_offset
):
    step = listed({"date_created__gt": bound}, tz_offset, ["acti_noon"])
    assert violated(step) == ["sms/list/filter-date-created"]


def test_an_sms_listed_an_hour_off_a_local_bound_breaks_the_tz_offset_reading():
    step = listed({"date_created__gt": "2026-03-01T09:00:00"}, "-4", ["acti_noon"])
    assert violated(step) == ["sms/list/tz-offset"]


def test_the_sms_on_a_gte_bound_listed_breaks_nothing():
    step = listed({"date_created__gte": "2026-03-01T08:00:00"}, "-4", ["acti_noon"])
    assert violated(step) == []


# -- SMS an open point leaves to the server: listed or not, both fine ------------------------


def paged(ids: list[str], has_more: bool, params: dict[str, str], tz_offset=None) -> Step:
    """A list step over three SMS on lead_1, created on 1 March at 03:00 UTC (acti_a: the
    evening before, local at -4), noon (acti_b) and 20:00 (acti_c: both inside the local
    day, which a bare __gt/__lte date may take whole); its answer holds ``ids``."""
    model = model_of(
        *(
            SmsRecord(sms_id, "inbox", LEAD, date_created=NOON.replace(hour=hour))
            for sms_id, hour in (("acti_a", 3), ("acti_b", 12), ("acti_c", 20))
        )
    )
    return list_step(model, {**LEAD, **params}, page(ids, has_more), tz_offset=tz_offset)


BARE_LTE = {"date_created__lte": "2026-03-01"}  # at -4: acti_a must, acti_b and acti_c may


@pytest.mark.parametrize("ids", [["acti_a"], ["acti_a", "acti_b"], ["acti_a", "acti_b", "acti_c"]])
def test_sms_a_bare_date_leaves_open_may_be_listed_or_not(ids):
    assert violated(paged(ids, False, BARE_LTE, "-4")) == []


def test_an_sms_that_must_be_listed_is_still_missed_when_others_are_open():
    assert violated(paged(["acti_b", "acti_c"], False, BARE_LTE, "-4")) == [
        "sms/list/filter-bare-date"
    ]


def test_an_sms_outside_every_reading_is_still_one_too_many():
    step = paged(["acti_a", "acti_c"], False, {"date_created__lt": "2026-03-01"}, "-4")
    assert violated(step) == ["sms/list/filter-bare-date"]


@pytest.mark.parametrize(
    ("ids", "has_more", "ok"),
    [
        (["acti_a"], False, True),  # one listed: the page is short, so it is the last
        (["acti_a"], True, False),
        (["acti_a", "acti_b"], True, True),  # a full page: acti_c may follow
        (["acti_a", "acti_b"], False, True),  # ... or not
    ],
)
def test_has_more_ranges_over_the_results_the_server_may_have(ids, has_more, ok):
    step = paged(ids, has_more, {**BARE_LTE, "_limit": "2"}, "-4")
    assert (violated(step) == []) is ok


def test_with_nothing_open_a_page_short_of_the_limit_is_judged_exactly():
    step = paged(["acti_a"], False, {"date_created__gte": "2026-03-01T00:00:00Z"})
    assert step.list_expectation.maybe == frozenset()
    assert violated(step) == ["sms/list/filter-date-created"]
    since = {"date_created__gte": "2026-03-01T00:00:00Z", "_limit": "2"}
    full = paged(["acti_a", "acti_b"], False, since)
    assert violated(full) == ["sms/list/has-more"]


def test_a_whole_page_that_repeats_one_sms_in_place_of_another_breaks_pagination():
    # acti_b and acti_c must be listed: two SMS, one of them twice, is a paging fault.
    step = paged(["acti_b", "acti_b"], False, {"date_created__gte": "2026-03-01T10:00:00Z"})
    assert violated(step) == ["sms/list/pagination"]


# -- a _limit over the default: the maximum is not documented (open point limit-over-maximum) --


def page_of(size: int, has_more: bool, limit: int, matching: int = 120) -> Step:
    """A list step with ``_limit=limit`` over ``matching`` SMS of one lead, answered with
    the first ``size`` of them."""
    ids = [f"acti_{n:03}" for n in range(matching)]
    model = model_of(*(SmsRecord(sms_id, "draft", LEAD, date_created=NOON) for sms_id in ids))
    return list_step(model, {**LEAD, "_limit": str(limit)}, page(ids[:size], has_more))


@pytest.mark.parametrize(
    ("size", "has_more"),
    [(100, True), (110, True), (120, False)],
    ids=["cut-to-the-default", "cut-to-a-higher-maximum", "whole-page"],
)
def test_a_page_over_the_default_limit_may_be_cut_to_the_servers_maximum(size, has_more):
    assert violated(page_of(size, has_more, limit=250)) == []


def test_a_page_cut_to_its_maximum_says_more_follow():
    assert violated(page_of(100, False, limit=250)) == ["sms/list/has-more"]


def test_a_page_over_the_default_limit_is_never_cut_below_the_default():
    assert violated(page_of(99, True, limit=250, matching=300)) == ["sms/list/pagination"]


def test_a_page_within_the_default_limit_is_never_cut():
    assert violated(page_of(99, True, limit=100)) == ["sms/list/pagination"]


# -- what a good page shows of the readings the server took (the behaviour profile) ----------


def readings_shown(step: Step) -> set[str]:
    return readings(a_page_holds_exactly_the_matching_sms(step))


@pytest.mark.parametrize(
    ("ids", "shown"),
    [
        (["acti_a"], {"bare-date-filter=midnight"}),  # a whole page leaving acti_b and c out
        (["acti_a", "acti_b", "acti_c"], {"bare-date-filter=whole-day"}),
    ],
)
def test_a_page_of_a_bare_date_names_the_reading_the_server_took(ids, shown):
    assert readings_shown(paged(ids, False, BARE_LTE, "-4")) == shown


def test_a_page_too_small_to_hold_every_sms_that_may_match_says_nothing_by_leaving_out():
    assert readings_shown(paged(["acti_a"], True, {**BARE_LTE, "_limit": "1"}, "-4")) == set()


@pytest.mark.parametrize(
    ("ids", "shown"),
    [([], {"time-precision=milliseconds"}), (["acti_ms"], {"time-precision=microseconds"})],
)
def test_a_bound_a_microsecond_past_an_sms_names_the_precision_the_server_took(ids, shown):
    """__lt one microsecond past an SMS shown at a whole millisecond: kept at the
    microsecond it is before the bound, truncated to the millisecond it is not."""
    model = model_of(SmsRecord("acti_ms", "inbox", LEAD, date_created=NOON))
    step = list_step(
        model, {**LEAD, "date_created__lt": "2026-03-01T12:00:00.000001+00:00"}, page(ids)
    )
    assert violated(step) == []
    assert readings_shown(step) == shown
    assert {f.rule for f in a_page_holds_exactly_the_matching_sms(step) if f.reading} == {
        "sms/list/filter-date-created"
    }


@pytest.mark.parametrize(
    ("code", "body", "reading"),
    [
        (400, {"error": "_limit: Must be at most 100."}, "limit-over-maximum=reject"),
        (200, {"data": [], "has_more": False}, "limit-over-maximum=clamp"),
    ],
)
def test_a_limit_over_the_default_names_the_reading_the_server_took(code, body, reading):
    from conformance.rules.list_observations import large_limit_is_observed

    step = list_step(model_of(), {**LEAD, "_limit": "250"}, body, code=code)
    assert [f.reading for f in large_limit_is_observed(step)] == [reading]


def refused(params: dict[str, str]) -> Step:
    body = {"errors": [], "field-errors": {"_fields": "Not supported on lists."}}
    return list_step(model_of(AT_NOON), {**LEAD, **params}, body, code=400)


def test_a_list_refused_for_its_fields_parameter_is_only_observed():
    """1.2: `_fields` on the list is "**not confirmed for list**" (audit L5)."""
    step = refused({"_fields": "id,text", "date_created__gte": "2026-03-01T00:00:00Z"})
    (finding,) = a_page_holds_exactly_the_matching_sms(step)
    assert finding.rule == "sms/list/fields" and not is_violation(finding)


def test_a_list_without_fields_refused_still_breaks_its_filter():
    step = refused({"date_created__gte": "2026-03-01T00:00:00Z"})
    assert violated(step) == ["sms/list/filter-date-created"]


# -- a walk over every page while the sender may move an SMS ---------------------------------


def walked(pages: list[list[str]], status: str, due_in: float) -> Step:
    """A walk of pages of two over acti_a, acti_b and acti_c (drafts but acti_c, of
    ``status`` due ``due_in`` seconds after the walk started, which took ten seconds)."""
    due = NOON + timedelta(seconds=due_in)
    model = model_of(
        SmsRecord("acti_a", "draft", LEAD, date_created=NOON),
        SmsRecord("acti_b", "draft", LEAD, date_created=NOON),
        SmsRecord("acti_c", status, LEAD, due=due, date_created=NOON),
        timing=Timing(early=2.0, grace=10.0),
    )
    exchanges = [
        Exchange(
            RecordedRequest("GET", SMS, {}),
            RecordedResponse(200, {}, page(ids, has_more=n < len(pages) - 1)),
        )
        for n, ids in enumerate(pages)
    ]
    return Step(
        "list-walk",
        exchanges,
        TimeWindow(NOON, NOON + timedelta(seconds=10)),
        model,
        params=dict(LEAD),
        list_expectation=replace(model.expect_list(LEAD), skip=0, limit=2),
    )


def walk_violations(step: Step) -> list[str]:
    return broken(pages_tile_the_whole_result(step))


@pytest.mark.parametrize(
    "pages", [[["acti_c", "acti_a"], ["acti_c", "acti_b"]], [["acti_a", "acti_b"], []]]
)
def test_an_sms_the_sender_may_move_during_a_walk_may_be_seen_twice_or_missed(pages):
    assert walk_violations(walked(pages, "outbox", due_in=5)) == []


@pytest.mark.parametrize(
    "pages", [[["acti_c", "acti_a"], ["acti_a", "acti_b"]], [["acti_c", "acti_a"], []]]
)
def test_an_sms_nothing_moves_seen_twice_or_missed_breaks_pagination(pages):
    """2.3 "Offset style for most lists: `_skip` + `_limit`": what nothing changes keeps
    its place (a draft here, or a send due long after the walk)."""
    assert walk_violations(walked(pages, "outbox", due_in=3600)) == ["sms/list/pagination"]


def test_an_sms_sent_before_the_walk_began_keeps_its_place():
    step = walked([["acti_c", "acti_a"], ["acti_c", "acti_b"]], "outbox", due_in=-3600)
    assert walk_violations(step) == ["sms/list/pagination"]


# -- the order a list shows (no order is documented: observed only) --------------------------


def dated(*created: str) -> Step:
    body = {"data": [{"id": f"acti_{n}", "date_created": at} for n, at in enumerate(created)]}
    return list_step(model_of(), LEAD, {**body, "has_more": False})


def order_shown(step: Step) -> set[str]:
    from conformance.rules.list_observations import order_is_observed

    findings = list(order_is_observed(step))
    assert not any(is_violation(finding) for finding in findings)
    return readings(findings)


@pytest.mark.parametrize(
    ("created", "shown"),
    [
        (
            ("2026-03-01T12:00:02+00:00", "2026-03-01T12:00:01+00:00", "2026-03-01T12:00:00+00:00"),
            {"list-order=newest-first"},
        ),
        (
            ("2026-03-01T12:00:00+00:00", "2026-03-01T12:00:01+00:00", "2026-03-01T12:00:02+00:00"),
            {"list-order=oldest-first"},
        ),
        (
            ("2026-03-01T12:00:01+00:00", "2026-03-01T12:00:00+00:00", "2026-03-01T12:00:02+00:00"),
            set(),
        ),
    ],
)
def test_a_single_page_of_three_sms_names_the_order_the_server_took(created, shown):
    assert order_shown(dated(*created)) == shown


def test_times_in_other_offsets_and_precisions_are_ordered_as_instants_not_as_text():
    """07:00:01-05:00 is 12:00:01 UTC: as text it would sort before 12:00:00.500."""
    step = dated(
        "2026-03-01T07:00:01-05:00", "2026-03-01T12:00:00.500+00:00", "2026-03-01T12:00:00+00:00"
    )
    assert order_shown(step) == {"list-order=newest-first"}


def test_a_page_of_fewer_than_three_sms_or_all_at_one_instant_shows_no_order():
    assert order_shown(dated("2026-03-01T12:00:01+00:00", "2026-03-01T12:00:00+00:00")) == set()
    assert order_shown(dated(*["2026-03-01T12:00:00+00:00"] * 3)) == set()


# -- the boundary a list reached (rule coverage) -----------------------------------------------


def edges_of(step: Step) -> dict[str, str]:
    """Each rule a list check judged at a boundary, and that boundary."""
    return {
        finding.rule: finding.boundary
        for finding in a_page_holds_exactly_the_matching_sms(step)
        if finding.boundary is not None
    }


@pytest.mark.parametrize("op", ["gt", "lt", "gte", "lte"])
def test_a_date_bound_exactly_at_an_sms_own_date_reaches_that_boundary(op):
    ids = ["acti_noon"] if op in ("gte", "lte") else []
    step = listed({f"date_created__{op}": NOON.isoformat()}, None, ids)
    assert edges_of(step)["sms/list/filter-date-created"] == f"__{op} exactly at an SMS's date"


def test_a_date_bound_a_microsecond_off_every_sms_reaches_no_boundary():
    bound = (NOON + timedelta(microseconds=1)).isoformat()
    step = listed({"date_created__gt": bound}, None, [])
    assert "sms/list/filter-date-created" not in edges_of(step)


def test_a_page_exactly_as_full_as_its_limit_and_the_last_reaches_both_boundaries():
    step = listed({"_limit": "1"}, None, ["acti_noon"])
    assert edges_of(step) == {
        "sms/list/pagination": "a page exactly full",
        "sms/list/has-more": "the last page exactly full",
    }


def test_a_page_with_room_left_reaches_no_pagination_boundary():
    assert edges_of(listed({"_limit": "2"}, None, ["acti_noon"])) == {}


def test_a_skip_past_every_match_reaches_that_boundary():
    step = listed({"_skip": "1"}, None, [])
    assert edges_of(step) == {"sms/list/pagination": "_skip past the end"}


def test_an_id_filter_naming_one_sms_reaches_that_boundary():
    step = listed({"id__in": "acti_noon"}, None, ["acti_noon"])
    assert edges_of(step)["sms/list/filter-id-in"] == "one id"


def test_a_walk_over_several_pages_whose_last_is_full_reaches_those_boundaries():
    step = walked([["acti_a", "acti_b"], ["acti_c"]], "draft", due_in=0)
    step = replace(step, list_expectation=replace(step.list_expectation, limit=1))
    step.exchanges[:] = [
        Exchange(RecordedRequest("GET", SMS, {}), RecordedResponse(200, {}, page([sms], n < 2)))
        for n, sms in enumerate(["acti_a", "acti_b", "acti_c"])
    ]
    findings = list(pages_tile_the_whole_result(step))
    assert [f.boundary for f in findings if f.rule == "sms/list/has-more"] == [
        None,
        None,
        "the last page exactly full",
    ]
    assert [f.boundary for f in findings if f.rule == "sms/list/pagination"] == [
        "a walk over several pages"
    ]


def test_an_order_seen_across_several_pages_reaches_that_boundary():
    from conformance.rules.list_observations import order_is_observed

    one_page = dated(
        "2026-03-01T12:00:03+00:00", "2026-03-01T12:00:02+00:00", "2026-03-01T12:00:01+00:00"
    )
    assert [f.boundary for f in order_is_observed(one_page)] == [None]
    two_pages = replace(one_page, exchanges=[one_page.exchange, one_page.exchange])
    assert [f.boundary for f in order_is_observed(two_pages)] == ["a walk over several pages"]


@pytest.mark.parametrize(("limit", "boundary"), [("101", "_limit=101"), ("250", None)])
def test_a_limit_just_over_the_default_reaches_that_boundary(limit, boundary):
    from conformance.rules.list_observations import large_limit_is_observed

    step = list_step(model_of(), {**LEAD, "_limit": limit}, {"error": "too large"}, code=400)
    assert [f.boundary for f in large_limit_is_observed(step)] == [boundary]


BETWEEN = "a bare date whose local and UTC midnights fall either side of an SMS"


def test_a_bare_date_whose_midnights_fall_either_side_of_an_sms_reaches_that_boundary():
    """At +13, 2026-03-02 starts at 11:00 UTC on the 1st, before the SMS at noon; in UTC it
    starts after it."""
    step = listed({"date_created__gte": "2026-03-02"}, "13", ["acti_noon"])
    assert edges_of(step)["sms/list/filter-bare-date"] == BETWEEN


def test_an_sms_between_the_midnights_left_out_breaks_the_bare_date_rule():
    step = listed({"date_created__gte": "2026-03-02"}, "13", [])
    assert violated(step) == ["sms/list/filter-bare-date"]


@pytest.mark.parametrize(
    ("params", "tz_offset"),
    [
        ({"date_created__gte": "2026-03-02"}, "0"),  # one midnight
        ({"date_created__gte": "2026-03-01"}, "13"),  # both before noon
        ({"date_created__gt": "2026-03-02"}, "13"),  # listed or not by bare-date-filter
        ({"date_created__gte": "2026-03-02", "_skip": "1"}, "13"),  # the SMS may be off the page
    ],
)
def test_a_bare_date_that_cannot_tell_the_midnights_apart_reaches_no_boundary(params, tz_offset):
    step = listed(params, tz_offset, [])
    assert "sms/list/filter-bare-date" not in edges_of(step)
