"""Small helpers shared by the checks: short renderings of values for messages."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from conformance.checks import Step
from conformance.explain import compact_json
from conformance.model import SENDING, SmsRecord, floor_ms

MAX_SHOWN = 200


def shown(value: Any) -> str:
    """Return ``value`` as compact JSON, cut to a readable length. A failure's writers
    tell the answer by its differing fields instead (:func:`conformance.explain.explain`
    finds this rendering in ``actual`` and replaces it)."""
    text = compact_json(value)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def status_text(code: int | None) -> str:
    return "no response" if code is None else f"HTTP {code}"


def observed_objects(step: Step) -> Iterator[tuple[SmsRecord, Any, str]]:
    """Yield ``(record, object, context)`` for each known SMS the step's answer shows."""
    if not step.succeeded:
        return
    if step.operation in ("create", "update"):
        if step.expectation is not None and step.expectation.record is not None:
            yield step.expectation.record, step.body, step.operation
    elif step.operation == "get" and step.record is not None:
        yield step.record, step.body, "read"
    elif step.operation in ("list", "list-walk"):
        for exchange in step.exchanges:
            body = exchange.response.body if exchange.response else None
            data = body.get("data") if isinstance(body, dict) else None
            for item in data if isinstance(data, list) else []:
                if isinstance(item, dict) and item.get("id") in step.model.records:
                    yield step.model.records[item["id"]], item, "read"


def in_last_second(record: SmsRecord, step: Step) -> bool:
    """True when ``step`` was handled while ``record`` was still pending (its sender not yet
    due, as the model judges it) but less than a second before it was: the edge a sender that
    runs early, or a cancel that loses the race, shows at."""
    if record.status not in SENDING or record.due is None or record.timing_open is not None:
        return False
    earliest = floor_ms(record.due) - timedelta(seconds=step.model.timing.early)
    left = earliest - step.window.end
    return timedelta(0) < left <= timedelta(seconds=1)
