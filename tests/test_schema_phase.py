"""The schemathesis-backed schema phase: the OpenAPI document, a clean run, faults caught."""

from __future__ import annotations

import json

import pytest
import schemathesis

from conformance.catalogue import CATALOGUE
from conformance.openapi import OPENAPI_PATH, SMS_PATHS, load_openapi
from conformance.schema_phase import CHECK_RULES, run_schema_phase
from conformance.target import embedded_target

SMALL = 5  # max_examples for the fast runs


def test_document_loads_as_openapi_31():
    document = load_openapi()
    assert OPENAPI_PATH.name == "close-sms.yaml"
    assert document["openapi"].startswith("3.1")
    schema = schemathesis.openapi.from_dict(document)
    operations = [result.ok() for result in schema.get_all_operations()]
    labels = {operation.label for operation in operations}
    assert {
        "GET /activity/sms/",
        "POST /activity/sms/",
        "GET /activity/sms/{id}/",
        "PUT /activity/sms/{id}/",
        "DELETE /activity/sms/{id}/",
        "GET /me/",
        "GET /phone_number/",
        "POST /lead/",
        "GET /lead/{id}/",
        "POST /sms_template/",
        "GET /sms_template/{id}/",
    } <= labels
    for operation in operations:
        assert operation.definition.raw["responses"], operation.label


def test_create_answers_200_and_links_to_get_update_delete():
    create = load_openapi()["paths"]["/activity/sms/"]["post"]
    assert "200" in create["responses"] and "201" not in create["responses"]
    links = create["responses"]["200"]["links"]
    assert {link["operationId"] for link in links.values()} == {"getSms", "updateSms", "deleteSms"}
    assert all(link["parameters"] == {"id": "$response.body#/id"} for link in links.values())


def test_request_bodies_accept_prose_fields_and_unknown_fields():
    schemas = load_openapi()["components"]["schemas"]
    create, update = schemas["CreateSMSActivity"], schemas["UpdateSMSActivity"]
    assert {"date_scheduled", "send_in"} <= create["properties"].keys()
    assert "date_scheduled" in update["properties"]
    assert "additionalProperties" not in create and "additionalProperties" not in update
    assert create["required"] == ["status"]


def test_send_in_has_no_type_or_bound_the_catalogue_leaves_open_on_some_status():
    # A negative send_in (open point send-in-negative) and send_in off outbox are left open,
    # so negative-data tests must never demand their refusal.
    send_in = load_openapi()["components"]["schemas"]["CreateSMSActivity"]["properties"]["send_in"]
    assert not {"type", "minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"} & set(send_in)


def test_sms_operations_document_the_general_status_codes():
    paths = load_openapi()["paths"]
    for path in SMS_PATHS:
        for method, operation in paths[path].items():
            if method == "parameters":
                continue
            assert {"400", "401", "404", "405", "415", "429"} <= operation["responses"].keys()


def test_every_mapped_rule_is_in_the_catalogue():
    for rule in CHECK_RULES.values():
        assert rule in CATALOGUE


@pytest.fixture
def clean_result():
    target = embedded_target()
    target.discover()
    try:
        yield run_schema_phase(target, seed=1, max_examples=SMALL), target
    finally:
        target.close()


def test_clean_server_gives_no_failures(clean_result):
    result, target = clean_result
    assert result.failures == []
    assert result.requests > 0
    rules = {finding.rule for finding in result.findings}
    assert {"protocol/no-5xx", "sms/object/schema", "protocol/invalid-input-rejected"} <= rules
    assert all(finding.ok for finding in result.findings)


def test_created_sms_are_deleted(clean_result):
    result, target = clean_result
    assert result.created
    for sms_id in result.created:
        exchange, _ = target.api.send("GET", f"activity/sms/{sms_id}/")
        assert exchange.response is not None and exchange.response.status_code == 404


def test_answers_whose_body_the_docs_leave_open_document_no_content():
    responses = load_openapi()["components"]["responses"]
    for name in ("NotFound", "MethodNotAllowed", "UnsupportedMediaType", "TooManyRequests"):
        assert "content" not in responses[name], name
    for name in ("BadRequest", "Unauthorized"):
        assert set(responses[name]["content"]) == {"application/json"}, name


