"""The machine-readable report: one JSON document per run.

Keys keep a fixed order (the order below), the file is UTF-8 with non-ASCII characters kept
and an indent of 2. Credential-bearing headers are dropped from every recorded exchange, and
the final text is scrubbed of the run's secrets by value (``_safety.scrub_text``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conformance.explain import explain
from conformance.records import (
    Exchange,
    Failure,
    OpenPointResult,
    RuleResult,
    RunReport,
    RunStats,
)
from conformance.reporting._safety import Secrets, safe_headers, scrub_text
from conformance.reporting.replay import replay

__all__ = ["to_json_dict", "to_json_text", "write_json"]


def write_json(report: RunReport, path: Path, *, secrets: Secrets = None) -> None:
    """Write ``report`` as JSON to ``path`` (UTF-8, indent 2); returns nothing."""
    Path(path).write_text(to_json_text(report, secrets=secrets), encoding="utf-8")


def to_json_text(report: RunReport, *, secrets: Secrets = None) -> str:
    """Return the JSON document for ``report``, ending with a newline, scrubbed of
    ``secrets`` in every form."""
    text = json.dumps(to_json_dict(report), indent=2, ensure_ascii=False, default=str)
    return scrub_text(text, secrets) + "\n"


def to_json_dict(report: RunReport) -> dict[str, Any]:
    """Return ``report`` as plain JSON-ready data, keys in the documented order."""
    return {
        "verdict": report.verdict,
        "seed": report.seed,
        "target": report.target,
        "profile": report.profile,
        "reason": report.reason,
        "started_at": report.started_at,
        "run_id": report.run_id,
        "leftovers": list(report.leftovers),
        "cleanup_command": report.cleanup_command,
        "strict": report.strict,
        "tool_version": report.tool_version,
        "command": report.command,
        "numbers": {kind: list(numbers) for kind, numbers in report.numbers.items()},
        "rules": [_rule(rule) for rule in report.rules],
        "failures": [_failure(failure, report.target) for failure in report.failures],
        "open_points": [_open_point(point) for point in report.open_points],
        "stats": _stats(report.stats),
    }


def _rule(rule: RuleResult) -> dict[str, Any]:
    return {
        "id": rule.id,
        "status": rule.status,
        "level": rule.level,
        "statement": rule.statement,
        "quote": rule.quote,
        "source": rule.source,
        "checked": rule.checked,
        "boundaries": dict(rule.boundaries),
        "observations": list(rule.observations),
        "reason": rule.reason,
    }


def _open_point(point: OpenPointResult) -> dict[str, Any]:
    return {
        "id": point.id,
        "question": point.question,
        "readings_seen": dict(point.readings),
        "default": point.default,
        "alternatives": dict(point.alternatives),
        "quote": point.quote,
        "source": point.source,
    }


def _failure(failure: Failure, target: str) -> dict[str, Any]:
    replayed = replay(failure, target)
    told = explain(failure)
    return {
        "rule": failure.rule,
        "message": failure.message,
        "expected": failure.expected,
        "actual": failure.actual,
        "summary": told.line(),
        "differences": [
            {"field": d.field, "expected": d.expected, "actual": d.actual} for d in told.differences
        ],
        "before": dict(told.before),  # the SMS as last seen before the request (rendered)
        "timing": dict(told.timing),  # a timing rule's due, cancelled and seen times
        "length": failure.length,
        "steps": [_exchange(step) for step in failure.steps],
        "replay": {"curl": replayed.curl, "python": replayed.python},
    }


def _exchange(exchange: Exchange) -> dict[str, Any]:
    request = exchange.request
    response = exchange.response
    return {
        "request": {
            "method": request.method,
            "path": request.path,
            "headers": safe_headers(request.headers),
            "body": request.body,
            "auth": request.auth,
        },
        "response": None
        if response is None
        else {
            "status_code": response.status_code,
            "headers": safe_headers(response.headers),
            "body": response.body,
        },
        "elapsed": exchange.elapsed,
        "sent_at": exchange.sent_at,
        "error": exchange.error,
    }


def _stats(stats: RunStats) -> dict[str, Any]:
    return {
        "requests": stats.requests,
        "duration": stats.duration,
        "steps": stats.steps,
        "examples": stats.examples,
        "transient_errors": stats.transient_errors,
        "rate_limited": stats.rate_limited,
    }
