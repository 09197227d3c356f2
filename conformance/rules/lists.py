"""Listing (1.2, 2.3, 2.7): filters return exactly the matching SMS, pages tile the result.

No order is documented, so a single page is judged as a set: its items must all match,
its size must be what ``_skip``/``_limit`` leave of the matching set, and a walk over all
pages must return every match exactly once. Where an open point of the docs leaves it to the
server whether an SMS matches (the model's ``maybe``), it may be listed or not: page size
and ``has_more`` are then judged against every result the server may have.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from conformance.catalogue import CATALOGUE
from conformance.checks import Finding, Step, check
from conformance.model import (
    SENDING,
    ListExpectation,
    SmsRecord,
    between_midnights,
    match,
    parse_filter_datetime,
)
from conformance.rules._util import shown

FILTER_RULES = {
    "lead_id": "sms/list/filter-lead-id",
    "user_id": "sms/list/filter-user-id",
    "contact_id": "sms/list/filter-contact-id",
    "id__in": "sms/list/filter-id-in",
    "date_created": "sms/list/filter-date-created",
    "activity_at": "sms/list/filter-activity-at",
}


def _page(body: Any) -> tuple[list[Any], Any] | None:
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        return None
    return body["data"], body.get("has_more")


def _filter_rule(name: str) -> str:
    return FILTER_RULES.get(name) or FILTER_RULES.get(name.rsplit("__", 1)[0], "")


def _date_rule(step: Step, name: str, record: SmsRecord | None = None) -> str:
    """The rule a date filter value answers to: a bare date, a local time read with
    ``x-tz-offset``, or the filter itself. When the SMS it wrongly let in sits exactly on
    the bound as the docs read it, the bound was read right and the comparison is wrong:
    that is the filter's own rule."""
    value = step.params[name]
    if record is not None:
        moment = getattr(record, name.rsplit("__", 1)[0])  # date_created or activity_at
        if moment is not None and moment == parse_filter_datetime(value, step.tz_offset):
            return _filter_rule(name)
    if "T" not in value:
        return "sms/list/filter-bare-date"
    if step.tz_offset is not None and not any(sign in value[10:] for sign in "+-Z"):
        return "sms/list/tz-offset"
    return _filter_rule(name)


def _is_date(name: str) -> bool:
    return _filter_rule(name).endswith(("date-created", "activity-at"))


def _blame_missing(step: Step) -> str:
    """The rule to blame for a matching SMS the server left out."""
    date_params = [name for name in step.params if _is_date(name)]
    for name in date_params:
        return _date_rule(step, name)
    for name in step.params:
        rule = _filter_rule(name)
        if rule:
            return rule
    return "sms/list/pagination"


def _blame_extra(step: Step, sms_id: Any) -> str:
    """The rule to blame for an SMS the server listed that does not match."""
    if step.model.was_deleted(sms_id):
        return "sms/delete/then-not-listed"
    record = step.model.records.get(sms_id)
    for name, value in step.params.items():
        rule = _filter_rule(name)
        if rule and (
            record is None
            or match(record, {name: value}, step.tz_offset, step.window, step.model.timing) is False
        ):
            return _date_rule(step, name, record) if _is_date(name) else rule
    return "sms/list/filter-id-in" if "id__in" in step.params else "sms/list/filter-lead-id"


def _blame_refusal(step: Step) -> str:
    """The rule to blame for a valid list query the server refused."""
    for name in step.params:
        if _is_date(name):
            return _date_rule(step, name)
    for name in step.params:
        if _filter_rule(name):
            return _filter_rule(name)
    return "sms/list/shape"


FILTERS_AND_PAGES = (
    "sms/list/shape",
    "sms/list/pagination",
    "sms/list/has-more",
    "sms/list/limit-default",
    "sms/list/tz-offset",
    "sms/list/filter-bare-date",
    "sms/delete/then-not-listed",
    "sms/list/fields",
    *FILTER_RULES.values(),
)


@check(*FILTERS_AND_PAGES, on=("list",))
def a_page_holds_exactly_the_matching_sms(step: Step) -> Iterator[Finding]:
    edges = _edges(step)
    for finding in _page_findings(step):
        edge = edges.get(finding.rule)
        yield replace(finding, boundary=edge) if edge and finding.boundary is None else finding


BOUND_OPS = ("gt", "lt", "gte", "lte")
#: The boundary of sms/list/filter-bare-date where reading the date at x-tz-offset or in UTC
#: tells apart: an SMS between its local and its UTC midnight.
BETWEEN_MIDNIGHTS = "a bare date whose local and UTC midnights fall either side of an SMS"


