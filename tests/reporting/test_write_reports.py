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


# -- redaction by value ----------------------------------------------------------------------

ECHOED_KEY = "echoed-api-key-5b2d7e"


def _echoing(report):
    """``report`` with the key echoed where a target can put it: an error body, Location,
    Link and WWW-Authenticate headers, base64 of ``key:`` and URL-encoded."""
    import base64
    from dataclasses import replace
    from urllib.parse import quote

    basic = base64.b64encode(f"{ECHOED_KEY}:".encode()).decode()
    step = report.failures[0].steps[0]
    response = replace(
        step.response,
        headers={
            "Location": f"https://x.test/?key={quote(ECHOED_KEY)}",
            "Link": f"<https://{ECHOED_KEY}@x.test/next>; rel=next",
            "WWW-Authenticate": f'Basic realm="{basic}"',
        },
        body={"error": f"bad key {ECHOED_KEY}", "auth": f"Basic {basic}"},
    )
    request = replace(step.request, body={"text": f"key {ECHOED_KEY}"})
    steps = (replace(step, request=request, response=response), *report.failures[0].steps[1:])
    failure = replace(report.failures[0], steps=steps, actual=f"echoed {ECHOED_KEY}")
    return replace(report, failures=[failure], reason=f"reason {ECHOED_KEY}")


def _forms() -> list[str]:
    import base64
    from urllib.parse import quote

    return [ECHOED_KEY, base64.b64encode(f"{ECHOED_KEY}:".encode()).decode(), quote(ECHOED_KEY)]


def test_given_the_secrets_no_writer_writes_any_form_of_an_echoed_key(report, tmp_path):
    paths = write_reports(_echoing(report), tmp_path, secrets=[ECHOED_KEY])
    for fmt, path in paths.items():
        text = path.read_text(encoding="utf-8")
        for form in _forms():
            assert form.lower() not in text.lower(), (fmt, form)
        assert "[redacted]" in text, fmt


def test_scrubbed_reports_stay_valid_json_and_xml(report, tmp_path):
    import xml.etree.ElementTree as ET

    paths = write_reports(_echoing(report), tmp_path, secrets=[ECHOED_KEY])
    data = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert data["failures"][0]["steps"][0]["response"]["body"]["error"] == "bad key [redacted]"
    ET.parse(paths["junit"])


def test_replays_given_the_secrets_carry_no_form_of_them(report):
    from conformance.reporting import replay

    replayed = replay(_echoing(report).failures[0], report.target, secrets=[ECHOED_KEY])
    for text in (*replayed.curl, replayed.python):
        for form in _forms():
            assert form not in text
    assert "CLOSE_API_KEY" in replayed.python


def test_a_target_url_with_userinfo_is_never_written(report, tmp_path):
    from dataclasses import replace

    paths = write_reports(replace(report, target=f"https://{ECHOED_KEY}@x.test/api/v1"), tmp_path)
    for path in paths.values():
        assert ECHOED_KEY not in path.read_text(encoding="utf-8")
