"""The date vocabulary exists once (conformance/dates.py): the oracle and the reference server
read every spelling alike, and the oracle requires only the documented one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from conformance.clock import VirtualClock
from conformance.dates import is_bare_date, parse_datetime, read
from conformance.fixtures import Fixtures
from conformance.model import Model, TimeWindow
from conformance.refserver import ReferenceServer

LOCAL = "+16503335550"
REMOTE = "+16505550100"
FIXTURES = Fixtures(
    organization_id="orga_1",
    user_id="user_1",
    internal_phones=(LOCAL,),
    external_phones=(),
    leads=(("lead_1", "cont_1"),),
    contact_first_name="Ada",
    template_id="smstmpl_1",
    template_text="Hi {{ contact.first_name }}",
    rendered_template="Hi Ada",
)
AT = datetime(2027, 1, 2, 10, 0, tzinfo=UTC)
MICRO = timedelta(microseconds=1)

# spelling -> (what the oracle must say: True must read, None either, False no date;
#              the instant it names, UTC, when it names one)
TABLE: dict[str, tuple[bool | None, datetime | None]] = {
    # the documented form: extended calendar date-time with T
    "2027-01-02T10:00:00+00:00": (True, AT),
    "2027-01-02T10:00:00Z": (True, AT),
    "2027-01-02T10:00:00": (True, AT),  # naive: UTC without x-tz-offset
    "2027-01-02T11:30:00+01:30": (True, AT),
    "2027-01-02T10:00:00.5Z": (True, AT + 500000 * MICRO),
    "2027-01-02T10:00:00.12Z": (True, AT + 120000 * MICRO),
    "2027-01-02T10:00:00.123Z": (True, AT + 123000 * MICRO),
    "2027-01-02T10:00:00.1234Z": (True, AT + 123400 * MICRO),
    "2027-01-02T10:00:00.12345Z": (True, AT + 123450 * MICRO),
    "2027-01-02T10:00:00.123456+00:00": (True, AT + 123456 * MICRO),
    # ISO 8601 spellings the docs leave open
    "2027-01-02T10:00:00.1234567Z": (None, AT + 123456 * MICRO),
    "2027-01-02T10:00:00.12345678Z": (None, AT + 123456 * MICRO),
    "2027-01-02T10:00:00.123456789+00:00": (None, AT + 123456 * MICRO),
    "2027-01-02T10:00:00+0000": (None, AT),
    "2027-01-02T10:00:00+00": (None, AT),
    "2027-01-02T05:00:00-0500": (None, AT),
    "2027-01-02 10:00:00+00:00": (None, AT),
    "2027-01-02t10:00:00z": (None, AT),
    "2027-01-02T10:00Z": (None, AT),
    "2027-01-02T10:00:00,5Z": (None, AT + 500000 * MICRO),
    "2026-W53-6T10:00:00+00:00": (None, AT),  # Saturday of ISO week 53 of 2026
    "2027-W01-5T10:00:00+00:00": (None, AT + timedelta(days=6)),  # issue 10, point 9
    "2026W536T100000Z": (None, AT),
    "2027-002T10:00:00Z": (None, AT),
    "2027002T100000Z": (None, AT),
    "20270102T100000Z": (None, AT),
    "20270102T100000.25+0000": (None, AT + 250000 * MICRO),
    "2027-01-01T24:00:00Z": (None, AT - timedelta(hours=10)),
    "2027-01-02": (None, AT - timedelta(hours=10)),  # bare date: midnight
    "20270102": (None, AT - timedelta(hours=10)),
    "2026-W53-6": (None, AT - timedelta(hours=10)),
    " 2027-01-02T10:00:00Z": (None, AT),
    # no date at all
    "tomorrow": (False, None),
    "": (False, None),
    "2027-13-02T10:00:00Z": (False, None),
    "2027-02-30T10:00:00Z": (False, None),
    "2027-01-02T25:00:00Z": (False, None),
    "2027-01-02T10:61:00Z": (False, None),
    "2027-01-02T10:00:00+99:00": (False, None),
    "2027-W53-1T10:00:00Z": (False, None),  # 2027 has 52 ISO weeks
    "2027-366T10:00:00Z": (False, None),  # not a leap year
    "2027-01-02T10:00:00+00:00junk": (False, None),
    "25:61": (False, None),
}


@pytest.mark.parametrize(("spelling", "decided"), list(TABLE.items()))
def test_each_spelling_names_the_instant_of_the_table(spelling, decided):
    must, instant = decided
    found = read(spelling)
    assert (found.instant if found else None) == instant
    assert (found is not None and found.documented) == (must is True)


@pytest.mark.parametrize(("spelling", "decided"), list(TABLE.items()))
def test_the_oracle_requires_only_the_documented_spelling_of_date_scheduled(spelling, decided):
    body = {
        "status": "scheduled",
        "local_phone": LOCAL,
        "remote_phone": REMOTE,
        "text": "hi",
        "date_scheduled": spelling,
    }
    window = TimeWindow(AT - timedelta(days=30), AT - timedelta(days=30))
    expectation = Model(FIXTURES).expect_create(body, window)
    assert expectation.accept is decided[0]
    if decided[0] is None:
        assert expectation.rule == "sms/create/date-spelling"
        assert expectation.field == "date_scheduled"


@pytest.fixture(scope="module")
def server():
    clock = VirtualClock()
    clock.sleep((AT - timedelta(days=30) - clock.now()).total_seconds())
    server = ReferenceServer(clock=clock)
    yield server
    server.close()


@pytest.mark.parametrize(("spelling", "decided"), list(TABLE.items()))
@pytest.mark.parametrize("status", ["scheduled", "draft"])
def test_the_reference_server_answers_every_spelling_as_the_oracle_allows(
    server, spelling, decided, status
):
    """A scheduled create and a draft's activity_at: the server's answer is one the oracle
    allows, and an SMS it accepts holds the instant the oracle reads."""
    field = "date_scheduled" if status == "scheduled" else "activity_at"
    body = {"status": status, "local_phone": LOCAL, "remote_phone": REMOTE, "text": "hi"}
    body[field] = spelling
    client = server.client()
    window = TimeWindow(server.clock.now(), server.clock.now())
    expectation = Model(FIXTURES).expect_create(body, window)
    response = client.post("activity/sms/", json=body)
    accepted = response.status_code == 200
    assert response.status_code in (200, 400), response.text
    if expectation.accept is not None:
        assert accepted is expectation.accept, response.text
    if accepted:
        shown = parse_datetime(response.json()[field])
        assert shown == decided[1]
        written = expectation.record.written.get(field) if expectation.record else None
        if status == "scheduled" and read(spelling).exact:
            assert written == shown


def test_a_bare_date_is_one_in_every_spelling_and_a_date_time_never_is():
    assert all(map(is_bare_date, ("2027-01-02", "20270102", "2026-W53-6", "2027-002")))
    assert not any(map(is_bare_date, ("2027-01-02T00:00:00", "2027-01-02 00:00", "x", None)))


def test_a_value_without_an_offset_is_local_time_in_the_zone_given():
    minus_four = timezone(timedelta(hours=-4))
    assert read("2027-01-02T06:00:00", minus_four).instant == AT
    assert read("2027-01-02", minus_four).instant == AT - timedelta(hours=6)
    assert read("2027-01-02T10:00:00Z", minus_four).instant == AT


def test_the_reference_server_and_the_model_import_one_parser():
    import conformance.model as model
    import conformance.refserver.dates as server_dates

    assert model.parse_datetime is parse_datetime
    assert server_dates.parse_tz_offset is model.parse_tz_offset


@pytest.mark.parametrize(
    ("shown", "readable"),
    [
        ("2026-12-04T10:00:00.123456+00:00", True),
        ("2026-12-04T10:00:00", True),  # newer objects carry no offset (1.7)
        ("2026-12-04T10:00:00Z", True),
        ("2026-12-04T10:00:00+0000", True),
        ("2026-12-04 10:00:00+00:00", False),  # a request may spell it so, an answer not
        ("2026-W49-5T10:00:00+00:00", False),
        ("20261204T100000Z", False),
        ("2026-12-04", False),
    ],
)
def test_an_answer_must_show_a_date_time_in_the_extended_form_with_a_t(shown, readable):
    from conformance.dates import parse_shown_datetime

    assert (parse_shown_datetime(shown) is not None) == readable