@pytest.mark.parametrize(
    "reading",
    [
        {"not-found-body": "html"},
        {"error-body-shape": "error-message"},
        {"limit-over-maximum": "clamp"},
        {"local-phone-on-sends": "auto"},
    ],
    ids=lambda reading: ",".join(f"{p}={a}" for p, a in reading.items()),
)
def test_a_server_taking_another_reading_of_an_open_point_gives_no_failures(reading):
    target = embedded_target(readings=reading)
    target.discover()
    try:
        result = run_schema_phase(target, seed=1, max_examples=SMALL)
    finally:
        target.close()
    assert result.failures == []
    assert all(finding.ok for finding in result.findings)


@pytest.mark.parametrize(
    ("fault", "rule"),
    [
        ("non-string-text-500", "protocol/no-5xx"),
        ("get-served-as-html", "protocol/json-content-type"),
        ("error-body-detail", "protocol/error-body"),
        ("users-missing", "sms/object/schema"),
        ("missing-credentials-accepted", "auth/missing-rejected"),
        ("create-answers-201", "protocol/documented-status-code"),
        ("unknown-status-draft", "protocol/invalid-input-rejected"),
    ],
)
def test_a_faulty_server_fails_the_mapped_rule(fault, rule):
    target = embedded_target(faults=[fault])
    target.discover()
    try:
        result = run_schema_phase(target, seed=1, max_examples=SMALL)
    finally:
        target.close()
    assert rule in {failure.rule for failure in result.failures}
    assert any(not f.ok and f.rule == rule for f in result.findings)


def test_failures_never_hold_a_credential():
    target = embedded_target(faults=["missing-credentials-accepted", "non-string-text-500"])
    target.discover()
    secrets = target.api.credentials.secrets()
    try:
        result = run_schema_phase(target, seed=1, max_examples=SMALL)
    finally:
        target.close()
    assert result.failures
    text = json.dumps([repr(failure) for failure in result.failures])
    for secret in secrets:
        assert secret not in text
    import base64

    for secret in secrets:
        assert base64.b64encode(f"{secret}:".encode()).decode() not in text
    for failure in result.failures:
        for step in failure.steps:
            assert "authorization" not in step.request.headers


# -- live-target safety: what the run did not create is never touched ------------------------

CUSTOMER_PHONE = "+18183334444"  # the OpenAPI examples' number: a real-looking customer
CUSTOMER_SMS = 50


def paced(server, method: str, path: str, **kwargs):
    """One request of the customer's own, waiting out the server's (virtual) rate limit."""
    client = server.client()
    for _ in range(10):
        answer = client.request(method, path, **kwargs)
        if answer.status_code != 429:
            return answer
        server.clock.sleep(1.0)
    raise AssertionError(f"{method} {path} kept answering 429")


def seed_customer(server, *, count: int = CUSTOMER_SMS) -> tuple[str, list[str]]:
    """A lead the run did not create, with ``count`` customer SMS on it; their ids."""
    internal = next(n["number"] for n in paced(server, "GET", "phone_number/").json()["data"]
                    if n["type"] == "internal")  # fmt: skip
    lead = paced(server, "POST", "lead/", json={"name": "Customer Inc", "contacts": [
        {"name": "Jane Customer", "phones": [{"type": "mobile", "phone": CUSTOMER_PHONE}]}
    ]}).json()  # fmt: skip
    ids = []
    for i in range(count):
        answer = paced(server, "POST", "activity/sms/", json={
            "status": "draft", "lead_id": lead["id"], "contact_id": lead["contacts"][0]["id"],
            "local_phone": internal, "remote_phone": CUSTOMER_PHONE, "text": f"customer {i}",
        })  # fmt: skip
        assert answer.status_code == 200, answer.text
        ids.append(answer.json()["id"])
    return lead["id"], ids


def stored(server, ids: list[str]) -> list[str]:
    """The customer's documents exactly as stored (deleted or moved ones included)."""
    from conformance.refserver.sms import DELETED

    docs = server.storage.select(("sms", DELETED), None, any_of={"id": ids})
    return sorted(json.dumps(doc, sort_keys=True) for doc in docs)


class Recorder:
    """An ASGI wrapper noting every request's method, path and query."""

    def __init__(self, app) -> None:
        self.app = app
        self.seen: list[tuple[str, str]] = []

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            query = scope.get("query_string", b"").decode()
            self.seen.append((scope["method"], scope["path"] + (f"?{query}" if query else "")))
        await self.app(scope, receive, send)


