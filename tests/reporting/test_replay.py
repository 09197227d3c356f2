"""The replay forms of a failure: curl command lines and a runnable httpx script."""

from __future__ import annotations

import base64
import io
import json
import shlex
from contextlib import redirect_stdout

import httpx
import pytest

from conformance.records import Exchange, Failure, RecordedRequest, RecordedResponse
from conformance.reporting.replay import curl_commands, python_script, replay

NEW_ID = "acti_REPLAYED_9"
TARGET = "http://127.0.0.1:8765/api/v1"


def _commands(lines: list[str]) -> list[str]:
    return [line for line in lines if not line.startswith("#")]


def _argv(command: str) -> list[str]:
    return shlex.split(command.replace("\\\n", " "))


def _run_script(source: str, handler) -> list[httpx.Request]:
    seen: list[httpx.Request] = []

    def recording(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    namespace: dict[str, object] = {"__name__": "replay_under_test"}
    exec(compile(source, "replay.py", "exec"), namespace)
    client = httpx.Client(transport=httpx.MockTransport(recording))
    with redirect_stdout(io.StringIO()):
        namespace["main"](client=client)
    return seen


def _fake_server(request: httpx.Request) -> httpx.Response:
    if request.method == "POST":
        return httpx.Response(200, json={"id": NEW_ID, "status": "draft"})
    return httpx.Response(200, json={"id": NEW_ID, "status": "scheduled"})


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {"CLOSE_API_KEY": "env-key", "CLOSE_OAUTH_TOKEN": "env-token"}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("CLOSE_API_URL", raising=False)
    return values


def test_python_replay_compiles(failure):
    compile(python_script(failure, TARGET), "replay.py", "exec")


def test_python_replay_docstring_names_rule_expected_and_actual(failure):
    source = python_script(failure, TARGET)
    docstring = compile(source, "replay.py", "exec").co_consts[0]
    assert failure.rule in docstring
    assert f"Expected: {failure.expected}" in docstring
    assert f"Actual: {failure.actual}" in docstring


def test_python_replay_sends_the_three_requests_with_the_rebound_id(failure, sample, credentials):
    seen = _run_script(python_script(failure, TARGET), _fake_server)

    assert [(r.method, r.url.path) for r in seen] == [
        ("POST", "/api/v1/activity/sms/"),
        ("PUT", f"/api/v1/activity/sms/{NEW_ID}/"),
        ("GET", f"/api/v1/activity/sms/{NEW_ID}/"),
    ]
    assert str(seen[2].url) == f"{TARGET}/activity/sms/{NEW_ID}/?_fields=id,status"
    assert json.loads(seen[0].content) == failure.steps[0].request.body
    assert json.loads(seen[1].content) == {"status": "scheduled", "note": f"was {NEW_ID}"}
    assert sample.SMS_ID not in "".join(str(r.url) + r.content.decode() for r in seen)


def test_python_replay_reads_credentials_from_the_environment(failure, credentials):
    seen = _run_script(python_script(failure, TARGET), _fake_server)

    basic = base64.b64encode(b"env-key:").decode()
    assert seen[0].headers["authorization"] == f"Basic {basic}"
    assert seen[1].headers["authorization"] == f"Basic {basic}"
    assert seen[2].headers["authorization"] == "Bearer env-token"


def test_python_replay_keeps_the_tz_offset_header_only_where_recorded(failure, credentials):
    seen = _run_script(python_script(failure, TARGET), _fake_server)

    assert seen[0].headers["x-tz-offset"] == "+02:00"
    assert "x-tz-offset" not in seen[1].headers


def test_python_replay_base_url_can_be_overridden(failure, credentials, monkeypatch):
    monkeypatch.setenv("CLOSE_API_URL", "http://other.test/api/v1/")
    seen = _run_script(python_script(failure, TARGET), _fake_server)

    assert str(seen[0].url) == "http://other.test/api/v1/activity/sms/"


@pytest.mark.parametrize(
    ("auth", "expected"),
    [
        ("none", None),
        ("wrong", "Basic " + base64.b64encode(b"wrong-key:").decode()),
        ("second-org", "Basic " + base64.b64encode(b"second:").decode()),
    ],
)
def test_python_replay_sends_each_credential_kind(monkeypatch, auth, expected):
    monkeypatch.setenv("CLOSE_SECOND_API_KEY", "second")
    failure = _single_step_failure(RecordedRequest("GET", "/activity/sms/", {}, auth=auth))
    (request,) = _run_script(python_script(failure, TARGET), _fake_server)

    assert request.headers.get("authorization") == expected


def test_python_replay_survives_awkward_text():
    failure = Failure(
        rule="sms/x/y",
        message='triple """ quotes and \\ backslash \x00',
        expected="'''",
        actual='"""',
        steps=(
            Exchange(
                RecordedRequest("POST", "/activity/sms/?a='b'", {}, body={"t": "\"'\\\n\x00"}),
                None,
                error="timed out\nreally",
            ),
        ),
    )
    source = python_script(failure, TARGET)
    compile(source, "replay.py", "exec")
    assert compile(source, "replay.py", "exec").co_consts[0].startswith("Replay")


def test_curl_commands_use_environment_credentials_only(failure):
    lines = curl_commands(failure.steps, TARGET)
    first, second, third = _commands(lines)

    assert '-u "$CLOSE_API_KEY:"' in first
    assert '-u "$CLOSE_API_KEY:"' in second
    assert '-H "Authorization: Bearer $CLOSE_OAUTH_TOKEN"' in third


@pytest.mark.parametrize(
    ("auth", "flag"),
    [
        ("second-org", '-u "$CLOSE_SECOND_API_KEY:"'),
        ("wrong", '-u "wrong-key:"'),
    ],
)
def test_curl_command_for_each_credential_kind(auth, flag):
    failure = _single_step_failure(RecordedRequest("GET", "/activity/sms/", {}, auth=auth))
    (command,) = _commands(curl_commands(failure.steps, TARGET))
    assert flag in command


def test_curl_command_without_credentials_sends_none():
    failure = _single_step_failure(RecordedRequest("GET", "/activity/sms/", {}, auth="none"))
    (command,) = _commands(curl_commands(failure.steps, TARGET))
    assert "-u" not in _argv(command)
    assert "Authorization" not in command


def test_curl_binds_the_created_id_with_jq_and_says_jq_is_needed(failure, sample):
    lines = curl_commands(failure.steps, TARGET)
    first, second, third = _commands(lines)

    assert any(line.startswith("#") and "jq" in line for line in lines)
    assert first.startswith("SMS_1=$(curl ")
    assert first.endswith("| jq -r .id)")
    assert sample.SMS_ID not in second + third
    assert _argv(second)[-1] == f"{TARGET}/activity/sms/$SMS_1/"
    assert _argv(third)[-1] == f"{TARGET}/activity/sms/$SMS_1/?_fields=id,status"


def test_curl_body_is_shell_quoted_json(failure):
    first = _commands(curl_commands(failure.steps, TARGET))[0]
    argv = _argv(first.removeprefix("SMS_1=$(").split(" \\\n  | tee")[0])

    assert argv[argv.index("-d") + 1] == json.dumps(
        failure.steps[0].request.body, ensure_ascii=False
    )
    assert "Content-Type: application/json" in argv
    assert argv[argv.index("-X") + 1] == "POST"
    assert "x-tz-offset: +02:00" in argv


def test_curl_body_substitutes_the_bound_id(failure):
    second = _commands(curl_commands(failure.steps, TARGET))[1]
    argv = _argv(second)

    assert json.loads(argv[argv.index("-d") + 1]) == {"status": "scheduled", "note": "was $SMS_1"}


def test_an_id_nobody_uses_later_is_not_bound(failure):
    steps = failure.steps[:1]
    assert _commands(curl_commands(steps, TARGET))[0].startswith("curl ")
    assert "response.json()" not in python_script(_single_step_failure(steps[0].request), TARGET)


def test_an_id_is_not_replaced_inside_a_longer_token():
    created = Exchange(
        RecordedRequest("POST", "/activity/sms/", {}, body={"text": "x"}),
        RecordedResponse(200, {}, {"id": "acti_1"}),
    )
    later = Exchange(RecordedRequest("GET", "/activity/sms/?id__in=acti_10,acti_1", {}), None)
    lines = _commands(curl_commands((created, later), TARGET))

    assert _argv(lines[1])[-1] == f"{TARGET}/activity/sms/?id__in=acti_10,$SMS_1"


def test_replay_returns_both_forms(failure):
    replayed = replay(failure, TARGET)
    assert replayed.python == python_script(failure, TARGET)
    assert _commands(replayed.curl) == _commands(curl_commands(failure.steps, TARGET))


def _single_step_failure(request: RecordedRequest) -> Failure:
    return Failure(
        rule="sms/auth/x",
        message="m",
        expected="e",
        actual="a",
        steps=(Exchange(request, RecordedResponse(200, {}, {"id": "acti_x"})),),
    )
