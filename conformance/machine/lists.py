"""Rules for listing: filters (one at a time, at a date's edge, where a reading shows),
pagination and ``_limit``, each list judged against exactly which SMS the model says it
returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule

import strategies as sms_st
from conformance.checks import Step
from conformance.fixtures import Fixtures
from conformance.machine.base import SMS
from conformance.machine.operations import Operations
from conformance.model import DEFAULT_LIMIT, SmsRecord, TimeWindow

# Offsets far from UTC put a local midnight on the other side of noon UTC, where examples run.
# Every example's SMS are made around noon UTC, so only an offset over +12 h puts one of them on
# another local date than its UTC date: there a bare date read as local midnight and one read
# as UTC midnight disagree about it (hence two such offsets, real ones both). Whole and half
# hours only: "e.g. `-4` for EDT, half hours as `-2.5`" (2.7) says no more (audit L3: a
# quarter-hour offset such as 12.75 is not documented).
TZ_OFFSETS = ("0", "-4", "5.5", "-0.0", "14", "-11.5", "13", "-2.5")
FOCUSED_FILTERS = ("lead_id", "contact_id", "user_id", "id__in", "date_created", "activity_at")
LIST_FIELDS = ("id", "status", "text", "lead_id", "date_created", "direction")
BOUNDARY_NUDGES = st.sampled_from([0, 0, -1e-6, 1e-6])
NUDGES = st.one_of(st.just(0), st.sampled_from([-1e-6, 1e-6, -1, 1, -3600, 86400]))
WALK_MAX_PAGES = 30
# Strategies built once, at import (see lifecycle.py).
_TZ = st.sampled_from(TZ_OFFSETS)
_OPS = st.sampled_from(["gt", "gte", "lt", "lte"])
_FIELD_LISTS = st.lists(st.sampled_from(LIST_FIELDS), min_size=1, max_size=3, unique=True)


class ListRules(Operations):
    @rule(data=st.data())
    def list_sms(self, data: st.DataObject) -> None:
        records = list(self.model.records.values())
        dates = [d for r in records for d in (r.date_created, r.activity_at) if d is not None]
        query = data.draw(
            sms_st.list_queries(
                self.fixtures, known_ids=[r.id for r in records], reference_dates=dates
            )
        )
        self._list(self._scoped(query.params), query.tz_offset)

    @precondition(lambda self: bool(self.model.records))
    @rule(data=st.data(), kind=st.sampled_from(FOCUSED_FILTERS))
    def list_with_one_filter(
        self,
        data: st.DataObject,
        kind: str,
        nudges: st.SearchStrategy[float] | None = None,
        styles: tuple[str, ...] = ("offset", "local", "date"),
    ) -> None:
        """One filter at a time, its bound often exactly at an SMS's own date: where an
        off-by-one lives. (Many random filters at once mostly match nothing.)"""
        records = list(self.model.records.values())
        drawn = one_filter_query(
            data,
            kind,
            self.fixtures,
            records,
            self._on_own_leads,
            NUDGES if nudges is None else nudges,
            styles,
        )
        if drawn is not None:
            self._list(self._scoped(drawn[0]), drawn[1])

    @precondition(lambda self: bool(self.model.records))
    @rule(data=st.data(), kind=st.sampled_from(["date_created", "activity_at"]))
    def list_at_a_date_boundary(self, data: st.DataObject, kind: str) -> None:
        """A date filter whose bound is exactly some SMS's own date as the server showed it
        (unambiguous at any precision the server keeps times at), or a microsecond off."""
        self.list_with_one_filter(data, kind, nudges=BOUNDARY_NUDGES, styles=("offset", "local"))

    @precondition(lambda self: bool(self.model.records))
    @rule(data=st.data(), kind=st.sampled_from(["date_created", "activity_at"]))
    def list_from_a_bare_date(self, data: st.DataObject, kind: str) -> None:
        """A date filter given as a bare date: local midnight at ``x-tz-offset``. (Drawn
        among other styles, the bare date came up a few times in a thousand steps.)"""
        self.list_with_one_filter(data, kind, styles=("date",))

    @precondition(lambda self: bool(self._on_own_leads("date_created")))
    @rule(
        data=st.data(),
        kind=st.sampled_from(["date_created", "activity_at"]),
        op=st.sampled_from(["gt", "lt"]),
    )
    def list_strictly_past_an_sms_own_date(self, data: st.DataObject, kind: str, op: str) -> None:
        """``__gt``/``__lt`` exactly at an SMS's own date as the server showed it, on its
        lead, one whole page: that SMS must not be listed (a bound compared inclusively
        shows only here; drawn among every filter, it came up too rarely to count on)."""
        dated = self._on_own_leads(kind)
        if not dated:
            return
        record = data.draw(st.sampled_from(dated), label="at")
        moment = getattr(record, kind)
        params = {"lead_id": record.written["lead_id"], f"{kind}__{op}": moment.isoformat()}
        self._list(self._scoped(params))

    @precondition(lambda self: bool(self._on_own_leads("date_created")))
    @rule(
        data=st.data(),
        kind=st.sampled_from(["date_created", "activity_at"]),
        edge=st.sampled_from(["lt", "gte", "gt-day", "lte-day"]),
    )
    def list_where_a_reading_shows(self, data: st.DataObject, kind: str, edge: str) -> None:
        """A bound where the readings of an open point disagree about an SMS, on its lead,
        one whole page that shows which the server took: ``__lt``/``__gte`` one microsecond
        after its date (before the bound at the microsecond, on it at the millisecond:
        time-precision), or ``__gt``/``__lte`` its bare local date (midnight at its start,
        or the whole day: bare-date-filter). Drawn among every filter, both came up too
        rarely to count on."""
        dated = self._on_own_leads(kind)
        if not dated:
            return
        record = data.draw(st.sampled_from(dated), label="at")
        moment, tz_offset = getattr(record, kind), None
        op, _, day = edge.partition("-")
        if day:
            tz_offset = data.draw(_TZ, label="tz")
            bound = render_bound(moment, "date", tz_offset)
        else:
            bound = (moment + timedelta(microseconds=1)).isoformat()
        params = {"lead_id": record.written["lead_id"], f"{kind}__{op}": bound}
        self._list(self._scoped(params), tz_offset)

    @precondition(lambda self: len(self.fixtures.leads) >= 2)
    @rule(data=st.data())
    def list_by_a_contact_on_another_lead(self, data: st.DataObject) -> None:
        """``contact_id`` with a single ``lead_id`` that is not the contact's: only SMS of
        that contact may be listed, so an ignored contact filter shows whenever the lead has
        SMS (on the contact's own lead every SMS may well be the contact's)."""
        (lead, _), (_, contact) = data.draw(
            st.permutations(self.fixtures.leads).map(lambda leads: leads[:2]), label="leads"
        )
        self._list(self._scoped({"contact_id": contact, "lead_id": lead}))

    @precondition(lambda self: len(self.model.records) >= 2)
    @rule(data=st.data())
    def list_some_by_id(self, data: st.DataObject) -> None:
        """``id__in`` naming some but not all known SMS: the others must stay out. (A
        filter that is ignored is invisible while only one SMS exists.)"""
        records = list(self.model.records.values())
        count = data.draw(st.integers(1, min(3, len(records) - 1)), label="how many")
        chosen = data.draw(st.permutations(records), label="order")[:count]
        self._list(self._scoped({"id__in": ",".join(record.id for record in chosen)}))

    @precondition(lambda self: bool(self._on_own_leads()))
    @rule(data=st.data())
    def list_trimmed(self, data: st.DataObject) -> None:
        """``_fields`` on a list that shows SMS: whether a server trims them there is open
        (1.2), and seen only on a page that is not empty."""
        self._list(self._scoped({"_fields": ",".join(data.draw(_FIELD_LISTS, label="_fields"))}))

    # -- pagination ------------------------------------------------------------------------

    @precondition(lambda self: len(self._on_own_leads()) >= 2)
    @rule(limit=st.integers(1, 4))
    def walk_all_pages(self, limit: int) -> None:
        # At least two pages: a walk that fits on one page says nothing about _skip.
        limit = min(limit, len(self._on_own_leads()) - 1)
        self._walk(self._scoped({}), limit)

    @precondition(lambda self: bool(self.model.records))
    @rule(data=st.data())
    def list_one_exactly_full_page(self, data: st.DataObject) -> None:
        """A page that holds exactly what is left: ``has_more`` must be false."""
        lead = data.draw(st.sampled_from([lead for lead, _ in self.fixtures.leads]))
        # Scoped like every judged list: on a lead the user named, what was there before the
        # run would otherwise fill the page and make has_more true.
        params = self._scoped({"lead_id": lead})
        matching = len(self.model.expect_list(params).ids)
        # Never over the default: what a larger _limit gets is an open point.
        self._list({**params, "_limit": str(min(max(matching, 1), DEFAULT_LIMIT))})

    @rule(limit=st.sampled_from([101, 250, 1000]))
    def list_with_a_large_limit(self, limit: int) -> None:
        self._list_or_refusal(self._scoped({"_limit": limit}))

    def _walk(self, params: dict[str, str], limit: int) -> None:
        """Every page of a list, ``limit`` at a time, as one step judged against the model's
        expectation of the whole list."""

        def walk() -> Step:
            exchanges, start = [], self._now()
            for page in range(WALK_MAX_PAGES):
                exchange, window = self._send(
                    "GET", SMS, params={**params, "_skip": str(page * limit), "_limit": str(limit)}
                )
                exchanges.append(exchange)
                self._adopt_from(exchange)
                body = exchange.response.body if exchange.response else None
                if not isinstance(body, dict) or body.get("has_more") is not True:
                    break
            walked = TimeWindow(start, window.end)
            return Step(
                "list-walk",
                exchanges,
                walked,
                self.model,
                params=params,
                list_expectation=replace(
                    self.model.expect_list(params, window=walked), skip=0, limit=limit
                ),
            )

        self._observe_statuses(self._judged(walk, reread=True))

    def _list_or_refusal(self, params: dict[str, str]) -> None:
        """A list that may be refused (a ``_limit`` over a maximum the docs do not state);
        one that is answered is judged against the model's expectation."""

        def send() -> Step:
            exchange, window = self._send("GET", SMS, params=params)
            self._adopt_from(exchange)
            step = Step("list", [exchange], window, self.model, params=params)
            if not step.succeeded:  # a refusal is allowed: the maximum is not documented
                return step
            return replace(step, list_expectation=self.model.expect_list(params, window=window))

        self._judged(send, reread=True)