def writes_naming(seen: list[tuple[str, str]], ids: list[str]) -> list[tuple[str, str]]:
    return [(m, p) for m, p in seen if m not in ("GET", "HEAD", "OPTIONS")
            and any(sms_id in p for sms_id in ids)]  # fmt: skip


def test_the_schema_phase_at_ci_leaves_customer_sms_byte_for_byte_unchanged():
    from conformance.profiles import PROFILES

    ci = PROFILES["ci"]
    target = embedded_target()
    lead_id, ids = seed_customer(target.server)
    before = stored(target.server, ids)
    recorder = Recorder(target.server.app)
    target.server.app = recorder
    target.discover()
    try:
        result = run_schema_phase(
            target, seed=1, max_examples=ci.schema_examples, phases=ci.schema_phases
        )
    finally:
        target.close()
    assert result.created and result.failures == []
    assert stored(target.server, ids) == before
    assert len(before) == CUSTOMER_SMS
    assert writes_naming(recorder.seen, [*ids, lead_id]) == []
    puts_and_deletes = [p for m, p in recorder.seen if m in ("PUT", "DELETE")]
    assert puts_and_deletes, "the phase sent no PUT or DELETE at all"


def test_unscoped_sms_lists_get_one_of_the_runs_leads():
    target = embedded_target()
    recorder = Recorder(target.server.app)
    target.server.app = recorder
    target.discover()
    try:
        run_schema_phase(target, seed=1, max_examples=SMALL, phases=("examples", "coverage"))
        run_leads = {lead for lead, _ in target.fixtures.leads}
    finally:
        target.close()
    lists = [p for m, p in recorder.seen if m == "GET" and p.startswith("/api/v1/activity/sms/?")]
    assert lists
    for path in lists:
        assert "lead_id=" in path, path
    assert any(lead in path for path in lists for lead in run_leads)


def test_the_ids_the_phase_creates_are_owned_by_the_targets_guard():
    target = embedded_target()
    target.discover()
    try:
        result = run_schema_phase(target, seed=1, max_examples=SMALL, phases=("examples",))
        owned = target.api.guard.owned("activity/sms/")
    finally:
        target.close()
    assert result.created and set(result.created) <= owned


def remote_run(*, allow_send: bool = False):
    """A schema-phase run over a remote-looking target with one lead and two recipients."""
    from types import SimpleNamespace

    from conformance.safety import Guard
    from conformance.schema_phase import _Run

    recipients = ("+15555550100", "+15555550101")
    fixtures = SimpleNamespace(leads=(("lead_run", "cont_run"),))
    target = SimpleNamespace(data_is_private=False, fixtures=fixtures, recipients=recipients)
    return _Run(object(), target, Guard(recipients=recipients), allow_send=allow_send)


def case(method: str, path: str, *, id=None, query=None, body=None):
    from types import SimpleNamespace

    parameters = {} if id is None else {"id": id}
    return SimpleNamespace(method=method, path=path, path_parameters=parameters,
                           query=query or {}, body=body)  # fmt: skip


def test_a_put_or_delete_naming_an_id_the_run_does_not_own_gets_the_runs_made_up_id():
    run = remote_run()
    run.guard.own("activity/sms/", "acti_mine")
    for method in ("PUT", "DELETE", "PATCH", "POST"):
        foreign = case(method, "/activity/sms/{id}/", id="acti_customer")
        run.prepare(foreign)
        made_up = foreign.path_parameters["id"]
        assert made_up != "acti_customer" and run.guard.owns("activity/sms/", made_up)
    lead = case("PUT", "/lead/{id}/", id="lead_customer")
    run.prepare(lead)
    assert lead.path_parameters["id"].startswith("lead_") and run.guard.owns(
        "lead/", lead.path_parameters["id"]
    )
    mine, read = (
        case("DELETE", "/activity/sms/{id}/", id="acti_mine"),
        case("GET", "/activity/sms/{id}/", id="acti_customer"),
    )
    run.prepare(mine), run.prepare(read)
    assert (
        mine.path_parameters["id"] == "acti_mine" and read.path_parameters["id"] == "acti_customer"
    )


def test_an_sms_list_without_a_run_lead_is_scoped_to_one():
    run = remote_run()
    unscoped, foreign = (
        case("GET", "/activity/sms/"),
        case("GET", "/activity/sms/", query={"lead_id": "lead_x"}),
    )
    scoped = case("GET", "/activity/sms/", query={"lead_id": "lead_run", "_limit": 3})
    for each in (unscoped, foreign, scoped):
        run.prepare(each)
        assert each.query["lead_id"] == "lead_run"
    assert scoped.query["_limit"] == 3


