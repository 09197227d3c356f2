"""The replay forms of a failure: they make their own fixtures, keep the recorded waits,
check the violation's symptom and clean up.

Transcripts here are recorded by sending real requests to the in-process reference server
(with a fault switched on), as a run does; the replays are then executed against fresh
in-process servers, faulty and clean. The recordings are made by ``tests/replaying.py``
(``edit_sent`` and ``cancelled_sent`` are fixtures of ``tests/conftest.py``). The over-HTTP
versions, with transcripts from whole runs, are in ``test_replay_over_http.py``.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass, replace
from types import SimpleNamespace

import httpx
import pytest

from conformance.clock import VirtualClock
from conformance.records import Exchange, Failure, RecordedRequest, RecordedResponse
from conformance.refserver import ReferenceServer
from conformance.refserver.seed import ORGS
from conformance.refserver.server import IN_PROCESS_BASE_URL
from conformance.replay import (
    Predicate,
    Symptom,
    derive_symptom,
    plan_for,
    shows,
    symptom_of,
)
from conformance.reporting.replay import curl_commands, python_script, replay
from conformance.transport import SyncASGITransport
from tests.replaying import SMS, post_text, record, schedule_cancel_read, sms_body

# -- running a Python replay against a fresh in-process server -------------------------------


@dataclass
class Fresh:
    server: ReferenceServer
    clock: VirtualClock
    client: httpx.Client
    seen: list[httpx.Request]

    def owned(self, path: str) -> list[dict]:
        answer = self.client.get(f"{IN_PROCESS_BASE_URL}/{path}", auth=(ORGS[0].api_key, ""))
        return answer.json()["data"]


@contextmanager
def fresh(*faults: str) -> Iterator[Fresh]:
    clock = VirtualClock()
    server = ReferenceServer(clock=clock, faults=faults)
    seen: list[httpx.Request] = []
    inner = SyncASGITransport(server.app)

    class Recording(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            seen.append(request)
            return inner.handle_request(request)

    client = httpx.Client(transport=Recording())
    try:
        yield Fresh(server, clock, client, seen)
    finally:
        client.close()
        server.close()


def _run_python(
    source: str, where: Fresh, monkeypatch: pytest.MonkeyPatch, *, sleep=None
) -> tuple[int, str]:
    monkeypatch.setenv("CLOSE_API_URL", IN_PROCESS_BASE_URL)
    monkeypatch.setenv("CLOSE_API_KEY", ORGS[0].api_key)
    monkeypatch.setenv("CLOSE_OAUTH_TOKEN", ORGS[0].oauth_token)
    monkeypatch.delenv("CLOSE_LOCAL_PHONE", raising=False)
    namespace: dict[str, object] = {"__name__": "replay_under_test"}
    exec(compile(source, "replay.py", "exec"), namespace)
    namespace["time"] = SimpleNamespace(sleep=sleep or where.clock.sleep)
    out = io.StringIO()
    with redirect_stdout(out), redirect_stderr(out):
        code = namespace["main"](client=where.client)  # type: ignore[operator]
    return code, out.getvalue()


# -- business rule: edit of a sent SMS --------------------------------------------------------


def test_the_python_replay_reproduces_on_the_faulty_server_and_exits_1(edit_sent, monkeypatch):
    with fresh("edit-sent-accepted") as where:
        code, output = _run_python(
            python_script(edit_sent, "http://recorded/api/v1"), where, monkeypatch
        )
    assert code == 1, output
    assert "REPRODUCED" in output


def test_the_python_replay_against_a_clean_server_exits_0(edit_sent, monkeypatch):
    with fresh() as where:
        code, output = _run_python(
            python_script(edit_sent, "http://recorded/api/v1"), where, monkeypatch
        )
    assert code == 0, output
    assert "not reproduced" in output


def test_the_python_replay_makes_its_own_lead_and_never_sends_the_recorded_ids(
    edit_sent, monkeypatch
):
    recorded = {
        edit_sent.steps[0].request.body["lead_id"],
        edit_sent.steps[0].request.body["contact_id"],
        edit_sent.steps[0].response.body["id"],
    }
    with fresh("edit-sent-accepted") as where:
        _run_python(python_script(edit_sent, "http://recorded/api/v1"), where, monkeypatch)
    first = where.seen[0]
    assert (first.method, first.url.path) == ("POST", "/api/v1/lead/")
    sent = " ".join(str(r.url) + r.content.decode() for r in where.seen)
    assert not [value for value in recorded if value in sent]
    steps = [r for r in where.seen if r.url.path.startswith("/api/v1/activity/sms")]
    assert json.loads(steps[0].content)["lead_id"].startswith("lead_")
    assert steps[1].method == "PUT"
    assert steps[1].url.path.removeprefix("/api/v1/activity/sms/").strip("/") != ""


def test_the_python_replay_deletes_everything_it_created(edit_sent, monkeypatch):
    with fresh("edit-sent-accepted") as where:
        _run_python(python_script(edit_sent, "http://recorded/api/v1"), where, monkeypatch)
        assert where.owned("lead/") == []
        assert where.owned("activity/sms/") == []


def test_without_the_api_key_the_python_replay_exits_2_and_sends_nothing(edit_sent, monkeypatch):
    source = python_script(edit_sent, "http://recorded/api/v1")
    namespace: dict[str, object] = {"__name__": "replay_under_test"}
    exec(compile(source, "replay.py", "exec"), namespace)
    monkeypatch.delenv("CLOSE_API_KEY", raising=False)
    with fresh() as where, redirect_stderr(io.StringIO()):
        assert namespace["main"](client=where.client) == 2  # type: ignore[operator]
    assert where.seen == []


def test_a_replay_holds_no_credential_of_the_run(edit_sent, cancelled_sent):
    for failure in (edit_sent, cancelled_sent):
        replayed = replay(failure, "http://recorded/api/v1")
        for text in (replayed.python, "\n".join(replayed.curl)):
            for org in ORGS:
                assert org.api_key not in text
                assert org.oauth_token not in text
            assert "CLOSE_API_KEY" in text


# -- timing rule: a cancelled SMS still sent --------------------------------------------------


def test_the_recorded_wait_is_kept_and_a_timing_failure_reproduces(cancelled_sent, monkeypatch):
    waited: list[float] = []
    with fresh("cancelled-still-sent") as where:

        def sleep(seconds: float) -> None:
            waited.append(seconds)
            where.clock.sleep(seconds)

        source = python_script(cancelled_sent, "http://recorded/api/v1")
        code, output = _run_python(source, where, monkeypatch, sleep=sleep)
    assert code == 1, output
    assert waited == [pytest.approx(12, abs=0.01)]


def test_without_the_wait_the_timing_failure_would_not_show(cancelled_sent, monkeypatch):
    with fresh("cancelled-still-sent") as where:
        source = python_script(cancelled_sent, "http://recorded/api/v1")
        code, output = _run_python(source, where, monkeypatch, sleep=lambda seconds: None)
    assert code == 0, output


def test_the_timing_replay_against_a_clean_server_exits_0(cancelled_sent, monkeypatch):
    with fresh() as where:
        code, output = _run_python(
            python_script(cancelled_sent, "http://recorded/api/v1"), where, monkeypatch
        )
    assert code == 0, output


def test_the_curl_replay_sleeps_as_recorded(cancelled_sent):
    lines = curl_commands(cancelled_sent.steps, "http://recorded/api/v1")
    assert [line for line in lines if line.startswith("sleep ")] == ["sleep 12  # as recorded"]


# -- the plan: what is created, mapped and waited for -----------------------------------------


def test_the_plan_maps_the_lead_its_contact_and_each_created_sms(edit_sent):
    plan = plan_for(edit_sent.steps)
    body = edit_sent.steps[0].request.body
    assert plan.leads == ((body["lead_id"], (body["contact_id"],)),)
    assert plan.created == {0: edit_sent.steps[0].response.body["id"]}
    assert plan.names[body["lead_id"]] == "lead_1"
    assert plan.names[edit_sent.steps[0].response.body["id"]] == "sms_1"


def test_the_waits_are_the_gaps_between_the_recorded_sending_times():
    steps = [
        _step("GET", SMS, sent_at="2026-01-01T12:00:00+00:00"),
        _step("GET", SMS, sent_at="2026-01-01T12:00:00.010000+00:00"),
        _step("GET", SMS, sent_at="2026-01-01T12:00:15.500000+00:00"),
        _step("GET", SMS, sent_at=None),
    ]
    assert plan_for(steps).waits == (0.0, 0.0, 15.49, 0.0)


def test_a_template_the_server_knew_is_created_and_an_unknown_one_kept():
    known = _step(
        "POST",
        SMS,
        body={"lead_id": "lead_a1", "template_id": "smstmpl_known1"},
        answer={"id": "acti_n1", "template_id": "smstmpl_known1"},
    )
    unknown = _step(
        "POST", SMS, body={"lead_id": "lead_a1", "template_id": "smstmpl_madeup"}, status=400
    )
    plan = plan_for([known, unknown])
    assert plan.templates == ("smstmpl_known1",)


def test_a_python_replay_with_a_template_creates_one_and_uses_its_id(monkeypatch):
    def send_from_the_template(target, fixtures):
        body = sms_body(
            fixtures,
            status="draft",
            template_id=fixtures.template_id,
            contact_id=fixtures.contact_id,
        )
        created, _ = target.api.send("POST", SMS, json_body=body)
        return [created]

    failure = record([], send_from_the_template, "sms/create/template-renders")
    with fresh() as where:
        _run_python(python_script(failure, "http://recorded/api/v1"), where, monkeypatch)
    posts = [r for r in where.seen if r.method == "POST"]
    assert [r.url.path for r in posts] == [
        "/api/v1/lead/",
        "/api/v1/sms_template/",
        "/api/v1/activity/sms/",
    ]
    template_id = json.loads(posts[2].content)["template_id"]
    assert template_id != failure.steps[0].request.body["template_id"]
    assert template_id.startswith("smstmpl_")


# -- the symptom ------------------------------------------------------------------------------


def test_a_different_status_code_is_the_whole_symptom():
    symptom = derive_symptom(
        RecordedResponse(200, {}, {"status": "sent"}), RecordedResponse(400, {}, {"error": "x"})
    )
    assert symptom == Symptom((Predicate("status", value=200),))


def test_with_the_same_status_the_fields_that_differ_are_the_symptom_ids_and_dates_aside():
    recorded = RecordedResponse(
        200,
        {},
        {
            "id": "acti_aaaaaa1",
            "status": "sent",
            "date_sent": "2026-01-01T12:00:10+00:00",
            "date_created": "2026-01-01T12:00:00+00:00",
            "text": "same",
            "attachments": [1, 2],
        },
    )
    clean = RecordedResponse(
        200,
        {},
        {
            "id": "acti_bbbbbb2",
            "status": "draft",
            "date_sent": None,
            "date_created": "2026-02-01T12:00:00+00:00",
            "text": "same",
            "attachments": [],
        },
    )
    symptom = derive_symptom(recorded, clean)
    assert symptom is not None
    assert set(symptom.predicates) == {
        Predicate("status", value=200),
        Predicate("eq", "status", "sent"),
        Predicate("not-null", "date_sent"),
        Predicate("length", "attachments", 2),
    }
    assert shows(symptom, 200, recorded.body)
    assert not shows(symptom, 200, clean.body)
    assert not shows(symptom, 400, recorded.body)


def test_the_symptom_of_a_recorded_failure_comes_from_the_clean_reference_server(cancelled_sent):
    symptom = symptom_of(cancelled_sent)
    assert symptom is not None
    assert Predicate("eq", "status", "sent") in symptom.predicates


def test_a_failure_a_clean_server_answers_the_same_way_has_no_symptom_and_exits_3(monkeypatch):
    def read_a_list(target, fixtures):
        listed, _ = target.api.send("GET", SMS, params={"lead_id": fixtures.lead_id})
        return [listed]

    failure = record([], read_a_list, "sms/list/pagination")
    assert symptom_of(failure) is None
    with fresh() as where:
        code, output = _run_python(
            python_script(failure, "http://recorded/api/v1"), where, monkeypatch
        )
    assert code == 3, output
    lines = curl_commands(failure.steps, "http://recorded/api/v1")
    assert lines[-1] == "exit 3"


# -- text safety ------------------------------------------------------------------------------


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
    source = python_script(failure, "http://recorded/api/v1")
    code = compile(source, "replay.py", "exec")
    assert code.co_consts[0].startswith("Replay")


@pytest.mark.parametrize(
    ("auth", "python", "shell"),
    [
        (
            "bearer",
            '"Bearer " + os.environ["CLOSE_OAUTH_TOKEN"]',
            '"Authorization: Bearer $CLOSE_OAUTH_TOKEN"',
        ),
        ("second-org", 'os.environ["CLOSE_SECOND_API_KEY"]', '-u "$CLOSE_SECOND_API_KEY:"'),
        ("wrong", '("wrong-key", "")', '-u "wrong-key:"'),
    ],
)
def test_each_credential_kind_is_read_from_its_environment_variable(auth, python, shell):
    failure = replace(
        Failure("sms/auth/x", "m", "e", "a"),
        steps=(_step("GET", SMS, auth=auth),),
    )
    assert python in python_script(failure, "http://recorded/api/v1", symptom=None)
    assert shell in "\n".join(curl_commands(failure.steps, "http://recorded/api/v1", symptom=None))


def _step(
    method: str,
    path: str,
    *,
    body=None,
    answer=None,
    status: int = 200,
    auth: str = "basic",
    sent_at: str | None = None,
) -> Exchange:
    return Exchange(
        RecordedRequest(method, path, {}, body=body, auth=auth),
        RecordedResponse(status, {}, answer if answer is not None else {"data": []}),
        sent_at=sent_at,
    )


# -- lists and dates --------------------------------------------------------------------------


def test_lists_of_equal_length_are_compared_item_by_item():
    recorded = RecordedResponse(200, {}, {"data": [{"id": "acti_aaaaaa1", "status": "sent"}]})
    clean = RecordedResponse(200, {}, {"data": [{"id": "acti_bbbbbb2", "status": "outbox"}]})
    symptom = derive_symptom(recorded, clean)
    assert symptom == Symptom(
        (Predicate("status", value=200), Predicate("eq", "data.0.status", "sent"))
    )
    assert shows(symptom, 200, recorded.body)
    assert not shows(symptom, 200, clean.body)
    assert not shows(symptom, 200, {"data": []})


@pytest.mark.parametrize(
    ("value", "moved"),
    [
        ("2028-01-30T12:05:00+00:00", "2028-01-30T13:05:00+00:00"),
        ("2028-01-30T12:05:00.250000Z", "2028-01-30T13:05:00.250000Z"),
        ("2028-01-30T12:05:00-04:00", "2028-01-30T13:05:00-04:00"),
    ],
)
def test_a_recorded_date_is_moved_in_its_own_style(value, moved):
    from datetime import timedelta

    from conformance.replay import shifted

    assert shifted(value, timedelta(hours=1)) == moved


@pytest.mark.parametrize(("faults", "exit_code"), [(("cancelled-still-sent",), 1), ((), 0)])
def test_a_date_scheduled_moves_with_the_replay_so_a_timing_failure_reproduces_later(
    monkeypatch, faults, exit_code
):
    from datetime import datetime, timedelta

    send = schedule_cancel_read(due_in=300, cancel_after=299, read_after=3)
    failure = record(["cancelled-still-sent"], send, "sms/send/cancelled-never-sent")
    assert plan_for(failure.steps).dates  # the recorded date_scheduled is one to move
    with fresh(*faults) as where:
        where.clock.advance(3 * 86400)  # the replay runs days after the recording

        class Now(datetime):
            @classmethod
            def now(cls, tz=None):
                return where.clock.now()

        source = python_script(failure, "http://recorded/api/v1")
        monkeypatch.setenv("CLOSE_API_URL", IN_PROCESS_BASE_URL)
        monkeypatch.setenv("CLOSE_API_KEY", ORGS[0].api_key)
        namespace: dict[str, object] = {"__name__": "replay_under_test"}
        exec(compile(source, "replay.py", "exec"), namespace)
        namespace["time"] = SimpleNamespace(sleep=where.clock.sleep)
        namespace["datetime"] = Now
        with redirect_stdout(io.StringIO()) as out:
            code = namespace["main"](client=where.client)  # type: ignore[operator]
        sent = [r for r in where.seen if r.method == "PUT" and b"date_scheduled" in r.content]
    assert code == exit_code, out.getvalue()
    due = datetime.fromisoformat(json.loads(sent[0].content)["date_scheduled"])
    assert due - where.clock.now() < timedelta(seconds=0)  # it was due during the replay
    assert due > datetime.fromisoformat(failure.steps[1].request.body["date_scheduled"])


def test_a_body_sent_as_text_is_replayed_as_text_with_its_content_type(monkeypatch):
    failure = record([], post_text, "protocol/json-body")
    with fresh() as where:
        _run_python(python_script(failure, "http://recorded/api/v1"), where, monkeypatch)
    (sent,) = [r for r in where.seen if r.url.path == "/api/v1/activity/sms/"]
    assert sent.content == b"status=draft"
    assert sent.headers["content-type"] == "text/plain"
    assert "--data-binary 'status=draft'" not in "\n".join(
        curl_commands(failure.steps, "http://recorded/api/v1")
    )  # the body is an argument of call, which adds no JSON content type to it
    assert "-H 'content-type: text/plain'" in "\n".join(
        curl_commands(failure.steps, "http://recorded/api/v1")
    )


def test_a_replay_that_sends_says_so(cancelled_sent, edit_sent):
    said = "It sends SMS (a step sets status outbox or scheduled)"
    assert said in python_script(cancelled_sent, "http://recorded/api/v1")
    assert said in "\n".join(curl_commands(cancelled_sent.steps, "http://recorded/api/v1"))
    assert said not in python_script(edit_sent, "http://recorded/api/v1")


def test_an_id_after_an_encoded_comma_in_a_query_is_mapped_too():
    from conformance.replay import substitute

    path = "activity/sms/?lead_id=lead_a1%2Clead_b2&x=plead_b2"
    mapped = substitute(path, {"lead_a1": "lead_N1", "lead_b2": "lead_N2"})
    assert mapped == "activity/sms/?lead_id=lead_N1%2Clead_N2&x=plead_b2"


def test_the_python_replay_docstring_tells_what_differs_not_a_cut_body():
    from ..explained import drafts_only_failure

    script = python_script(drafts_only_failure(), "http://127.0.0.1:1/api/v1")
    compile(script, "replay.py", "exec")
    assert 'actual:   HTTP 200, status "sent"' in script
    assert 'text: expected "", got "0"' in script
