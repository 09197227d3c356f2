"""Texts, phone numbers, attachments and dates generate what they promise."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis.errors import InvalidArgument

from strategies import (
    ATTACHMENT_CONTENT_TYPES,
    attachments,
    datetimes_with_offsets,
    e164_numbers,
    invalid_attachments,
    malformed_phone_numbers,
    naive_datetimes,
    texts,
    tz_offsets,
)

E164 = re.compile(r"^\+[1-9]\d{1,14}$")
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def is_valid_attachment(item: object) -> bool:
    return (
        isinstance(item, dict)
        and set(item) == {"url", "filename", "content_type"}
        and all(isinstance(value, str) for value in item.values())
        and item["content_type"] in ATTACHMENT_CONTENT_TYPES
        and item["url"].startswith("https://")
    )


@FAST
@given(texts())
def test_texts_never_begin_or_end_with_whitespace_by_default(text):
    assert text == text.strip()


@FAST
@given(texts(edge_whitespace=True))
def test_texts_never_contain_surrogates_or_nul(text):
    assert "\x00" not in text
    assert not any(0xD800 <= ord(c) <= 0xDFFF for c in text)
    json.loads(json.dumps(text))  # JSON-compatible round trip
    assert len(text) <= 420


@FAST
@given(texts(fidelity=False))
def test_texts_without_fidelity_are_short_printable_ascii(text):
    assert all(0x20 <= ord(c) <= 0x7E for c in text)
    assert len(text) <= 160


def test_texts_shrink_to_the_empty_string():
    assert find(texts(), lambda t: True) == ""


@pytest.mark.parametrize(
    "description, predicate",
    [
        ("longer than one segment", lambda t: len(t) > 160),
        ("inner newline", lambda t: "\n" in t),
        ("inner tab", lambda t: "\t" in t),
        ("astral character", lambda t: any(ord(c) > 0xFFFF for c in t)),
        ("combining mark", lambda t: "\u0301" in t or "\u0308" in t),
        ("right-to-left script", lambda t: any("\u0590" <= c <= "\u06ff" for c in t)),
    ],
)
def test_texts_reach_each_fidelity_stress(description, predicate):
    found = find(texts(), predicate, settings=settings(max_examples=2000, database=None))
    assert found == found.strip()


def test_texts_with_edge_whitespace_can_begin_with_whitespace():
    found = find(
        texts(edge_whitespace=True), lambda t: t[:1].isspace(), settings=settings(database=None)
    )
    assert found.strip() != found


def test_texts_reject_non_bool_flags():
    with pytest.raises(InvalidArgument):
        texts(fidelity=1)


@FAST
@given(e164_numbers())
def test_e164_numbers_match_the_e164_pattern(number):
    assert E164.match(number)


@FAST
@given(malformed_phone_numbers())
def test_malformed_phone_numbers_never_match_the_e164_pattern(value):
    assert not E164.match(value)
    # Never a reformattable number: stripping punctuation leaves letters or nothing.
    assert not re.fullmatch(r"[+\d\s().-]*\d[+\d\s().-]*", value)


@FAST
@given(malformed_phone_numbers())
def test_malformed_phone_numbers_are_ones_the_oracle_says_must_be_refused(value):
    """Never "" nor a vanity number, which a server may take (audit C5)."""
    from conformance.model import is_clearly_not_a_phone, loose_phone

    assert is_clearly_not_a_phone(value) and not loose_phone(value)


def test_malformed_phone_numbers_shrink_to_a_lone_plus():
    assert find(malformed_phone_numbers(), lambda v: True) == "+"


@FAST
@given(attachments(min_size=1, max_size=3))
def test_attachments_are_complete_items_with_a_documented_content_type(items):
    assert 1 <= len(items) <= 3
    assert all(is_valid_attachment(item) for item in items)


def test_attachments_shrink_to_min_size_pdf_items():
    found = find(attachments(min_size=1), lambda items: True)
    assert len(found) == 1
    assert found[0]["content_type"] == "application/pdf"


@pytest.mark.parametrize(
    "kwargs", [{"min_size": -1}, {"min_size": 3, "max_size": 2}, {"max_size": 1.5}]
)
def test_attachments_reject_invalid_sizes(kwargs):
    with pytest.raises(InvalidArgument):
        attachments(**kwargs)


@FAST
@given(invalid_attachments())
def test_invalid_attachments_hold_exactly_one_invalid_item(items):
    assert isinstance(items, list)
    assert sum(not is_valid_attachment(item) for item in items) == 1


LOW = datetime(2026, 1, 1, tzinfo=UTC)
HIGH = LOW + timedelta(days=3)


@FAST
@given(datetimes_with_offsets(min_value=LOW, max_value=HIGH))
def test_datetimes_with_offsets_carry_an_offset_and_stay_in_bounds(text):
    parsed = datetime.fromisoformat(text)
    assert parsed.tzinfo is not None
    assert LOW <= parsed <= HIGH


def test_datetimes_with_offsets_include_half_hour_offsets():
    found = find(
        datetimes_with_offsets(min_value=LOW, max_value=HIGH),
        lambda t: datetime.fromisoformat(t).utcoffset().total_seconds() % 3600 == 1800,
    )
    assert found.endswith(":30")


def test_datetimes_with_offsets_shrink_to_min_value_at_utc():
    assert find(datetimes_with_offsets(min_value=LOW, max_value=HIGH), lambda t: True) == (
        "2026-01-01T00:00:00+00:00"
    )


@FAST
@given(naive_datetimes(min_value=LOW.replace(tzinfo=None), max_value=HIGH.replace(tzinfo=None)))
def test_naive_datetimes_have_no_offset(text):
    parsed = datetime.fromisoformat(text)
    assert parsed.tzinfo is None
    assert LOW.replace(tzinfo=None) <= parsed <= HIGH.replace(tzinfo=None)


@pytest.mark.parametrize(
    "strategy, kwargs",
    [
        (datetimes_with_offsets, {"min_value": LOW.replace(tzinfo=None)}),
        (datetimes_with_offsets, {"min_value": HIGH, "max_value": LOW}),
        (naive_datetimes, {"min_value": LOW}),
    ],
)
def test_date_strategies_reject_bounds_of_the_wrong_kind_or_order(strategy, kwargs):
    with pytest.raises(InvalidArgument):
        strategy(**kwargs)


@FAST
@given(tz_offsets())
def test_tz_offsets_are_half_hour_steps_within_the_world(value):
    hours = float(value)
    assert -12 <= hours <= 14
    assert (hours * 2).is_integer()
    assert re.fullmatch(r"-?\d+(\.\d)?", value)


def test_tz_offsets_shrink_to_zero_and_include_negative_zero():
    assert find(tz_offsets(), lambda v: True) == "0"
    assert find(tz_offsets(), lambda v: v == "-0.0") == "-0.0"
    assert find(tz_offsets(), lambda v: v == "5.5") == "5.5"


def test_invalid_attachments_shrink_to_one_item_without_url():
    found = find(invalid_attachments(), lambda items: True)
    assert len(found) == 1
    assert set(found[0]) == {"filename", "content_type"}
