"""Report writers: one module per format, each knowing its own format only.

``write_reports`` writes them all into one directory. Every writer takes a
:class:`~conformance.records.RunReport` and drops credential-bearing headers
(``_safety.safe_headers``) from what it renders.
"""

from __future__ import annotations

from pathlib import Path

from conformance.records import RunReport
from conformance.reporting.html import render_html, write_html
from conformance.reporting.json_report import to_json_dict, to_json_text, write_json
from conformance.reporting.junit import write_junit
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
    "write_html",
    "write_json",
    "write_junit",
    "write_reports",
]

#: The file written for each format by :func:`write_reports`.
FILE_NAMES = {"json": "report.json", "junit": "junit.xml", "html": "report.html"}


def write_reports(report: RunReport, directory: Path) -> dict[str, Path]:
    """Write every report format into ``directory``, creating it if needed.

    Returns the path written for each format: ``{"json": .../report.json,
    "junit": .../junit.xml, "html": .../report.html}``.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {fmt: directory / name for fmt, name in FILE_NAMES.items()}
    write_json(report, paths["json"])
    write_junit(report, paths["junit"])
    write_html(report, paths["html"])
    return paths
