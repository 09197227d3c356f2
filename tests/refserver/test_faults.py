"""Each fault changes exactly the behaviour it names, and nothing when switched off."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta

import pytest

from conformance.catalogue import load_catalogue
from conformance.clock import VirtualClock
from conformance.refserver import FAULTS, Fault, ReferenceServer
from conformance.refserver.faults import Faults, check_faults

LOCAL = "+16503335550"


@pytest.fixture
def faulty():
    servers = []

    def make(name):
        clock = VirtualClock()
        server = ReferenceServer(clock=clock, faults=[name])
        servers.append(server)
        return server, server.client(), clock

    yield make
    for server in servers:
        server.close()


def create(client, **fields):
    body = {"status": "draft", "local_phone": LOCAL, "text": "hi", **fields}
    response = client.post("activity/sms/", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_faults_are_frozen_records_naming_catalogue_rules():
    catalogue = load_catalogue()
    for name, fault in FAULTS.items():
        assert isinstance(fault, Fault) and fault.name == name and fault.description
        assert fault.rule in catalogue


def test_an_unknown_fault_is_a_value_error_listing_the_known_ones():
    with pytest.raises(ValueError, match="cancel-refused"):
        ReferenceServer(faults=["no-such-fault"])


def test_edit_sent_accepted(faulty, client):
    server, faulty_client, _ = faulty("edit-sent-accepted")
    for c, expected in ((client, 400), (faulty_client, 200)):
        sms = create(c, status="sent")
        response = c.put(f"activity/sms/{sms['id']}/", json={"text": "rewritten"})
        assert response.status_code == expected
    assert faulty_client.get(f"activity/sms/{sms['id']}/").json()["text"] == "rewritten"
    # drafts and inbox behave as without the fault
    inbox = create(faulty_client, status="inbox")
    assert faulty_client.put(f"activity/sms/{inbox['id']}/", json={"text": "x"}).status_code == 400


def test_send_in_60_accepted(faulty, client):
    _, faulty_client, _ = faulty("send-in-60-accepted")
    body = {"status": "outbox", "local_phone": LOCAL, "send_in": 60}
    assert client.post("activity/sms/", json=body).status_code == 400
    assert faulty_client.post("activity/sms/", json=body).status_code == 200
    assert faulty_client.post("activity/sms/", json={**body, "send_in": 61}).status_code == 400


def test_cancel_refused(faulty):
    _, faulty_client, _ = faulty("cancel-refused")
    outbox = create(faulty_client, status="outbox", send_in=30)
    response = faulty_client.put(f"activity/sms/{outbox['id']}/", json={"status": "draft"})
    assert response.status_code == 400
    scheduled = create(faulty_client, status="scheduled", date_scheduled="2026-02-01T00:00:00Z")
    response = faulty_client.put(f"activity/sms/{scheduled['id']}/", json={"status": "draft"})
    assert response.status_code == 200


def test_skip_off_by_one(faulty, client):
    _, faulty_client, _ = faulty("skip-off-by-one")
    for c in (client, faulty_client):
        for index in range(4):
            create(c, text=str(index))

    def texts(c, skip):
        data = c.get("activity/sms/", params={"_skip": skip}).json()["data"]
        return [s["text"] for s in data]

    assert texts(client, 1) == texts(client, 0)[1:]
    assert len(texts(faulty_client, 0)) == 4
    assert texts(faulty_client, 1) == texts(faulty_client, 0)[2:]


def test_cancelled_still_sent(faulty):
    _, faulty_client, clock = faulty("cancelled-still-sent")
    sms = create(faulty_client, status="outbox", send_in=30)
    path = f"activity/sms/{sms['id']}/"
    response = faulty_client.put(path, json={"status": "draft"})
    assert (response.status_code, response.json()["status"]) == (200, "draft")
    assert faulty_client.get(path).json()["status"] == "draft"
    clock.advance(30)
    assert faulty_client.get(path).json()["status"] == "sent"


def test_faults_are_off_by_default(server):
    assert server.faults == Faults() and not server.faults and list(server.faults) == []


def test_a_fault_set_answers_for_registered_names():
    faults = Faults(frozenset({"edit-sent-accepted", "cancel-refused"}))
    assert "edit-sent-accepted" in faults and "cancel-refused" in faults
    assert "send-in-60-accepted" not in faults
    assert list(faults) == ["cancel-refused", "edit-sent-accepted"] and len(faults) == 2


@pytest.mark.parametrize("name", ["edit-sent-acepted", "", None])
def test_asking_a_fault_set_about_an_unregistered_name_raises_instead_of_answering_false(name):
    faults = Faults(frozenset({"edit-sent-accepted"}))
    with pytest.raises(ValueError, match="not a registered fault"):
        name in faults  # noqa: B015 - the question itself must raise


def test_any_of_asks_about_every_name_it_is_given():
    faults = Faults(frozenset({"edit-sent-accepted"}))
    assert faults.any_of("cancel-refused", "edit-sent-accepted")
    assert not faults.any_of("cancel-refused", "send-in-60-accepted")
    with pytest.raises(ValueError, match="not a registered fault"):
        faults.any_of("edit-sent-accepted", "cancel-refsued")  # a typo after a hit too


def test_a_fault_set_holds_only_registered_names():
    with pytest.raises(ValueError, match="unknown fault"):
        Faults(frozenset({"no-such-fault"}))
    assert check_faults(["cancel-refused"]) == Faults(frozenset({"cancel-refused"}))
    with pytest.raises(ValueError, match="not the string"):
        check_faults("cancel-refused")


# -- every fault, one scenario each ---------------------------------------------------------
#
# A scenario drives a fresh server through a short request sequence and returns what it
# observed. Run once on a clean server and once with the fault switched on, the two
# observations must differ: the fault changes behaviour, and its check is on the path the
# scenario takes.

REMOTE = "+15555550100"
FUTURE = "2026-01-02T12:00:00+00:00"  # a day after VirtualClock's default start
UNKNOWN_ID = "acti_0000000000000000000000"


class World:
    """A server on a virtual clock, with clients for both organisations."""

    def __init__(self, faults, rate_limit=None):
        self.clock = VirtualClock()
        self.server = ReferenceServer(clock=self.clock, faults=faults, rate_limit=rate_limit)
        self.c = self.server.client()
        self.other = self.server.client(1)

    def post(self, **fields):
        body = {"status": "draft", "local_phone": LOCAL, "remote_phone": REMOTE, "text": "hi"}
        body.update(fields)
        return self.c.post("activity/sms/", json={k: v for k, v in body.items() if v is not ...})

    def sms(self, **fields):
        response = self.post(**fields)
        assert response.status_code in (200, 201), response.text
        return response.json()

    def path(self, sms):
        return f"activity/sms/{sms['id']}/"

    def put(self, sms, body):
        return self.c.put(self.path(sms), json=body)

    def read(self, sms, key):
        return self.c.get(self.path(sms)).json()[key]

    def listed(self, **params):
        return self.c.get("activity/sms/", params=params).json()

    def count(self, **params):
        return len(self.listed(**params)["data"])

    def lead(self):
        body = {"name": "Acme", "contacts": [{"name": "Ada Lovelace"}]}
        lead = self.c.post("lead/", json=body).json()
        return lead["id"], lead["contacts"][0]["id"]

    def template(self):
        body = {"name": "t", "text": "Hi {{ contact.first_name }}"}
        return self.c.post("sms_template/", json=body).json()["id"]


def _put_code(status, body, **create):
    def scenario(w):
        return w.put(w.sms(status=status, **create), body).status_code

    return scenario


def _create_code(**fields):
    return lambda w: w.post(**fields).status_code


def _created(key, **fields):
    return lambda w: w.sms(**fields)[key]


def _status_after(seconds, cancel=False, **fields):
    def scenario(w):
        sms = w.sms(**fields)
        if cancel:
            assert w.put(sms, {"status": "draft"}).status_code == 200
        w.clock.advance(seconds)
        return w.read(sms, "status")

    return scenario


def _scheduled_in(w, seconds):
    return (w.clock.now() + timedelta(seconds=seconds)).isoformat()


def _rescheduled(w):
    """Scheduled 10 s ahead, cancelled, scheduled again 60 s ahead: the status at 30 s."""
    sms = w.sms(status="scheduled", date_scheduled=_scheduled_in(w, 10))
    assert w.put(sms, {"status": "draft"}).status_code == 200
    later = {"status": "scheduled", "date_scheduled": _scheduled_in(w, 60)}
    assert w.put(sms, later).status_code == 200
    w.clock.advance(30)
    return w.read(sms, "status")


def _put_scheduled(w):
    sms = w.sms(status="draft")
    body = {"status": "scheduled", "date_scheduled": _scheduled_in(w, 10)}
    assert w.put(sms, body).status_code == 200
    w.clock.advance(20)
    return w.read(sms, "status")


def _with_lead_edit(w):
    lead, contact = w.lead()
    sms = w.sms(lead_id=lead, contact_id=contact)
    w.put(sms, {"text": "edited"})
    return w.read(sms, "lead_id")


def _not_stored(w):
    sms = w.sms()
    w.put(sms, {"text": "edited"})
    return w.read(sms, "text")


def _template_text(w):
    lead, contact = w.lead()
    return w.sms(lead_id=lead, contact_id=contact, template_id=w.template(), text=...)["text"]


def _several(n, w, **fields):
    made = []
    for _ in range(n):
        made.append(w.sms(**fields))
        w.clock.advance(1)
    return made


def _bound(column, op):
    def scenario(w):
        sms = w.sms()
        return w.count(**{f"{column}__{op}": sms[column]})

    return scenario


def _tz_offset(w):
    sms = w.sms()
    local = datetime.fromisoformat(sms["date_created"]) + timedelta(hours=2)
    params = {"date_created__gte": local.replace(tzinfo=None).isoformat()}
    return len(w.c.get("activity/sms/", params=params, headers={"x-tz-offset": "2"}).json()["data"])


def _bare_date_utc(w):
    w.sms()  # created 2026-01-01T12:00Z; at +14 the 2nd starts at 2026-01-01T10:00Z
    params = {"date_created__gte": "2026-01-02"}
    return len(
        w.c.get("activity/sms/", params=params, headers={"x-tz-offset": "14"}).json()["data"]
    )


def _later_page(w):
    _several(3, w)
    return [s["id"] for s in w.listed(_skip=1, _limit=1)["data"]]


def _deleted(then):
    def scenario(w):
        sms = w.sms()
        w.c.delete(w.path(sms))
        return w.c.get(w.path(sms)).status_code if then == "get" else w.count()

    return scenario


def _delete_answer(w):
    response = w.c.delete(w.path(w.sms()))
    return response.status_code, response.content


def _auth(header):
    def scenario(w):
        client = w.server.client(auth="none")
        headers = {} if header is None else {"Authorization": header}
        response = client.get("activity/sms/", headers=headers)
        return response.status_code, sorted(response.json())

    return scenario


def _other_org(method):
    def scenario(w):
        sms = w.sms()
        if method == "list":
            return len(w.other.get("activity/sms/", params={"id__in": sms["id"]}).json()["data"])
        body = {"text": "not yours"} if method == "PUT" else None
        return w.other.request(method, w.path(sms), json=body).status_code

    return scenario


def _foreign(kind):
    """A create of the first organisation naming the second's lead, template or number."""

    def scenario(w):
        if kind == "lead":
            lead = w.other.post("lead/", json={"name": "B", "contacts": [{"name": "Bea"}]}).json()
            return w.post(lead_id=lead["id"]).status_code
        if kind == "template":
            body = {"name": "t", "text": "Hi {{ contact.first_name }}"}
            template = w.other.post("sms_template/", json=body).json()["id"]
            lead, contact = w.lead()
            return w.post(
                template_id=template, text=..., lead_id=lead, contact_id=contact
            ).status_code
        number = w.server.orgs[1].internal_numbers[0]
        return w.post(status="outbox", local_phone=number).status_code

    return scenario