def test_a_phone_outside_the_recipients_becomes_one_of_them_and_creates_get_a_run_lead():
    run = remote_run(allow_send=True)
    create = case(
        "POST", "/activity/sms/", body={"status": "outbox", "remote_phone": "+18183334444"}
    )
    run.prepare(create)
    assert create.body["remote_phone"] in run.recipients
    assert create.body["status"] == "outbox" and create.body["lead_id"] == "lead_run"
    wrong_type = case("PUT", "/activity/sms/{id}/", id="x", body={"remote_phone": 18183334444})
    run.prepare(wrong_type)
    assert wrong_type.body["remote_phone"] == 0  # still not a string: a negative case stays one
    moved = case(
        "PUT", "/activity/sms/{id}/", id="x", body={"lead_id": "lead_x", "contact_id": "cont_x"}
    )
    run.prepare(moved)
    assert (moved.body["lead_id"], moved.body["contact_id"]) == ("lead_run", "cont_run")


def test_without_allow_send_sending_statuses_become_drafts():
    run = remote_run(allow_send=False)
    for status in ("outbox", "scheduled"):
        create = case("POST", "/activity/sms/", body={"status": status})
        run.prepare(create)
        assert create.body["status"] == "draft"


def test_with_allow_send_a_live_send_without_remote_phone_gets_one_of_the_recipients():
    run = remote_run(allow_send=True)
    for method, path, status in (("POST", "/activity/sms/", "outbox"),
                                 ("PUT", "/activity/sms/{id}/", "scheduled")):  # fmt: skip
        for body in ({"status": status}, {"status": status, "remote_phone": None}):
            send = case(method, path, id="acti_x", body=body)
            run.prepare(send)
            assert send.body["status"] == status
            assert send.body["remote_phone"] in run.recipients
    draft = case("POST", "/activity/sms/", body={"status": "draft"})
    run.prepare(draft)
    assert "remote_phone" not in draft.body


def test_the_choke_point_refuses_what_the_guard_refuses_and_remembers_it():
    from conformance.schema_phase import RefusedRequest

    run = remote_run()
    with pytest.raises(RefusedRequest):
        run.check("DELETE", "activity/sms/acti_customer/", None)
    with pytest.raises(RefusedRequest):
        run.check("POST", "activity/sms/", {"remote_phone": "+18183334444", "status": "draft"})
    run.check("GET", "activity/sms/acti_customer/", None)
    assert len(run.refusals) == 2 and "acti_customer" in run.refusals[0]


def test_only_the_runs_own_creates_are_owned():
    run = remote_run()
    run.observe("GET", "activity/sms/", 200, {"data": [{"id": "acti_listed"}]})
    run.observe("POST", "activity/sms/", 200, {"id": "acti_listed", "lead_id": "lead_run"})
    run.observe("POST", "activity/sms/", 200, {"id": "acti_elsewhere", "lead_id": "lead_x"})
    run.observe("POST", "activity/sms/", 200, {"id": "acti_new", "lead_id": "lead_run"})
    run.observe("POST", "activity/sms/", 400, {"id": "acti_refused"})
    assert run.created == ["acti_new"] and run.guard.owned("activity/sms/") == {"acti_new"}
    assert len(run.disowned) == 2


def test_the_guarded_path_is_the_one_a_server_would_route():
    from conformance.schema_phase import _relative_path

    base = "/api/v1"
    assert (
        _relative_path("https://h/api/v1/activity/sms/acti_1/?a=b", base) == "activity/sms/acti_1/"
    )
    assert _relative_path("https://h/api/v1/activity/sms/%2e%2e/%2E%2E/lead/l/", base) == "lead/l/"
    assert _relative_path("https://h/api/v1/activity/sms/", base) == "activity/sms/"


