"""The run's guard: only what the run created is modified, only its recipients addressed,
server-given ids stay path segments."""

from __future__ import annotations

import threading

import pytest

from conformance.client import MalformedAnswer, Refused
from conformance.safety import Guard, item_path, looks_like_a_phone, segment

SMS = "activity/sms/"
RECIPIENTS = ("+15555550100", "+15555550101")


# -- segment and item_path -------------------------------------------------------------------


def test_an_ordinary_id_is_its_own_segment():
    assert segment("acti_0123abcXYZ") == "acti_0123abcXYZ"
    assert item_path(SMS, "acti_1") == "activity/sms/acti_1/"


def test_characters_a_path_would_misread_are_percent_encoded():
    assert segment("a b%c&d=e+f") == "a%20b%25c%26d%3De%2Bf"
    assert segment("café") == "caf%C3%A9"


@pytest.mark.parametrize(
    "value",
    [
        "../../lead/lead_1",
        "a/b",
        "a\\b",
        "acti_1?x=1",
        "acti_1#frag",
        "a\nb",
        "a\x00b",
        "a\x7fb",
        ".",
        "..",
    ],  # fmt: skip
)
def test_an_id_that_would_leave_its_resource_is_refused_as_a_malformed_answer(value):
    with pytest.raises(MalformedAnswer, match="leave its resource"):
        segment(value)
    with pytest.raises(MalformedAnswer):
        item_path(SMS, value)


@pytest.mark.parametrize("value", [None, "", 42, ["acti_1"], {"id": "acti_1"}])
def test_an_id_that_is_not_a_non_empty_string_is_refused(value):
    with pytest.raises(MalformedAnswer, match="not a non-empty string"):
        segment(value, what="SMS id")


def test_the_refusal_names_what_was_given():
    with pytest.raises(MalformedAnswer, match="lead id"):
        segment("a/b", what="lead id")


# -- looks_like_a_phone ----------------------------------------------------------------------


@pytest.mark.parametrize("value", ["+18183334444", "18183334444", 18183334444, "(818) 333-4444"])
def test_what_a_server_could_dial_looks_like_a_phone(value):
    assert looks_like_a_phone(value)


@pytest.mark.parametrize("value", ["", "12345", None, True, "Updated text message!", 0])
def test_what_no_server_could_dial_does_not(value):
    assert not looks_like_a_phone(value)


# -- ownership -------------------------------------------------------------------------------


def test_nothing_is_owned_until_the_run_creates_it():
    guard = Guard()
    assert not guard.owns(SMS, "acti_1")
    guard.own(SMS, "acti_1")
    assert guard.owns(SMS, "acti_1")
    assert not guard.owns("lead/", "acti_1")  # ownership is per collection
    assert guard.owned(SMS) == {"acti_1"}


def test_owned_is_a_copy():
    guard = Guard()
    guard.own(SMS, "acti_1")
    guard.owned(SMS).add("acti_2")
    assert guard.owned(SMS) == {"acti_1"}


def test_a_made_up_id_is_fresh_owned_and_prefixed():
    guard = Guard()
    first, second = guard.made_up(), guard.made_up()
    assert first != second and first.startswith("acti_")
    assert guard.owns(SMS, first) and guard.owns(SMS, second)
    lead = guard.made_up("lead/", prefix="lead_")
    assert lead.startswith("lead_") and guard.owns("lead/", lead)


def test_observe_owns_only_what_a_successful_create_returned():
    guard = Guard()
    guard.observe("POST", "activity/sms/", 200, {"id": "acti_new"})
    guard.observe("POST", "lead/", 200, {"id": "lead_new"})
    guard.observe("POST", "activity/sms/", 400, {"id": "acti_refused"})
    guard.observe("GET", "activity/sms/", 200, {"id": "acti_listed"})
    guard.observe("PUT", "activity/sms/acti_x/", 200, {"id": "acti_x"})
    guard.observe("POST", "activity/sms/", 200, {"id": 7})
    guard.observe("POST", "activity/sms/", 200, ["acti_list"])
    assert guard.owned(SMS) == {"acti_new"}
    assert guard.owned("lead/") == {"lead_new"}