def _edges(step: Step) -> dict[str, str]:
    """The boundary case of each rule a list request sat on (rule -> boundary): a date bound
    exactly at some known SMS's own date, ``id__in`` naming one SMS, ``_fields`` naming one
    field, a page exactly as full as ``_limit`` (the last one too: ``has_more`` false), a
    ``_skip`` past every match."""
    expected, params = step.list_expectation, step.params
    if expected is None:
        return {}
    edges: dict[str, str] = {}
    for name, value in params.items():
        kind, _, op = name.rpartition("__")
        rule = FILTER_RULES.get(kind)
        if rule is None or op not in BOUND_OPS or rule in edges:
            continue
        try:
            moment = parse_filter_datetime(value, step.tz_offset)
        except ValueError:
            continue
        if any(getattr(record, kind) == moment for record in step.model.records.values()):
            edges[rule] = f"__{op} exactly at an SMS's date"
    limit = params.get("_limit", "100")
    # One page holds every SMS the run knows: an SMS between midnights is on it.
    whole = (
        params.get("_skip", "0") == "0" and limit.isdigit() and int(limit) > len(step.model.records)
    )
    for name, value in params.items() if whole else ():
        kind = name.rpartition("__")[0]
        filters = {key: v for key, v in params.items() if key[0] != "_"}
        others = {key: v for key, v in filters.items() if key != name}
        window, timing = step.window, step.model.timing
        if kind in ("date_created", "activity_at") and any(
            (moment := getattr(record, kind)) is not None
            and between_midnights(value, step.tz_offset, moment)
            and match(record, others, step.tz_offset, window, timing)
            # whether it is listed is settled (not so for __gt/__lte: bare-date-filter)
            and match(record, filters, step.tz_offset, window, timing) is not None
            for record in step.model.records.values()
        ):
            edges["sms/list/filter-bare-date"] = BETWEEN_MIDNIGHTS
    if len([sms_id for sms_id in params.get("id__in", "").split(",") if sms_id]) == 1:
        edges["sms/list/filter-id-in"] = "one id"
    if "_fields" in params and len(set(params["_fields"].split(",")) - {"id"}) <= 1:
        edges["sms/list/fields"] = "_fields with one field"
    page = _page(step.body) if step.succeeded else None
    if page is None:
        return edges
    size = len(page[0])
    if size and size == expected.limit and expected.cut_to is None:
        edges["sms/list/pagination"] = "a page exactly full"
        if not expected.maybe and expected.skip + size == len(expected.ids):
            edges["sms/list/has-more"] = "the last page exactly full"
    elif expected.skip and expected.skip >= len(expected.allowed):
        edges["sms/list/pagination"] = "_skip past the end"
    return edges


def _page_findings(step: Step) -> Iterator[Finding]:
    expected = step.list_expectation
    code = step.status_code
    if expected is None or code is None or code >= 500:
        return
    if not step.succeeded and "_fields" in step.params and code not in (401, 429):
        # _fields on a list is "not confirmed for list" (1.2): a refusal is observed, never
        # blamed on a filter (audit L5); the same filters without it are judged elsewhere.
        yield Finding(
            "sms/list/fields",
            False,
            "not documented",
            f"HTTP {code} {shown(step.body)}",
            message=f"query {step.params}",
        )
        return
    if not step.succeeded:
        # Every query the machine sends is valid: refusing it breaks the filter it uses.
        yield Finding(
            _blame_refusal(step),
            code in (401, 429),
            "HTTP 200 with the page",
            f"HTTP {code} {shown(step.body)}",
            message=f"query {step.params}",
        )
        return
    page = _page(step.body)
    yield Finding(
        "sms/list/shape",
        page is not None and isinstance(page[1], bool),
        '{"data": [...], "has_more": true|false}',
        shown(step.body),
    )
    if page is None:
        return
    data, has_more = page
    ids = [item.get("id") if isinstance(item, dict) else None for item in data]
    allowed = expected.allowed
    extra = [sms_id for sms_id in ids if sms_id not in allowed]
    for sms_id in extra[:1]:
        yield Finding(
            _blame_extra(step, sms_id),
            False,
            f"only SMS matching {step.params}",
            f"listed {sms_id}",
            message=f"query {step.params}",
        )
    if extra:
        return
    duplicates = [sms_id for sms_id, n in Counter(ids).items() if n > 1]
    sizes = expected.page_sizes
    # A page that can hold everything the server may match must hold all that must match.
    least = min(expected.limit, expected.cut_to or expected.limit)  # a page cut or not
    whole = expected.skip == 0 and least >= len(allowed)
    missing = sorted(expected.ids - set(ids)) if whole else []
    size_ok = len(ids) in sizes and not duplicates and not missing
    if not size_ok:
        full_set = expected.skip == 0 and expected.limit >= len(expected.ids)
        rule = (
            _blame_missing(step)
            if (missing and not duplicates) or (full_set and len(ids) < sizes.start)
            else ("sms/list/pagination")
        )
        if "_limit" not in step.params and len(ids) > 100:
            rule = "sms/list/limit-default"
        counted = f"{sizes.start}" if len(sizes) == 1 else f"{sizes.start} to {sizes.stop - 1}"
        open_ones = f" (and {len(expected.maybe)} that may)" if expected.maybe else ""
        yield Finding(
            rule,
            False,
            f"{counted} distinct SMS of {len(expected.ids)} matching{open_ones},"
            f" after _skip={expected.skip} _limit={expected.limit}",
            f"{len(ids)} SMS ({len(duplicates)} repeated)"
            + (f", missing {missing}" if missing else ""),
            message=f"query {step.params}",
        )
        return
    for name in step.params:
        rule = _filter_rule(name)
        if rule:
            yield Finding(rule, True)
            if rule.endswith(("date-created", "activity-at")) and "T" not in step.params[name]:
                yield Finding("sms/list/filter-bare-date", True)
            if step.tz_offset is not None and rule.endswith(("date-created", "activity-at")):
                yield Finding("sms/list/tz-offset", True)
    yield Finding("sms/list/pagination", True)
    yield from _readings_shown(step, expected, ids, whole=whole)
    if step.model.deleted:
        yield Finding("sms/delete/then-not-listed", True)
    if "_limit" not in step.params:
        yield Finding("sms/list/limit-default", True)
    has_more_allowed = expected.has_more_allowed(len(ids))
    yield Finding(
        "sms/list/has-more",
        has_more in has_more_allowed,
        " or ".join(f"has_more {value}" for value in sorted(has_more_allowed)),
        f"has_more {has_more}",
        message=f"{len(expected.ids)} matching"
        + (f" and {len(expected.maybe)} that may" if expected.maybe else "")
        + f", _skip={expected.skip}, _limit={expected.limit}",
    )


