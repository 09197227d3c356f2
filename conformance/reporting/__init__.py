"""Report writers: one module per format, each knowing its own format only.

``write_reports`` writes them all into one directory. Every writer takes a
:class:`~conformance.records.RunReport`, drops credential-bearing headers by name
(``_safety.safe_headers``) from what it renders and, given the run's ``secrets`` (a
:class:`~conformance.redaction.Redactor` or the secret values), scrubs every form of them
from its final text (``_safety.scrub_text``), replays included.
"""

from __future__ import annotations

from pathlib import Path

from conformance.records import RunReport
from conformance.redaction import redactor_for
from conformance.reporting._safety import Secrets
from conformance.reporting.html import render_html, write_html
from conformance.reporting.json_report import to_json_dict, to_json_text, write_json
from conformance.reporting.junit import to_junit_text, write_junit
from conformance.reporting.replay import Replay, curl_commands, python_script, replay

__all__ = [
    "FILE_NAMES",
    "Replay",
    "curl_commands",
    "python_script",
    "render_html",
    "replay",
    "to_json_dict",
    "to_json_text",
    "to_junit_text",
    "write_html",
    "write_json",
    "write_junit",
    "write_reports",
]

#: The file written for each format by :func:`write_reports`.
FILE_NAMES = {"json": "report.json", "junit": "junit.xml", "html": "report.html"}


def write_reports(
    report: RunReport, directory: Path, *, secrets: Secrets = None
) -> dict[str, Path]:
    """Write every report format into ``directory``, creating it if needed; each file's
    text is scrubbed of ``secrets`` (a Redactor, or the secret values) in every form.

    Returns the path written for each format: ``{"json": .../report.json,
    "junit": .../junit.xml, "html": .../report.html}``.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    redactor = redactor_for(secrets)  # the forms are worked out once, for every writer
    paths = {fmt: directory / name for fmt, name in FILE_NAMES.items()}
    write_json(report, paths["json"], secrets=redactor)
    write_junit(report, paths["junit"], secrets=redactor)
    write_html(report, paths["html"], secrets=redactor)
    return paths
