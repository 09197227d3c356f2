"""The request pipeline: auth, isolation, 404/405/415, JSON everywhere, rate limits."""

from __future__ import annotations

import base64

import httpx
import pytest

from conformance.clock import VirtualClock
from conformance.refserver import ReferenceServer


def test_basic_auth_with_the_api_key_is_accepted(server):
    assert server.client(auth="basic").get("me/").json()["id"] == "user_reference_a"


def test_a_password_in_basic_auth_is_ignored(server):
    token = base64.b64encode(b"ref-key-org-b:whatever").decode()
    response = server.client(auth="none").get("me/", headers={"Authorization": f"Basic {token}"})
    assert response.json()["id"] == "user_reference_b"


def test_bearer_auth_with_the_oauth_token_is_accepted(server):
    me = server.client(1, auth="bearer").get("me/").json()
    assert me["organizations"] == [{"id": "orga_reference_b", "name": "Reference Org B"}]


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Basic " + base64.b64encode(b"wrong-key:").decode(),
        "Basic !!!not-base64",
        "Basic " + base64.b64encode(b":").decode(),
        "Bearer ref-key-org-a",
        "Bearer ",
        "Token ref-key-org-a",
    ],
)
def test_missing_or_wrong_credentials_answer_401_with_an_error(server, header):
    headers = {} if header is None else {"Authorization": header}
    response = server.client(auth="none").get("activity/sms/", headers=headers)
    assert response.status_code == 401
    assert isinstance(response.json()["error"], str)
    assert response.headers["content-type"] == "application/json"


def test_client_rejects_an_unknown_auth_mode(server):
    with pytest.raises(ValueError, match="bearer"):
        server.client(auth="digest")


def test_organisations_never_see_each_others_sms(client, other_client, make_sms):
    sms = make_sms()
    path = f"activity/sms/{sms['id']}/"
    assert other_client.get(path).status_code == 404
    assert other_client.put(path, json={"text": "x"}).status_code == 404
    assert other_client.delete(path).status_code == 404
    assert other_client.get("activity/sms/").json()["data"] == []
    assert other_client.get("activity/sms/", params={"id__in": sms["id"]}).json()["data"] == []
    assert client.get(path).json() == sms


def test_another_orgs_lead_is_unknown(client, other_client, make_lead, field_errors):
    lead = make_lead()
    assert other_client.get(f"lead/{lead['id']}/").status_code == 404
    body = {"status": "draft", "local_phone": "+16503336660", "lead_id": lead["id"]}
    assert "lead_id" in field_errors(other_client.post("activity/sms/", json=body))


def test_unknown_paths_are_json_404(client):
    for path in ("nope/", "activity/sms", "activity/sms/x/y/", "activity/sms//"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json() == {"error": "Not found"}


@pytest.mark.parametrize(
    ("method", "path"),
    [("PATCH", "activity/sms/"), ("DELETE", "activity/sms/"), ("POST", "activity/sms/x/"),
     ("PUT", "me/"), ("PATCH", "activity/sms/x/")],
)  # fmt: skip
def test_unsupported_methods_are_json_405(client, method, path):
    response = client.request(method, path)
    assert response.status_code == 405
    assert "error" in response.json()


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_a_non_json_body_is_415(client, content_type):
    response = client.post(
        "activity/sms/", content=b"status=draft", headers={"content-type": content_type}
    )
    assert response.status_code == 415
    assert "error" in response.json()


def test_json_with_charset_is_accepted(client):
    response = client.post(
        "activity/sms/",
        content=b'{"status":"draft","local_phone":"+16503335550"}',
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 200


def test_every_response_carries_a_parseable_ratelimit_header(client):
    header = client.get("activity/sms/").headers["ratelimit"]
    assert header.startswith("limit=") and ", remaining=" in header and ", reset=" in header


def test_the_rate_limit_answers_429_with_retry_after_and_resets():
    clock = VirtualClock()
    server = ReferenceServer(clock=clock, rate_limit=2)
    client = server.client()
    assert [client.get("me/").status_code for _ in range(3)] == [200, 200, 429]
    refused = client.get("me/")
    assert refused.headers["retry-after"] == "1"
    assert refused.headers["ratelimit"] == "limit=2, remaining=0, reset=1"
    assert server.client(1).get("me/").status_code == 200  # per API key
    clock.advance(1)
    assert client.get("me/").status_code == 200
    server.close()


def test_rate_limit_must_be_positive():
    with pytest.raises(ValueError, match="rate_limit"):
        ReferenceServer(rate_limit=0)


def test_an_unexpected_exception_is_a_json_500(server, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(server.sms, "get", boom)
    response = server.client().get("activity/sms/x/")
    assert response.status_code == 500
    assert response.json() == {"error": "Internal server error"}


def test_base_url_and_client_point_at_api_v1(server):
    assert server.base_url == "http://reference.invalid/api/v1"
    assert isinstance(server.client(), httpx.Client)
    assert str(server.client().base_url) == "http://reference.invalid/api/v1/"


def test_the_openapi_document_is_served_beside_the_api(server):
    import httpx

    from conformance.transport import SyncASGITransport

    client = httpx.Client(transport=SyncASGITransport(server.app), base_url="http://ref")
    document = client.get("/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    assert "/activity/sms/" in document["paths"]


def test_an_app_over_a_services_record_serves_without_a_reference_server():
    import threading

    from conformance.refserver.app import build_app
    from conformance.refserver.crm import Crm
    from conformance.refserver.faults import Faults
    from conformance.refserver.ids import IdMaker
    from conformance.refserver.ratelimit import RateLimiter
    from conformance.refserver.readings import Readings
    from conformance.refserver.seed import ORGS
    from conformance.refserver.services import Services
    from conformance.refserver.sms import SmsService
    from conformance.refserver.storage import Storage
    from conformance.transport import SyncASGITransport

    storage = Storage(":memory:")
    crm = Crm(storage)
    services = Services(
        orgs=ORGS,
        faults=Faults(frozenset({"create-answers-201"})),
        readings=Readings(),
        settle=None,
        clock=VirtualClock(),
        limiter=RateLimiter(None),
        lock=threading.RLock(),
        storage=storage,
        crm=crm,
        sms=SmsService(storage, crm),
        new_id=IdMaker(7),
    )
    client = httpx.Client(
        transport=SyncASGITransport(build_app(services)),
        base_url="http://reference.invalid/api/v1/",
        auth=(ORGS[0].api_key, ""),
    )
    body = {"status": "draft", "local_phone": ORGS[0].internal_numbers[0], "text": "hi"}
    created = client.post("activity/sms/", json=body)
    assert created.status_code == 201  # the record's faults are the app's
    assert storage.get("sms", ORGS[0].organization_id, created.json()["id"])["text"] == "hi"
    client.close()
    storage.close()