def _throttled(header):
    def scenario(w):
        w.c.get("activity/sms/")
        return w.c.get("activity/sms/").headers.get(header)

    return scenario


SCENARIOS = {
    # editing and transitions
    "edit-sent-accepted": _put_code("sent", {"text": "x"}),
    "edit-inbox-accepted": _put_code("inbox", {"text": "x"}),
    "edit-scheduled-text-accepted": _put_code("scheduled", {"text": "x"}, date_scheduled=FUTURE),
    "cancel-refused": _put_code("outbox", {"status": "draft"}, send_in=30),
    "cancel-scheduled-refused": _put_code("scheduled", {"status": "draft"}, date_scheduled=FUTURE),
    "cancel-sent-accepted": _put_code("sent", {"status": "draft"}),
    "draft-edit-refused": _put_code("draft", {"text": "x"}),
    "schedule-draft-refused": _put_code("draft", {"status": "scheduled", "date_scheduled": FUTURE}),
    "send-draft-refused": _put_code("draft", {"status": "outbox"}),
    "schedule-without-date-accepted": _put_code("draft", {"status": "scheduled"}),
    "update-not-stored": _not_stored,
    "put-clears-lead": _with_lead_edit,
    # create validation
    "send-in-60-accepted": _create_code(status="outbox", send_in=60),
    "send-in-59-refused": _create_code(status="outbox", send_in=59),
    "send-in-non-numeric-ignored": _create_code(status="outbox", send_in="ten"),
    "send-in-string-unchecked": _create_code(status="outbox", send_in="75"),
    "scheduled-without-date-accepted": _create_code(status="scheduled"),
    "external-local-phone-accepted": _create_code(status="outbox", local_phone="+14151231230"),
    "unknown-local-phone-accepted": _create_code(status="outbox", local_phone="+14155550000"),
    "caller-id-picks-external": lambda w: (
        w.post(status="outbox", local_phone=...).json().get("local_phone")
    ),
    "malformed-phone-accepted": _create_code(remote_phone="call me"),
    "unknown-template-ignored": _create_code(template_id="smstmpl_nope", text=...),
    "unknown-status-draft": _create_code(status="pending"),
    "missing-status-draft": _create_code(status=...),
    "attachment-type-unchecked": _create_code(
        attachments=[{"url": "https://x.test/a", "filename": "a", "content_type": "text/html"}]
    ),
    "create-answers-201": _create_code(),
    "inbox-stored-as-sent": _created("status", status="inbox"),
    "draft-create-refused": _create_code(),
    "scheduled-stored-as-draft": _created("status", status="scheduled", date_scheduled=FUTURE),
    "outbox-create-refused": _create_code(status="outbox", send_in=30),
    "sent-stored-as-inbox": _created("status", status="sent"),
    "put-unknown-id-400": lambda w: w.c.put(f"activity/sms/{UNKNOWN_ID}/", json={}).status_code,
    "get-unknown-id-400": lambda w: w.c.get(f"activity/sms/{UNKNOWN_ID}/").status_code,
    "get-wraps-object": lambda w: sorted(w.c.get(w.path(w.sms())).json())[:3],
    "get-answers-203": lambda w: w.c.get(w.path(w.sms())).status_code,
    "has-more-as-string": lambda w: w.listed()["has_more"],
    # templates and defaults
    "template-ignored": _template_text,
    "template-unrendered": _template_text,
    "inbox-direction-outbound": _created("direction", status="inbox"),
    "direction-swapped": _created("direction", status="sent", direction="outbound"),
    # time
    "outbox-never-sent": _status_after(1, status="outbox"),
    "send-in-ignored": _status_after(0, status="outbox", send_in=30),
    "scheduled-sent-at-creation": _status_after(0, status="scheduled", date_scheduled=FUTURE),
    "scheduled-never-sent": _status_after(2 * 86400, status="scheduled", date_scheduled=FUTURE),
    "cancelled-still-sent": _status_after(31, cancel=True, status="outbox", send_in=30),
    "cancel-race-still-sent": _status_after(4, cancel=True, status="outbox", send_in=3),
    "outbox-sent-early": _status_after(28.5, status="outbox", send_in=30),
    "scheduled-sent-early": lambda w: _status_after(
        59, status="scheduled", date_scheduled=_scheduled_in(w, 60)
    )(w),
    "rescheduled-sent-at-first-due": _rescheduled,
    "put-scheduled-never-sent": _put_scheduled,
    # lists
    "skip-off-by-one": lambda w: (_several(2, w), w.count(_skip=1))[1],
    "lead-filter-ignored": lambda w: (w.sms(), w.count(lead_id="lead_nope"))[1],
    "user-filter-wrong-column": lambda w: (w.sms(), w.count(user_id="user_reference_a"))[1],
    "contact-filter-ignored": lambda w: (w.sms(), w.count(contact_id="cont_nope"))[1],
    "id-in-filter-ignored": lambda w: w.count(id__in=_several(2, w)[0]["id"]),
    "date-created-gt-inclusive": _bound("date_created", "gt"),
    "date-created-lt-inclusive": _bound("date_created", "lt"),
    "activity-at-gt-inclusive": _bound("activity_at", "gt"),
    "tz-offset-ignored": _tz_offset,
    "bare-date-rejected": lambda w: (
        w.c.get("activity/sms/", params={"date_created__gte": "2026-01-01"}).status_code
    ),
    "bare-date-as-utc": _bare_date_utc,
    "limit-ignored": lambda w: (_several(2, w), w.count(_limit=1))[1],
    "has-more-always-false": lambda w: (_several(2, w), w.listed(_limit=1)["has_more"])[1],
    "has-more-on-full-page": lambda w: (w.sms(), w.listed(_limit=1)["has_more"])[1],
    "later-pages-oldest-first": _later_page,
    "default-limit-unbounded": lambda w: (_several(101, w), w.count())[1],
    "fields-ignored-on-get": lambda w: sorted(
        w.c.get(w.path(w.sms()), params={"_fields": "id,text"}).json()
    ),
    # round-trip fidelity
    "emoji-dropped": _created("text", text="hi 😀"),
    "text-nfkc-normalised": _created("text", text="\U0001d518\U0001d52b\U0001d526 \uff0c"),
    "text-truncated-160": _created("text", text="x" * 200),
    "attachments-dropped": lambda w: len(
        w.sms(
            attachments=[{"url": "https://x.test/a", "filename": "a", "content_type": "image/png"}]
        )["attachments"]
    ),
    "attachment-media-id-missing": lambda w: sorted(
        w.sms(
            attachments=[{"url": "https://x.test/a", "filename": "a", "content_type": "image/png"}]
        )["attachments"][0]
    ),
    "attachment-url-missing": lambda w: w.sms(
        attachments=[{"url": "https://x.test/a", "filename": "a", "content_type": "image/png"}]
    )["attachments"][0]["url"],
    "remote-phone-reformatted": _created("remote_phone"),
    # deletion
    "deleted-still-readable": _deleted("get"),
    "deleted-still-listed": _deleted("list"),
    "delete-answers-204": _delete_answer,
    "delete-returns-object": _delete_answer,
    "delete-missing-answers-200": lambda w: w.c.delete(f"activity/sms/{UNKNOWN_ID}/").status_code,
    # protocol and schema
    "get-served-as-html": lambda w: w.c.get(w.path(w.sms())).headers["content-type"],
    "cost-as-int": lambda w: (w.clock.advance(0), w.read(w.sms(status="outbox"), "cost"))[1],
    "users-missing": lambda w: "users" in w.sms(),
    "dates-without-t": _created("date_created"),
    "date-sent-http-date": _created("date_sent", status="sent"),
    "non-string-text-500": _create_code(text=5),
    "unknown-id-500": lambda w: w.c.get(f"activity/sms/{UNKNOWN_ID}/").status_code,
    "error-body-detail": lambda w: sorted(w.post(status=...).json()),
    "phone-errors-as-phone": lambda w: sorted(
        w.post(remote_phone="call me").json()["field-errors"]
    ),
    "patch-answers-404": lambda w: w.c.patch(w.path(w.sms()), json={"text": "x"}).status_code,
    # auth and isolation
    "missing-credentials-accepted": _auth(None),
    "wrong-key-accepted": _auth("Basic " + base64.b64encode(b"wrong-key:").decode()),
    "bearer-refused": lambda w: w.server.client(auth="bearer").get("activity/sms/").status_code,
    "unauthorized-without-error": _auth(None),
    "isolation-get-leak": _other_org("GET"),
    "isolation-list-leak": _other_org("list"),
    "isolation-update-leak": _other_org("PUT"),
    "isolation-delete-leak": _other_org("DELETE"),
    "foreign-lead-accepted": _foreign("lead"),
    "foreign-template-accepted": _foreign("template"),
    "foreign-local-phone-accepted": _foreign("local_phone"),
    # rate limits
    "429-without-retry-after": _throttled("retry-after"),
    "ratelimit-header-malformed": _throttled("ratelimit"),
    "retry-after-off-by-one": _throttled("retry-after"),
}
RATE_LIMITED = {"429-without-retry-after", "ratelimit-header-malformed", "retry-after-off-by-one"}


def test_every_fault_has_a_scenario():
    assert sorted(SCENARIOS) == sorted(FAULTS)


def _observe(name, faults):
    world = World(faults, rate_limit=1 if name in RATE_LIMITED else None)
    try:
        return SCENARIOS[name](world)
    finally:
        world.server.close()


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_every_fault_changes_behaviour(name):
    assert _observe(name, []) != _observe(name, [name])


def test_minimal_steps_are_positive():
    for fault in FAULTS.values():
        assert isinstance(fault.minimal_steps, int) and fault.minimal_steps >= 1, fault.name
