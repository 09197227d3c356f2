"""Lists, observed only (1.2): what the docs leave unsaid about a list — the order of its
items, the most a ``_limit`` may ask for — reported as the reading the target took, never
judged."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from conformance.checks import Finding, Step, check
from conformance.rules.lists import _page


def _instant(value: Any) -> datetime | None:
    """``date_created`` as an aware instant (offsets and fractions compared as times, not
    as text), or None when it is not an ISO 8601 date-time with an offset."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


@check("sms/list/order", on=("list", "list-walk"))
def order_is_observed(step: Step) -> Iterator[Finding]:
    """No order is documented; report the one seen on a page, or across a walk over every
    page (the order is the same from page to page either way)."""
    created = []
    for exchange in step.exchanges:
        page = _page(exchange.response.body) if exchange.response is not None else None
        for item in page[0] if page else []:
            moment = _instant(item.get("date_created")) if isinstance(item, dict) else None
            if moment is None:
                return  # a date that does not parse orders nothing
            created.append(moment)
    if len(created) < 3 or len(set(created)) < 2:
        return  # too few, or all at one instant: no order to see
    order = (
        "newest first"
        if created == sorted(created, reverse=True)
        else "oldest first"
        if created == sorted(created)
        else "not by date_created"
    )
    reading = {"newest first": "newest-first", "oldest first": "oldest-first"}.get(order)
    several = sum(1 for exchange in step.exchanges if exchange.response is not None) > 1
    yield Finding(
        "sms/list/order",
        False,
        "not documented",
        order,
        reading=f"list-order={reading}" if reading else None,
        boundary="a walk over several pages" if several else None,
    )


@check("sms/list/limit-maximum", on=("list",))
def large_limit_is_observed(step: Step) -> Iterator[Finding]:
    """The maximum is not documented: report whether a _limit over the default was refused
    or served, and with how many SMS (a page cut to the maximum shows it)."""
    if int(step.params.get("_limit", "0")) <= 100:
        return
    page = _page(step.body) if step.succeeded else None
    served = f" with {len(page[0])} SMS (has_more {page[1]})" if page is not None else ""
    code = step.status_code
    reading = "reject" if code is not None and 400 <= code < 500 else "clamp" if page else None
    yield Finding(
        "sms/list/limit-maximum",
        False,
        "not documented",
        f"_limit={step.params['_limit']} answered HTTP {code}{served}",
        reading=f"limit-over-maximum={reading}" if reading and code not in (401, 429) else None,
        boundary="_limit=101" if step.params["_limit"] == "101" else None,
    )