def test_owning_is_safe_from_several_threads():
    guard = Guard()
    threads = [
        threading.Thread(target=lambda n=n: [guard.own(SMS, f"acti_{n}_{i}") for i in range(200)])
        for n in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(guard.owned(SMS)) == 800


# -- check: what may be modified -------------------------------------------------------------


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "put", "delete"])
@pytest.mark.parametrize("collection", ["activity/sms/", "lead/", "sms_template/"])
def test_modifying_what_the_run_did_not_create_is_refused(method, collection):
    guard = Guard()
    with pytest.raises(Refused, match="not created by this run"):
        guard.check(method, f"{collection}item_customer/", {"text": "x"})


@pytest.mark.parametrize(
    "path", ["activity/sms/acti_1/", "/activity/sms/acti_1/", "activity/sms/acti_1"]
)
def test_modifying_what_the_run_created_is_allowed(path):
    guard = Guard()
    guard.own(SMS, "acti_1")
    guard.check("PUT", path, {"text": "x"})
    guard.check("DELETE", path, None)


def test_reading_anything_and_creating_are_allowed():
    guard = Guard(recipients=RECIPIENTS)
    guard.check("GET", "activity/sms/acti_customer/", None)
    guard.check("GET", "lead/lead_customer/", None)
    guard.check("POST", "activity/sms/", {"status": "draft", "remote_phone": RECIPIENTS[0]})


def test_a_percent_encoded_id_is_judged_decoded():
    guard = Guard()
    guard.own(SMS, "acti 1")
    guard.check("DELETE", "activity/sms/acti%201/", None)
    with pytest.raises(Refused):
        guard.check("DELETE", "activity/sms/acti%202/", None)


def test_an_id_owned_in_one_collection_does_not_open_another():
    guard = Guard()
    guard.own(SMS, "shared_id")
    with pytest.raises(Refused):
        guard.check("DELETE", "lead/shared_id/", None)


@pytest.mark.parametrize(
    "path", ["activity/sms/../../lead/lead_1/", "activity/sms/./acti_1/", "activity/sms/acti_1/.."]
)
def test_a_path_with_dot_segments_is_refused(path):
    guard = Guard()
    guard.own(SMS, "acti_1")
    with pytest.raises((Refused, MalformedAnswer)):
        guard.check("DELETE", path, None)


# -- check: whom may be addressed ------------------------------------------------------------


def test_a_phone_outside_the_recipients_is_refused_whatever_the_status():
    guard = Guard(recipients=RECIPIENTS)
    for status in ("draft", "outbox", "scheduled", None):
        with pytest.raises(Refused, match="recipients"):
            guard.check("POST", "activity/sms/", {"status": status, "remote_phone": "+18183334444"})


def test_an_update_may_not_readdress_an_owned_sms_either():
    guard = Guard(recipients=RECIPIENTS)
    guard.own(SMS, "acti_1")
    with pytest.raises(Refused, match="recipients"):
        guard.check("PUT", "activity/sms/acti_1/", {"remote_phone": "18183334444"})


def test_the_recipients_and_what_no_server_could_dial_may_be_addressed():
    guard = Guard(recipients=RECIPIENTS)
    for phone in (*RECIPIENTS, "+1 555-555-0100", "not a phone", "+1650555abcd"):
        guard.check("POST", "activity/sms/", {"status": "outbox", "remote_phone": phone})
    for phone in ("", 0, None):
        guard.check("POST", "activity/sms/", {"status": "draft", "remote_phone": phone})
    assert guard.may_address("+15555550101")
    assert not guard.may_address("15555550100")  # no +: another country's number, maybe


