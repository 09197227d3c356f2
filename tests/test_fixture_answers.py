"""Fixture answers: which Phone Numbers the run may send from (audit C10b)."""

from __future__ import annotations

from conformance.fixture_answers import read_phones


def phone(number: str, kind: str, **extra: object) -> dict:
    return {"id": f"phon_{number[-4:]}", "number": number, "type": kind, **extra}


def test_an_internal_number_that_cannot_send_sms_is_not_used_as_local_phone():
    answer = {
        "data": [
            phone("+16503335555", "internal", sms_enabled=True),
            phone("+16503335556", "internal", sms_enabled=False),
            phone("+16503335557", "internal"),
            phone("+14151231234", "external", sms_enabled=False),
        ]
    }
    assert read_phones(answer) == (("+16503335555", "+16503335557"), ("+14151231234",))


def test_when_no_internal_number_says_it_sends_sms_every_internal_one_is_kept():
    answer = {"data": [phone("+16503335556", "internal", sms_enabled=False)]}
    assert read_phones(answer) == (("+16503335556",), ())
