"""What a list showed beyond the history's own SMS (issue 14): an SMS no request made, or
one of the history's twice. :mod:`conformance.races.record` puts it in a list's
:class:`~conformance.races.sms_spec.Answer` (``extra``), which the spec never explains."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

__all__ = ["stamp", "unexplained"]


def stamp(row: Any) -> datetime | None:
    """A row's ``date_created`` as an aware datetime (None when it has none readable)."""
    value = row.get("date_created") if isinstance(row, dict) else None
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return moment if moment is not None and moment.tzinfo is not None else None


def unexplained(
    rows: list, refs: Mapping[str, str], after: datetime | None, texts: set[str]
) -> frozenset[str]:
    """What a list's ``rows`` show beyond the history's SMS once each: an SMS no request
    made, created after ``after``, with one of the history's ``texts`` (a copy of one of
    its SMS, not an SMS something else on a live target made meanwhile, such as a
    workflow's), by its id; and one of the history's shown twice."""
    extra, seen = set(), set()
    for row in rows:
        sms_id = row.get("id") if isinstance(row, dict) else None
        if not isinstance(sms_id, str):
            continue
        if sms_id in refs and sms_id in seen:
            extra.add(f"{refs[sms_id]} listed twice")
        seen.add(sms_id)
        created = stamp(row)
        made_meanwhile = after is not None and created is not None and created > after
        if sms_id not in refs and made_meanwhile and row.get("text") in texts:
            extra.add(sms_id)
    return frozenset(extra)
