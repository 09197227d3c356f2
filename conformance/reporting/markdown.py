"""The Markdown summary: the verdict, the counts, the failures and the behaviour profile in
a page a CI system shows beside the job (``--summary-md``, e.g. ``$GITHUB_STEP_SUMMARY``).

Short by design: one line per broken rule (rule id, expected, actual), no transcripts (the
JSON and HTML reports carry those). The text is scrubbed of the run's secrets by value
(``_safety.scrub_text``) last, like every writer's.
"""

from __future__ import annotations

from pathlib import Path

from conformance.records import Coverage, RunReport
from conformance.reporting._safety import Secrets, scrub_text

__all__ = ["to_markdown_text", "write_markdown"]

_STATUSES = ("pass", "fail", "warning", "informational", "not-run")
_ICONS = {"pass": "✅", "fail": "❌", "inconclusive": "⚠️"}
_SHOWN = 300  # characters of an expected or actual value shown in a table cell


def write_markdown(report: RunReport, path: Path, *, secrets: Secrets = None) -> None:
    """Append the summary of ``report`` to ``path`` (a CI step summary file gathers what
    every step appends), creating it if needed."""
    with Path(path).open("a", encoding="utf-8") as file:
        file.write(to_markdown_text(report, secrets=secrets))


def to_markdown_text(report: RunReport, *, secrets: Secrets = None) -> str:
    """Return the Markdown summary of ``report``, scrubbed of ``secrets`` in every form."""
    counts = {status: 0 for status in _STATUSES}
    for rule in report.rules:
        counts[rule.status] = counts.get(rule.status, 0) + 1
    statuses = {rule.id: rule for rule in report.rules}
    lines = [
        f"## {_ICONS.get(report.verdict, '')} sms-conformance: {report.verdict}".replace("  ", " "),
        "",
        _cell(report.reason or ""),
        "",
        f"Target `{report.target}`, profile `{report.profile}`, seed `{report.seed}`, "
        f"{report.stats.requests} requests in {report.stats.duration:.1f} s.",
        "",
        "| " + " | ".join(_STATUSES) + " |",
        "|" + "---:|" * len(_STATUSES),
        "| " + " | ".join(str(counts[status]) for status in _STATUSES) + " |",
        "",
        _cell(Coverage.of(report.rules).line()) + ".",
    ]
    if report.failures:
        lines += ["", "### Broken rules", "", "| rule | status | expected | actual |"]
        lines.append("|---|---|---|---|")
        for failure in report.failures:
            result = statuses.get(failure.rule)
            status: str = result.status if result else "fail"
            if result is not None and result.reason:
                status += f" ({result.reason})"
            lines.append(
                f"| `{failure.rule}` | {_cell(status)} | {_cell(failure.expected)} | "
                f"{_cell(failure.actual)} |"
            )
    met = [point for point in report.open_points if point.readings]
    if met:
        lines += ["", "### Behaviour profile (open points of the docs)", ""]
        lines += ["| open point | reading seen | reference default |", "|---|---|---|"]
        lines += [f"| `{p.id}` | {_cell(p.seen)} | {_cell(p.default)} |" for p in met]
    lines.append("")
    return scrub_text("\n".join(lines) + "\n", secrets)


def _cell(text: str) -> str:
    """``text`` as one table cell: one line, pipes escaped, cut at :data:`_SHOWN`."""
    text = " ".join(str(text).split()).replace("|", "\\|")
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"