def test_a_refused_request_never_leaves_and_ends_the_phase_as_refused(monkeypatch):
    from conformance.client import Refused
    from conformance.schema_phase import _Run

    def prepare_nothing(self, case):  # a gap in the rewriting: the choke point still holds
        if case.method.upper() == "DELETE":
            case.path_parameters = {"id": "acti_customer"}

    monkeypatch.setattr(_Run, "prepare", prepare_nothing)
    target = embedded_target()
    recorder = Recorder(target.server.app)
    target.server.app = recorder
    target.discover()
    try:
        with pytest.raises(Refused, match="was not created by this run"):
            run_schema_phase(target, seed=1, max_examples=SMALL, phases=("examples",))
        owned = target.api.guard.owned("activity/sms/")
    finally:
        target.close()
    writes = [path for method, path in recorder.seen if method in ("PUT", "PATCH", "DELETE")]
    prefix = "/api/v1/activity/sms/"
    assert all(path.removeprefix(prefix).strip("/") in owned for path in writes), writes


def _hostile():
    """``tests/engine/hostile.py`` (the respx fake of https://hostile.test/api/v1)."""
    import importlib.util
    import sys
    from pathlib import Path

    name = "schema_phase_hostile"
    if name not in sys.modules:
        path = Path(__file__).parent / "engine" / "hostile.py"
        spec = importlib.util.spec_from_file_location(name, path)
        sys.modules[name] = module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return sys.modules[name]


def ignores_the_lead_filter(request, reference):
    """A server that lists every SMS of the organisation whatever ``lead_id`` asks."""
    import httpx

    if request.method == "GET" and request.url.path == "/api/v1/activity/sms/":
        url = request.url.copy_remove_param("lead_id")
        request = httpx.Request("GET", url, headers=request.headers)
    return reference(request)


def sms_bodies(requests_seen) -> list[dict]:
    bodies = []
    for request in requests_seen:
        if request.method in ("POST", "PUT", "PATCH") and "/activity/sms/" in request.url.path:
            try:
                body = json.loads(request.content or b"null")
            except ValueError:
                continue
            if isinstance(body, dict):
                bodies.append(body)
    return bodies


def test_a_server_ignoring_the_lead_filter_gets_no_write_to_foreign_sms_and_no_foreign_number(
    monkeypatch,
):
    from conformance.client import Credentials
    from conformance.profiles import PROFILES
    from conformance.safety import looks_like_a_phone
    from conformance.target import FICTIONAL_RECIPIENTS, remote_target

    hostile, ci = _hostile(), PROFILES["ci"]
    with hostile.hostile_target(ignores_the_lead_filter, monkeypatch) as fake:
        server = fake.api.server
        lead_id, ids = seed_customer(server)
        before = stored(server, ids)
        target = remote_target(hostile.BASE_URL, Credentials(hostile.SECRET), allow_send=True)
        target.discover()
        try:
            result = run_schema_phase(
                target, seed=1, max_examples=ci.schema_examples, phases=ci.schema_phases
            )
        finally:
            target.close()
        after = stored(server, ids)
    assert result.created
    assert after == before
    listed = [r for r in fake.requests if r.method == "GET" and r.url.path.endswith("/sms/")]
    assert listed, "the phase listed no SMS (so the fake's fault was never met)"
    writes = [f"{r.method} {r.url}" for r in fake.requests
              if r.method not in ("GET", "HEAD", "OPTIONS")
              and any(i in str(r.url) for i in [*ids, lead_id])]  # fmt: skip
    assert writes == []
    bodies = sms_bodies(fake.requests)
    assert any(body.get("status") == "outbox" for body in bodies), "nothing was ever sent"
    addressed = {str(body["remote_phone"]) for body in bodies
                 if looks_like_a_phone(body.get("remote_phone"))}  # fmt: skip
    assert addressed and addressed <= set(FICTIONAL_RECIPIENTS)
    run_leads = {lead for lead, _ in target.fixtures.leads}
    creates = [b for b in bodies if "lead_id" in b and isinstance(b["lead_id"], str)]
    assert creates and {b["lead_id"] for b in creates} <= run_leads


def two_lead_run():
    """A remote-looking run with two leads, to see which lead a body is pinned on."""
    from types import SimpleNamespace

    from conformance.safety import Guard
    from conformance.schema_phase import _Run

    recipients = ("+15555550100",)
    fixtures = SimpleNamespace(leads=(("lead_a", "cont_a"), ("lead_b", "cont_b")))
    target = SimpleNamespace(data_is_private=False, fixtures=fixtures, recipients=recipients)
    return _Run(object(), target, Guard(recipients=recipients), allow_send=False)