def _readings_shown(
    step: Step, expected: ListExpectation, ids: list[Any], *, whole: bool
) -> Iterator[Finding]:
    """What a good page shows of the readings the server took: an SMS an open point left to
    it that it listed, or (on a page that could hold every SMS it may list, from a target
    whose lists do not lag) left out."""
    listed = set(ids)
    readings: set[str] = set()
    for sms_id, shows in expected.shows.items():
        if sms_id in listed:
            readings |= shows.get(True, frozenset())
        elif whole and not step.model.reads_may_lag:
            readings |= shows.get(False, frozenset())
    date_rules = [_filter_rule(name) for name in step.params if _is_date(name)]
    for reading in sorted(readings):
        point = CATALOGUE.open_points[reading.partition("=")[0]]
        rule = next((r for r in date_rules if r in point.rules), "sms/list/pagination")
        yield Finding(
            rule,
            True,
            message=f"query {step.params}: shows the reading {reading}",
            reading=reading,
        )


@check("sms/list/pagination", "sms/list/has-more", "sms/delete/then-not-listed", on=("list-walk",))
def pages_tile_the_whole_result(step: Step) -> Iterator[Finding]:
    expected = step.list_expectation
    if expected is None:
        return
    seen: list[Any] = []
    for index, exchange in enumerate(step.exchanges):
        response = exchange.response
        page = _page(response.body) if response is not None else None
        if page is None or response is None or response.status_code != 200:
            return
        data, has_more = page
        seen.extend(item.get("id") if isinstance(item, dict) else None for item in data)
        last = index == len(step.exchanges) - 1
        full_last = last and len(data) == expected.limit and not expected.maybe
        if len(data) > expected.limit:
            yield Finding(
                "sms/list/pagination",
                False,
                f"at most {expected.limit} per page",
                f"{len(data)} on page {index + 1}",
            )
            return
        yield Finding(
            "sms/list/has-more",
            has_more is (not last),
            f"has_more {not last} on page {index + 1} of {len(step.exchanges)}",
            f"has_more {has_more}",
            boundary="the last page exactly full" if full_last else None,
        )
    counts = Counter(sms_id for sms_id in seen if sms_id not in step.model.uncertain)
    # An SMS the sender may send while the walk goes on may move in an order the docs do
    # not give (by date_updated, or by an activity_at set to the send time): seen twice or
    # not at all, it breaks nothing (audit L7). Every other SMS stays put.
    moving = {
        sms_id
        for sms_id in expected.allowed
        if (record := step.model.records.get(sms_id)) is not None
        and record.status in SENDING
        and _may_leave(record, step)
    }
    duplicates = sorted(str(k) for k, n in counts.items() if n > 1 and k not in moving)
    gaps = sorted(expected.ids - set(counts) - moving)
    extra = [k for k in counts if k not in expected.allowed]
    deleted = [k for k in extra if step.model.was_deleted(k)]
    if deleted:
        yield Finding(
            "sms/delete/then-not-listed", False, "deleted SMS not listed", f"listed {deleted}"
        )
        return
    yield Finding(
        "sms/list/pagination",
        not duplicates and not gaps and not extra,
        f"all {len(expected.ids)} matching SMS exactly once across pages of {expected.limit}",
        f"repeated {duplicates}, missing {gaps}, extra {extra}",
        message=f"query {step.params}",
        boundary="a walk over several pages" if len(step.exchanges) > 1 else None,
    )


def _may_leave(record: SmsRecord, step: Step) -> bool:
    """True when the sender may send ``record`` while ``step`` goes on: it may still show
    its status, or already one it goes to."""
    allowed = record.allowed_statuses(step.window, step.model.timing)
    return record.status in allowed and len(allowed) > 1
