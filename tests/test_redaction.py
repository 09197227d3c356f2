"""Redaction by value: every form of every credential, from whatever carries it."""

from __future__ import annotations

import base64
import html
import json
import shlex
from dataclasses import dataclass
from urllib.parse import quote, quote_plus

import pytest

from conformance.client import WRONG_API_KEY, Credentials
from conformance.records import Exchange, RecordedRequest, RecordedResponse
from conformance.redaction import MAX_DEPTH, REDACTED, TOO_DEEP, Redactor, redactor_for

KEY = "api_4Zq8-secret/key+9f=x"
TOKEN = "oauth.token-7Hc2pQ"


def basic(value: str) -> str:
    return base64.b64encode(f"{value}:".encode()).decode()


FORMS = {
    "plain": KEY,
    "upper case": KEY.upper(),
    "url-encoded": quote(KEY, safe=""),
    "url-encoded, plus": quote_plus(KEY),
    "url-encoded twice": quote(quote(KEY, safe=""), safe=""),
    "base64 of key:": basic(KEY),
    "base64 of key: unpadded": basic(KEY).rstrip("="),
    "url-safe base64 of key:": base64.urlsafe_b64encode(f"{KEY}:".encode()).decode(),
    "base64 of key": base64.b64encode(KEY.encode()).decode(),
    "json-escaped": json.dumps(KEY)[1:-1],
    "html-escaped": html.escape(KEY),
    "shell-quoted": shlex.quote(KEY),
}


@pytest.mark.parametrize("form", FORMS.values(), ids=FORMS.keys())
def test_every_form_of_a_key_is_replaced(form):
    scrubbed = Redactor([KEY]).scrub(f"before {form} after")
    assert scrubbed.startswith("before ") and scrubbed.endswith(" after")
    assert REDACTED in scrubbed
    assert form not in scrubbed


@pytest.mark.parametrize("prefix", ["", "a", "ab", "Basic ", "user=x&key="])
def test_a_key_inside_a_longer_base64_text_is_found_at_every_alignment(prefix):
    encoded = base64.b64encode(f"{prefix}{KEY}:tail".encode()).decode()
    scrubbed = Redactor([KEY]).scrub(encoded)
    assert REDACTED in scrubbed
    core = base64.b64encode(KEY.encode()).decode()[4:-4]
    assert core not in scrubbed


def test_the_redactor_of_credentials_knows_all_three_secrets_but_not_the_wrong_key():
    redactor = Redactor.from_credentials(Credentials(KEY, TOKEN, "second-org-key-31"))
    text = f"{KEY} Bearer {TOKEN} {basic('second-org-key-31')} {basic(WRONG_API_KEY)}"
    scrubbed = redactor.scrub(text)
    assert KEY not in scrubbed and TOKEN not in scrubbed
    assert basic("second-org-key-31") not in scrubbed
    assert basic(WRONG_API_KEY) in scrubbed


def test_userinfo_in_any_url_is_dropped_even_without_secrets():
    text = "see https://user:pa55@host.test/api/v1 and http://KEY@other.test/x"
    assert Redactor().scrub(text) == (
        "see https://[redacted]@host.test/api/v1 and http://[redacted]@other.test/x"
    )


def test_ordinary_text_is_left_alone():
    text = "POST activity/sms/ answered 400: {'error': 'text is required'} at 10:00"
    assert Redactor([KEY, TOKEN]).scrub(text) == text


def test_short_or_missing_secrets_are_ignored():
    assert not Redactor([None, "", "abc"])
    assert Redactor(["abc"]).scrub("abc") == "abc"


def test_every_string_of_a_record_is_scrubbed_keys_and_headers_included():
    exchange = Exchange(
        RecordedRequest("GET", f"lead/?key={quote(KEY)}", {"x-echo": KEY}, {KEY: [KEY]}),
        RecordedResponse(401, {"www-authenticate": f"Basic {basic(KEY)}"}, f"bad {KEY}"),
        error=f"no answer from https://{KEY}@x.test",
    )
    scrubbed = Redactor([KEY]).scrub_obj(exchange)
    assert isinstance(scrubbed, Exchange)
    text = repr(scrubbed)
    for form in FORMS.values():
        assert form not in text
    assert scrubbed.response.status_code == 401


def test_values_nested_too_deeply_are_cut_so_that_no_writer_meets_them():
    deep: object = "leaf"
    for _ in range(MAX_DEPTH * 20):
        deep = [deep]
    scrubbed = Redactor([KEY]).scrub_obj({"body": deep})
    json.dumps(scrubbed)  # the original, 1280 lists deep, is cut well before that
    depth, value = 0, scrubbed["body"]
    while isinstance(value, list):
        depth, value = depth + 1, value[0]
    assert value == TOO_DEEP and depth < MAX_DEPTH


def test_frozen_and_slotted_dataclasses_are_rebuilt():
    @dataclass(frozen=True, slots=True)
    class Note:
        text: str
        count: int

    assert Redactor([KEY]).scrub_obj(Note(KEY, 3)) == Note(REDACTED, 3)


def test_redactor_for_accepts_a_redactor_secrets_or_nothing():
    redactor = Redactor([KEY])
    assert redactor_for(redactor) is redactor
    assert redactor_for([KEY]).scrub(KEY) == REDACTED
    assert redactor_for(None).scrub(KEY) == KEY
    assert KEY not in repr(redactor)