def test_a_null_or_foreign_lead_id_is_pinned_on_a_run_lead_a_wrong_type_stays():
    """Every SMS the run creates carries one of its leads: null (valid by the schema, so a
    server may store it) is pinned on creates and PUTs; a wrong type, which a conforming
    server must refuse, stays (the negative case stays one)."""
    run = two_lead_run()
    for method, path in (("POST", "/activity/sms/"), ("PUT", "/activity/sms/{id}/")):
        null = case(method, path, id="x", body={"status": "draft", "lead_id": None})
        run.prepare(null)
        assert null.body["lead_id"] == "lead_a"
        with_contact = case(method, path, id="x", body={"lead_id": None, "contact_id": "cont_b"})
        run.prepare(with_contact)
        assert (with_contact.body["lead_id"], with_contact.body["contact_id"]) == (
            "lead_b",
            "cont_b",
        )
        foreign = case(method, path, id="x", body={"lead_id": "lead_x", "contact_id": "cont_b"})
        run.prepare(foreign)
        assert foreign.body["lead_id"] == "lead_b"
        for wrong in (12345, True, ["lead_a"], {"x": 1}):
            wrong_type = case(method, path, id="x", body={"lead_id": wrong})
            run.prepare(wrong_type)
            assert wrong_type.body["lead_id"] == wrong
    absent = case("POST", "/activity/sms/", body={"status": "draft", "contact_id": "cont_b"})
    run.prepare(absent)
    assert absent.body["lead_id"] == "lead_b"
    kept = case("PUT", "/activity/sms/{id}/", id="x", body={"text": "no lead named"})
    run.prepare(kept)
    assert "lead_id" not in kept.body  # a PUT without lead_id keeps the SMS on its lead


def test_lists_on_named_leads_are_bounded_after_what_they_held_without_unmaking_negatives():
    run = remote_run()
    run.given_bound = "2026-01-01T12:00:00.001000+00:00"
    free = case("GET", "/activity/sms/")
    run.prepare(free)
    assert free.query["date_created__gt"] == run.given_bound
    gt_taken = case("GET", "/activity/sms/", query={"date_created__gt": "2020-01-01"})
    run.prepare(gt_taken)
    assert gt_taken.query == {
        "lead_id": "lead_run",
        "date_created__gt": "2020-01-01",
        "date_created__gte": run.given_bound,
    }
    both = {"date_created__gt": "2020-01-01", "date_created__gte": "2020-01-01T00:00:00Z"}
    both_taken = case("GET", "/activity/sms/", query=dict(both))
    run.prepare(both_taken)
    assert both_taken.query["date_created__gte"] == run.given_bound
    invalid = {"date_created__gt": "not a date", "date_created__gte": "12"}
    negative = case("GET", "/activity/sms/", query=dict(invalid))
    run.prepare(negative)
    assert {k: negative.query[k] for k in invalid} == invalid  # a server must refuse it


def test_an_answer_cut_at_the_body_bound_makes_the_phase_inconclusive(monkeypatch):
    """The phase's sessions cut an answer at the bound: what schemathesis judged of it
    cannot stand, so the phase ends with AnswerTooLarge, after its clean-up."""
    from contextlib import contextmanager

    import conformance.schema_phase as schema_phase
    from conformance.bounded_requests import Bounds
    from conformance.client import AnswerTooLarge

    @contextmanager
    def cut_once(max_bytes, **kwargs):
        bounds = Bounds(max_bytes)
        bounds.hit("GET", "https://h/api/v1/activity/sms/")
        yield bounds

    monkeypatch.setattr(schema_phase, "bounded_sessions", cut_once)
    target = embedded_target()
    target.discover()
    deleted = []
    delete_sms = target.delete_sms
    monkeypatch.setattr(target, "delete_sms", lambda ids: (deleted.append(ids), delete_sms(ids)))
    try:
        with pytest.raises(AnswerTooLarge, match="schema phase's answer to GET /api/v1/activity"):
            run_schema_phase(target, seed=1, max_examples=SMALL, phases=("examples",))
    finally:
        target.close()
    assert deleted and deleted[0]  # cleaned up first


def throttles_the_unauthenticated(request, reference):
    """A rate limiter in front of the API that answers 429 to any request without valid
    credentials, before the API ever sees it (it counts per key, and those have none)."""
    import httpx

    if request.headers.get("authorization") != _hostile().BASIC:
        return httpx.Response(429, headers={"retry-after": "0"})
    return reference(request)


