"""The HTML report: one self-contained page for a person to read.

Inline CSS, no script, no external asset. Jinja2 renders ``templates/report.html`` with
autoescaping on, so recorded bodies (which may hold markup) show as text. This module only
shapes the records into what the template shows; the template decides how it looks. The
page opens with a summary bar (verdict, counts, seed, target, tool version, the command
that repeats the run), then the failures, each told by what differs
(:func:`conformance.explain.explain`: the SMS before the request, the differing fields,
expected against actual, each step's measured time, a timing rule's due and seen times),
then the rule table (each rule's coverage: how often it was judged, which of its listed
boundaries were reached). The final page is scrubbed of the run's secrets by value
(``_safety.scrub_text``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from conformance.explain import Explanation, explain, format_elapsed
from conformance.records import Coverage, Exchange, Failure, RuleResult, RunReport
from conformance.reporting._safety import Secrets, safe_headers, scrub_text
from conformance.reporting.replay import replay

__all__ = ["render_html", "write_html"]

# Fails first, then what a reader must act on, then the rest.
_STATUS_ORDER = {"fail": 0, "warning": 1, "not-run": 2, "informational": 3, "pass": 4}

_environment = jinja2.Environment(
    loader=jinja2.PackageLoader("conformance.reporting", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_environment.filters["elapsed"] = format_elapsed


def write_html(report: RunReport, path: Path, *, secrets: Secrets = None) -> None:
    """Write ``report`` as a self-contained HTML page to ``path`` (UTF-8); returns nothing."""
    Path(path).write_text(render_html(report, secrets=secrets), encoding="utf-8")


def render_html(report: RunReport, *, secrets: Secrets = None) -> str:
    """Return the HTML page for ``report``, scrubbed of ``secrets`` in every form."""
    failures = [_failure_view(n, f, report.target) for n, f in enumerate(report.failures, 1)]
    first_failure: dict[str, str] = {}
    for view in failures:
        first_failure.setdefault(view.rule, view.anchor)
    rules = sorted(report.rules, key=_rule_key)
    counts = {status: 0 for status in _STATUS_ORDER}
    for rule in report.rules:
        counts[rule.status] = counts.get(rule.status, 0) + 1
    template = _environment.get_template("report.html")
    page = template.render(
        report=report,
        rules=rules,
        counts=counts,
        failures=failures,
        first_failure=first_failure,
        informational=[r for r in report.rules if r.status == "informational"],
        not_run=[r for r in report.rules if r.status == "not-run"],
        rule_by_id={rule.id: rule for rule in report.rules},
        coverage=Coverage.of(report.rules),
        is_link=_is_link,
    )
    return scrub_text(page, secrets)


@dataclass(slots=True)
class _StepView:
    number: int
    method: str
    path: str
    auth: str
    request_headers: dict[str, str]
    request_body: str | None
    status_code: int | None
    response_headers: dict[str, str]
    response_body: str | None
    elapsed: float
    error: str | None
    sent_at: str | None = None


@dataclass(slots=True)
class _FailureView:
    anchor: str
    rule: str
    message: str
    expected: str
    actual: str
    told: Explanation
    steps: list[_StepView] = field(default_factory=list)
    curl: str = ""
    python: str = ""


def _failure_view(number: int, failure: Failure, target: str) -> _FailureView:
    replayed = replay(failure, target)
    return _FailureView(
        anchor=f"failure-{number}",
        rule=failure.rule,
        message=failure.message,
        expected=failure.expected,
        actual=failure.actual,
        told=explain(failure),
        steps=[_step_view(n, step) for n, step in enumerate(failure.steps, 1)],
        curl="\n".join(replayed.curl),
        python=replayed.python,
    )


def _step_view(number: int, step: Exchange) -> _StepView:
    request, response = step.request, step.response
    return _StepView(
        number=number,
        method=request.method,
        path=request.path,
        auth=request.auth,
        request_headers=safe_headers(request.headers),
        request_body=_pretty(request.body),
        status_code=None if response is None else response.status_code,
        response_headers={} if response is None else safe_headers(response.headers),
        response_body=None if response is None else _pretty(response.body),
        elapsed=step.elapsed,
        error=step.error,
        sent_at=step.sent_at,
    )


def _pretty(body: Any) -> str | None:
    """Return ``body`` as indented JSON, a text body as is, and ``None`` for no body."""
    if body is None:
        return None
    if isinstance(body, str):
        return body
    return json.dumps(body, indent=2, ensure_ascii=False, default=str)


def _is_link(source: str) -> bool:
    return source.startswith(("https://", "http://"))


def _rule_key(rule: RuleResult) -> int:
    return _STATUS_ORDER.get(rule.status, len(_STATUS_ORDER))
