"""Read-back checks allow every reading of an open point, and nothing beyond them."""

from __future__ import annotations

from typing import Any

from conformance.checks import Step
from conformance.model import Model
from conformance.rules.objects import what_was_written_reads_back
from tests.rules.helpers import (
    BASE,
    FIXTURES,
    WINDOW,
    broken,
    created,
    read,
    readings,
    settled,
)


def violated(step: Step) -> list[str]:
    return broken(what_was_written_reads_back(step))


# -- direction-override -------------------------------------------------------------------


def test_a_contradicting_direction_may_be_answered_as_given_or_as_the_status_implies():
    body = {**BASE, "status": "sent", "direction": "inbound"}
    assert violated(created(body, {"direction": "inbound"})) == []
    assert violated(created(body, {"direction": "outbound"})) == []


def test_an_agreeing_direction_answered_otherwise_breaks_direction_explicit():
    body = {**BASE, "status": "inbox", "direction": "inbound"}
    assert violated(created(body, {"direction": "outbound"})) == ["sms/create/direction-explicit"]


def test_once_answered_a_direction_must_read_back_the_same():
    record = settled({**BASE, "status": "sent", "direction": "inbound"}, {"direction": "outbound"})
    assert violated(read(record, {"direction": "outbound"})) == []
    assert violated(read(record, {"direction": "inbound"})) == ["roundtrip/create-readback"]


# -- attachment-url -----------------------------------------------------------------------

PDF = {"url": "https://example.com/a.pdf", "filename": "a.pdf", "content_type": "application/pdf"}


def answered(**changes: Any) -> list[dict[str, Any]]:
    return [{**PDF, "media_id": "media_1", "size": None, **changes}]


def test_an_attachment_may_read_back_with_the_url_given_or_the_servers_own():
    body = {**BASE, "status": "draft", "attachments": [PDF]}
    own = "https://app.close.com/go/sms/acti_1/media/media_1/"
    assert violated(created(body, {"attachments": answered()})) == []
    assert violated(created(body, {"attachments": answered(url=own)})) == []


def readings_shown(step: Step) -> set[str]:
    return readings(what_was_written_reads_back(step))


def test_an_attachment_read_back_names_the_reading_of_attachment_url_it_shows():
    body = {**BASE, "status": "draft", "attachments": [PDF]}
    own = "https://app.close.com/go/sms/acti_1/media/media_1/"
    assert readings_shown(created(body, {"attachments": answered()})) == {"attachment-url=as-given"}
    assert readings_shown(created(body, {"attachments": answered(url=own)})) == {
        "attachment-url=rehosted"
    }


def test_an_attachment_url_that_is_no_web_url_breaks_the_attachments_rule():
    body = {**BASE, "status": "draft", "attachments": [PDF]}
    for url in (None, "", "/go/sms/acti_1/media/media_1/", "ftp://example.com/a.pdf"):
        assert violated(created(body, {"attachments": answered(url=url)})) == [
            "sms/create/attachments"
        ], url


def test_an_attachment_must_keep_its_filename_content_type_and_have_a_media_id():
    body = {**BASE, "status": "draft", "attachments": [PDF]}
    for changes in ({"filename": "b.pdf"}, {"content_type": "image/png"}, {"media_id": None}):
        assert violated(created(body, {"attachments": answered(**changes)})) == [
            "sms/create/attachments"
        ], changes
    assert violated(created(body, {"attachments": []})) == ["sms/create/attachments"]


# -- template_id (audit C18) and template with text (audit O7) -----------------------------


def test_a_template_id_may_read_back_as_given_or_null_but_not_as_another():
    body = {**BASE, "status": "draft", "template_id": "smstmpl_1"}
    body.pop("text")
    assert violated(created(body, {"template_id": None})) == []
    assert violated(created(body, {"template_id": "smstmpl_1"})) == []
    assert violated(created(body, {"template_id": "smstmpl_9"})) == ["roundtrip/create-readback"]


def test_with_a_template_and_a_text_any_text_that_results_passes():
    body = {**BASE, "status": "draft", "template_id": "smstmpl_1", "text": "mine"}
    for text in ("mine", "Hi Ada", None, "Hi Ada mine"):
        assert violated(created(body, {"text": text})) == [], text


# -- text-normalisation -------------------------------------------------------------------


def test_a_text_may_read_back_as_written_or_nfc_normalised():
    body = {**BASE, "status": "draft", "text": "Cafe\u0301"}
    assert violated(created(body, {"text": "Cafe\u0301"})) == []
    assert violated(created(body, {"text": "Caf\u00e9"})) == []


def test_a_text_read_back_nfkc_folded_or_cut_breaks_roundtrip_text():
    body = {**BASE, "status": "draft", "text": "\U0001d518 \uff0c \U0001f600"}
    for shown in ("U , \U0001f600", "\U0001d518 \uff0c ", "\U0001d518 \uff0c"):
        assert violated(created(body, {"text": shown})) == ["roundtrip/text"], shown


def test_once_answered_in_one_form_a_text_must_keep_it():
    record = settled({**BASE, "status": "draft", "text": "Cafe\u0301"}, {"text": "Caf\u00e9"})
    assert violated(read(record, {"text": "Caf\u00e9"})) == []
    assert violated(read(record, {"text": "Cafe\u0301"})) == ["roundtrip/text"]


def test_the_answer_check_declares_every_rule_the_model_decides_a_create_by():
    """A rule the model decides by that the deciding check does not declare stops the run
    (CheckDefinitionError), as direction-explicit did."""
    from conformance.rules.outcomes import DECIDING_RULES

    bodies = [
        {**BASE, "status": "sent", "direction": "inbound"},
        {**BASE, "status": "draft", "date_scheduled": "20270102T100000Z"},
        {**BASE, "status": "draft", "text": 12345},
        {**BASE, "status": "draft", "attachments": [PDF]},
        {**BASE, "status": "outbox", "send_in": True},
        {**BASE, "status": "draft", "remote_phone": ""},
        {**BASE, "status": "draft", "text": ["x"]},
        {**BASE, "status": "error"},
    ]
    for body in bodies:
        assert Model(FIXTURES).expect_create(body, WINDOW).rule in DECIDING_RULES, body
