"""A target's fixtures and clean-up, against answers that cannot be trusted.

The target is the reference server in-process behind an ``httpx.MockTransport`` that can
spoil the answer to one request (``spoil``) or fail it (``fail``). A hostile answer gives
``MalformedAnswer`` naming the request, never a crash; what the run did not create is
never deleted; clean-up goes on past a failing DELETE and lists what it could not delete.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from conformance.client import ApiClient, Credentials, MalformedAnswer
from conformance.clock import SystemClock
from conformance.model import Timing
from conformance.refserver import ReferenceServer
from conformance.safety import Guard
from conformance.target import (
    FICTIONAL_RECIPIENTS,
    ConfigurationError,
    GivenFixtures,
    Target,
    TargetRejected,
    embedded_target,
    new_run_id,
    remote_target,
    tagged_name,
    tagged_name_pattern,
)
from conformance.transport import SyncASGITransport

Spoil = Callable[[Any], Any]


class Fake:
    """The reference server, with answers to chosen requests spoiled or failed."""

    def __init__(self) -> None:
        self.server = ReferenceServer()
        self._inner = SyncASGITransport(self.server.app)
        self.spoils: dict[tuple[str, str], Spoil] = {}
        self.fails: dict[tuple[str, str], Callable[[], httpx.Response]] = {}
        self.deletes: list[str] = []
        self.customer = self.server.client()

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.raw_path.decode().split("?")[0].removeprefix("/api/v1/")
        if request.method == "DELETE":
            self.deletes.append(path)
        key = (request.method, path)
        if key in self.fails:
            return self.fails[key]()
        right = self._inner.handle_request(request)
        if key not in self.spoils:
            return right
        headers = {k: v for k, v in right.headers.items() if k != "content-length"}
        spoiled = json.dumps(self.spoils[key](right.json())).encode()
        return httpx.Response(right.status_code, headers=headers, content=spoiled)

    def target(self, given: GivenFixtures | None = None) -> Target:
        http = httpx.Client(
            transport=httpx.MockTransport(self.handle), base_url=self.server.base_url + "/"
        )
        clock = SystemClock()
        api = ApiClient(
            http,
            Credentials(self.server.orgs[0].api_key),
            clock,
            guard=Guard(recipients=FICTIONAL_RECIPIENTS),
        )
        return Target(
            name="fake",
            api=api,
            clock=clock,
            timing=Timing(early=2.0, grace=10.0),
            embedded=False,
            allow_send=False,
            given=given or GivenFixtures(),
        )

    def exists(self, path: str) -> bool:
        return self.customer.get(f"/{path}").status_code == 200

    def customer_lead(self, name: str = "Acme, a customer") -> str:
        answer = self.customer.post("/lead/", json={"name": name, "contacts": [{"name": "Bo"}]})
        return answer.json()["id"]


@pytest.fixture
def fake():
    fake = Fake()
    yield fake
    fake.server.close()


def without(key: str) -> Spoil:
    return lambda body: {k: v for k, v in body.items() if k != key}


def with_field(key: str, value: object) -> Spoil:
    return lambda body: {**body, key: value}


def first_phone_without_number(body: dict) -> dict:
    data = [{k: v for k, v in item.items() if k != "number"} for item in body["data"]]
    return {**body, "data": data}


HOSTILE_ANSWERS = {
    "a lead answer without an id": (("POST", "lead/"), without("id"), "without 'id'"),
    "a lead answer with an integer id": (("POST", "lead/"), with_field("id", 7), "7"),
    "a lead answer with no contacts": (("POST", "lead/"), with_field("contacts", []), "contact"),
    "a lead whose contact is not an object": (
        ("POST", "lead/"),
        with_field("contacts", ["x"]),
        "not a JSON object",
    ),
    "a lead id with a newline": (("POST", "lead/"), with_field("id", "lead_1\nx"), "leave"),
    "a lead id that climbs out": (("POST", "lead/"), with_field("id", "../me"), "leave"),
    "organizations that are not objects": (
        ("GET", "me/"),
        with_field("organizations", ["x"]),
        "organization",
    ),
    "a phone number without number": (
        ("GET", "phone_number/"),
        first_phone_without_number,
        "without 'number'",
    ),
    "phone numbers that are not objects": (
        ("GET", "phone_number/"),
        with_field("data", [1, 2]),
        "phone number",
    ),
    "a template answer without an id": (("POST", "sms_template/"), without("id"), "without 'id'"),
    "a list instead of an object": (("GET", "me/"), lambda body: [body], "not a JSON object"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_ANSWERS))
def test_a_hostile_fixture_answer_is_malformed_naming_the_request_not_a_crash(fake, case):
    (method, path), spoil, problem = HOSTILE_ANSWERS[case]
    fake.spoils[(method, path)] = spoil
    target = fake.target()
    with pytest.raises(MalformedAnswer) as caught:
        target.discover()
    assert f"{method} {path}" in str(caught.value)
    assert problem in str(caught.value)
    target.close()  # what was created before is still deleted, without a crash
    # A create whose answer held no usable id may have happened: it is named, for cleanup.
    unusable = [item for item in target.leftovers if "answered no usable id" in item]
    assert target.leftovers == unusable
    assert len(unusable) == (method == "POST")


def test_a_create_answering_a_customers_lead_id_gets_that_lead_neither_used_nor_deleted(fake):
    customer = fake.customer_lead()
    fake.spoils[("POST", "lead/")] = with_field("id", customer)
    target = fake.target()
    with pytest.raises(MalformedAnswer, match="Acme, a customer"):
        target.discover()
    target.close()
    assert fake.exists(f"lead/{customer}/")
    assert f"lead/{customer}/" not in fake.deletes
    assert not fake.customer.get("/activity/sms/", params={"lead_id": customer}).json()["data"]


def test_a_create_answering_the_id_of_the_runs_first_lead_again_is_refused(fake):
    target = fake.target()
    first: list[str] = []

    def same_id_twice(body: dict) -> dict:
        first.append(body["id"])
        return {**body, "id": first[0]}

    fake.spoils[("POST", "lead/")] = same_id_twice
    with pytest.raises(MalformedAnswer, match="something the run had"):
        target.discover()
    assert target.created == [f"lead/{first[0]}/"]  # the first lead is still deleted
    target.close()
    assert not fake.exists(f"lead/{first[0]}/")


def test_every_lead_and_template_a_run_creates_carries_its_tag_exactly(fake):
    target = fake.target()
    fixtures = target.discover()
    names = [fake.customer.get(f"/{path}").json()["name"] for path in target.created]
    assert names == [
        f"sms-conformance {target.run_id} lead 0",
        f"sms-conformance {target.run_id} lead 1",
        f"sms-conformance {target.run_id} template",
    ]
    assert fixtures.template_id in target.created[-1]
    created = list(target.created)
    target.close()
    assert target.leftovers == []
    assert not any(fake.exists(path) for path in created)


def test_a_given_lead_is_read_and_never_deleted(fake):
    lead = fake.customer_lead()
    target = fake.target(GivenFixtures(lead_ids=(lead,)))
    fixtures = target.discover()
    assert fixtures.lead_id == lead
    assert target.created == [next(p for p in target.created if p.startswith("sms_template/"))]
    target.close()
    assert fake.exists(f"lead/{lead}/")
    assert f"lead/{lead}/" not in fake.deletes


def test_a_given_lead_id_that_is_not_a_path_segment_is_a_configuration_error(fake):
    target = fake.target(GivenFixtures(lead_ids=("../me",)))
    with pytest.raises(ConfigurationError, match="--lead-id"):
        target.discover()


def test_clean_up_goes_on_past_a_failing_delete_and_lists_what_it_could_not_delete(fake):
    target = fake.target()
    target.discover()
    first_lead, second_lead, template = target.created
    fake.fails[("DELETE", second_lead)] = lambda: httpx.Response(500, json={"error": "no"})
    target.close()
    assert target.leftovers == [second_lead]
    assert fake.exists(second_lead)
    assert not fake.exists(first_lead)  # deleted after the one that failed
    assert not fake.exists(template)


def test_an_exception_in_one_delete_does_not_stop_the_others(fake):
    target = fake.target()
    target.discover()
    template, second, first = reversed(target.created)

    def explode() -> httpx.Response:
        raise ValueError("a bug in a transport")

    fake.fails[("DELETE", second)] = explode
    target.close()
    assert target.leftovers == [second]
    assert not fake.exists(template)
    assert not fake.exists(first)


def test_an_sms_delete_that_failed_during_the_run_is_tried_again_at_close(fake):
    target = fake.target()
    fixtures = target.discover()
    body = {
        "lead_id": fixtures.lead_id,
        "status": "draft",
        "local_phone": fixtures.internal_phones[0],
        "remote_phone": FICTIONAL_RECIPIENTS[0],
        "text": "draft",
    }
    sms_id = target.api.send("POST", "activity/sms/", json_body=body)[0].response.body["id"]
    path = f"activity/sms/{sms_id}/"
    fake.fails[("DELETE", path)] = lambda: httpx.Response(503)
    target.delete_sms([sms_id])
    del fake.fails[("DELETE", path)]
    target.close()
    assert fake.deletes.count(path) >= 2
    assert target.leftovers == []


def test_abandoned_clean_up_lists_everything_it_did_not_delete(fake):
    target = fake.target()
    target.discover()
    expected = list(reversed(target.created))
    target.abandon_cleanup()
    target.close()
    assert target.leftovers == expected
    assert fake.deletes == []


def test_a_ctrl_c_during_a_delete_abandons_the_rest_and_lists_it(fake):
    target = fake.target()
    target.discover()
    template, second, first = reversed(target.created)

    def interrupted() -> httpx.Response:
        raise KeyboardInterrupt

    fake.fails[("DELETE", second)] = interrupted
    target.close()  # returns: the engine still writes its report
    assert target.leftovers == [second, first]
    assert not fake.exists(template)


def test_run_ids_are_twelve_hex_digits_and_differ():
    ids = {new_run_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(len(run_id) == 12 and int(run_id, 16) >= 0 for run_id in ids)


@pytest.mark.parametrize(
    "name",
    [
        "sms-conformance customers list",
        "sms-conformance 0123456789ab customers list",
        "sms-conformance 0123456789ab lead 0 (copy)",
        "sms-conformance 0123456789 lead 0",
        "Sms-conformance 0123456789ab lead 0",
        " sms-conformance 0123456789ab lead 0",
    ],
)
def test_a_look_alike_name_is_not_the_tag(name):
    assert not tagged_name_pattern().fullmatch(name)


def test_the_runs_own_names_match_the_tag_and_only_its_run_id():
    name = tagged_name("0123456789ab", "lead 0")
    assert tagged_name_pattern().fullmatch(name)
    assert tagged_name_pattern("0123456789ab").fullmatch(name)
    assert not tagged_name_pattern("ba9876543210").fullmatch(name)
    with pytest.raises(ValueError):
        tagged_name("0123456789ab", "Lead; DROP")


@pytest.mark.parametrize(
    "url",
    [
        "http://KEY-12345@example.test/api/v1",
        "https://KEY-12345:@example.test/api/v1",
        "ftp://KEY-12345@example.test/api/v1",
        "KEY-12345@example.test/api/v1",
    ],
)
def test_a_base_url_carrying_a_key_is_refused_without_repeating_it(url):
    with pytest.raises(ConfigurationError) as caught:
        remote_target(url, Credentials("k"), allow_send=False)
    assert "KEY-12345" not in str(caught.value)
    assert "--api-key" in str(caught.value)


def test_the_default_recipients_are_fictional_numbers_a_phone_number_library_calls_valid():
    """Audit C21: +1 555 555-0100 is no valid number (555 is no area code), so a server that
    validates numbers refused every create. NANP reserves 555-0100..0199 for fiction on every
    real area code; 201-555-0123 is libphonenumber's example of a valid US number."""
    from conformance.fixtures import Fixtures

    default = Fixtures.__dataclass_fields__["remote_phones"].default
    for number in (*FICTIONAL_RECIPIENTS, *default):
        area, exchange, line = number[2:5], number[5:8], number[8:]
        assert number.startswith("+1") and len(number) == 12
        assert area[0] in "23456789" and area[1:] != "11" and area != "555"
        assert exchange == "555" and 100 <= int(line) <= 199
    assert set(default) == set(FICTIONAL_RECIPIENTS)


