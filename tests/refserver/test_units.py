"""Small pure helpers: dates, tz offsets, phone formatting, template rendering."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from conformance.refserver.dates import format_dt, parse_datetime, parse_tz_offset
from conformance.refserver.phones import country_iso, format_phone, is_e164
from conformance.refserver.templates import RenderContext, render


def test_format_dt_has_microseconds_and_utc_offset():
    value = datetime(2016, 10, 3, 18, 6, 11, 167000, tzinfo=timezone(timedelta(hours=2)))
    assert format_dt(value) == "2016-10-03T16:06:11.167000+00:00"


@pytest.mark.parametrize(
    ("header", "hours"), [(None, 0), ("", 0), ("-4", -4), ("5.5", 5.5), ("-0.0", 0), ("-2.5", -2.5)]
)
def test_tz_offsets_are_hours(header, hours):
    assert parse_tz_offset(header).utcoffset(None) == timedelta(hours=hours)


@pytest.mark.parametrize("header", ["abc", "24", "-24", "nan", "inf", "1e400"])
def test_bad_tz_offsets_are_value_errors(header):
    with pytest.raises(ValueError, match="x-tz-offset"):
        parse_tz_offset(header)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-01-02", datetime(2026, 1, 2, 4, tzinfo=UTC)),
        ("2026-01-02T10:00", datetime(2026, 1, 2, 14, tzinfo=UTC)),
        ("2026-01-02T10:00:00Z", datetime(2026, 1, 2, 10, tzinfo=UTC)),
        ("2026-01-02T10:00:00.5+01:00", datetime(2026, 1, 2, 9, 0, 0, 500000, tzinfo=UTC)),
    ],
)
def test_parse_datetime_reads_local_time_in_the_offset(value, expected):
    assert parse_datetime(value, timezone(timedelta(hours=-4))) == expected


@pytest.mark.parametrize(
    "value",
    ["", "2026", "2027-W53-1", "202601021", "2026-02-30", "0001-01-01T00:00+01:00", None, 5],
)
def test_parse_datetime_returns_none_for_invalid_values(value):
    assert parse_datetime(value) is None


def test_phone_helpers():
    assert is_e164("+16505550100") and not is_e164("+0123") and not is_e164(16505550100)
    assert format_phone("+16505550100") == "+1 650-555-0100"
    assert format_phone("+442071234567") == "+442071234567"
    assert (country_iso("+16505550100"), country_iso("+81312345678")) == ("US", None)


def test_render_replaces_known_variables_and_blanks_unknown_ones():
    context = RenderContext(
        contact={"name": "Ada"}, lead=None, user_first_name="A", user_last_name="B",
        organization_name="Org",
    )  # fmt: skip
    assert render(
        "{{contact.first_name}}/{{ contact.last_name }}/{{ lead.name }}/{{a.b}}", context
    ) == ("Ada///")
    assert render("{{ not valid }} {x}", context) == "{{ not valid }} {x}"
