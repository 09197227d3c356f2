"""Writing every format at once, and the credential safety net over all of them."""

from __future__ import annotations

import json
import re

import pytest

import conformance.reporting as reporting
from conformance.reporting import write_reports
from conformance.reporting._safety import safe_headers

# The only forms in which an Authorization header may appear: the replays' references to
# the environment variable, never a value.
ALLOWED_AUTHORIZATION = re.compile(
    r"""Authorization(?::\s*Bearer \$CLOSE_OAUTH_TOKEN|["']?: ["']?Bearer ["']? \+ """
    r"""os\.environ\[["']CLOSE_OAUTH_TOKEN["']\])""",
    re.IGNORECASE,
)


@pytest.fixture
def outputs(report, tmp_path) -> dict[str, str]:
    paths = write_reports(report, tmp_path / "nested" / "reports")
    return {fmt: path.read_text(encoding="utf-8") for fmt, path in paths.items()}


def test_write_reports_creates_the_directory_and_returns_each_path(report, tmp_path):
    directory = tmp_path / "a" / "b"
    paths = write_reports(report, directory)

    assert paths == {
        "json": directory / "report.json",
        "junit": directory / "junit.xml",
        "html": directory / "report.html",
    }
    assert all(path.is_file() for path in paths.values())


def test_no_planted_secret_appears_in_any_report(outputs, sample):
    for fmt, text in outputs.items():
        for secret in sample.FAKE_SECRETS:
            assert secret not in text, (fmt, secret)


def test_no_report_shows_an_authorization_header_value(outputs):
    for fmt, text in outputs.items():
        unescaped = text.replace("&#34;", '"').replace("&#39;", "'").replace('\\"', '"')
        leftover = ALLOWED_AUTHORIZATION.sub("", unescaped)
        assert "authorization" not in leftover.lower(), fmt
        assert "[redacted]" not in leftover, fmt


def test_json_steps_hold_no_sensitive_header(outputs):
    for entry in json.loads(outputs["json"])["failures"]:
        for step in entry["steps"]:
            names = {*step["request"]["headers"], *(step["response"] or {}).get("headers", {})}
            assert not {n.lower() for n in names} & {"authorization", "cookie", "x-api-key"}


@pytest.mark.parametrize("name", ["Authorization", "AUTHORIZATION", "Cookie", "x-Api-Key"])
def test_safe_headers_drops_credential_headers_whatever_their_case(name):
    assert safe_headers({name: "secret", "Accept": "application/json"}) == {
        "Accept": "application/json"
    }


def test_package_exports_are_sorted_and_importable():
    assert reporting.__all__ == sorted(reporting.__all__)
    for name in reporting.__all__:
        assert hasattr(reporting, name)
