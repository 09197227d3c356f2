"""Query strings of list endpoints: pagination, SMS filters and ``_fields``.

- ``_skip`` (default 0) and ``_limit`` (default 100, at most 100) must be non-negative
  integers, else 400 naming the parameter. A ``_limit`` over 100 is a 400 on ``_limit``; on
  the SMS list, under the ``limit-over-maximum=clamp`` reading, the page is cut to 100.
- ``lead_id``, ``contact_id``, ``user_id``, ``id__in``: comma-separated; repeated parameters
  add up; empty items are dropped and a parameter with no items is no filter.
- ``date_created__gt/__gte/__lt/__lte`` and ``activity_at__...``: an ISO date-time with or
  without offset, or a bare date (local midnight); without offset the value is local in the
  ``x-tz-offset`` header's offset (no header: UTC). Unparseable values are a 400. Under the
  ``bare-date-filter=whole-day`` reading a bare date given to ``__gt``/``__lte`` takes the
  whole day (``__gt`` from the next midnight, ``__lte`` up to it, exclusive); under
  ``time-precision=milliseconds`` every bound is truncated to the millisecond.
- ``_fields=a,b``: each object keeps only those fields (unknown names are skipped; an
  empty value means all fields).
- Unknown parameters (``_type``, ``organization_id``, ...) are ignored: the organisation is
  always the caller's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, timedelta
from typing import Any

from starlette.datastructures import QueryParams as Params

from conformance.refserver.context import RequestContext
from conformance.refserver.dates import at_precision, format_dt, is_bare_date, parse_datetime
from conformance.refserver.errors import ValidationFailed
from conformance.refserver.settle import LINGERING
from conformance.refserver.storage import Storage

__all__ = ["MAX_LIMIT", "page", "sms_list", "trim_fields"]

MAX_LIMIT = 100
DEFAULT_LIMIT = 100
_DIGITS = re.compile(r"^\d{1,18}$")
_LIST_FILTERS = {"lead_id": "lead_id", "contact_id": "contact_id", "user_id": "user_id",
                 "id__in": "id"}  # fmt: skip
_RANGE_COLUMNS = ("date_created", "activity_at")
_OPERATORS = ("gt", "gte", "lt", "lte")
# Faulty variants: a filter the server forgets, and a bound compared inclusively.
_IGNORED_FILTER_FAULTS = {"lead_id": "lead-filter-ignored", "contact_id": "contact-filter-ignored",
                          "id__in": "id-in-filter-ignored"}  # fmt: skip
_INCLUSIVE_FAULTS = {("date_created", "gt"): "date-created-gt-inclusive",
                     ("date_created", "lt"): "date-created-lt-inclusive",
                     ("activity_at", "gt"): "activity-at-gt-inclusive"}  # fmt: skip


def _integer(params: Params, name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    text = raw.strip()
    if not _DIGITS.match(text):
        raise ValidationFailed(name, f"Must be a non-negative integer, got {raw!r}.")
    return int(text)


def page(params: Params, *, clamp: bool = False) -> tuple[int, int]:
    """Return ``(skip, limit)``; 400 when either is not a non-negative integer, or when
    ``_limit`` exceeds :data:`MAX_LIMIT` (``clamp``: it is cut to :data:`MAX_LIMIT`)."""
    skip = _integer(params, "_skip", 0)
    limit = _integer(params, "_limit", DEFAULT_LIMIT)
    if limit > MAX_LIMIT and clamp:
        return skip, MAX_LIMIT
    if limit > MAX_LIMIT:
        raise ValidationFailed("_limit", f"Must be at most {MAX_LIMIT}, got {limit}.", refusal=True)
    return skip, limit


def trim_fields(doc: Mapping[str, Any], fields: str | None) -> dict[str, Any]:
    """Return ``doc`` reduced to the comma-separated ``fields`` (all when empty/None)."""
    names = [n.strip() for n in (fields or "").split(",") if n.strip()]
    if not names:
        return dict(doc)
    return {name: doc[name] for name in names if name in doc}


def sms_list(storage: Storage, ctx: RequestContext, params: Params) -> dict[str, Any]:
    """Return ``{"data": [...], "has_more": bool}`` for ``GET /activity/sms/``."""
    faults = ctx.faults
    skip, limit = page(params, clamp=ctx.readings["limit-over-maximum"] == "clamp")
    if skip > 0 and "skip-off-by-one" in faults:
        skip += 1
    if "limit-ignored" in faults:
        limit = DEFAULT_LIMIT
    if "_limit" not in params and "default-limit-unbounded" in faults:
        limit = 2**31
    any_of: dict[str, list[str]] = {}
    for name, column in _LIST_FILTERS.items():
        ignored = _IGNORED_FILTER_FAULTS.get(name)
        if ignored is not None and ignored in faults:
            continue
        if name == "user_id" and "user-filter-wrong-column" in faults:
            column = "contact_id"
        values = [v.strip() for raw in params.getlist(name) for v in raw.split(",") if v.strip()]
        if values:
            any_of[column] = values
    ranges = []
    for column in _RANGE_COLUMNS:
        for op in _OPERATORS:
            name = f"{column}__{op}"
            raw = params.get(name)
            if raw is None:
                continue
            bare = is_bare_date(raw)
            if bare and "bare-date-rejected" in faults:
                raise ValidationFailed(name, f"Must be an ISO 8601 date-time, got {raw!r}.")
            tz = ctx.tz
            if "tz-offset-ignored" in faults or (bare and "bare-date-as-utc" in faults):
                tz = UTC
            value = parse_datetime(raw, tz)
            if value is None:
                raise ValidationFailed(name, f"Must be an ISO 8601 date or date-time, got {raw!r}.")
            # Bounds are compared at the precision times are kept (time-precision).
            value = at_precision(value, ctx.readings["time-precision"])
            if bare and op in ("gt", "lte") and ctx.readings["bare-date-filter"] == "whole-day":
                # The whole day: after it ends (gt), or up to its end (lte).
                value, op = value + timedelta(days=1), {"gt": "gte", "lte": "lt"}[op]
            inclusive = _INCLUSIVE_FAULTS.get((column, op))
            if inclusive is not None and inclusive in faults:
                op += "e"  # gt -> gte, lt -> lte
            ranges.append((column, op, format_dt(value)))
    org: str | None = ctx.org.organization_id
    if "id" in any_of and "isolation-list-leak" in faults:
        org = None  # ids are unique, so the organisation is "not needed"
    kinds = ("sms", "sms_deleted") if "deleted-still-listed" in faults else ("sms",)
    settle = ctx.settle
    if settle is not None:
        kinds = (*kinds, LINGERING)
    rows = storage.select(
        kinds,
        org,
        any_of=any_of,
        ranges=ranges,
        skip=0 if settle is not None else skip,
        limit=2**31 if settle is not None else limit + 1,
        # A faulty variant flips the order on later pages only (the pages then overlap).
        oldest_first=(ctx.readings["list-order"] == "oldest-first")
        != (skip > 0 and "later-pages-oldest-first" in faults),
    )
    if settle is not None:
        # The index lags: new SMS are not in it yet, deleted ones still are.
        rows = [
            row
            for row in rows
            if not settle.unlisted(row["id"], ctx.now)
            and (not settle.was_deleted(row["id"]) or settle.lingering(row["id"], ctx.now))
        ][skip : skip + limit + 1]
    fields = params.get("_fields")
    has_more = len(rows) > limit
    if "has-more-always-false" in faults:
        has_more = False
    if "has-more-on-full-page" in faults:
        has_more = len(rows) >= limit
    return {
        "data": [trim_fields(row, fields) for row in rows[:limit]],
        "has_more": has_more,
    }