def test_bodies_of_other_resources_are_not_judged_by_remote_phone():
    guard = Guard(recipients=RECIPIENTS)
    guard.check("POST", "lead/", {"remote_phone": "+18183334444"})
    guard.check("POST", "activity/sms/", ["+18183334444"])


def test_without_recipients_any_number_may_be_addressed():
    guard = Guard()
    assert guard.recipients is None
    guard.check("POST", "activity/sms/", {"status": "outbox", "remote_phone": "+18183334444"})


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("collection", ["activity/sms/", "lead/", "sms_template/"])
def test_a_write_to_a_whole_collection_is_refused_on_a_live_target(method, collection):
    with pytest.raises(Refused, match="whole collection"):
        Guard(recipients=("+15555550100",), live=True).check(method, collection, None)


def test_the_embedded_server_may_be_asked_for_a_write_to_a_whole_collection():
    Guard().check("DELETE", "activity/sms/", None)  # answered 405: method-not-allowed judged


def test_a_disowned_id_may_no_longer_be_deleted():
    guard = Guard()
    guard.own("lead/", "lead_1")
    guard.disown("lead/", "lead_1")
    with pytest.raises(Refused):
        guard.check("DELETE", "lead/lead_1/", None)


# -- check: what may be sent -----------------------------------------------------------------


@pytest.mark.parametrize("status", ["outbox", "scheduled"])
@pytest.mark.parametrize("named", [{}, {"remote_phone": None}, {"remote_phone": ""}])
def test_a_live_send_that_names_nobody_is_refused(status, named):
    """A server may send it to the contact's own number: nothing documents otherwise."""
    with pytest.raises(Refused, match="not one of the recipients"):
        Guard(recipients=RECIPIENTS, live=True).check("POST", SMS, {"status": status, **named})


def test_a_put_that_sends_a_draft_goes_to_the_number_the_draft_was_last_seen_with():
    guard = Guard(recipients=RECIPIENTS, live=True)
    guard.observe("POST", SMS, 200, {"id": "acti_1", "status": "draft", "remote_phone": None})
    guard.observe("POST", SMS, 200, {"id": "acti_2", "status": "draft"})
    guard.observe("POST", SMS, 200, {"id": "acti_3", "remote_phone": RECIPIENTS[0]})
    for sms_id in ("acti_1", "acti_2"):
        with pytest.raises(Refused, match="None, not one of the recipients"):
            guard.check("PUT", f"{SMS}{sms_id}/", {"status": "scheduled"})
    guard.check("PUT", f"{SMS}acti_1/", {"status": "outbox", "remote_phone": RECIPIENTS[1]})
    guard.check("PUT", f"{SMS}acti_3/", {"status": "outbox"})


def test_a_put_that_readdresses_a_draft_is_remembered_for_the_put_that_sends_it():
    guard = Guard(recipients=RECIPIENTS, live=True)
    guard.observe("POST", SMS, 200, {"id": "acti_1", "remote_phone": RECIPIENTS[0]})
    guard.observe("PUT", f"{SMS}acti_1/", 200, {"id": "acti_1", "remote_phone": None})
    with pytest.raises(Refused):
        guard.check("PUT", f"{SMS}acti_1/", {"status": "outbox"})
    guard.observe("PUT", f"{SMS}acti_1/", 400, {"remote_phone": RECIPIENTS[0]})  # refused
    with pytest.raises(Refused):
        guard.check("PUT", f"{SMS}acti_1/", {"status": "outbox"})


def test_a_live_run_without_allow_send_sends_nothing_whatever_the_number():
    guard = Guard(recipients=RECIPIENTS, live=True, may_send=False)
    with pytest.raises(Refused, match="may not send"):
        guard.check("POST", SMS, {"status": "outbox", "remote_phone": RECIPIENTS[0]})
    guard.check("POST", SMS, {"status": "draft", "remote_phone": RECIPIENTS[0]})


def test_the_embedded_server_may_be_sent_anything():
    Guard().check("POST", SMS, {"status": "outbox"})