def test_probes_without_credentials_that_meet_a_rate_limiter_are_noise_not_ignored_auth(
    monkeypatch,
):
    """Audit row P9: schemathesis's ``ignored_auth`` sends its own probes (no credentials,
    wrong ones); a 429 to one is the limiter's answer, not the API's, and never judged."""
    from conformance.client import Credentials
    from conformance.target import remote_target

    hostile = _hostile()
    with hostile.hostile_target(throttles_the_unauthenticated, monkeypatch) as fake:
        target = remote_target(hostile.BASE_URL, Credentials(hostile.SECRET), allow_send=False)
        target.discover()
        try:
            result = run_schema_phase(target, seed=1, max_examples=SMALL, phases=("examples",))
        finally:
            target.close()
    probes = [r for r in fake.requests if r.headers.get("authorization") != hostile.BASIC]
    assert probes, "no request without credentials was made (the limiter was never met)"
    assert [f.rule for f in result.failures if f.rule.startswith("auth/")] == []


def noisy_gateway():
    """A gateway in front of the SMS endpoints: every third request is answered 503 before
    the API sees it, or 504 after the API handled it (the answer lost), in turn."""
    import httpx

    count = {"n": 0}

    def gateway(request, reference):
        count["n"] += 1
        if count["n"] % 6 == 0:
            return httpx.Response(503, json={"error": "Service Unavailable"})
        if count["n"] % 6 == 3:
            reference(request)
            return httpx.Response(504, json={"error": "Gateway Timeout"})
        return reference(request)

    return gateway


def test_gateway_noise_in_the_schema_phase_is_never_judged(monkeypatch):
    """Audit row P8: a 503/504 from whatever stands in front of the API is not its answer:
    no check of the schema phase judges it (protocol/no-5xx, the content type, the schema)."""
    from conformance.client import Credentials
    from conformance.target import remote_target

    hostile = _hostile()
    with hostile.hostile_target(noisy_gateway(), monkeypatch) as fake:
        target = remote_target(hostile.BASE_URL, Credentials(hostile.SECRET), allow_send=False)
        target.discover()
        try:
            result = run_schema_phase(target, seed=1, max_examples=SMALL, phases=("examples",))
        finally:
            target.close()
    sms_requests = [r for r in fake.requests if "/activity/sms/" in r.url.path]
    assert len(sms_requests) >= 6, "the gateway never answered for the API"
    assert result.failures == []
    assert all(finding.ok for finding in result.findings)


def test_an_sms_may_answer_attachments_null_but_each_attachment_gives_its_size():
    """1.7: `attachments` is "not in the SPEC schema" (its nullability is nowhere given),
    while "In SPEC's generic `Attachment` ... `content_type`, `filename`, `size`, `url`
    are required" (audit O4)."""
    schemas = load_openapi()["components"]["schemas"]
    assert "null" in schemas["SMSActivity"]["properties"]["attachments"]["type"]
    assert set(schemas["SMSAttachment"]["required"]) == {"url", "filename", "size", "content_type"}


def test_a_delete_answered_with_no_body_is_not_judged_on_media_type_or_schema():
    """1.6 Delete: "200 with empty object ... Empty response body" (audit D1)."""
    from types import SimpleNamespace

    from conformance.schema_phase import _SKIPS

    delete = SimpleNamespace(
        method="DELETE", query=None, operation=SimpleNamespace(path="/activity/sms/{id}/")
    )
    get = SimpleNamespace(
        method="GET", query=None, operation=SimpleNamespace(path="/activity/sms/{id}/")
    )
    empty = SimpleNamespace(status_code=200, content=b"")
    braces = SimpleNamespace(status_code=200, content=b"{}")
    for check in ("content_type_conformance", "response_schema_conformance"):
        assert _SKIPS[check](empty, delete)
        assert not _SKIPS[check](braces, delete)
        assert not _SKIPS[check](empty, get)


def test_a_body_whose_status_is_an_object_or_a_list_is_prepared_and_sent_as_drawn():
    """An unhashable ``status`` is a negative case like any other: it stays, it is not a send."""
    run = remote_run()
    for status in ({"a": 1}, ["outbox"]):
        create = case("POST", "/activity/sms/", body={"status": status, "remote_phone": "+1"})
        run.prepare(create)
        assert create.body["status"] == status and create.body["lead_id"] == "lead_run"