def one_filter_query(
    data: st.DataObject,
    kind: str,
    fixtures: Fixtures,
    records: list[SmsRecord],
    on_own_leads: Callable[[str], list[SmsRecord]],
    nudges: st.SearchStrategy[float],
    styles: tuple[str, ...],
) -> tuple[dict[str, Any], str | None] | None:
    """Draw a list query with one filter of ``kind`` (a date filter's bound at the date of
    one of ``on_own_leads(kind)``, nudged, in one of ``styles``), maybe paged, and the
    ``x-tz-offset`` to send it with; None when there is nothing to filter on."""
    params: dict[str, Any] = {}
    tz_offset = None
    if kind == "lead_id":
        params["lead_id"] = data.draw(st.sampled_from([lead for lead, _ in fixtures.leads]))
    elif kind == "contact_id":
        params["contact_id"] = data.draw(st.sampled_from([c for _, c in fixtures.leads]))
    elif kind == "user_id":
        if fixtures.user_id is None:
            return None  # the target has no GET /me/ and no --user-id was given
        params["user_id"] = fixtures.user_id
    elif kind == "id__in":
        chosen = data.draw(st.lists(st.sampled_from(records), min_size=1, max_size=3))
        params["id__in"] = ",".join(dict.fromkeys(record.id for record in chosen))
    else:
        op = data.draw(_OPS, label="op")
        # The bound comes from an SMS the scoped list can show: one without a lead is
        # outside the lead_id scope, and a bound at its date tests nothing.
        dated = on_own_leads(kind)
        if not dated:
            return None
        moment = getattr(data.draw(st.sampled_from(dated), label="at"), kind)
        moment += timedelta(seconds=data.draw(nudges, label="nudge"))
        style = data.draw(st.sampled_from(styles), label="style")
        if style != "offset":
            tz_offset = data.draw(_TZ, label="tz")
        params[f"{kind}__{op}"] = render_bound(moment, style, tz_offset)
    if data.draw(st.booleans(), label="paged"):
        params["_limit"] = data.draw(st.integers(1, 5), label="_limit")
        params["_skip"] = data.draw(st.integers(0, 3), label="_skip")
    return params, tz_offset


def render_bound(moment: datetime, style: str, tz_offset: str | None) -> str:
    """A date filter value: with an offset, as local time at ``tz_offset`` without one, or
    as the bare local date."""
    if style == "offset":
        return moment.isoformat()
    local = moment.astimezone(timezone(timedelta(hours=float(tz_offset or 0))))
    if style == "date":
        return local.date().isoformat()
    return local.replace(tzinfo=None).isoformat()
