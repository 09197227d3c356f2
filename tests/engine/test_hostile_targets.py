"""Hostile and broken targets: every fault ends in a clear verdict, never a crash or a hang,
and the credential never leaves the target's host nor shows up in any output.

The target is faked at the HTTP-client level (``hostile.py``): ``https://hostile.test``
is the reference server behind respx (so the fixture endpoints answer as Close does), and
``/activity/sms/`` misbehaves in one way per case, usually by spoiling the right answer.
``SystemClock.sleep`` is a no-op in these tests (see ``hostile_target``), so the client's
GET backoff (0.5 + 1 + 2 s) costs nothing; only real waiting is skipped.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import ssl
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from click.testing import CliRunner

from conformance.cli import EXIT_FAIL, EXIT_INCONCLUSIVE, main
from conformance.client import Credentials
from conformance.engine import run_target
from conformance.profiles import PROFILES
from conformance.reporting import write_reports
from conformance.target import remote_target

from .hostile import (
    BASE_URL,
    EVIL_LOCATION,
    SECRET,
    Hostile,
    assert_no_secret_in,
    hostile_target,
    log_text,
    report_texts,
    requests_carrying_the_key,
)

QUICK = PROFILES["quick"]
MAX_BODY = 1_000_000  # ApiClient's default max_body_bytes
CHUNK = 64 * 1024
HUGE = 5 * 1024 * 1024


# -- the misbehaviours -----------------------------------------------------------------------


def malformed_json(request: httpx.Request, reference) -> httpx.Response:
    """The right status and content type; the body cut off half-way."""
    right = reference(request)
    cut = right.content[: max(len(right.content) // 2, 1)]
    headers = {k: v for k, v in right.headers.items() if k != "content-length"}
    return httpx.Response(right.status_code, content=cut, headers=headers)


def wrong_content_type(request: httpx.Request, reference) -> httpx.Response:
    """The right answer, labelled text/plain."""
    right = reference(request)
    headers = {**right.headers, "content-type": "text/plain; charset=utf-8"}
    return httpx.Response(right.status_code, content=right.content, headers=headers)


def html_error_page(status: int):
    def answer(request: httpx.Request, reference) -> httpx.Response:
        page = f"<html><body><h1>{status} Service Unavailable</h1><p>nginx</p></body></html>"
        return httpx.Response(status, text=page, headers={"content-type": "text/html"})

    return answer


def raises(error: type[httpx.TransportError]):
    def answer(request: httpx.Request, reference) -> httpx.Response:
        raise error(f"simulated {error.__name__}", request=request)

    return answer


def redirect(status: int):
    def answer(request: httpx.Request, reference) -> httpx.Response:
        return httpx.Response(status, headers={"location": EVIL_LOCATION})

    return answer


class HugeAnswers:
    """Every successful SMS answer is a 5 MB JSON object (one long ``text``), streamed in
    64 KiB chunks; ``pulled`` counts the chunks each answer had read from it. Refusals
    (401, 404, ...) stay the reference server's own."""

    def __init__(self) -> None:
        self.pulled: list[int] = []

    def __call__(self, request: httpx.Request, reference) -> httpx.Response:
        right = reference(request)
        if right.status_code >= 300:
            return right
        self.pulled.append(0)
        index = len(self.pulled) - 1

        def chunks() -> Iterator[bytes]:
            yield b'{"id": "acti_1", "_type": "SMS", "text": "'
            for _ in range(HUGE // CHUNK):
                self.pulled[index] += 1
                yield b"x" * CHUNK
            yield b'"}'

        return httpx.Response(200, content=chunks(), headers={"content-type": "application/json"})


def slow_then_timeout(request: httpx.Request, reference) -> httpx.Response:
    time.sleep(0.02)  # a server slower than the read timeout: httpx gives up with ReadTimeout
    raise httpx.ReadTimeout("simulated slow answer", request=request)


# -- helpers ---------------------------------------------------------------------------------


def run_engine(hostile_sms, monkeypatch, tmp_path, caplog):
    """Run ``quick`` against the hostile target; return the report, the fake, and every text
    the run produced (report files, report repr, log records)."""
    caplog.set_level(logging.DEBUG)
    with hostile_target(hostile_sms, monkeypatch) as hostile:
        target = remote_target(BASE_URL, Credentials(SECRET), allow_send=False)
        report = run_target(target, profile=QUICK, seed_value=1)
    write_reports(report, tmp_path)
    texts = [*report_texts(tmp_path).values(), repr(report), log_text(caplog.records)]
    return report, hostile, texts


def run_cli(hostile_sms, monkeypatch, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    with hostile_target(hostile_sms, monkeypatch) as hostile:
        result = CliRunner().invoke(
            main,
            [
                "run",
                "--base-url",
                BASE_URL,
                "--api-key",
                SECRET,
                "--profile",
                "quick",
                "--seed",
                "1",
                "--report-dir",
                str(tmp_path),
            ],
            env={"CLOSE_OAUTH_TOKEN": "", "CLOSE_SECOND_API_KEY": ""},
        )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    files = report_texts(tmp_path)
    assert set(files) == {"report.json", "junit.xml", "report.html"}
    texts = [result.output, *files.values(), log_text(caplog.records)]
    return result, json.loads(files["report.json"]), hostile, texts


def assert_contained(hostile: Hostile, texts: list[str]) -> None:
    hostile.assert_only_the_target_was_asked()
    assert_no_secret_in(*texts)


def failed_rules(report) -> set[str]:
    return {failure.rule for failure in report.failures}


# -- the fault matrix, engine level ----------------------------------------------------------

INCONCLUSIVE = [
    pytest.param(html_error_page(502), "502", id="html-502-page"),
    pytest.param(html_error_page(503), "503", id="html-503-page"),
    pytest.param(raises(httpx.ReadTimeout), "timeout (ReadTimeout)", id="read-timeout"),
    pytest.param(raises(httpx.ConnectTimeout), "timeout (ConnectTimeout)", id="connect-timeout"),
    pytest.param(raises(httpx.ConnectError), "no answer (ConnectError)", id="connect-error"),
    pytest.param(
        raises(httpx.RemoteProtocolError), "no answer (RemoteProtocolError)", id="connection-reset"
    ),
    pytest.param(raises(httpx.ReadError), "no answer (ReadError)", id="read-error"),
    pytest.param(slow_then_timeout, "timeout (ReadTimeout)", id="slow-answer"),
]


@pytest.mark.parametrize(("sms", "last_error"), INCONCLUSIVE)
def test_a_target_whose_sms_api_never_answers_usably_is_inconclusive_not_failed(
    sms, last_error, monkeypatch, tmp_path, caplog
):
    started = time.monotonic()
    report, hostile, texts = run_engine(sms, monkeypatch, tmp_path, caplog)
    assert report.verdict == "inconclusive"
    assert report.failures == []
    assert "no usable answer" in report.reason or "transient failures" in report.reason
    assert last_error in report.reason
    assert report.stats.transient_errors >= 5
    assert not any(rule.status == "fail" for rule in report.rules)
    assert time.monotonic() - started < 10
    assert_contained(hostile, texts)


def test_malformed_json_under_a_json_content_type_fails_the_object_schema(
    monkeypatch, tmp_path, caplog
):
    report, hostile, texts = run_engine(malformed_json, monkeypatch, tmp_path, caplog)
    assert report.verdict == "fail"
    assert "sms/object/schema" in failed_rules(report)
    assert failed_rules(report) & {"sms/get/returns-object", "sms/list/shape"}
    assert "protocol/json-content-type" not in failed_rules(report)  # the header was right
    assert_contained(hostile, texts)


def test_json_served_as_text_plain_fails_the_content_type_rule(monkeypatch, tmp_path, caplog):
    report, hostile, texts = run_engine(wrong_content_type, monkeypatch, tmp_path, caplog)
    assert report.verdict == "fail"
    assert "protocol/json-content-type" in failed_rules(report)
    failure = next(f for f in report.failures if f.rule == "protocol/json-content-type")
    assert "text/plain" in failure.actual
    assert_contained(hostile, texts)


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_stops_the_run_naming_the_location_and_nothing_goes_elsewhere(
    status, monkeypatch, tmp_path, caplog
):
    report, hostile, texts = run_engine(redirect(status), monkeypatch, tmp_path, caplog)
    assert report.verdict == "inconclusive"
    assert EVIL_LOCATION in report.reason
    assert "redirects" in report.reason
    assert hostile.api.sms_requests == 1  # stopped at the first one
    assert not any(request.url.host == "evil.test" for request in hostile.requests)
    assert_contained(hostile, texts)
    # What the run created was still deleted, on the target's own host.
    deleted = [r.url.path.split("/")[3] for r in hostile.requests if r.method == "DELETE"]
    assert sorted(deleted) == ["lead", "lead", "sms_template"]


def test_a_huge_answer_is_read_only_up_to_the_bound_and_ends_inconclusive(
    monkeypatch, tmp_path, caplog
):
    huge = HugeAnswers()
    monkeypatch.setattr("conformance.engine._schema_phase", lambda state: None)
    report, hostile, texts = run_engine(huge, monkeypatch, tmp_path, caplog)
    # Cut at 1 MB the answer cannot be judged: inconclusive, saying which bound was hit where,
    # never a failure of a rule the target may well keep.
    assert report.verdict == "inconclusive"
    assert report.failures == []
    assert "answered more than 1,000,000 bytes (decoded); the bound was hit" in report.reason
    assert "activity/sms/" in report.reason
    assert huge.pulled
    assert max(huge.pulled) <= MAX_BODY // CHUNK + 1  # never read to the end
    assert_contained(hostile, texts)
    # What the run created was still deleted.
    deleted = [r.url.path.split("/")[3] for r in hostile.requests if r.method == "DELETE"]
    assert sorted(set(deleted)) == ["lead", "sms_template"]


def test_the_command_line_ends_a_huge_answer_inconclusive_naming_the_bound(
    monkeypatch, tmp_path, caplog
):
    monkeypatch.setattr("conformance.engine._schema_phase", lambda state: None)
    huge = HugeAnswers()
    result, report, hostile, texts = run_cli(huge, monkeypatch, tmp_path, caplog)
    assert result.exit_code == EXIT_INCONCLUSIVE, result.output
    assert report["verdict"] == "inconclusive"
    assert "the bound was hit" in report["reason"]
    assert "the bound was hit" in result.output
    assert max(huge.pulled) <= MAX_BODY // CHUNK + 1
    assert_contained(hostile, texts)


def test_the_schema_phase_reads_a_huge_answer_only_up_to_the_bound_and_notes_it(monkeypatch):
    import conformance.bounded_requests
    import conformance.schema_phase
    from conformance.client import AnswerTooLarge
    from conformance.schema_phase import run_schema_phase

    yielded = []

    @contextlib.contextmanager
    def noting_bounded_sessions(*args, **kwargs):
        with conformance.bounded_requests.bounded_sessions(*args, **kwargs) as bounds:
            yielded.append(bounds)
            yield bounds

    monkeypatch.setattr(conformance.schema_phase, "bounded_sessions", noting_bounded_sessions)
    huge = HugeAnswers()
    with hostile_target(huge, monkeypatch):
        target = remote_target(BASE_URL, Credentials(SECRET), allow_send=False)
        target.discover()
        try:
            run_schema_phase(target, seed=1, max_examples=1, phases=("examples",))
        except AnswerTooLarge as error:  # the phase's owner may end it so on bounds.hits
            assert "the bound was hit" in str(error)
        finally:
            target.close()
    assert huge.pulled
    assert max(huge.pulled) <= MAX_BODY // CHUNK + 1
    # Every answer cut at 1 MB is noted, by request, for the run to end inconclusive.
    [bounds] = yielded
    assert bounds.hits
    assert all(
        hit.endswith(": answered more than 1,000,000 bytes (decoded); the bound was hit")
        for hit in bounds.hits
    )
    assert any(" /api/v1/activity/sms/" in hit for hit in bounds.hits)


def test_the_schema_phase_never_sends_the_key_as_data(monkeypatch, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    with hostile_target(wrong_content_type, monkeypatch, key_as_test_data=True) as hostile:
        target = remote_target(BASE_URL, Credentials(SECRET), allow_send=False)
        report = run_target(target, profile=QUICK, seed_value=1)
    assert report.verdict == "fail"
    assert requests_carrying_the_key(hostile.requests) == []
    assert_no_secret_in(log_text(caplog.records))


def test_the_schema_phase_also_goes_only_to_the_target_with_tls_verified(
    monkeypatch, tmp_path, caplog
):
    report, hostile, texts = run_engine(wrong_content_type, monkeypatch, tmp_path, caplog)
    schema_requests = [
        r for r in hostile.requests if r.headers.get("user-agent", "").startswith("schemathesis")
    ]
    assert schema_requests, "the schema phase sent nothing (is the bridge to requests broken?)"
    # requests turns verify=True into the path of its CA bundle; False would mean no check.
    assert hostile.requests_verify
    assert all(v is True or isinstance(v, str) for v in hostile.requests_verify)
    assert_contained(hostile, texts)


# -- the command line ------------------------------------------------------------------------

CLI_CASES = [
    pytest.param(malformed_json, EXIT_FAIL, "sms/object/schema", id="malformed-json"),
    pytest.param(wrong_content_type, EXIT_FAIL, "protocol/json-content-type", id="text-plain"),
    pytest.param(html_error_page(502), EXIT_INCONCLUSIVE, "502", id="html-502-page"),
    pytest.param(raises(httpx.ReadTimeout), EXIT_INCONCLUSIVE, "ReadTimeout", id="read-timeout"),
    pytest.param(raises(httpx.ConnectError), EXIT_INCONCLUSIVE, "ConnectError", id="connect"),
    pytest.param(
        raises(httpx.RemoteProtocolError), EXIT_INCONCLUSIVE, "RemoteProtocolError", id="reset"
    ),
    pytest.param(redirect(307), EXIT_INCONCLUSIVE, EVIL_LOCATION, id="redirect"),
]


@pytest.mark.parametrize(("sms", "exit_code", "named"), CLI_CASES)
def test_the_command_line_turns_each_fault_into_its_exit_code_without_leaking_the_key(
    sms, exit_code, named, monkeypatch, tmp_path, caplog
):
    result, report, hostile, texts = run_cli(sms, monkeypatch, tmp_path, caplog)
    assert result.exit_code == exit_code, result.output
    verdict = {EXIT_FAIL: "fail", EXIT_INCONCLUSIVE: "inconclusive"}[exit_code]
    assert report["verdict"] == verdict
    assert f"verdict: {verdict}" in result.output
    assert named in result.output
    assert named in report["reason"] or any(f["rule"] == named for f in report["failures"])
    assert "Traceback" not in result.output
    assert_contained(hostile, texts)


# -- timeouts and TLS, as configured -----------------------------------------------------------


def test_a_remote_target_has_connect_and_read_timeouts_and_passes_its_own():
    default = remote_target(BASE_URL, Credentials(SECRET), allow_send=False).api.http.timeout
    assert (default.connect, default.read, default.write, default.pool) == (10.0,) * 4
    chosen = remote_target(BASE_URL, Credentials(SECRET), allow_send=False, timeout=2.5)
    assert (chosen.api.http.timeout.connect, chosen.api.http.timeout.read) == (2.5, 2.5)


def test_a_remote_target_verifies_tls_and_never_follows_redirects():
    http = remote_target(BASE_URL, Credentials(SECRET), allow_send=False).api.http
    context = http._transport._pool._ssl_context  # httpx 0.28: HTTPTransport -> ConnectionPool
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname is True
    assert http.follow_redirects is False


def test_no_credential_appears_in_the_target_or_its_client_repr():
    target = remote_target(BASE_URL, Credentials(SECRET, "oauth-secret"), allow_send=False)
    assert_no_secret_in(repr(target), repr(target.api.credentials))
    assert "oauth-secret" not in repr(target)


# -- a real socket that never answers, or hangs up -------------------------------------------


class SilentServer:
    """A loopback TCP server that accepts and then, per ``mode``, says nothing (``"silent"``)
    or closes the connection at once (``"hang-up"``)."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            if self.mode == "hang-up":
                conn.close()
            else:
                self.held.append(conn)

    def __enter__(self) -> str:
        self.thread.start()
        return f"http://127.0.0.1:{self.port}/api/v1"

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(2)
        for conn in self.held:
            conn.close()
        self.sock.close()


@pytest.mark.parametrize(("mode", "error"), [("silent", "ReadTimeout"), ("hang-up", "no answer")])
def test_a_real_server_that_never_answers_or_hangs_up_ends_inconclusive_quickly(
    mode, error, monkeypatch, caplog
):
    # The backoff between retries is skipped; the read timeout (0.2 s) is real.
    monkeypatch.setattr("conformance.clock.SystemClock.sleep", lambda self, seconds: None)
    caplog.set_level(logging.DEBUG)
    started = time.monotonic()
    with SilentServer(mode) as base_url:
        target = remote_target(base_url, Credentials(SECRET), allow_send=False, timeout=0.2)
        report = run_target(target, profile=QUICK, seed_value=1)
    assert report.verdict == "inconclusive"
    assert error in report.reason
    assert time.monotonic() - started < 5
    assert_no_secret_in(repr(report), log_text(caplog.records))