# -- targets that lack some fixture endpoints (404/405), and those that refuse ------------


def answering(status: int) -> Callable[[], httpx.Response]:
    return lambda: httpx.Response(status, json={"error": f"answered {status}"})


@pytest.mark.parametrize("status", [401, 403, 500])
def test_a_refusal_or_an_error_on_get_me_still_ends_discovery_it_is_no_missing_endpoint(
    fake, status
):
    fake.fails[("GET", "me/")] = answering(status)
    target = fake.target()
    with pytest.raises(TargetRejected, match=f"GET me/.*{status}"):
        target.discover()
    assert target.missing == {}
    target.close()


@pytest.mark.parametrize("status", [404, 405])
def test_get_me_answering_404_or_405_is_a_missing_endpoint_and_discovery_goes_on(fake, status):
    fake.fails[("GET", "me/")] = answering(status)
    target = fake.target()
    fixtures = target.discover()
    assert target.missing == {"GET /me/": status}
    assert fixtures.user_id is None and fixtures.organization_id is None
    assert (
        f"needs GET /me/ (the target answered {status})"
        in (target.lacking["sms/list/filter-user-id"])
    )
    assert fixtures.template_id is not None  # the rest was found as ever
    target.close()


def test_a_given_contact_stands_in_for_a_missing_get_lead_and_the_template_has_no_variables(
    fake,
):
    lead = fake.customer_lead()
    contact = fake.customer.get(f"/lead/{lead}/").json()["contacts"][0]["id"]
    fake.fails[("GET", f"lead/{lead}/")] = answering(404)
    target = fake.target(GivenFixtures(lead_ids=(lead,), contact_ids=(contact,)))
    fixtures = target.discover()
    assert fixtures.leads == ((lead, contact),)
    assert fixtures.contact_first_name is None
    assert target.missing == {"GET /lead/{id}/": 404}
    # Without the contact's name, a template whose rendering is its text.
    assert "{{" not in fixtures.template_text
    assert fixtures.rendered_template == fixtures.template_text
    target.close()
    assert fake.exists(f"lead/{lead}/")


def test_a_given_template_with_variables_is_not_used_when_the_contacts_name_is_unknown(fake):
    lead = fake.customer_lead()
    contact = fake.customer.get(f"/lead/{lead}/").json()["contacts"][0]["id"]
    template = fake.customer.post(
        "/sms_template/", json={"name": "customer's", "text": "Hi {{ contact.first_name }}"}
    ).json()["id"]
    fake.fails[("GET", f"lead/{lead}/")] = answering(405)
    target = fake.target(
        GivenFixtures(lead_ids=(lead,), contact_ids=(contact,), template_id=template)
    )
    fixtures = target.discover()
    assert fixtures.template_id is None
    assert target.lacking["sms/create/template-renders"].startswith(
        "needs GET /lead/{id}/ (the target answered 405) to learn the first name"
    )
    target.close()


def test_a_given_contact_that_is_not_on_the_given_lead_is_a_configuration_error(fake):
    lead = fake.customer_lead()
    target = fake.target(GivenFixtures(lead_ids=(lead,), contact_ids=("cont_somebody_else",)))
    with pytest.raises(ConfigurationError, match="--contact-id cont_somebody_else"):
        target.discover()


def test_more_contact_ids_than_lead_ids_is_a_configuration_error(fake):
    target = fake.target(GivenFixtures(contact_ids=("cont_1",)))
    with pytest.raises(ConfigurationError, match="--contact-id"):
        target.discover()


def test_a_missing_post_lead_gives_no_extra_lead_and_the_probe_says_what_it_could_not_judge(fake):
    from conformance.judging import Tally
    from conformance.probes import probe_default_limit

    lead = fake.customer_lead()
    target = fake.target(GivenFixtures(lead_ids=(lead,)))
    target.discover()
    fake.fails[("POST", "lead/")] = answering(404)
    assert probe_default_limit(target, Tally()) == []
    assert target.missing == {"POST /lead/": 404}
    assert target.lacking["sms/list/limit-default"].startswith(
        "needs POST /lead/ (the target answered 404)"
    )
    assert not fake.customer.get("/activity/sms/", params={"lead_id": lead}).json()["data"]
    target.close()


def test_a_remote_target_grants_no_capability_the_embedded_server_has(fake):
    """What ``embedded`` stands for, by meaning: a jumping clock, private data, sends that
    reach no phone. A remote target has none of them; the embedded server all three."""
    remote = fake.target()
    assert not (remote.clock_can_jump or remote.data_is_private or remote.sends_nowhere)
    embedded = embedded_target()
    try:
        assert embedded.clock_can_jump and embedded.data_is_private and embedded.sends_nowhere
    finally:
        embedded.close()
